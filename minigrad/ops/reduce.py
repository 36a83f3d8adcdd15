"""Reductions over dims: sum, mean, var/std, max/min (with indices), amax/amin, logsumexp;
argmax/argmin (no gradient).

Shapes: ``x`` has shape S; reducing over dims D gives S without D (or with 1s there when
``keepdim``).  Every backward first restores the reduced dims as size 1 (``_keep``) so the
gradient broadcasts against ``x``; each is one formula for arrays and Tensors
(``differentiable_backward``), so gradients of reductions can be differentiated again.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend, return_types
from ..autograd import Function
from ..tensor import Tensor
from . import _formula as f
from ._args import DtypeError, as_tensor, dim_alias, keepdim_alias, normalize_dim, normalize_dims

__all__ = ["sum", "mean", "var", "std", "max", "min", "amax", "amin", "logsumexp", "argmax", "argmin"]



def _keep(g, shape, dims):
    """``g`` reshaped so that the reduced ``dims`` of ``shape`` are present with size 1."""
    return g.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _expand(g, shape):
    """``g`` (with size-1 reduced dims) broadcast to ``shape``: a view for large arrays,
    a small copy for small ones (cheaper than building the view)."""
    if not isinstance(g, np.ndarray) or _count(shape, range(len(shape))) >= 1 << 16:
        return f.broadcast_to(g, shape)
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


class Sum(Function):
    """d sum(x) = g broadcast back over the summed dims"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x.shape, dims
        return x.sum(axis=dims, keepdims=keepdim, dtype=x.dtype)      # NumPy would widen int32 to int64

    @staticmethod
    def backward(ctx, g):
        return _expand(_keep(g, ctx.shape, ctx.dims), ctx.shape)


class Mean(Function):
    """d mean(x) = g / n broadcast back, n = number of elements averaged"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x.shape, dims
        return x.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        n = _count(ctx.shape, ctx.dims)
        return _expand(_keep(g, ctx.shape, ctx.dims) / n, ctx.shape)


class Var(Function):
    """var(x) = sum((x - mean)^2) / (n - correction);  d var = g * 2 (x - mean) / (n - correction)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        centered = x - x.mean(axis=dims, keepdims=True)
        denom = builtins.max(_count(x.shape, dims) - correction, 0)     # correction >= n: inf (or NaN), as PyTorch
        ctx.save_for_backward(x)
        ctx.dims, ctx.denom = dims, denom
        with np.errstate(divide="ignore", invalid="ignore"):
            return (centered * centered).sum(axis=dims, keepdims=keepdim) / denom

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        centered = x - f.sum(x, ctx.dims, keepdims=True) * (1.0 / _count(x.shape, ctx.dims))
        with np.errstate(divide="ignore", invalid="ignore"):
            return _keep(g, x.shape, ctx.dims) * (2 / ctx.denom if ctx.denom > 0 else float("inf")) * centered


class MaxMinDim(Function):
    """max/min along one dim with indices;  d = g routed to the index that was returned
    (one element per slice, even when there are ties, as in PyTorch)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest):
        xp = backend.xp_of(x)
        idx = (x.argmax if largest else x.argmin)(axis=dim)
        idx_keep = xp.expand_dims(idx, dim)
        values = xp.take_along_axis(x, idx_keep, axis=dim)
        ctx.save_for_backward(idx_keep)
        ctx.shape, ctx.dim = x.shape, dim
        if not keepdim:
            values = values.squeeze(dim)
        else:
            idx = idx_keep
        return values, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, g, g_indices):
        idx_keep = f.value(ctx.saved_tensors[0])
        xp = f.xp(g)
        shape, dim = ctx.shape, ctx.dim
        if not f.is_tensor(g):              # the same routing, without a full-size mask: put g at the index
            dx = xp.zeros(shape, dtype=g.dtype)
            xp.put_along_axis(dx, idx_keep, _keep(g, shape, (dim,)), axis=dim)
            return dx
        positions = xp.arange(shape[dim]).reshape(tuple(-1 if k == dim else 1 for k in range(len(shape))))
        picked = positions == idx_keep                       # the one-hot mask of the returned index
        return _keep(g, shape, (dim,)) * f.like(picked.astype(f.value(g).dtype), g)


class AmaxAmin(Function):
    """max/min over dims (values only);  d = g shared evenly among the elements that tie
    for the extreme value (as PyTorch's amax/amin and full max/min)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest):
        out = (x.max if largest else x.min)(axis=dims, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.dims = dims
        return out if keepdim else out.reshape(tuple(s for i, s in enumerate(x.shape) if i not in dims))

    @staticmethod
    def backward(ctx, g):
        x, out = (f.value(t) for t in ctx.saved_tensors)
        winners = x == out
        share = winners / winners.sum(axis=ctx.dims, keepdims=True)
        return _keep(g, x.shape, ctx.dims) * f.like(share.astype(f.value(g).dtype, copy=False), g)


class LogSumExp(Function):
    """y = m + log(sum(exp(x - m)));  d logsumexp = g * exp(x - y)  (a softmax)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = backend.xp_of(x)
        m = x.max(axis=dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)        # all -inf slices: avoid inf - inf
        y = m + xp.log(xp.exp(x - m).sum(axis=dims, keepdims=True))
        out = y if keepdim else y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in dims))
        ctx.save_for_backward(x, out)
        ctx.dims = dims
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return _keep(g, x.shape, ctx.dims) * f.exp(x - _keep(out, x.shape, ctx.dims))


# ----------------------------------------------------------------------------- entry points
def sum(input, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all); integers and bools sum to int64.
    NumPy's names ``axis=`` and ``keepdims=`` are accepted here and by every reduction below, as
    PyTorch accepts them."""
    keepdim = keepdim_alias(keepdim, keepdims)
    x = as_tensor(input, "sum")
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind in "biu" and x._data.dtype != backend.int64:
        x = x.to(backend.int64)
    dims = normalize_dims(dim_alias(dim, axis, "sum"), x._data.ndim, "sum", empty_is_all=True)
    return Sum.apply(x, dims, keepdim)


def mean(input, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None) -> Tensor:
    """Mean over ``dim``; of a floating tensor, or of any tensor converted to a floating ``dtype``."""
    keepdim = keepdim_alias(keepdim, keepdims)
    x = as_tensor(input, "mean")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise DtypeError(f"mean: expected a floating-point tensor, got dtype {x._data.dtype} "
                        f"(convert with .float() first)")
    dims = normalize_dims(dim_alias(dim, axis, "mean"), x._data.ndim, "mean", empty_is_all=True)
    return Mean.apply(x, dims, keepdim)


def _correction(unbiased, correction, opname):
    if unbiased is not None and correction is not None:
        raise TypeError(f"{opname}: pass unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None) -> Tensor:
    """Variance over ``dim``; Bessel-corrected (``correction=1``) unless told otherwise.
    ``var(x, False)``, PyTorch's other signature, is ``var(x, unbiased=False)``."""
    keepdim = keepdim_alias(keepdim, keepdims)
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    x = as_tensor(input, "var")
    if x._data.dtype.kind != "f":
        raise DtypeError(f"var: expected a floating-point tensor, got dtype {x._data.dtype}")
    dims = normalize_dims(dim_alias(dim, axis, "var"), x._data.ndim, "var", empty_is_all=True)
    return Var.apply(x, dims, _correction(unbiased, correction, "var"), keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None) -> Tensor:
    return var(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims).sqrt()


def _max_min(input, dim, keepdim, axis, largest, opname):
    if isinstance(dim, Tensor):          # max(a, b): the elementwise maximum, as torch.max(a, b)
        from .elementwise import maximum, minimum
        return (maximum if largest else minimum)(input, dim)
    x = as_tensor(input, opname)
    dim = dim_alias(dim, axis, opname)
    if x._data.size == 0:
        raise RuntimeError(f"{opname}: cannot reduce an empty tensor of shape {x._data.shape}")
    if dim is None:
        return AmaxAmin.apply(x, tuple(range(x._data.ndim)), False, largest)
    d = normalize_dim(dim, x._data.ndim, opname)
    result = return_types.max if largest else return_types.min
    if x._data.ndim == 0:
        return result(x, Tensor._wrap(backend.xp_of(x._data).zeros((), np.int64)))
    return result(*MaxMinDim.apply(x, d, keepdim, largest))


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``max(x)``: the largest value; ``max(x, dim)``: ``(values, indices)`` along ``dim``;
    ``max(x, other)``: the elementwise maximum."""
    return _max_min(input, dim, keepdim_alias(keepdim, keepdims), axis, True, "max")


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, ``min(x, other)``; see :func:`max`."""
    return _max_min(input, dim, keepdim_alias(keepdim, keepdims), axis, False, "min")


def _amax_amin(input, dim, keepdim, largest, opname):
    x = as_tensor(input, opname)
    if x._data.size == 0:
        raise RuntimeError(f"{opname}: cannot reduce an empty tensor of shape {x._data.shape}")
    dims = normalize_dims(dim, x._data.ndim, opname, empty_is_all=True)
    return AmaxAmin.apply(x, dims, keepdim, largest)


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    return _amax_amin(input, dim_alias(dim, axis, "amax"), keepdim_alias(keepdim, keepdims), True, "amax")


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    return _amax_amin(input, dim_alias(dim, axis, "amin"), keepdim_alias(keepdim, keepdims), False, "amin")


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, without overflow."""
    from ._args import float_operand
    x = float_operand(input, "logsumexp")
    dim, keepdim = dim_alias(dim, axis, "logsumexp"), keepdim_alias(keepdim, keepdims)
    dims = normalize_dims(dim, x._data.ndim, "logsumexp")
    return LogSumExp.apply(x, dims, keepdim)


def _arg(input, dim, keepdim, largest, opname):
    x = as_tensor(input, opname)
    if x._data.size == 0:
        raise RuntimeError(f"{opname}: cannot reduce an empty tensor of shape {x._data.shape}")
    fn = x._data.argmax if largest else x._data.argmin
    if dim is None:
        out = fn()
        return Tensor._wrap(backend.xp_of(x._data).asarray(out, dtype=np.int64).reshape((1,) * x._data.ndim if keepdim else ()))
    d = normalize_dim(dim, x._data.ndim, opname)
    out = fn(axis=d, keepdims=keepdim) if x._data.ndim else fn()
    return Tensor._wrap(backend.xp_of(x._data).asarray(out, dtype=np.int64))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the largest value (flat index when ``dim`` is None); not differentiable."""
    return _arg(input, dim_alias(dim, axis, "argmax"), keepdim_alias(keepdim, keepdims), True, "argmax")


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    return _arg(input, dim_alias(dim, axis, "argmin"), keepdim_alias(keepdim, keepdims), False, "argmin")
