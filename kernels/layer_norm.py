"""Layer norm over the last axis, one row at a time: statistics, normalisation and the input
gradient fused, where NumPy makes about six passes forward and eight backward.

Shapes: x, g (R, C), rows R normalised over their C entries; weight w and bias b (C,) or absent;
per-row rstd = 1 / sqrt(var + eps) (R,).  With xhat = (x - mean) rstd:

    forward:   mean = sum x / C,  var = sum (x - mean)^2 / C   (two passes over the row, float64 sums)
               xhat = (x - mean) rstd,  y = xhat w + b
    backward:  d = g w,  dx = rstd (d - mean(d) - xhat mean(d xhat))    (two passes over the row)
               dw = sum over rows of g xhat,  db = sum over rows of g   (column sums: one BLAS-free pass)
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_MIN_ELEMENTS, check_contiguous, check_float, check_same_device, contiguous, is_numpy


# ----------------------------------------------------------------------------- NumPy references
def layer_norm_forward_ref(x, w, b, eps):
    mean = x.mean(axis=-1, keepdims=True, dtype=np.float64)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * rstd
    y = xhat * (1.0 if w is None else w) + (0.0 if b is None else b)
    return y.astype(x.dtype), xhat.astype(x.dtype), rstd[:, 0].astype(x.dtype)


def layer_norm_backward_ref(g, xhat, rstd, w):
    d = g * (1.0 if w is None else w)
    dx = rstd[:, None] * (d - d.mean(-1, keepdims=True) - xhat * (d * xhat).mean(-1, keepdims=True))
    return dx.astype(g.dtype)


# ----------------------------------------------------------------------------- one row
# The row sums may be reassociated, so that LLVM vectorises them (they still add in float64).
_SUMS = {"reassoc", "nsz"}


@njit(cache=True, nogil=True, inline="always", fastmath=_SUMS)
def _forward_row(x, w, b, eps, has_w, has_b, y, xhat):
    T = x.dtype.type
    n = x.size
    total = 0.0
    for c in range(n):
        total += x[c]
    mean = total / n
    sq = 0.0
    for c in range(n):
        d = x[c] - mean
        sq += d * d
    rstd = 1.0 / math.sqrt(sq / n + eps)
    m, r = T(mean), T(rstd)
    for c in range(n):
        v = (x[c] - m) * r
        xhat[c] = v
        if has_w:
            v = v * w[c]
        if has_b:
            v = v + b[c]
        y[c] = v
    return r


@njit(cache=True, nogil=True, inline="always", fastmath=_SUMS)
def _backward_row(g, xhat, r, w, has_w, dx):
    T = g.dtype.type
    n = g.size
    sd = 0.0
    sdx = 0.0
    for c in range(n):
        d = g[c] * w[c] if has_w else g[c]
        sd += d
        sdx += d * xhat[c]
    md, mdx = T(sd / n), T(sdx / n)
    for c in range(n):
        d = g[c] * w[c] if has_w else g[c]
        dx[c] = r * (d - md - xhat[c] * mdx)


# ----------------------------------------------------------------------------- over rows
@njit(cache=True, nogil=True, fastmath=_SUMS)
def _forward_serial(x, w, b, eps, has_w, has_b, y, xhat, rstd):
    for i in range(x.shape[0]):
        rstd[i] = _forward_row(x[i], w, b, eps, has_w, has_b, y[i], xhat[i])


@njit(cache=True, nogil=True, parallel=True, fastmath=_SUMS)
def _forward_parallel(x, w, b, eps, has_w, has_b, y, xhat, rstd):
    for i in prange(x.shape[0]):
        rstd[i] = _forward_row(x[i], w, b, eps, has_w, has_b, y[i], xhat[i])


@njit(cache=True, nogil=True, fastmath=_SUMS)
def _backward_serial(g, xhat, rstd, w, has_w, dx):
    for i in range(g.shape[0]):
        _backward_row(g[i], xhat[i], rstd[i], w, has_w, dx[i])


@njit(cache=True, nogil=True, parallel=True, fastmath=_SUMS)
def _backward_parallel(g, xhat, rstd, w, has_w, dx):
    for i in prange(g.shape[0]):
        _backward_row(g[i], xhat[i], rstd[i], w, has_w, dx[i])


# ----------------------------------------------------------------------------- public entry points
def _rows(name, *arrays):
    check_float(name, *arrays)
    check_same_device(name, *arrays)
    if not all(is_numpy(a) for a in arrays):
        raise TypeError(f"{name}: the fused kernel runs on NumPy arrays (CPU)")
    arrays = [contiguous(a) for a in arrays]
    check_contiguous(name, *arrays)
    return arrays


def _param(name, p, c, dtype):
    """The weight or bias as a (C,) array of the rows' dtype, or a 1-element placeholder when absent."""
    if p is None:
        return np.ones(1, dtype=dtype), False
    if p.shape != (c,) or p.dtype != dtype:
        raise ValueError(f"{name}: expected a ({c},) {dtype} array, got {p.shape} {p.dtype}")
    return contiguous(p), True


def layer_norm_forward(x, w, b, eps):
    """(y, xhat, rstd) for x (R, C) normalised along its rows; w, b (C,) or None."""
    (x,) = _rows("layer_norm_forward", x)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"layer_norm_forward: expected a (R, C) array with C > 0, got shape {x.shape}")
    w, has_w = _param("layer_norm_forward: weight", w, x.shape[1], x.dtype)
    b, has_b = _param("layer_norm_forward: bias", b, x.shape[1], x.dtype)
    y, xhat = np.empty_like(x), np.empty_like(x)
    rstd = np.empty(x.shape[0], dtype=x.dtype)
    kernel = _forward_parallel if x.size >= PARALLEL_MIN_ELEMENTS and x.shape[0] > 1 else _forward_serial
    kernel(x, w, b, float(eps), has_w, has_b, y, xhat, rstd)
    return y, xhat, rstd


def layer_norm_backward(g, xhat, rstd, w):
    """dx for the rows of ``xhat`` (R, C) given the output gradient ``g`` (R, C)."""
    g, xhat, rstd = _rows("layer_norm_backward", g, xhat, rstd)
    if g.shape != xhat.shape or g.ndim != 2 or rstd.shape != (g.shape[0],):
        raise ValueError(f"layer_norm_backward: g {g.shape}, xhat {xhat.shape} and rstd {rstd.shape} do not match")
    w, has_w = _param("layer_norm_backward: weight", w, g.shape[1], g.dtype)
    dx = np.empty_like(g)
    kernel = _backward_parallel if g.size >= PARALLEL_MIN_ELEMENTS and g.shape[0] > 1 else _backward_serial
    kernel(g, xhat, rstd, w, has_w, dx)
    return dx
