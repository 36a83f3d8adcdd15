"""The gamma family: Gamma(concentration, rate), Beta(concentration1, concentration0) and
Dirichlet(concentration).

log_prob, entropy and the moments are differentiable in the parameters.  Sampling draws
gamma variates with the generator's ``standard_gamma`` and is not reparameterised
(``has_rsample = False``; PyTorch's implicit reparameterisation is not implemented), so
``rsample`` raises and ``sample`` carries no graph.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..ops.math import digamma, lgamma, xlogy
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, as_param, broadcast_all, expand_params

__all__ = ["Gamma", "Beta", "Dirichlet"]


def _standard_gamma(concentration, shape):
    """Gamma(concentration, 1) draws of ``shape`` (the parameter broadcast), clamped above 0."""
    c = concentration._data
    gen = backend.default_generator(concentration.device).impl
    draws = gen.standard_gamma(backend.xp_of(c).broadcast_to(c, shape).astype(np.float64))
    tiny = float(np.finfo(c.dtype).tiny)
    return backend.xp_of(c).maximum(draws, tiny).astype(c.dtype)


class Gamma(Distribution):
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, batch_shape, ("concentration", "rate"), _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        draws = _standard_gamma(self.concentration, shape) / backend.xp_of(self.rate._data).broadcast_to(
            self.rate._data, shape)
        return Tensor._wrap(backend.xp_of(draws).maximum(draws, np.finfo(draws.dtype).tiny))

    def log_prob(self, value):
        value = as_param(value, self.rate.dtype, self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return xlogy(c, r) + xlogy(c - 1, value) - r * value - lgamma(c)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1.0 - c) * digamma(c)


class Beta(Distribution):
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(tuple(self.concentration1.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, batch_shape, ("concentration1", "concentration0"), _instance)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        return (a - 1) / (a + b - 2)

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total ** 2 * (total + 1))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x, y = _standard_gamma(self.concentration1, shape), _standard_gamma(self.concentration0, shape)
        eps = float(np.finfo(x.dtype).eps)
        return Tensor._wrap(backend.xp_of(x).clip(x / (x + y), eps, 1 - eps))

    def log_prob(self, value):
        value = as_param(value, self.concentration1.dtype, self.concentration1.device)
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) - _log_beta(a, b)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return _log_beta(a, b) - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (total - 2) * digamma(total)


def _log_beta(a, b):
    return lgamma(a) + lgamma(b) - lgamma(a + b)


class Dirichlet(Distribution):
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def __init__(self, concentration, validate_args=None):
        concentration = as_param(concentration)
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(tuple(concentration.shape[:-1]), tuple(concentration.shape[-1:]),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, batch_shape, ("concentration",), _instance)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        c = (self.concentration - 1).clamp(min=0.0)
        return c / c.sum(-1, keepdim=True)

    @property
    def variance(self):
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total ** 2 * (total + 1))

    def sample(self, sample_shape=()):
        draws = _standard_gamma(self.concentration, self._extended_shape(sample_shape))
        out = draws / draws.sum(-1, keepdims=True)
        eps = float(np.finfo(out.dtype).tiny)
        return Tensor._wrap(backend.xp_of(out).clip(out, eps, 1 - eps))

    def log_prob(self, value):
        value = as_param(value, self.concentration.dtype, self.concentration.device)
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(total) - (k - total) * digamma(total) - ((c - 1.0) * digamma(c)).sum(-1)
