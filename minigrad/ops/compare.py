"""Comparisons, logic and tests: results are bool (or sign) tensors and carry no gradient."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from ._args import as_tensor, binary_operands

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
           "isfinite", "isnan", "isinf", "allclose", "sign"]


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _compare(opname, a, b, fn):
    a, b = binary_operands(opname, a, b)
    try:
        return Tensor._wrap(fn(_raw(a), _raw(b)))
    except ValueError:
        raise ValueError(f"{opname}: shapes {getattr(a, 'shape', ())} and {getattr(b, 'shape', ())} "
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
    return t.data if t.data.dtype == backend.bool_ else t.data != 0


def logical_and(input, other):
    return Tensor._wrap(_bool_operand(input, "logical_and") & _bool_operand(other, "logical_and"))


def logical_or(input, other):
    return Tensor._wrap(_bool_operand(input, "logical_or") | _bool_operand(other, "logical_or"))


def logical_not(input):
    return Tensor._wrap(~_bool_operand(input, "logical_not"))


def isfinite(input):
    x = as_tensor(input, "isfinite")
    return Tensor._wrap(backend.xp_of(x.data).isfinite(x.data))


def isnan(input):
    x = as_tensor(input, "isnan")
    return Tensor._wrap(backend.xp_of(x.data).isnan(x.data))


def isinf(input):
    x = as_tensor(input, "isinf")
    return Tensor._wrap(backend.xp_of(x.data).isinf(x.data))


def allclose(input, other, rtol=1e-5, atol=1e-8) -> bool:
    a, b = binary_operands("allclose", input, other)
    return bool(backend.xp_of(_raw(a)).allclose(_raw(a), _raw(b), rtol=rtol, atol=atol))


def sign(input):
    """-1, 0 or 1 elementwise; its derivative is zero almost everywhere, so it records no graph."""
    x = as_tensor(input, "sign")
    return Tensor._wrap(backend.xp_of(x.data).sign(x.data))
