"""Elementwise math beyond arithmetic: trigonometric and hyperbolic functions and their inverses,
logarithms and exponentials in other bases, special functions (erfc, erfinv, lgamma, digamma,
polygamma), two-argument functions (atan2, hypot, logaddexp, xlogy, copysign, lerp), rounding and
remainders, and the small compositions PyTorch names (square, deg2rad, addcmul, ...).

Shapes: as ``ops/elementwise.py``: inputs broadcast, every backward returns gradients in the
broadcast output shape and the engine sums them down to each input's.  ``x`` is the input, ``y``
the output, ``g`` the output's gradient.  Each backward is one formula for arrays and Tensors
(``differentiable_backward``), so every op here can be differentiated again.

Rounding ops (floor, ceil, round, trunc, sign, floor_divide, div with a rounding mode) are
piecewise constant: their gradient is zero, as PyTorch's, not an error.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor, binary_operands, float_operand
from .elementwise import _check_broadcast, add, clamp, mul
from ._kernels import kernels

__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
           "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "square", "erfc", "erfinv", "lgamma",
           "digamma", "polygamma", "hypot", "logaddexp", "xlogy", "sinc", "lerp", "copysign", "nan_to_num",
           "floor", "ceil", "round", "trunc", "frac", "sign", "fmod", "remainder", "floor_divide", "deg2rad",
           "rad2deg", "clamp_min", "clamp_max", "addcmul", "addcdiv"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _xp(x):
    return backend.xp_of(x)


def _zero_gradient(g):
    """Zeros of g's shape and dtype.  Under create_graph a Tensor still tied to g (by a where that
    always picks 0), so that a gradient of the gradient exists, and is zero."""
    if f.is_tensor(g):
        return f.where(f.xp(g).ones(g.shape, dtype=bool), 0.0, g)
    return f.xp(g).zeros(g.shape, dtype=g.dtype)


# ----------------------------------------------------------------------------- trigonometric
class Sin(Function):
    """d sin(x) = g * cos(x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * f.cos(x)


class Cos(Function):
    """d cos(x) = -g * sin(x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * f.sin(x)


class Tan(Function):
    """d tan(x) = g * (1 + y^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = _xp(x).tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 + y * y)


class Asin(Function):
    """d asin(x) = g / sqrt(1 - x^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).arcsin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / f.sqrt(1 - x * x)


class Acos(Function):
    """d acos(x) = -g / sqrt(1 - x^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).arccos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g / f.sqrt(1 - x * x)


class Atan(Function):
    """d atan(x) = g / (1 + x^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).arctan(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x * x)


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a);  d = (g b, -g a) / (a^2 + b^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xp(a).arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        scale = g / (a * a + b * b)
        return (scale * b if ctx.needs_input_grad[0] else None,
                -scale * a if ctx.needs_input_grad[1] else None)


# ----------------------------------------------------------------------------- hyperbolic
class Sinh(Function):
    """d sinh(x) = g * cosh(x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).sinh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * f.cosh(x)


class Cosh(Function):
    """d cosh(x) = g * sinh(x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).cosh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * f.sinh(x)


class Asinh(Function):
    """d asinh(x) = g / sqrt(x^2 + 1)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).arcsinh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / f.sqrt(x * x + 1)


class Acosh(Function):
    """d acosh(x) = g / sqrt(x^2 - 1)   (x > 1)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).arccosh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / f.sqrt(x * x - 1)


class Atanh(Function):
    """d atanh(x) = g / (1 - x^2)   (|x| < 1)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).arctanh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 - x * x)


# ----------------------------------------------------------------------------- logarithms and exponentials
class Log1p(Function):
    """d log(1 + x) = g / (1 + x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _xp(x).log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x)


class Expm1(Function):
    """d (exp(x) - 1) = g * (y + 1)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = _xp(x).expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y + 1)


class LogBase(Function):
    """y = log(x) / log(base) (base 2 or 10);  d = g / (x log(base))"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, base):
        ctx.save_for_backward(x)
        ctx.ln_base = _LN2 if base == 2 else _LN10
        return _xp(x).log2(x) if base == 2 else _xp(x).log10(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * ctx.ln_base)


class Exp2(Function):
    """d 2^x = g * y * log 2"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = _xp(x).exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * _LN2


class Rsqrt(Function):
    """y = x^(-1/2);  d = -g y^3 / 2"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):
            y = 1 / _xp(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return -0.5 * g * y * y * y


class Reciprocal(Function):
    """y = 1 / x;  d = -g y^2"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):
            y = _xp(x).reciprocal(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return -g * y * y


# ----------------------------------------------------------------------------- special functions (kernels/special.py)
class Erfc(Function):
    """d erfc(x) = -g * 2 / sqrt(pi) * exp(-x^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return kernels("special").erfc(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * (2 / math.sqrt(math.pi)) * f.exp(-(x * x))


class Erfinv(Function):
    """y = erfinv(x), erf(y) = x;  d = g / erf'(y) = g * sqrt(pi) / 2 * exp(y^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = kernels("special").erfinv(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (math.sqrt(math.pi) / 2) * f.exp(y * y)


class Lgamma(Function):
    """y = log |Gamma(x)|;  d = g * digamma(x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return kernels("special").lgamma(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * f.polygamma(0, x)


class Polygamma(Function):
    """y = psi_n(x), the n-th derivative of digamma (n = 0: digamma);  d = g * psi_(n+1)(x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return f.polygamma(n, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * f.polygamma(ctx.n + 1, x)


# ----------------------------------------------------------------------------- two-argument functions
class Hypot(Function):
    """y = sqrt(a^2 + b^2);  d = (g a / y, g b / y)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        y = _xp(a).hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        return (g * a / y if ctx.needs_input_grad[0] else None,
                g * b / y if ctx.needs_input_grad[1] else None)


class LogAddExp(Function):
    """y = log(exp(a) + exp(b));  d = (g exp(a - y), g exp(b - y))  (the two softmax weights)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        y = _xp(a).logaddexp(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        return (g * f.exp(a - y) if ctx.needs_input_grad[0] else None,
                g * f.exp(b - y) if ctx.needs_input_grad[1] else None)


class Xlogy(Function):
    """y = x log(z), 0 where x == 0 (unless z is NaN);
    d = (g log(z), 0 where x == 0 and z <= 0;  g x / z)   (PyTorch's mask: log(z) at x == 0 for z > 0)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, z):
        xp = _xp(x if backend.is_array(x) else z)
        ctx.save_for_backward(x, z)
        if not backend.is_array(z):     # a number z: its log in x's dtype (a NumPy float64 would promote)
            z = xp.asarray(z, dtype=x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * xp.log(z)                  # a Python number's log is a NumPy float64: the dtype is PyTorch's
            return xp.where((x == 0) & ~xp.isnan(z), 0, out).astype(backend.result_type(x, z), copy=False)

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        dx = dz = None
        if ctx.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                dx = f.where((f.value(x) == 0) & (f.value(z) <= 0), 0.0, g * f.log(z))
        if ctx.needs_input_grad[1]:
            dz = g * x / z
        return dx, dz


class Copysign(Function):
    """y = |a| with b's sign;  d a = g * (+-1: whether the sign flipped), 0 at a == 0;  d b = 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xp(a).copysign(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = (f.value(t) for t in ctx.saved_tensors)
        xp = f.xp(g)
        flip = xp.where(xp.signbit(a) == xp.signbit(b), 1.0, -1.0) * (a != 0)
        da = g * f.like(flip.astype(f.value(g).dtype, copy=False), g) if ctx.needs_input_grad[0] else None
        db = _zero_gradient(g) if ctx.needs_input_grad[1] else None
        return da, db


class Lerp(Function):
    """y = start + w (end - start);  d = (g (1 - w), g w, g (end - start))"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        xp = _xp(start)
        diff = end - start
        # from the nearer end, so that w = 1 gives end exactly
        out = xp.where(xp.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))
        return out.astype(start.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        start, end, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (g * (1 - weight) if needs[0] else None,
                g * weight if needs[1] else None,
                g * (end - start) if needs[2] else None)


class Sinc(Function):
    """y = sin(pi x) / (pi x), 1 at x = 0;  d = g (cos(pi x) - y) / x.  Near 0, where that difference
    cancels, its series -pi^2 x / 3 + pi^4 x^3 / 30 (0 at x = 0, as PyTorch; and differentiable again)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        xp = _xp(x)
        px = math.pi * x
        with np.errstate(divide="ignore", invalid="ignore"):
            y = xp.where(x == 0, 1.0, xp.sin(px) / px).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        small = f.xp(g).abs(f.value(x)) < 1e-3
        safe = f.where(small, 1.0, x)
        series = x * (-(math.pi ** 2) / 3 + (math.pi ** 4 / 30) * x * x)
        return g * f.where(small, series, (f.cos(math.pi * safe) - y) / safe)


class NanToNum(Function):
    """NaN, +inf, -inf replaced by numbers;  d = g where x is finite, else 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return _xp(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        x = f.value(ctx.saved_tensors[0])
        return f.where(f.xp(g).isfinite(x), g, 0.0)


# ----------------------------------------------------------------------------- piecewise constant: zero gradient
class Step(Function):
    """floor, ceil, round(decimals), trunc, sign: piecewise constant, so d = 0 (as PyTorch)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, kind, decimals=0):
        return _step(_xp(x), x, kind, decimals)

    @staticmethod
    def backward(ctx, g):
        return _zero_gradient(g)


def _step(xp, x, kind, decimals):
    if kind == "round":
        return xp.round(x, decimals).astype(x.dtype, copy=False)
    return getattr(xp, kind)(x)


class StepBinary(Function):
    """floor_divide, div(rounding_mode='trunc' | 'floor'): piecewise constant, so d = (0, 0)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b, mode):
        return _rounded_division(a, b, mode)

    @staticmethod
    def backward(ctx, g):
        return (_zero_gradient(g) if ctx.needs_input_grad[0] else None,
                _zero_gradient(g) if ctx.needs_input_grad[1] else None)


def _rounded_division(a, b, mode):
    """a / b rounded towards -inf (Python's //) or towards 0, on arrays (either may be a number)."""
    arr = a if backend.is_array(a) else b
    xp = _xp(arr)
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "floor":
            return xp.floor_divide(a, b)
        if arr.dtype.kind == "f":
            return xp.trunc(a / b).astype(arr.dtype, copy=False)
        q = xp.floor_divide(a, b)
        inexact = (xp.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        return q + inexact.astype(q.dtype)


class Remainder(Function):
    """fmod: a - trunc(a / b) b (the dividend's sign); remainder: a - floor(a / b) b (the divisor's sign).
    d = (g, -g * trunc(a / b) or -g * floor(a / b))"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b, floored):
        ctx.save_for_backward(a, b)
        ctx.floored = floored
        xp = _xp(a if backend.is_array(a) else b)
        return xp.remainder(a, b) if floored else xp.fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = (f.value(t) for t in ctx.saved_tensors)
        da = db = None
        if ctx.needs_input_grad[0]:
            da = g
        if ctx.needs_input_grad[1]:
            quotient = _rounded_division(a, b, "floor" if ctx.floored else "trunc")
            db = -g * f.like(f.xp(g).asarray(quotient, dtype=f.value(g).dtype), g)
        return da, db


# ----------------------------------------------------------------------------- entry points
def _unary(cls, opname):
    def op(input) -> Tensor:
        return cls.apply(float_operand(input, opname))
    op.__name__ = op.__qualname__ = opname
    op.__doc__ = cls.__doc__
    return op


sin = _unary(Sin, "sin")
cos = _unary(Cos, "cos")
tan = _unary(Tan, "tan")
asin = _unary(Asin, "asin")
acos = _unary(Acos, "acos")
atan = _unary(Atan, "atan")
sinh = _unary(Sinh, "sinh")
cosh = _unary(Cosh, "cosh")
asinh = _unary(Asinh, "asinh")
acosh = _unary(Acosh, "acosh")
atanh = _unary(Atanh, "atanh")
log1p = _unary(Log1p, "log1p")
expm1 = _unary(Expm1, "expm1")
exp2 = _unary(Exp2, "exp2")
rsqrt = _unary(Rsqrt, "rsqrt")
reciprocal = _unary(Reciprocal, "reciprocal")
erfc = _unary(Erfc, "erfc")
erfinv = _unary(Erfinv, "erfinv")
lgamma = _unary(Lgamma, "lgamma")
sinc = _unary(Sinc, "sinc")


def log2(input) -> Tensor:
    return LogBase.apply(float_operand(input, "log2"), 2)


def log10(input) -> Tensor:
    return LogBase.apply(float_operand(input, "log10"), 10)


def digamma(input) -> Tensor:
    """The derivative of lgamma; -inf at 0, NaN at the negative integers."""
    return Polygamma.apply(float_operand(input, "digamma"), 0)


def polygamma(n, input) -> Tensor:
    """The n-th derivative of digamma (``polygamma(0, x)`` is ``digamma(x)``)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ArgumentError(f"polygamma: n must be a non-negative integer, got {n!r}")
    return Polygamma.apply(float_operand(input, "polygamma"), int(n))


def square(input) -> Tensor:
    """``input * input`` (integers stay integers, as PyTorch's)."""
    x = as_tensor(input, "square")
    return mul(x, x)


def _float_pair(opname, a, b):
    """Two operands in their promoted float dtype (integers promote to the default float)."""
    a, b = binary_operands(opname, a, b)
    dtype = a._data.dtype if isinstance(a, Tensor) else b._data.dtype if isinstance(b, Tensor) else None
    if dtype is None:
        raise TypeError(f"{opname}: expected at least one tensor, got {type(a).__name__} and {type(b).__name__}")
    if dtype.kind != "f":
        a = float_operand(a, opname) if isinstance(a, Tensor) else float(a)
        b = float_operand(b, opname) if isinstance(b, Tensor) else float(b)
    _check_broadcast(opname, a, b)
    return a, b


def _as_tensor_pair(opname, a, b):
    """Both operands as Tensors (for Functions whose forward needs arrays on both sides)."""
    a, b = _float_pair(opname, a, b)
    ref = a if isinstance(a, Tensor) else b
    wrap = (lambda v: v if isinstance(v, Tensor) else
            Tensor._wrap(_xp(ref._data).asarray(v, dtype=ref._data.dtype)))
    return wrap(a), wrap(b)


def atan2(input, other) -> Tensor:
    """The angle of the point (other, input) in (-pi, pi]."""
    return Atan2.apply(*_as_tensor_pair("atan2", input, other))


def hypot(input, other) -> Tensor:
    """sqrt(input^2 + other^2) without overflow."""
    return Hypot.apply(*_as_tensor_pair("hypot", input, other))


def logaddexp(input, other) -> Tensor:
    """log(exp(input) + exp(other)) without overflow."""
    return LogAddExp.apply(*_as_tensor_pair("logaddexp", input, other))


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN); either may be a number."""
    return Xlogy.apply(*_float_pair("xlogy", input, other))


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign (sign bit, so -0.0 counts) of ``other``."""
    return Copysign.apply(*_as_tensor_pair("copysign", input, other))


def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` a number or a tensor."""
    start, end = _as_tensor_pair("lerp", input, end)
    if start._data.dtype != end._data.dtype:
        raise TypeError(f"lerp: expected start and end of one dtype, got {start._data.dtype} and {end._data.dtype}")
    if isinstance(weight, Tensor) or backend.is_array(weight):
        weight = as_tensor(weight, "lerp")
        if weight._data.dtype != start._data.dtype:
            raise TypeError(f"lerp: expected weight of dtype {start._data.dtype}, got {weight._data.dtype}")
        _check_broadcast("lerp", start, end, weight)
    else:
        weight = float(weight)
    return Lerp.apply(start, end, weight)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None) -> Tensor:
    """NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (default: the dtype's largest and
    smallest finite values)."""
    x = as_tensor(input, "nan_to_num")
    if x._data.dtype.kind != "f":
        return Tensor._wrap(x._data.copy())
    return NanToNum.apply(x, float(nan), None if posinf is None else float(posinf),
                          None if neginf is None else float(neginf))


def _step_op(input, kind, opname, decimals=0):
    x = as_tensor(input, opname)
    if x._data.dtype.kind != "f":             # integers are already whole: a copy (sign: -1, 0, 1)
        if kind == "sign" and x._data.dtype.kind != "b":           # a bool's sign is itself, as PyTorch's
            return Tensor._wrap(_xp(x._data).asarray(_xp(x._data).sign(x._data)))     # 0-d: an array, not a scalar
        if kind == "round" and decimals < 0:
            raise TypeError(f"{opname}: decimals < 0 needs a floating-point tensor, got dtype {x._data.dtype}")
        return Tensor._wrap(x._data.copy())
    return Step.apply(x, kind, decimals)


def floor(input) -> Tensor:
    return _step_op(input, "floor", "floor")


def ceil(input) -> Tensor:
    return _step_op(input, "ceil", "ceil")


def trunc(input) -> Tensor:
    return _step_op(input, "trunc", "trunc")


def round(input, decimals=0) -> Tensor:
    """Round half to even, to ``decimals`` decimal places (negative: to tens, hundreds, ...)."""
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}")
    return _step_op(input, "round", "round", int(decimals))


def sign(input) -> Tensor:
    """-1, 0 or 1 (NaN stays NaN); its gradient is zero."""
    return _step_op(input, "sign", "sign")


def frac(input) -> Tensor:
    """``input - trunc(input)`` (the sign of ``input``); d = g."""
    x = as_tensor(input, "frac")
    if x._data.dtype.kind != "f":
        raise TypeError(f"frac: expected a floating-point tensor, got dtype {x._data.dtype}")
    return x - trunc(x)


def _division_operands(opname, a, b):
    a, b = binary_operands(opname, a, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{opname}: expected at least one tensor, got {type(a).__name__} and {type(b).__name__}")
    _check_broadcast(opname, a, b)
    kind = (a._data if isinstance(a, Tensor) else b._data).dtype.kind
    if kind in "iub":
        divisor = b._data if isinstance(b, Tensor) else b
        if bool((_xp(divisor).asarray(divisor) == 0).any()) if isinstance(b, Tensor) else divisor == 0:
            raise ZeroDivisionError(f"{opname}: integer division by zero")
    return a, b


def _integer_result(a, b, fn):
    raw = [v._data if isinstance(v, Tensor) else v for v in (a, b)]
    return Tensor._wrap(_xp(raw[0] if backend.is_array(raw[0]) else raw[1]).asarray(fn(*raw)))


def fmod(input, other) -> Tensor:
    """C's remainder: ``input - trunc(input / other) * other``, with the sign of ``input``."""
    a, b = _division_operands("fmod", input, other)
    return Remainder.apply(a, b, False)


def remainder(input, other) -> Tensor:
    """Python's ``%``: ``input - floor(input / other) * other``, with the sign of ``other``."""
    a, b = _division_operands("remainder", input, other)
    return Remainder.apply(a, b, True)


def floor_divide(input, other) -> Tensor:
    """``floor(input / other)`` (Python's ``//``); integers stay integers; zero gradient."""
    return _rounded_div(input, other, "floor", "floor_divide")


def _rounded_div(input, other, mode, opname):
    a, b = _division_operands(opname, input, other)
    if (a._data if isinstance(a, Tensor) else b._data).dtype.kind != "f":
        return _integer_result(a, b, lambda x, y: _rounded_division(x, y, mode))
    return StepBinary.apply(a, b, mode)


def divide_rounded(input, other, rounding_mode) -> Tensor:
    """``div(input, other, rounding_mode=...)`` for ``'trunc'`` and ``'floor'`` (see elementwise.div)."""
    if rounding_mode not in ("trunc", "floor"):
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return _rounded_div(input, other, rounding_mode, "div")


def deg2rad(input) -> Tensor:
    return mul(float_operand(input, "deg2rad"), math.pi / 180)


def rad2deg(input) -> Tensor:
    return mul(float_operand(input, "rad2deg"), 180 / math.pi)


def clamp_min(input, min) -> Tensor:
    return clamp(input, min=min)


def clamp_max(input, max) -> Tensor:
    return clamp(input, max=max)


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    return add(input, mul(tensor1, tensor2), alpha=value)


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (true division)."""
    from .elementwise import div
    return add(input, div(tensor1, tensor2), alpha=value)
