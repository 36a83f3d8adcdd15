"""Sorting and searching: sort, argsort, topk, kthvalue (values differentiable), unique,
searchsorted, bincount, nonzero (integer or set-valued results, no gradient).

The differentiable ones find their order on the values (a constant: the derivative of a
permutation with respect to the values is zero away from ties) and then gather the values
in that order, through ``indexing.Take``: the gradient of each output value goes back to
the position its index names (``PutAdd``), and that is again differentiable.
"""
from __future__ import annotations

import numpy as np

from .. import backend, return_types
from ..errors import ArgumentError
from ..tensor import Tensor
from . import indexing as _idx
from . import shape as _shape
from ._args import as_tensor, normalize_dim

__all__ = ["sort", "argsort", "topk", "kthvalue", "unique", "searchsorted", "bincount", "nonzero"]

SortResult, TopkResult, KthvalueResult = return_types.sort, return_types.topk, return_types.kthvalue


def _order(data, dim, descending, xp):
    """Stable argsort along ``dim``; descending keeps equal elements in their original order."""
    if not descending:
        return xp.argsort(data, axis=dim, kind="stable")
    n = data.shape[dim]
    flipped = xp.flip(data, axis=dim)            # stable on the reversed data, then reversed back
    order = xp.flip(xp.argsort(flipped, axis=dim, kind="stable"), axis=dim)
    return (n - 1 - order).astype(np.int64)


def _sorted_along(x, dim, descending, opname):
    xp = backend.xp_of(x._data)
    if x._data.ndim == 0:
        return x._data.reshape(1), 0
    d = normalize_dim(dim, x._data.ndim, opname)
    return _order(x._data, d, descending, xp).astype(np.int64), d


def argsort(input, dim=-1, descending=False, stable=False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (equal elements keep their order)."""
    x = as_tensor(input, "argsort")
    if x._data.ndim == 0:
        return Tensor._wrap(backend.xp_of(x._data).zeros((), dtype=np.int64))
    order, _ = _sorted_along(x, dim, descending, "argsort")
    return Tensor._wrap(order)


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``; d values / d input sends each gradient back
    to the position its index names."""
    x = as_tensor(input, "sort")
    xp = backend.xp_of(x._data)
    if x._data.ndim == 0:
        return SortResult(_shape.reshape(x, ()), Tensor._wrap(xp.zeros((), dtype=np.int64)))
    order, d = _sorted_along(x, dim, descending, "sort")
    return SortResult(_idx.gather(x, d, order), Tensor._wrap(order))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, in sorted order."""
    x = as_tensor(input, "topk")
    xp = backend.xp_of(x._data)
    n = x._data.shape[normalize_dim(dim, x._data.ndim, "topk")] if x._data.ndim else 1
    if not 0 <= k <= n:
        raise ArgumentError(f"topk: k ({k}) is out of range for a dimension of size {n}")
    if x._data.ndim == 0:
        return TopkResult(_shape.reshape(x, ()), Tensor._wrap(xp.zeros((), dtype=np.int64)))
    order, d = _sorted_along(x, dim, largest, "topk")
    order = xp.ascontiguousarray(order[(slice(None),) * d + (slice(0, k),)])
    return TopkResult(_idx.gather(x, d, order), Tensor._wrap(order))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest value (1-based) along ``dim`` and its index."""
    x = as_tensor(input, "kthvalue")
    xp = backend.xp_of(x._data)
    n = x._data.shape[normalize_dim(dim, x._data.ndim, "kthvalue")] if x._data.ndim else 1
    if not 1 <= k <= n:
        raise ArgumentError(f"kthvalue: k ({k}) is out of range for a dimension of size {n}")
    if x._data.ndim == 0:
        return KthvalueResult(_shape.reshape(x, ()), Tensor._wrap(xp.zeros((), dtype=np.int64)))
    order, d = _sorted_along(x, dim, False, "kthvalue")
    order = xp.ascontiguousarray(order[(slice(None),) * d + (slice(k - 1, k),)])
    values, indices = _idx.gather(x, d, order), Tensor._wrap(order)
    if not keepdim:
        values, indices = _shape.squeeze(values, d), Tensor._wrap(order.reshape(values.shape[:d] + values.shape[d + 1:]))
    return KthvalueResult(values, indices)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with the inverse indices (each element's
    position in the result, input's shape) and the counts; with ``dim``, distinct slices."""
    x = as_tensor(input, "unique")
    xp = backend.xp_of(x._data)
    data = x._data
    if dim is None:
        values, inverse, counts = xp.unique(data.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(data.shape)
    else:
        d = normalize_dim(dim, data.ndim, "unique")
        values, inverse, counts = np.unique(backend.to_device(data, backend.CPU), return_inverse=True,
                                            return_counts=True, axis=d)
        values, inverse, counts = (backend.to_device(a, x.device) for a in (values, inverse.reshape(-1), counts))
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None) -> Tensor:
    """Where each value of ``input`` would be inserted into ``sorted_sequence`` (along its last
    dim; leading dims pair up with ``input``'s) to keep it sorted: the first such place, or the
    last with ``right=True`` / ``side='right'``."""
    seq = as_tensor(sorted_sequence, "searchsorted")
    vals = input if isinstance(input, Tensor) else as_tensor(input, "searchsorted")
    if side is not None:
        if side not in ("left", "right"):
            raise ArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ArgumentError("searchsorted: right=True and side='left' contradict each other")
        right = side == "right"
    how = "right" if right else "left"
    xp = backend.xp_of(seq._data)
    s, v = seq._data, vals._data
    if sorter is not None:
        s = xp.take_along_axis(s, _idx._int_array(sorter, seq, "searchsorted", "sorter"), axis=-1)
    dtype = np.int32 if out_int32 else np.int64
    if s.ndim <= 1:
        return Tensor._wrap(xp.asarray(xp.searchsorted(s.reshape(-1), v, side=how), dtype=dtype))  # 0-d stays an array
    if s.shape[:-1] != v.shape[:-1]:
        raise ArgumentError(f"searchsorted: the sequence's leading dims {s.shape[:-1]} must match the values' "
                         f"{v.shape[:-1]}")
    rows_s, rows_v = s.reshape(-1, s.shape[-1]), v.reshape(-1, v.shape[-1])
    out = xp.stack([xp.searchsorted(a, b, side=how) for a, b in zip(rows_s, rows_v)]) if rows_s.shape[0] else \
        xp.zeros(rows_v.shape, dtype=dtype)
    return Tensor._wrap(out.reshape(v.shape).astype(dtype))


def bincount(input, weights=None, minlength=0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-D non-negative integer ``input`` (summing
    ``weights`` instead of ones when given); at least ``minlength`` bins."""
    x = as_tensor(input, "bincount")
    if x._data.ndim != 1 or x._data.dtype.kind not in "iu":
        raise ArgumentError(f"bincount: expected a 1-D integer tensor, got shape {x._data.shape} dtype {x._data.dtype}")
    if x._data.size and int(x._data.min()) < 0:
        raise ArgumentError("bincount: the input must not contain negative values")
    xp = backend.xp_of(x._data)
    if weights is None:
        return Tensor._wrap(xp.bincount(x._data, minlength=minlength).astype(np.int64))
    w = as_tensor(weights, "bincount")
    if w._data.shape != x._data.shape:
        raise ArgumentError(f"bincount: weights of shape {w._data.shape} must match the input's {x._data.shape}")
    dtype = w._data.dtype if w._data.dtype.kind == "f" else np.float64
    return Tensor._wrap(xp.bincount(x._data, weights=w._data, minlength=minlength).astype(dtype))


def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements: an (n, ndim) tensor, or one 1-D tensor per dim."""
    x = as_tensor(input, "nonzero")
    xp = backend.xp_of(x._data)
    data = x._data if x._data.ndim else x._data.reshape(1)
    found = xp.nonzero(data)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in found)
    out = xp.stack(found, axis=1) if found else xp.zeros((0, 0), dtype=np.int64)
    if x._data.ndim == 0:
        out = out[:, :0]
    return Tensor._wrap(out.astype(np.int64))

