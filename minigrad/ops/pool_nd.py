"""Pooling over any number of spatial dims: the 1-D and 3-D pools, lp pooling, max unpooling.

Every pool here reads windows through one *plan* per spatial dim: for output position o the
window's input positions ``pos[o, j]`` (j < K) and whether each lies inside the input.  A
fixed pool has ``pos[o, j] = o s - p + j d``; an adaptive one covers
``[floor(o S / O), ceil((o + 1) S / O))`` (K its longest window, shorter ones masked).  The plans
combine into ``flat`` (O1..On, K1..Kn): each window element's flat index into the S1..Sn plane,
so that one ``take`` gathers every window of every (N, C) plane:

    max:  out = max over the valid window elements, idx = its flat index (PyTorch's indices)
          dx  = g scattered to idx (``ScatterFlat``), whose gradient is the gather at idx
    avg:  out = sum_j x[flat[o, j]] w[o, j], w = valid / divisor  (linear: ``WindowSum``)
          dx  = g[o] w[o, j] scattered to flat[o, j] (``WindowSpread``), whose gradient is WindowSum

Each backward is the other Function of its pair called through ``run``, so the same line works
on arrays and, under ``create_graph``, records a graph.  Integer inputs keep their dtype in max
pooling (as PyTorch); they never require grad.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, float_operand, with_unit_batch
from .pool import pool_output_size

__all__ = ["max_pool1d", "max_pool3d", "avg_pool1d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d"]


# ----------------------------------------------------------------------------- window plans
class Windows:
    """The windows of one pooling over spatial sizes ``sizes``: ``flat`` (O..., K) indices into the
    flattened plane, ``valid`` (O..., K) and, for averages, ``weights`` (O..., K)."""

    def __init__(self, sizes, plans):
        nd = len(plans)
        flat, valid = 0, True
        for d, (pos, ok) in enumerate(plans):
            shape = [1] * (2 * nd)
            shape[d], shape[nd + d] = pos.shape
            flat = flat + (np.clip(pos, 0, sizes[d] - 1) * math.prod(sizes[d + 1:])).reshape(shape)
            valid = valid & ok.reshape(shape)
        self.sizes = tuple(sizes)
        self.out = tuple(pos.shape[0] for pos, _ in plans)
        self.flat = np.ascontiguousarray(flat.reshape(*self.out, -1), dtype=np.int64)
        self.valid = np.ascontiguousarray(valid.reshape(*self.out, -1))
        self.weights = None
        self._on = {}

    def on(self, xp, name):
        """``flat``, ``valid`` or ``weights`` on the device of ``xp`` (copied once)."""
        if xp is np:
            return getattr(self, name)
        if name not in self._on:
            self._on[name] = xp.asarray(getattr(self, name))
        return self._on[name]


def _fixed_plan(size, k, s, p, d, out):
    pos = np.arange(out)[:, None] * s - p + np.arange(k)[None, :] * d
    return pos, (pos >= 0) & (pos < size)


def _adaptive_plan(size, out):
    starts = np.arange(out) * size // out
    ends = -(-(np.arange(out) + 1) * size // out)
    pos = starts[:, None] + np.arange(int((ends - starts).max()))[None, :]
    return pos, pos < ends[:, None]


def _gather(x, win):
    """(N, C, S...) -> (N, C, O..., K): every window's elements (clipped where invalid)."""
    xp = backend.xp_of(x)
    n, c = x.shape[:2]
    return xp.take(x.reshape(n, c, -1), win.on(xp, "flat"), axis=2)


def _scatter(values, index, n, c, size):
    """(N, C, P) values added at flat positions ``index`` (N, C, P) or (P,) of (N, C, size) planes;
    negative indices are skipped."""
    xp = backend.xp_of(values)
    index = xp.broadcast_to(index, values.shape)
    keep = index >= 0
    rows = xp.arange(n * c).reshape(n, c, 1) * size
    ids = xp.where(keep, index + rows, 0).ravel()
    weights = xp.where(keep, values, 0).ravel()
    return xp.bincount(ids, weights=weights, minlength=n * c * size).astype(values.dtype, copy=False)


# ----------------------------------------------------------------------------- max
class MaxPoolNd(Function):
    """out = max over each window's valid elements, idx = its flat index;  dx = g scattered to idx"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, win):
        xp = backend.xp_of(x)
        vals = _gather(x, win)
        low = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        valid = win.on(xp, "valid")
        vals = xp.where(valid, vals, xp.asarray(low, dtype=x.dtype))
        arg = vals.argmax(axis=-1)[..., None]
        out = xp.take_along_axis(vals, arg, axis=-1)[..., 0]
        flat = xp.broadcast_to(win.on(xp, "flat"), vals.shape)
        idx = xp.take_along_axis(flat, arg, axis=-1)[..., 0]
        idx = xp.where(valid.any(axis=-1), idx, -1)          # a window wholly in the padding
        ctx.shape, ctx.idx = x.shape, idx
        return out, idx

    @staticmethod
    def backward(ctx, g, g_idx=None):
        return ScatterFlat.run(g, ctx.idx, ctx.shape)


class ScatterFlat(Function):
    """dx (shape) = zeros, then dx[n, c].flat[idx[n, c, ...]] += g[n, c, ...] (idx -1 skipped);
    d = gg gathered at idx (GatherFlat)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, idx, shape):
        ctx.idx = idx
        n, c = shape[:2]
        return _scatter(g.reshape(n, c, -1), idx.reshape(n, c, -1), n, c, math.prod(shape[2:])).reshape(shape)

    @staticmethod
    def backward(ctx, gg):
        return GatherFlat.run(gg, ctx.idx)


class GatherFlat(Function):
    """y[n, c, ...] = x[n, c].flat[idx[n, c, ...]] (0 where idx is -1);  d = ScatterFlat."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, idx):
        xp = backend.xp_of(x)
        n, c = x.shape[:2]
        ctx.idx, ctx.shape = idx, x.shape
        flat = idx.reshape(n, c, -1)
        picked = xp.take_along_axis(x.reshape(n, c, -1), xp.maximum(flat, 0), axis=2)
        return xp.where(flat >= 0, picked, 0).astype(x.dtype, copy=False).reshape(idx.shape)

    @staticmethod
    def backward(ctx, g):
        return ScatterFlat.run(g, ctx.idx, ctx.shape)


class MaxUnpool(Function):
    """y (shape) = zeros, then y[n, c].flat[idx] = x (PyTorch's max_unpool: an assignment);
    dx = g gathered at idx (GatherFlat), as PyTorch."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, idx, shape):
        xp = backend.xp_of(x)
        n, c = shape[:2]
        ctx.idx = idx
        out = xp.zeros((n * c, math.prod(shape[2:])), dtype=x.dtype)
        out[xp.arange(n * c)[:, None], idx.reshape(n * c, -1)] = x.reshape(n * c, -1)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return GatherFlat.run(g, ctx.idx)


# ----------------------------------------------------------------------------- average
class WindowSum(Function):
    """y[n, c, o] = sum_j x[n, c].flat[flat[o, j]] w[o, j];  d = WindowSpread (its adjoint)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, win):
        xp = backend.xp_of(x)
        ctx.win, ctx.shape = win, x.shape
        return (_gather(x, win) * win.on(xp, "weights").astype(x.dtype, copy=False)).sum(axis=-1)

    @staticmethod
    def backward(ctx, g):
        return WindowSpread.run(g, ctx.win, ctx.shape)


class WindowSpread(Function):
    """dx[n, c].flat[flat[o, j]] += g[n, c, o] w[o, j];  d = WindowSum"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, win, shape):
        xp = backend.xp_of(g)
        ctx.win = win
        n, c = shape[:2]
        values = (g[..., None] * win.on(xp, "weights").astype(g.dtype, copy=False)).reshape(n, c, -1)
        index = win.on(xp, "flat").ravel()
        return _scatter(values, index, n, c, math.prod(shape[2:])).reshape(shape)

    @staticmethod
    def backward(ctx, gg):
        return WindowSum.run(gg, ctx.win)


# ----------------------------------------------------------------------------- argument handling
def _tuple(v, nd, name, opname):
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            v = tuple(v) * nd
        if len(v) != nd or not all(isinstance(a, (int, np.integer)) for a in v):
            raise ArgumentError(f"{opname}: {name} must be an int or {nd} ints, got {v!r}")
        return tuple(int(a) for a in v)
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
        raise ArgumentError(f"{opname}: {name} must be an int or {nd} ints, got {v!r}")
    return (int(v),) * nd


def _operand(opname, input, nd, keep_int=False):
    x = as_tensor(input, opname)
    if x._data.dtype.kind == "b" or not keep_int:
        x = float_operand(x, opname)
    if x._data.ndim not in (nd + 1, nd + 2):
        names = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
        raise ArgumentError(f"{opname}: expected a {nd + 1}-D (C, {names}) or {nd + 2}-D (N, C, {names}) input, "
                         f"got shape {x._data.shape}")
    return x


def _batched(fn, x, nd):
    """Run ``fn`` on (N, C, ...) inputs; an unbatched (C, ...) input gets and loses a unit batch."""
    return fn(x) if x._data.ndim == nd + 2 else with_unit_batch(fn, x)


def _fixed_windows(opname, x, nd, kernel_size, stride, padding, dilation, ceil_mode):
    k = _tuple(kernel_size, nd, "kernel_size", opname)
    s = k if stride is None or stride == () or stride == [] else _tuple(stride, nd, "stride", opname)
    p, d = _tuple(padding, nd, "padding", opname), _tuple(dilation, nd, "dilation", opname)
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ArgumentError(f"{opname}: kernel {k}, stride {s}, dilation {d} must be >= 1 and padding {p} >= 0")
    if any(pp > kk // 2 for pp, kk in zip(p, k)):
        raise ArgumentError(f"{opname}: padding {p} must be at most half the kernel size {k}")
    sizes = x._data.shape[-nd:]
    out = tuple(pool_output_size(size, *args, bool(ceil_mode)) for size, *args in zip(sizes, k, s, p, d))
    if min(out) < 1:
        raise ArgumentError(f"{opname}: input of spatial size {tuple(sizes)} is too small for kernel {k} "
                         f"(dilation {d}, padding {p}, stride {s})")
    plans = [_fixed_plan(*args) for args in zip(sizes, k, s, p, d, out)]
    return Windows(sizes, plans), (k, s, p)


def _max_pool(opname, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x = _operand(opname, input, nd, keep_int=True)
    win, _ = _fixed_windows(opname, x, nd, kernel_size, stride, padding, dilation, ceil_mode)
    out = _batched(lambda t: MaxPoolNd.apply(t, win), x, nd)
    return out if return_indices else out[0]


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """PyTorch's ``F.max_pool1d`` over (N, C, L) or (C, L); indices into L."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """PyTorch's ``F.max_pool3d`` over (N, C, D, H, W) or (C, D, H, W); flat indices into D*H*W."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool_nd_int(opname, input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """Max pooling of an integer tensor (no gradient; the dtype kept, as PyTorch): for max_pool2d."""
    return _max_pool(opname, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(opname, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x = _operand(opname, input, nd)
    win, (k, s, p) = _fixed_windows(opname, x, nd, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)) \
                or divisor_override <= 0:
            raise ArgumentError(f"{opname}: divisor_override must be a positive int, got {divisor_override!r}")
        divisor = np.full(win.out, float(divisor_override))
    else:
        divisor = 1.0
        for dd, (size, kk, ss, pp, o) in enumerate(zip(win.sizes, k, s, p, win.out)):
            start = np.arange(o) * ss - pp
            if count_include_pad:       # padding inside [-p, size + p) counts, beyond it not (ceil_mode)
                count = np.minimum(start + kk, size + pp) - start
            else:
                count = np.minimum(start + kk, size) - np.maximum(start, 0)
            shape = [1] * nd
            shape[dd] = o
            divisor = divisor * count.reshape(shape)
    win.weights = win.valid / divisor[..., None]
    return _batched(lambda t: WindowSum.apply(t, win), x, nd)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """PyTorch's ``F.avg_pool1d`` over (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """PyTorch's ``F.avg_pool3d`` over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ----------------------------------------------------------------------------- adaptive
def _adaptive_windows(opname, x, nd, output_size):
    sizes = x._data.shape[-nd:]
    size = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * nd
    if len(size) != nd:
        raise ArgumentError(f"{opname}: output_size must be an int or {nd} values, got {output_size!r}")
    size = tuple(sizes[i] if v is None else int(v) for i, v in enumerate(size))
    if min(size) < 1:
        raise ArgumentError(f"{opname}: output_size must be positive, got {output_size!r}")
    if min(sizes) < 1:
        raise ArgumentError(f"{opname}: input of shape {x._data.shape} has an empty spatial dim")
    return Windows(sizes, [_adaptive_plan(s, o) for s, o in zip(sizes, size)])


def _adaptive_avg(opname, nd, input, output_size):
    x = _operand(opname, input, nd)
    win = _adaptive_windows(opname, x, nd, output_size)
    win.weights = win.valid / win.valid.sum(axis=-1, keepdims=True)
    return _batched(lambda t: WindowSum.apply(t, win), x, nd)


def _adaptive_max(opname, nd, input, output_size, return_indices):
    x = _operand(opname, input, nd)
    win = _adaptive_windows(opname, x, nd, output_size)
    out = _batched(lambda t: MaxPoolNd.apply(t, win), x, nd)
    return out if return_indices else out[0]


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """PyTorch's ``F.adaptive_avg_pool1d``: window o covers [floor(o L / O), ceil((o + 1) L / O))."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """PyTorch's ``F.adaptive_avg_pool3d`` (``None`` in output_size keeps that dim's size)."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """PyTorch's ``F.adaptive_max_pool1d``; indices into L."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """PyTorch's ``F.adaptive_max_pool3d``; flat indices into D*H*W."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# ----------------------------------------------------------------------------- power-average
def _lp_pool(opname, nd, avg, input, norm_type, kernel_size, stride, ceil_mode):
    """(sum over the window of x^p)^(1/p), as PyTorch: (avg_pool(x^p) * window size)^(1/p), a
    composite of differentiable ops (PyTorch's sign(a) * relu(|a|) is a itself)."""
    x = _operand(opname, input, nd)
    k = _tuple(kernel_size, nd, "kernel_size", opname)
    p = float(norm_type)
    if p == 0:
        raise ArgumentError(f"{opname}: norm_type must be nonzero, got {norm_type!r}")
    return _batched(lambda t: (avg(t ** p, k, stride, 0, ceil_mode) * math.prod(k)) ** (1.0 / p), x, nd)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """PyTorch's ``F.lp_pool1d``."""
    return _lp_pool("lp_pool1d", 1, avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """PyTorch's ``F.lp_pool2d``."""
    from .pool import avg_pool2d
    return _lp_pool("lp_pool2d", 2, avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """PyTorch's ``F.lp_pool3d``."""
    return _lp_pool("lp_pool3d", 3, avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode)


# ----------------------------------------------------------------------------- unpooling
def _max_unpool(opname, nd, input, indices, kernel_size, stride, padding, output_size):
    x = _operand(opname, input, nd)
    idx = as_tensor(indices, opname)
    if idx._data.dtype.kind not in "iu":
        raise TypeError(f"{opname}: indices must be an integer tensor, got {idx._data.dtype}")
    if idx._data.shape != x._data.shape:
        raise ArgumentError(f"{opname}: indices of shape {idx._data.shape} must match the input's {x._data.shape}")
    k = _tuple(kernel_size, nd, "kernel_size", opname)
    s = k if stride is None else _tuple(stride, nd, "stride", opname)
    p = _tuple(padding, nd, "padding", opname)
    sizes = x._data.shape[-nd:]
    default = tuple((i - 1) * ss - 2 * pp + kk for i, ss, pp, kk in zip(sizes, s, p, k))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)[-nd:]
        if len(out) != nd or any(not (dd - ss <= o <= dd + ss) for o, dd, ss in zip(out, default, s)):
            raise ArgumentError(f"{opname}: output_size {tuple(output_size)} must be within a stride {s} of the "
                             f"default size {default}")
    plane = math.prod(out)
    values = idx._data
    if values.size and (int(values.min()) < 0 or int(values.max()) >= plane):
        raise ArgumentError(f"{opname}: indices must lie in [0, {plane}) for the output size {out}, got "
                         f"[{int(values.min())}, {int(values.max())}]")
    lead = x._data.shape[:-nd]
    if x._data.ndim == nd + 1:
        return MaxUnpool.apply(x.unsqueeze(0), values[None].astype(np.int64, copy=False),
                               (1, *lead, *out)).squeeze(0)
    return MaxUnpool.apply(x, values.astype(np.int64, copy=False), (*lead, *out))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """PyTorch's ``F.max_unpool1d``: the inverse of max_pool1d, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """PyTorch's ``F.max_unpool2d``: the inverse of max_pool2d, zeros elsewhere."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """PyTorch's ``F.max_unpool3d``: the inverse of max_pool3d, zeros elsewhere."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
