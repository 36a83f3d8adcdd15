"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril).

Everything is computed from the lower Cholesky factor ``scale_tril`` (L, with L L^T = Sigma):
log_prob = -(k log 2 pi + |L^{-1}(x - loc)|^2) / 2 - sum log diag L.  The factor of a given
covariance or precision matrix is taken with differentiable ops (``_tril``), so gradients reach
whichever matrix was given.
"""
from __future__ import annotations

import numpy as np

from ..ops.indexing import diagonal
from ..tensor import Tensor
from . import constraints
from ._tril import cholesky, tril_solve
from .distribution import LOG_2PI, Distribution, as_param, expand_params, lazy_property, standard_normal

__all__ = ["MultivariateNormal"]


class MultivariateNormal(Distribution):
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        loc = as_param(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        matrix = as_param(given[0])
        name = "scale_tril" if scale_tril is not None else \
            "covariance_matrix" if covariance_matrix is not None else "precision_matrix"
        if matrix.ndim < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional leading batch "
                             f"dimensions")
        batch_shape = np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        event = tuple(loc.shape[-1:])
        if tuple(matrix.shape[-2:]) != event * 2:
            raise ValueError(f"MultivariateNormal: loc has event shape {event} but {name} has shape "
                             f"{tuple(matrix.shape)}")
        setattr(self, name, matrix.broadcast_to(batch_shape + event * 2))
        self.loc = loc.broadcast_to(batch_shape + event)
        super().__init__(batch_shape, event, validate_args=validate_args)
        if name != "scale_tril":
            self._unbroadcasted_scale_tril = cholesky(matrix) if name == "covariance_matrix" \
                else _precision_to_scale_tril(matrix)
        else:
            self._unbroadcasted_scale_tril = matrix

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, batch_shape, ("loc", "covariance_matrix", "precision_matrix", "scale_tril"),
                            _instance)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.broadcast_to(self.batch_shape + self.event_shape * 2)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).broadcast_to(self.batch_shape + self.event_shape * 2)

    @lazy_property
    def precision_matrix(self):
        from ..creation import eye
        L = self._unbroadcasted_scale_tril
        inv = tril_solve(L, eye(L.shape[-1], dtype=L.dtype).broadcast_to(tuple(L.shape)))
        return (inv.mT @ inv).broadcast_to(self.batch_shape + self.event_shape * 2)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).broadcast_to(self.batch_shape + self.event_shape)

    def rsample(self, sample_shape=()):
        """loc + L eps, eps ~ N(0, I)."""
        eps = standard_normal(self._extended_shape(sample_shape), self.loc)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return diagonal(self._unbroadcasted_scale_tril, 0, -2, -1).log().sum(-1)

    def log_prob(self, value):
        value = as_param(value, self.loc.dtype, self.loc.device)
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        L = self._unbroadcasted_scale_tril
        shape = np.broadcast_shapes(tuple(diff.shape[:-1]), tuple(L.shape[:-2]))
        z = tril_solve(L.broadcast_to(shape + tuple(L.shape[-2:])), diff.broadcast_to(shape + diff.shape[-1:])
                       .unsqueeze(-1)).squeeze(-1)
        k = self.event_shape[0]
        return -0.5 * (k * LOG_2PI + (z ** 2).sum(-1)) - self._half_log_det()

    def entropy(self):
        k = self.event_shape[0]
        h = 0.5 * k * (1.0 + LOG_2PI) + self._half_log_det()
        return h.broadcast_to(self.batch_shape) if tuple(h.shape) != self.batch_shape else h


def _precision_to_scale_tril(P: Tensor) -> Tensor:
    """The Cholesky factor of P^{-1}: with P = M M^T, P^{-1} = M^{-T} M^{-1}."""
    from ..creation import eye
    M = cholesky(P)
    inv = tril_solve(M, eye(P.shape[-1], dtype=P.dtype).broadcast_to(tuple(P.shape)))
    return cholesky(inv.mT @ inv)
