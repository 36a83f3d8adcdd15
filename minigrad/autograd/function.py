"""``torch.autograd.function``'s names: :class:`Function` and :func:`once_differentiable`."""
from __future__ import annotations

import functools

from . import Function, no_grad

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

#: What a Function's ``ctx`` is: the Function instance itself (see ``Function``).
FunctionCtx = Function


def once_differentiable(backward):
    """Decorate a PyTorch-style Function's ``backward`` (under ``@staticmethod``) that is not
    differentiable itself: it runs without recording a graph, and differentiating its result
    again raises an error that names the Function."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)
    wrapper.once_differentiable = True
    return wrapper
