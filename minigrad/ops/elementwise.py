"""Elementwise arithmetic and math.

Shapes: inputs broadcast against each other (NumPy's rules); every backward below returns
gradients in the broadcast output shape and the engine sums them back down to each input's
shape (``autograd.unbroadcast``), so no op repeats that rule.  ``g`` is the gradient of the
loss with respect to the output.

Every backward here is one formula for arrays and Tensors (``differentiable_backward``): under
``create_graph`` it runs on Tensors and records its own graph, so it can be differentiated
again (``ops/_formula.py`` has the few functions arrays and Tensors spell differently).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import DtypeError, ShapeError, as_tensor, binary_operands, float_operand
from ._kernels import kernels

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "sqrt", "erf", "clamp",
           "maximum", "minimum", "where"]


def _check_broadcast(opname, *operands):
    """Raise a clear error (naming the op and the shapes) when tensor operands do not broadcast."""
    shapes = [x._data.shape for x in operands if isinstance(x, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(s) for s in shapes)
        raise ShapeError(f"{opname}: shapes {listed} do not broadcast together") from None


# ----------------------------------------------------------------------------- + - * /
class Add(Function):
    """d(a + b) = (g, g)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """d(a - b) = (g, -g)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """d(a * b) = (g * b, g * a)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        da = g * b if ctx.needs_input_grad[0] else None
        db = g * a if ctx.needs_input_grad[1] else None
        return da, db


class Div(Function):
    """d(a / b) = (g / b, -g * a / b^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        da = g / b if ctx.needs_input_grad[0] else None
        db = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return da, db


class Pow(Function):
    """d(a ** b) = (g * b * a^(b-1), g * a^b * log a), as PyTorch: the first 0 where b == 0 (also at
    a == 0, where a^(b-1) is infinite), the second 0 where a == 0 and b >= 0 (its limit).  (At
    b == 0 with a > 0 its derivative with respect to b is g / a; PyTorch's masked formula gives 0.)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        da = db = None
        if ctx.needs_input_grad[0]:
            if backend.is_array(f.value(b)):
                # at a == b == 0 the factor b makes da 0 and a safe exponent keeps a^(b-1) finite
                both_zero = (f.value(b) == 0) & (f.value(a) == 0)
                da = g * b * a ** (f.where(both_zero, 1.0, b) - 1)
            else:
                da = g * 0.0 if b == 0 else g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            at_zero = (f.value(a) == 0) & (f.value(b) >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                db = f.where(at_zero, 0.0, g * out * f.log(f.where(at_zero, 1.0, a)))
        return da, db


def _binary(cls, opname, a, b):
    a, b = binary_operands(opname, a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.shape != b._data.shape:
        _check_broadcast(opname, a, b)
    return cls.apply(a, b)


def add(input, other, alpha=1) -> Tensor:
    """``input + alpha * other`` with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return _binary(Add, "add", input, other)


def _refuse_bool(opname, *operands):
    """PyTorch refuses ``-`` on bool tensors (a mask is inverted with ``~``, two compared with ``^``)."""
    bools = [isinstance(x, Tensor) and x._data.dtype == np.bool_ for x in operands]
    if not builtins.any(bools):
        return
    if len(operands) == 1:
        raise DtypeError(f"{opname}: negation, the `-` operator, on a bool tensor is not supported; to invert a "
                         f"mask use the `~` operator or logical_not()")
    if builtins.all(b or isinstance(x, (bool, np.bool_)) for b, x in zip(bools, operands)):
        raise DtypeError(f"{opname}: subtraction, the `-` operator, with two bool tensors is not supported; use "
                         f"the `^` operator or logical_xor()")
    raise DtypeError(f"{opname}: subtraction, the `-` operator, with a bool tensor is not supported; to invert a "
                     f"mask use the `~` operator or logical_not()")


def sub(input, other, alpha=1) -> Tensor:
    """``input - alpha * other`` with broadcasting; bool tensors refuse, as in PyTorch."""
    _refuse_bool("sub", input, other)
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return _binary(Sub, "sub", input, other)


def mul(input, other) -> Tensor:
    return _binary(Mul, "mul", input, other)


def div(input, other, *, rounding_mode=None) -> Tensor:
    """True division: integer operands give the default float dtype, as in PyTorch.
    ``rounding_mode='trunc'`` or ``'floor'`` rounds the quotient (integers stay integers; the
    gradient is zero, see ops/math.py)."""
    if rounding_mode is not None:
        from .math import divide_rounded
        return divide_rounded(input, other, rounding_mode)
    a, b = binary_operands("div", input, other)
    if (a._data.dtype if isinstance(a, Tensor) else np.dtype(type(a))).kind != "f":
        a = float_operand(a, "div")
        b = b.to(a.dtype) if isinstance(b, Tensor) else float(b)
    _check_broadcast("div", a, b)
    return Div.apply(a, b)


def pow(input, exponent) -> Tensor:
    """``input ** exponent``; either may be a number."""
    base, exp_ = binary_operands("pow", input, exponent)
    if isinstance(base, Tensor) and base._data.dtype.kind in "iu" and isinstance(exp_, int) and exp_ < 0:
        raise DtypeError(f"pow: Integers to negative integer powers are not allowed (a {base._data.dtype} "
                           f"tensor to the power {exp_}; use a float tensor)")
    if isinstance(exp_, Tensor) and exp_._data.dtype.kind in "iu" and _kind(base) in "iu" and (exp_._data < 0).any():
        return _integer_pow(base, exp_)
    return _binary(Pow, "pow", base, exp_)


def _kind(x):
    return x._data.dtype.kind if isinstance(x, Tensor) else np.dtype(type(x)).kind


def _integer_pow(base, exponent):
    """Integers to integer tensor powers, some negative (PyTorch's integer rule, no gradient):
    ``b ** e`` for e >= 0; for e < 0, 1 ** e = 1, (-1) ** e = +-1 by e's parity, any other base 0."""
    ref = base if isinstance(base, Tensor) else exponent
    xp = backend.xp_of(ref._data)
    dtype = backend.result_type(*(x._data if isinstance(x, Tensor) else x for x in (base, exponent)))
    b = xp.asarray(base._data if isinstance(base, Tensor) else base, dtype=dtype)
    e = xp.asarray(exponent._data, dtype=dtype)
    _check_broadcast("pow", Tensor._wrap(b), Tensor._wrap(e))
    positive = b ** xp.maximum(e, 0)
    negative = xp.where(b == 1, 1, xp.where(b == -1, xp.where(e % 2 == 0, 1, -1), 0))
    return Tensor._wrap(xp.asarray(xp.where(e >= 0, positive, negative), dtype=dtype))


# ----------------------------------------------------------------------------- unary math
class Neg(Function):
    """d(-x) = -g"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Abs(Function):
    """d|x| = g * sign(x)   (0 at x = 0)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.xp_of(x).abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * f.like(f.xp(x).sign(f.value(x)), g)


class Exp(Function):
    """d exp(x) = g * exp(x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        out = backend.xp_of(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    """d log(x) = g / x"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.xp_of(x).log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    """d sqrt(x) = g / (2 sqrt(x))"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        out = backend.xp_of(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Erf(Function):
    """d erf(x) = g * 2 / sqrt(pi) * exp(-x^2)   (erf itself: kernels/activation.py)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return kernels("activation").erf(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 / np.sqrt(np.pi)) * f.exp(-(x * x))


def erf(input) -> Tensor:
    return Erf.apply(float_operand(input, "erf"))


def neg(input) -> Tensor:
    x = as_tensor(input, "neg")
    _refuse_bool("neg", x)
    return Neg.apply(x)


def abs(input) -> Tensor:
    return Abs.apply(as_tensor(input, "abs"))


def exp(input) -> Tensor:
    return Exp.apply(float_operand(input, "exp"))


def log(input) -> Tensor:
    return Log.apply(float_operand(input, "log"))


def sqrt(input) -> Tensor:
    return Sqrt.apply(float_operand(input, "sqrt"))


# ----------------------------------------------------------------------------- clamp, maximum, minimum, where
class Clamp(Function):
    """d clamp(x, lo, hi) = g where lo <= x <= hi, else 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        xp = backend.xp_of(x)
        out = xp.clip(x, lo, hi)
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x = f.value(ctx.saved_tensors[0])
        lo, hi = ctx.bounds
        inside = True
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = inside & (x <= hi)
        return f.where(inside, g, 0.0)


class ClampTensor(Function):
    """clamp with tensor bounds (either may be None), with PyTorch's gradients at every tie:
    dx = g where lo <= x <= hi;  dlo = g where x < lo < hi;  dhi = g where x > hi or hi < lo
    (bounds that cross give hi everywhere, so hi gets the gradient)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = backend.xp_of(x)
        out = x if lo is None else xp.maximum(x, lo)
        out = out if hi is None else xp.minimum(out, hi)
        ctx.save_for_backward(x, lo, hi)
        return out

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = (None if t is None else f.value(t) for t in ctx.saved_tensors)
        needs = ctx.needs_input_grad

        def masked(condition):
            return f.where(condition, g, 0.0)
        inside = True if lo is None else x >= lo
        inside = inside if hi is None else inside & (x <= hi)
        dx = masked(inside) if needs[0] else None
        dlo = masked((x < lo) & (True if hi is None else lo < hi)) if lo is not None and needs[1] else None
        dhi = masked((x > hi) | (False if lo is None else hi < lo)) if hi is not None and needs[2] else None
        return dx, dlo, dhi


def clamp(input, min=None, max=None) -> Tensor:
    """Limit values to ``[min, max]``; either bound may be None, a number or a tensor."""
    x = as_tensor(input, "clamp")
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor) or backend.is_array(min) or backend.is_array(max):
        bounds = []
        for bound in (min, max):
            if bound is not None:
                x, bound = binary_operands("clamp", x, bound)
            bounds.append(bound)
        return ClampTensor.apply(x, *bounds)
    if x._data.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
        x = float_operand(x, "clamp")
    return Clamp.apply(x, min, max)


class Maximum(Function):
    """d max(a, b) = (g where a > b, g where b > a), split evenly where a == b (as PyTorch)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.xp_of(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = (f.value(t) for t in ctx.saved_tensors)
        return _split_by_winner(g, a > b, a == b, ctx.needs_input_grad)


class Minimum(Function):
    """d min(a, b) = (g where a < b, g where b < a), split evenly where a == b (as PyTorch)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.xp_of(a).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = (f.value(t) for t in ctx.saved_tensors)
        return _split_by_winner(g, a < b, a == b, ctx.needs_input_grad)


def _split_by_winner(g, a_wins, tie, needs):
    """a_wins, tie: constant masks; the winner gets g, a tie half each."""
    share_a = a_wins + 0.5 * tie
    share_b = ~(a_wins | tie) + 0.5 * tie
    da = g * f.like(share_a.astype(f.value(g).dtype, copy=False), g) if needs[0] else None
    db = g * f.like(share_b.astype(f.value(g).dtype, copy=False), g) if needs[1] else None
    return da, db


def maximum(input, other) -> Tensor:
    return _binary(Maximum, "maximum", input, other)


def minimum(input, other) -> Tensor:
    return _binary(Minimum, "minimum", input, other)


class Where(Function):
    """d where(c, a, b) = (g where c, g where not c); the condition gets no gradient."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return backend.xp_of(condition).where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        c = f.value(ctx.saved_tensors[0])
        da = f.where(c, g, 0.0) if ctx.needs_input_grad[1] else None
        db = f.where(c, 0.0, g) if ctx.needs_input_grad[2] else None
        return None, da, db


def where(condition, input=None, other=None) -> Tensor:
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (broadcasting all three).
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``, as in PyTorch."""
    if input is None and other is None:
        from .sorting import nonzero
        return nonzero(condition, as_tuple=True)
    c = as_tensor(condition, "where")
    if c._data.dtype != backend.bool_:
        raise DtypeError(f"where: condition must be a bool tensor, got dtype {c._data.dtype}")
    a, b = binary_operands("where", input, other)
    if not isinstance(a, Tensor):
        a = Tensor._wrap(backend.xp_of(c._data).asarray(a, dtype=backend.result_type(a, b._data if isinstance(b, Tensor) else b)))
    _check_broadcast("where", c, a, *([b] if isinstance(b, Tensor) else []))
    return Where.apply(c, a, b)
