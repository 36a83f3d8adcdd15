"""The two matrix steps MultivariateNormal needs, on ``minigrad.linalg``'s differentiable ops
(their backwards, twice differentiable, are in ops/linalg_decomp.py)."""
from __future__ import annotations

from ..ops.linalg_decomp import cholesky as _cholesky
from ..ops.indexing import tril
from ..ops.linalg_decomp import solve as _solve
from ..tensor import Tensor


def cholesky(a: Tensor) -> Tensor:
    """L lower-triangular with L L^T = a.  It reads (a + a^T) / 2, so that the gradient with respect
    to a symmetric ``a`` is symmetric (as PyTorch's cholesky), not concentrated in one triangle."""
    if a.ndim < 2 or a.shape[-2] != a.shape[-1]:
        raise ValueError(f"cholesky: expected a batch of square matrices, got shape {tuple(a.shape)}")
    try:
        return _cholesky((a + a.mT) * 0.5)
    except RuntimeError as e:
        raise ValueError(f"cholesky: the matrix of shape {tuple(a.shape)} is not positive-definite") from e


def tril_solve(L: Tensor, b: Tensor) -> Tensor:
    """x with L x = b, for b of shape [..., n, m], reading only L's lower triangle (so its upper
    triangle gets no gradient, as with PyTorch's triangular solve)."""
    return _solve(tril(L), b)
