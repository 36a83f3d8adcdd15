"""Conversions: dtype casts, device transfers and copies.  All differentiable."""
from __future__ import annotations

from .. import backend
from ..autograd import Function
from ..tensor import Tensor

__all__ = ["cast", "transfer", "clone"]


class Cast(Function):
    """d x.to(dtype) = g cast back to x's dtype (the engine casts to the input's dtype)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g


class Transfer(Function):
    """d x.to(device) = g moved back to x's device"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, g):
        return Transfer.run(g, ctx.source)


class Clone(Function):
    """d clone(x) = g"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def cast(x: Tensor, dtype) -> Tensor:
    dtype = backend.as_dtype(dtype)
    if dtype.kind != "f" and x.requires_grad:
        # the result cannot carry a gradient: cut it from the graph, as PyTorch does
        return Tensor._wrap(x._data.astype(dtype))
    return Cast.apply(x, dtype)


def transfer(x: Tensor, device) -> Tensor:
    return Transfer.apply(x, backend.device(device))


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)
