"""Blocks and sliding windows: ``F.unfold`` / ``F.fold``, ``Tensor.unfold``, ``F.pixel_shuffle`` /
``F.pixel_unshuffle`` and ``F.channel_shuffle``.

``F.unfold`` (im2col) copies every kh x kw block of a zero-padded image into a column:

    cols[n, (c, i, j), (oh, ow)] = xpad[n, c, oh sh + i dh, ow sw + j dw]

It is linear, and its adjoint is ``F.fold`` (col2im), which adds each column back where its
block came from (overlapping blocks sum) and crops the padding:

    y[n, c, oh sh + i dh - ph, ow sw + j dw - pw] += cols[n, (c, i, j), (oh, ow)]

So each is the other's backward (``Im2Col`` and ``Col2Im``), and gradients of either can be
differentiated again.  ``Tensor.unfold(dim, size, step)`` is the one-dimensional window view

    y[..., l, ..., k] = x[..., l step + k, ...]

(a strided view, no copy), whose backward is the overlap-add ``dx[l step + k] += g[l, k]``
(``WindowAdd``, again each the other's backward).

Pixel and channel shuffles only rearrange entries: they are compositions of reshape and
permute, whose derivatives those ops already carry.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, normalize_dim

__all__ = ["unfold", "fold", "unfold_dim", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]


def _pair(value, name, opname, minimum):
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(int(v) != v or v < minimum for v in pair):
        raise ArgumentError(f"{opname}: {name} must be an int >= {minimum} or two of them, got {value!r}")
    return tuple(int(v) for v in pair)


def _geometry(opname, kernel_size, dilation, padding, stride):
    return (_pair(kernel_size, "kernel_size", opname, 1), _pair(dilation, "dilation", opname, 1),
            _pair(padding, "padding", opname, 0), _pair(stride, "stride", opname, 1))


def _blocks(spatial, geometry):
    """The number of blocks along H and W."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = geometry
    return ((spatial[0] + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
            (spatial[1] + 2 * pw - dw * (kw - 1) - 1) // sw + 1)


def _block_slices(geometry, blocks):
    """(i, j, the slice of the padded image that kernel offset (i, j) reads for every block)."""
    (kh, kw), (dh, dw), _, (sh, sw) = geometry
    oh, ow = blocks
    for i in range(kh):
        for j in range(kw):
            yield i, j, (Ellipsis, slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                         slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


class Im2Col(Function):
    """cols[n, (c, i, j), (oh, ow)] = xpad[n, c, oh sh + i dh, ow sw + j dw];  linear, so
    d cols / d x applied to g is Col2Im (fold) of g."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, geometry):
        xp = backend.xp_of(x)
        (kh, kw), _, (ph, pw), _ = geometry
        n, c, h, w = x.shape
        blocks = _blocks((h, w), geometry)
        ctx.geometry, ctx.spatial = geometry, (h, w)
        padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        cols = xp.empty((n, c, kh, kw) + blocks, dtype=x.dtype)
        for i, j, where in _block_slices(geometry, blocks):
            cols[:, :, i, j] = padded[where]
        return cols.reshape(n, c * kh * kw, blocks[0] * blocks[1])

    @staticmethod
    def backward(ctx, g):
        return Col2Im.run(g, ctx.geometry, ctx.spatial)


class Col2Im(Function):
    """y[n, c, oh sh + i dh - ph, ow sw + j dw - pw] += cols[n, (c, i, j), (oh, ow)]
    (overlaps add, the padding is cut off);  the adjoint of Im2Col, whose backward is Im2Col."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, cols, geometry, spatial):
        xp = backend.xp_of(cols)
        (kh, kw), _, (ph, pw), _ = geometry
        blocks = _blocks(spatial, geometry)
        ctx.geometry = geometry
        n = cols.shape[0]
        c = cols.shape[1] // (kh * kw)
        cols = cols.reshape((n, c, kh, kw) + blocks)
        padded = xp.zeros((n, c, spatial[0] + 2 * ph, spatial[1] + 2 * pw), dtype=cols.dtype)
        for i, j, where in _block_slices(geometry, blocks):
            padded[where] += cols[:, :, i, j]
        return xp.ascontiguousarray(padded[:, :, ph:ph + spatial[0], pw:pw + spatial[1]])

    @staticmethod
    def backward(ctx, gg):
        return Im2Col.run(gg, ctx.geometry)


def _describe(geometry):
    names = ("kernel_size", "dilation", "padding", "stride")
    return ", ".join(f"{name}={value}" for name, value in zip(names, geometry))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """PyTorch's ``F.unfold``: (N, C, H, W) or (C, H, W) -> (N, C kh kw, L), the sliding blocks
    as columns (L blocks, row-major over their positions)."""
    x = as_tensor(input, "unfold")
    geometry = _geometry("unfold", kernel_size, dilation, padding, stride)
    if x._data.ndim not in (3, 4):
        raise ArgumentError(f"unfold: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x._data.shape}")
    batched = x if x._data.ndim == 4 else x.unsqueeze(0)
    blocks = _blocks(batched._data.shape[2:], geometry)
    if min(blocks) < 1:
        raise ArgumentError(f"unfold: input of shape {x._data.shape} with {_describe(geometry)} has no complete "
                         f"block (calculated {blocks} blocks)")
    out = Im2Col.apply(batched, geometry)
    return out if x._data.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """PyTorch's ``F.fold``: (N, C kh kw, L) or (C kh kw, L) -> (N, C, *output_size), the
    columns added back where unfold took them (unfold's adjoint; not its inverse where blocks
    overlap)."""
    x = as_tensor(input, "fold")
    geometry = _geometry("fold", kernel_size, dilation, padding, stride)
    spatial = _pair(output_size, "output_size", "fold", 1)
    if x._data.ndim not in (2, 3):
        raise ArgumentError(f"fold: expected a 2-D (C kh kw, L) or 3-D (N, C kh kw, L) input, got shape {x._data.shape}")
    batched = x if x._data.ndim == 3 else x.unsqueeze(0)
    rows, length = batched._data.shape[1:]
    (kh, kw) = geometry[0]
    if rows % (kh * kw):
        raise ArgumentError(f"fold: input of shape {x._data.shape} has {rows} rows, not divisible by the kernel's "
                         f"{kh} x {kw} = {kh * kw} entries")
    blocks = _blocks(spatial, geometry)
    if min(blocks) < 1 or blocks[0] * blocks[1] != length:
        raise ArgumentError(f"fold: output_size={spatial} with {_describe(geometry)} makes {blocks[0]} x {blocks[1]} "
                         f"blocks, but the input of shape {x._data.shape} has {length}")
    out = Col2Im.apply(batched, geometry, spatial)
    return out if x._data.ndim == 3 else out.squeeze(0)


# ----------------------------------------------------------------------------- Tensor.unfold
def _window_view(x, dim, size, step):
    """The strided view y[..., l, ..., k] = x[..., l step + k, ...] (no copy)."""
    xp = backend.xp_of(x)
    count = (x.shape[dim] - size) // step + 1
    shape = x.shape[:dim] + (count,) + x.shape[dim + 1:] + (size,)
    strides = x.strides[:dim] + (x.strides[dim] * step,) + x.strides[dim + 1:] + (x.strides[dim],)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


class Windows(Function):
    """y[..., l, ..., k] = x[..., l step + k, ...] (a view);  dx = the overlap-add of g (WindowAdd)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.args = (x.shape, dim, size, step)
        return _window_view(x, dim, size, step)

    @staticmethod
    def backward(ctx, g):
        return WindowAdd.run(g, *ctx.args)


class WindowAdd(Function):
    """dx[..., l step + k, ...] += g[..., l, ..., k]: Windows' adjoint, whose backward is Windows."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, shape, dim, size, step):
        xp = backend.xp_of(g)
        ctx.args = (dim, size, step)
        count = g.shape[dim]
        dx = xp.zeros(shape, dtype=g.dtype)
        lead = (slice(None),) * dim
        for k in range(size):
            dx[lead + (slice(k, k + step * (count - 1) + 1, step),)] += g[..., k]
        return dx

    @staticmethod
    def backward(ctx, gg):
        return Windows.run(gg, *ctx.args)


def unfold_dim(input, dimension, size, step) -> Tensor:
    """PyTorch's ``Tensor.unfold``: the windows of ``size`` entries every ``step`` along
    ``dimension``, as a new last dim (that dim becomes the window count)."""
    x = as_tensor(input, "Tensor.unfold")
    size, step = int(size), int(step)
    if x._data.ndim == 0:
        if size != 1 or step < 1:
            raise ArgumentError(f"Tensor.unfold: a 0-d tensor has windows of size 1 only, got size {size}, step {step}")
        return Windows.apply(x.reshape(1), 0, 1, step).reshape(1)
    d = normalize_dim(dimension, x._data.ndim, "Tensor.unfold")
    n = x._data.shape[d]
    if step < 1:
        raise ArgumentError(f"Tensor.unfold: step must be positive, got {step}")
    if not 0 <= size <= n:
        raise ArgumentError(f"Tensor.unfold: window size {size} does not fit dim {d} of size {n} (shape {x._data.shape})")
    return Windows.apply(x, d, size, step)


# ----------------------------------------------------------------------------- shuffles
def _factor(value, opname, name):
    if int(value) != value or value < 1:
        raise ArgumentError(f"{opname}: {name} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input, upscale_factor) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r):  y[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w]."""
    x = as_tensor(input, "pixel_shuffle")
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    shape = x._data.shape
    if len(shape) < 3 or shape[-3] % (r * r):
        raise ArgumentError(f"pixel_shuffle: expected (*, C r^2, H, W) with C r^2 divisible by r^2 = {r * r}, "
                         f"got shape {shape}")
    *lead, c, h, w = shape
    lead, k = tuple(lead), len(lead)
    y = x.reshape(lead + (c // (r * r), r, r, h, w))
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of pixel_shuffle."""
    x = as_tensor(input, "pixel_unshuffle")
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    shape = x._data.shape
    if len(shape) < 3 or shape[-2] % r or shape[-1] % r:
        raise ArgumentError(f"pixel_unshuffle: expected (*, C, H r, W r) with H and W divisible by r = {r}, "
                         f"got shape {shape}")
    *lead, c, h, w = shape
    lead, k = tuple(lead), len(lead)
    y = x.reshape(lead + (c, h // r, r, w // r, r))
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(lead + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups) -> Tensor:
    """(N, C, *) -> (N, C, *) with the channels of g groups interleaved:
    y[:, i g + j] = x[:, j (C / g) + i]."""
    x = as_tensor(input, "channel_shuffle")
    g = _factor(groups, "channel_shuffle", "groups")
    shape = x._data.shape
    if len(shape) < 3 or shape[1] % g:
        raise ArgumentError(f"channel_shuffle: expected (N, C, *) with C divisible by groups = {g}, got shape {shape}")
    n, c, *rest = shape
    y = x.reshape((n, g, c // g) + tuple(rest)).transpose(1, 2)
    return y.reshape(shape)

