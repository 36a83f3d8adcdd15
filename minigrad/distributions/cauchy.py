"""Cauchy(loc, scale): density 1 / (pi scale (1 + ((x - loc) / scale)^2)); no mean or variance."""
from __future__ import annotations

import math

from . import constraints
from .distribution import LocationScale, as_param, standard_uniform

__all__ = ["Cauchy"]


class Cauchy(LocationScale):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    @property
    def mean(self):
        return self.loc.detach() * float("nan")

    @property
    def variance(self):
        return self.loc.detach() * 0 + float("inf")

    def rsample(self, sample_shape=()):
        """loc + scale tan(pi (u - 1/2)), u ~ U[0, 1)."""
        u = standard_uniform(self._extended_shape(sample_shape), self.loc)
        return self.loc + self.scale * (math.pi * (u - 0.5)).tan()

    def log_prob(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
