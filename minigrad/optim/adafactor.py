"""Adafactor: Adam-like steps whose second moment of a matrix is kept factored, as a row and a
column average, so that its memory grows with the sum of the dimensions, not their product."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, _loaded_value, count_step, scalar_state, tensor_lr_decay, zeros_like_param


def adafactor_update(param, grad, row_var, col_var, variance, *, step, lr, beta2_decay, eps1, eps2, d,
                     weight_decay, maximize, decay=None):
    """One Adafactor step (Shazeer & Stern, 2018, as PyTorch runs it) on the array ``param``, in
    place.  A parameter of two or more dimensions updates ``row_var`` (its last axis averaged
    away) and ``col_var`` (its next-to-last); a vector or scalar updates ``variance``.  ``decay``,
    if given, is the factor 1 - lr * weight_decay computed elsewhere (see ``tensor_lr_decay``)::

        g = -grad if maximize else grad
        w = step^beta2_decay                                   (the weight of the new moment)
        alpha = max(eps2, rms(param)) * min(lr, 1 / sqrt(step))   (rms before the decay below)
        param = param * (1 - lr * weight_decay)
        R = lerp(R, mean(g^2, last axis), w),  C = lerp(C, mean(g^2, next-to-last axis), w)
        v = R C / max(eps1, mean(R))           factored;   v = lerp(v, g^2, w) otherwise
        u = g / sqrt(max(v, eps1^2))
        param = param - alpha / max(1, rms(u) / d) * u
    """
    xp = backend.xp_of(param)
    if maximize:
        grad = -grad
    weight = step ** beta2_decay
    alpha = max(eps2, _rms(param)) * min(lr, 1 / step ** 0.5)
    if decay is not None:
        param *= decay
    elif weight_decay != 0:
        param *= 1 - lr * weight_decay

    squared = grad * grad
    if row_var is not None:
        row_var += weight * (squared.mean(axis=-1, keepdims=True) - row_var)
        col_var += weight * (squared.mean(axis=-2, keepdims=True) - col_var)
        estimate = xp.matmul(row_var, col_var)
        estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
    else:
        variance += weight * (squared - variance)
        estimate = variance.copy()
    xp.maximum(estimate, eps1 * eps1, out=estimate)
    update = grad / xp.sqrt(estimate)
    param -= alpha / max(1.0, _rms(update) / d) * update


def _rms(array) -> float:
    return math.sqrt(float((array * array).sum())) / math.sqrt(max(array.size, 1))


class Adafactor(Optimizer):
    """Adafactor (PyTorch's ``torch.optim.Adafactor``, same arguments and defaults).

    ``eps`` is (eps1, eps2): eps1 (default: the dtype's machine epsilon) floors the second moment,
    eps2 the parameter scale; ``d`` clips the update's RMS; ``beta2_decay`` sets the moment's
    weight step^beta2_decay; ``weight_decay`` is decoupled.  State per parameter: ``step`` (a 0-d
    tensor) and ``row_var`` and ``col_var`` (a matrix or higher) or ``variance``.  The update is
    :func:`adafactor_update`.
    """

    _scalar_state = frozenset({"step"})

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        checks = [(0.0 <= lr, f"Learning rate should be >= 0 but is: {lr}"),
                  (0.0 >= beta2_decay, f"beta2_decay should be <= 0 but is: {beta2_decay}"),
                  (eps[0] is None or 0.0 <= eps[0], f"epsilon1 should be >= 0 but is: {eps[0]}"),
                  (0.0 <= eps[1], f"epsilon2 should be >= 0 but is: {eps[1]}"),
                  (1.0 <= d, f"Clipping threshold d should be >= 1 but is: {d}"),
                  (0.0 <= weight_decay, f"weight_decay should be >= 0 but is: {weight_decay}")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _update_group(self, group):
        eps1, eps2 = group["eps"]
        options = dict(lr=float(group["lr"]), beta2_decay=float(group["beta2_decay"]), eps2=float(eps2),
                       d=float(group["d"]), weight_decay=float(group["weight_decay"]),
                       maximize=bool(group["maximize"]))
        decay = tensor_lr_decay(group, dict(options, decoupled_weight_decay=True))     # its decay is decoupled
        for p in group["params"]:
            if p.grad is None:
                continue
            if eps1 is None:        # PyTorch takes the first updated parameter's epsilon for the whole group
                eps1 = float(np.finfo(p.dtype).eps)
            state = self.state[p]
            if not state:
                state.update(_initial_state(p))
            step = count_step(state)
            adafactor_update(p._data, p.grad._data, *(_data(state.get(k)) for k in ("row_var", "col_var", "variance")),
                             step=step, eps1=float(eps1), decay=decay, **options)

    def _load_state_value(self, key, value, param, what):
        if key in ("row_var", "col_var"):
            return _loaded_value(value, param, what, _factored_shape(param.shape, key))
        return super()._load_state_value(key, value, param, what)


def _factored_shape(shape, key):
    """The shape of a matrix parameter's row (last axis averaged) or column (next-to-last) moment."""
    shape = list(shape)
    shape[-1 if key == "row_var" else -2] = 1
    return shape


def _initial_state(p):
    if p.ndim > 1:
        xp = backend.xp_of(p._data)
        return {"step": scalar_state(), "row_var": Tensor._wrap(xp.zeros(_factored_shape(p.shape, "row_var"), p.dtype)),
                "col_var": Tensor._wrap(xp.zeros(_factored_shape(p.shape, "col_var"), p.dtype))}
    return {"step": scalar_state(), "variance": zeros_like_param(p)}


def _data(tensor):
    return None if tensor is None else tensor._data
