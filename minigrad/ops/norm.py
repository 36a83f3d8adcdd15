"""Normalisation: layer norm and batch norm, each one fused node with its backward written out.

Both normalise ``x`` over a set of dims R (layer norm: the trailing ``normalized_shape`` dims;
batch norm: every dim but the channel dim 1, fused in ``kernels/norm.py``), with n = number
of elements averaged:

    mean = sum_R x / n,  var = sum_R (x - mean)^2 / n,  rstd = 1 / sqrt(var + eps)
    xhat = (x - mean) * rstd,  y = xhat * w + b

and share one backward formula: with dxhat = g * w,

    dx = rstd * (dxhat - mean_R(dxhat) - xhat * mean_R(dxhat * xhat)),
    dw = sum over the other dims of g * xhat,   db = sum over the other dims of g.

Layer norm runs it in NumPy (``_normalized_backward``, from the saved xhat and rstd); batch norm
runs it fused per channel in ``kernels/norm.py``'s ``batch_norm_backward`` (NumPy reference:
``batch_norm_backward_ref``), which recomputes xhat from x; with running statistics (evaluation)
the mean and var are constants and dx = g * w * rstd.  These serve ordinary gradients.  For second order each op
also has a ``composite``, the same normalisation written with differentiable ops (mean,
subtract, multiply, sqrt), which the engine differentiates under ``create_graph``; the tests
check both against the same finite differences.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, float_operand, refuse_float16
from ._kernels import kernels

__all__ = ["layer_norm", "batch_norm"]


def _normalize(x, dims, eps):
    xp = backend.xp_of(x)
    mean = x.mean(axis=dims, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=dims, keepdims=True)
    rstd = 1.0 / xp.sqrt(var + eps)
    return centered * rstd, mean, var, rstd


def _normalized_backward(g, xhat, rstd, w_full, dims, needs, param_dims):
    """Gradients of y = xhat * w + b; ``dims`` were normalised over, ``param_dims`` are the
    dims that w and b are broadcast along (summed for dw, db)."""
    dxhat = g * w_full if w_full is not None else g
    dx = None
    if needs[0]:
        mean_d = dxhat.mean(axis=dims, keepdims=True)
        mean_dx = (dxhat * xhat).mean(axis=dims, keepdims=True)
        dx = rstd * (dxhat - mean_d - xhat * mean_dx)
    dw = (g * xhat).sum(axis=param_dims) if len(needs) > 1 and needs[1] else None
    db = g.sum(axis=param_dims) if len(needs) > 2 and needs[2] else None
    return dx, dw, db


class LayerNorm(Function):
    """Normalise over the last k dims; w and b have those dims' shape."""

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        dims = tuple(range(x.ndim - k, x.ndim))
        ctx.dims, ctx.shape = dims, x.shape
        ctx.fused = _fused_rows(x, weight, bias)
        if ctx.fused:                  # CPU: one row kernel (kernels/layer_norm.py) over (rows, normalised size)
            c = int(np.prod(x.shape[x.ndim - k:]))
            flat = [None if p is None else p.reshape(c) for p in (weight, bias)]
            y, xhat, rstd = kernels("layer_norm").layer_norm_forward(x.reshape(-1, c), *flat, eps)
            ctx.save_for_backward(xhat, rstd, flat[0])
            return y.reshape(x.shape)
        xhat, _, _, rstd = _normalize(x, dims, eps)
        ctx.save_for_backward(xhat, rstd, weight)
        y = xhat
        if weight is not None:
            y = y * weight
        if bias is not None:
            y = y + bias
        return y

    @staticmethod
    def backward(ctx, g):
        xhat, rstd, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if ctx.fused:                  # xhat (R, C): dx by the row kernel, dw and db as column sums
            g2 = g.reshape(xhat.shape)
            dx = kernels("layer_norm").layer_norm_backward(g2, xhat, rstd, weight).reshape(ctx.shape) \
                if needs[0] else None
            dw = np.einsum("rc,rc->c", g2, xhat).reshape(ctx.shape[len(ctx.shape) - len(ctx.dims):]) \
                if len(needs) > 1 and needs[1] else None
            db = g2.sum(axis=0).reshape(ctx.shape[len(ctx.shape) - len(ctx.dims):]) \
                if len(needs) > 2 and needs[2] else None
            return dx, dw, db
        param_dims = tuple(range(xhat.ndim - len(ctx.dims)))
        return _normalized_backward(g, xhat, rstd, weight, ctx.dims, needs, param_dims)

    @staticmethod
    def composite(x, weight, bias, k, eps):
        return _normalize_composite(x, tuple(range(x.ndim - k, x.ndim)), None, None, weight, bias, eps)


def _fused_rows(x, weight, bias):
    """Whether layer norm's row kernel serves: CPU float32/float64 arrays of one dtype, non-empty rows."""
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64) or x.size == 0:
        return False
    return all(p is None or (isinstance(p, np.ndarray) and p.dtype == x.dtype) for p in (weight, bias))


def _normalize_composite(x, dims, mean, var, weight, bias, eps, param_shape=None):
    """(x - mean) / sqrt(var + eps) * w + b with differentiable ops; mean and var from x over
    ``dims`` unless given (constants: batch norm's running statistics)."""
    if mean is None:
        mean = x.mean(dims, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dims, keepdim=True)
    else:
        centered = x - Tensor._wrap(mean.reshape(param_shape))
        var = Tensor._wrap(var.reshape(param_shape))
    y = centered / (var + eps).sqrt()
    if weight is not None:
        y = y * (weight if param_shape is None else weight.reshape(param_shape))
    if bias is not None:
        y = y + (bias if param_shape is None else bias.reshape(param_shape))
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    """PyTorch's ``F.layer_norm``: normalise over the trailing ``normalized_shape`` dims."""
    x = float_operand(input, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x._data.shape[x._data.ndim - k:] != shape or x._data.ndim < k:
        raise ArgumentError(f"layer_norm: input of shape {x._data.shape} does not end with normalized_shape {shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise ArgumentError(f"layer_norm: {name} has shape {tuple(p.shape)}, expected {shape}")
    return LayerNorm.apply(x, _opt(weight), _opt(bias), k, float(eps))


class BatchNorm(Function):
    """Normalise each channel (dim 1) over every other dim; returns (y, mean, var), as PyTorch's
    ``native_batch_norm``: the statistics that normalised (var biased).  In training they are the
    batch's (and are differentiated through; ``batch_norm`` folds them into the running
    averages); in evaluation they are the given running statistics, constants: then
    dx = g * w * rstd.  The passes over the data are fused per channel in ``kernels/norm.py``
    (the formulas are there and above); backward recomputes xhat from x, so x, not xhat, is what
    the op keeps.  The returned statistics are not differentiable outputs."""
    materialize_grads = False

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps):
        norm_kernels = kernels("norm")
        xp = backend.xp_of(x)
        x3 = x.reshape(x.shape[0], x.shape[1], -1)
        training = mean is None
        if training:
            mean, var = norm_kernels.batch_norm_stats(x3)
        else:
            mean, var = mean.astype(x.dtype, copy=False), var.astype(x.dtype, copy=False)
        rstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        w = weight if weight is not None else xp.ones_like(rstd)
        scale = rstd * w
        shift = (bias if bias is not None else 0) - mean * scale
        ctx.save_for_backward(x3, mean, rstd, w)
        ctx.shape, ctx.training = x.shape, training
        y = norm_kernels.batch_norm_apply(x3, scale, shift.astype(x.dtype, copy=False)).reshape(x.shape)
        return y, mean, var

    @staticmethod
    def backward(ctx, g, g_mean=None, g_var=None):
        if g is None or g_mean is not None or g_var is not None:
            raise RuntimeError("BatchNorm: the statistics it returns (mean, var) are not differentiable outputs")
        x3, mean, rstd, w = ctx.saved_tensors
        dx, dw, db = kernels("norm").batch_norm_backward(g.reshape(x3.shape), x3, mean, rstd, w, ctx.training)
        needs = ctx.needs_input_grad
        return (dx.reshape(ctx.shape) if needs[0] else None, dw if needs[1] else None,
                db if needs[2] else None)

    @staticmethod
    def composite(x, weight, bias, mean, var, eps):
        dims = (0,) + tuple(range(2, x.ndim))
        param_shape = (1, -1) + (1,) * (x.ndim - 2)
        if mean is not None:
            mean, var = mean.astype(x.dtype, copy=False), var.astype(x.dtype, copy=False)
        return _normalize_composite(x, dims, mean, var, weight, bias, eps, param_shape), None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5) -> Tensor:
    """PyTorch's ``F.batch_norm`` for (N, C), (N, C, L) and (N, C, H, W) inputs.

    In training the batch statistics normalise and the running statistics (when given) are
    updated in place: ``running = (1 - momentum) running + momentum * batch`` (the variance
    unbiased).  As in PyTorch, ``momentum`` is a number here: the modules (``nn.BatchNorm2d(momentum=None)``)
    keep a cumulative average by passing 1 / num_batches_tracked.
    """
    x = float_operand(input, "batch_norm")
    refuse_float16("batch_norm", x)
    if not isinstance(momentum, numbers.Real):
        raise TypeError(f"batch_norm: momentum must be a number, got {momentum!r} (as in PyTorch; "
                        f"nn.BatchNorm*(momentum=None) keeps the cumulative average)")
    if x._data.ndim < 2:
        raise ArgumentError(f"batch_norm: expected an input of at least 2 dims (N, C, ...), got shape {x._data.shape}")
    channels = x._data.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ArgumentError(f"batch_norm: {name} has shape {tuple(t.shape)}, expected ({channels},) for input "
                             f"of shape {x._data.shape}")
    if not training:
        if running_mean is None or running_var is None:
            raise ArgumentError("batch_norm: evaluation mode needs running_mean and running_var")
        return BatchNorm.apply(x, _opt(weight), _opt(bias), _raw(running_mean), _raw(running_var), float(eps))[0]
    n = x._data.size // channels
    if n <= 1:
        raise ArgumentError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                         f"shape {x._data.shape}")
    out, mean, var = BatchNorm.apply(x, _opt(weight), _opt(bias), None, None, float(eps))
    if running_mean is not None and running_var is not None:
        _update_running(running_mean, running_var, mean._data, var._data * (n / (n - 1)), momentum)
    return out


def _update_running(running_mean, running_var, mean, var, momentum):
    rm, rv = _raw(running_mean), _raw(running_var)
    rm *= 1.0 - momentum
    rm += momentum * mean.astype(rm.dtype, copy=False)
    rv *= 1.0 - momentum
    rv += momentum * var.astype(rv.dtype, copy=False)


def _opt(t):
    return None if t is None else as_tensor(t, "norm")


def _raw(t):
    return t._data if isinstance(t, Tensor) else t
