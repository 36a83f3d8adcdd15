"""Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm."""
from __future__ import annotations

from .. import backend
from .optimizer import (
    Optimizer, check_adam_hyperparameters, count_step, decayed_gradient, refuse_unsupported, scalar_state,
    update_first_moment, zeros_like_param)


def adamax_update(param, grad, exp_avg, exp_inf, *, step, lr, beta1, beta2, eps, weight_decay, maximize):
    """One Adamax step on the array ``param``, in place, updating ``exp_avg`` (m) and ``exp_inf``
    (u, the weighted infinity norm).  ``step`` counts from 1; hyperparameters are Python floats::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        param = param - lr / (1 - beta1^step) * m / u
    """
    xp = backend.xp_of(param)
    grad = decayed_gradient(param, grad, lr=lr, weight_decay=weight_decay, maximize=maximize)

    scratch = update_first_moment(grad, exp_avg, beta1)
    xp.abs(grad, out=scratch)
    scratch += eps
    exp_inf *= beta2
    xp.maximum(exp_inf, scratch, out=exp_inf)

    xp.divide(exp_avg, exp_inf, out=scratch)
    scratch *= lr / (1.0 - beta1 ** step)
    param -= scratch


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7; PyTorch's ``torch.optim.Adamax``, same arguments and
    defaults).  State per parameter: ``step`` (a 0-d tensor, as in PyTorch), ``exp_avg`` and ``exp_inf``.
    ``foreach`` is accepted for PyTorch's signature.  The update is :func:`adamax_update`.
    """

    _scalar_state = frozenset({"step"})

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_adam_hyperparameters(lr, betas, eps, weight_decay)
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=False, capturable=False))

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        options = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                       weight_decay=float(group["weight_decay"]), maximize=bool(group["maximize"]))
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(step=scalar_state(), exp_avg=zeros_like_param(p), exp_inf=zeros_like_param(p))
            step = count_step(state)
            adamax_update(p._data, p.grad._data, state["exp_avg"]._data, state["exp_inf"]._data, step=step,
                          **options)
