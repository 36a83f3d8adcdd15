"""Batch-norm statistics, normalisation and backward, fused per channel.

Shapes: x and g (N, C, S) with S the flattened spatial size (1 for (N, C) inputs); per-channel
mean, rstd = 1 / sqrt(var + eps), weight w and bias b (C,).  With n = N S and xhat = (x - mean) rstd:

    stats:     mean = sum x / n,  var = sum (x - mean)^2 / n                 (two passes, accumulated in float64)
    apply:     y = x * scale + shift  with scale = rstd w, shift = b - mean scale     (one pass)
    backward:  sg = sum g,  sgx = sum g xhat                                  (one pass)
               dx = rstd w (g - sg / n - xhat sgx / n),  dw = sgx,  db = sg    (one pass)

NumPy's version of the same needs about ten passes over x and a saved xhat; here backward
recomputes xhat from x, so x is all the op keeps.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_MIN_ELEMENTS, check_float, contiguous, is_numpy


# ----------------------------------------------------------------------------- NumPy references
def batch_norm_stats_ref(x):
    return x.mean(axis=(0, 2), dtype=np.float64).astype(x.dtype), x.var(axis=(0, 2), dtype=np.float64).astype(x.dtype)


def batch_norm_apply_ref(x, scale, shift):
    return (x * scale[None, :, None] + shift[None, :, None]).astype(x.dtype)


def batch_norm_backward_ref(g, x, mean, rstd, w, training):
    n = x.shape[0] * x.shape[2]
    xhat = (x - mean[None, :, None]) * rstd[None, :, None]
    sg = g.sum(axis=(0, 2), dtype=np.float64)
    sgx = (g * xhat).sum(axis=(0, 2), dtype=np.float64)
    k = (rstd * w)[None, :, None]
    dx = k * (g - sg[None, :, None] / n - xhat * sgx[None, :, None] / n) if training else k * g
    return dx.astype(x.dtype), sgx.astype(x.dtype), sg.astype(x.dtype)


# ----------------------------------------------------------------------------- Numba (CPU)
# fastmath lets LLVM reassociate the sums, i.e. vectorise the reductions (4-8x faster); they
# accumulate in float64, so the reordering costs no accuracy that matters here
@njit(cache=True, nogil=True, fastmath=True, inline="always")
def _channel_stats(x, c):
    n_total = x.shape[0] * x.shape[2]
    acc = 0.0
    for i in range(x.shape[0]):
        for s in range(x.shape[2]):
            acc += x[i, c, s]
    mean = acc / n_total
    sq = 0.0
    for i in range(x.shape[0]):
        for s in range(x.shape[2]):
            d = x[i, c, s] - mean
            sq += d * d
    return mean, sq / n_total


@njit(cache=True, nogil=True, parallel=True, fastmath=True)
def _stats(x, mean, var):
    for c in prange(x.shape[1]):
        m, v = _channel_stats(x, c)
        mean[c] = m
        var[c] = v


@njit(cache=True, nogil=True, parallel=True)
def _apply(x, scale, shift, y):
    for c in prange(x.shape[1]):
        a, b = scale[c], shift[c]
        for i in range(x.shape[0]):
            for s in range(x.shape[2]):
                y[i, c, s] = x[i, c, s] * a + b


@njit(cache=True, nogil=True, parallel=True, fastmath=True)
def _backward(g, x, mean, rstd, w, training, dx, dw, db):
    T = x.dtype.type
    inv_n = 1.0 / (x.shape[0] * x.shape[2])
    for c in prange(x.shape[1]):
        m, r = mean[c], rstd[c]
        sg = 0.0
        sgx = 0.0
        for i in range(x.shape[0]):
            for s in range(x.shape[2]):
                gi = g[i, c, s]
                sg += gi
                sgx += gi * ((x[i, c, s] - m) * r)
        dw[c] = sgx
        db[c] = sg
        k = r * w[c]
        a = T(sg * inv_n) if training else T(0.0)
        bcoef = T(sgx * inv_n) if training else T(0.0)
        for i in range(x.shape[0]):
            for s in range(x.shape[2]):
                xhat = (x[i, c, s] - m) * r
                dx[i, c, s] = k * (g[i, c, s] - a - xhat * bcoef)


# ----------------------------------------------------------------------------- entry points
def _check(name, x, *per_channel):
    check_float(name, x, *per_channel)
    if x.ndim != 3:
        raise ValueError(f"{name}: expected x of shape (N, C, S), got {x.shape}")
    for p in per_channel:
        if p.shape != (x.shape[1],):
            raise ValueError(f"{name}: per-channel arrays must have shape ({x.shape[1]},), got {p.shape}")


def batch_norm_stats(x):
    """Per-channel (mean, biased variance) of x (N, C, S)."""
    _check("batch_norm_stats", x)
    if not is_numpy(x) or x.size < PARALLEL_MIN_ELEMENTS // 8:
        mean = x.mean(axis=(0, 2), dtype=np.float64)
        return mean.astype(x.dtype), (((x - mean[None, :, None].astype(x.dtype)) ** 2).mean(axis=(0, 2))).astype(x.dtype)
    x = contiguous(x)
    mean, var = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
    _stats(x, mean, var)
    return mean, var


def batch_norm_apply(x, scale, shift):
    """y = x * scale + shift per channel."""
    _check("batch_norm_apply", x, scale, shift)
    if not is_numpy(x) or x.size < PARALLEL_MIN_ELEMENTS // 8:
        return x * scale[None, :, None] + shift[None, :, None]
    x = contiguous(x)
    y = np.empty_like(x)
    _apply(x, contiguous(scale), contiguous(shift), y)
    return y


def batch_norm_backward(g, x, mean, rstd, w, training=True):
    """(dx, dw, db); in evaluation mode (``training=False``) the statistics are constants."""
    _check("batch_norm_backward", x, mean, rstd, w)
    if g.shape != x.shape:
        raise ValueError(f"batch_norm_backward: gradient of shape {g.shape} for input of shape {x.shape}")
    if not is_numpy(x) or x.size < PARALLEL_MIN_ELEMENTS // 8:     # CuPy, or too small for threads
        n = x.shape[0] * x.shape[2]
        xhat = (x - mean[None, :, None]) * rstd[None, :, None]
        sg, sgx = g.sum(axis=(0, 2)), (g * xhat).sum(axis=(0, 2))
        k = (rstd * w)[None, :, None]
        dx = k * (g - sg[None, :, None] / n - xhat * (sgx[None, :, None] / n)) if training else k * g
        return dx.astype(x.dtype, copy=False), sgx.astype(x.dtype, copy=False), sg.astype(x.dtype, copy=False)
    g, x = contiguous(g), contiguous(x)
    dx = np.empty_like(x)
    dw, db = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
    _backward(g, x, contiguous(mean), contiguous(rstd), contiguous(w), training, dx, dw, db)
    return dx, dw, db
