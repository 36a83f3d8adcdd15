"""The last everyday activations and layers of ``nn.functional``: hardshrink, softshrink,
rrelu, gumbel_softmax, bilinear.

hardshrink, softshrink and rrelu are pointwise Functions whose backward is one formula for
arrays and Tensors; which side of a kink an element is on is a constant mask.  rrelu's random
slopes are drawn in the wrapper and handed to the Function (as dropout's mask is), so the op
itself is deterministic.  gumbel_softmax is a softmax of noisy logits (a composition; its hard
form the straight-through estimator, a one-hot forward with the soft gradient), and bilinear
is an einsum.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor, float_operand, normalize_dim
from .activation import softmax

__all__ = ["hardshrink", "softshrink", "rrelu", "gumbel_softmax", "bilinear"]


def _mask(cond, ref):
    """A constant 0/1 mask in ``ref``'s dtype and mode."""
    return f.like(cond.astype(f.value(ref).dtype), ref)


class Hardshrink(Function):
    """y = x where |x| > lambd, else 0;  d y = g where |x| > lambd, else 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return x * (backend.xp_of(x).abs(x) > lambd).astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _mask(backend.xp_of(f.value(x)).abs(f.value(x)) > ctx.lambd, g)


class Softshrink(Function):
    """y = x - lambd where x > lambd, x + lambd where x < -lambd, else 0;
    d y = g where |x| > lambd, else 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        xp = backend.xp_of(x)
        return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _mask(backend.xp_of(f.value(x)).abs(f.value(x)) > ctx.lambd, g)


class LeakyBySlope(Function):
    """y = x where x >= 0, else a x (a: one slope per element, or a number);
    d y = g where x >= 0, else g a"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return backend.xp_of(x).where(x >= 0, x, x * slope).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        v = f.value(x)
        factor = backend.xp_of(v).where(v >= 0, 1.0, ctx.slope).astype(v.dtype, copy=False)
        return g * f.like(factor, g)


def hardshrink(input, lambd=0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    return Hardshrink.apply(float_operand(input, "hardshrink"), float(lambd))


def softshrink(input, lambd=0.5) -> Tensor:
    """x moved lambd towards 0, 0 within [-lambd, lambd] (the proximal step of the L1 norm)."""
    if lambd < 0:
        raise ArgumentError(f"softshrink: lambd must be non-negative, got {lambd}")
    return Softshrink.apply(float_operand(input, "softshrink"), float(lambd))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, *, generator=None) -> Tensor:
    """Randomized leaky ReLU: negative inputs scaled by a slope drawn from U(lower, upper) per
    element in training, by the mean slope (lower + upper) / 2 otherwise."""
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "rrelu_", rrelu, lower, upper, training, generator=generator)
    x = float_operand(input, "rrelu")
    if not lower <= upper:
        raise ArgumentError(f"rrelu: lower ({lower}) must not exceed upper ({upper})")
    if not training:
        return LeakyBySlope.apply(x, (lower + upper) / 2)
    slope = backend.random_uniform(x._data.shape, x._data.dtype, x.device, generator, low=lower, high=upper)
    return LeakyBySlope.apply(x, slope)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1, *, generator=None) -> Tensor:
    """A sample from the Gumbel-softmax (concrete) distribution: softmax((logits + G) / tau) with
    G = -log(-log U) Gumbel noise.  ``hard``: the one-hot of its argmax in the forward, the soft
    sample's gradient in the backward (straight-through: y_hard - y_soft.detach() + y_soft)."""
    x = float_operand(logits, "gumbel_softmax")
    if tau <= 0:
        raise ArgumentError(f"gumbel_softmax: tau must be positive, got {tau}")
    xp = backend.xp_of(x._data)
    u = backend.random_uniform(x._data.shape, x._data.dtype, x.device, generator)
    gumbels = -xp.log(-xp.log(xp.clip(u, xp.finfo(u.dtype).tiny, None)))       # U = 0 would give log(0)
    return gumbel_softmax_with_noise(x, Tensor._wrap(gumbels.astype(x._data.dtype, copy=False)), tau, hard, dim)


def gumbel_softmax_with_noise(logits, gumbels, tau, hard, dim):
    """gumbel_softmax with the noise given (what the random form calls, and the tests check)."""
    x = float_operand(logits, "gumbel_softmax")
    dim = normalize_dim(dim, x._data.ndim, "gumbel_softmax")
    y = softmax((x + gumbels) / tau, dim)
    if not hard:
        return y
    xp = backend.xp_of(y._data)
    top = xp.expand_dims(xp.argmax(y._data, axis=dim), dim)
    one_hot = (xp.arange(y._data.shape[dim]).reshape([-1 if k == dim else 1 for k in range(y._data.ndim)]) == top)
    return Tensor._wrap(one_hot.astype(y._data.dtype)) - y.detach() + y


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o], W of shape (out, in1, in2)."""
    from .linalg_extra import einsum
    a, b = float_operand(input1, "bilinear"), float_operand(input2, "bilinear")
    w = float_operand(weight, "bilinear")
    if w._data.ndim != 3 or a._data.ndim == 0 or a._data.shape[:-1] != b._data.shape[:-1] or \
            a._data.shape[-1] != w._data.shape[1] or b._data.shape[-1] != w._data.shape[2]:
        raise ArgumentError(f"bilinear: expected input1 (*, in1), input2 (*, in2) and weight (out, in1, in2), got "
                         f"shapes {a._data.shape}, {b._data.shape} and {w._data.shape}")
    y = einsum("...i,oij,...j->...o", a, w, b)
    if bias is not None:
        bb = as_tensor(bias, "bilinear")
        if bb._data.shape != (w._data.shape[0],):
            raise ArgumentError(f"bilinear: bias must have shape ({w._data.shape[0]},), got {bb._data.shape}")
        y = y + bb
    return y
