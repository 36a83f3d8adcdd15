"""The ``nccl`` backend: collectives on CUDA tensors through CuPy's NCCL bindings (``cupy.cuda.nccl``).

MPI still starts the processes and carries the one message NCCL needs to set up: rank 0's
unique id, broadcast to the others.  Each process takes the GPU of its index among the ranks
on its node (modulo the GPUs there) and builds one NCCL communicator for the process group.
A collective is enqueued on the current CuPy stream, in place on the tensor's device memory
(a non-contiguous tensor goes through a contiguous copy), so it is ordered with the kernels
before and after it like any GPU op; ``async_op=True`` returns a :class:`StreamWork`.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor

_DTYPES = ("int8", "uint8", "int32", "uint32", "int64", "uint64", "float16", "float32", "float64")


def load():
    """``(cupy, nccl)``, or a RuntimeError saying what the backend is missing."""
    try:
        import cupy
    except ImportError as e:
        raise RuntimeError("init_process_group: backend 'nccl' needs CuPy with NCCL and a CUDA GPU; CuPy is not "
                           "installed (pip install 'minigrad[gpu]'); on the CPU use backend='mpi'") from e
    try:
        from cupy.cuda import nccl
    except ImportError as e:
        nccl, error = None, e
    else:
        error = None
    if nccl is None or not getattr(nccl, "available", True):
        raise RuntimeError("init_process_group: backend 'nccl' needs CuPy with NCCL; this CuPy has no NCCL "
                           "(install NCCL, e.g. pip install nvidia-nccl-cu12, or use backend='mpi')") from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:          # CUDA runtime errors when no driver or GPU is there
        count = 0
    if count == 0:
        raise RuntimeError("init_process_group: backend 'nccl' needs a CUDA GPU, and CuPy sees none; on the CPU "
                           "use backend='mpi'")
    return cupy, nccl


class Communicator:
    """One process's NCCL communicator for a process group, on this process's GPU."""

    def __init__(self, cupy, nccl, mpi, comm):
        self.cupy, self.nccl = cupy, nccl
        node = comm.Split_type(mpi.COMM_TYPE_SHARED)          # the ranks on this node
        local_rank = node.Get_rank()
        node.Free()
        self.device = local_rank % cupy.cuda.runtime.getDeviceCount()
        cupy.cuda.Device(self.device).use()
        uid = nccl.get_unique_id() if comm.Get_rank() == 0 else None
        uid = comm.bcast(uid, root=0)
        self.comm = nccl.NcclCommunicator(comm.Get_size(), uid, comm.Get_rank())
        self.size = comm.Get_size()
        self.ops = {"sum": nccl.NCCL_SUM, "avg": nccl.NCCL_SUM, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN}
        self.dtypes = {np.dtype(name): getattr(nccl, f"NCCL_{name.upper()}") for name in _DTYPES
                       if hasattr(nccl, f"NCCL_{name.upper()}")}

    def destroy(self):
        self.comm.destroy()

    # -- buffers
    def buffer(self, t, opname):
        """The CuPy array NCCL works on (the tensor's own when contiguous) and how to put it back."""
        if not isinstance(t, Tensor):
            raise TypeError(f"{opname}: expected a Tensor, got {type(t).__name__}")
        arr = t._data
        if isinstance(arr, np.ndarray):
            raise ValueError(f"{opname}: the nccl backend works on CUDA tensors, got a CPU tensor of shape "
                             f"{tuple(arr.shape)}; move it with .cuda() or use backend='mpi'")
        if arr.device.id != self.device:
            raise ValueError(f"{opname}: the tensor is on cuda:{arr.device.id}, but this rank's NCCL communicator "
                             f"is on cuda:{self.device} (the rank's index on its node, modulo the GPUs there)")
        if arr.dtype not in self.dtypes:
            raise TypeError(f"{opname}: NCCL cannot send {arr.dtype} tensors (shape {tuple(arr.shape)})")
        if arr.flags.c_contiguous:
            return arr, None
        staged = self.cupy.ascontiguousarray(arr)

        def write_back():
            t._data[...] = staged
        return staged, write_back

    def _stream(self):
        return self.cupy.cuda.get_current_stream()

    def _finish(self, arr, op, write_back, async_op):
        if op == "avg":                       # NCCL summed (floating point: checked by the caller)
            arr /= self.size
        if write_back is not None:
            write_back()
        return StreamWork(self._stream()) if async_op else None

    # -- collectives (their arguments are checked by the caller, as for MPI)
    def all_reduce(self, tensor, op, async_op):
        arr, write_back = self.buffer(tensor, "all_reduce")
        self.comm.allReduce(arr.data.ptr, arr.data.ptr, arr.size, self.dtypes[arr.dtype], self.ops[op],
                            self._stream().ptr)
        return self._finish(arr, op, write_back, async_op)

    def broadcast(self, tensor, src, async_op):
        arr, write_back = self.buffer(tensor, "broadcast")
        self.comm.broadcast(arr.data.ptr, arr.data.ptr, arr.size, self.dtypes[arr.dtype], src, self._stream().ptr)
        return self._finish(arr, None, write_back, async_op)

    def all_gather(self, tensor_list, tensor, async_op):
        send, _ = self.buffer(tensor, "all_gather")
        recv = self.cupy.empty((self.size,) + send.shape, dtype=send.dtype)
        self.comm.allGather(send.data.ptr, recv.data.ptr, send.size, self.dtypes[send.dtype], self._stream().ptr)
        for r, t in enumerate(tensor_list):
            t._data[...] = recv[r]
        return self._finish(recv, None, None, async_op)

    def reduce_scatter(self, output, input_list, op, async_op):
        out, write_back = self.buffer(output, "reduce_scatter")
        for t in input_list:
            self.buffer(t, "reduce_scatter")
        send = self.cupy.stack([t._data for t in input_list])
        self.comm.reduceScatter(send.data.ptr, out.data.ptr, out.size, self.dtypes[out.dtype], self.ops[op],
                                self._stream().ptr)
        return self._finish(out, op, write_back, async_op)


class StreamWork:
    """The handle of an NCCL collective: it is queued on a CUDA stream, so work queued after it on
    that stream already sees its result; ``wait()`` makes the current stream wait for it too (when
    that is another stream), and ``is_completed()`` asks whether the GPU has finished it."""

    def __init__(self, stream):
        self._event = stream.record()

    def is_completed(self) -> bool:
        return self._event.done

    def wait(self, timeout=None) -> bool:
        import cupy
        cupy.cuda.get_current_stream().wait_event(self._event)
        return True
