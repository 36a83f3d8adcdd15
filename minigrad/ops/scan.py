"""Products, scans and the reductions built on them: prod, cumsum, cumprod, cummax/cummin,
logcumsumexp, median, nansum/nanmean, norm/dist, var_mean/std_mean, aminmax.

Shapes: ``x`` has shape S; a scan along ``dim`` keeps S; a reduction over dims D gives S without D
(or with 1s there when ``keepdim``).  Every backward is one formula for arrays and Tensors
(``differentiable_backward``); the linear ones call their adjoint through ``run`` (reversed
cumsum for cumsum, scatter-add for the gathers of cummax, cummin and median).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, return_types
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor, float_operand, normalize_dim, normalize_dims
from .elementwise import _check_broadcast, sub
from .reduce import _keep, amax, amin, mean, std, sum, var

__all__ = ["prod", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "median", "nansum", "nanmean", "norm",
           "dist", "var_mean", "std_mean", "aminmax"]

#: What ``aminmax`` returns, as PyTorch's ``return_types.aminmax``.


def _xp(x):
    return backend.xp_of(x)


def _flip(a, dim):
    return _xp(a).flip(a, axis=dim)


# ----------------------------------------------------------------------------- prod
class Prod(Function):
    """y = prod(x) over dims.  d x_i = g * prod_{j != i} x_j, with p the product of the slice's
    nonzero entries: no zero in the slice, g p / x_i;  exactly one zero x_z, g p at z and
    g p x_z / x_i elsewhere (0, but written with x_z so that it differentiates again);  two or
    more zeros, 0 (as PyTorch's).  Under create_graph a slice with two or more zeros takes the
    division-free form :func:`_others_product`, whose own derivative is exact there."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.dims = dims
        return x.prod(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dims = ctx.dims
        zero = f.value(x) == 0
        zeros_in_slice = zero.sum(axis=dims, keepdims=True)
        safe = f.where(zero, 1.0, x)
        p = Prod.run(safe, dims, True)
        g = _keep(g, x.shape, dims)
        if not zeros_in_slice.any():
            return g * p / safe
        if f.is_tensor(x) and (zeros_in_slice >= 2).any():
            return g * _others_product(x, dims)
        x_zero = f.sum(f.where(zero, x, 0.0), dims, keepdims=True)       # the zero itself
        one_zero = g * p * f.where(zero, 1.0, x_zero / safe)
        return f.where(zeros_in_slice == 0, g * p / safe, f.where(zeros_in_slice == 1, one_zero, 0.0))


def _others_product(x, dims):
    """prod_{j != i} x_j over each slice of ``dims`` with products only (no division by x, so it
    differentiates exactly at zeros): the slice flattened to length m, the product of the
    entries before i (an exclusive cumprod) times that of the entries after i (one from the
    other end).  Its derivative runs Cumprod's backward, exact at zeros too."""
    keep = [a for a in range(x.ndim) if a not in dims]
    perm = keep + list(dims)
    moved = f.permute(x, perm)
    lead = moved.shape[:len(keep)]
    flat = moved.reshape(lead + (-1,))
    last = len(lead)
    one = f.like(f.xp(f.value(x)).ones(lead + (1,), dtype=f.value(x).dtype), x)
    before = Cumprod.run(f.concatenate([one, flat[..., :-1]], last), last)
    after = Cumprod.run(f.concatenate([one, flat[..., :0:-1]], last), last)[..., ::-1]
    return f.permute((before * after).reshape(moved.shape), tuple(np.argsort(perm)))


# ----------------------------------------------------------------------------- scans
class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along dim (``reverse``: sum_{j >= i});  d x_j = sum_{i >= j} g_i, the
    reversed scan of g (its own adjoint with ``reverse`` flipped)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dim, reverse=False):
        ctx.dim, ctx.reverse = dim, reverse
        if reverse:
            return _flip(_flip(x, dim).cumsum(axis=dim), dim)
        return x.cumsum(axis=dim)

    @staticmethod
    def backward(ctx, g):
        return Cumsum.run(g, ctx.dim, not ctx.reverse)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along dim;  d x_j = sum_{i >= j} g_i prod_{k <= i, k != j} x_k.
    Before the first zero z of the slice that is revcumsum(g y)_j / x_j (sums over i < z only);
    at z it is revcumsum(g w)_z with w the cumprod of x with x_z replaced by 1; after z, 0.
    Under create_graph a slice with a zero takes the division-free form :func:`_cumprod_grad`,
    whose own derivative is exact there too (the formula above drops terms that are 0 but not
    their derivatives)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        y = x.cumprod(axis=dim)
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        dim = ctx.dim
        zero = f.value(x) == 0
        if f.is_tensor(x) and zero.any():
            return _cumprod_grad(x, g, dim)
        zeros_so_far = zero.cumsum(axis=dim)
        before = zeros_so_far == 0                     # before the first zero
        first = zero & (zeros_so_far == 1)             # the first zero itself
        safe = f.where(zero, 1.0, x)
        dx = f.where(before, Cumsum.run(f.where(before, g * y, 0.0), dim, True) / safe, 0.0)
        if first.any():
            w = Cumprod.run(f.where(first, 1.0, x), dim)
            dx = dx + f.where(first, Cumsum.run(g * w, dim, True), 0.0)
        return dx


def _cumprod_grad(x, g, dim):
    """d x_j = sum_{i >= j} g_i prod_{k <= i, k != j} x_k with products only: an (n, n) table per
    slice whose row j holds x_k for k != j (1 at k = j), scanned by cumprod along the row and
    summed against g over i >= j.  O(n^2): for create_graph with zeros only."""
    last = x.ndim - 1
    xl, gl = f.moveaxis(x, dim, last), f.moveaxis(g, dim, last)
    n = xl.shape[-1]
    lead = xl.shape[:-1]
    table = f.where(np.eye(n, dtype=bool), 1.0, f.broadcast_to(xl.reshape(lead + (1, n)), lead + (n, n)))
    partial = Cumprod.run(table, len(lead) + 1)                      # [.., j, i] = prod_{k <= i, k != j} x_k
    later = np.triu(np.ones((n, n), dtype=bool))                     # i >= j
    dx = f.sum(f.where(later, partial, 0.0) * gl.reshape(lead + (1, n)), (len(lead) + 1,))
    return f.moveaxis(dx, last, dim)


class GatherAlong(Function):
    """y = take_along_axis(x, index, dim) (index: constant);  d = scatter-add of g at index."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.shape, ctx.index, ctx.dim = x.shape, index, dim
        return _xp(x).take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return ScatterAddAlong.run(g, ctx.index, ctx.dim, ctx.shape)


class ScatterAddAlong(Function):
    """The adjoint of GatherAlong: zeros of ``shape``, then out[.., index[.., i, ..], ..] += g[.., i, ..]
    along dim;  d = take_along_axis(gg, index, dim)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, index, dim, shape):
        ctx.index, ctx.dim = index, dim
        xp = _xp(g)
        ndim = index.ndim
        # the flat position each entry of g adds into: its own coordinates, with index[...] along dim
        coords = [index if j == dim else xp.arange(n).reshape([-1 if k == j else 1 for k in range(ndim)])
                  for j, n in enumerate(index.shape)]
        flat = xp.ravel_multi_index(tuple(xp.broadcast_to(c, index.shape) for c in coords), shape).reshape(-1)
        size = int(np.prod(shape))
        out = xp.bincount(flat, weights=g.reshape(-1), minlength=size) if flat.size else xp.zeros(size)
        return out.astype(g.dtype, copy=False).reshape(shape)

    @staticmethod
    def backward(ctx, gg):
        return GatherAlong.run(gg, ctx.index, ctx.dim)


def _running_extreme_index(x, dim, largest):
    """Index of the running max (min) along dim; a tie takes the later index, as PyTorch."""
    xp = _xp(x)
    ufunc = xp.maximum if largest else xp.minimum
    running = ufunc.accumulate(x, axis=dim)
    positions = xp.arange(x.shape[dim]).reshape(tuple(-1 if k == dim else 1 for k in range(x.ndim)))
    at_extreme = (x == running) | (xp.isnan(x) if x.dtype.kind == "f" else False)
    return xp.maximum.accumulate(xp.where(at_extreme, positions, 0), axis=dim).astype(np.int64)


class LogCumSumExp(Function):
    """y_i = log sum_{j <= i} exp(x_j);  d x_j = sum_{i >= j} g_i exp(x_j - y_i)
    = exp(x_j) * revcumsum(g exp(-y))_j, computed around the slice's largest y for range."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = _xp(x)
        if isinstance(x, np.ndarray):
            y = np.logaddexp.accumulate(x, axis=dim)
        else:
            m = x.max(axis=dim, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)
            with np.errstate(divide="ignore"):
                y = m + xp.log(xp.exp(x - m).cumsum(axis=dim))
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        top = f.value(y).max(axis=ctx.dim, keepdims=True)
        top = f.xp(g).where(f.xp(g).isfinite(top), top, 0)
        top = f.like(top, g)
        return f.exp(x - top) * Cumsum.run(g * f.exp(top - y), ctx.dim, True)


# ----------------------------------------------------------------------------- median, norms
class MedianAll(Function):
    """The lower median of all elements, NaN when any element is NaN (as PyTorch's; nanmedian
    skips them);  d = g shared evenly among the elements equal to it (the NaNs, for a NaN median),
    as PyTorch's median without dim."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        xp = _xp(x)
        flat = x.reshape(-1)
        out = xp.sort(flat)[(flat.size - 1) // 2]       # NumPy sorts NaNs last: look for them apart
        if x.dtype.kind == "f" and xp.isnan(flat).any():
            out = xp.nan
        out = xp.asarray(out, dtype=x.dtype).reshape(())
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = (f.value(t) for t in ctx.saved_tensors)
        xp = _xp(x)
        winners = xp.isnan(x) if xp.isnan(out) else x == out
        share = winners / winners.sum()
        return g * f.like(share.astype(f.value(g).dtype, copy=False), g)


class VectorNorm(Function):
    """y = (sum |x|^p)^(1/p) over dims; p = inf: max |x|, -inf: min |x|, 0: the count of nonzeros.
    d = g * sign(x) |x|^(p-1) / y^(p-1)  (p = 2: g x / y;  p = 1: g sign(x));  0 where y = 0
    (as PyTorch);  p = +-inf: g sign(x) shared among the ties for the extreme;  p = 0: 0."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        xp = _xp(x)
        a = xp.abs(x)
        if p == math.inf:
            y = a.max(axis=dims, keepdims=True)
        elif p == -math.inf:
            y = a.min(axis=dims, keepdims=True)
        elif p == 0:
            y = (x != 0).sum(axis=dims, keepdims=True).astype(x.dtype)
        elif p == 1:
            y = a.sum(axis=dims, keepdims=True)
        elif p == 2:
            y = xp.sqrt((x * x).sum(axis=dims, keepdims=True))
        else:
            y = (a ** p).sum(axis=dims, keepdims=True) ** (1.0 / p)
        out = y if keepdim else y.reshape(tuple(s for k, s in enumerate(x.shape) if k not in dims))
        ctx.save_for_backward(x, out)
        ctx.p, ctx.dims = p, dims
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        p, dims = ctx.p, ctx.dims
        xv = f.value(x)
        y = _keep(out, x.shape, dims)
        g = _keep(g, x.shape, dims)
        sign = f.like(f.xp(g).sign(xv).astype(xv.dtype, copy=False), g)
        if p == 0:
            return f.zeros(xv.shape, xv.dtype, g) * g
        if p == 1:
            return g * sign
        if p in (math.inf, -math.inf):
            winners = f.xp(g).abs(xv) == f.value(y)
            share = winners / winners.sum(axis=dims, keepdims=True)
            return g * sign * f.like(share.astype(xv.dtype, copy=False), g)
        at_zero = f.value(y) == 0
        safe_y = f.where(at_zero, 1.0, y)
        if p == 2:
            return f.where(at_zero, 0.0, g * x / safe_y)
        ax = x * sign                                   # |x|, differentiable
        nonzero = xv != 0
        safe_ax = f.where(nonzero, ax, 1.0)
        scaled = f.where(nonzero, sign * (safe_ax / safe_y) ** (p - 1), 0.0)
        return f.where(at_zero, 0.0, g * scaled)


# ----------------------------------------------------------------------------- entry points
def _scan_operand(input, dim, dtype, opname):
    x = as_tensor(input, opname)
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind in "biu" and x._data.dtype != backend.int64:
        x = x.to(backend.int64)
    d = normalize_dim(dim, x._data.ndim, opname)
    return x, d


def _as_1d(x):
    """Scans of a 0-d tensor run on one element, as PyTorch's."""
    return (x.reshape(1), True) if x._data.ndim == 0 else (x, False)


def prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """The product over ``dim`` (an int, or None for all elements); integers and bools give int64."""
    x = as_tensor(input, "prod")
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind in "biu" and x._data.dtype != backend.int64:
        x = x.to(backend.int64)
    if dim is None:
        dims = tuple(range(x._data.ndim))
        keepdim = False
    else:
        dims = normalize_dims(normalize_dim(dim, x._data.ndim, "prod"), x._data.ndim, "prod")
    return Prod.apply(x, dims, keepdim)


def cumsum(input, dim, *, dtype=None) -> Tensor:
    """Running sums along ``dim``; integers and bools give int64."""
    x, d = _scan_operand(input, dim, dtype, "cumsum")
    x, scalar = _as_1d(x)
    out = Cumsum.apply(x, d)
    return out.reshape(()) if scalar else out


def cumprod(input, dim, *, dtype=None) -> Tensor:
    """Running products along ``dim`` (zeros handled in the gradient); integers give int64."""
    x, d = _scan_operand(input, dim, dtype, "cumprod")
    x, scalar = _as_1d(x)
    out = Cumprod.apply(x, d)
    return out.reshape(()) if scalar else out


def _cum_extreme(input, dim, largest, opname):
    x = as_tensor(input, opname)
    d = normalize_dim(dim, x._data.ndim, opname)
    x1, scalar = _as_1d(x)
    index = _running_extreme_index(x1._data, d, largest)
    values = GatherAlong.apply(x1, index, d)
    indices = Tensor._wrap(index)
    if scalar:
        values, indices = values.reshape(()), indices.reshape(())
    return getattr(return_types, opname)(values, indices)


def cummax(input, dim):
    """``(values, indices)``: the running maximum along ``dim`` and where it was found (the later
    index on ties, as PyTorch); the gradient goes to that index."""
    return _cum_extreme(input, dim, True, "cummax")


def cummin(input, dim):
    """``(values, indices)``: the running minimum along ``dim``; see :func:`cummax`."""
    return _cum_extreme(input, dim, False, "cummin")


def logcumsumexp(input, dim) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim`` without overflow."""
    x = float_operand(input, "logcumsumexp")
    d = normalize_dim(dim, x._data.ndim, "logcumsumexp")
    x, scalar = _as_1d(x)
    out = LogCumSumExp.apply(x, d)
    return out.reshape(()) if scalar else out


def median(input, dim=None, keepdim=False):
    """Without ``dim``: the lower median of all elements.  With ``dim``: ``(values, indices)``, the
    lower median along ``dim`` and its index; the gradient goes to that index.  A NaN makes the
    median NaN, with the index of the first NaN (as PyTorch's; ``nanmedian`` skips them)."""
    x = as_tensor(input, "median")
    if x._data.size == 0:
        raise RuntimeError(f"median: cannot reduce an empty tensor of shape {x._data.shape}")
    if dim is None:
        return MedianAll.apply(x)
    d = normalize_dim(dim, x._data.ndim, "median")
    x1, scalar = _as_1d(x)
    xp = _xp(x1._data)
    n = x1._data.shape[d]
    order = xp.argsort(x1._data, axis=d, kind="stable")
    index = xp.take(order, [(n - 1) // 2], axis=d).astype(np.int64)
    if x1._data.dtype.kind == "f":                      # NumPy sorts NaNs last: a row with one takes it
        nan = xp.isnan(x1._data)
        index = xp.where(nan.any(axis=d, keepdims=True), nan.argmax(axis=d, keepdims=True), index)
    values = GatherAlong.apply(x1, index, d)
    if scalar:
        return return_types.median(values.reshape(()), Tensor._wrap(index.reshape(())))
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return return_types.median(values, Tensor._wrap(index))


def nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """The sum over ``dim`` with NaNs counted as zero (their gradient is zero)."""
    x = as_tensor(input, "nansum")
    if x._data.dtype.kind == "f":
        from .elementwise import where
        x = where(Tensor._wrap(_xp(x._data).asarray(_xp(x._data).isnan(x._data))), 0.0, x)   # 0-d: an array
    return sum(x, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """The mean over ``dim`` of the elements that are not NaN."""
    x = as_tensor(input, "nanmean")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise TypeError(f"nanmean: expected a floating-point tensor, got dtype {x._data.dtype}")
    count = sum(Tensor._wrap(_xp(x._data).asarray(~_xp(x._data).isnan(x._data))), dim, keepdim).to(x._data.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return nansum(x, dim, keepdim) / count


_NORM_P = {"fro": 2.0, "inf": math.inf, "-inf": -math.inf}


def norm(input, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
    """The vector p-norm over ``dim`` (None: all elements): ``p`` a number, ``inf``, ``-inf``, 0
    (the count of nonzeros) or ``'fro'`` (2); ``'nuc'``: the nuclear norm over a pair of dims (all of a 2-D input)."""
    x = float_operand(input, "norm")
    if dtype is not None:
        x = x.to(dtype)
    if p == "nuc":
        dims = tuple(range(x._data.ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) != 2:
            raise ArgumentError(f"norm: p='nuc' needs two dims (a matrix), got dim={dims} on shape {x._data.shape}")
        from .linalg_extra import matrix_norm
        return matrix_norm(x, "nuc", dims, keepdim)
    if isinstance(p, str):
        if p not in _NORM_P:
            raise ArgumentError(f"norm: p must be a number, inf, -inf, 'fro' or 'nuc', got {p!r}")
        p = _NORM_P[p]
    if p is None:
        p = 2.0
    p = float(p)
    dims = normalize_dims(dim, x._data.ndim, "norm", empty_is_all=True)
    return VectorNorm.apply(x, p, dims, keepdim)


def dist(input, other, p=2) -> Tensor:
    """``norm(input - other, p)`` over all elements (the two broadcast)."""
    a, b = float_operand(input, "dist"), float_operand(other, "dist")
    _check_broadcast("dist", a, b)
    return norm(sub(a, b), p)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``, as PyTorch's (``var_mean(x, True)``: a bool second is ``unbiased``)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``, as PyTorch's (``std_mean(x, True)``: a bool second is ``unbiased``)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` (None: all elements); gradients shared among ties, as amin/amax."""
    return return_types.aminmax(amin(input, dim, keepdim), amax(input, dim, keepdim))
