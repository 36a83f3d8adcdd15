"""Elementwise arithmetic and math.

Shapes: inputs broadcast against each other (NumPy's rules); every backward below returns
gradients in the broadcast output shape and the engine sums them back down to each input's
shape (``autograd.unbroadcast``), so no op repeats that rule.  ``g`` is the gradient of the
loss with respect to the output.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from ._args import as_tensor, binary_operands, float_operand

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "sqrt", "clamp",
           "maximum", "minimum", "where"]


def _check_broadcast(opname, *operands):
    """Raise a clear error (naming the op and the shapes) when tensor operands do not broadcast."""
    shapes = [x.data.shape for x in operands if isinstance(x, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(s) for s in shapes)
        raise ValueError(f"{opname}: shapes {listed} do not broadcast together") from None


# ----------------------------------------------------------------------------- + - * /
class Add(Function):
    """d(a + b) = (g, g)"""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """d(a - b) = (g, -g)"""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """d(a * b) = (g * b, g * a)"""

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
    """d(a ** b) = (g * b * a^(b-1), g * a^b * log a), the latter taken as 0 where a == 0 and b >= 0
    (the limit PyTorch uses too)."""

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
            da = g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            xp = backend.xp_of(out)
            with np.errstate(divide="ignore", invalid="ignore"):
                db = g * out * xp.log(a)
            db = xp.where((a == 0) & (b >= 0), 0, db).astype(out.dtype, copy=False)
        return da, db


def _binary(cls, opname, a, b):
    a, b = binary_operands(opname, a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.shape != b.data.shape:
        _check_broadcast(opname, a, b)
    return cls.apply(a, b)


def add(input, other, alpha=1) -> Tensor:
    """``input + alpha * other`` with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Add, "add", input, other)


def sub(input, other, alpha=1) -> Tensor:
    """``input - alpha * other`` with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Sub, "sub", input, other)


def mul(input, other) -> Tensor:
    return _binary(Mul, "mul", input, other)


def div(input, other) -> Tensor:
    """True division: integer operands give the default float dtype, as in PyTorch."""
    a, b = binary_operands("div", input, other)
    if (a.data.dtype if isinstance(a, Tensor) else np.dtype(type(a))).kind != "f":
        a = float_operand(a, "div")
        b = b.to(a.dtype) if isinstance(b, Tensor) else float(b)
    _check_broadcast("div", a, b)
    return Div.apply(a, b)


def pow(input, exponent) -> Tensor:
    """``input ** exponent``; either may be a number."""
    return _binary(Pow, "pow", input, exponent)


# ----------------------------------------------------------------------------- unary math
class Neg(Function):
    """d(-x) = -g"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Abs(Function):
    """d|x| = g * sign(x)   (0 at x = 0)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.xp_of(x).abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * backend.xp_of(x).sign(x)


class Exp(Function):
    """d exp(x) = g * exp(x)"""

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

    @staticmethod
    def forward(ctx, x):
        out = backend.xp_of(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


def neg(input) -> Tensor:
    return Neg.apply(as_tensor(input, "neg"))


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

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        xp = backend.xp_of(x)
        out = xp.clip(x, lo, hi)
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = True
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = inside & (x <= hi)
        return g * inside


class ClampTensor(Function):
    """clamp with tensor bounds (either may be None), with PyTorch's gradients at every tie:
    dx = g where lo <= x <= hi;  dlo = g where x < lo < hi;  dhi = g where x > hi or hi < lo
    (bounds that cross give hi everywhere, so hi gets the gradient)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = backend.xp_of(x)
        out = x if lo is None else xp.maximum(x, lo)
        out = out if hi is None else xp.minimum(out, hi)
        ctx.save_for_backward(x, lo, hi)
        return out

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        xp = backend.xp_of(g)
        needs = ctx.needs_input_grad

        def masked(condition):
            return xp.where(condition, g, 0).astype(g.dtype, copy=False)
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
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor) or backend.is_array(min) or backend.is_array(max):
        bounds = []
        for bound in (min, max):
            if bound is not None:
                x, bound = binary_operands("clamp", x, bound)
            bounds.append(bound)
        return ClampTensor.apply(x, *bounds)
    if x.data.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
        x = float_operand(x, "clamp")
    return Clamp.apply(x, min, max)


class Maximum(Function):
    """d max(a, b) = (g where a > b, g where b > a), split evenly where a == b (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.xp_of(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _split_by_winner(g, a > b, a == b, ctx.needs_input_grad)


class Minimum(Function):
    """d min(a, b) = (g where a < b, g where b < a), split evenly where a == b (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.xp_of(a).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _split_by_winner(g, a < b, a == b, ctx.needs_input_grad)


def _split_by_winner(g, a_wins, tie, needs):
    half = g * 0.5
    da = g * a_wins + half * tie if needs[0] else None
    db = g * ~(a_wins | tie) + half * tie if needs[1] else None
    return da, db


def maximum(input, other) -> Tensor:
    return _binary(Maximum, "maximum", input, other)


def minimum(input, other) -> Tensor:
    return _binary(Minimum, "minimum", input, other)


class Where(Function):
    """d where(c, a, b) = (g where c, g where not c); the condition gets no gradient."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return backend.xp_of(condition).where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        (c,) = ctx.saved_tensors
        xp = backend.xp_of(g)
        da = xp.where(c, g, 0).astype(g.dtype, copy=False) if ctx.needs_input_grad[1] else None
        db = xp.where(c, 0, g).astype(g.dtype, copy=False) if ctx.needs_input_grad[2] else None
        return None, da, db


def where(condition, input, other) -> Tensor:
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (broadcasting all three)."""
    c = as_tensor(condition, "where")
    if c.data.dtype != backend.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {c.data.dtype}")
    a, b = binary_operands("where", input, other)
    if not isinstance(a, Tensor):
        a = Tensor._wrap(backend.xp_of(c.data).asarray(a, dtype=backend.result_type(a, b.data if isinstance(b, Tensor) else b)))
    _check_broadcast("where", c, a, *([b] if isinstance(b, Tensor) else []))
    return Where.apply(c, a, b)
