"""Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale)."""
from __future__ import annotations

import math

import numpy as np

from . import constraints
from .distribution import LocationScale, as_param, standard_uniform

__all__ = ["Laplace"]


class Laplace(LocationScale):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    @property
    def variance(self):
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc - scale sign(u) log(1 - |u|), u ~ U(-1, 1)."""
        eps = float(np.finfo(self.loc.dtype).eps)
        u = standard_uniform(self._extended_shape(sample_shape), self.loc) * (2 - eps) - 1 + eps
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        if self._validate_args:
            self._validate_sample(value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
