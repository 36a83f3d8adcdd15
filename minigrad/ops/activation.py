"""Activations: tanh, sigmoid, relu, leaky_relu, gelu, softplus, softmax, log_softmax.

Each saves what its derivative is cheapest to compute from: tanh and sigmoid their output,
relu a mask-worthy output, softmax its output, log_softmax its output.  Each backward is one
formula for arrays and Tensors (``differentiable_backward``), so it can be differentiated again;
the exact GELU's fused kernel serves arrays, its formula (with ``erf``) Tensors.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import float_operand, normalize_dim, refuse_float16
from ._kernels import kernels

__all__ = ["tanh", "sigmoid", "relu", "leaky_relu", "gelu", "softplus", "softmax", "log_softmax"]


class Tanh(Function):
    """d tanh(x) = g * (1 - y^2)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = backend.xp_of(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if f.is_tensor(y):
            return g * (1 - y * y)
        xp = backend.xp_of(y)                            # the same, in one temporary
        d = xp.multiply(y, y, out=xp.empty_like(y))
        xp.subtract(1, d, out=d)
        return xp.multiply(d, g, out=d)


class Sigmoid(Function):
    """d sigmoid(x) = g * y (1 - y);  computed as 0.5 + 0.5 tanh(x / 2), which never overflows."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        y = 0.5 + 0.5 * backend.xp_of(x).tanh(0.5 * x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if f.is_tensor(y):
            return g * y * (1 - y)
        xp = backend.xp_of(y)                            # the same, in one temporary
        d = xp.subtract(1, y, out=xp.empty_like(y))
        xp.multiply(d, y, out=d)
        return xp.multiply(d, g, out=d)


class ReLU(Function):
    """d relu(x) = g where x > 0, else 0  (g where x is NaN, as PyTorch's threshold_backward)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        if _threaded(x):
            y = kernels("activation").relu_forward(x)
        else:
            y = backend.xp_of(x).maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if _threaded(y, g):
            return kernels("activation").relu_backward(y, g)
        return f.where(f.value(y) <= 0, 0, g)          # not g * mask: 0 even where g is infinite (as PyTorch)


# kernels/_common.py's PARALLEL_MIN_ELEMENTS (not imported here: that would load Numba with minigrad)
_THREADED_MIN_ELEMENTS = 1 << 17


def _threaded(*arrays):
    """Whether the threaded elementwise kernels serve: large CPU float arrays of one
    shape and dtype (not Tensors, as under create_graph), where NumPy's one thread is the limit."""
    a = arrays[0]
    return (isinstance(a, np.ndarray) and a.dtype in (np.float32, np.float64) and a.size >= _THREADED_MIN_ELEMENTS
            and all(isinstance(b, np.ndarray) and b.shape == a.shape and b.dtype == a.dtype for b in arrays))


class LeakyReLU(Function):
    """d leaky_relu(x) = g where x > 0, else slope * g"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return backend.xp_of(x).where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return f.where(f.value(x) > 0, g, g * ctx.slope)


class GELU(Function):
    """Exact: d gelu(x) = g * (Phi(x) + x phi(x)), fused in ``kernels/activation.py``.
    Tanh approximation: u = c (x + 0.044715 x^3), gelu = 0.5 x (1 + tanh u),
    d gelu = g * (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2))."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "none":
            return kernels("activation").gelu_forward(x)
        t = _gelu_tanh_inner(x)
        return 0.5 * x * (1 + t)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "none":
            if f.is_tensor(x):                  # Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2
                from .elementwise import erf
                cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
                return g * (cdf + x * f.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi)))
            return kernels("activation").gelu_backward(x, g)
        t = _gelu_tanh_inner(x)
        du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)


def _gelu_tanh_inner(x):
    return f.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x))


class Softplus(Function):
    """softplus(x) = log(1 + exp(beta x)) / beta, and x itself where beta x > threshold;
    d softplus = g * sigmoid(beta x)  (g where linear)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        xp = backend.xp_of(x)
        bx = x * beta
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        return xp.where(bx > threshold, x, xp.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return f.where(f.value(bx) > ctx.threshold, g, g * f.sigmoid(bx))


def tanh(input) -> Tensor:
    return Tanh.apply(float_operand(input, "tanh"))


def sigmoid(input) -> Tensor:
    return Sigmoid.apply(float_operand(input, "sigmoid"))


def relu(input, inplace=False) -> Tensor:
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "relu_", relu)
    x = input if isinstance(input, Tensor) else float_operand(input, "relu")
    if x._data.dtype.kind in "iub":                 # integers stay integers (no gradient), as PyTorch's
        if x._data.dtype.kind == "b":
            raise TypeError("relu: boolean inputs are not supported (PyTorch's relu refuses them too)")
        xp = backend.xp_of(x._data)
        return Tensor._wrap(xp.asarray(xp.maximum(x._data, 0), dtype=x._data.dtype))
    return ReLU.apply(x)


def leaky_relu(input, negative_slope=0.01, inplace=False) -> Tensor:
    if inplace:                                  # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, "leaky_relu_", leaky_relu, negative_slope)
    return LeakyReLU.apply(float_operand(input, "leaky_relu"), negative_slope=float(negative_slope))


def gelu(input, approximate="none") -> Tensor:
    """Gaussian error linear unit; ``approximate='tanh'`` for the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = float_operand(input, "gelu")
    refuse_float16("gelu", x)
    return GELU.apply(x, approximate=approximate)


def softplus(input, beta=1.0, threshold=20.0) -> Tensor:
    if beta <= 0:
        raise ArgumentError(f"softplus: beta must be positive, got {beta}")
    return Softplus.apply(float_operand(input, "softplus"), beta=float(beta), threshold=float(threshold))


# ----------------------------------------------------------------------------- softmax family
def fused_rows(y, dim, g=None):
    """Whether the fused row kernels of kernels/softmax.py serve: CPU float arrays (not Tensors
    under create_graph), the last axis, at least 4096 entries (below, the call costs more than it
    saves); a gradient of the output's shape and dtype.  They are 1.7-4x faster than the NumPy
    formulas, most on short rows such as attention's scores."""
    if not (isinstance(y, np.ndarray) and y.dtype in (np.float32, np.float64) and y.ndim and dim == y.ndim - 1
            and y.shape[-1] and y.size >= 1 << 12):
        return False
    return g is None or (isinstance(g, np.ndarray) and g.shape == y.shape and g.dtype == y.dtype)


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max));  d softmax = y * (g - sum(g * y))  along dim"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        if fused_rows(x, dim):
            y = kernels("softmax").softmax_forward(x)
        else:
            xp = backend.xp_of(x)
            e = xp.exp(x - x.max(axis=dim, keepdims=True))
            y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if fused_rows(y, ctx.dim, g):
            return kernels("softmax").softmax_backward(y, g)
        gy = g * y
        return gy - y * f.sum(gy, (ctx.dim,), keepdims=True)


class LogSoftmax(Function):
    """y = x - max - log(sum(exp(x - max)));  d log_softmax = g - exp(y) * sum(g)  along dim"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        if fused_rows(x, dim):
            y = kernels("softmax").log_softmax_forward(x)
        else:
            xp = backend.xp_of(x)
            shifted = x - x.max(axis=dim, keepdims=True)
            y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if fused_rows(y, ctx.dim, g):
            return kernels("softmax").log_softmax_backward(y, g)
        return g - f.exp(y) * f.sum(g, (ctx.dim,), keepdims=True)


def _softmax_args(input, dim, dtype, opname):
    if dim is None:
        raise TypeError(f"{opname}: dim is required (PyTorch's implicit dim is deprecated)")
    x = float_operand(input, opname)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.ndim == 0:
        x = x.reshape(1)
        return x, 0, True
    return x, normalize_dim(dim, x._data.ndim, opname), False


def softmax(input, dim=None, dtype=None) -> Tensor:
    """Softmax along ``dim``, stable for any input (the max is subtracted first)."""
    x, d, scalar = _softmax_args(input, dim, dtype, "softmax")
    out = Softmax.apply(x, d)
    return out.reshape(()) if scalar else out


def log_softmax(input, dim=None, dtype=None) -> Tensor:
    """Log-softmax along ``dim``, computed without forming the softmax (no log of 0)."""
    x, d, scalar = _softmax_args(input, dim, dtype, "log_softmax")
    out = LogSoftmax.apply(x, d)
    return out.reshape(()) if scalar else out

