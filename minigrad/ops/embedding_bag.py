"""EmbeddingBag: sums, means or maxima of bags of embedding rows, without the (bags, length, E)
intermediate a padded lookup would build.

Shape legend: weight W (V, E); ``input`` either (B, L) (B bags of L indices each) or a flat
(M,) with ``offsets`` (B,) giving where each bag starts (``include_last_offset``: (B + 1,), the
last one the end, which should be M: the last bag runs to the end of the input anyway, as
PyTorch's); output (B, E).  Entries equal to ``padding_idx`` are left out of their bag.

    sum    out[b] = sum_{k in bag b} w_k W[idx[k]]          (w_k the per-sample weights, or 1)
    mean   out[b] = sum_{k in bag b} W[idx[k]] / |bag b|
    max    out[b, e] = max_{k in bag b} W[idx[k], e]         (0 for an empty bag)

It is a composition of verified ops: the lookup W[idx] (embedding's Function, whose gradient
is PyTorch's dense (V, E) scatter-add), the per-sample weights, and the segment sum into bags
(index_add's Function, a scatter-add along the bag ids).  ``max`` picks, per bag and feature,
the row holding the maximum (a constant index computed from the values) and gathers
W[row, e], so its gradient goes to that row only, as PyTorch's.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, float_operand
from .embedding import _renorm_, embedding
from .shape import IndexAdd

__all__ = ["embedding_bag"]

_MODES = ("sum", "mean", "max")


def _bags(opname, idx, offsets, include_last_offset, xp):
    """Flat indices (M,) and the bag of each (M,), and the number of bags."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ArgumentError(f"{opname}: offsets must be None for a 2-D input (fixed-length bags), got offsets")
        n_bags, length = idx.shape
        return idx.reshape(-1), xp.repeat(xp.arange(n_bags), length), n_bags
    if idx.ndim != 1:
        raise ArgumentError(f"{opname}: input must be 1-D (with offsets) or 2-D (bags, length), got shape {tuple(idx.shape)}")
    if offsets is None:
        raise ArgumentError(f"{opname}: offsets are required for a 1-D input of shape {tuple(idx.shape)}")
    off = offsets._data if isinstance(offsets, Tensor) else offsets
    off = off if backend.is_array(off) else xp.asarray(off)
    if off.ndim != 1 or off.dtype.kind not in "iu":
        raise ArgumentError(f"{opname}: offsets must be a 1-D integer tensor, got shape {tuple(off.shape)} dtype {off.dtype}")
    off = off.astype(np.int64)
    m = idx.shape[0]
    if off.size and (int(off[0]) != 0 or bool((off[1:] < off[:-1]).any()) or int(off[-1]) > m):
        raise ArgumentError(f"{opname}: offsets must start at 0, be non-decreasing and not exceed the input's length "
                         f"{m}, got {off.tolist()}")
    if include_last_offset:
        if off.size == 0:
            raise ArgumentError(f"{opname}: include_last_offset needs at least one offset")
        starts = off[:-1]             # the last bag runs to the end of the input, as PyTorch's does
    else:
        starts = off
    n_bags = starts.shape[0]
    bag = xp.searchsorted(starts, xp.arange(m), side="right") - 1
    return idx, bag, n_bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None) -> Tensor:
    """PyTorch's ``F.embedding_bag`` (see the module docstring)."""
    op = "embedding_bag"
    w = as_tensor(weight, op)
    if w._data.ndim != 2 or w._data.dtype.kind != "f":
        raise ArgumentError(f"{op}: weight must be a 2-D float tensor (num_embeddings, embedding_dim), got shape "
                         f"{w._data.shape} dtype {w._data.dtype}")
    if mode not in _MODES:
        raise ArgumentError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq:
        raise NotImplementedError(f"{op}: scale_grad_by_freq is not supported")
    if sparse:
        raise NotImplementedError(f"{op}: sparse gradients are not supported; use sparse=False")
    xp = backend.xp_of(w._data)
    idx = input._data if isinstance(input, Tensor) else input
    idx = idx if backend.is_array(idx) else xp.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got {idx.dtype}")
    V, E = w._data.shape
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ArgumentError(f"{op}: padding_idx {padding_idx} must be within num_embeddings {V}")
        padding_idx = int(padding_idx) % V
    flat, bag, n_bags = _bags(op, idx.astype(np.int64), offsets, include_last_offset, xp)
    psw = None
    if per_sample_weights is not None:
        if mode != "sum":
            raise ArgumentError(f"{op}: per_sample_weights are only supported for mode='sum', got mode={mode!r}")
        psw = float_operand(per_sample_weights, op)
        if psw._data.shape != idx.shape:
            raise ArgumentError(f"{op}: per_sample_weights of shape {psw._data.shape} must match the input's shape "
                             f"{tuple(idx.shape)}")
        psw = psw.reshape(-1)
        if psw._data.dtype != w._data.dtype:
            psw = psw.to(w._data.dtype)
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= V):
        raise IndexError(f"{op}: index out of range [0, {V}) for a weight of shape {w._data.shape}: "
                         f"min {int(flat.min())}, max {int(flat.max())}")
    if max_norm is not None:
        _renorm_(w, flat, float(max_norm), float(norm_type))
    keep = flat != padding_idx if padding_idx is not None else xp.ones(flat.shape, dtype=bool)
    flat, bag = flat[keep], bag[keep]
    if psw is not None:
        psw = psw[xp.nonzero(keep)[0]]
    if mode == "max":
        return _bag_max(w, flat, bag, n_bags, xp)
    rows = embedding(flat, w)
    if psw is not None:
        rows = rows * psw.reshape(-1, 1)
    out = IndexAdd.apply(rows, (n_bags, E), 0, bag)
    if mode == "mean":
        counts = xp.bincount(bag, minlength=n_bags).astype(w._data.dtype)
        out = out / Tensor._wrap(xp.maximum(counts, 1).reshape(-1, 1))
    return out


def _bag_max(w, flat, bag, n_bags, xp):
    """Per bag and feature the row with the largest value (the first on ties), gathered from W.
    The choice of rows is made on the host (NumPy's ufunc.at), the gather where W lives."""
    E = w._data.shape[1]
    host = (lambda a: a) if xp is np else (lambda a: backend.to_device(a, backend.device("cpu")))
    flat_h, bag_h = host(flat), host(bag)
    m = flat_h.shape[0]
    vals = host(w._data)[flat_h]                                   # (M, E)
    best_val = np.full((n_bags, E), -np.inf, dtype=vals.dtype)
    np.maximum.at(best_val, bag_h, vals)
    position = np.where(vals == best_val[bag_h], np.arange(m)[:, None], m)
    first = np.full((n_bags, E), m, dtype=np.int64)
    np.minimum.at(first, bag_h, position)                         # the first entry holding the maximum
    empty = first == m
    best = np.where(empty, 0, flat_h[np.minimum(first, max(m - 1, 0))] if m else 0)
    if xp is not np:
        best, empty = backend.to_device(best, w.device), backend.to_device(empty, w.device)
    cols = xp.broadcast_to(xp.arange(E), (n_bags, E))
    picked = w[best, cols]
    return picked * Tensor._wrap((~empty).astype(w._data.dtype)) if empty.any() else picked
