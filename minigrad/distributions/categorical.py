"""Categorical(probs or logits) over {0, ..., K-1} and OneHotCategorical (the same as one-hot vectors)."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..ops.distance import one_hot
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, as_param, expand_params, finfo, lazy_property, logits_to_probs, \
    probs_to_logits, standard_uniform

__all__ = ["Categorical", "OneHotCategorical"]


class Categorical(Distribution):
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            probs = as_param(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            logits = as_param(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self._param = self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(tuple(self._param.shape[:-1]), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, batch_shape, ("probs", "logits"), _instance)
        new._param = new.__dict__["probs"] if "probs" in self.__dict__ else new.__dict__["logits"]
        new._num_events = self._num_events
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return Tensor._wrap(backend.xp_of(self._param._data).full(self.batch_shape, np.nan, self._param.dtype))

    variance = mean

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        """Inverse-CDF draws: the number of cumulative probabilities below a uniform."""
        shape = self._extended_shape(sample_shape)
        probs = self.probs._data
        xp = backend.xp_of(probs)
        cdf = xp.cumsum(probs, -1)
        u = standard_uniform(shape + (1,), self._param)._data * cdf[..., -1:]
        idx = (xp.broadcast_to(cdf, shape + (self._num_events,)) <= u).sum(-1)
        return Tensor._wrap(xp.minimum(idx, self._num_events - 1).astype(np.int64))

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            value = Tensor._wrap(np.asarray(value))
        if self._validate_args:
            self._validate_sample(value)
        index = value._data.astype(np.int64)[..., None]
        shape = np.broadcast_shapes(index.shape[:-1], self.batch_shape)
        logits = self.logits.broadcast_to(shape + (self._num_events,))
        xp = backend.xp_of(index)
        index = xp.ascontiguousarray(xp.broadcast_to(index, shape + (1,)))
        return logits.gather(-1, Tensor._wrap(backend.to_device(index, self._param.device))).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(finfo(self.logits).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        from ..creation import arange
        values = arange(self._num_events).reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand((self._num_events,) + self.batch_shape) if expand else values


class OneHotCategorical(Distribution):
    arg_constraints = Categorical.arg_constraints
    support = constraints.independent(constraints.boolean, 1)
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, tuple(batch_shape), self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        return one_hot(self._categorical.mode, self.event_shape[0]).to(self.probs.dtype)

    @property
    def variance(self):
        p = self._categorical.probs
        return p * (1 - p)

    def sample(self, sample_shape=()):
        return one_hot(self._categorical.sample(sample_shape), self.event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()
