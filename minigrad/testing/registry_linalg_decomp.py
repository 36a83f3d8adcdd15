"""Registry entries for ops/linalg_decomp.py: inverses, determinants, solves, Cholesky, eigh.

Samples are well conditioned: general matrices are diagonally dominant (A + 3n I, far from
singular); Cholesky factors A A^T + I, and eigh decomposes A + A^T with eigenvalues pulled at
least 1/2 apart, inside the function under test, so every perturbation gradcheck makes stays
symmetric positive-definite or symmetric (as PyTorch's own tests do).  Eigenvectors are only
defined up to sign: the eigh entry returns V * V, which is not.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg

from .registry import OpSpec, Sample, register


def _reg(name, fn, ref, sample, torch=None, **opts):
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _batch(d):
    return d.choice([(), (d.integers(1, 2),), (2, 1)])


def _dominant(d, dtype, n=None):
    n = n or d.integers(1, 3)
    return d.floats(_batch(d) + (n, n), dtype=dtype) + 3 * n * np.eye(n, dtype=dtype)


def _dominant_sample(d, dtype):
    return Sample([_dominant(d, dtype)])


_reg("inv", mg.linalg.inv, np.linalg.inv, _dominant_sample, lambda t, a: t.linalg.inv(a))
_reg("det", mg.linalg.det, np.linalg.det, _dominant_sample, lambda t, a: t.linalg.det(a))


def _signed_sample(d, dtype):
    a = _dominant(d, dtype)
    if d.boolean():                       # a negative determinant: swap two rows' roles by a sign
        a = a.copy()
        a[..., 0, :] *= -1
    return Sample([a])


_reg("slogdet", lambda a: tuple(mg.linalg.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)), _signed_sample,
     lambda t, a: tuple(t.linalg.slogdet(a)))
_reg("logdet", mg.logdet, lambda a: np.log(np.linalg.det(a)), _dominant_sample, lambda t, a: t.logdet(a))


def _solve_sample(d, dtype):
    a = _dominant(d, dtype)
    n = a.shape[-1]
    kind = d.choice(["matrix", "vector", "right"])
    if kind == "matrix":
        b = d.floats(a.shape[:-2] + (n, d.integers(1, 3)), dtype=dtype)
    elif kind == "vector":
        b = d.floats(a.shape[:-2] + (n,) if d.boolean() else (n,), dtype=dtype)
    else:
        b = d.floats(a.shape[:-2] + (d.integers(1, 3), n), dtype=dtype)
    return Sample([a, b], {"left": kind != "right"})


def _np_solve(a, b, left):
    if not left:
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


_reg("solve", lambda a, b, left: mg.linalg.solve(a, b, left=left), _np_solve, _solve_sample,
     lambda t, a, b, left: t.linalg.solve(a, b, left=left))


def _spd(xp_eye):
    return lambda a: a @ a.swapaxes(-1, -2) + xp_eye(a.shape[-1], a.dtype)


def _cholesky_sample(d, dtype):
    n = d.integers(1, 3)
    return Sample([d.floats(_batch(d) + (n, n), dtype=dtype)], {"upper": d.boolean()})


def _mg_eye(n, dtype):
    return mg.eye(n, dtype=dtype)


def _np_cholesky(a, upper):
    low = np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + np.eye(a.shape[-1], dtype=a.dtype))
    return np.swapaxes(low, -1, -2) if upper else low


_reg("cholesky", lambda a, upper: mg.linalg.cholesky(_spd(_mg_eye)(a), upper=upper), _np_cholesky,
     _cholesky_sample,
     lambda t, a, upper: t.linalg.cholesky(a @ a.mT + t.eye(a.shape[-1], dtype=a.dtype), upper=upper))


def _symmetric_sample(d, dtype):
    """A with A + A^T having well separated eigenvalues: Q diag(w) Q^T / 2 with gaps >= 1/2."""
    n = d.integers(1, 3)
    batch = _batch(d)
    q, _ = np.linalg.qr(d.floats(batch + (n, n), "nonzero", dtype=np.float64) + 2 * np.eye(n))
    w = np.cumsum(d.floats(batch + (n,), "positive", dtype=np.float64) + 0.5, axis=-1) - n
    sym = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2) / 2
    upper = np.triu(d.floats(batch + (n, n), dtype=np.float64), 1) * 0.01
    return Sample([(sym + upper - np.swapaxes(upper, -1, -2)).astype(dtype)], {"UPLO": d.choice(["L", "U"])})


def _np_eigh(a, UPLO):
    w, v = np.linalg.eigh(a + np.swapaxes(a, -1, -2), UPLO=UPLO)
    return w, v * v


def _mg_eigh(a, UPLO):
    w, v = mg.linalg.eigh(a + a.mT, UPLO)
    return w, v * v


_reg("eigh", _mg_eigh, _np_eigh, _symmetric_sample,
     lambda t, a, UPLO: (lambda wv: (wv[0], wv[1] * wv[1]))(t.linalg.eigh(a + a.mT, UPLO)))
_reg("eigvalsh", lambda a, UPLO: mg.linalg.eigvalsh(a + a.mT, UPLO),
     lambda a, UPLO: np.linalg.eigvalsh(a + np.swapaxes(a, -1, -2), UPLO), _symmetric_sample,
     lambda t, a, UPLO: t.linalg.eigvalsh(a + a.mT, UPLO))


def _power_sample(d, dtype):
    n = d.integers(1, 3)
    # scaled towards the identity so that powers up to 4 (and inverse powers) stay well conditioned: entries
    # within 1/(4n) of it, so diagonally dominant (a / (2n) reached -2/2 + 1 = 0, singular, in a CI draw)
    a = d.floats(_batch(d) + (n, n), dtype=dtype) / (4 * n) + np.eye(n, dtype=dtype)
    return Sample([a], {"n": d.integers(-2, 4)})


_reg("matrix_power", lambda a, n: mg.linalg.matrix_power(a, n), lambda a, n: np.linalg.matrix_power(a, n),
     _power_sample, lambda t, a, n: t.linalg.matrix_power(a, n))
