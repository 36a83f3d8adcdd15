"""Norms between and along vectors: normalize, cosine_similarity, pairwise_distance; and one_hot.

The first three are compositions of verified differentiable ops (powers, sums, a square root,
a clamp, a division), so their first and second derivatives are those ops' own; for p = 2 the
norm is sqrt(sum x^2), smooth wherever it is not 0.  ``one_hot`` returns integers and has no
gradient (see the registry's NON_DIFFERENTIABLE).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, binary_operands, float_operand, normalize_dim
from .elementwise import clamp
from .scan import VectorNorm

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "one_hot"]


def _p_norm(x, p, dim, keepdim, opname):
    """The p-norm along ``dim`` (p > 0 or inf): scan.VectorNorm, whose gradient at the zero vector
    is 0 as PyTorch's (not the NaN of differentiating sqrt(sum x^2) there)."""
    if not p > 0:
        raise ArgumentError(f"{opname}: p must be positive (or inf), got {p}")
    return VectorNorm.apply(x, p, (dim % x._data.ndim,), keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12) -> Tensor:
    """PyTorch's ``F.normalize``: x / max(||x||_p, eps) along ``dim``."""
    x = float_operand(input, "normalize")
    d = normalize_dim(dim, x._data.ndim, "normalize")
    if x._data.ndim == 0:
        x = x.reshape(1)
        return (x / clamp(_p_norm(x, float(p), 0, True, "normalize"), min=eps)).reshape(())
    return x / clamp(_p_norm(x, float(p), d, True, "normalize"), min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8) -> Tensor:
    """PyTorch's ``F.cosine_similarity``: sum(x1 x2) / (||x1|| ||x2||) along ``dim`` (x1 and x2
    broadcast together), each norm kept at least ``eps``."""
    a, b = binary_operands("cosine_similarity", float_operand(x1, "cosine_similarity"),
                           float_operand(x2, "cosine_similarity"))
    try:
        shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise ArgumentError(f"cosine_similarity: x1 of shape {a._data.shape} and x2 of shape {b._data.shape} do not "
                         f"broadcast") from None
    d = normalize_dim(dim, len(shape), "cosine_similarity")
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    na = clamp((a * a).sum(d, keepdim=True), min=eps * eps).sqrt()
    nb = clamp((b * b).sum(d, keepdim=True), min=eps * eps).sqrt()
    return ((a / na) * (b / nb)).sum(d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False) -> Tensor:
    """PyTorch's ``F.pairwise_distance``: ||x1 - x2 + eps||_p along the last dim."""
    a, b = binary_operands("pairwise_distance", float_operand(x1, "pairwise_distance"),
                           float_operand(x2, "pairwise_distance"))
    try:
        shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise ArgumentError(f"pairwise_distance: x1 of shape {a._data.shape} and x2 of shape {b._data.shape} do not "
                         f"broadcast") from None
    diff = a - b + eps
    if not shape:
        diff = diff.reshape(1)
    return _p_norm(diff, float(p), -1, keepdim, "pairwise_distance")


def one_hot(tensor, num_classes=-1) -> Tensor:
    """PyTorch's ``F.one_hot``: int64 indices of any shape to (..., num_classes) rows of 0s and one 1
    (``num_classes=-1``: one more than the largest index).  Not differentiable."""
    t = as_tensor(tensor, "one_hot")
    if t._data.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype {t._data.dtype}")
    idx = t._data
    xp = backend.xp_of(idx)
    if num_classes == -1:
        if idx.size == 0:
            raise ArgumentError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if idx.size and int(idx.min()) < 0:
        raise ArgumentError(f"one_hot: class indices must be non-negative, got {int(idx.min())}")
    if idx.size and int(idx.max()) >= num_classes:
        raise ArgumentError(f"one_hot: class index {int(idx.max())} is out of range for num_classes={num_classes}")
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._wrap(out)
