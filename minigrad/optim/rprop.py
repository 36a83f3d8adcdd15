"""Rprop: per-element step sizes that grow while the gradient keeps its sign and shrink when it flips."""
from __future__ import annotations

from .. import backend
from .optimizer import Optimizer, check_lr, count_step, scalar_state, refuse_unsupported, zeros_like_param


def rprop_update(param, grad, prev, step_size, *, etaminus, etaplus, step_size_min, step_size_max, maximize):
    """One Rprop step on the array ``param``, in place, updating ``prev`` (the last gradient used)
    and ``step_size`` (per element)::

        g = -grad if maximize else grad
        factor = etaplus where g prev > 0, etaminus where g prev < 0, else 1
        step_size = clamp(step_size * factor, step_size_min, step_size_max)
        g = 0 where g prev < 0            (a sign change: skip this element's step)
        param = param - sign(g) * step_size
        prev = g
    """
    xp = backend.xp_of(param)
    if maximize:
        grad = -grad
    agreement = grad * prev
    flipped = agreement < 0
    factor = xp.where(agreement > 0, etaplus, xp.where(flipped, etaminus, 1.0)).astype(step_size.dtype)
    step_size *= factor
    xp.clip(step_size, step_size_min, step_size_max, out=step_size)
    grad = xp.where(flipped, 0, grad).astype(param.dtype, copy=False)
    param -= xp.sign(grad) * step_size
    prev[...] = grad


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun, 1993; PyTorch's ``torch.optim.Rprop``, same
    arguments and defaults).  State per parameter: ``step`` (a 0-d tensor, as in PyTorch), ``prev`` (the last
    gradient used) and ``step_size`` (starting at lr everywhere).  ``foreach`` is accepted for
    PyTorch's signature.  The update is :func:`rprop_update`.
    """

    _scalar_state = frozenset({"step"})

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                                      maximize=maximize, differentiable=False, capturable=False))

    def _update_group(self, group):
        etaminus, etaplus = (float(e) for e in group["etas"])
        step_size_min, step_size_max = (float(s) for s in group["step_sizes"])
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                step_size = zeros_like_param(p)
                step_size._data[...] = group["lr"]
                state.update(step=scalar_state(), prev=zeros_like_param(p), step_size=step_size)
            step = count_step(state)
            rprop_update(p._data, p.grad._data, state["prev"]._data, state["step_size"]._data, etaminus=etaminus,
                         etaplus=etaplus, step_size_min=step_size_min, step_size_max=step_size_max,
                         maximize=bool(group["maximize"]))
