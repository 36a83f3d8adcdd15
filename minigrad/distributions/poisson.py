"""Poisson(rate): P(k) = rate^k exp(-rate) / k! on k = 0, 1, 2, ..."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..ops.math import lgamma, xlogy
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, as_param, broadcast_all, expand_params

__all__ = ["Poisson"]


class Poisson(Distribution):
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, batch_shape, ("rate",), _instance)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        rate = self.rate._data
        gen = backend.default_generator(self.rate.device).impl
        draws = gen.poisson(backend.xp_of(rate).broadcast_to(rate, shape).astype(np.float64))
        return Tensor._wrap(draws.astype(rate.dtype))

    def log_prob(self, value):
        value = as_param(value, self.rate.dtype, self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return xlogy(value, self.rate) - self.rate - lgamma(value + 1)
