"""``kl_divergence(p, q)`` = E_p[log p - log q], by closed forms registered per pair of types
with ``register_kl`` (the most specific registered pair in the types' MROs wins)."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..ops.activation import softplus
from ..ops.elementwise import where
from ..ops.indexing import diagonal
from ..ops.math import digamma, lgamma
from ..tensor import Tensor
from ._tril import tril_solve
from .bernoulli import Bernoulli
from .categorical import Categorical, OneHotCategorical
from .exponential import Exponential
from .gamma import Beta, Dirichlet, Gamma
from .independent import Independent, _sum_rightmost
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .poisson import Poisson
from .uniform import Uniform

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict = {}


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(Normal, Normal) def kl(p, q): ...``."""
    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn
    return decorator


def kl_divergence(p, q):
    """KL(p || q), batched over the distributions' common batch shape."""
    matches = [(type_p, type_q) for type_p, type_q in _KL_REGISTRY
               if isinstance(p, type_p) and isinstance(q, type_q)]
    if not matches:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
                                  f"{type(q).__name__}")
    best = min(matches, key=lambda m: (type(p).__mro__.index(m[0]), type(q).__mro__.index(m[1])))
    return _KL_REGISTRY[best](p, q)


def _const(like, value):
    return Tensor._wrap(backend.xp_of(like._data).full(tuple(like.shape), value, dtype=like.dtype))


def _mask(array, shape):
    return Tensor._wrap(backend.xp_of(array).broadcast_to(array, shape))


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = where(Tensor._wrap(p.probs._data == 0), _const(t1, 0.0), t1)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = where(Tensor._wrap(p.probs._data == 1), _const(t2, 0.0), t2)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    shape = tuple(t.shape)
    t = where(_mask(q.probs._data == 0, shape), _const(t, np.inf), t)
    t = where(_mask(p.probs._data == 0, shape), _const(t, 0.0), t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low._data > p.low._data) | (q.high._data < p.high._data)
    return where(Tensor._wrap(outside), _const(result, np.inf), result)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return rate_ratio - 1 - rate_ratio.log()


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    t1 = -scale_ratio.log()
    t2 = loc_abs_diff / q.scale
    t3 = scale_ratio * (-loc_abs_diff / p.scale).exp()
    return t1 + t2 + t3 - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    s1 = a1 + b1
    t1 = lgamma(a2) + lgamma(b2) + lgamma(s1)
    t2 = lgamma(a1) + lgamma(b1) + lgamma(a2 + b2)
    t3 = (a1 - a2) * digamma(a1)
    t4 = (b1 - b2) * digamma(b1)
    t5 = (a2 - a1 + b2 - b1) * digamma(s1)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sum_p = p.concentration.sum(-1)
    sum_q = q.concentration.sum(-1)
    t1 = lgamma(sum_p) - lgamma(sum_q)
    t2 = (lgamma(p.concentration) - lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = digamma(p.concentration) - digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    """(2 (log|Lq| - log|Lp|) + |Lq^{-1} Lp|_F^2 + |Lq^{-1}(mu_q - mu_p)|^2 - k) / 2."""
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes cannot "
                         "be computed")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    shape = np.broadcast_shapes(p.batch_shape, q.batch_shape)
    k = p.event_shape[0]
    Lp, Lq = Lp.broadcast_to(shape + (k, k)), Lq.broadcast_to(shape + (k, k))
    half_log_det = lambda L: diagonal(L, 0, -2, -1).log().sum(-1)       # noqa: E731
    term_trace = (tril_solve(Lq, Lp) ** 2).sum((-2, -1))
    diff = (q.loc - p.loc).broadcast_to(shape + (k,)).unsqueeze(-1)
    term_maha = (tril_solve(Lq, diff) ** 2).sum((-2, -1))
    return half_log_det(Lq) - half_log_det(Lp) + 0.5 * (term_trace + term_maha - k)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions with different "
                                  "reinterpreted_batch_ndims are not supported")
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
