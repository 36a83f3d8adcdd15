"""Uniform(low, high): density 1 / (high - low) on [low, high)."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, as_param, broadcast_all, expand_params, standard_uniform

__all__ = ["Uniform"]


class Uniform(Distribution):
    arg_constraints = {"low": constraints.dependent, "high": constraints.dependent}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(tuple(self.low.shape), validate_args=validate_args)
        if self._validate_args and not bool((self.low._data < self.high._data).all()):
            raise ValueError(f"Expected parameter low ({type(self.low).__name__} of shape {tuple(self.low.shape)}) "
                             f"of distribution {self!r} to satisfy the constraint LessThan(upper_bound=high), but "
                             f"found invalid values:\n{self.low}")

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, batch_shape, ("low", "high"), _instance)

    @property
    def support(self):
        return constraints.half_open_interval(self.low._data, self.high._data)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.low * float("nan")

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        """low + u (high - low), u ~ U[0, 1)."""
        u = standard_uniform(self._extended_shape(sample_shape), self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        value = as_param(value, self.low.dtype, self.low.device)
        if self._validate_args:
            self._validate_sample(value)
        inside = ((self.low._data <= value._data) & (value._data < self.high._data)).astype(value.dtype)
        with np.errstate(divide="ignore"):
            outside = Tensor._wrap(backend.xp_of(inside).log(inside))
        return outside - (self.high - self.low).log()

    def cdf(self, value):
        value = as_param(value, self.low.dtype, self.low.device)
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        value = as_param(value, self.low.dtype, self.low.device)
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()
