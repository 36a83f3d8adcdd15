"""More normalisations: group norm, instance norm, RMS norm, local response norm.

* ``group_norm`` and ``instance_norm`` are compositions: the input is viewed as (N, G, rest)
  and layer-normalised over ``rest`` by ``ops/norm.py``'s fused LayerNorm (whose backward is
  written out there and whose ``composite`` serves second order), then scaled and shifted per
  channel by broadcast products.  Group norm *is* layer norm over each group, so reusing it
  keeps one copy of that derivation.  Instance norm is group norm with one group per channel
  (evaluation with running statistics is batch norm's evaluation mode).
* ``rms_norm`` is a Function with its backward written out (one formula for arrays and
  Tensors, so it differentiates twice): with r = 1 / sqrt(mean_R(x^2) + eps), xhat = x r,
  dxhat = g * w,

      dx = r * (dxhat - xhat * mean_R(dxhat * xhat)),   dw = sum over the other dims of g * xhat.

* ``local_response_norm`` is a composition (square, zero-pad the channels, a sum of shifted
  slices, a power): each step's derivative is a verified op's.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor, float_operand
from .norm import BatchNorm, LayerNorm, _update_running
from .shape import ConstantPad

__all__ = ["group_norm", "instance_norm", "rms_norm", "local_response_norm"]


def _per_channel(name, t, channels, x, opname):
    if t is None:
        return None
    t = as_tensor(t, opname)
    if tuple(t.shape) != (channels,):
        raise ArgumentError(f"{opname}: {name} has shape {tuple(t.shape)}, expected ({channels},) for input of shape "
                         f"{tuple(x.shape)}")
    return t


def _affine(y, weight, bias):
    shape = (1, -1) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _grouped(x, groups, eps):
    """x (N, C, ...) normalised over each of ``groups`` groups of channels (with their spatial dims)."""
    n = x.shape[0]
    rows = x.reshape(n, groups, -1)
    return LayerNorm.apply(rows, None, None, 1, eps).reshape(x.shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5) -> Tensor:
    """PyTorch's ``F.group_norm``: normalise (N, C, ...) over groups of C / num_groups channels."""
    x = float_operand(input, "group_norm")
    if x._data.ndim < 2:
        raise ArgumentError(f"group_norm: expected an input of at least 2 dims (N, C, ...), got shape {x._data.shape}")
    channels = x._data.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise ArgumentError(f"group_norm: num_groups={num_groups} must divide the {channels} channels of the input "
                         f"of shape {x._data.shape}")
    weight = _per_channel("weight", weight, channels, x, "group_norm")
    bias = _per_channel("bias", bias, channels, x, "group_norm")
    return _affine(_grouped(x, int(num_groups), float(eps)), weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5) -> Tensor:
    """PyTorch's ``F.instance_norm``: normalise each (sample, channel) of (N, C, ...) over its spatial dims.

    With ``use_input_stats`` the instance statistics normalise and the running statistics (when
    given) move towards their mean over the batch (the variance unbiased); otherwise the running
    statistics normalise, as batch norm does in evaluation.
    """
    x = float_operand(input, "instance_norm")
    if x._data.ndim < 3:
        raise ArgumentError(f"instance_norm: expected an input of at least 3 dims (N, C, ...), got shape {x._data.shape}")
    n, channels = x._data.shape[:2]
    weight = _per_channel("weight", weight, channels, x, "instance_norm")
    bias = _per_channel("bias", bias, channels, x, "instance_norm")
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        _per_channel(name, t, channels, x, "instance_norm")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ArgumentError("instance_norm: use_input_stats=False needs running_mean and running_var")
        return BatchNorm.apply(x, weight, bias, _raw(running_mean), _raw(running_var), float(eps))[0]
    spatial = x._data.size // (n * channels)
    if spatial <= 1:
        raise ArgumentError(f"instance_norm: expected more than 1 spatial element per channel, got input of shape "
                         f"{x._data.shape}")
    if running_mean is not None and running_var is not None:
        rows = x._data.reshape(n, channels, -1)
        mean = rows.mean(axis=(0, 2))
        var = rows.var(axis=2, ddof=1).mean(axis=0)
        _update_running(running_mean, running_var, mean, var, momentum)
    return _affine(_grouped(x, channels, float(eps)), weight, bias)


def _raw(t):
    return t._data if isinstance(t, Tensor) else t


class RMSNorm(Function):
    """y = x r w over the trailing dims R, r = 1 / sqrt(mean_R(x^2) + eps); the backward (module
    docstring) recomputes r from x, so only the input and the weight are kept."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, k, eps):
        dims = tuple(range(x.ndim - k, x.ndim))
        ctx.save_for_backward(x, weight)
        ctx.dims, ctx.eps = dims, eps
        y = x * _rstd(x, dims, eps)
        return y * weight if weight is not None else y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        dims = ctx.dims
        n = int(np.prod([f.value(x).shape[d] for d in dims]))
        r = _rstd(x, dims, ctx.eps)
        xhat = x * r
        dx = dw = None
        if ctx.needs_input_grad[0]:
            dxhat = g * weight if weight is not None else g
            dx = r * (dxhat - xhat * (f.sum(dxhat * xhat, dims, keepdims=True) / n))
        if weight is not None and ctx.needs_input_grad[1]:
            dw = f.sum(g * xhat, tuple(range(f.value(x).ndim - len(dims))))
        return dx, dw


def _rstd(x, dims, eps):
    n = int(np.prod([f.value(x).shape[d] for d in dims]))
    return 1 / f.sqrt(f.sum(x * x, dims, keepdims=True) / n + eps)


def rms_norm(input, normalized_shape, weight=None, eps=None) -> Tensor:
    """PyTorch's ``F.rms_norm``: x / sqrt(mean(x^2) + eps) * weight over the trailing
    ``normalized_shape`` dims; ``eps=None`` is the input dtype's machine epsilon."""
    x = float_operand(input, "rms_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x._data.ndim < k or x._data.shape[x._data.ndim - k:] != shape:
        raise ArgumentError(f"rms_norm: input of shape {x._data.shape} does not end with normalized_shape {shape}")
    if weight is not None:
        weight = as_tensor(weight, "rms_norm")
        if tuple(weight.shape) != shape:
            raise ArgumentError(f"rms_norm: weight has shape {tuple(weight.shape)}, expected {shape}")
    eps = float(np.finfo(x._data.dtype).eps) if eps is None else float(eps)
    return RMSNorm.apply(x, weight, k, eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0) -> Tensor:
    """PyTorch's ``F.local_response_norm`` over channels (dim 1) of (N, C, ...):
    y_c = x_c / (k + alpha / size * sum of x_j^2 over the ``size`` channels around c)^beta,
    the window running from c - size // 2 to c + (size - 1) // 2, zeros beyond the edges."""
    x = float_operand(input, "local_response_norm")
    if x._data.ndim < 3:
        raise ArgumentError(f"local_response_norm: expected an input of at least 3 dims (N, C, ...), got shape "
                         f"{x._data.shape}")
    if size < 1:
        raise ArgumentError(f"local_response_norm: size must be positive, got {size}")
    channels = x._data.shape[1]
    widths = ((0, 0), (size // 2, (size - 1) // 2)) + ((0, 0),) * (x._data.ndim - 2)
    padded = ConstantPad.apply(x * x, widths, 0.0)
    window = padded[:, 0:channels]
    for j in range(1, size):
        window = window + padded[:, j:j + channels]
    return x / (window * (alpha / size) + k) ** beta
