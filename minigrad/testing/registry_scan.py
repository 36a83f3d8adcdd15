"""Registry entries for ops/scan.py: prod, scans, median, nan-reductions, norms, var_mean/std_mean, aminmax.

Products draw nonzero values with at most one zero (the gradient's zero cases are second-order
exact there; more zeros: tests/test_math.py); max-like ops draw distinct values (no ties), norms
distinct absolute values off zero (no kinks).
"""
from __future__ import annotations

import math

import numpy as np

import minigrad as mg

from .registry import OpSpec, Sample, _np_dims, _reduction_dims, register


def _dim(d, shape):
    return d.integers(-len(shape), len(shape) - 1) if shape else 0


def _prod_sample(d, dtype):
    shape = d.shape()
    x = d.floats(shape, "nonzero", dtype=dtype)
    if x.size and d.boolean():
        x.reshape(-1)[d.integers(0, x.size - 1)] = 0
    dim = d.choice([None, _dim(d, shape)])
    return Sample([x], {"dim": dim, "keepdim": d.boolean()})


def _np_prod(x, dim, keepdim):
    return np.prod(x) if dim is None else np.prod(x, axis=dim, keepdims=keepdim)


def _torch_prod(t, x, dim, keepdim):
    return t.prod(x) if dim is None else t.prod(x, dim, keepdim=keepdim)


register(OpSpec("prod", lambda x, dim, keepdim: mg.prod(x, dim, keepdim), _np_prod, _prod_sample, _torch_prod))


def _scan_sample(domain="real", unique=False):
    def sample(d, dtype):
        shape = d.shape()
        return Sample([d.floats(shape, domain, unique=unique, dtype=dtype)], {"dim": _dim(d, shape)})
    return sample


def _np_scan(fn):
    return lambda x, dim: fn(x.reshape(1), axis=0).reshape(()) if x.ndim == 0 else fn(x, axis=dim)


def _np_logcumsumexp(x, axis):
    return np.logaddexp.accumulate(x, axis=axis)


def _np_cum_extreme(ufunc):
    def ref(x, dim):
        if x.ndim == 0:
            return x.copy(), np.zeros((), np.int64)
        values = ufunc.accumulate(x, axis=dim)
        positions = np.arange(x.shape[dim]).reshape([-1 if k == dim % x.ndim else 1 for k in range(x.ndim)])
        return values, np.maximum.accumulate(np.where(x == values, positions, 0), axis=dim)
    return ref


register(OpSpec("cumsum", lambda x, dim: x.cumsum(dim), _np_scan(np.cumsum), _scan_sample(),
                lambda t, x, dim: t.cumsum(x, dim)))
register(OpSpec("cumprod", lambda x, dim: mg.cumprod(x, dim), _np_scan(np.cumprod), _scan_sample("nonzero"),
                lambda t, x, dim: t.cumprod(x, dim)))
register(OpSpec("logcumsumexp", lambda x, dim: x.logcumsumexp(dim), _np_scan(_np_logcumsumexp), _scan_sample(),
                lambda t, x, dim: t.logcumsumexp(x, dim)))
register(OpSpec("cummax", lambda x, dim: tuple(mg.cummax(x, dim)), _np_cum_extreme(np.maximum),
                _scan_sample(unique=True), lambda t, x, dim: tuple(t.cummax(x, dim))))
register(OpSpec("cummin", lambda x, dim: tuple(x.cummin(dim)), _np_cum_extreme(np.minimum),
                _scan_sample(unique=True), lambda t, x, dim: tuple(t.cummin(x, dim))))


def _median_dim_sample(d, dtype):
    shape = d.shape()
    return Sample([d.floats(shape, unique=True, dtype=dtype)], {"dim": _dim(d, shape), "keepdim": d.boolean()})


def _np_median_dim(x, dim, keepdim):
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int64)
    n = x.shape[dim]
    index = np.take(np.argsort(x, axis=dim, kind="stable"), [(n - 1) // 2], axis=dim)
    values = np.take_along_axis(x, index, axis=dim)
    return (values, index) if keepdim else (values.squeeze(dim), index.squeeze(dim))


register(OpSpec("median", lambda x: mg.median(x), lambda x: np.sort(x.reshape(-1))[(x.size - 1) // 2],
                lambda d, dt: Sample([d.floats(d.shape(), unique=True, dtype=dt)]), lambda t, x: t.median(x)))
register(OpSpec("median_dim", lambda x, dim, keepdim: tuple(x.median(dim, keepdim)), _np_median_dim,
                _median_dim_sample, lambda t, x, dim, keepdim: tuple(t.median(x, dim, keepdim)), covers="median"))


def _nan_sample(d, dtype):
    shape = d.shape(min_dims=1, min_side=2)             # every slice keeps a number
    x = d.floats(shape, dtype=dtype)
    x.reshape(-1)[0] = np.nan
    return Sample([x], {"dim": d.choice([None, _dim(d, shape)]), "keepdim": d.boolean()})


def _np_nan(fn):
    return lambda x, dim, keepdim: fn(x, axis=dim, keepdims=keepdim)


def _torch_nan(name):
    def call(t, x, dim, keepdim):
        return getattr(t, name)(x) if dim is None and not keepdim else getattr(t, name)(
            x, dim=list(range(x.ndim)) if dim is None else dim, keepdim=keepdim)
    return call


register(OpSpec("nansum", lambda x, dim, keepdim: mg.nansum(x, dim, keepdim), _np_nan(np.nansum), _nan_sample,
                _torch_nan("nansum"), allow_nonfinite=True))
register(OpSpec("nanmean", lambda x, dim, keepdim: x.nanmean(dim, keepdim), _np_nan(np.nanmean), _nan_sample,
                _torch_nan("nanmean"), allow_nonfinite=True))


def _norm_sample(d, dtype):
    shape = d.shape(min_dims=1)
    x = (d.floats(shape, unique=True, dtype=np.float64) + 1 / 64).astype(dtype)   # distinct |x|, none zero
    return Sample([x], {"p": d.choice([2, 1, math.inf, -math.inf, 0, "fro", 3, 0.5]),
                        "dim": _reduction_dims(d, len(shape)) or None, "keepdim": d.boolean()})


def _np_norm(x, p, dim, keepdim):
    axes = _np_dims(dim, x.ndim)
    a = np.abs(x)
    if p == "fro":
        p = 2
    if p == math.inf:
        return a.max(axis=axes, keepdims=keepdim)
    if p == -math.inf:
        return a.min(axis=axes, keepdims=keepdim)
    if p == 0:
        return (x != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
    return (a ** p).sum(axis=axes, keepdims=keepdim) ** (1 / p)


def _torch_norm(t, x, p, dim, keepdim):
    return t.linalg.vector_norm(x, 2 if p == "fro" else p, dim=dim, keepdim=keepdim)


register(OpSpec("norm", lambda x, p, dim, keepdim: x.norm(p, dim, keepdim), _np_norm, _norm_sample, _torch_norm))


def _dist_sample(d, dtype):
    (sa, sb), _ = d.broadcast_shapes(2)
    return Sample([d.floats(sa, "grid", dtype=dtype), d.floats(sb, "offgrid", dtype=dtype)], {"p": d.choice([2, 1, 3])})


register(OpSpec("dist", lambda a, b, p: mg.dist(a, b, p), lambda a, b, p: _np_norm(a - b, p, None, False),
                _dist_sample, lambda t, a, b, p: t.dist(a, b, p)))


def _var_mean_sample(d, dtype):
    shape = d.shape(min_dims=1, min_side=2)
    return Sample([d.floats(shape, unique=True, dtype=dtype)],
                  {"dim": _reduction_dims(d, len(shape)) or None, "keepdim": d.boolean(),
                   "correction": d.choice([0, 1])})


def _np_var_mean(sqrt):
    def ref(x, dim, keepdim, correction):
        axes = _np_dims(dim, x.ndim)
        v = np.var(x, axis=axes, keepdims=keepdim, ddof=correction)
        return (np.sqrt(v) if sqrt else v), np.mean(x, axis=axes, keepdims=keepdim)
    return ref


def _torch_var_mean(name):
    def call(t, x, dim, keepdim, correction):
        return tuple(getattr(t, name)(x, dim=list(range(x.ndim)) if dim is None else dim, keepdim=keepdim,
                                      correction=correction))
    return call


def _var_mean_call(fn):
    return lambda x, dim, keepdim, correction: fn(x, dim, keepdim=keepdim, correction=correction)


register(OpSpec("var_mean", _var_mean_call(mg.var_mean), _np_var_mean(False), _var_mean_sample,
                _torch_var_mean("var_mean")))
register(OpSpec("std_mean", _var_mean_call(mg.std_mean), _np_var_mean(True), _var_mean_sample,
                _torch_var_mean("std_mean")))


def _aminmax_sample(d, dtype):
    shape = d.shape()
    return Sample([d.floats(shape, unique=True, dtype=dtype)],
                  {"dim": d.choice([None, _dim(d, shape)]), "keepdim": d.boolean()})


def _np_aminmax(x, dim, keepdim):
    return np.min(x, axis=dim, keepdims=keepdim), np.max(x, axis=dim, keepdims=keepdim)


register(OpSpec("aminmax", lambda x, dim, keepdim: tuple(x.aminmax(dim=dim, keepdim=keepdim)), _np_aminmax,
                _aminmax_sample, lambda t, x, dim, keepdim: tuple(t.aminmax(x, dim=dim, keepdim=keepdim))))
