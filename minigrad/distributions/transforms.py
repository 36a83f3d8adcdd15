"""Bijections for :class:`TransformedDistribution`, as ``torch.distributions.transforms``:
``ExpTransform``, ``AffineTransform``, ``SigmoidTransform``, ``TanhTransform``,
``ComposeTransform``.  Each maps x to y = t(x), inverts with ``t.inv(y)`` and gives
log |dy/dx| with ``t.log_abs_det_jacobian(x, y)``, all differentiable.  With ``cache_size=1``
a transform remembers its last (x, y) pair, so that ``inv`` of a sample returns the exact x
(what keeps tanh-squashed samples' log_prob finite)."""
from __future__ import annotations

import math

import numpy as np

from ..ops.activation import softplus
from ..tensor import Tensor
from . import constraints
from .distribution import as_param

__all__ = ["Transform", "ExpTransform", "AffineTransform", "SigmoidTransform", "TanhTransform", "ComposeTransform"]


class Transform:
    domain = constraints.real
    codomain = constraints.real
    bijective = True
    sign = 1
    event_dim = 0

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: cache_size must be 0 or 1, got {cache_size!r}")
        self._cache_size = cache_size
        self._cached = (None, None)

    def __call__(self, x):
        if self._cache_size and x is self._cached[0]:
            return self._cached[1]
        y = self._call(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    def _inv_call(self, y):
        if self._cache_size and y is self._cached[1]:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    @property
    def inv(self):
        return _Inverse(self)

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class _Inverse(Transform):
    def __init__(self, transform):
        super().__init__()
        self._inv = transform
        self.event_dim = transform.event_dim
        self.domain, self.codomain = transform.codomain, transform.domain

    @property
    def inv(self):
        return self._inv

    def __call__(self, y):
        return self._inv._inv_call(y)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)


class ExpTransform(Transform):
    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class AffineTransform(Transform):
    """y = loc + scale x; ``event_dim`` dims on the right form one event (the log-det is summed there)."""

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        self.loc, self.scale, self.event_dim = loc, scale, event_dim
        self.domain = self.codomain = constraints.independent(constraints.real, event_dim) if event_dim \
            else constraints.real

    @property
    def sign(self):
        return float(np.sign(self.scale)) if not isinstance(self.scale, Tensor) else self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = as_param(self.scale, x.dtype, x.device)
        result = (scale.abs().log() + x * 0)                 # broadcast to x's shape
        if self.event_dim:
            result = result.reshape(tuple(result.shape[:result.ndim - self.event_dim]) + (-1,)).sum(-1)
        return result


class SigmoidTransform(Transform):
    codomain = constraints.unit_interval

    def _call(self, x):
        return x.sigmoid()

    def _inverse(self, y):
        fi = np.finfo(y.dtype)
        y = y.clamp(float(fi.tiny), 1.0 - float(fi.eps))
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        """log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x)), stable for large |x|."""
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class ComposeTransform(Transform):
    """The transforms applied in order (the log-dets summed)."""

    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size)
        self.parts = list(parts)
        self.event_dim = max((p.event_dim for p in self.parts), default=0)

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        total = 0.0
        for p in self.parts:
            y_p = p(x)
            ladj = p.log_abs_det_jacobian(x, y_p)
            extra = self.event_dim - p.event_dim
            if extra:
                ladj = ladj.reshape(tuple(ladj.shape[:ladj.ndim - extra]) + (-1,)).sum(-1)
            total = total + ladj
            x = y_p
        return total
