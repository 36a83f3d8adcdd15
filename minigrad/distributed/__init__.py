"""``minigrad.distributed``: processes that train one model together, over MPI (as ``torch.distributed``).

    mpiexec -n 2 python train.py          # each process runs the same script

    import minigrad.distributed as dist
    dist.init_process_group("mpi")        # rank and world size come from mpiexec
    dist.all_reduce(t, op=dist.ReduceOp.AVG)

Collectives work in place on the Tensors' arrays: a contiguous CPU tensor is handed to MPI
as its NumPy buffer, without a copy; others (non-contiguous, CUDA) go through a staging copy.
``init_process_group("nccl")`` runs the collectives on CUDA tensors through NCCL instead (CuPy's
bindings, on the current stream, in the GPU's memory; see ``_nccl.py``); MPI still launches the
processes and hands NCCL its unique id.
``async_op=True`` returns a :class:`Work` whose ``wait()`` finishes the operation.  mpi4py is
imported only by :func:`init_process_group` (the ``distributed`` extra installs it and MPICH).

Every collective first compares the tensor's shape and dtype across the ranks (one small
all-reduce of a fingerprint), so a mismatch is a clear error on every rank, not a hang or
garbage; DDP's bucket all-reduces skip this (their layout is checked once, at construction).
After :func:`init_process_group`, an unhandled exception on any rank prints the rank and
the error and aborts the whole job (``MPI_Abort``), so the other ranks never wait forever.
"""
from __future__ import annotations

import os
import sys
import traceback
import zlib

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["ReduceOp", "Work", "init_process_group", "is_initialized", "is_available", "launched_with_ranks",
           "get_rank", "get_world_size", "get_backend", "barrier", "destroy_process_group", "all_reduce", "broadcast",
           "all_gather", "reduce_scatter"]


class ReduceOp:
    """How ``all_reduce`` and ``reduce_scatter`` combine the ranks' tensors."""
    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"


class _Group:
    """The default process group: an MPI communicator of its own (a duplicate of COMM_WORLD)."""

    def __init__(self, mpi, comm, backend_name, nccl=None):
        self.MPI = mpi
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.backend = backend_name
        self.nccl = nccl            # the NCCL communicator (backend "nccl"), else None


_group = None
_previous_excepthook = None


def is_available() -> bool:
    """Whether mpi4py can be imported (the ``distributed`` extra)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")


def launched_with_ranks() -> int:
    """How many ranks ``mpiexec`` started this process among (from its environment; 1 if none),
    without importing MPI: how ``python -m minigrad train`` knows to train data-parallel."""
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def init_process_group(backend="mpi", init_method=None, world_size=-1, rank=-1, timeout=None):
    """Join the processes started by ``mpiexec`` (one process alone is a world of size 1).

    ``backend="mpi"`` (CPU tensors; CUDA tensors are staged through the host), or ``"nccl"``
    (CUDA tensors, through CuPy's NCCL; it needs CuPy with NCCL, a GPU, and mpi4py to start).
    ``world_size`` and ``rank``, when given, must agree with MPI's."""
    global _group, _previous_excepthook
    if _group is not None:
        raise RuntimeError("init_process_group: the default process group is already initialized")
    if backend not in ("mpi", "nccl"):
        raise ValueError(f"init_process_group: unknown backend {backend!r}; expected 'mpi' or 'nccl'")
    if backend == "nccl":
        from . import _nccl
        cupy, nccl = _nccl.load()           # a clear error when CuPy, NCCL or a GPU is missing
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(f"init_process_group: backend {backend!r} needs mpi4py and an MPI "
                           "(pip install 'minigrad[distributed]')") from e
    comm = MPI.COMM_WORLD.Dup()
    for name, given, actual in (("world_size", world_size, comm.Get_size()), ("rank", rank, comm.Get_rank())):
        if given not in (-1, None) and given != actual:
            comm.Free()
            raise ValueError(f"init_process_group: {name}={given} but MPI says {actual} (mpiexec sets both)")
    nccl_comm = _nccl.Communicator(cupy, nccl, MPI, comm) if backend == "nccl" else None
    _group = _Group(MPI, comm, backend, nccl_comm)
    _previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_unhandled


def _abort_on_unhandled(kind, value, tb):
    """An unhandled exception on one rank ends every rank, naming the rank and the error."""
    group = _group
    if group is None:
        return _previous_excepthook(kind, value, tb)
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(f"minigrad.distributed: rank {group.rank} of {group.size} failed; aborting all ranks.\n{text}")
    sys.stderr.flush()
    group.comm.Abort(1)


def is_initialized() -> bool:
    return _group is not None


def _default_group(opname) -> _Group:
    if _group is None:
        raise RuntimeError(f"{opname}: the default process group has not been initialized; "
                           f"call minigrad.distributed.init_process_group() first")
    return _group


def get_rank() -> int:
    return _default_group("get_rank").rank


def get_world_size() -> int:
    return _default_group("get_world_size").size


def get_backend() -> str:
    return _default_group("get_backend").backend


def barrier():
    _default_group("barrier").comm.Barrier()


def destroy_process_group():
    """Leave the process group (MPI itself is finalized when the process exits)."""
    global _group
    group = _default_group("destroy_process_group")
    _group = None
    if sys.excepthook is _abort_on_unhandled:
        sys.excepthook = _previous_excepthook
    if group.nccl is not None:
        group.nccl.destroy()
    group.comm.Free()


# ----------------------------------------------------------------------------- work handles
class Work:
    """The handle of a collective started with ``async_op=True``: ``wait()`` blocks until it is
    done and the result is in the tensors."""

    def __init__(self, request=None, finish=None, keep=None):
        self._request = request
        self._finish = finish
        self._keep = keep          # buffers MPI still reads or writes until the request is done
        self._done = request is None and finish is None

    def is_completed(self) -> bool:
        """Whether it is done (finishing it, without blocking, when MPI is)."""
        if not self._done and (self._request is None or self._request.Test()):
            self._request = None
            self.wait()
        return self._done

    def wait(self, timeout=None) -> bool:
        if self._done:
            return True
        if self._request is not None:
            self._request.Wait()
            self._request = self._keep = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()
        self._done = True
        return True


def _run(request, finish, async_op, keep=None):
    work = Work(request, finish, keep)
    if async_op:
        return work
    work.wait()
    return None


# ----------------------------------------------------------------------------- buffers
def _to_host(arr):
    return arr if isinstance(arr, np.ndarray) else arr.get()        # a CuPy array: copy to the host


def _host_buffer(t: Tensor, opname):
    """A contiguous NumPy array MPI can read and write, and how to put a result back into ``t``."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{opname}: expected a Tensor, got {type(t).__name__}")
    arr = t._data
    if isinstance(arr, np.ndarray) and arr.flags.c_contiguous and arr.flags.writeable:
        return arr, None                                     # MPI works on the tensor's own memory
    host = np.array(_to_host(arr), order="C")                        # a staging copy

    def write_back():
        if isinstance(t._data, np.ndarray):
            t._data[...] = host
        else:
            t._data[...] = backend.xp_of(t._data).asarray(host)
    return host, write_back


def _mpi_op(group, op, opname):
    MPI = group.MPI
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN}
    if op not in table:
        raise ValueError(f"{opname}: unknown op {op!r}; expected one of ReduceOp.SUM, AVG, MAX, MIN")
    return table[op]


def _check_same_everywhere(group, opname, shape, dtype):
    """Compare (shape, dtype) across the ranks with one small all-reduce (min and max of a
    fingerprint); on a mismatch every rank learns every rank's layout and raises."""
    if group.size == 1:
        return
    key = zlib.crc32(repr((tuple(shape), np.dtype(dtype).str)).encode())
    box = np.array([key, -key], dtype=np.int64)
    group.comm.Allreduce(group.MPI.IN_PLACE, box, op=group.MPI.MAX)
    if box[0] != -box[1]:
        layouts = group.comm.allgather((tuple(shape), np.dtype(dtype).name))
        described = ", ".join(f"rank {r}: {d} {s}" for r, (s, d) in enumerate(layouts))
        raise RuntimeError(f"{opname}: the tensors differ across ranks ({described}); every rank must pass a "
                           f"tensor of the same shape and dtype")


def _array(t, opname):
    if not isinstance(t, Tensor):
        raise TypeError(f"{opname}: expected a Tensor, got {type(t).__name__}")
    return t._data


def _nccl_checked(group, opname, tensor, check=True):
    """The group's NCCL communicator, once ``tensor`` is known to match the other ranks'."""
    _array(tensor, opname)
    if check:
        _check_same_everywhere(group, opname, tensor._data.shape, tensor._data.dtype)
    return group.nccl


def _divide_by_size(arr, size, opname):
    if arr.dtype.kind != "f":
        raise TypeError(f"{opname}: ReduceOp.AVG needs a floating-point tensor, got {arr.dtype}")
    arr /= size


# ----------------------------------------------------------------------------- collectives
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False, _check=True):
    """Combine ``tensor`` across all ranks (sum, average, max or min), in place on every rank."""
    g = _default_group("all_reduce")
    mpi_op = _mpi_op(g, op, "all_reduce")
    dtype = _array(tensor, "all_reduce").dtype
    if op == ReduceOp.AVG and dtype.kind != "f":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    if g.nccl is not None:
        return _nccl_checked(g, "all_reduce", tensor, _check).all_reduce(tensor, op, async_op)
    buf, write_back = _host_buffer(tensor, "all_reduce")
    if _check:
        _check_same_everywhere(g, "all_reduce", buf.shape, buf.dtype)
    request = g.comm.Iallreduce(g.MPI.IN_PLACE, buf, op=mpi_op)

    def finish():
        if op == ReduceOp.AVG:
            _divide_by_size(buf, g.size, "all_reduce")
        if write_back is not None:
            write_back()
    return _run(request, finish, async_op, keep=buf)


def broadcast(tensor, src=0, group=None, async_op=False, _check=True):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank."""
    g = _default_group("broadcast")
    if not 0 <= src < g.size:
        raise ValueError(f"broadcast: src={src} is not a rank of a world of size {g.size}")
    if g.nccl is not None:
        return _nccl_checked(g, "broadcast", tensor, _check).broadcast(tensor, src, async_op)
    buf, write_back = _host_buffer(tensor, "broadcast")
    if _check:
        _check_same_everywhere(g, "broadcast", buf.shape, buf.dtype)
    request = g.comm.Ibcast(buf, root=src)
    return _run(request, write_back, async_op, keep=buf)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` receives rank r's ``tensor``, on every rank."""
    g = _default_group("all_gather")
    shape = tuple(_array(tensor, "all_gather").shape)
    if len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, expected one per rank ({g.size})")
    for r, t in enumerate(tensor_list):
        if tuple(t.shape) != shape or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{r}] has shape {tuple(t.shape)} and dtype {t.dtype}, "
                             f"expected {shape} and {tensor.dtype} (those of the tensor sent)")
    if g.nccl is not None:
        return _nccl_checked(g, "all_gather", tensor).all_gather(tensor_list, tensor, async_op)
    send, _ = _host_buffer(tensor, "all_gather")
    _check_same_everywhere(g, "all_gather", send.shape, send.dtype)
    recv = np.empty((g.size,) + send.shape, dtype=send.dtype)
    request = g.comm.Iallgather(send, recv)

    def finish():
        for r, t in enumerate(tensor_list):
            t._data[...] = recv[r] if isinstance(t._data, np.ndarray) else backend.xp_of(t._data).asarray(recv[r])
    return _run(request, finish, async_op, keep=(send, recv))


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` on rank r receives the reduction over all ranks of their ``input_list[r]``."""
    g = _default_group("reduce_scatter")
    mpi_op = _mpi_op(g, op, "reduce_scatter")
    arr = _array(output, "reduce_scatter")
    if len(input_list) != g.size:
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors, expected one per rank ({g.size})")
    for r, t in enumerate(input_list):
        if tuple(t.shape) != tuple(arr.shape) or t.dtype != output.dtype:
            raise ValueError(f"reduce_scatter: input_list[{r}] has shape {tuple(t.shape)} and dtype {t.dtype}, "
                             f"expected {tuple(arr.shape)} and {output.dtype} (those of the output)")
    if op == ReduceOp.AVG and arr.dtype.kind != "f":
        raise TypeError(f"reduce_scatter: ReduceOp.AVG needs a floating-point tensor, got {arr.dtype}")
    if g.nccl is not None:
        return _nccl_checked(g, "reduce_scatter", output).reduce_scatter(output, input_list, op, async_op)
    out, write_back = _host_buffer(output, "reduce_scatter")
    _check_same_everywhere(g, "reduce_scatter", out.shape, out.dtype)
    send = np.stack([_to_host(t._data) for t in input_list])     # the one block MPI scatters from
    request = g.comm.Ireduce_scatter_block(send, out, op=mpi_op)

    def finish():
        if op == ReduceOp.AVG:
            _divide_by_size(out, g.size, "reduce_scatter")
        if write_back is not None:
            write_back()
    return _run(request, finish, async_op, keep=(send, out))
