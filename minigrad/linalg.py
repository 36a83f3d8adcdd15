"""``minigrad.linalg``, as ``torch.linalg``: norms, products and the cross product.

The ops live in :mod:`minigrad.ops.linalg_extra`; this module gives them PyTorch's
``torch.linalg`` names and defaults (``linalg.cross`` works along the last dim)."""
from __future__ import annotations

from .ops.linalg import matmul
from .ops.linalg_extra import cross as _cross
from .ops.linalg_extra import matrix_norm, norm, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "cross", "matmul", "vecdot"]


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (the last by default)."""
    return _cross(input, other, dim)


def vecdot(x, y, *, dim=-1):
    """sum(x * y) along ``dim`` (real tensors), broadcasting the other dims."""
    return (x * y).sum(dim)
