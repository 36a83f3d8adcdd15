"""More activations (PyTorch's ``nn.functional`` names): silu, mish, elu, selu, celu, relu6,
hardtanh, hardswish, hardsigmoid, logsigmoid, softsign, softmin, glu, prelu, threshold,
tanhshrink.

The pointwise ones are Functions whose backward is one formula for arrays and Tensors
(``differentiable_backward``), each saving its input and recomputing what the derivative
needs (one array kept per op, not the intermediates).  Masks (which side of a kink an
element is on) are constants computed from the raw values.  softmin and glu are
compositions of verified ops (softmax of -x; a split, a sigmoid and a product): their
derivatives are those ops' own.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor, float_operand, normalize_dim
from .activation import sigmoid, softmax

__all__ = ["silu", "mish", "elu", "selu", "celu", "relu6", "hardtanh", "hardswish", "hardsigmoid", "logsigmoid",
           "softsign", "softmin", "glu", "prelu", "threshold", "tanhshrink"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _mask(cond, ref):
    """A constant 0/1 mask in ``ref``'s dtype and mode."""
    return f.like(cond.astype(f.value(ref).dtype), ref)


class SiLU(Function):
    """silu(x) = x s, s = sigmoid(x);  d silu = g * s (1 + x (1 - s))"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * f.sigmoid(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = f.sigmoid(x)
        return g * s * (1 + x * (1 - s))


class Mish(Function):
    """mish(x) = x t, t = tanh(softplus(x));  d mish = g * (t + x (1 - t^2) sigmoid(x))"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * f.tanh(f.softplus(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = f.tanh(f.softplus(x))
        return g * (t + x * (1 - t * t) * f.sigmoid(x))


class ELU(Function):
    """The ELU family: y = scale * (x where x > 0, else alpha (exp(input_scale x) - 1));
    d y = g * scale where x > 0, else g * scale * alpha * input_scale * exp(input_scale x).
    elu: scale = input_scale = 1; selu: PyTorch's fixed alpha and scale; celu: input_scale = 1/alpha."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0):
        xp = backend.xp_of(x)
        ctx.save_for_backward(x)
        ctx.params = (alpha, scale, input_scale)
        neg = alpha * xp.expm1(xp.minimum(x, 0) * input_scale)     # minimum: no overflow on the unused side
        return (scale * xp.where(x > 0, x, neg)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.params
        pos = f.value(x) > 0
        neg = f.exp(x * _mask(~pos, x) * input_scale) * (alpha * input_scale)   # x zeroed where unused
        return f.where(pos, g * scale, g * neg * scale)


class Hardtanh(Function):
    """y = clamp(x, min_val, max_val);  d y = g where min_val < x < max_val, else 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return backend.xp_of(x).clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        v = f.value(x)
        return g * _mask((v > lo) & (v < hi), g)


class Hardswish(Function):
    """y = x relu6(x + 3) / 6: 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between;
    d y = g * (0, 1, (2 x + 3) / 6) on those pieces."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * backend.xp_of(x).clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        v = f.value(x)
        inner = _mask((v > -3) & (v < 3), g)
        return g * (inner * (2 * x + 3) / 6 + _mask(v >= 3, g))


class Hardsigmoid(Function):
    """y = relu6(x + 3) / 6;  d y = g / 6 where -3 < x < 3, else 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.xp_of(x).clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        v = f.value(x)
        return g * _mask((v > -3) & (v < 3), g) / 6


class LogSigmoid(Function):
    """y = log sigmoid(x) = -softplus(-x) (stable);  d y = g * sigmoid(-x)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return -backend.xp_of(x).logaddexp(0, -x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * f.sigmoid(-x)


class Softsign(Function):
    """y = x / (1 + |x|);  d y = g / (1 + |x|)^2  (|x| = x sign(x), the sign a constant)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + backend.xp_of(x).abs(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = 1 + x * f.like(f.xp(x).sign(f.value(x)), x)
        return g / (d * d)


class PReLU(Function):
    """y = x where x > 0, else w x, w one slope per channel (dim 1) or one in all;
    dx = g where x > 0, else g w;   dw = sum over all but the channel dim of g x where x <= 0."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        ctx.wshape = _prelu_shape(x.ndim, weight.size)
        return backend.xp_of(x).where(x > 0, x, x * weight.reshape(ctx.wshape))

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        pos = f.value(x) > 0
        dx = dw = None
        if ctx.needs_input_grad[0]:
            dx = f.where(pos, g, g * weight.reshape(ctx.wshape))
        if ctx.needs_input_grad[1]:
            gx = g * x * _mask(~pos, g)
            dims = tuple(d for d in range(x.ndim) if not (d == 1 and ctx.wshape[1:2] != (1,)))
            dw = f.sum(gx, dims).reshape(weight.shape)
        return dx, dw


def _prelu_shape(ndim, size):
    """The weight's broadcast shape: (1, C, 1, ...) when it holds one slope per channel."""
    if ndim < 2 or size == 1:
        return (1,) * ndim if ndim else ()
    return (1, size) + (1,) * (ndim - 2)


class Threshold(Function):
    """y = x where x > threshold, else value;  d y = g where x > threshold, else 0"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return backend.xp_of(x).where(x > threshold, x, value).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _mask(f.value(x) > ctx.threshold, g)


class Tanhshrink(Function):
    """y = x - tanh(x);  d y = g * tanh(x)^2"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x - backend.xp_of(x).tanh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = f.tanh(x)
        return g * t * t


# ----------------------------------------------------------------------------- public functions
def silu(input, inplace=False) -> Tensor:
    """x * sigmoid(x) (swish)."""
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "silu_", silu)
    return SiLU.apply(float_operand(input, "silu"))


def mish(input, inplace=False) -> Tensor:
    """x * tanh(softplus(x))."""
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "mish_", mish)
    return Mish.apply(float_operand(input, "mish"))


def elu(input, alpha=1.0, inplace=False) -> Tensor:
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "elu_", elu, alpha)
    return ELU.apply(float_operand(input, "elu"), alpha=float(alpha))


def selu(input, inplace=False) -> Tensor:
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "selu_", selu)
    return ELU.apply(float_operand(input, "selu"), alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def celu(input, alpha=1.0, inplace=False) -> Tensor:
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "celu_", celu, alpha)
    if alpha == 0:
        raise ArgumentError("celu: alpha must not be 0 (it divides the input)")
    return ELU.apply(float_operand(input, "celu"), alpha=float(alpha), input_scale=1.0 / float(alpha))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False) -> Tensor:
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "hardtanh_", hardtanh, min_val, max_val)
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return Hardtanh.apply(float_operand(input, "hardtanh"), min_val=float(min_val), max_val=float(max_val))


def relu6(input, inplace=False) -> Tensor:
    """min(max(x, 0), 6)."""
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "relu6_", relu6)
    return Hardtanh.apply(float_operand(input, "relu6"), min_val=0.0, max_val=6.0)


def hardswish(input, inplace=False) -> Tensor:
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "hardswish_", hardswish)
    return Hardswish.apply(float_operand(input, "hardswish"))


def hardsigmoid(input, inplace=False) -> Tensor:
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "hardsigmoid_", hardsigmoid)
    return Hardsigmoid.apply(float_operand(input, "hardsigmoid"))


def logsigmoid(input) -> Tensor:
    return LogSigmoid.apply(float_operand(input, "logsigmoid"))


def softsign(input) -> Tensor:
    return Softsign.apply(float_operand(input, "softsign"))


def softmin(input, dim=None, dtype=None) -> Tensor:
    """softmax(-x) along ``dim`` (a composition: its derivative is softmax's)."""
    if dim is None:
        raise TypeError("softmin: dim is required (PyTorch's implicit dim is deprecated)")
    x = float_operand(input, "softmin")
    if dtype is not None:
        x = x.to(dtype)
    return softmax(-x, dim)


def glu(input, dim=-1) -> Tensor:
    """a * sigmoid(b), a and b the halves of the input along ``dim`` (a composition)."""
    x = float_operand(input, "glu")
    if x._data.ndim == 0:
        raise ArgumentError("glu: does not support 0-d (scalar) tensors")
    d = normalize_dim(dim, x._data.ndim, "glu")
    if x._data.shape[d] % 2:
        raise ArgumentError(f"glu: halving dimension {dim} must be even, got size {x._data.shape[d]} "
                         f"(input of shape {x._data.shape})")
    a, b = x.chunk(2, d)
    return a * sigmoid(b)


def prelu(input, weight) -> Tensor:
    """x where x > 0, else weight * x; ``weight`` has 1 or C (= input.shape[1]) elements."""
    x = float_operand(input, "prelu")
    w = as_tensor(weight, "prelu")
    if x._data.ndim == 0:
        raise ArgumentError("prelu: does not support 0-d (scalar) inputs")
    channels = x._data.shape[1] if x._data.ndim >= 2 else 1
    if w._data.ndim > 1 or w._data.size not in (1, channels):
        raise ArgumentError(f"prelu: weight of shape {w._data.shape} must hold 1 or {channels} elements "
                         f"(input of shape {x._data.shape}, channels in dim 1)")
    if w._data.dtype != x._data.dtype:
        raise TypeError(f"prelu: weight dtype {w._data.dtype} differs from the input's {x._data.dtype}")
    return PReLU.apply(x, w)


def threshold(input, threshold, value, inplace=False) -> Tensor:
    """x where x > threshold, else value; in the input's dtype (integers stay integers, as PyTorch's)."""
    if as_tensor(input, "threshold")._data.dtype.kind == "b":
        raise TypeError("threshold: not implemented for bool tensors")
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "threshold_", lambda x: Threshold.apply(as_tensor(x, "threshold"), float(threshold),
                                                                    float(value)))
    return Threshold.apply(as_tensor(input, "threshold"), float(threshold), float(value))


def tanhshrink(input) -> Tensor:
    return Tanhshrink.apply(float_operand(input, "tanhshrink"))
