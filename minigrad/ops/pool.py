"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d, and dropout2d.

Shapes: x (N, C, H, W) -> (N, C, OH, OW) with, per spatial dim,

    OH = floor_or_ceil((H + 2 p - d (k - 1) - 1) / s) + 1
    (ceil_mode: the last window must still start inside the input or its left padding)

    max:      dx = g routed to the argmax of each window (kernels/pool.py; ties go to one element)
    avg:      dx = g / divisor spread over each window
    adaptive: window i covers [floor(i H / OH), ceil((i + 1) H / OH)), then as above

Each backward is an op of its own, linear in the gradient: max pooling's is a scatter of g to
the argmax positions (``ScatterPlanes``), whose own gradient is the gather at the same
positions (``GatherPlanes``); average pooling's is spreading g over the windows, whose gradient
is the average pooling again.  Called through ``run``, they work on arrays in the ordinary pass
and record a graph under ``create_graph``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, float_operand, refuse_float16, with_unit_batch
from ._args import pair as _pair
from .dropout import dropout
from ._kernels import kernels

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "dropout2d"]


def pool_output_size(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _geometry(opname, x, kernel_size, stride, padding, dilation, ceil_mode):
    if x._data.ndim != 4:
        raise ArgumentError(f"{opname}: expected a 4-D input (N, C, H, W), got shape {x._data.shape}")
    k = _pair(kernel_size, "kernel_size", opname)
    s = _pair(stride if stride is not None and stride != () else k, "stride", opname)
    p, d = _pair(padding, "padding", opname), _pair(dilation, "dilation", opname)
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ArgumentError(f"{opname}: kernel {k}, stride {s}, dilation {d} must be >= 1 and padding {p} >= 0")
    effective = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
    if p[0] > effective[0] // 2 or p[1] > effective[1] // 2:
        raise ArgumentError(f"{opname}: padding {p} must be at most half the (dilated) kernel size {tuple(effective)}")
    out = tuple(pool_output_size(size, *args, ceil_mode) for size, *args in zip(x._data.shape[2:], k, s, p, d))
    if min(out) < 1:
        raise ArgumentError(f"{opname}: input of spatial size {x._data.shape[2:]} is too small for kernel {k} "
                         f"(dilation {d}, padding {p})")
    return k, s, p, d, out


class MaxPool2d(Function):
    """out = max over each window; d = g routed to the saved argmax"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, k, s, p, d, out_hw):
        out, idx = kernels("pool").max_pool2d_forward(x, *k, *s, *p, *d, *out_hw)
        ctx.save_for_backward(idx)
        ctx.hw = x.shape[2:]
        return out, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        idx = _plain(ctx.saved_tensors[0])
        return ScatterPlanes.run(g, idx, ctx.hw)


class ScatterPlanes(Function):
    """dx (N, C, H, W) = zeros, then dx[n, c].flat[idx[n, c, i, j]] += g[n, c, i, j] (indices -1:
    windows that missed the input, skipped);  d = gg gathered at idx (GatherPlanes)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, idx, hw):
        ctx.idx = idx
        return kernels("pool").max_pool2d_backward(g, idx, *hw)

    @staticmethod
    def backward(ctx, gg):
        return GatherPlanes.run(gg, ctx.idx)


class GatherPlanes(Function):
    """y[n, c, i, j] = x[n, c].flat[idx[n, c, i, j]] (0 where idx is -1);  d = ScatterPlanes."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, idx):
        xp = backend.xp_of(x)
        n, c, h, w = x.shape
        ctx.idx, ctx.hw = idx, (h, w)
        flat = idx.reshape(n, c, -1)
        picked = xp.take_along_axis(x.reshape(n, c, h * w), xp.maximum(flat, 0), axis=2)
        return xp.where(flat >= 0, picked, 0).astype(x.dtype, copy=False).reshape(idx.shape)

    @staticmethod
    def backward(ctx, g):
        return ScatterPlanes.run(g, ctx.idx, ctx.hw)


def _plain(a):
    return a._data if isinstance(a, Tensor) else a


class AvgPool2d(Function):
    """out = window sum / divisor;  d = g / divisor spread back over each window (AvgPool2dAdjoint)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, k, s, p, out_hw, count_include_pad, divisor):
        ctx.args = (x.shape[2:], k, s, p, out_hw, count_include_pad, divisor)
        return kernels("pool").avg_pool2d_forward(x, *k, *s, *p, *out_hw, count_include_pad, divisor)

    @staticmethod
    def backward(ctx, g):
        return AvgPool2dAdjoint.run(g, *ctx.args)


class AvgPool2dAdjoint(Function):
    """Average pooling's backward as an op: g / divisor spread over each window; linear, its
    gradient is the average pooling of gg."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, hw, k, s, p, out_hw, count_include_pad, divisor):
        ctx.args = (k, s, p, out_hw, count_include_pad, divisor)
        return kernels("pool").avg_pool2d_backward(g, *hw, *k, *s, *p, count_include_pad, divisor)

    @staticmethod
    def backward(ctx, gg):
        return AvgPool2d.run(gg, *ctx.args)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """PyTorch's ``F.max_pool2d``; ``return_indices`` gives flat indices into each H*W plane.
    Integer tensors keep their dtype (as PyTorch), through the n-d pooling of ops/pool_nd.py.
    An unbatched (C, H, W) input pools as a batch of one."""
    x = as_tensor(input, "max_pool2d")
    if x._data.ndim == 3:
        return with_unit_batch(lambda xb: max_pool2d(xb, kernel_size, stride, padding, dilation, ceil_mode,
                                                     return_indices), x)
    if x._data.dtype.kind in "iu":
        from .pool_nd import max_pool_nd_int
        return max_pool_nd_int("max_pool2d", x, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    x = float_operand(x, "max_pool2d")
    refuse_float16("max_pool2d", x)
    k, s, p, d, out_hw = _geometry("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    out, idx = MaxPool2d.apply(x, k, s, p, d, out_hw)
    return (out, idx) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """PyTorch's ``F.avg_pool2d``, of (N, C, H, W) or unbatched (C, H, W) inputs."""
    x = float_operand(input, "avg_pool2d")
    if x._data.ndim == 3:
        return with_unit_batch(lambda xb: avg_pool2d(xb, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                                     divisor_override), x)
    refuse_float16("avg_pool2d", x)
    k, s, p, _, out_hw = _geometry("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override <= 0:
        raise ArgumentError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
    return AvgPool2d.apply(x, k, s, p, out_hw, bool(count_include_pad), int(divisor_override or 0))


# ----------------------------------------------------------------------------- adaptive pooling
def _adaptive_bounds(size, out):
    return [(math.floor(i * size / out), math.ceil((i + 1) * size / out)) for i in range(out)]


class AdaptivePool2d(Function):
    """Windows [floor(i H / OH), ceil((i+1) H / OH)); average or max (routing to the argmax)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, out_hw, kind):
        xp = backend.xp_of(x)
        n, c, h, w = x.shape
        oh, ow = out_hw
        ctx.shape, ctx.kind = x.shape, kind
        if h % oh == 0 and w % ow == 0:          # regular windows: one reshape, one reduction
            blocks = x.reshape(n, c, oh, h // oh, ow, w // ow)
            if kind == "avg":
                return blocks.mean(axis=(3, 5))
            flat = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, -1)
            arg = flat.argmax(axis=-1)
            bi, bj = arg // (w // ow), arg % (w // ow)
            rows = xp.arange(oh).reshape(1, 1, oh, 1) * (h // oh) + bi
            cols = xp.arange(ow).reshape(1, 1, 1, ow) * (w // ow) + bj
            idx = rows * w + cols
            ctx.save_for_backward(idx)
            return xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0], idx
        out = xp.empty((n, c, oh, ow), dtype=x.dtype)
        idx = xp.empty((n, c, oh, ow), dtype=np.int64) if kind == "max" else None
        for a, (h0, h1) in enumerate(_adaptive_bounds(h, oh)):
            for b, (w0, w1) in enumerate(_adaptive_bounds(w, ow)):
                window = x[:, :, h0:h1, w0:w1]
                if kind == "avg":
                    out[:, :, a, b] = window.mean(axis=(2, 3))
                else:
                    arg = window.reshape(n, c, -1).argmax(axis=-1)
                    out[:, :, a, b] = xp.take_along_axis(window.reshape(n, c, -1), arg[..., None], axis=-1)[..., 0]
                    idx[:, :, a, b] = (h0 + arg // (w1 - w0)) * w + w0 + arg % (w1 - w0)
        if kind == "avg":
            return out
        ctx.save_for_backward(idx)
        return out, idx

    @staticmethod
    def backward(ctx, g, g_idx=None):
        if ctx.kind == "max":
            return ScatterPlanes.run(g, _plain(ctx.saved_tensors[0]), ctx.shape[2:])
        return AdaptiveAvgAdjoint.run(g, ctx.shape)


class AdaptiveAvgAdjoint(Function):
    """Adaptive average pooling's backward as an op: each g / window size spread over its
    window; linear, its gradient is the adaptive average pooling of gg."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, shape):
        xp = backend.xp_of(g)
        n, c, h, w = shape
        oh, ow = g.shape[2:]
        ctx.out_hw = (oh, ow)
        if h % oh == 0 and w % ow == 0:
            share = g / ((h // oh) * (w // ow))
            return xp.ascontiguousarray(xp.broadcast_to(share.reshape(n, c, oh, 1, ow, 1),
                                                        (n, c, oh, h // oh, ow, w // ow))).reshape(shape)
        dx = xp.zeros(shape, dtype=g.dtype)
        for a, (h0, h1) in enumerate(_adaptive_bounds(h, oh)):
            for b, (w0, w1) in enumerate(_adaptive_bounds(w, ow)):
                dx[:, :, h0:h1, w0:w1] += (g[:, :, a, b] / ((h1 - h0) * (w1 - w0)))[:, :, None, None]
        return dx

    @staticmethod
    def backward(ctx, gg):
        return AdaptivePool2d.run(gg, ctx.out_hw, "avg")


def _adaptive_args(opname, input, output_size):
    x = float_operand(input, opname)
    if x._data.ndim != 4:
        raise ArgumentError(f"{opname}: expected a 4-D input (N, C, H, W), got shape {x._data.shape}")
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    size = tuple(x._data.shape[2 + i] if v is None else int(v) for i, v in enumerate(size))
    if len(size) != 2 or min(size) < 1:
        raise ArgumentError(f"{opname}: output_size must be positive, got {output_size}")
    return x, size


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """PyTorch's ``F.adaptive_avg_pool2d``, of (N, C, H, W) or unbatched (C, H, W) inputs."""
    x = as_tensor(input, "adaptive_avg_pool2d")
    if x._data.ndim == 3:
        return with_unit_batch(lambda xb: adaptive_avg_pool2d(xb, output_size), x)
    x, size = _adaptive_args("adaptive_avg_pool2d", x, output_size)
    return AdaptivePool2d.apply(x, size, "avg")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """PyTorch's ``F.adaptive_max_pool2d``, of (N, C, H, W) or unbatched (C, H, W) inputs."""
    x = as_tensor(input, "adaptive_max_pool2d")
    if x._data.ndim == 3:
        return with_unit_batch(lambda xb: adaptive_max_pool2d(xb, output_size, return_indices), x)
    x, size = _adaptive_args("adaptive_max_pool2d", x, output_size)
    refuse_float16("adaptive_max_pool2d", x)         # its backward is max pooling's kernel
    out, idx = AdaptivePool2d.apply(x, size, "max")
    return (out, idx) if return_indices else out


def dropout2d(input, p=0.5, training=True, inplace=False, *, generator=None) -> Tensor:
    """Zero whole channels: one keep/drop decision per (N, C) for (N, C, H, W) inputs."""
    x = float_operand(input, "dropout2d")
    if x._data.ndim not in (3, 4):
        raise ArgumentError(f"dropout2d: expected a 3-D or 4-D input, got shape {x._data.shape}")
    mask_shape = x._data.shape[:-2] + (1, 1)
    return dropout(x, p, training, inplace, generator=generator, mask_shape=mask_shape)
