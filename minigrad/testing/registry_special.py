"""Registry entries for ops/special.py (the ops torch.special adds) and for the names minigrad.special
gives existing ops (checked against torch.special's own functions).

Inputs stay where each function is smooth and well conditioned: i0e and i1e away from their kink at
0 (the sign of x in exp(-|x|)), entr on positive inputs, xlog1py with 1 + z in (0.1, 1.9), ndtri on
probabilities in (0.05, 0.95), i1 away from 0 too (PyTorch's second derivative there is
I_0 - I_1 / x differentiated, which cancels: -2.4e-4 at x = 1e-12, where ours, by a series, gives
3.75e-13 = 3x/8; tests/test_special.py checks near 0), the rest on [-6, 6] or so, which covers both
branches of each kernel that switches formula at 0 (log_ndtr) or nowhere near (erfcx, the Bessel
functions: see tests/test_special.py for the far ranges).  zeta, gammainc and gammaincc: the first
argument a constant (no derivative for it in PyTorch either), s in [1.5, 4] or a in [0.25, 4].
"""
from __future__ import annotations

import numpy as np

import minigrad as mg

from ..kernels import special as _special
from .registry import OpSpec, Sample, register
from .registry_composite import _mvlgamma_sample, _np_mvlgamma

SP = mg.special


def _unary(name, ref, domain="real", scale=1.0, shift=0.0, **opts):
    def sample(d, dtype):
        return Sample([np.asarray(d.floats(d.shape(), domain, dtype=dtype) * scale + shift, dtype=dtype)])
    fn = getattr(SP, name)
    register(OpSpec(name, lambda x: fn(x), ref, sample, lambda t, x: getattr(t.special, name)(x), **opts))


def _np_ndtr(x):
    return (0.5 * _special.erfc_ref(np.asarray(-x / np.sqrt(2.0), np.float64))).astype(x.dtype)


def _np_entr(x):
    return -x * np.log(x)


_unary("ndtr", _np_ndtr, scale=3.0)
_unary("log_ndtr", _special.log_ndtr_ref, scale=3.0)
_unary("ndtri", _special.ndtri_ref, "unit", scale=0.5, shift=0.5)
_unary("erfcx", _special.erfcx_ref, scale=3.0)
_unary("i0", _special.i0_ref, scale=3.0)
_unary("i1", _special.i1_ref, "nonzero", scale=3.0)
_unary("i0e", _special.i0e_ref, "nonzero", scale=3.0)
_unary("i1e", _special.i1e_ref, "nonzero", scale=3.0)
_unary("entr", _np_entr, "positive")


def _xlog1py_sample(d, dtype):
    (sa, sb), _ = d.broadcast_shapes(2)
    return Sample([d.floats(sa, "nonzero", dtype=dtype), d.floats(sb, "unit", dtype=dtype)])


register(OpSpec("xlog1py", lambda x, z: SP.xlog1py(x, z), lambda x, z: x * np.log1p(z), _xlog1py_sample,
                lambda t, x, z: t.special.xlog1py(x, z)))



def _second_argument_sample(first_lo, first_hi):
    """The first argument a constant in [first_lo, first_hi] (no derivative for it, in PyTorch either),
    the second positive."""
    def sample(d, dtype):
        (sa, sb), _ = d.broadcast_shapes(2)
        first = first_lo + (first_hi - first_lo) * (d.floats(sa, "unit", dtype=dtype) + 0.9) / 1.8
        return Sample([np.asarray(first, dtype), d.floats(sb, "positive", dtype=dtype)], constant=frozenset({0}))
    return sample


for _name, _ref, _lo in [("zeta", _special.zeta_ref, 1.5), ("gammainc", _special.gammainc_ref, 0.25),
                         ("gammaincc", _special.gammaincc_ref, 0.25)]:
    register(OpSpec(_name, (lambda name: lambda a, b: getattr(SP, name)(a, b))(_name), _ref,
                    _second_argument_sample(_lo, 4.0),
                    (lambda name: lambda t, a, b: getattr(t.special, name)(a, b))(_name)))


# ----------------------------------------------------------------------------- torch.special's names for existing ops
def _alias(name, covers, ref, domain="real", **opts):
    def sample(d, dtype):
        return Sample([d.floats(d.shape(), domain, dtype=dtype)])
    fn = getattr(SP, name)
    register(OpSpec(f"special_{name}", lambda x: fn(x), ref, sample, lambda t, x: getattr(t.special, name)(x),
                    covers=covers, **opts))


_alias("expit", "sigmoid", lambda x: 1 / (1 + np.exp(-x)))
_alias("gammaln", "lgamma", _special.lgamma_ref, "positive")
_alias("psi", "digamma", _special.digamma_ref, "positive")
register(OpSpec("special_multigammaln", lambda x, p: SP.multigammaln(x, p), _np_mvlgamma, _mvlgamma_sample,
                lambda t, x, p: t.special.multigammaln(x, p), covers="mvlgamma"))


def _dim_sample(d, dtype):
    shape = d.shape(min_dims=1)
    return Sample([d.floats(shape, dtype=dtype)], {"dim": d.integers(-len(shape), len(shape) - 1)})


def _np_log_softmax(x, dim):
    m = x.max(axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


register(OpSpec("special_log_softmax", lambda x, dim: SP.log_softmax(x, dim), _np_log_softmax, _dim_sample,
                lambda t, x, dim: t.special.log_softmax(x, dim), covers="log_softmax"))
def _np_logsumexp(x, dim):
    m = x.max(axis=dim)
    return m + np.log(np.exp(x - np.expand_dims(m, dim)).sum(axis=dim))


register(OpSpec("special_logsumexp", lambda x, dim: SP.logsumexp(x, dim), _np_logsumexp, _dim_sample,
                lambda t, x, dim: t.special.logsumexp(x, dim), covers="logsumexp"))
