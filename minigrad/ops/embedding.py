"""Embedding: a lookup of weight rows by integer index, with a scatter-add backward.

Shape legend: weight W (V, E) (V rows, one per token id, of E features); indices (*) integers
in [0, V); output (*, E).

    out[k] = W[idx[k]]
    dW[v]  = sum over k with idx[k] == v of g[k]      (v != padding_idx; that row gets 0)

The backward is the scatter-add kernel of every gather (``kernels/scatter.py``): repeated
indices accumulate, and only the rows that were used are touched (no dense one-hot product).
With ``scale_grad_by_freq`` each g[k] is divided by the number of times idx[k] occurs in the
batch.  ``max_norm`` renormalises the used rows of W in place before the lookup, as PyTorch.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, no_grad
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, refuse_float16
from ._kernels import kernels

__all__ = ["embedding"]


class Embedding(Function):
    """out = W[idx];  dW = zeros (V, E), then dW[idx[k]] += g[k] (scatter-add), row padding_idx = 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(indices)
        ctx.shape, ctx.padding_idx, ctx.scale = weight.shape, padding_idx, scale_grad_by_freq
        return backend.xp_of(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, g):
        indices = ctx.saved_tensors[0]
        indices = indices._data if isinstance(indices, Tensor) else indices
        return EmbeddingAdjoint.run(g, indices, ctx.shape[0], ctx.padding_idx, ctx.scale)


class EmbeddingAdjoint(Function):
    """The embedding's backward as an op: dW (V, E) = zeros, then dW[idx[k]] += g[k] (divided
    by idx[k]'s count with ``scale``), row padding_idx 0.  Linear in g; its own gradient is
    the lookup again, gg[idx[k]] with the same scaling and padding row."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, indices, num_rows, padding_idx, scale):
        xp = backend.xp_of(g)
        E = g.shape[-1]
        rows = indices.reshape(-1)
        row_scale = _row_scale(xp, rows, num_rows, padding_idx, scale, g.dtype)
        ctx.indices, ctx.row_scale = indices, row_scale
        g_rows = xp.ascontiguousarray(g.reshape(rows.shape[0], E))
        if scale:
            g_rows = g_rows / xp.bincount(rows, minlength=num_rows)[rows].astype(g.dtype)[:, None]
        dw = xp.zeros((num_rows, E), dtype=g.dtype)
        kernels("scatter").index_add_rows(dw, rows, g_rows)
        if padding_idx is not None:
            dw[padding_idx] = 0
        return dw

    @staticmethod
    def backward(ctx, gg):
        scaled = gg if ctx.row_scale is None else gg * ctx.row_scale[:, None]
        return Embedding.run(scaled, ctx.indices, None, False)


def _row_scale(xp, rows, num_rows, padding_idx, scale, dtype):
    """Per row of W: 1 / its count with ``scale``, 0 for the padding row (None when all 1)."""
    if padding_idx is None and not scale:
        return None
    factor = xp.ones(num_rows, dtype=dtype)
    if scale:
        counts = xp.bincount(rows, minlength=num_rows)
        factor = factor / xp.maximum(counts, 1).astype(dtype)
    if padding_idx is not None:
        factor[padding_idx] = 0
    return factor


def _renorm_(weight, indices, max_norm, norm_type):
    """Scale the rows of ``weight`` used by ``indices`` whose p-norm exceeds ``max_norm`` down
    to it, in place and without gradient (PyTorch's ``embedding_renorm_``)."""
    xp = backend.xp_of(weight._data)
    with no_grad():
        rows = xp.unique(indices.reshape(-1))
        w = weight._data[rows]
        norms = (xp.abs(w) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        weight._data[rows] = w * scale[:, None]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False) -> Tensor:
    """PyTorch's ``F.embedding``: rows of ``weight`` (V, E) at the integer ``input`` (*) -> (*, E)."""
    w = as_tensor(weight, "embedding")
    if w._data.ndim != 2:
        raise ArgumentError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {w._data.shape}")
    if w._data.dtype.kind != "f":
        raise TypeError(f"embedding: weight must be floating point, got {w._data.dtype}")
    if w.requires_grad:
        refuse_float16("embedding", w)                 # its gradient is a float32/float64 scatter kernel
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; use sparse=False "
                                  "(the dense gradient is filled by a scatter-add of the used rows)")
    idx = input._data if isinstance(input, Tensor) else input
    if not backend.is_array(idx):
        idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (int64 or int32), got {idx.dtype}")
    if type(idx) is not type(w._data):
        if isinstance(input, Tensor):
            raise RuntimeError(f"embedding: indices are on {input.device} but the weight is on {w.device}")
        idx = backend.to_device(idx, w.device)
    V = w._data.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= V):
        raise IndexError(f"embedding: index out of range [0, {V}) for a weight of shape {w._data.shape}: "
                         f"min {int(idx.min())}, max {int(idx.max())}")
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ArgumentError(f"embedding: padding_idx {padding_idx} must be within num_embeddings {V}")
        padding_idx = int(padding_idx) % V
    idx = idx.astype(np.int64, copy=False)
    if max_norm is not None:
        _renorm_(w, idx, float(max_norm), float(norm_type))
    return Embedding.apply(w, idx, padding_idx, bool(scale_grad_by_freq))
