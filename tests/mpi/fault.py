"""Run under ``mpiexec -n 2``: rank 1 fails (``raise``) or dies (``exit``) while rank 0 waits in a
collective that rank 1 never joins; the whole job must end."""
import os
import sys

import minigrad as mg
import minigrad.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    if sys.argv[1] == "exit":
        os._exit(3)                  # a crash: no Python clean-up, no MPI_Abort
    raise ValueError("boom on purpose")
dist.all_reduce(mg.ones(3))          # would wait forever for rank 1 without the abort
print("rank 0 went past a collective that rank 1 never joined", file=sys.stderr)
