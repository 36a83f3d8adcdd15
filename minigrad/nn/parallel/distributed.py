"""DistributedDataParallel: each rank runs the same model on its own part of the batch, and the
gradients are averaged across the ranks during backward, bucket by bucket.

How the overlap works.  The parameters are grouped into buckets of about ``bucket_cap_mb``, in
reverse order of ``parameters()`` (roughly the order backward produces their gradients).  Each
parameter has a post-accumulate-grad hook (the engine calls it as soon as that gradient is
final, while backward goes on); when a bucket's last gradient arrives its gradients are copied
into one flat buffer and a non-blocking all-reduce of it starts, so the communication of the
late layers runs while the engine still computes the gradients of the early ones.  Buckets are
launched in index order on every rank (a bucket that completes early waits for the ones before
it), so the ranks always post their collectives in the same order.  A callback queued on the
engine waits for every all-reduce when backward ends, divides by the world size and writes the
averages back into ``.grad``: ``loss.backward()`` returns with the gradients averaged.
"""
from __future__ import annotations

import contextlib
import time

import numpy as np

from ... import autograd, tracing
from ... import distributed as dist
from ...errors import ArgumentError
from ...tensor import Tensor
from ..module import Module

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters whose gradients travel in one flat buffer (one dtype per bucket)."""

    def __init__(self, index, params):
        self.index = index
        self.params = params
        sizes = [p._data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.flat = np.empty(int(self.offsets[-1]), dtype=params[0]._data.dtype)
        self.ready = np.zeros(len(params), dtype=bool)     # which gradients this backward delivered
        self.work = None                                    # the MPI request of its all-reduce

    def view(self, k):
        return self.flat[self.offsets[k]:self.offsets[k + 1]]


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group (PyTorch's DDP).

    At construction the ranks check that their parameters have the same names, shapes and
    dtypes (a mismatch is an error on every rank) and copy rank 0's parameters and buffers.
    Every ``forward`` copies rank 0's buffers (batch-norm running statistics) when
    ``broadcast_buffers``.  ``find_unused_parameters=True`` lets parameters that got no
    gradient in a backward count as zero; without it such a parameter is an error naming it.
    ``no_sync()`` skips the averaging (gradient accumulation); the next synchronised backward
    averages the accumulated gradients.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=25, find_unused_parameters=False):
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: the default process group has not been initialized; "
                               "call minigrad.distributed.init_process_group() first")
        if bucket_cap_mb <= 0:
            raise ArgumentError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_cap_mb = bucket_cap_mb
        self.require_backward_grad_sync = True
        self._group = dist._default_group("DistributedDataParallel")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        on_gpu = [n for n, p in named if not isinstance(p._data, np.ndarray)]
        if on_gpu:
            raise NotImplementedError(f"DistributedDataParallel: parameters on CUDA ({on_gpu[0]}, ...): DDP's bucket "
                                      f"all-reduces run over MPI on the CPU only so far (the nccl backend serves the "
                                      f"collectives, not DDP yet); train on the CPU with backend='mpi'")
        self._check_same_parameters(named)
        with autograd.no_grad():
            for _, t in list(module.named_parameters()) + list(module.named_buffers()):
                dist.broadcast(t, src=0)
        self._names = {id(p): n for n, p in named}
        self._buckets = self._make_buckets([p for _, p in named][::-1], int(bucket_cap_mb * 2 ** 20))
        self._sync_now = False           # this forward's backward averages the gradients
        self._callback_queued = False
        self._next_to_launch = 0         # buckets start in index order, the same on every rank
        self._handles = [p.register_post_accumulate_grad_hook(self._hook(b, k))
                         for b in self._buckets for k, p in enumerate(b.params)]

    # -- construction
    def _check_same_parameters(self, named):
        """Every rank learns every rank's parameter list, so all raise the same error."""
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        everyone = self._group.comm.allgather(mine)
        for r, theirs in enumerate(everyone):
            if theirs == everyone[0]:
                continue
            first = next((k for k, (a, b) in enumerate(zip(everyone[0], theirs)) if a != b), None)
            what = (f"{len(everyone[0])} parameters on rank 0 but {len(theirs)} on rank {r}" if first is None else
                    f"rank 0 has {everyone[0][first]} where rank {r} has {theirs[first]}")
            raise RuntimeError(f"DistributedDataParallel: the ranks' models differ: {what}; every rank must build "
                               f"the same model")

    @staticmethod
    def _make_buckets(params, cap_bytes):
        buckets, current, size = [], [], 0
        for p in params:
            if current and (size >= cap_bytes or p._data.dtype != current[0]._data.dtype):
                buckets.append(_Bucket(len(buckets), current))
                current, size = [], 0
            current.append(p)
            size += p._data.nbytes
        if current:
            buckets.append(_Bucket(len(buckets), current))
        return buckets

    # -- forward and the switch for gradient accumulation
    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self._group.size > 1:
            with autograd.no_grad():
                for t in self.module.buffers():         # their layout was checked at construction
                    dist.broadcast(t, src=0, _check=False)
        if self._callback_queued:              # the previous backward failed half-way
            self._reset()
        self._sync_now = self.require_backward_grad_sync and autograd.is_grad_enabled()
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside this block leave the gradients local."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # -- during backward
    def _hook(self, bucket, k):
        def on_grad_ready(param):
            if not self._sync_now:
                return
            if not self._callback_queued:                    # the first gradient of this backward
                autograd.queue_callback(self._finish)
                self._callback_queued = True
            bucket.view(k)[...] = param.grad._data.reshape(-1)
            bucket.ready[k] = True
            self._launch_ready()
        return on_grad_ready

    def _launch_ready(self):
        """Start the all-reduce of every complete bucket whose predecessors have all started."""
        buckets = self._buckets
        while self._next_to_launch < len(buckets) and buckets[self._next_to_launch].ready.all():
            bucket = buckets[self._next_to_launch]
            g = self._group
            start = time.perf_counter()
            bucket.work = g.comm.Iallreduce(g.MPI.IN_PLACE, bucket.flat, op=g.MPI.SUM)
            self._trace("all_reduce start", bucket, start)
            self._next_to_launch += 1

    @staticmethod
    def _trace(what, bucket, start):
        t = tracing.current()
        if t is not None:
            t.communication(what, f"bucket {bucket.index}", [list(bucket.flat.shape)], time.perf_counter() - start)

    def _finish(self):
        """When backward ends: the buckets left (unused parameters), then wait, average, write back."""
        try:
            unused = [self._names[id(p)] for b in self._buckets for k, p in enumerate(b.params) if not b.ready[k]]
            if unused and not self.find_unused_parameters:
                raise RuntimeError(f"DistributedDataParallel: rank {self._group.rank}: these parameters got no "
                                   f"gradient in this backward: {', '.join(unused)}; pass find_unused_parameters=True "
                                   f"if the model does not use all its parameters in every forward")
            for b in self._buckets[self._next_to_launch:]:      # unused parameters count as zero
                for k in np.flatnonzero(~b.ready):
                    b.view(k)[...] = 0.0
                b.ready[:] = True
            self._launch_ready()
            for bucket in self._buckets:
                start = time.perf_counter()
                bucket.work.Wait()
                bucket.work = None
                self._trace("all_reduce wait", bucket, start)
                bucket.flat /= self._group.size
                for k, p in enumerate(bucket.params):
                    _write_grad(p, bucket.view(k))
        finally:
            self._reset()

    def _reset(self):
        """Ready for the next backward (an all-reduce still in flight is waited for first)."""
        for bucket in self._buckets:
            if bucket.work is not None:
                bucket.work.Wait()
            bucket.ready[:] = False
            bucket.work = None
        self._sync_now = self._callback_queued = False
        self._next_to_launch = 0


def _write_grad(p, flat):
    if p.grad is None:
        p._grad = Tensor._wrap(flat.reshape(p._data.shape).copy())
    else:
        p.grad._data[...] = flat.reshape(p._data.shape)
