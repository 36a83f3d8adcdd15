"""HalfNormal(scale): |X| for X ~ Normal(0, scale)."""
from __future__ import annotations

import math

from . import constraints
from .distribution import Distribution, as_param, expand_params
from .normal import Normal

__all__ = ["HalfNormal"]


class HalfNormal(Distribution):
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        self.base_dist = Normal(0.0, scale, validate_args=validate_args)
        self.scale = self.base_dist.scale
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, batch_shape, ("scale",), _instance)
        new.base_dist = self.base_dist.expand(batch_shape)
        return new

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return self.scale * 0

    @property
    def variance(self):
        return self.scale ** 2 * (1 - 2 / math.pi)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value):
        value = as_param(value, self.scale.dtype, self.scale.device)
        if self._validate_args:
            self._validate_sample(value)
        return self.base_dist.log_prob(value) + math.log(2)

    def cdf(self, value):
        value = as_param(value, self.scale.dtype, self.scale.device)
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, value):
        value = as_param(value, self.scale.dtype, self.scale.device)
        return self.base_dist.icdf((value + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
