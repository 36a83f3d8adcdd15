"""Gradient clipping: rescale (by total norm) or clamp (by value) parameters' ``.grad`` in place."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ... import backend
from ...tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """Scale the gradients of ``parameters`` (a Tensor or an iterable of them) in place so that
    their total ``norm_type``-norm, taken as if they were one vector, is at most ``max_norm``::

        total = || (||g_1||, ||g_2||, ...) ||             (norm_type may be inf)
        g_i = g_i * max_norm / (total + 1e-6)             only when that factor is below 1

    Returns the total norm before clipping, as a 0-d Tensor.  A NaN or infinite total raises a
    RuntimeError with ``error_if_nonfinite=True``; otherwise, as in PyTorch, it spoils the gradients.
    ``foreach`` (PyTorch's choice of kernel) changes nothing here.
    """
    grads = _grads_of(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor._wrap(np.zeros((), dtype=backend.get_default_dtype()))
    total = _total_norm(grads, norm_type)
    total_value = float(total)
    if error_if_nonfinite and not math.isfinite(total_value):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            f"be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            f"`error_if_nonfinite=False`")
    scale = float(max_norm) / (total_value + 1e-6)
    if not scale >= 1.0:          # below 1, or NaN (a NaN norm spreads to the gradients, as in PyTorch)
        with np.errstate(invalid="ignore"):     # an infinite norm makes inf * 0 = NaN, as in PyTorch
            for g in grads:
                g *= scale
    return Tensor._wrap(total)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """PyTorch's deprecated name of :func:`clip_grad_norm_` (it warns, then does the same)."""
    warnings.warn("nn.utils.clip_grad_norm is now deprecated in favor of nn.utils.clip_grad_norm_.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of ``tensors`` (a Tensor or an iterable of them, None entries
    skipped) taken as if they were one vector, as a 0-d Tensor (what ``clip_grad_norm_`` returns)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    arrays = [t._data for t in tensors if t is not None]
    if not arrays:
        return Tensor._wrap(np.zeros((), dtype=backend.get_default_dtype()))
    total = _total_norm(arrays, float(norm_type))
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(f"The total norm of order {float(norm_type)} for gradients from `parameters` is "
                           f"non-finite, so it cannot be clipped.")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by ``max_norm / (total_norm + 1e-6)`` when
    that is below 1 (``total_norm`` as :func:`get_total_norm` gives it)."""
    total_value = float(total_norm._data if isinstance(total_norm, Tensor) else total_norm)
    scale = float(max_norm) / (total_value + 1e-6)
    if not scale >= 1.0:
        with np.errstate(invalid="ignore"):
            for g in _grads_of(parameters):
                g *= scale


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clamp the gradients of ``parameters`` (a Tensor or an iterable of them) in place to
    ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for g in _grads_of(parameters):
        backend.xp_of(g).clip(g, -clip_value, clip_value, out=g)


def _grads_of(parameters) -> list:
    """The gradient arrays of the parameters that have one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad._data for p in parameters if p.grad is not None]


def _total_norm(grads, norm_type):
    """The norm of the vector of per-gradient norms, a 0-d array on the first gradient's device."""
    device = backend.device_of(grads[0])
    xp = backend.xp_of(grads[0])
    # empty gradients add nothing to the norm (and a max over nothing would fail)
    norms = [backend.to_device(_norm(g, norm_type), device) for g in grads if g.size]
    if not norms:
        return xp.zeros((), dtype=grads[0].dtype)
    return _norm(xp.stack(norms), norm_type)


def _norm(array, norm_type):
    """The ``norm_type``-norm of all of ``array``'s elements, as a 0-d array of its dtype."""
    xp = backend.xp_of(array)
    return xp.asarray(xp.linalg.norm(array.ravel(), norm_type))
