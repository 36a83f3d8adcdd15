"""``minigrad.linalg``, as ``torch.linalg``: norms, products, the cross product, inverses,
determinants, solves and the Cholesky and symmetric eigen decompositions.

The ops live in :mod:`minigrad.ops.linalg_extra`; this module gives them PyTorch's
``torch.linalg`` names and defaults (``linalg.cross`` works along the last dim)."""
from __future__ import annotations

from .ops.linalg import matmul
from .ops.linalg_extra import cross as _cross
from .ops.linalg_decomp import cholesky, det, eigh, eigvalsh, inv, matrix_power, slogdet, solve
from .ops.linalg_extra import matrix_norm, norm, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "cross", "matmul", "vecdot", "inv", "det", "slogdet", "solve",
           "cholesky", "eigh", "eigvalsh", "matrix_power", "multi_dot"]


def multi_dot(tensors):
    """The product of a chain of matrices, multiplied in the cheapest order (1-D ends as vectors)."""
    from .ops.composite import chain_matmul
    ts = list(tensors)
    if len(ts) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least two tensors, got {len(ts)}")
    first_vector, last_vector = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vector:
        ts[0] = ts[0].unsqueeze(0)
    if last_vector:
        ts[-1] = ts[-1].unsqueeze(1)
    out = chain_matmul(*ts)
    if first_vector:
        out = out.squeeze(0)
    if last_vector:
        out = out.squeeze(-1)
    return out


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (the last by default)."""
    return _cross(input, other, dim)


def vecdot(x, y, *, dim=-1):
    """sum(x * y) along ``dim`` (real tensors), broadcasting the other dims."""
    return (x * y).sum(dim)
