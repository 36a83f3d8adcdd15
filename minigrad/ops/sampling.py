"""Spatial transformers: ``F.affine_grid`` and ``F.grid_sample`` on 4-D inputs.

``affine_grid`` maps the normalised pixel centres ([-1, 1] across the image) through each
2 x 3 matrix theta: ``grid[n, h, w] = theta[n] @ (x_w, y_h, 1)`` (a product, linear in theta).

``grid_sample`` reads ``input`` at the points of ``grid`` (x across W, y across H).  Each
coordinate is first mapped to a source position ``src``, a piecewise affine function of it:

    unnormalise   src = ((x + 1) W - 1) / 2,   or (x + 1) (W - 1) / 2 with align_corners
    border        src clamped to [0, W - 1]
    reflection    src mirrored at the borders (at -1/2 and W - 1/2, or at 0 and W - 1 with
                  align_corners), then clamped

so within each piece ``src = k x + b`` with a constant slope k (k = 0 where clamped).
Bilinear sampling then weighs the four neighbours,

    out = sum over corners (1 - |src_x - cx|)(1 - |src_y - cy|) input[cy, cx]

(corners outside the image read 0 in padding_mode 'zeros'), and 'nearest' reads the nearest
one (half-way rounds to even, as PyTorch).  Both are compositions of differentiable ops: a
gather of ``input`` (whose backward is a scatter-add) times weights that are affine in ``grid``
through src.  The gradients for ``input`` and ``grid``, and their derivatives, are those ops'.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import float_operand

__all__ = ["affine_grid", "grid_sample"]


def _base_coords(n, align_corners):
    """The normalised pixel centres along an axis of n entries (0 for a single one, as PyTorch)."""
    if n <= 1:
        return np.zeros(n)
    coords = np.linspace(-1.0, 1.0, n)
    return coords if align_corners else coords * (n - 1) / n


def affine_grid(theta, size, align_corners=None) -> Tensor:
    """PyTorch's ``F.affine_grid`` for 2-D: theta (N, 2, 3), size (N, C, H, W) -> grid (N, H, W, 2)."""
    t = float_operand(theta, "affine_grid")
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid: only 4-D sizes (N, C, H, W) are supported, got {size}")
    n, _, h, w = size
    if t._data.shape != (n, 2, 3):
        raise ArgumentError(f"affine_grid: expected theta of shape ({n}, 2, 3) for size {size}, got {t._data.shape}")
    xs, ys = _base_coords(w, bool(align_corners)), _base_coords(h, bool(align_corners))
    base = np.stack([np.tile(xs, h), np.repeat(ys, w), np.ones(h * w)], axis=1)       # (H W, 3): x, y, 1
    base = Tensor(backend.xp_of(t._data).asarray(base.astype(t._data.dtype)))
    return (base @ t.transpose(1, 2)).reshape(n, h, w, 2)


def _reflect(src, low2, high2):
    """Mirror src into [low2 / 2, high2 / 2] (PyTorch's reflect_coordinates), with the slope (+1 or -1)."""
    if low2 == high2:
        return np.zeros_like(src), np.zeros_like(src)
    low, span = low2 / 2, (high2 - low2) / 2
    distance = np.abs(src - low)
    extra = np.fmod(distance, span)
    flips = np.floor(distance / span)
    even = flips % 2 == 0
    slope = np.where(src >= low, 1.0, -1.0) * np.where(even, 1.0, -1.0)
    return np.where(even, extra + low, span - extra + low), slope


def _source(x, size, padding_mode, align_corners):
    """(src, slope): the source positions of normalised coordinates x along an axis of ``size``
    and d src / d x, both as arrays (PyTorch's grid_sampler_compute_source_index)."""
    scale = (size - 1) / 2 if align_corners else size / 2
    src = (x + 1) * (size - 1) / 2 if align_corners else ((x + 1) * size - 1) / 2
    slope = np.full_like(src, scale)
    if padding_mode == "reflection":
        src, flip = _reflect(src, 0.0, 2.0 * (size - 1)) if align_corners else _reflect(src, -1.0, 2.0 * size - 1)
        slope = slope * flip
    if padding_mode in ("border", "reflection"):
        inside = (src > 0) & (src < size - 1)
        src, slope = np.clip(src, 0, size - 1), np.where(inside, slope, 0.0)
    return src, slope


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None) -> Tensor:
    """PyTorch's ``F.grid_sample`` for 4-D input (N, C, H, W) and grid (N, Ho, Wo, 2): the output
    (N, C, Ho, Wo) holds input read at the grid's (x, y) points, in modes bilinear and nearest
    with padding_mode zeros, border or reflection."""
    x = float_operand(input, "grid_sample")
    g = float_operand(grid, "grid_sample")
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"grid_sample: mode {mode!r} is not supported; minigrad has 'bilinear', 'nearest'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ArgumentError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}")
    xs, gs = x._data.shape, g._data.shape
    if len(xs) != 4 or len(gs) != 4 or gs[0] != xs[0] or gs[3] != 2:
        raise ArgumentError(f"grid_sample: expected input (N, C, H, W) and grid (N, Ho, Wo, 2) with the same N, got "
                         f"shapes {xs} and {gs}")
    if x._data.dtype != g._data.dtype:
        raise TypeError(f"grid_sample: input and grid must have the same dtype, got {x._data.dtype} "
                        f"and {g._data.dtype}")
    n, c, h, w = xs
    xp = backend.xp_of(x._data)
    gh = np.asarray(backend.to_device(g._data, backend.CPU), dtype=np.float64)
    pixels = x.permute(0, 2, 3, 1).reshape(n * h * w, c)          # one row of channels per pixel
    points = gs[1] * gs[2]
    srcs = [_source(gh[..., k].reshape(n, points), size, padding_mode, bool(align_corners))
            for k, size in ((0, w), (1, h))]

    def read(ix, iy):
        """The channels of input at integer positions (N, points), as (N points, C) rows; 0 outside."""
        valid = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        index = np.where(valid, (np.arange(n)[:, None] * h + iy) * w + ix, 0).reshape(-1)
        mask = Tensor(xp.asarray(valid.reshape(-1, 1).astype(x._data.dtype)))
        return pixels.index_select(0, xp.asarray(index)) * mask

    def as_output(rows):
        return rows.reshape(n, gs[1], gs[2], c).permute(0, 3, 1, 2)

    if mode == "nearest":
        return as_output(read(*(np.rint(src).astype(np.int64) for src, _ in srcs)))
    # src as a Tensor: its value, and through the constant slope its derivative for the grid
    weights, corners = [], []
    for k, (src, slope) in enumerate(srcs):
        coord = g[..., k].reshape(n, points)
        lo = np.floor(src)
        offset = Tensor(xp.asarray((src - lo - gh[..., k].reshape(n, points) * slope).astype(x._data.dtype)))
        frac = coord * Tensor(xp.asarray(slope.astype(x._data.dtype))) + offset          # src - floor(src)
        weights.append((1 - frac, frac))
        corners.append((lo.astype(np.int64), lo.astype(np.int64) + 1))
    out = None
    for i in range(2):
        for j in range(2):
            term = read(corners[0][i], corners[1][j]) * (weights[0][i] * weights[1][j]).reshape(n * points, 1)
            out = term if out is None else out + term
    return as_output(out)
