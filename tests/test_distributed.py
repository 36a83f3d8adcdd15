"""minigrad.distributed, DistributedDataParallel and DistributedSampler.

The collective tests start ``mpiexec -n 2 python tests/mpi/<script>.py`` (always with a timeout,
so a hang fails the test instead of CI); they are skipped when mpi4py or mpiexec is missing
(``pip install 'minigrad[distributed]'``)."""
import os
import shutil
import subprocess
import sys

import pytest

import minigrad as mg
import minigrad.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _mpiexec():
    """mpiexec beside this Python (the mpich wheel puts it there), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


needs_mpi = pytest.mark.skipif(not dist.is_available() or _mpiexec() is None,
                               reason="needs mpi4py and mpiexec: pip install 'minigrad[distributed]'")


def run_ranks(script, n=2, timeout=60, args=()):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    cmd = [_mpiexec(), "-n", str(n), sys.executable, os.path.join(HERE, "mpi", script), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def check(result, n=2):
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


@needs_mpi
def test_collectives_against_numpy_on_each_rank():
    out = check(run_ranks("collectives.py")).stdout
    assert "rank 0: collectives ok" in out and "rank 1: collectives ok" in out


def test_nothing_distributed_is_imported_with_minigrad():
    code = "import sys, minigrad, minigrad.nn; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=ROOT)).stdout
    assert out.strip() == "False"


def test_uninitialized_and_unknown_backends_are_clear_errors():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.all_reduce(mg.zeros(2))
    with pytest.raises(NotImplementedError, match="nccl"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="gloo"):
        dist.init_process_group("gloo")
