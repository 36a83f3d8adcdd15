"""The special functions of ``torch.special`` that minigrad had no op for: the normal CDF and its log
and inverse (ndtr, log_ndtr, ndtri), the scaled complementary error function (erfcx), the modified
Bessel functions of the first kind (i0, i0e, i1, i1e), entr, xlog1py, and, differentiable in their
second argument only (as PyTorch's), the Hurwitz zeta function and the regularised incomplete gamma
functions (zeta, gammainc, gammaincc).  The others of
``minigrad.special`` (erf, logit, gammaln, digamma, ...) are the ops of ``ops/math.py`` and friends
under PyTorch's ``torch.special`` names.

Values come from ``kernels/special.py`` (float64 arithmetic, stored in the input's dtype); integer
inputs become the default float dtype, as in PyTorch.  Each backward is one formula for arrays and
Tensors (``differentiable_backward``): where it needs another special function, :func:`_call` runs
the kernel on arrays and the op (with its graph) on Tensors.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from . import _formula as f
from ._args import float_operand, refuse_float16
from ._kernels import kernels
from .math import _as_tensor_pair, _float_pair

__all__ = ["ndtr", "log_ndtr", "ndtri", "erfcx", "i0", "i0e", "i1", "i1e", "entr", "xlog1py", "zeta", "gammainc",
           "gammaincc"]

_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _call(name, a):
    """The special function ``name`` of an array (its kernel) or of a Tensor (its op, differentiable)."""
    if f.is_tensor(a):
        return globals()[name](a)
    return getattr(kernels("special"), name)(a)


def _sign(x):
    """sign(x) as a constant in x's mode (its derivative is zero almost everywhere)."""
    return f.like(f.xp(x).sign(f.value(x)), x)


class Ndtr(Function):
    """y = Phi(x) = erfc(-x / sqrt 2) / 2;  d = g * exp(-x^2 / 2) / sqrt(2 pi)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * kernels("special").erfc(-x * _SQRT_HALF)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * f.exp(-0.5 * x * x) / _SQRT_2PI


class LogNdtr(Function):
    """y = log Phi(x);  d = g * phi(x) / Phi(x) = g * exp(-x^2 / 2 - y) / sqrt(2 pi)  (no 0/0 in the tail)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = kernels("special").log_ndtr(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * f.exp(-0.5 * x * x - y) / _SQRT_2PI


class Ndtri(Function):
    """y = Phi^-1(p);  d = g / phi(y) = g * sqrt(2 pi) exp(y^2 / 2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, p):
        y = kernels("special").ndtri(p)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * _SQRT_2PI * f.exp(0.5 * y * y)


class Erfcx(Function):
    """y = exp(x^2) erfc(x);  d = g * (2 x y - 2 / sqrt(pi))"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = kernels("special").erfcx(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * (2 * x * y - _TWO_OVER_SQRT_PI)


class I0(Function):
    """y = I_0(x);  d = g * I_1(x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return kernels("special").i0(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _call("i1", x)


class I0e(Function):
    """y = exp(-|x|) I_0(x);  d = g * (i1e(x) - sign(x) y)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = kernels("special").i0e(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * (_call("i1e", x) - _sign(x) * y)


_SMALL = 1e-3


def _i1_slope_series(x):
    """I_1'(x) = I_0(x) - I_1(x) / x near 0, where that difference cancels (and its derivative twice
    as badly): 1/2 + 3 x^2 / 16 + 5 x^4 / 384 (next term < 4e-22 for |x| < 1e-3)."""
    x2 = x * x
    return 0.5 + x2 * (3 / 16 + x2 * (5 / 384))


class I1(Function):
    """y = I_1(x);  d = g * (I_0(x) - y / x), a series near 0 (1/2 at x = 0, the limit)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = kernels("special").i1(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        small = f.xp(x).abs(f.value(x)) < _SMALL
        safe = f.where(small, 1.0, x)
        return g * f.where(small, _i1_slope_series(x), _call("i0", x) - y / safe)


class I1e(Function):
    """y = exp(-|x|) I_1(x);  d = g * (i0e(x) - y (sign(x) + 1 / x)), near 0 exp(-|x|) I_1'(x) - sign(x) y
    with I_1' by its series (1/2 at x = 0, the limit)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = kernels("special").i1e(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        sign = _sign(x)
        small = f.xp(x).abs(f.value(x)) < _SMALL
        safe = f.where(small, 1.0, x)
        near = f.exp(-sign * x) * _i1_slope_series(x) - sign * y
        return g * f.where(small, near, _call("i0e", x) - y * (sign + 1 / safe))


class Entr(Function):
    """y = -x log x for x > 0, 0 at x = 0, -inf for x < 0 (NaN stays NaN);  d = -g (1 + log x)
    (as PyTorch: +inf at 0, NaN below)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp = f.xp(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)), xp.where(x == 0, 0.0, -xp.inf))
            return xp.where(xp.isnan(x), x, y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return -g * (1 + f.log(x))


def _log1p(a):
    """log(1 + a) of a Tensor, an array or a number (a Python float, so that it never widens float32)."""
    if f.is_tensor(a):
        from .math import log1p
        return log1p(a)
    if backend.is_array(a):
        return f.xp(a).log1p(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log1p(a))


class Xlog1py(Function):
    """y = x log(1 + z), 0 where x == 0 (unless z is NaN);
    d = (g log(1 + z), 0 where x == 0 and z <= -1;  g x / (1 + z))   (PyTorch's masks)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, z):
        xp = f.xp(x if backend.is_array(x) else z)
        ctx.save_for_backward(x, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * _log1p(z)                  # a Python number's log is a NumPy float64: the dtype is PyTorch's
            return xp.where((x == 0) & ~xp.isnan(z), 0, out).astype(backend.result_type(x, z), copy=False)

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        dx = dz = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                dx = f.where((f.value(x) == 0) & (f.value(z) <= -1), 0.0, g * _log1p(z))
            if ctx.needs_input_grad[1]:
                dz = g * x / (1 + z)
        return dx, dz



def _no_first_derivative(ctx, opname, argname):
    if ctx.needs_input_grad[0]:
        raise NotImplementedError(f"{opname}: the derivative with respect to {argname} (the first argument) is not "
                                  f"implemented (nor in PyTorch); only the second argument can require grad")


class Zeta(Function):
    """y = zeta(s, q) = sum_k (q + k)^-s (Hurwitz);  d q = -g s zeta(s + 1, q);  d s: not implemented (as PyTorch)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, s, q):
        ctx.save_for_backward(s, q)
        return kernels("special").zeta(s, q)

    @staticmethod
    def backward(ctx, g):
        _no_first_derivative(ctx, "zeta", "input (s)")
        s, q = ctx.saved_tensors
        shifted = zeta(s + 1, q) if f.is_tensor(s) else kernels("special").zeta(s + 1, q)
        return None, -g * s * shifted


class Gammainc(Function):
    """y = P(a, x) (upper: Q(a, x) = 1 - P);  d x = +-g x^(a-1) e^-x / Gamma(a);  d a: not implemented (as PyTorch)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        special = kernels("special")
        return special.gammaincc(a, x) if upper else special.gammainc(a, x)

    @staticmethod
    def backward(ctx, g):
        _no_first_derivative(ctx, "gammaincc" if ctx.upper else "gammainc", "input (a)")
        a, x = ctx.saved_tensors
        av = f.value(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_norm = f.like(kernels("special").lgamma(av), x)
            density = f.exp(f.like(av - 1, x) * f.log(x) - x - log_norm)
        return None, (-g if ctx.upper else g) * density


# ----------------------------------------------------------------------------- entry points
def _unary(cls, opname, kernel=True):
    def op(input) -> Tensor:
        x = float_operand(input, opname)
        if kernel:
            refuse_float16(opname, x)
        return cls.apply(x)
    op.__name__ = op.__qualname__ = opname
    op.__doc__ = cls.__doc__
    return op


ndtr = _unary(Ndtr, "ndtr")
log_ndtr = _unary(LogNdtr, "log_ndtr")
ndtri = _unary(Ndtri, "ndtri")
erfcx = _unary(Erfcx, "erfcx")
i0 = _unary(I0, "i0")
i0e = _unary(I0e, "i0e")
i1 = _unary(I1, "i1")
i1e = _unary(I1e, "i1e")
entr = _unary(Entr, "entr", kernel=False)


def xlog1py(input, other) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN); either may be a number."""
    return Xlog1py.apply(*_float_pair("xlog1py", input, other))


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function sum_k (other + k)^-input; either may be a number."""
    s, q = _as_tensor_pair("zeta", input, other)
    refuse_float16("zeta", s)
    return Zeta.apply(s, q)


def gammainc(input, other) -> Tensor:
    """The regularised lower incomplete gamma function P(input, other); either may be a number."""
    a, x = _as_tensor_pair("gammainc", input, other)
    refuse_float16("gammainc", a)
    return Gammainc.apply(a, x, False)


def gammaincc(input, other) -> Tensor:
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P; either may be a number."""
    a, x = _as_tensor_pair("gammaincc", input, other)
    refuse_float16("gammaincc", a)
    return Gammainc.apply(a, x, True)
