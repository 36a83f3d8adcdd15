"""Registry entries for ops/math.py: elementwise math, special functions, rounding and remainders.

Inputs stay where each op is smooth: inside (-1, 1) for asin/acos/atanh/erfinv, above 1 for acosh,
positive for logarithms and the gamma family, away from the branch cut of atan2 and the kinks of
hypot and copysign, and (for rounding and remainders) on values whose quotients and scaled values
stay at least 1/32 away from a jump, so finite differences never cross one.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg

from ..kernels import special as _special
from .registry import OpSpec, Sample, register


def _unary(name, fn, ref, torch, domain="real", shift=0.0, **opts):
    def sample(d, dtype):
        return Sample([np.asarray(d.floats(d.shape(), domain, dtype=dtype) + shift, dtype=dtype)])
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _binary(name, fn, ref, torch, domains=("real", "real"), **opts):
    def sample(d, dtype):
        (sa, sb), _ = d.broadcast_shapes(2)
        return Sample([d.floats(sa, domains[0], dtype=dtype), d.floats(sb, domains[1], dtype=dtype)])
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _method(name):
    """The op as a Tensor method in both libraries: ``x.name(*rest)``."""
    return (lambda x, *rest: getattr(x, name)(*rest)), (lambda t, x, *rest: getattr(x, name)(*rest))


def _simple(name, ref, domain="real", shift=0.0, **opts):
    fn, torch = _method(name)
    _unary(name, fn, ref, torch, domain, shift, **opts)


_simple("sin", np.sin)
_simple("cos", np.cos)
_simple("tan", np.tan, "unit")
_simple("asin", np.arcsin, "unit")
_simple("acos", np.arccos, "unit")
_simple("atan", np.arctan)
_simple("sinh", np.sinh)
_simple("cosh", np.cosh)
_simple("asinh", np.arcsinh)
_simple("acosh", np.arccosh, "positive", shift=1.0)
_simple("atanh", np.arctanh, "unit")
_simple("log1p", np.log1p, "unit")
_simple("expm1", np.expm1)
_simple("log2", np.log2, "positive")
_simple("log10", np.log10, "positive")
_simple("exp2", np.exp2)
_simple("rsqrt", lambda x: 1 / np.sqrt(x), "positive")
_simple("reciprocal", lambda x: 1 / x, "nonzero")
_simple("square", np.square)
_simple("erfc", _special.erfc_ref)
_simple("erfinv", _special.erfinv_ref, "unit", rtol32=2e-4)
_simple("lgamma", _special.lgamma_ref, "positive")
_simple("digamma", _special.digamma_ref, "positive")
_simple("sinc", np.sinc, "nonzero")     # near 0 PyTorch's gradient cancels (ours: a series)
_simple("deg2rad", np.deg2rad)
_simple("rad2deg", np.rad2deg)
_simple("frac", lambda x: x - np.trunc(x), "offgrid")
# n >= 2 here: PyTorch's trigamma (n = 1) is off by up to 5e-10 relative (tests/test_math.py checks ours
# against mpmath); n = 1 is digamma's gradient, checked against finite differences there.
register(OpSpec("polygamma", lambda x, n: mg.polygamma(n, x), lambda x, n: _special.polygamma_ref(n, x),
                lambda d, dt: Sample([d.floats(d.shape(), "positive", dtype=dt)], {"n": d.integers(2, 3)}),
                lambda t, x, n: t.polygamma(n, x), rtol=1e-9))


def _binary_method(name, ref, domains=("real", "real"), **opts):
    fn, torch = _method(name)
    _binary(name, fn, ref, torch, domains, **opts)


_binary_method("atan2", np.arctan2, ("nonzero", "nonzero"))
_binary_method("hypot", np.hypot, ("nonzero", "nonzero"))
_binary_method("logaddexp", np.logaddexp)
_binary_method("xlogy", lambda x, y: x * np.log(y), ("nonzero", "positive"))
_binary_method("copysign", np.copysign, ("nonzero", "nonzero"))


def _lerp_sample(d, dtype):
    (s1, s2, s3), _ = d.broadcast_shapes(3)
    start, end = d.floats(s1, dtype=dtype), d.floats(s2, dtype=dtype)
    if d.boolean():
        return Sample([start, end], {"weight": d.choice([0.25, 0.75, -0.5, 1.5])})
    return Sample([start, end, d.floats(s3, dtype=dtype)])


register(OpSpec("lerp", lambda s, e, w=None, *, weight=None: mg.lerp(s, e, w if weight is None else weight),
                lambda s, e, w=None, *, weight=None: s + (w if weight is None else weight) * (e - s), _lerp_sample,
                lambda t, s, e, w=None, *, weight=None: t.lerp(s, e, w if weight is None else weight)))


def _nan_to_num_sample(d, dtype):
    shape = d.shape(min_dims=1)
    x = d.floats(shape, dtype=dtype)
    flat = x.reshape(-1)
    for k in range(flat.size):           # some entries NaN or infinite
        flat[k] = d.choice([flat[k], flat[k], np.nan, np.inf, -np.inf])
    # the defaults (the dtype's extremes) differ between float32 and the float64 reference: tests/test_math.py
    return Sample([x], {"nan": d.choice([0.0, 1.5]), "posinf": d.choice([1e30, 3.0]),
                        "neginf": d.choice([-1e30, -3.0])})


def _np_nan_to_num(x, nan, posinf, neginf):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


register(OpSpec("nan_to_num", lambda x, **kw: mg.nan_to_num(x, **kw), lambda x, **kw: _np_nan_to_num(x, **kw),
                _nan_to_num_sample, lambda t, x, **kw: t.nan_to_num(x, **kw), allow_nonfinite=True))


# ----------------------------------------------------------------------------- rounding: zero gradients
_simple("floor", np.floor, "offgrid")
_simple("ceil", np.ceil, "offgrid")
_simple("trunc", np.trunc, "offgrid")
_simple("sign", np.sign, "nonzero")
register(OpSpec("round", lambda x, decimals: mg.round(x, decimals=decimals),
                lambda x, decimals: np.round(x, decimals),
                lambda d, dt: Sample([d.floats(d.shape(), "offgrid", dtype=dt)], {"decimals": d.choice([0, 1, -1])}),
                lambda t, x, decimals: t.round(x, decimals=decimals)))


def _division_sample(d, dtype):
    """Dividends odd sixteenths, divisors nonzero eighths: quotients (2k+1)/(2m) are never whole."""
    (sa, sb), _ = d.broadcast_shapes(2)
    b = d.floats(sb, "grid", dtype=dtype)
    return Sample([d.floats(sa, "offgrid", dtype=dtype), np.where(b == 0, dtype(0.125), b).astype(dtype)])


def _np_trunc_div(a, b):
    return np.trunc(a / b)


for _name, _fn, _ref, _torch in [
        ("fmod", mg.fmod, np.fmod, lambda t, a, b: t.fmod(a, b)),
        ("remainder", mg.remainder, np.remainder, lambda t, a, b: t.remainder(a, b)),
        # PyTorch's floor_divide has no derivative (backward raises); its div(rounding_mode='floor') gives zero
        ("floor_divide", mg.floor_divide, np.floor_divide, lambda t, a, b: t.div(a, b, rounding_mode="floor"))]:
    register(OpSpec(_name, _fn, _ref, _division_sample, _torch))
register(OpSpec("mod_operator", lambda a, b: a % b, np.remainder, _division_sample, lambda t, a, b: a % b,
                covers="remainder"))
register(OpSpec("div_trunc", lambda a, b: mg.div(a, b, rounding_mode="trunc"), _np_trunc_div, _division_sample,
                lambda t, a, b: t.div(a, b, rounding_mode="trunc"), covers="floor_divide"))
register(OpSpec("div_floor", lambda a, b: a.div(b, rounding_mode="floor"), np.floor_divide, _division_sample,
                lambda t, a, b: t.div(a, b, rounding_mode="floor"), covers="floor_divide"))


# ----------------------------------------------------------------------------- compositions
def _clamp_one_sample(d, dtype):
    (shape,), full = d.broadcast_shapes(1)
    bound = d.choice([-0.5, 0.5]) if d.boolean() else d.floats(shape, "grid", dtype=dtype)
    return Sample([d.floats(full, "offgrid", dtype=dtype)], {"bound": bound})


def _bound(t, b):
    return t.as_tensor(b) if isinstance(b, np.ndarray) else b


register(OpSpec("clamp_min", lambda x, bound: mg.clamp_min(x, bound), lambda x, bound: np.maximum(x, bound),
                _clamp_one_sample, lambda t, x, bound: t.clamp_min(x, _bound(t, bound))))
register(OpSpec("clamp_max", lambda x, bound: x.clamp_max(bound), lambda x, bound: np.minimum(x, bound),
                _clamp_one_sample, lambda t, x, bound: t.clamp_max(x, _bound(t, bound))))


def _addc_sample(divide):
    def sample(d, dtype):
        (s0, s1, s2), _ = d.broadcast_shapes(3)
        return Sample([d.floats(s0, dtype=dtype), d.floats(s1, dtype=dtype),
                       d.floats(s2, "nonzero" if divide else "real", dtype=dtype)], {"value": d.choice([1, 0.5, -2.0])})
    return sample


register(OpSpec("addcmul", lambda x, a, b, value: mg.addcmul(x, a, b, value=value),
                lambda x, a, b, value: x + value * a * b, _addc_sample(False),
                lambda t, x, a, b, value: t.addcmul(x, a, b, value=value)))
register(OpSpec("addcdiv", lambda x, a, b, value: x.addcdiv(a, b, value=value),
                lambda x, a, b, value: x + value * a / b, _addc_sample(True),
                lambda t, x, a, b, value: t.addcdiv(x, a, b, value=value)))

