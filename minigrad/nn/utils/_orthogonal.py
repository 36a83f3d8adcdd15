"""``parametrizations.orthogonal``: a weight kept (semi-)orthogonal, as PyTorch's.

The stored tensor X maps to Q = base @ f(X): f is the matrix exponential of the skew-symmetric
A = tril(X) - tril(X)^T ("matrix_exp", square weights) or the product of the Householder
reflectors in the strictly-lower part of X ("householder", the default for non-square ones).
With ``use_trivialization`` (the default) ``base`` is a buffer holding the orthogonalised
initial weight and X starts at -I, so Q starts equal to base; assigning to the weight resets
base.  f is written with differentiable ops (a scaled-and-squared Taylor series; one rank-1
update per reflector), so gradients and second derivatives reach X.
"""
from __future__ import annotations

import math

import numpy as np

from ... import backend
from ...autograd import no_grad
from ...creation import eye
from ...errors import ArgumentError
from ...ops.shape import cat
from ...tensor import Tensor
from ..module import Module

__all__ = ["orthogonal"]


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) = (sum_{j<=18} (A/2^s)^j / j!)^(2^s), s chosen so that ||A/2^s||_1 <= 1/2."""
    norm = float(np.abs(backend.to_device(A._data, backend.CPU)).sum(-2).max()) if A.numel() else 0.0
    s = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0 else 0
    B = A / (2 ** s)
    n = A.shape[-1]
    ident = eye(n, dtype=A.dtype).broadcast_to(tuple(A.shape))
    term, out = ident, ident
    for j in range(1, 19):
        term = (term @ B) / j
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i = (0, .., 1, A[i+1:, i])
    (as LAPACK's orgqr)."""
    n, k = A.shape[-2], A.shape[-1]
    batch, xp = tuple(A.shape[:-2]), backend.xp_of(A._data)
    Q = eye(n, dtype=A.dtype).broadcast_to(batch + (n, n))
    for i in reversed(range(k)):                     # Q <- H_i Q, from the last reflector to the first
        head = Tensor._wrap(xp.concatenate([xp.zeros(batch + (i,), A.dtype), xp.ones(batch + (1,), A.dtype)], -1))
        v = cat([head, A[..., i + 1:, i]], -1).unsqueeze(-1)                  # [..., n, 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.mT @ Q)
    return Q[..., :k]


def _make_orthogonal(Q):
    """The Q factor of Q's QR decomposition with R's diagonal made positive (arrays, no graph)."""
    q, r = np.linalg.qr(Q)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X, (n, k) = X.mT, (k, n)
        if self.orthogonal_map == "matrix_exp":
            X = X.tril()
            if n != k:
                X = cat([X, Tensor._wrap(backend.xp_of(X._data).zeros(tuple(X.shape[:-1]) + (n - k,), X.dtype))], -1)
            Q = matrix_exp(X - X.mT)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = householder_product(A, tau)
            xp = backend.xp_of(X._data)
            signs = xp.trunc(xp.diagonal(X._data, axis1=-2, axis2=-1))           # PyTorch's .int() of the diagonal
            Q = Q * Tensor._wrap(xp.ascontiguousarray(signs[..., None, :]))
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        if tuple(Q.shape) != self.shape:
            raise ArgumentError(f"Expected a matrix or batch of matrices of shape {tuple(self.shape)}. Got a tensor of shape "
                             f"{tuple(Q.shape)}.")
        with no_grad():
            q = backend.to_device(Q._data, backend.CPU).astype(np.float64)
            n, k = q.shape[-2], q.shape[-1]
            transpose = n < k
            if transpose:
                q, (n, k) = np.swapaxes(q, -1, -2), (k, n)
            if "base" not in self._buffers:
                if self.orthogonal_map == "matrix_exp":
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                              "parametrizations when use_trivialization=False.")
                raise NotImplementedError("orthogonal: use_trivialization=False is not implemented in minigrad")
            if n == k:
                eps = 10 * n * np.finfo(q.dtype).eps
                ortho = np.allclose(np.swapaxes(q, -1, -2) @ q, np.eye(n), atol=eps)
                base = q.copy() if ortho else _make_orthogonal(q)
            else:
                noise = backend.to_device(backend.random_normal(q.shape[:-2] + (n, n - k), Q.dtype, backend.CPU),
                                          backend.CPU)
                base = _make_orthogonal(np.concatenate([q, noise], -1))
            self.base = Tensor._wrap(backend.to_device(base.astype(Q.dtype), Q.device))
            xp = backend.xp_of(Q._data)
            neg_id = xp.broadcast_to(-xp.eye(Q.shape[-2], Q.shape[-1], dtype=Q.dtype), tuple(Q.shape)).copy()
            return Tensor._wrap(neg_id)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Keep ``module.<name>`` (semi-)orthogonal (see the module docstring); ``orthogonal_map``:
    "matrix_exp" (default for square weights) or "householder" (default otherwise); PyTorch's
    "cayley" is not implemented."""
    from . import parametrize
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ArgumentError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ArgumentError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in ("matrix_exp", "householder", "cayley"):
        raise ArgumentError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
                         f'{orthogonal_map}')
    if orthogonal_map == "cayley":
        raise NotImplementedError("orthogonal: the 'cayley' map is not implemented in minigrad (use 'matrix_exp' or "
                                  "'householder')")
    parametrize.register_parametrization(module, name, _Orthogonal(weight, orthogonal_map,
                                                                   use_trivialization=use_trivialization), unsafe=True)
    return module
