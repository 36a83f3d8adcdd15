"""Exponential(rate): density rate exp(-rate x) on x >= 0."""
from __future__ import annotations

from . import constraints
from .distribution import Distribution, as_param, broadcast_all, expand_params, standard_uniform

__all__ = ["Exponential"]


class Exponential(Distribution):
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, batch_shape, ("rate",), _instance)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate * 0

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate ** -2

    def rsample(self, sample_shape=()):
        """-log(1 - u) / rate, u ~ U[0, 1): d/d rate = -sample / rate."""
        u = standard_uniform(self._extended_shape(sample_shape), self.rate)
        return -(-u).log1p() / self.rate

    def log_prob(self, value):
        value = as_param(value, self.rate.dtype, self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        value = as_param(value, self.rate.dtype, self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        value = as_param(value, self.rate.dtype, self.rate.device)
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()
