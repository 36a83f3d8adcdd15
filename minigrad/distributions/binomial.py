"""Binomial(total_count, probs or logits) and Geometric(probs or logits): counts of successes
in ``total_count`` trials, and of failures before the first success."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..ops.loss import binary_cross_entropy_with_logits as _bce_logits
from ..ops.math import lgamma
from ..tensor import Tensor
from . import constraints
from .distribution import (Distribution, as_param, broadcast_all, expand_params, finfo, lazy_property,
                           logits_to_probs, probs_to_logits, standard_uniform)

__all__ = ["Binomial", "Geometric"]


class _ProbsOrLogits(Distribution):
    """Shared: exactly one of probs / logits, the other computed on first use."""

    def _set_param(self, probs, logits, *others):
        if (probs is None) == (logits is None):
            raise ValueError(f"{type(self).__name__}: either `probs` or `logits` must be specified, but not both.")
        name = "probs" if probs is not None else "logits"
        values = broadcast_all(probs if probs is not None else logits, *others)
        setattr(self, name, values[0])
        self._param = values[0]
        return values[1:]

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    def _expand(self, batch_shape, names, _instance):
        new = expand_params(self, batch_shape, names + ("probs", "logits"), _instance)
        new._param = new.__dict__["probs"] if "probs" in self.__dict__ else new.__dict__["logits"]
        return new


class Binomial(_ProbsOrLogits):
    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        (self.total_count,) = self._set_param(probs, logits, total_count)
        self.total_count = self.total_count.to(self._param.dtype)
        super().__init__(tuple(self._param.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand(batch_shape, ("total_count",), _instance)

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count._data)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        xp = backend.xp_of(self._param._data)
        gen = backend.default_generator(self._param.device).impl
        n = xp.broadcast_to(self.total_count._data, shape).astype(np.int64)
        p = xp.broadcast_to(self.probs._data, shape).astype(np.float64)
        return Tensor._wrap(gen.binomial(n, p).astype(self._param.dtype))

    def log_prob(self, value):
        value = as_param(value, self._param.dtype, self._param.device)
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        clamp_by_zero = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        normalize = n * clamp_by_zero + n * (-logits.abs()).exp().log1p() - lgamma(n + 1)
        return value * logits - lgamma(value + 1) - lgamma(n - value + 1) - normalize


class Geometric(_ProbsOrLogits):
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._set_param(probs, logits)
        super().__init__(tuple(self._param.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand(batch_shape, (), _instance)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return self.probs * 0

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        """floor(log u / log(1 - p)), u ~ U(tiny, 1)."""
        u = standard_uniform(self._extended_shape(sample_shape), self._param)._data
        xp = backend.xp_of(u)
        u = xp.maximum(u, float(finfo(self._param).tiny))
        return Tensor._wrap(xp.floor(xp.log(u) / xp.log1p(-self.probs._data)))

    def log_prob(self, value):
        value = as_param(value, self._param.dtype, self._param.device)
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        certain = (probs._data == 1) & (value._data == 0)             # 0 * log(0) is 0 there
        safe = probs.masked_fill(Tensor._wrap(certain), 0.0) if bool(certain.any()) else probs
        return value * (-safe).log1p() + self.probs.log()

    def entropy(self):
        return _bce_logits(self.logits, self.probs, reduction="none") / self.probs
