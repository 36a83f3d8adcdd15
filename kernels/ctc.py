"""The CTC forward and backward variables (see ``minigrad/ops/ctc.py`` for the recursion).

Shapes: emissions em (T, N, S') = lp[t, n, l'_{n, s}], -inf at the states past 2 L_n + 1;
skip (N, S') bool, whether state s may be entered from s - 2; input_lengths (N,) int64 in
[1, T]; target_lengths (N,) int64 with 2 L_n + 1 <= S'.  Both variables are -inf at frames
t >= T_n.  One sequence per thread; the NumPy references loop over frames, vectorised over
sequences and states.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import FLOATS, check_contiguous, is_numpy


# ----------------------------------------------------------------------------- NumPy references
def _lse3(a, b, c):
    return np.logaddexp(np.logaddexp(a, b), c)


def _shift(a, k, fill):
    """``a`` moved k states to the right along the last axis (filled with ``fill``), or left for k < 0."""
    out = np.full_like(a, fill)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def ctc_alpha_ref(em, skip, input_lengths):
    """alpha_t(s) = em[t, s] + lse(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2) where skip)."""
    T = em.shape[0]
    alpha = np.full(em.shape, -np.inf, dtype=em.dtype)
    alpha[0, :, :2] = em[0, :, :2]
    for t in range(1, T):
        prev = alpha[t - 1]
        step = em[t] + _lse3(prev, _shift(prev, 1, -np.inf), np.where(skip, _shift(prev, 2, -np.inf), -np.inf))
        alpha[t] = np.where((t < input_lengths)[:, None], step, -np.inf)
    return alpha


def ctc_beta_ref(em, skip, input_lengths, target_lengths):
    """beta_t(s) = em[t, s] + lse(beta_{t+1}(s), beta_{t+1}(s+1), beta_{t+1}(s+2) where s may skip),
    each sequence starting at its own last frame T_n - 1 from its last two states."""
    T, N, _ = em.shape
    beta = np.full(em.shape, -np.inf, dtype=em.dtype)
    last = input_lengths - 1
    skip_next = _shift(skip, -2, False)                     # may s + 2 be entered from s
    n = np.arange(N)
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            nxt = beta[t + 1]
            step = _lse3(nxt, _shift(nxt, -1, -np.inf), np.where(skip_next, _shift(nxt, -2, -np.inf), -np.inf))
            beta[t] = np.where((t < last)[:, None], em[t] + step, -np.inf)
        ending = n[last == t]
        beta[t, ending, 2 * target_lengths[ending]] = em[t, ending, 2 * target_lengths[ending]]
        with_label = ending[target_lengths[ending] > 0]
        beta[t, with_label, 2 * target_lengths[with_label] - 1] = em[t, with_label, 2 * target_lengths[with_label] - 1]
    return beta


# ----------------------------------------------------------------------------- Numba (CPU)
@njit(cache=True, nogil=True, inline="always")
def _lse(a, b, c):
    """log(exp a + exp b + exp c), the exps of -inf terms skipped."""
    m = max(a, max(b, c))
    if m == -np.inf:
        return m
    total = 0.0
    if a != -np.inf:
        total += np.exp(a - m)
    if b != -np.inf:
        total += np.exp(b - m)
    if c != -np.inf:
        total += np.exp(c - m)
    return m + np.log(total)


@njit(cache=True, nogil=True, parallel=True)
def _alpha_kernel(em, skip, input_lengths, alpha):
    T, N, S = em.shape
    ninf = -np.inf
    for n in prange(N):
        for s in range(S):
            alpha[0, n, s] = em[0, n, s] if s < 2 else ninf
        for t in range(1, T):
            for s in range(S):
                if t >= input_lengths[n] or em[t, n, s] == ninf:
                    alpha[t, n, s] = ninf
                    continue
                b = alpha[t - 1, n, s - 1] if s >= 1 else ninf
                c = alpha[t - 1, n, s - 2] if s >= 2 and skip[n, s] else ninf
                alpha[t, n, s] = em[t, n, s] + _lse(alpha[t - 1, n, s], b, c)


@njit(cache=True, nogil=True, parallel=True)
def _beta_kernel(em, skip, input_lengths, target_lengths, beta):
    T, N, S = em.shape
    ninf = -np.inf
    for n in prange(N):
        last = input_lengths[n] - 1
        for t in range(T - 1, last, -1):
            for s in range(S):
                beta[t, n, s] = ninf
        for s in range(S):
            beta[last, n, s] = ninf
        end = 2 * target_lengths[n]
        beta[last, n, end] = em[last, n, end]
        if end >= 1:
            beta[last, n, end - 1] = em[last, n, end - 1]
        for t in range(last - 1, -1, -1):
            for s in range(S):
                if em[t, n, s] == ninf:
                    beta[t, n, s] = ninf
                    continue
                b = beta[t + 1, n, s + 1] if s + 1 < S else ninf
                c = beta[t + 1, n, s + 2] if s + 2 < S and skip[n, s + 2] else ninf
                beta[t, n, s] = em[t, n, s] + _lse(beta[t + 1, n, s], b, c)


# ----------------------------------------------------------------------------- public
def _check(name, em, skip, input_lengths, target_lengths=None):
    if not all(is_numpy(a) for a in (em, skip, input_lengths)):
        raise TypeError(f"{name}: NumPy arrays expected (the recursion runs on the host)")
    if em.dtype not in FLOATS or em.ndim != 3:
        raise TypeError(f"{name}: emissions must be a (T, N, S) float32/float64 array, got {em.dtype} {em.shape}")
    T, N, S = em.shape
    if skip.dtype != np.bool_ or skip.shape != (N, S):
        raise ValueError(f"{name}: skip must be a ({N}, {S}) bool array, got {skip.dtype} {skip.shape}")
    if input_lengths.dtype != np.int64 or input_lengths.shape != (N,) or \
            (N and (input_lengths.min() < 1 or input_lengths.max() > T)):
        raise ValueError(f"{name}: input_lengths must be ({N},) int64 in [1, {T}]")
    if target_lengths is not None and (target_lengths.dtype != np.int64 or target_lengths.shape != (N,) or
                                       (N and (target_lengths.min() < 0 or 2 * target_lengths.max() + 1 > S))):
        raise ValueError(f"{name}: target_lengths must be ({N},) int64 with 2 L + 1 <= {S}")
    check_contiguous(name, em, skip)


def ctc_alpha(em, skip, input_lengths):
    """The forward variables (T, N, S') in em's dtype."""
    _check("ctc_alpha", em, skip, input_lengths)
    alpha = np.empty_like(em)
    if em.size:
        _alpha_kernel(em, skip, input_lengths, alpha)
    return alpha


def ctc_beta(em, skip, input_lengths, target_lengths):
    """The backward variables (T, N, S') in em's dtype."""
    _check("ctc_beta", em, skip, input_lengths, target_lengths)
    beta = np.empty_like(em)
    if em.size:
        _beta_kernel(em, skip, input_lengths, target_lengths, beta)
    return beta
