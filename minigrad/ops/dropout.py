"""Dropout: zero each element with probability p and scale the rest by 1 / (1 - p).

The mask is drawn in the wrapper and handed to the Function, so the op itself is
deterministic: ``Dropout.apply(x, mask)`` is ``x * mask`` with ``d = g * mask``.  That is also
how the tests check it, with a fixed mask (a seeded generator).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import float_operand

__all__ = ["dropout", "dropout1d"]


class Dropout(Function):
    """y = x * mask,  mask in {0, 1/(1-p)};  d dropout = g * mask"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask


def dropout_mask(shape, p, dtype, device, generator=None):
    """Keep each element with probability 1 - p, scaled by 1 / (1 - p).  The decisions come
    from float32 uniforms whatever the dtype, so a seed gives one mask in float32 and float64."""
    keep = backend.random_uniform(shape, backend.float32, device, generator) >= p
    return keep.astype(dtype) * (1.0 / (1.0 - p))


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None, mask_shape=None) -> Tensor:
    """Randomly zero elements with probability ``p`` during training (identity otherwise).

    ``mask_shape`` draws one decision per broadcast block (``dropout2d`` drops whole channels);
    ``generator`` makes the mask reproducible.
    """
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: probability must be between 0 and 1, got {p}")
    if inplace and training:
        from .inplace import apply
        return apply(input, "dropout_", dropout, p, training, generator=generator, mask_shape=mask_shape)
    x = float_operand(input, "dropout")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    mask = dropout_mask(mask_shape or x._data.shape, p, x._data.dtype, x.device, generator)
    return Dropout.apply(x, mask)


def dropout1d(input, p=0.5, training=True, inplace=False, *, generator=None) -> Tensor:
    """Zero whole channels: one keep/drop decision per (N, C) of (N, C, L), per C of (C, L)."""
    x = float_operand(input, "dropout1d")
    if x._data.ndim not in (2, 3):
        raise ArgumentError(f"dropout1d: expected a 2-D or 3-D input, got shape {x._data.shape}")
    return dropout(x, p, training, inplace, generator=generator, mask_shape=x._data.shape[:-1] + (1,))
