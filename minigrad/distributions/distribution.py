"""The ``Distribution`` base class and helpers shared by the families (as ``torch.distributions``).

Shapes: ``sample(sample_shape)`` has shape ``sample_shape + batch_shape + event_shape``;
``log_prob(value)`` reduces the event dims.  Parameters are minigrad Tensors, so log_prob,
entropy, mean, ... are differentiable with respect to them, and ``rsample`` (where
``has_rsample``) is a differentiable function of the parameters and parameter-free noise.
With ``validate_args`` (on by default, as PyTorch's) parameters and ``log_prob`` values are
checked against ``arg_constraints`` / ``support`` and a ValueError names the offender.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from . import constraints

__all__ = ["Distribution"]


class Distribution:
    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict = {}
    support = None
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value):
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected a bool, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            for param, constraint in self.arg_constraints.items():
                if constraint is constraints.dependent:
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                    continue                     # e.g. probs when given logits
                value = getattr(self, param)
                if not bool(constraint.check(value).all()):
                    raise ValueError(f"Expected parameter {param} ({type(value).__name__} of shape "
                                     f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                                     f"{constraint!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def expand(self, batch_shape, _instance=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement expand")

    # ------------------------------------------------------------------ moments and densities
    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self):
        return self.entropy().exp()

    # ------------------------------------------------------------------ sampling
    def sample(self, sample_shape=()):
        """A sample without a graph (``rsample`` under no_grad, for reparameterisable families)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampler (has_rsample=False)")

    def sample_n(self, n):
        return self.sample((n,))

    def _extended_shape(self, sample_shape=()):
        if isinstance(sample_shape, numbers.Integral):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    # ------------------------------------------------------------------ validation
    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError(f"The value argument to log_prob must be a Tensor, got {type(value).__name__}")
        n = len(self._event_shape)
        if n and tuple(value.shape[-n:]) != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: {tuple(value.shape)} vs "
                             f"{self._event_shape}.")
        try:
            np.broadcast_shapes(tuple(value.shape), self._batch_shape + self._event_shape)
        except ValueError:
            raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {tuple(value.shape)} vs "
                             f"{self._batch_shape + self._event_shape}.") from None
        support = self.support
        if support is None or support is constraints.dependent:
            return
        if not bool(support.check(value).all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to be "
                             f"within the support ({support!r}) of the distribution {self!r}, but found invalid "
                             f"values:\n{value}")

    def _get_checked_instance(self, cls, _instance):
        return _instance if _instance is not None else cls.__new__(type(self))

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {self.__dict__[k].shape if self.__dict__[k].numel() > 1 else self.__dict__[k]}"
                         for k in names)
        return f"{type(self).__name__}({args})"


# ----------------------------------------------------------------------------- helpers
class lazy_property:
    """Computed on first access and then stored on the instance (probs from logits, ...)."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, obj, cls):
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.fn.__name__] = value
        return value


def _dtype_of(values):
    for v in values:
        if isinstance(v, Tensor) and v.dtype.kind == "f":
            return v.dtype, v.device
    for v in values:
        if isinstance(v, Tensor):
            return backend.get_default_dtype(), v.device
    return backend.get_default_dtype(), backend.CPU


def as_param(value, dtype=None, device=None):
    """``value`` as a floating Tensor (numbers take ``dtype``, the default dtype if None)."""
    if isinstance(value, Tensor):
        return value if value.dtype.kind == "f" else value.to(backend.get_default_dtype())
    if isinstance(value, numbers.Number):
        arr = np.asarray(value, dtype=dtype or backend.get_default_dtype())
        return Tensor._wrap(backend.to_device(arr, device or backend.CPU))
    raise TypeError(f"distribution parameters must be Tensors or numbers, got {type(value).__name__}")


def broadcast_all(*values):
    """The values as Tensors of one broadcast shape (numbers take the Tensors' dtype and device)."""
    dtype, device = _dtype_of(values)
    tensors = [as_param(v, dtype, device) for v in values]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(t if tuple(t.shape) == shape else t.broadcast_to(shape) for t in tensors)


def standard_normal(shape, like):
    return Tensor._wrap(backend.random_normal(shape, like.dtype, like.device))


def standard_uniform(shape, like):
    return Tensor._wrap(backend.random_uniform(shape, like.dtype, like.device))


def finfo(t):
    return np.finfo(t.dtype)


def logits_to_probs(logits, is_binary=False):
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def clamp_probs(probs):
    eps = float(finfo(probs).eps)
    return probs.clamp(eps, 1 - eps)


def probs_to_logits(probs, is_binary=False):
    ps = clamp_probs(probs)
    return ps.log() - (-ps).log1p() if is_binary else ps.log()


LOG_2PI = math.log(2 * math.pi)


def expand_params(dist, batch_shape, names, _instance=None, event_shape=None):
    """A new instance of ``type(dist)`` whose parameters ``names`` are broadcast to ``batch_shape``
    (plus their event dims); the shared base of the families' ``expand``."""
    batch_shape = tuple(batch_shape)
    new = _instance if _instance is not None else type(dist).__new__(type(dist))
    for name in names:
        if name in dist.__dict__:
            value = dist.__dict__[name]
            extra = tuple(value.shape[len(dist.batch_shape):])
            new.__dict__[name] = value.broadcast_to(batch_shape + extra)
    Distribution.__init__(new, batch_shape, dist.event_shape if event_shape is None else event_shape,
                          validate_args=False)
    new._validate_args = dist._validate_args
    return new


class LocationScale(Distribution):
    """A family with a real ``loc`` and a positive ``scale`` (Normal, Laplace, Cauchy): the
    parameters, their broadcasting and expansion, and the mode at ``loc``, written once."""
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc
