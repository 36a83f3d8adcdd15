"""Cholesky factor and lower-triangular solves written with differentiable minigrad ops (one
step per row / column), so gradients and second derivatives flow through them.  Meant for the
small event sizes of MultivariateNormal: O(n) ops of O(n^2) work each."""
from __future__ import annotations

from ..ops.shape import cat, stack
from ..tensor import Tensor


def cholesky(a: Tensor) -> Tensor:
    """L lower-triangular with L L^T = a (column by column: L[j:, j] = (a[j:, j] - L[j:, :j] L[j, :j]) / L[j, j]).

    It reads (a + a^T) / 2, so that the gradient with respect to a symmetric ``a`` is symmetric
    (as PyTorch's cholesky), not concentrated in the lower triangle."""
    n = a.shape[-1]
    if a.ndim < 2 or a.shape[-2] != n:
        raise ValueError(f"cholesky: expected a batch of square matrices, got shape {tuple(a.shape)}")
    a = (a + a.mT) * 0.5
    cols = []
    for j in range(n):
        v = a[..., j:, j]
        if j:
            done = stack(cols, -1)                                  # [..., n, j]
            v = v - (done[..., j:, :] @ done[..., j, :].unsqueeze(-1)).squeeze(-1)
        d = v[..., :1]
        if not bool((d.data > 0).all()):
            raise ValueError(f"cholesky: the matrix of shape {tuple(a.shape)} is not positive-definite "
                             f"(leading minor of order {j + 1})")
        col = v / d.sqrt()
        cols.append(cat([a[..., :j, j] * 0, col], -1) if j else col)
    return stack(cols, -1)


def tril_solve(L: Tensor, b: Tensor) -> Tensor:
    """x with L x = b, for b of shape [..., n, m] (forward substitution, row by row)."""
    n = L.shape[-1]
    rows = []
    for i in range(n):
        r = b[..., i:i + 1, :]
        if i:
            r = r - L[..., i:i + 1, :i] @ stack(rows, -2)
        rows.append((r / L[..., i:i + 1, i:i + 1]).squeeze(-2))
    return stack(rows, -2)
