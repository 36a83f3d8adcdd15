"""Comparisons, logic, bitwise integer arithmetic and tests: no gradient flows through any of them
(their results are bool or integer tensors).  ``sign``, piecewise constant with a zero gradient as
PyTorch's, is in ops/math.py."""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, binary_operands, normalize_dims

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "logical_xor",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
           "any", "all", "count_nonzero", "isfinite", "isnan", "isinf", "signbit", "isclose", "allclose", "equal"]


def _wrap(result) -> Tensor:
    """A result Tensor; NumPy makes 0-d results scalars, which a Tensor must not hold."""
    return Tensor._wrap(np.asarray(result) if isinstance(result, np.generic) else result)


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _compare(opname, a, b, fn):
    a, b = binary_operands(opname, a, b)
    try:
        return _wrap(fn(_raw(a), _raw(b)))
    except ValueError:
        raise ArgumentError(f"{opname}: shapes {getattr(a, 'shape', ())} and {getattr(b, 'shape', ())} "
                         f"do not broadcast together") from None


def eq(input, other):
    return _compare("eq", input, other, lambda a, b: a == b)


def ne(input, other):
    return _compare("ne", input, other, lambda a, b: a != b)


def lt(input, other):
    return _compare("lt", input, other, lambda a, b: a < b)


def le(input, other):
    return _compare("le", input, other, lambda a, b: a <= b)


def gt(input, other):
    return _compare("gt", input, other, lambda a, b: a > b)


def ge(input, other):
    return _compare("ge", input, other, lambda a, b: a >= b)


def _bool_operand(x, opname):
    t = as_tensor(x, opname)
    return t._data if t._data.dtype == backend.bool_ else t._data != 0


def logical_and(input, other):
    return _wrap(_bool_operand(input, "logical_and") & _bool_operand(other, "logical_and"))


def logical_or(input, other):
    return _wrap(_bool_operand(input, "logical_or") | _bool_operand(other, "logical_or"))


def logical_not(input):
    return _wrap(~_bool_operand(input, "logical_not"))


def logical_xor(input, other):
    return _wrap(_bool_operand(input, "logical_xor") ^ _bool_operand(other, "logical_xor"))


# ----------------------------------------------------------------------------- bitwise
def _integral_operands(opname, a, b, allow_bool=True):
    """Two operands as arrays of their PyTorch result dtype, which must be an integer (or bool)
    type.  A Python int wraps around into a narrow dtype, as in PyTorch (``uint8 & -1`` is ``& 255``)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor) and not backend.is_array(a) and not backend.is_array(b):
        raise TypeError(f"{opname}: expected at least one tensor, got {type(a).__name__} and {type(b).__name__}")
    a, b = binary_operands(opname, a, b)
    tensor = a if isinstance(a, Tensor) else b
    dtype = backend.result_type(*(x._data if isinstance(x, Tensor) else x for x in (a, b)))
    if dtype.kind not in ("iub" if allow_bool else "iu"):
        kinds = "integer or boolean" if allow_bool else "integer"
        raise TypeError(f"{opname}: expected {kinds} tensors, got {dtype} (bitwise ops have no floating-point form)")
    xp = backend.xp_of(tensor._data)
    return tuple(x._data if isinstance(x, Tensor) else xp.asarray(x).astype(dtype) for x in (a, b))


def _bitwise(opname, input, other, fn, allow_bool=True):
    a, b = _integral_operands(opname, input, other, allow_bool)
    try:
        return _wrap(fn(backend.xp_of(a), a, b))
    except ValueError:
        raise ArgumentError(f"{opname}: shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast together") from None


def bitwise_and(input, other):
    """Bitwise AND of integer tensors; logical AND of bool tensors (``&``)."""
    return _bitwise("bitwise_and", input, other, lambda xp, a, b: xp.bitwise_and(a, b))


def bitwise_or(input, other):
    """Bitwise OR of integer tensors; logical OR of bool tensors (``|``)."""
    return _bitwise("bitwise_or", input, other, lambda xp, a, b: xp.bitwise_or(a, b))


def bitwise_xor(input, other):
    """Bitwise XOR of integer tensors; logical XOR of bool tensors (``^``)."""
    return _bitwise("bitwise_xor", input, other, lambda xp, a, b: xp.bitwise_xor(a, b))


def bitwise_not(input):
    """Bitwise NOT of an integer tensor (``~x == -x - 1`` for signed); logical NOT of a bool tensor (``~``)."""
    x = as_tensor(input, "bitwise_not")
    if x._data.dtype.kind not in "iub":
        raise TypeError(f"bitwise_not: expected an integer or boolean tensor, got {x._data.dtype} "
                        f"(use logical_not for a truth test of floats)")
    return _wrap(backend.xp_of(x._data).invert(x._data))


def _shift(xp, x, s, left):
    """x << s or x >> s with PyTorch's (two's complement, wrapping) results for every shift: a shift
    by a negative amount or by the width of the type or more gives 0, or -1 for a right shift of a
    negative number (C leaves these undefined, and NumPy's result depends on the machine)."""
    bits = x.dtype.itemsize * 8
    out_of_range = (s < 0) | (s >= bits)
    safe = xp.where(out_of_range, 0, s).astype(x.dtype)
    if left:
        return xp.where(out_of_range, xp.zeros((), x.dtype), xp.left_shift(x, safe))
    fill = xp.where(x < 0, -1, 0).astype(x.dtype) if x.dtype.kind == "i" else xp.zeros((), x.dtype)
    return xp.where(out_of_range, fill, xp.right_shift(x, safe))


def bitwise_left_shift(input, other):
    """``input << other`` on integer tensors: multiplies by 2**other, wrapping around the type's width."""
    return _bitwise("bitwise_left_shift", input, other, lambda xp, a, b: _shift(xp, a, b, left=True),
                    allow_bool=False)


def bitwise_right_shift(input, other):
    """``input >> other`` on integer tensors: floor division by 2**other (arithmetic for signed types)."""
    return _bitwise("bitwise_right_shift", input, other, lambda xp, a, b: _shift(xp, a, b, left=False),
                    allow_bool=False)


# ----------------------------------------------------------------------------- truth reductions
def _truth_reduction(opname, input, dim, keepdim, fn):
    """any/all over ``dim``; bool results, except uint8 inputs, which give uint8 as in PyTorch."""
    x = as_tensor(input, opname)
    dims = normalize_dims(dim, x._data.ndim, opname)
    xp = backend.xp_of(x._data)
    out = xp.asarray(fn(xp, x._data, dims, keepdim))
    return _wrap(out.astype(backend.uint8) if x._data.dtype == backend.uint8 else out)


def any(input, dim=None, keepdim=False):
    """Whether any element is non-zero, over ``dim`` (an int or a tuple; None: all)."""
    return _truth_reduction("any", input, dim, keepdim, lambda xp, a, d, k: xp.any(a, axis=d, keepdims=k))


def all(input, dim=None, keepdim=False):
    """Whether every element is non-zero, over ``dim`` (an int or a tuple; None: all)."""
    return _truth_reduction("all", input, dim, keepdim, lambda xp, a, d, k: xp.all(a, axis=d, keepdims=k))


def count_nonzero(input, dim=None):
    """The number of non-zero elements over ``dim`` (an int or a tuple; None: all), as int64."""
    x = as_tensor(input, "count_nonzero")
    dims = normalize_dims(dim, x._data.ndim, "count_nonzero", empty_is_all=True)
    xp = backend.xp_of(x._data)
    return _wrap(xp.asarray((x._data != 0).sum(axis=dims), dtype=backend.int64))


def isfinite(input):
    x = as_tensor(input, "isfinite")
    return _wrap(backend.xp_of(x._data).isfinite(x._data))


def isnan(input):
    x = as_tensor(input, "isnan")
    return _wrap(backend.xp_of(x._data).isnan(x._data))


def isinf(input):
    x = as_tensor(input, "isinf")
    return _wrap(backend.xp_of(x._data).isinf(x._data))


def signbit(input):
    """Whether the sign bit is set: True for negative numbers, -0.0 and negative NaNs."""
    x = as_tensor(input, "signbit")
    xp = backend.xp_of(x._data)
    if x._data.dtype.kind == "b":
        return _wrap(xp.zeros(x._data.shape, dtype=backend.bool_))
    return _wrap(xp.signbit(x._data) if x._data.dtype.kind == "f" else x._data < 0)


def _same_dtype_operands(opname, input, other):
    """As PyTorch, isclose compares tensors of one dtype; a Python number is taken in input's dtype."""
    a = as_tensor(input, opname)
    if not isinstance(other, Tensor) and not backend.is_array(other):
        return a._data, backend.xp_of(a._data).asarray(other, dtype=a._data.dtype)
    b = as_tensor(other, opname)
    if a._data.dtype != b._data.dtype:
        raise TypeError(f"{opname}: input ({a._data.dtype}) and other ({b._data.dtype}) must have the same dtype")
    if a.device != b.device:
        raise RuntimeError(f"{opname}: expected both tensors on one device, got {a.device} and {b.device}")
    return a._data, b._data


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (infinities close only to
    themselves; NaNs close to each other only with ``equal_nan``); inputs of one dtype."""
    if rtol < 0:
        raise ArgumentError(f"isclose: rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise ArgumentError(f"isclose: atol must be greater than or equal to zero, but got {atol}")
    a, b = _same_dtype_operands("isclose", input, other)
    xp = backend.xp_of(a)
    if a.dtype.kind == "b":
        a, b = a.astype(backend.int8), b.astype(backend.int8)
    try:
        return _wrap(xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise ArgumentError(f"isclose: shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast together") from None


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    """Whether :func:`isclose` holds everywhere (a Python bool)."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other) -> bool:
    """Whether two tensors have the same shape and the same values (NaN equals nothing)."""
    a, b = as_tensor(input, "equal"), as_tensor(other, "equal")
    if a.device != b.device:
        raise RuntimeError(f"equal: expected both tensors on one device, got {a.device} and {b.device}")
    if a.shape != b.shape:
        return False
    return builtins.bool((a._data == b._data).all())
