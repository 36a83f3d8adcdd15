"""Softmax and log-softmax over the last axis, (R, C) rows, each row in one fused pass: the max,
the exponentials (``kernels/vexp.py``: exp as arithmetic that vectorises), the sum and the scaling
while the row is in cache.  NumPy needs five passes over memory for the same (max, subtract, exp,
sum, divide), and its row reductions are slow on short rows (a max over 64 entries costs as much
as an exp).  One thread: on this 2-core machine waking Numba's pool costs about 0.2 ms, more than
a (256, 1000) softmax takes.

    softmax:      m = max_c x,  e = exp(x - m),  y = e / sum_c e
                  dx = y (g - sum_c g y)
    with a scale a > 0 (attention's 1/sqrt(d), folded in to save a pass over the scores):
                  y = softmax(a x) = exp(a x - a m) / sum,   dx = a y (g - sum_c g y)
    log_softmax:  m = max_c x,  y = (x - m) - log sum_c exp(x - m)
                  dx = g - exp(y) sum_c g

Sums accumulate in float64 whatever the dtype.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._common import check_contiguous, check_float, check_same_device, contiguous, is_numpy
from .vexp import fast_exp


# ----------------------------------------------------------------------------- NumPy references
def softmax_forward_ref(x, scale=1.0):
    x = x * x.dtype.type(scale)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward_ref(y, g, scale=1.0):
    return y * (g - (g * y).sum(axis=-1, keepdims=True)) * y.dtype.type(scale)


def log_softmax_forward_ref(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def log_softmax_backward_ref(y, g):
    return g - np.exp(y) * g.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------- row loops
# The row sums may be reassociated (LLVM then vectorises them: 4x faster on rows of 64); they
# still add in float64.  The loops that take exponentials may not be: reassociation could undo
# exp's range reduction, so the sums live in these helpers, whose flags stay on their own
# instructions when LLVM inlines them; "contract" gives the exponentials fused multiply-adds.
_SUMS = {"reassoc", "nsz", "contract"}


@njit(cache=True, nogil=True)
def _row_max(x, r):
    """max over row r.  Four running maxima, not one: a single one is a chain of dependent
    compares that LLVM does not vectorise (3.5x slower on rows of 1000).  A NaN in the row may
    be missed here; it makes the row's sum NaN, and so the whole row, as in NumPy."""
    C = x.shape[1]
    m0 = m1 = m2 = m3 = x[r, 0]
    c = 0
    while c + 4 <= C:
        v0, v1, v2, v3 = x[r, c], x[r, c + 1], x[r, c + 2], x[r, c + 3]
        m0 = v0 if v0 > m0 else m0
        m1 = v1 if v1 > m1 else m1
        m2 = v2 if v2 > m2 else m2
        m3 = v3 if v3 > m3 else m3
        c += 4
    m = max(max(m0, m1), max(m2, m3))
    for c in range(c, C):
        m = x[r, c] if x[r, c] > m else m
    return m


@njit(cache=True, nogil=True, fastmath=_SUMS)
def _row_sum(a, r):
    total = 0.0
    for c in range(a.shape[1]):
        total += a[r, c]
    return total


@njit(cache=True, nogil=True, fastmath=_SUMS)
def _row_dot(a, b, r):
    total = 0.0
    for c in range(a.shape[1]):
        total += a[r, c] * b[r, c]
    return total


@njit(cache=True, nogil=True, fastmath={"contract"})
def _exp_row(x, r, m, out):
    """out[r] = exp(x[r] - m); returns the row's sum (both forwards' middle step)."""
    for c in range(x.shape[1]):
        out[r, c] = fast_exp(x[r, c] - m)
    return _row_sum(out, r)


@njit(cache=True, nogil=True, fastmath={"contract"})
def _exp_row_scaled(x, a, r, m, out):
    """out[r] = exp(a x[r] - m); returns the row's sum."""
    for c in range(x.shape[1]):
        out[r, c] = fast_exp(a * x[r, c] - m)
    return _row_sum(out, r)


@njit(cache=True, nogil=True, fastmath={"contract"})
def _softmax_forward(x, a, out):
    """softmax(a x) row by row, a > 0 (a == 1 skips the multiplications)."""
    T = x.dtype.type
    for r in range(x.shape[0]):
        m = _row_max(x, r)
        total = _exp_row(x, r, m, out) if a == T(1.0) else _exp_row_scaled(x, a, r, a * m, out)
        inv = T(1.0 / total)
        for c in range(x.shape[1]):
            out[r, c] *= inv


@njit(cache=True, nogil=True, fastmath={"contract"})
def _log_softmax_forward(x, out):
    """out holds each row's exponentials first, then the result."""
    T = x.dtype.type
    for r in range(x.shape[0]):
        m = _row_max(x, r)
        lse = T(math.log(_exp_row(x, r, m, out)))
        for c in range(x.shape[1]):
            out[r, c] = (x[r, c] - m) - lse


@njit(cache=True, nogil=True, fastmath={"contract"})
def _softmax_backward(y, g, a, out):
    T = y.dtype.type
    for r in range(y.shape[0]):
        t = T(_row_dot(g, y, r))
        for c in range(y.shape[1]):
            out[r, c] = a * y[r, c] * (g[r, c] - t)


@njit(cache=True, nogil=True, fastmath={"contract"})
def _log_softmax_backward(y, g, out):
    T = y.dtype.type
    for r in range(y.shape[0]):
        t = T(_row_sum(g, r))
        for c in range(y.shape[1]):
            out[r, c] = g[r, c] - fast_exp(y[r, c]) * t


# ----------------------------------------------------------------------------- public entry points
def _rows(name, *arrays):
    """Validate CPU float arrays of one shape with a non-empty last axis; return them as (R, C)."""
    check_float(name, *arrays)
    check_same_device(name, *arrays)
    shape = arrays[0].shape
    for a in arrays[1:]:
        if a.shape != shape:
            raise ValueError(f"{name}: arrays must share one shape, got {shape} and {a.shape}")
    if not all(is_numpy(a) for a in arrays):
        raise TypeError(f"{name}: the fused kernel runs on NumPy arrays (CPU)")
    if len(shape) == 0 or shape[-1] == 0:
        raise ValueError(f"{name}: expected at least one entry along the last axis, got shape {shape}")
    arrays = [contiguous(a) for a in arrays]
    check_contiguous(name, *arrays)
    return [a.reshape(-1, shape[-1]) for a in arrays]


def _positive_scale(name, scale, dtype):
    scale = float(scale)
    if not (scale > 0.0 and math.isfinite(scale)):
        raise ValueError(f"{name}: scale must be a positive finite number, got {scale}")
    return dtype.type(scale)


def softmax_forward(x, scale=1.0):
    """softmax(scale * x) along the last axis of a CPU float array (scale > 0)."""
    (rows,) = _rows("softmax_forward", x)
    a = _positive_scale("softmax_forward", scale, rows.dtype)
    out = np.empty_like(rows)
    _softmax_forward(rows, a, out)
    return out.reshape(x.shape)


def softmax_backward(y, g, scale=1.0):
    """scale * y (g - sum(g y)) along the last axis: the gradient with respect to x of
    softmax(scale * x), ``y`` the forward's output."""
    yr, gr = _rows("softmax_backward", y, g)
    a = _positive_scale("softmax_backward", scale, yr.dtype)
    out = np.empty_like(yr)
    _softmax_backward(yr, gr, a, out)
    return out.reshape(y.shape)


def log_softmax_forward(x):
    """log_softmax(x) along the last axis of a CPU float array."""
    (rows,) = _rows("log_softmax_forward", x)
    out = np.empty_like(rows)
    _log_softmax_forward(rows, out)
    return out.reshape(x.shape)


def log_softmax_backward(y, g):
    """g - exp(y) sum(g) along the last axis; ``y`` is the forward's output."""
    yr, gr = _rows("log_softmax_backward", y, g)
    out = np.empty_like(yr)
    _log_softmax_backward(yr, gr, out)
    return out.reshape(y.shape)
