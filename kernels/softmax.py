"""Softmax and log-softmax over the last axis, (R, C) rows: the row reductions (max, sums) and
the backward formulas fused in Numba, the exponentials left to NumPy (its vectorised exp is
several times faster than a scalar one in a Numba loop).  NumPy's own row reductions are slow
on short rows (a max over 64 entries costs as much as an exp), which is what this saves.

    softmax:      m = max_c x,  e = exp(x - m),  y = e / sum_c e
                  dx = y (g - sum_c g y)
    log_softmax:  m = max_c x,  y = (x - m) - log sum_c exp(x - m)
                  dx = g - exp(y) sum_c g

Sums accumulate in float64 whatever the dtype; rows are split across Numba's threads when the
array is large.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_MIN_ELEMENTS, check_contiguous, check_float, check_same_device, contiguous, is_numpy


# ----------------------------------------------------------------------------- NumPy references
def softmax_forward_ref(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward_ref(y, g):
    return y * (g - (g * y).sum(axis=-1, keepdims=True))


def log_softmax_forward_ref(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def log_softmax_backward_ref(y, g):
    return g - np.exp(y) * g.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------- row loops
def _subtract_row_max(x, out):
    """out = x - max over each row.  Four running maxima per row, not one: a single one is a
    chain of dependent compares that LLVM does not vectorise (2x slower on rows of 64)."""
    C = x.shape[1]
    for r in prange(x.shape[0]):
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
        for c in range(C):
            out[r, c] = x[r, c] - m


def _divide_by_row_sum(e):
    """e /= its row sums, in place."""
    T = e.dtype.type
    for r in prange(e.shape[0]):
        total = 0.0
        for c in range(e.shape[1]):
            total += e[r, c]
        inv = T(1.0 / total)
        for c in range(e.shape[1]):
            e[r, c] *= inv


def _subtract_log_row_sum(shifted, e):
    """shifted -= log(row sums of e), in place."""
    T = shifted.dtype.type
    for r in prange(e.shape[0]):
        total = 0.0
        for c in range(e.shape[1]):
            total += e[r, c]
        lse = T(math.log(total))
        for c in range(e.shape[1]):
            shifted[r, c] -= lse


def _softmax_backward(y, g, out):
    T = y.dtype.type
    for r in prange(y.shape[0]):
        total = 0.0
        for c in range(y.shape[1]):
            total += g[r, c] * y[r, c]
        t = T(total)
        for c in range(y.shape[1]):
            out[r, c] = y[r, c] * (g[r, c] - t)


def _log_softmax_backward(ey, g):
    """ey = exp(y) becomes g - ey * sum(g), in place."""
    T = ey.dtype.type
    for r in prange(ey.shape[0]):
        total = 0.0
        for c in range(ey.shape[1]):
            total += g[r, c]
        t = T(total)
        for c in range(ey.shape[1]):
            ey[r, c] = g[r, c] - ey[r, c] * t


# each loop compiled twice: serial (prange runs as range) and threaded.  The row sums may be
# reassociated (LLVM then vectorises them: 4x faster on rows of 64); they still add in float64.
_SUMS = {"reassoc", "nsz"}
_LOOPS = {"subtract_row_max": (_subtract_row_max, False), "divide_by_row_sum": (_divide_by_row_sum, _SUMS),
          "subtract_log_row_sum": (_subtract_log_row_sum, _SUMS), "softmax_backward": (_softmax_backward, _SUMS),
          "log_softmax_backward": (_log_softmax_backward, _SUMS)}
_SERIAL = {name: njit(cache=True, nogil=True, fastmath=fm)(fn) for name, (fn, fm) in _LOOPS.items()}
_PARALLEL = {name: njit(cache=True, nogil=True, parallel=True, fastmath=fm)(fn) for name, (fn, fm) in _LOOPS.items()}


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


def _run(name, size, *args):
    """The loop ``name`` on one thread for small arrays (waking the pool costs more than it
    saves), split across Numba's threads for large ones."""
    _SERIAL[name](*args) if size < PARALLEL_MIN_ELEMENTS else _PARALLEL[name](*args)


def softmax_forward(x):
    """softmax(x) along the last axis of a CPU float array."""
    (rows,) = _rows("softmax_forward", x)
    e = np.empty_like(rows)
    _run("subtract_row_max", e.size, rows, e)
    np.exp(e, out=e)
    _run("divide_by_row_sum", e.size, e)
    return e.reshape(x.shape)


def softmax_backward(y, g):
    """y (g - sum(g y)) along the last axis; ``y`` is the forward's output."""
    yr, gr = _rows("softmax_backward", y, g)
    out = np.empty_like(yr)
    _run("softmax_backward", out.size, yr, gr, out)
    return out.reshape(y.shape)


def log_softmax_forward(x):
    """log_softmax(x) along the last axis of a CPU float array."""
    (rows,) = _rows("log_softmax_forward", x)
    shifted = np.empty_like(rows)
    _run("subtract_row_max", shifted.size, rows, shifted)
    e = np.exp(shifted)
    _run("subtract_log_row_sum", e.size, shifted, e)
    return shifted.reshape(x.shape)


def log_softmax_backward(y, g):
    """g - exp(y) sum(g) along the last axis; ``y`` is the forward's output."""
    yr, gr = _rows("log_softmax_backward", y, g)
    out = np.exp(yr)
    _run("log_softmax_backward", out.size, out, gr)
    return out.reshape(y.shape)
