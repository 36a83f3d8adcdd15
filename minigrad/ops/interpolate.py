"""Resampling: ``F.interpolate`` on (N, C, L), (N, C, H, W) and (N, C, D, H, W) inputs, in the
modes nearest, nearest-exact, linear / bilinear / trilinear, bicubic and area.

Every mode is separable: along each spatial axis, output index o is a fixed weighted sum of
a few input entries (K "taps"),

    y[o] = sum_k w[k, o] x[i[k, o]]          (nearest: K = 1, w = 1;  linear: K = 2;  cubic: K = 4;
                                              area: K = the widest averaging window)

so the op is a gather per axis (D, H, then W) and its backward the adjoint, a scatter-add per
axis in reverse order with the same weights:

    dx[i[k, o]] += w[k, o] dy[o]              (kernels/scatter.py)

The source indices follow PyTorch exactly (its float arithmetic included), so that a
network ported either way computes the same pixels:

    nearest        i = min(floor(o s), in - 1)                       s = in / out, or 1 / scale_factor
    nearest-exact  i = min(floor((o + 1/2) s), in - 1)
    linear         src = max((o + 1/2) s - 1/2, 0), or o (in - 1)/(out - 1) with align_corners;
                   i0 = floor(src), i1 = min(i0 + 1, in - 1), w1 = src - i0, w0 = 1 - w1
    cubic          src = (o + 1/2) s - 1/2 (not clamped), or o (in - 1)/(out - 1); i = floor(src),
                   t = src - i; taps i-1, i, i+1, i+2 (clamped into the input) weighted by Keys'
                   cubic convolution with a = -0.75 at distances t+1, t, 1-t, 2-t:
                   W(d) = (a+2) d^3 - (a+3) d^2 + 1 for d <= 1,  a d^3 - 5a d^2 + 8a d - 4a for 1 < d < 2
    area           adaptive average pooling: o averages [floor(o in / out), ceil((o + 1) in / out))

Both directions are ops (``Resample`` and ``ResampleAdjoint``), each the other's gradient,
so gradients of resampling can be differentiated again.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import float_operand
from ._kernels import kernels

__all__ = ["interpolate", "upsample"]

_LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}
_MODES = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "area": (3, 4, 5), "bicubic": (4,),
          **{name: (rank,) for rank, name in _LINEAR.items()}}
_CUBIC_A = -0.75                     # PyTorch's (and OpenCV's) sharpness of the cubic kernel


def axis_plan(mode, size_in, size_out, scale_factor, align_corners, dtype):
    """(i, w) for one axis: NumPy arrays of shape (K, size_out), w None for the nearest modes."""
    out = np.arange(size_out)
    if mode in ("nearest", "nearest-exact"):
        # PyTorch computes the nearest source index in float32, whatever the tensor's dtype
        scale = np.float32(1.0 / scale_factor) if scale_factor else np.float32(size_in) / np.float32(size_out)
        centre = out.astype(np.float32) + np.float32(0.5) if mode == "nearest-exact" else out.astype(np.float32)
        return np.minimum(np.floor(centre * scale).astype(np.int64), size_in - 1)[None], None
    if mode == "area":
        start = (out * size_in) // size_out
        stop = -((-(out + 1) * size_in) // size_out)
        taps = np.arange(int((stop - start).max()))[:, None]
        inside = start + taps < stop
        return np.where(inside, start + taps, start), (inside / (stop - start)).astype(dtype)
    acc = np.float32 if dtype == np.float32 else np.float64     # PyTorch's accumulation type
    if align_corners:
        scale = acc((size_in - 1) / (size_out - 1)) if size_out > 1 else acc(0)
        src = out.astype(acc) * scale
    else:
        scale = acc(1.0 / scale_factor if scale_factor else size_in / size_out)
        src = (out.astype(acc) + acc(0.5)) * scale - acc(0.5)
        if mode == "cubic":
            return _cubic_taps(src, size_in, acc, dtype)
        src = np.maximum(src, acc(0))
    if mode == "cubic":
        return _cubic_taps(src, size_in, acc, dtype)
    i0 = np.minimum(src.astype(np.int64), size_in - 1)
    w1 = (src - i0).astype(dtype)
    return np.stack([i0, np.minimum(i0 + 1, size_in - 1)]), np.stack([1 - w1, w1]).astype(dtype)


def _cubic_taps(src, size_in, acc, dtype):
    """Four taps around each source coordinate, Keys' weights (see the module docstring)."""
    a = acc(_CUBIC_A)
    start = np.floor(src)
    t = src - start

    def near(d):                                     # |d| <= 1
        return ((a + acc(2)) * d - (a + acc(3))) * d * d + acc(1)

    def far(d):                                      # 1 < |d| < 2
        return ((a * d - acc(5) * a) * d + acc(8) * a) * d - acc(4) * a

    weights = np.stack([far(t + acc(1)), near(t), near(acc(1) - t), far(acc(2) - t)])
    index = np.clip(start.astype(np.int64) + np.arange(-1, 3)[:, None], 0, size_in - 1)
    return index, weights.astype(dtype)


def _along(weights, axis, ndim):
    """Weights shaped to broadcast along ``axis`` of an ndim-D array."""
    return weights.reshape([-1 if d == axis else 1 for d in range(ndim)])


class Resample(Function):
    """y = the per-axis gathers sum_k w[k] x[i[k]]; dx = their adjoint scatter-adds, in reverse order."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, plans):
        xp = backend.xp_of(x)
        ctx.plans, ctx.shape = plans, x.shape
        y = x
        for axis, index, weight in _on_device(plans, xp):
            if weight is None:
                y = xp.take(y, index[0], axis=axis)
                continue
            taps = zip(index, weight)
            i, w = next(taps)
            out = xp.take(y, i, axis=axis) * _along(w, axis, y.ndim)
            for i, w in taps:
                out += xp.take(y, i, axis=axis) * _along(w, axis, y.ndim)
            y = out
        return xp.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, g):
        return ResampleAdjoint.run(g, ctx.plans, ctx.shape)


class ResampleAdjoint(Function):
    """Resample's backward as an op: per axis, in reverse order, the scatter-adds
    dx[i[k, o]] += w[k, o] g[o]; linear, its gradient is Resample."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, plans, shape):
        xp = backend.xp_of(g)
        ctx.plans = plans
        on_device = _on_device(plans, xp)
        shapes = [shape]                      # the input shape before each axis' gather
        for axis, index, _ in on_device[:-1]:
            shapes.append(shapes[-1][:axis] + (index.shape[1],) + shapes[-1][axis + 1:])
        for (axis, index, weight), before in zip(reversed(on_device), reversed(shapes)):
            rows = xp.ascontiguousarray(xp.moveaxis(g, axis, 0)).reshape(g.shape[axis], -1)   # (out, rest)
            dx = xp.zeros((before[axis], rows.shape[1]), dtype=g.dtype)
            for k in range(index.shape[0]):
                kernels("scatter").index_add_rows(dx, index[k], rows if weight is None else rows * weight[k][:, None])
            moved = before[axis:axis + 1] + before[:axis] + before[axis + 1:]
            g = xp.moveaxis(dx.reshape(moved), 0, axis)
        return xp.ascontiguousarray(g)

    @staticmethod
    def backward(ctx, gg):
        return Resample.run(gg, ctx.plans)


def _on_device(plans, xp):
    """(axis, i, w) per axis, the arrays on the device of xp."""
    return [(axis, xp.asarray(index), None if weight is None else xp.asarray(weight))
            for axis, (index, weight) in plans]


def _output_size(opname, spatial, size, scale_factor):
    n = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ArgumentError(f"{opname}: give exactly one of size and scale_factor, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * n
        if len(sizes) != n or any(int(s) != s or s < 1 for s in sizes):
            raise ArgumentError(f"{opname}: size must be a positive int or {n} of them for an input with {n} "
                             f"spatial dims, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * n
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * n
    if len(scales) != n or any(not s > 0 for s in scales):
        raise ArgumentError(f"{opname}: scale_factor must be positive, one or {n} of them, got {scale_factor!r}")
    sizes = tuple(int(math.floor(d * float(s))) for d, s in zip(spatial, scales))
    if min(sizes) < 1:
        raise ArgumentError(f"{opname}: scale_factor {scale_factor!r} makes an empty output from spatial size {spatial}")
    return sizes, tuple(float(s) for s in scales)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False) -> Tensor:
    """PyTorch's ``F.interpolate`` for 3-D (N, C, L), 4-D (N, C, H, W) and 5-D (N, C, D, H, W)
    inputs in the modes nearest, nearest-exact, area, and linear (3-D), bilinear or bicubic (4-D)
    or trilinear (5-D)."""
    x = float_operand(input, "interpolate")
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; minigrad has "
                                  f"{', '.join(_MODES)}")
    if x._data.ndim not in _MODES[mode]:
        raise ArgumentError(f"interpolate: mode {mode!r} needs a {' or '.join(f'{d}-D' for d in _MODES[mode])} input, "
                         f"got shape {x._data.shape}")
    if align_corners is not None and mode not in (*_LINEAR.values(), "bicubic"):
        raise ArgumentError("interpolate: align_corners can only be set with the interpolating modes linear, "
                         f"bilinear, bicubic and trilinear, not {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    spatial = x._data.shape[2:]
    sizes, scales = _output_size("interpolate", spatial, size, scale_factor)
    if recompute_scale_factor or mode == "area":
        scales = (None,) * len(sizes)            # the index arithmetic then uses in / out
    kind = "linear" if mode in _LINEAR.values() else "cubic" if mode == "bicubic" else mode
    dtype = x._data.dtype
    plans = [(2 + k, axis_plan(kind, d_in, d_out, s, bool(align_corners), dtype))
             for k, (d_in, d_out, s) in enumerate(zip(spatial, sizes, scales))]
    return Resample.apply(x, plans)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None) -> Tensor:
    """PyTorch's deprecated ``F.upsample``: ``F.interpolate`` under its old name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None) -> Tensor:
    """PyTorch's deprecated ``F.upsample_nearest``: nearest-neighbour ``F.interpolate``."""
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None) -> Tensor:
    """PyTorch's deprecated ``F.upsample_bilinear``: bilinear ``F.interpolate`` with the corners
    aligned (as the old function did)."""
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)
