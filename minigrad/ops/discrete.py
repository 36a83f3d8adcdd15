"""Ops whose results carry no gradient: membership and classification tests (isin, isneginf,
isposinf, isreal), step functions and binning (heaviside, bucketize, histc), integer
arithmetic (gcd, lcm), neighbours of floats (nextafter), runs (unique_consecutive) and index
arithmetic (unravel_index).  PyTorch records no gradient for these either (heaviside and
nextafter raise there; here, as for comparisons, the result is simply a constant).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, normalize_dim

__all__ = ["isin", "isneginf", "isposinf", "isreal", "heaviside", "bucketize", "histc", "gcd", "lcm", "nextafter",
           "unique_consecutive", "unravel_index", "argwhere", "frexp", "histogram"]


def _data(x, opname):
    return as_tensor(x, opname)._data


def _wrap(array, like):
    return Tensor._wrap(backend.xp_of(like).asarray(array))


def isin(elements, test_elements, *, assume_unique=False, invert=False) -> Tensor:
    """Whether each element of ``elements`` occurs in ``test_elements`` (a bool tensor of its shape)."""
    a = _data(elements, "isin")
    b = _data(test_elements, "isin")
    xp = backend.xp_of(a)
    return _wrap(xp.isin(a, b, assume_unique=assume_unique, invert=invert), a)


def isneginf(input) -> Tensor:
    a = _data(input, "isneginf")
    return _wrap(backend.xp_of(a).isneginf(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool), a)


def isposinf(input) -> Tensor:
    a = _data(input, "isposinf")
    return _wrap(backend.xp_of(a).isposinf(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool), a)


def isreal(input) -> Tensor:
    """True everywhere for real tensors (minigrad has no complex dtypes)."""
    a = _data(input, "isreal")
    return _wrap(backend.xp_of(a).ones(a.shape, dtype=bool), a)


def heaviside(input, values) -> Tensor:
    """0 where x < 0, ``values`` where x == 0, 1 where x > 0 (``values`` broadcasts)."""
    a, v = _data(input, "heaviside"), _data(values, "heaviside")
    if a.dtype != v.dtype:
        raise TypeError(f"heaviside: input and values must share a dtype, got {a.dtype} and {v.dtype}")
    return _wrap(backend.xp_of(a).heaviside(a, v).astype(a.dtype), a)


def bucketize(input, boundaries, *, out_int32=False, right=False) -> Tensor:
    """The index of the bucket of each element: with ``right=False``, i such that
    boundaries[i-1] < x <= boundaries[i] (``searchsorted`` with the roles swapped)."""
    a, b = _data(input, "bucketize"), _data(boundaries, "bucketize")
    if b.ndim != 1:
        raise ArgumentError(f"bucketize: boundaries must be a 1-D tensor, got shape {tuple(b.shape)}")
    xp = backend.xp_of(a)
    out = xp.searchsorted(b, a, side="right" if right else "left")
    return _wrap(xp.asarray(out, dtype=np.int32 if out_int32 else np.int64), a)


def histc(input, bins=100, min=0, max=0) -> Tensor:
    """A histogram of ``bins`` equal bins over [min, max] (the data's range when both are 0);
    elements outside are ignored; the result has the input's dtype."""
    a = _data(input, "histc")
    if a.dtype.kind != "f":
        raise TypeError(f"histc: expected a floating-point tensor, got {a.dtype}")
    if bins <= 0:
        raise ArgumentError(f"histc: bins must be positive, got {bins}")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ArgumentError(f"histc: max must be larger than min, got min {min} and max {max}")
    xp = backend.xp_of(a)
    counts, _ = xp.histogram(a, bins=bins, range=(lo, hi))
    return _wrap(counts.astype(a.dtype), a)


_Frexp = namedtuple("frexp", ["mantissa", "exponent"])
_Histogram = namedtuple("histogram", ["hist", "bin_edges"])


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent``, ``0.5 <= |mantissa| < 1``
    (0, inf and nan keep exponent 0); the exponent is int32, as PyTorch's.  No gradient."""
    a = _data(input, "frexp")
    if a.dtype.kind != "f":
        raise TypeError(f"frexp: only supports floating-point dtypes, got {a.dtype}")
    xp = backend.xp_of(a)
    mantissa, exponent = xp.frexp(a)            # NumPy scalars for a 0-d input: made 0-d arrays again
    return _Frexp(Tensor._wrap(xp.asarray(mantissa)), Tensor._wrap(xp.asarray(exponent, dtype=np.int32)))


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)``: ``bins`` equal bins over ``range`` (the data's min and max by
    default; widened by 0.5 each way when they are equal), or the edges given as a 1-D tensor;
    the last bin includes its right edge; ``weight`` weighs each element, ``density`` divides by
    the total times the bin width.  In the input's (floating) dtype; no gradient."""
    a = _data(input, "histogram")
    if a.dtype.kind != "f":
        raise TypeError(f"histogram: expected a floating-point tensor, got {a.dtype}")
    if isinstance(bins, Tensor):
        bins = backend.to_device(bins._data, backend.CPU)
        if bins.ndim != 1 or bins.size < 1:
            raise ArgumentError(f"histogram: bins must be a 1-D tensor of edges, got shape {tuple(bins.shape)}")
    elif int(bins) <= 0:
        raise ArgumentError(f"histogram: bins must be positive, got {bins}")
    w = None
    if weight is not None:
        w = backend.to_device(_data(weight, "histogram"), backend.CPU)
        if w.shape != a.shape:
            raise ArgumentError(f"histogram: weight of shape {tuple(w.shape)} does not match the input's shape {tuple(a.shape)}")
    if range is not None and float(range[0]) > float(range[1]):
        raise ArgumentError(f"histogram: max must be larger than min, got range {tuple(range)}")
    hist, edges = np.histogram(backend.to_device(a, backend.CPU).reshape(-1), bins=bins if isinstance(bins, np.ndarray)
                               else int(bins), range=None if range is None else (float(range[0]), float(range[1])),
                               weights=None if w is None else w.reshape(-1), density=bool(density))
    return _Histogram(_wrap(hist.astype(a.dtype), a), _wrap(edges.astype(a.dtype), a))


def _integer_pair(opname, input, other):
    a, b = _data(input, opname), _data(other, opname)
    for arr in (a, b):
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{opname}: expected integer tensors, got {a.dtype} and {b.dtype}")
    return a, b


def gcd(input, other) -> Tensor:
    """The greatest common divisor, elementwise (non-negative; gcd(0, 0) = 0)."""
    a, b = _integer_pair("gcd", input, other)
    return _wrap(backend.xp_of(a).gcd(a, b), a)


def lcm(input, other) -> Tensor:
    """The least common multiple, elementwise (non-negative; 0 if either is 0)."""
    a, b = _integer_pair("lcm", input, other)
    return _wrap(backend.xp_of(a).lcm(a, b), a)


def nextafter(input, other) -> Tensor:
    """The next representable float after ``input`` towards ``other``."""
    a, b = _data(input, "nextafter"), _data(other, "nextafter")
    if a.dtype.kind != "f" or a.dtype != b.dtype:
        raise TypeError(f"nextafter: expected two floating-point tensors of one dtype, got {a.dtype} and {b.dtype}")
    return _wrap(backend.xp_of(a).nextafter(a, b), a)


UniqueConsecutive = namedtuple("unique_consecutive", ["output", "inverse_indices", "counts"])


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The input with each run of equal consecutive elements (or slices along ``dim``) kept once;
    optionally where each input element went and each run's length."""
    x = as_tensor(input, "unique_consecutive")
    a = np.asarray(backend.to_device(x._data, backend.CPU))
    if dim is None:
        flat = a.reshape(-1)
        starts = np.ones(flat.shape[0], dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        out = flat[starts]
        inverse_shape = a.shape
    else:
        d = normalize_dim(dim, a.ndim, "unique_consecutive")
        moved = np.moveaxis(a, d, 0).reshape(a.shape[d], -1)
        starts = np.ones(moved.shape[0], dtype=bool)
        starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        out = np.compress(starts, a, axis=d)
        inverse_shape = (a.shape[d],)
    inverse = (np.cumsum(starts) - 1).reshape(inverse_shape)
    counts = np.diff(np.append(np.flatnonzero(starts), starts.shape[0]))
    wrap = lambda arr: Tensor._wrap(backend.to_device(np.ascontiguousarray(arr), x.device))  # noqa: E731
    result = [wrap(out)]
    if return_inverse:
        result.append(wrap(inverse.astype(np.int64)))
    if return_counts:
        result.append(wrap(counts.astype(np.int64)))
    return result[0] if len(result) == 1 else tuple(result)


def unravel_index(indices, shape) -> tuple:
    """The coordinates of flat ``indices`` in a tensor of ``shape``, one int64 tensor per dim."""
    idx = _data(indices, "unravel_index")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected integer indices, got {idx.dtype}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    size = int(np.prod(shape)) if shape else 1
    if idx.size and (int(idx.min()) < -size or int(idx.max()) >= size):
        raise IndexError(f"unravel_index: indices out of range for shape {shape} (size {size})")
    xp = backend.xp_of(idx)
    coords = xp.unravel_index(idx % size if size else idx, shape)
    return tuple(_wrap(c.astype(np.int64), idx) for c in coords)


def argwhere(input) -> Tensor:
    """The indices of the non-zero elements, one row per element (``nonzero(as_tuple=False)``)."""
    a = _data(input, "argwhere")
    xp = backend.xp_of(a)
    rows = xp.argwhere(a).astype(np.int64)            # (1, 0) or (0, 0) for a 0-d input, as PyTorch's
    return _wrap(rows.reshape(-1, a.ndim) if a.ndim else rows, a)
