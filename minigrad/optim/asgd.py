"""ASGD: SGD with a decaying step size and a running (Polyak-Ruppert) average of the iterates."""
from __future__ import annotations

import numpy as np

from .. import backend
from .optimizer import Optimizer, check_lr, count_step, scalar_state, refuse_unsupported, zeros_like_param


def asgd_update(param, grad, ax, *, eta, mu, lambd, weight_decay, maximize):
    """One ASGD step on the array ``param``, in place, updating the average ``ax``; ``eta`` (the
    step size) and ``mu`` (the averaging rate) are this step's, Python floats::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        param = param * (1 - lambd * eta) - eta * g
        ax = ax + mu * (param - ax)          (ax = param while mu = 1)
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    param *= 1.0 - lambd * eta
    param -= eta * grad
    if mu != 1:
        ax += (param - ax) * mu
    else:
        ax[...] = param


def asgd_schedule(step, *, lr, lambd, alpha, t0):
    """The step size and averaging rate for the step after ``step``, rounded to the default dtype
    as PyTorch rounds them (it makes them tensors before copying them into the state)::

        eta = lr / (1 + lambd lr step)^alpha,   mu = 1 / max(1, step - t0)
    """
    scalar = backend.get_default_dtype()
    eta = lr / ((1 + lambd * lr * step) ** alpha)
    mu = 1 / max(1, step - t0)
    return float(np.asarray(eta, dtype=scalar)), float(np.asarray(mu, dtype=scalar))


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky, 1992; PyTorch's ``torch.optim.ASGD``, same arguments and
    defaults).  State per parameter: ``step``, ``eta`` and ``mu`` (the step size and averaging rate
    of the next step), 0-d tensors of PyTorch's scalar dtype as there, and ``ax`` (the averaged parameter).
    ``foreach`` is accepted for PyTorch's signature.  The update is :func:`asgd_update`.
    """

    _scalar_state = frozenset({"step", "eta", "mu"})

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=False, capturable=False))

    def _update_group(self, group):
        lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(step=scalar_state(), eta=scalar_state(lr), mu=scalar_state(1.0), ax=zeros_like_param(p))
            step = count_step(state)
            eta, mu = state["eta"], state["mu"]
            asgd_update(p._data, p.grad._data, state["ax"]._data, eta=float(eta._data), mu=float(mu._data),
                        lambd=lambd, weight_decay=float(group["weight_decay"]), maximize=bool(group["maximize"]))
            # written into the 0-d tensors, whose dtype may round them again (as PyTorch's copy_)
            eta._data[...], mu._data[...] = asgd_schedule(step, lr=lr, lambd=lambd, alpha=alpha, t0=t0)
