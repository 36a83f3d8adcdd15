"""More dropout: dropout3d (whole 3-D channels) and the alpha dropouts for SELU networks.

Alpha dropout keeps SELU's fixed point (mean 0, variance 1): a dropped element is set to
SELU's negative saturation value alpha' = -scale * alpha (not 0), and the result is mapped
affinely back, y = a (x keep + alpha' (1 - keep)) + b with a = ((1 - p)(1 + p alpha'^2))^-1/2
and b = -a alpha' p.  As in ``ops/dropout.py`` the random decisions are drawn in the wrapper,
so the op is the deterministic ``MaskedAffine``: y = x * scale + shift, d y = g * scale.
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import float_operand
from .dropout import dropout

__all__ = ["dropout3d", "alpha_dropout", "feature_alpha_dropout"]

_ALPHA = 1.7580993408473766          # -alpha' = SELU's scale * alpha


class MaskedAffine(Function):
    """y = x * scale + shift (scale, shift constant arrays);  d y = g * scale"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, scale, shift):
        ctx.save_for_backward(scale)
        return x * scale + shift

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved_tensors
        return g * scale


def dropout3d(input, p=0.5, training=True, inplace=False, *, generator=None) -> Tensor:
    """Zero whole channels: one keep/drop decision per (N, C) of (N, C, D, H, W), per C of (C, D, H, W)."""
    x = float_operand(input, "dropout3d")
    if x._data.ndim not in (4, 5):
        raise ArgumentError(f"dropout3d: expected a 4-D or 5-D input, got shape {x._data.shape}")
    return dropout(x, p, training, inplace, generator=generator, mask_shape=x._data.shape[:-3] + (1, 1, 1))


def alpha_scale_shift(keep, p, dtype):
    """The affine map of alpha dropout from the 0/1 keep decisions: (a keep, alpha a (p + keep - 1))."""
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    keep = keep.astype(dtype)
    return keep * a, (keep - 1 + p) * (_ALPHA * a)


def _alpha(opname, input, p, training, generator, feature, inplace=False):
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{opname}: probability must be between 0 and 1, got {p}")
    if inplace and training:                     # the result written into input (ops/inplace.py)
        from .inplace import apply
        return apply(input, opname + "_", lambda x: _alpha(opname, x, p, training, generator, feature))
    x = float_operand(input, opname)
    if feature and x._data.ndim < 2:
        raise ArgumentError(f"{opname}: feature dropout needs at least 2 dims (N, C, ...), got shape {x._data.shape}")
    if not training or p == 0.0 or x._data.size == 0:
        return x
    if p == 1.0:
        return x * 0.0
    shape = x._data.shape[:2] + (1,) * (x._data.ndim - 2) if feature else x._data.shape
    keep = backend.random_uniform(shape, backend.float32, x.device, generator) >= p
    scale, shift = alpha_scale_shift(keep, p, x._data.dtype)
    return MaskedAffine.apply(x, scale, shift)


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, generator=None) -> Tensor:
    """Alpha dropout (for SELU networks): keeps mean and variance; identity unless ``training``."""
    return _alpha("alpha_dropout", input, p, training, generator, feature=False, inplace=inplace)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, *, generator=None) -> Tensor:
    """Alpha dropout of whole channels: one decision per (N, C)."""
    return _alpha("feature_alpha_dropout", input, p, training, generator, feature=True, inplace=inplace)
