"""Convolution: conv2d (conv1d on the same machinery) and its adjoint conv_transpose2d.

Shapes (NCHW, as PyTorch): x (N, C, H, W), weight (O, C/g, kh, kw), bias (O,), g groups,
output (N, O, OH, OW).  With cols = im2col(x) of shape (C kh kw, N OH OW) (kernels/conv.py)
and W2 = weight.reshape(O, C/g kh kw), per group:

    forward     y2    = W2 @ cols                        (O, N OH OW), then to NCHW, + bias
    backward    dW2   = dy2 @ cols^T                       (a correlation of input and dy)
                dcols = W2^T @ dy2,   dx = col2im(dcols)   (a transposed convolution)
                db    = sum of dy over N, OH, OW

On the CPU, 3x3 stride-1 convolutions (most of a ResNet) compute the forward, the input
gradient and the weight gradient with Winograd F(2x2, 3x3) instead (kernels/winograd.py): 16
multiplies per 2x2 output tile instead of 36, and no 9-fold im2col copy.  ``_method`` picks
the algorithm per layer; ``_correlate``, ``_correlate_input_grad`` and ``_correlate_weight_grad``
are the three products both conv2d and conv_transpose2d are made of.

The batch goes through in chunks whose columns stay under ``runtime.CPU_CHUNK_BYTES``
bytes, so a convolution never holds a full-batch im2col copy (cols are recomputed in backward
rather than saved: memory over a little time).  How the chunks are shared among the cores, and
BLAS held to one thread meanwhile, is ``minigrad/runtime.py``'s policy, not this file's.
conv_transpose2d swaps the two halves: its forward is conv2d's input gradient and its
backward is conv2d's forward and weight gradient.

Second order: the three products are three Functions (Conv2d, ConvTranspose2d and
Conv2dWeight, the weight gradient), and each one's gradients are the other two, called
through ``run``: on arrays in the ordinary pass, recording a graph under ``create_graph``.
Conv2d's ordinary backward keeps its fused im2col pass (both gradients from one pass over
the chunks); under ``create_graph`` it calls the two Functions instead.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..runtime import chunks, one_blas_thread, run_chunks, worker_count
from ..tensor import Tensor
from ._args import as_tensor, float_operand, refuse_float16, with_unit_batch
from ._args import pair as _pair
from .shape import pad as _pad
from .shape import squeeze, unsqueeze
from ._kernels import kernels

__all__ = ["conv2d", "conv1d", "conv_transpose2d"]

# On the CPU, im2col convolutions whose images have at least this many output positions run one
# product per image, reading and writing NCHW slices as they are; smaller images share one
# product per chunk, at the cost of transposing dy and y (measured forward + backward at batch 32,
# 32x32: the 3->64 stem 9.3 vs 10.4 ms, a 1x1 64->128 layer 20.7 vs 25.5 ms; even at 16x16 outputs,
# worse at 8x8)
PER_IMAGE_MIN = 256


class Geometry(NamedTuple):
    """A kernel window: kh x kw taps, stride (sh, sw), zero padding (ph, pw), dilation (dh, dw).
    Unpacks in im2col's argument order: ``im2col(x, *geo)``."""
    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int

    @classmethod
    def of(cls, kernel_hw, stride, padding, dilation):
        return cls(*kernel_hw, *stride, *padding, *dilation)

    def windows(self, h, w):
        """How many windows fit along each side of an h x w input (conv2d's output size)."""
        return ((h + 2 * self.ph - self.dh * (self.kh - 1) - 1) // self.sh + 1,
                (w + 2 * self.pw - self.dw * (self.kw - 1) - 1) // self.sw + 1)


def _pad_to(x, hw):
    """x (N, C, H, W) with zero rows and columns appended up to ``hw``, on arrays or Tensors.
    conv_transpose2d's output may hold windows no input position maps to (output_padding >=
    stride, allowed when dilation > stride): they correlate with these zeros."""
    extra_h, extra_w = hw[0] - x.shape[2], hw[1] - x.shape[3]
    if not (extra_h or extra_w):
        return x
    if isinstance(x, Tensor):
        return _pad(x, (0, extra_w, 0, extra_h))
    return backend.xp_of(x).pad(x, ((0, 0), (0, 0), (0, extra_h), (0, extra_w)))


def _per_image(xp, groups, positions):
    return xp is np and groups == 1 and positions >= PER_IMAGE_MIN


def _to_rows(y, o):
    """(B, O, L) -> (O, B L): the layout the matrix products want."""
    b, _, length = y.shape
    return backend.xp_of(y).ascontiguousarray(y.transpose(1, 0, 2)).reshape(o, b * length)


def _method(on_cpu, x_shape, w_shape, stride, padding, dilation, groups):
    """``'winograd'`` (kernels/winograd.py) for 3x3 stride-1 convolutions on the CPU with at
    least 16 channels in and out on images of 4x4 or more, else ``'im2col'``.  Measured on
    ResNet-18's layers at batch 32: Winograd wins from 4x4 (512 channels) to 32x32 (64); with
    fewer channels its 16 products over channels are too thin for BLAS."""
    if (on_cpu and w_shape[2:] == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1
            and padding[0] == padding[1] and 0 <= padding[0] <= 2
            and x_shape[2] * x_shape[3] >= 16 and min(w_shape[0], w_shape[1]) >= 16):
        return "winograd"
    return "im2col"


# ----------------------------------------------------------------------------- Winograd (CPU)
def _winograd_conv(x, u, pad, out, adjoint=False):
    """out (N, O, OH, OW) = the 3x3 correlation of x (N, C, H, W), zero-padded by ``pad``, with
    the filters whose Winograd transform is u (16, O, C), or with ``adjoint`` their transposed
    and flipped filters (the input gradient: u is then (16, C, O)); chunks of the batch on the
    workers."""
    winograd = kernels("winograd")
    n, c, h, w = x.shape
    oh, ow = out.shape[2:]
    th, tw = -(-oh // 2), -(-ow // 2)
    if adjoint:                 # views: BLAS takes the transposes as they are
        u = [u[k].T for k in winograd.ADJOINT_PLANES]

    def chunk(a, b, worker):
        padded = np.zeros((b - a, c, 2 * th + 2, 2 * tw + 2), dtype=x.dtype)
        padded[:, :, pad:pad + h, pad:pad + w] = x[a:b]
        v = winograd.input_transform(padded, th, tw)                             # (16, C, B th tw)
        m = np.empty((16, u[0].shape[0], v.shape[2]), dtype=x.dtype)
        for k in range(16):                                               # 16 products over channels
            np.matmul(u[k], v[k], out=m[k])
        out[a:b] = winograd.output_transform(m, b - a, th, tw, oh, ow)
    run_chunks(chunks(n, 16 * max(c, u[0].shape[0]) * th * tw * x.itemsize, np), chunk, True)
    return out


def _winograd_weight_grad(x, dy, pad, o):
    """dW (O, C, 3, 3) of the 3x3 correlation out = W * pad(x), through the Winograd algorithm:
    dU[k] = sum over tiles of P[k] V[k]^T, then dW = G^T dU G (see kernels/winograd.py)."""
    winograd = kernels("winograd")
    n, c, h, w = x.shape
    oh, ow = dy.shape[2:]
    th, tw = -(-oh // 2), -(-ow // 2)
    parts = [np.zeros((16, o, c), dtype=x.dtype) for _ in range(worker_count(np))]

    def chunk(a, b, worker):
        padded = np.zeros((b - a, c, 2 * th + 2, 2 * tw + 2), dtype=x.dtype)
        padded[:, :, pad:pad + h, pad:pad + w] = x[a:b]
        v = winograd.input_transform(padded, th, tw)                             # (16, C, B th tw)
        p = winograd.grad_transform(dy[a:b], th, tw)                              # (16, O, B th tw)
        du = parts[worker]
        for k in range(16):
            du[k] += p[k] @ v[k].T
    used = run_chunks(chunks(n, 16 * max(c, o) * th * tw * x.itemsize, np), chunk, True)
    with one_blas_thread():
        return winograd.filter_gradient(sum(parts[1:used], parts[0]))


# ----------------------------------------------------------------------------- im2col (CPU and GPU)
def _grouped_matmul(w2, cols, groups, transpose_w=False):
    """Per group: W2[g] @ cols[g rows] (or W2[g]^T @ ...); W2 is (groups, rows_out, rows_in)."""
    xp = backend.xp_of(cols)
    if groups == 1:
        return (w2[0].T if transpose_w else w2[0]) @ cols
    k = cols.shape[0] // groups
    return xp.concatenate([(w2[g].T if transpose_w else w2[g]) @ cols[g * k:(g + 1) * k] for g in range(groups)])


def _add_grouped_outer(out, left, right, groups):
    """Per group: out[g rows] += left[g rows] @ right[g rows]^T (a weight gradient)."""
    lg, rg = left.shape[0] // groups, right.shape[0] // groups
    for g in range(groups):
        out[g * lg:(g + 1) * lg] += left[g * lg:(g + 1) * lg] @ right[g * rg:(g + 1) * rg].T


def _im2col_forward(x, weight, geo, groups, out):
    conv_kernels = kernels("conv")
    xp = backend.xp_of(x)
    o, oh, ow = out.shape[1:]
    w2 = weight.reshape(groups, o // groups, -1)

    def chunk(a, b, worker):
        cols = conv_kernels.im2col(x[a:b], *geo)                                              # (C kh kw, B L)
        length = oh * ow
        if _per_image(xp, groups, length):      # each image's product straight into its NCHW slot
            for s in range(b - a):
                xp.matmul(w2[0], cols[:, s * length:(s + 1) * length], out=out[a + s].reshape(o, length))
            return
        y2 = _grouped_matmul(w2, cols, groups)                                     # (O, B L)
        out[a:b] = y2.reshape(o, b - a, oh, ow).transpose(1, 0, 2, 3)
    run_chunks(chunks(x.shape[0], x.shape[1] * geo.kh * geo.kw * oh * ow * x.itemsize, xp), chunk, xp is np)
    return out


def _im2col_backward(x, dy, weight, geo, groups, dx, need_weight):
    """conv2d's input gradient into ``dx`` (when given) and its weight gradient (when
    ``need_weight``) in one pass over the chunks, sharing each chunk's dy rows (O, B L)."""
    conv_kernels = kernels("conv")
    xp = backend.xp_of(dy)
    n, c, h, w = x.shape
    o, oh, ow = dy.shape[1:]
    w2 = weight.reshape(groups, o // groups, -1)
    parts = [xp.zeros((o, w2.shape[2]), dtype=x.dtype) for _ in range(worker_count(xp))] if need_weight else None

    def chunk(a, b, worker):
        if _per_image(xp, groups, oh * ow):
            for s in range(a, b):
                dy_s = dy[s].reshape(o, oh * ow)
                if need_weight:
                    parts[worker] += dy_s @ conv_kernels.im2col(x[s:s + 1], *geo).T
                if dx is not None:
                    dx[s] = conv_kernels.col2im(w2[0].T @ dy_s, 1, c, h, w, *geo)[0]
            return
        dy2 = _to_rows(dy[a:b].reshape(b - a, o, oh * ow), o)
        if need_weight:
            _add_grouped_outer(parts[worker], dy2, conv_kernels.im2col(x[a:b], *geo), groups)
        if dx is not None:
            dcols = _grouped_matmul(w2, dy2, groups, transpose_w=True)            # (C kh kw, B L)
            dx[a:b] = conv_kernels.col2im(dcols, b - a, c, h, w, *geo)
    used = run_chunks(chunks(n, c * geo.kh * geo.kw * oh * ow * x.itemsize, xp), chunk, xp is np)
    return dx, sum(parts[1:used], parts[0]).reshape(weight.shape) if need_weight else None


def _im2col_input_grad(dy, weight, geo, groups, dx):
    conv_kernels = kernels("conv")
    xp = backend.xp_of(dy)
    n, c, h, w = dx.shape
    o, oh, ow = dy.shape[1:]
    w2 = weight.reshape(groups, o // groups, -1)

    def chunk(a, b, worker):
        dcols = _grouped_matmul(w2, _to_rows(dy[a:b].reshape(b - a, o, oh * ow), o), groups, transpose_w=True)
        dx[a:b] = conv_kernels.col2im(dcols, b - a, c, h, w, *geo)                            # (C kh kw, B L) -> NCHW
    run_chunks(chunks(n, c * geo.kh * geo.kw * oh * ow * dx.itemsize, xp), chunk, xp is np)
    return dx


def _im2col_weight_grad(x, dy, geo, groups, w_shape):
    conv_kernels = kernels("conv")
    xp = backend.xp_of(x)
    o, oh, ow = dy.shape[1:]
    parts = [xp.zeros((o, int(np.prod(w_shape[1:]))), dtype=x.dtype) for _ in range(worker_count(xp))]

    def chunk(a, b, worker):
        cols = conv_kernels.im2col(x[a:b], *geo)
        _add_grouped_outer(parts[worker], _to_rows(dy[a:b].reshape(b - a, o, oh * ow), o), cols, groups)
    used = run_chunks(chunks(x.shape[0], x.shape[1] * geo.kh * geo.kw * oh * ow * x.itemsize, xp),
                       chunk, xp is np)
    return sum(parts[1:used], parts[0]).reshape(w_shape)


# ----------------------------------------------------------------------------- the three products
def _correlate(x, weight, geo, groups, method, out):
    """conv2d's forward (no bias) into ``out`` (N, O, OH, OW)."""
    if method == "winograd":
        with one_blas_thread():
            u = kernels("winograd").filter_transform(weight)
        return _winograd_conv(x, u, geo.ph, out)
    return _im2col_forward(x, weight, geo, groups, out)


def _correlate_input_grad(dy, weight, geo, groups, method, dx):
    """conv2d's input gradient (conv_transpose2d's forward) into ``dx`` (N, C, H, W)."""
    if method == "winograd":    # the full correlation of dy with the flipped, transposed filters
        with one_blas_thread():
            u = kernels("winograd").filter_transform(weight)
        return _winograd_conv(dy, u, 2 - geo.ph, dx, adjoint=True)
    return _im2col_input_grad(dy, weight, geo, groups, dx)


def _correlate_weight_grad(x, dy, geo, groups, method, w_shape):
    """conv2d's weight gradient: the correlation of x with dy, summed over the batch."""
    if method == "winograd":
        return _winograd_weight_grad(x, dy, geo.ph, w_shape[0])
    return _im2col_weight_grad(x, dy, geo, groups, w_shape)


def _input_and_weight_grads(x, dy, weight, geo, groups, method, need_input, need_weight):
    """(dx, dW): ``_correlate_input_grad`` and ``_correlate_weight_grad`` (None where not needed),
    except that im2col computes both in one pass over the chunks, each chunk's dy rows shared."""
    dx = backend.xp_of(dy).empty_like(x) if need_input else None
    if method == "im2col":
        return _im2col_backward(x, dy, weight, geo, groups, dx, need_weight)
    dx = _correlate_input_grad(dy, weight, geo, groups, method, dx) if need_input else None
    dw = _correlate_weight_grad(x, dy, geo, groups, method, weight.shape) if need_weight else None
    return dx, dw


def _bias_grad(g, needs):
    """db = sum of dy over N, OH, OW (None when there is no bias or it needs no gradient)."""
    return g.sum((0, 2, 3)) if len(needs) > 2 and needs[2] else None


class Conv2d(Function):
    """y = W * x + b (cross-correlation); see the module docstring for the three gradients."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        conv_kernels = kernels("conv")
        xp = backend.xp_of(x)
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        geo = Geometry.of((kh, kw), stride, padding, dilation)
        oh = conv_kernels.output_size(h, kh, geo.sh, geo.ph, geo.dh)
        ow = conv_kernels.output_size(w, kw, geo.sw, geo.pw, geo.dw)
        ctx.method = _method(xp is np, x.shape, weight.shape, stride, padding, dilation, groups)
        out = _correlate(x, weight, geo, groups, ctx.method, xp.empty((n, o, oh, ow), dtype=x.dtype))
        if bias is not None:
            out += bias.reshape(1, o, 1, 1)
        ctx.save_for_backward(x, weight)
        ctx.geo, ctx.groups = geo, groups
        ctx.options = (stride, padding, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, g):
        """dx = conv_transpose2d(dy, W): the transposed correlation (ConvTranspose2d)
        dW = the correlation of x with dy, summed over the batch (Conv2dWeight)
        db = sum of dy over N, OH, OW"""
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if isinstance(g, Tensor):           # create_graph: the two products as differentiable ops
            dx = ConvTranspose2d.run(g, weight, None, *ctx.options, x.shape[2:]) if needs[0] else None
            dw = Conv2dWeight.run(x, g, weight.shape, *ctx.options) if needs[1] else None
        else:                               # arrays: the same two products, fused into one pass where it pays
            dx, dw = _input_and_weight_grads(x, g, weight, ctx.geo, ctx.groups, ctx.method, needs[0], needs[1])
        return dx, dw, _bias_grad(g, needs)


class ConvTranspose2d(Function):
    """y = conv2d's input gradient applied to x (weight (C, O/g, kh, kw) is the weight of the
    conv2d from O to C channels that it transposes); dx = conv2d(dy, W) (no bias), dW = that
    conv2d's weight gradient with dy as its input and x as its output gradient, db = sum of dy."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, out_hw):
        xp = backend.xp_of(x)
        n = x.shape[0]
        o = weight.shape[1] * groups
        geo = Geometry.of(weight.shape[2:], stride, padding, dilation)
        ctx.windows = geo.windows(*out_hw)
        ctx.method = _method(xp is np, (n, o, *out_hw), weight.shape, stride, padding, dilation, groups)
        out = _correlate_input_grad(_pad_to(x, ctx.windows), weight, geo, groups, ctx.method,
                                    xp.empty((n, o, *out_hw), dtype=x.dtype))
        if bias is not None:
            out += bias.reshape(1, o, 1, 1)
        ctx.save_for_backward(x, weight)
        ctx.options = (stride, padding, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        h, w = x.shape[2:]
        dx = Conv2d.run(g, weight, None, *ctx.options)[:, :, :h, :w] if needs[0] else None
        dw = Conv2dWeight.run(g, _pad_to(x, ctx.windows), weight.shape, *ctx.options) if needs[1] else None
        return dx, dw, _bias_grad(g, needs)


class Conv2dWeight(Function):
    """conv2d's weight gradient as an op: dW = the correlation of x (N, C, H, W) with dy
    (N, O, OH, OW), summed over the batch.  Bilinear: its gradients are the other two products,
    d x = conv_transpose2d(dy, gW) and d dy = conv2d(x, gW)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dy, w_shape, stride, padding, dilation, groups):
        geo = Geometry.of(w_shape[2:], stride, padding, dilation)
        method = _method(isinstance(x, np.ndarray), x.shape, w_shape, stride, padding, dilation, groups)
        ctx.save_for_backward(x, dy)
        ctx.options = (stride, padding, dilation, groups)
        return _correlate_weight_grad(x, dy, geo, groups, method, tuple(w_shape))

    @staticmethod
    def backward(ctx, g):
        x, dy = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dx = ConvTranspose2d.run(dy, g, None, *ctx.options, x.shape[2:]) if needs[0] else None
        ddy = Conv2d.run(x, g, None, *ctx.options) if needs[1] else None
        return dx, ddy


# ----------------------------------------------------------------------------- entry points
def _check_conv_args(opname, x, w, groups, in_dim):
    refuse_float16(opname, x, w)
    if x._data.ndim != 4:
        raise ArgumentError(f"{opname}: expected a 4-D input (N, C, H, W), got shape {x._data.shape}")
    if w._data.ndim != 4:
        raise ArgumentError(f"{opname}: expected a 4-D weight, got shape {w._data.shape}")
    if x._data.dtype != w._data.dtype:
        raise TypeError(f"{opname}: input is {x._data.dtype} but weight is {w._data.dtype}")
    if groups < 1 or x._data.shape[1] % groups or w._data.shape[0] % groups:
        raise ArgumentError(f"{opname}: groups={groups} must divide the input channels {x._data.shape[1]} and "
                         f"the weight's dim 0 ({w._data.shape[0]})")
    if in_dim is not None and x._data.shape[1] != in_dim:
        raise ArgumentError(f"{opname}: input of shape {x._data.shape} has {x._data.shape[1]} channels but weight of "
                         f"shape {w._data.shape} expects {in_dim} (= {w._data.shape[1]} x groups {groups})")


def _bias(bias, channels, opname):
    if bias is None:
        return None
    b = as_tensor(bias, opname)
    if b._data.shape != (channels,):
        raise ArgumentError(f"{opname}: bias must have shape ({channels},), got {b._data.shape}")
    return b


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """PyTorch's ``F.conv2d``; ``padding`` is an int, a pair, ``'valid'`` or ``'same'``; an
    unbatched (C, H, W) input gives a (O, H', W') result."""
    x, w = float_operand(input, "conv2d"), as_tensor(weight, "conv2d")
    if x._data.ndim == 3:
        return with_unit_batch(lambda xb: conv2d(xb, w, bias, stride, padding, dilation, groups), x)
    _check_conv_args("conv2d", x, w, groups, w._data.shape[1] * groups if w._data.ndim == 4 else None)
    stride, dilation = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    if padding == "valid":
        padding = (0, 0)
    elif padding == "same":
        if stride != (1, 1):
            raise ArgumentError("conv2d: padding='same' needs stride 1 (as in PyTorch)")
        totals = [d * (k - 1) for d, k in zip(dilation, w._data.shape[2:])]
        if any(t % 2 for t in totals):      # an even kernel: pad one more on the right/bottom
            x = _pad(x, (totals[1] // 2, totals[1] - totals[1] // 2, totals[0] // 2, totals[0] - totals[0] // 2))
            padding = (0, 0)
        else:
            padding = (totals[0] // 2, totals[1] // 2)
    elif isinstance(padding, str):
        raise ArgumentError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    padding = _pair(padding, "padding", "conv2d")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ArgumentError(f"conv2d: stride and dilation must be >= 1 and padding >= 0, got stride {stride}, "
                         f"padding {padding}, dilation {dilation}")
    kh, kw = w._data.shape[2:]
    h, wd = x._data.shape[2:]
    if h + 2 * padding[0] < dilation[0] * (kh - 1) + 1 or wd + 2 * padding[1] < dilation[1] * (kw - 1) + 1:
        raise ArgumentError(f"conv2d: input of spatial size {h}x{wd} (padding {padding}) is smaller than the "
                         f"dilated kernel {dilation[0] * (kh - 1) + 1}x{dilation[1] * (kw - 1) + 1}")
    b = _bias(bias, w._data.shape[0], "conv2d")
    return Conv2d.apply(x, w, b, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """PyTorch's ``F.conv1d``: (N, C, L) or unbatched (C, L) with weight (O, C/g, k), as a conv2d
    of height 1."""
    x, w = float_operand(input, "conv1d"), as_tensor(weight, "conv1d")
    if x._data.ndim == 2:
        return with_unit_batch(lambda xb: conv1d(xb, w, bias, stride, padding, dilation, groups), x)
    if x._data.ndim != 3 or w._data.ndim != 3:
        raise ArgumentError(f"conv1d: expected input (N, C, L) and weight (O, C/g, k), got {x._data.shape} and "
                         f"{w._data.shape}")
    # checked here, in conv1d's own terms, so that no error speaks of conv2d's height-1 shapes
    _check_conv1d_args(x, w, groups, stride, padding, dilation)
    pair = (lambda v: (1, v) if isinstance(v, int) else (1, v[0]) if isinstance(v, (tuple, list)) else v)
    pad = (0, padding) if isinstance(padding, int) else (0, padding[0]) if isinstance(padding, (tuple, list)) else padding
    out = conv2d(unsqueeze(x, 2), unsqueeze(w, 2), bias, pair(stride), pad, pair(dilation), groups)
    return squeeze(out, 2)


def _check_conv1d_args(x, w, groups, stride, padding, dilation):
    refuse_float16("conv1d", x, w)
    if x._data.dtype != w._data.dtype:
        raise TypeError(f"conv1d: input is {x._data.dtype} but weight is {w._data.dtype}")
    if groups < 1 or x._data.shape[1] % groups or w._data.shape[0] % groups:
        raise ArgumentError(f"conv1d: groups={groups} must divide the input channels {x._data.shape[1]} and "
                         f"the weight's dim 0 ({w._data.shape[0]})")
    if x._data.shape[1] != w._data.shape[1] * groups:
        raise ArgumentError(f"conv1d: input of shape {x._data.shape} has {x._data.shape[1]} channels but weight of "
                         f"shape {w._data.shape} expects {w._data.shape[1] * groups} (= {w._data.shape[1]} x groups "
                         f"{groups})")
    one = (lambda v: v[0] if isinstance(v, (tuple, list)) and len(v) == 1 else v)
    stride, dilation = one(stride), one(dilation)
    pad = one(padding)
    if not isinstance(stride, int) or not isinstance(dilation, int) or stride < 1 or dilation < 1 or \
            (isinstance(pad, int) and pad < 0):
        raise ArgumentError(f"conv1d: stride and dilation must be integers >= 1 and padding >= 0, got stride "
                         f"{stride}, padding {padding}, dilation {dilation}")
    if isinstance(pad, int):
        length, span = x._data.shape[2] + 2 * pad, dilation * (w._data.shape[2] - 1) + 1
        if length < span:
            raise ArgumentError(f"conv1d: input of length {x._data.shape[2]} (padding {pad}) is shorter than the "
                             f"dilated kernel {span}")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """PyTorch's ``F.conv_transpose2d``: weight (C, O/g, kh, kw); the adjoint of conv2d; an
    unbatched (C, H, W) input gives a (O, H', W') result."""
    x, w = float_operand(input, "conv_transpose2d"), as_tensor(weight, "conv_transpose2d")
    if x._data.ndim == 3:
        return with_unit_batch(lambda xb: conv_transpose2d(xb, w, bias, stride, padding, output_padding, groups,
                                                           dilation), x)
    _check_conv_args("conv_transpose2d", x, w, groups, w._data.shape[0] if w._data.ndim == 4 else None)
    stride, dilation = _pair(stride, "stride", "conv_transpose2d"), _pair(dilation, "dilation", "conv_transpose2d")
    padding, output_padding = _pair(padding, "padding", "conv_transpose2d"), _pair(output_padding, "output_padding",
                                                                                      "conv_transpose2d")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:       # before col2im would name itself
        raise ArgumentError(f"conv_transpose2d: stride and dilation must be >= 1 and padding >= 0, got stride "
                         f"{stride}, padding {padding}, dilation {dilation}")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d) or op < 0:
            raise ArgumentError(f"conv_transpose2d: output_padding {output_padding} must be smaller than stride "
                             f"{stride} or dilation {dilation}")
    kh, kw = w._data.shape[2:]
    h, wd = x._data.shape[2:]
    out_hw = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1
                   for i, s, p, d, k, op in zip((h, wd), stride, padding, dilation, (kh, kw), output_padding))
    if min(out_hw) < 1:
        raise ArgumentError(f"conv_transpose2d: the output size {out_hw} is not positive")
    b = _bias(bias, w._data.shape[1] * groups, "conv_transpose2d")
    return ConvTranspose2d.apply(x, w, b, stride, padding, dilation, groups, out_hw)

