"""Argument handling shared by the op families: operands, dims, promotion."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError, DtypeError, IndexRangeError, ShapeError  # noqa: F401 (re-exported)
from ..tensor import Tensor

_NUMBER = (int, float, bool, np.number, np.bool_)


def as_tensor(x, opname: str) -> Tensor:
    """Accept a Tensor, an array, a number or a nested list as an op's tensor argument."""
    if isinstance(x, Tensor):
        return x
    if backend.is_array(x):
        return Tensor._wrap(x)
    try:
        from ..creation import as_array
        return Tensor._wrap(as_array(x))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{opname}: expected a Tensor, got {type(x).__name__}: {exc}") from None


def binary_operands(opname: str, a, b):
    """Bring two operands to the dtype PyTorch would compute in.

    Tensors (and arrays) stay Tensors; Python and NumPy scalars stay Python scalars, which
    NumPy treats as 'weak' and so never widen an array (``float32 * 2.0`` stays float32).
    A tensor is cast (differentiably) only when its dtype differs from the result's.
    """
    a_is_t = isinstance(a, Tensor)
    b_is_t = isinstance(b, Tensor)
    if a_is_t and b_is_t and a._data.dtype == b._data.dtype:
        return a, b
    if not a_is_t:
        a = _scalar_or_tensor(a, opname)
    if not b_is_t:
        b = _scalar_or_tensor(b, opname)
    dtype = backend.result_type(a._data if isinstance(a, Tensor) else a,
                                b._data if isinstance(b, Tensor) else b)
    return _to_dtype(a, dtype), _to_dtype(b, dtype)


def _scalar_or_tensor(x, opname):
    if isinstance(x, _NUMBER):
        return x.item() if isinstance(x, np.generic) else x
    return as_tensor(x, opname)


def _to_dtype(x, dtype):
    if isinstance(x, Tensor):
        return x if x._data.dtype == dtype else x.to(dtype)
    kind = dtype.kind
    if kind in "iu":
        x, info = int(x), np.iinfo(dtype)
        if not info.min <= x <= info.max:    # PyTorch wraps the number into the narrow type (int8 + 1000)
            x = (x - info.min) % (1 << info.bits) + info.min
        return x
    return float(x) if kind == "f" else bool(x)


def float_operand(x, opname: str) -> Tensor:
    """For ops that only make sense on floats (exp, log, ...): integers become the default float."""
    x = as_tensor(x, opname)
    if x._data.dtype.kind != "f":
        x = x.to(backend.get_default_dtype())
    return x


def with_unit_batch(fn, x: Tensor):
    """PyTorch's unbatched inputs, (C, H, W) for a 2-D convolution or pool: ``fn`` run on ``x``
    with a batch of one put in front, taken off again from its result (or each of its results)."""
    out = fn(x.unsqueeze(0))
    return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)


def refuse_float16(opname: str, *tensors):
    """Ops built on the compiled kernels (float32 and float64 only) refuse float16 by their public
    name, before a kernel deep inside would name itself instead."""
    for t in tensors:
        if t is not None and t._data.dtype == np.float16:
            raise TypeError(f"{opname}: float16 is not supported (its kernels compute in float32 or float64); "
                            f"convert with .float() first")


def normalize_dim(dim, ndim: int, opname: str) -> int:
    """A dim in ``[-ndim, ndim)`` as a non-negative index (0-d tensors accept 0 and -1)."""
    if isinstance(dim, Tensor):
        dim = int(dim)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{opname}: dim must be an integer, got {dim!r}")
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"{opname}: dim {dim} is out of range for a tensor of {ndim} dimension(s) "
                         f"(expected {-bound} <= dim < {bound})")
    return int(dim) % bound


def normalize_dims(dim, ndim: int, opname: str, empty_is_all: bool = False) -> tuple:
    """``None`` (all dims), an int or a sequence of ints, as a sorted tuple of unique dims.
    ``empty_is_all``: an empty sequence means every dim too, as it does for PyTorch's sum, mean,
    var, std, amax, amin, norm and count_nonzero (but not for all, any or flip)."""
    if dim is None or (empty_is_all and isinstance(dim, (list, tuple)) and not dim):
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = tuple(normalize_dim(d, ndim, opname) for d in dim)
        if len(set(dims)) != len(dims):
            raise ArgumentError(f"{opname}: dim {tuple(dim)} names a dimension twice")
        return tuple(sorted(dims)) if ndim else ()
    dim = normalize_dim(dim, ndim, opname)      # checked on 0-d tensors too: only 0 and -1 name their dim
    return (dim,) if ndim else ()


def dim_alias(dim, axis, opname):
    """Accept NumPy's ``axis=`` as an alias of PyTorch's ``dim=``."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{opname}: pass dim or axis, not both")
        return axis
    return dim


def keepdim_alias(keepdim, keepdims):
    """Accept NumPy's ``keepdims=`` as an alias of PyTorch's ``keepdim=`` (as PyTorch does)."""
    return keepdim if keepdims is None else keepdims


def pair(v, name, opname):
    """An int or a pair of ints (kernel sizes, strides, paddings) as a pair."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ArgumentError(f"{opname}: {name} must be an int or a pair, got {v}")
        return tuple(int(a) for a in v)
    return (int(v), int(v))


def shape_arg(shape, opname):
    """``f(2, 3)`` or ``f((2, 3))`` -> ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    out = []
    for s in shape:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{opname}: sizes must be integers, got {tuple(shape)}")
        out.append(int(s))
    return tuple(out)
