"""Normal(loc, scale): density exp(-(x - loc)^2 / (2 scale^2)) / (scale sqrt(2 pi))."""
from __future__ import annotations

import math

from . import constraints
from .distribution import LOG_2PI, LocationScale, as_param, standard_normal

__all__ = ["Normal"]


class Normal(LocationScale):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc + scale * eps, eps ~ N(0, 1): d/d loc = 1, d/d scale = eps."""
        eps = standard_normal(self._extended_shape(sample_shape), self.loc)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() - 0.5 * LOG_2PI

    def cdf(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * LOG_2PI + self.scale.log()
