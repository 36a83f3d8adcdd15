"""Convolution over any number of spatial dims: conv3d, conv_transpose1d, conv_transpose3d.

Shapes (as PyTorch): x (N, C, S1..Sn), weight (O, C/g, K1..Kn), g groups, output (N, O, O1..On).
The zero-padded input's windows are a strided view v (N, C, O1..On, K1..Kn) (no copy: position
o_i steps by the stride, kernel element k_i by the dilation), and per group the three products
are tensor contractions (BLAS, through ``tensordot``'s one copy of the windows, an im2col):

    forward      y[n, o, pos]   = sum_{c, k} W[o, c, k] v[n, c, pos, k]           (+ bias)
    input grad   dcols[n, pos, c, k] = sum_o dy[n, o, pos] W[o, c, k]; dx = the sum of dcols
                 over the windows that overlap each input element (one strided add per kernel
                 element k, then the padding cropped): the transposed convolution
    weight grad  dW[o, c, k]    = sum_{n, pos} dy[n, o, pos] v[n, c, pos, k]      (correlation of x and dy)
    bias grad    db[o]          = sum of dy over n and pos

Padding is a (before, after) pair per dim, so padding='same' with an even kernel needs no extra
pad op.  The batch goes through in chunks whose windows stay under ``CHUNK_BYTES``.

Second order: the three products are three Functions (ConvNd, ConvTransposeNd and ConvNdWeight),
and each one's gradients are the other two, called through ``run`` (on arrays in the ordinary
pass, recording a graph under ``create_graph``).  conv_transpose is conv's input gradient as an
op, so its backward is conv's forward and weight gradient.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, float_operand, refuse_float16

__all__ = ["conv3d", "conv_transpose1d", "conv_transpose3d"]

# bytes of window copies (the im2col) per chunk of the batch
CHUNK_BYTES = 32 << 20


def _chunks(n, per_sample):
    step = max(1, CHUNK_BYTES // max(per_sample, 1))
    return [(a, min(n, a + step)) for a in range(0, n, step)]


def _padded(x, pads):
    if not any(lo or hi for lo, hi in pads):
        return x
    xp = backend.xp_of(x)
    out = xp.zeros(x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads)), dtype=x.dtype)
    out[(slice(None), slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pads)))] = x
    return out


def _out_size(size, k, s, pad, d):
    return (size + pad[0] + pad[1] - d * (k - 1) - 1) // s + 1


def _windows(xpad, kernel, stride, dilation, out):
    """The strided view (N, C, O1..On, K1..Kn) of the padded input's windows."""
    xp = backend.xp_of(xpad)
    st = xpad.strides
    nd = len(kernel)
    strides = (st[:2] + tuple(st[2 + i] * stride[i] for i in range(nd))
               + tuple(st[2 + i] * dilation[i] for i in range(nd)))
    return xp.lib.stride_tricks.as_strided(xpad, xpad.shape[:2] + tuple(out) + tuple(kernel), strides)


def _groups(total, groups):
    per = total // groups
    return [slice(g * per, (g + 1) * per) for g in range(groups)]


def _correlate(x, w, stride, pads, dilation, groups, out=None):
    """conv's forward (no bias): (N, C, S...) * (O, C/g, K...) -> (N, O, O...); ``out`` keeps only
    the first windows (conv_transpose's backward, where output_padding added positions that no
    input element reaches)."""
    xp = backend.xp_of(x)
    nd, kernel = x.ndim - 2, w.shape[2:]
    out = out or tuple(_out_size(s, *a) for s, *a in zip(x.shape[2:], kernel, stride, pads, dilation))
    y = xp.empty((x.shape[0], w.shape[0], *out), dtype=x.dtype)
    axes = ([1, *range(2, 2 + nd)], [1, *range(2 + nd, 2 + 2 * nd)])
    for a, b in _chunks(x.shape[0], x.shape[1] * math.prod(out) * math.prod(kernel) * x.itemsize):
        v = _windows(_padded(x[a:b], pads), kernel, stride, dilation, out)
        for gi, go in zip(_groups(x.shape[1], groups), _groups(w.shape[0], groups)):
            # (O/g, B, O...): the windows are copied as (C/g K..., B O...), output positions innermost
            y[a:b, go] = xp.moveaxis(xp.tensordot(w[go], v[:, gi], axes=axes), 0, 1)
    return y


def _input_grad(dy, w, in_size, stride, pads, dilation, groups):
    """conv's input gradient (conv_transpose's forward): (N, O, O...) -> (N, C, in_size...)."""
    xp = backend.xp_of(dy)
    nd, kernel, out = dy.ndim - 2, w.shape[2:], dy.shape[2:]
    n, c = dy.shape[0], w.shape[1] * groups
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(in_size, pads))
    dx = xp.empty((n, c, *in_size), dtype=dy.dtype)
    crop = (slice(None), slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(in_size, pads)))
    for a, b in _chunks(n, c * math.prod(out) * math.prod(kernel) * dy.itemsize):
        buf = xp.zeros((b - a, c, *padded), dtype=dy.dtype)
        for gi, go in zip(_groups(c, groups), _groups(w.shape[0], groups)):
            cols = xp.tensordot(w[go], dy[a:b, go], axes=([0], [1]))            # (C/g, K..., B, O...)
            for k in itertools.product(*(range(kk) for kk in kernel)):
                place = tuple(slice(ki * d, ki * d + s * (o - 1) + 1, s)
                              for ki, d, s, o in zip(k, dilation, stride, out))
                buf[(slice(None), gi, *place)] += xp.moveaxis(cols[(slice(None), *k)], 0, 1)
        dx[a:b] = buf[crop]
    return dx


def _weight_grad(x, dy, w_shape, stride, pads, dilation, groups):
    """conv's weight gradient: the correlation of x with dy summed over the batch -> w_shape."""
    xp = backend.xp_of(x)
    nd, kernel, out = x.ndim - 2, tuple(w_shape[2:]), dy.shape[2:]
    dw = xp.zeros(tuple(w_shape), dtype=x.dtype)
    axes = ([0, *range(2, 2 + nd)], [0, *range(2, 2 + nd)])
    for a, b in _chunks(x.shape[0], x.shape[1] * math.prod(out) * math.prod(kernel) * x.itemsize):
        v = _windows(_padded(x[a:b], pads), kernel, stride, dilation, out)
        for gi, go in zip(_groups(x.shape[1], groups), _groups(w_shape[0], groups)):
            # (C/g, K..., O/g): the windows copied as (C/g K..., B O...) again, as in the forward
            dw[go] += xp.moveaxis(xp.tensordot(v[:, gi], dy[a:b, go], axes=axes), -1, 0)
    return dw


def _bias_grad(g, needs):
    return g.sum((0, *range(2, g.ndim))) if len(needs) > 2 and needs[2] else None


class ConvNd(Function):
    """y = W * x + b (cross-correlation over n spatial dims); see the module docstring."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups, out_size=None):
        out = _correlate(x, weight, stride, pads, dilation, groups, out_size)
        if bias is not None:
            out += bias.reshape((1, -1) + (1,) * (x.ndim - 2))
        ctx.save_for_backward(x, weight)
        ctx.options = (stride, pads, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dx = ConvTransposeNd.run(g, weight, None, *ctx.options, tuple(x.shape[2:])) if needs[0] else None
        dw = ConvNdWeight.run(x, g, tuple(weight.shape), *ctx.options) if needs[1] else None
        return dx, dw, _bias_grad(g, needs)


class ConvTransposeNd(Function):
    """y = conv's input gradient applied to x (weight (C, O/g, K...) is the weight of the conv from
    O to C channels it transposes) + b;  dx = conv(dy, W), dW = that conv's weight gradient with dy
    as its input and x as its output gradient, db = sum of dy."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups, out_size):
        out = _input_grad(x, weight, out_size, stride, pads, dilation, groups)
        if bias is not None:
            out += bias.reshape((1, -1) + (1,) * (x.ndim - 2))
        ctx.save_for_backward(x, weight)
        ctx.options = (stride, pads, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dx = ConvNd.run(g, weight, None, *ctx.options, tuple(x.shape[2:])) if needs[0] else None
        dw = ConvNdWeight.run(g, x, tuple(weight.shape), *ctx.options) if needs[1] else None
        return dx, dw, _bias_grad(g, needs)


class ConvNdWeight(Function):
    """conv's weight gradient as an op: dW = the correlation of x with dy, summed over the batch.
    Bilinear: d x = conv_transpose(dy, gW), d dy = conv(x, gW)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dy, w_shape, stride, pads, dilation, groups):
        ctx.save_for_backward(x, dy)
        ctx.options = (stride, pads, dilation, groups)
        return _weight_grad(x, dy, w_shape, stride, pads, dilation, groups)

    @staticmethod
    def backward(ctx, g):
        x, dy = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dx = ConvTransposeNd.run(dy, g, None, *ctx.options, tuple(x.shape[2:])) if needs[0] else None
        ddy = ConvNd.run(x, g, None, *ctx.options, tuple(dy.shape[2:])) if needs[1] else None
        return dx, ddy


# ----------------------------------------------------------------------------- entry points
def _ints(v, nd, name, opname):
    if isinstance(v, (tuple, list)):
        v = tuple(v) * nd if len(v) == 1 else tuple(v)
    else:
        v = (v,) * nd
    if len(v) != nd or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in v):
        raise ArgumentError(f"{opname}: {name} must be an int or a tuple of {nd} ints, got {v!r}")
    return tuple(int(a) for a in v)


def _operands(opname, nd, input, weight, bias, groups, transposed):
    """(x batched, w, b, unbatched) after checking ranks, dtypes, groups and channels."""
    x, w = float_operand(input, opname), as_tensor(weight, opname)
    refuse_float16(opname, x, w)
    spatial = {1: "L", 3: "D, H, W"}[nd]
    if x._data.ndim not in (nd + 1, nd + 2):
        raise ArgumentError(f"{opname}: expected a {nd + 1}-D (C, {spatial}) or {nd + 2}-D (N, C, {spatial}) input, "
                         f"got shape {x._data.shape}")
    if w._data.ndim != nd + 2:
        raise ArgumentError(f"{opname}: expected a {nd + 2}-D weight, got shape {w._data.shape}")
    if x._data.dtype != w._data.dtype:
        raise TypeError(f"{opname}: input is {x._data.dtype} but weight is {w._data.dtype}")
    if not isinstance(groups, int) or groups < 1 or w._data.shape[0] % groups:
        raise ArgumentError(f"{opname}: groups={groups!r} must be a positive int dividing the weight's dim 0 "
                         f"(weight shape {w._data.shape})")
    channels = x._data.shape[-nd - 1]
    if channels % groups:
        raise ArgumentError(f"{opname}: groups={groups} must divide the input's {channels} channels (input shape "
                         f"{x._data.shape})")
    expected = w._data.shape[0] if transposed else w._data.shape[1] * groups
    if channels != expected:
        raise ArgumentError(f"{opname}: input of shape {x._data.shape} has {channels} channels but weight of shape "
                         f"{w._data.shape} expects {expected} (groups={groups})")
    out_channels = w._data.shape[1] * groups if transposed else w._data.shape[0]
    b = None
    if bias is not None:
        b = as_tensor(bias, opname)
        if b._data.shape != (out_channels,):
            raise ArgumentError(f"{opname}: bias must have shape ({out_channels},), got {b._data.shape}")
    unbatched = x._data.ndim == nd + 1
    return (x.unsqueeze(0) if unbatched else x), w, b, unbatched


def _conv(opname, nd, input, weight, bias, stride, padding, dilation, groups):
    x, w, b, unbatched = _operands(opname, nd, input, weight, bias, groups, transposed=False)
    stride, dilation = _ints(stride, nd, "stride", opname), _ints(dilation, nd, "dilation", opname)
    kernel = w._data.shape[2:]
    if padding == "valid":
        pads = ((0, 0),) * nd
    elif padding == "same":
        if any(s != 1 for s in stride):
            raise ArgumentError(f"{opname}: padding='same' needs stride 1 (as in PyTorch), got stride {stride}")
        pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for d, k in zip(dilation, kernel))
    elif isinstance(padding, str):
        raise ArgumentError(f"{opname}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    else:
        pads = tuple((p, p) for p in _ints(padding, nd, "padding", opname))
    if min(stride) < 1 or min(dilation) < 1 or min(min(p) for p in pads) < 0:
        raise ArgumentError(f"{opname}: stride and dilation must be >= 1 and padding >= 0, got stride {stride}, "
                         f"padding {padding}, dilation {dilation}")
    sizes = x._data.shape[2:]
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(s + lo + hi < e for s, (lo, hi), e in zip(sizes, pads, span)):
        raise ArgumentError(f"{opname}: input of spatial size {tuple(sizes)} (padding {padding}) is smaller than the "
                         f"dilated kernel {span}")
    out = ConvNd.apply(x, w, b, stride, pads, dilation, groups)
    return out.squeeze(0) if unbatched else out


def _conv_transpose(opname, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, w, b, unbatched = _operands(opname, nd, input, weight, bias, groups, transposed=True)
    stride, dilation = _ints(stride, nd, "stride", opname), _ints(dilation, nd, "dilation", opname)
    padding, output_padding = _ints(padding, nd, "padding", opname), _ints(output_padding, nd, "output_padding", opname)
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ArgumentError(f"{opname}: stride and dilation must be >= 1 and padding >= 0, got stride {stride}, "
                         f"padding {padding}, dilation {dilation}")
    if any(op < 0 or op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ArgumentError(f"{opname}: output_padding {output_padding} must be smaller than stride {stride} or "
                         f"dilation {dilation}")
    kernel = w._data.shape[2:]
    out = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1
                for i, s, p, d, k, op in zip(x._data.shape[2:], stride, padding, dilation, kernel, output_padding))
    if min(out) < 1:
        raise ArgumentError(f"{opname}: input of shape {x._data.shape} with weight {w._data.shape}, stride {stride}, "
                         f"padding {padding} gives the non-positive output size {out}")
    y = ConvTransposeNd.apply(x, w, b, stride, tuple((p, p) for p in padding), dilation, groups, out)
    return y.squeeze(0) if unbatched else y


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """PyTorch's ``F.conv3d``: (N, C, D, H, W) with weight (O, C/g, kd, kh, kw); ``padding`` an int,
    a triple, ``'valid'`` or ``'same'``."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """PyTorch's ``F.conv_transpose1d``: (N, C, L) with weight (C, O/g, k); the adjoint of conv1d."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """PyTorch's ``F.conv_transpose3d``: (N, C, D, H, W) with weight (C, O/g, kd, kh, kw)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)
