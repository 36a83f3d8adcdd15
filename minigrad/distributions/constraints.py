"""Constraints on parameters and sample values, with ``torch.distributions.constraints``' names.

``constraint.check(value)`` returns a boolean array over the batch (the event dims reduced).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["Constraint", "real", "real_vector", "positive", "nonnegative", "unit_interval", "boolean",
           "simplex", "lower_cholesky", "positive_definite", "nonnegative_integer", "greater_than",
           "greater_than_eq", "interval", "half_open_interval", "integer_interval", "independent", "dependent"]


def _arr(value):
    return value._data if isinstance(value, Tensor) else np.asarray(value)


class Constraint:
    event_dim = 0
    is_discrete = False

    def __init__(self, test=None, name=None, event_dim=0, is_discrete=False):
        self._test, self._name = test, name
        self.event_dim, self.is_discrete = event_dim, is_discrete

    def check(self, value):
        return self._test(_arr(value))

    def __repr__(self):
        return self._name or type(self).__name__


class _Dependent(Constraint):
    """Depends on other parameters (a sample's support is checked elsewhere)."""

    def __init__(self):
        super().__init__(name="Dependent()")

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


class _Interval(Constraint):
    def __init__(self, low, high, closed_high=True):
        super().__init__(name=f"Interval(lower_bound={low}, upper_bound={high})")
        self.lower_bound, self.upper_bound, self.closed_high = low, high, closed_high

    def check(self, value):
        v = _arr(value)
        return (self.lower_bound <= v) & ((v <= self.upper_bound) if self.closed_high else (v < self.upper_bound))


class _GreaterThan(Constraint):
    def __init__(self, low, eq=False):
        super().__init__(name=f"GreaterThan{'Eq' if eq else ''}(lower_bound={low})")
        self.lower_bound, self.eq = low, eq

    def check(self, value):
        v = _arr(value)
        return v >= self.lower_bound if self.eq else v > self.lower_bound


class _IntegerInterval(Constraint):
    def __init__(self, low, high):
        super().__init__(name=f"IntegerInterval(lower_bound={low}, upper_bound={high})", is_discrete=True)
        self.lower_bound, self.upper_bound = low, high

    def check(self, value):
        v = _arr(value)
        return (v % 1 == 0) & (self.lower_bound <= v) & (v <= self.upper_bound)


class _Independent(Constraint):
    """``base`` with its rightmost ``reinterpreted_batch_ndims`` dims treated as one event."""

    def __init__(self, base, reinterpreted_batch_ndims):
        super().__init__(name=f"IndependentConstraint({base}, {reinterpreted_batch_ndims})",
                         event_dim=base.event_dim + reinterpreted_batch_ndims, is_discrete=base.is_discrete)
        self.base_constraint, self.reinterpreted_batch_ndims = base, reinterpreted_batch_ndims

    def check(self, value):
        ok = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        return ok.reshape(ok.shape[:ok.ndim - n] + (-1,)).all(-1) if n else ok


def _simplex(v):
    xp = backend.xp_of(v)
    return (v >= 0).all(-1) & (xp.abs(v.sum(-1) - 1) < 1e-6)


def _lower_cholesky(v):
    xp = backend.xp_of(v)
    diag = xp.diagonal(v, axis1=-2, axis2=-1)
    return (xp.tril(v) == v).all((-2, -1)) & (diag > 0).all(-1)


def _positive_definite(v):
    xp = backend.xp_of(v)
    if not v.size:
        return xp.ones(v.shape[:-2], bool)
    sym = xp.abs(v - xp.swapaxes(v, -1, -2)).max((-2, -1)) < 1e-6
    eig = np.linalg.eigvalsh(backend.to_device(v, backend.CPU).astype(np.float64))
    return sym & backend.to_device(np.asarray(eig.min(-1) > 0), backend.device_of(v))


def independent(base, reinterpreted_batch_ndims):
    return _Independent(base, reinterpreted_batch_ndims)


def greater_than(low):
    return _GreaterThan(low)


def greater_than_eq(low):
    return _GreaterThan(low, eq=True)


def interval(low, high):
    return _Interval(low, high)


def half_open_interval(low, high):
    return _Interval(low, high, closed_high=False)


def integer_interval(low, high):
    return _IntegerInterval(low, high)


dependent = _Dependent()
real = Constraint(lambda v: v == v, "Real()")                  # not NaN
real_vector = independent(real, 1)
positive = greater_than(0.0)
nonnegative = greater_than_eq(0.0)
unit_interval = interval(0.0, 1.0)
boolean = Constraint(lambda v: (v == 0) | (v == 1), "Boolean()", is_discrete=True)
nonnegative_integer = Constraint(lambda v: (v % 1 == 0) & (v >= 0), "IntegerGreaterThan(lower_bound=0)",
                                 is_discrete=True)
simplex = Constraint(_simplex, "Simplex()", event_dim=1)
lower_cholesky = Constraint(_lower_cholesky, "LowerCholesky()", event_dim=2)
positive_definite = Constraint(_positive_definite, "PositiveDefinite()", event_dim=2)
