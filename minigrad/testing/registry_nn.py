"""Registry entries for the ``nn.functional`` additions of issue 12: more activations,
normalisations, distances and losses (NumPy references written from the formulas)."""
from __future__ import annotations

import math

import numpy as np

from ..ops import activation_extra as _act
from .registry import OpSpec, Sample, register


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_softplus(x):
    return np.logaddexp(0, x)


def _pointwise(name, fn, ref, torch, domain="real", kwargs=None, scale=1.0, **opts):
    """A pointwise activation on one drawn tensor, ``scale`` widening the domain (kinks stay avoided:
    offgrid values times 2 are 1/8 + k/4, never an integer)."""
    def sample(d, dtype):
        x = np.asarray(d.floats(d.shape(), domain, dtype=dtype) * dtype(scale))
        return Sample([x], kwargs(d) if kwargs else {})
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


_SA, _SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# ----------------------------------------------------------------------------- activations
_pointwise("silu", _act.silu, lambda x: x * _np_sigmoid(x), lambda t, x: t.nn.functional.silu(x))
_pointwise("mish", _act.mish, lambda x: x * np.tanh(_np_softplus(x)), lambda t, x: t.nn.functional.mish(x))
_pointwise("elu", lambda x, alpha: _act.elu(x, alpha), lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
           lambda t, x, alpha: t.nn.functional.elu(x, alpha), domain="nonzero",
           kwargs=lambda d: {"alpha": d.choice([1.0, 0.5])})
_pointwise("selu", _act.selu, lambda x: _SS * np.where(x > 0, x, _SA * np.expm1(x)),
           lambda t, x: t.nn.functional.selu(x), domain="nonzero")
_pointwise("celu", lambda x, alpha: _act.celu(x, alpha),
           lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
           lambda t, x, alpha: t.nn.functional.celu(x, alpha), domain="nonzero",
           kwargs=lambda d: {"alpha": d.choice([1.0, 0.5, 2.0])})
_pointwise("relu6", _act.relu6, lambda x: np.clip(x, 0, 6), lambda t, x: t.nn.functional.relu6(x),
           domain="offgrid", scale=4.0)
_pointwise("hardtanh", lambda x, min_val, max_val: _act.hardtanh(x, min_val, max_val),
           lambda x, min_val, max_val: np.clip(x, min_val, max_val),
           lambda t, x, min_val, max_val: t.nn.functional.hardtanh(x, min_val, max_val), domain="offgrid",
           kwargs=lambda d: d.choice([{"min_val": -1.0, "max_val": 1.0}, {"min_val": -0.5, "max_val": 1.5}]))
_pointwise("hardswish", _act.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6,
           lambda t, x: t.nn.functional.hardswish(x), domain="offgrid", scale=2.0)
_pointwise("hardsigmoid", _act.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6,
           # PyTorch's float64 hardsigmoid backward multiplies by a float32 1/6 (off by 3e-8): its definition instead
           lambda t, x: t.nn.functional.relu6(x + 3) / 6, domain="offgrid", scale=2.0)
_pointwise("logsigmoid", _act.logsigmoid, lambda x: -_np_softplus(-x), lambda t, x: t.nn.functional.logsigmoid(x))
_pointwise("softsign", _act.softsign, lambda x: x / (1 + np.abs(x)), lambda t, x: t.nn.functional.softsign(x),
           domain="nonzero")
_pointwise("threshold", lambda x, threshold, value: _act.threshold(x, threshold, value),
           lambda x, threshold, value: np.where(x > threshold, x, value),
           lambda t, x, threshold, value: t.nn.functional.threshold(x, threshold, value), domain="offgrid",
           kwargs=lambda d: {"threshold": d.choice([0.0, 0.5]), "value": d.choice([-1.0, 2.0])})
_pointwise("tanhshrink", _act.tanhshrink, lambda x: x - np.tanh(x), lambda t, x: t.nn.functional.tanhshrink(x))


def _softmin_ref(x, dim):
    e = np.exp(-x - (-x).max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _dim_sample(d, dtype):
    shape = d.shape(min_dims=1)
    return Sample([d.floats(shape, dtype=dtype)], {"dim": d.integers(-len(shape), len(shape) - 1)})


register(OpSpec("softmin", lambda x, dim: _act.softmin(x, dim), _softmin_ref, _dim_sample,
                lambda t, x, dim: t.nn.functional.softmin(x, dim)))


def _glu_sample(d, dtype):
    shape = list(d.shape(min_dims=1, max_side=3))
    dim = d.integers(-len(shape), len(shape) - 1)
    shape[dim] *= 2
    return Sample([d.floats(tuple(shape), dtype=dtype)], {"dim": dim})


def _np_glu(x, dim):
    a, b = np.split(x, 2, axis=dim)
    return a * _np_sigmoid(b)


register(OpSpec("glu", lambda x, dim: _act.glu(x, dim), _np_glu, _glu_sample,
                lambda t, x, dim: t.nn.functional.glu(x, dim)))


def _prelu_sample(d, dtype):
    shape = d.shape(min_dims=1)
    channels = shape[1] if len(shape) >= 2 else 1
    n = d.choice([1, channels])
    return Sample([d.floats(shape, "nonzero", dtype=dtype), d.floats((n,), "positive", dtype=dtype) * dtype(0.5)])


def _np_prelu(x, w):
    shape = (1, w.size) + (1,) * (x.ndim - 2) if x.ndim >= 2 and w.size > 1 else (1,) * x.ndim
    return np.where(x > 0, x, x * w.reshape(shape))


register(OpSpec("prelu", _act.prelu, _np_prelu, _prelu_sample, lambda t, x, w: t.nn.functional.prelu(x, w)))
