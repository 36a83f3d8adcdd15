"""SyncBatchNorm: batch norm whose statistics are those of the global batch, over all ranks.

With x the local part (M_r values per channel) of a global batch of M = sum_r M_r values:

    mean = allreduce(sum x) / M,  var = allreduce(sum (x - mean)^2) / M   (two passes: exact)
    xhat = (x - mean) * rstd,  y = xhat * w + b

and in backward, with dxhat = g * w and the sums over the global batch:

    dx = rstd * (dxhat - allreduce(sum dxhat) / M - xhat * allreduce(sum dxhat * xhat) / M)
    dw = sum_local g * xhat,  db = sum_local g      (DDP averages these like any gradient)

Each rank's loss is the mean over its own samples, so its g is N times the gradient of the
global mean loss; the factor goes away when DDP averages, which is why N ranks of batch B
match one process of batch N*B exactly.
"""
from __future__ import annotations

import numpy as np

from ... import autograd, backend
from ... import distributed as dist
from ..layers import _BatchNorm
from ..module import Module
from ...ops.norm import _update_running


def _all_reduce_sum(array):
    """Sum a small array over the ranks (staged through the host for CUDA arrays)."""
    g = dist._default_group("SyncBatchNorm")
    host = np.ascontiguousarray(array if isinstance(array, np.ndarray) else array.get())
    g.comm.Allreduce(g.MPI.IN_PLACE, host, op=g.MPI.SUM)
    return host if isinstance(array, np.ndarray) else backend.xp_of(array).asarray(host)


class _SyncBatchNormFn(autograd.Function):
    """Batch norm with the global batch's statistics; returns (y, mean, unbiased var), the
    statistics as outputs (as ``ops/norm.py``'s BatchNorm) for the running averages: they are
    not differentiable outputs.  Backward: batch norm's, with the two per-channel sums all-reduced."""
    materialize_grads = False

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        xp = backend.xp_of(x)
        local = xp.concatenate([x.sum(axis=dims), xp.asarray([x.size // x.shape[1]], dtype=x.dtype)])
        sums = _all_reduce_sum(local)                          # per-channel sums and the count
        total = float(sums[-1])
        mean = (sums[:-1] / total).reshape(shape)
        centered = x - mean
        var = (_all_reduce_sum((centered * centered).sum(axis=dims)) / total).reshape(shape)
        rstd = 1.0 / xp.sqrt(var + eps)
        xhat = centered * rstd
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.dims, ctx.total, ctx.shape = dims, total, shape
        y = xhat
        if weight is not None:
            y = y * weight.reshape(shape)
        if bias is not None:
            y = y + bias.reshape(shape)
        return y, mean.ravel(), var.ravel() * (total / (total - 1))

    @staticmethod
    def backward(ctx, g, g_mean=None, g_var=None):
        if g is None or g_mean is not None or g_var is not None:
            raise RuntimeError("SyncBatchNorm: the statistics it returns (mean, var) are not differentiable outputs")
        xhat, rstd, weight = ctx.saved_tensors
        dims, shape, xp = ctx.dims, ctx.shape, backend.xp_of(g)
        dxhat = g * weight.reshape(shape) if weight is not None else g
        channels = xhat.shape[1]
        sums = _all_reduce_sum(xp.concatenate([dxhat.sum(axis=dims), (dxhat * xhat).sum(axis=dims)]))
        mean_d = (sums[:channels] / ctx.total).reshape(shape)
        mean_dx = (sums[channels:] / ctx.total).reshape(shape)
        dx = rstd * (dxhat - mean_d - xhat * mean_dx)
        dw = (g * xhat).sum(axis=dims) if weight is not None else None
        db = g.sum(axis=dims) if ctx.needs_input_grad[2] else None
        return dx, dw, db, None


def _refuse_process_group(process_group):
    """PyTorch's ``process_group=``: None (the default group) is the only one minigrad.distributed has."""
    if process_group is not None:
        raise NotImplementedError(f"SyncBatchNorm: process_group={process_group!r} is not supported; minigrad's "
                                  "SyncBatchNorm reduces over the default group (pass None)")


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, ...) inputs with the statistics of the global batch (PyTorch's).

    In training, with an initialized process group of more than one rank, the per-channel
    mean and variance are all-reduced over the ranks (every rank of the group must call it);
    in evaluation, or in a world of one, it is plain batch norm.  Turn a model's batch norms
    into these with :meth:`convert_sync_batchnorm`."""

    _expected_dims = (2, 3, 4, 5)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        _refuse_process_group(process_group)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype)
        self.process_group = None

    def forward(self, x):
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        if x.ndim not in self._expected_dims or x.shape[1] != self.num_features:
            return super().forward(x)                              # its checks give the error
        momentum = self.momentum
        if self.track_running_stats:
            self.num_batches_tracked._data += 1
            if momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.item())
        out, mean, var = _SyncBatchNormFn.apply(x, self.weight, self.bias, float(self.eps))
        if self.track_running_stats:
            _update_running(self.running_mean, self.running_var, mean._data, var._data, momentum)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every BatchNorm1d/2d replaced by a SyncBatchNorm that shares its
        parameters and buffers (the module itself when it is a batch norm)."""
        _refuse_process_group(process_group)
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls.__new__(cls)
            Module.__init__(sync)
            sync.process_group = None
            for key in ("num_features", "eps", "momentum", "affine", "track_running_stats", "use_bias", "training"):
                object.__setattr__(sync, key, getattr(module, key))
            for name, p in module._parameters.items():
                sync.register_parameter(name, p)
            for name, b in module._buffers.items():
                sync.register_buffer(name, b)
            return sync
        for name, child in list(module.named_children()):
            setattr(module, name, cls.convert_sync_batchnorm(child, process_group))
        return module
