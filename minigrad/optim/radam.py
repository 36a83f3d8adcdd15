"""RAdam: Adam whose adaptive step is switched on gradually, as the variance of its estimate allows."""
from __future__ import annotations

import math

from .. import backend
from .optimizer import (
    Optimizer, check_adam_hyperparameters, count_step, decayed_gradient, refuse_unsupported, scalar_state,
    tensor_lr_decay, update_first_moment, update_second_moment, zeros_like_param)


def radam_rectification(step, beta2):
    """Liu et al.'s rectification term r_t, or None while the variance of the adaptive step is
    intractable (rho_t <= 5, the first few steps)::

        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    """
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * step * beta2 ** step / (1.0 - beta2 ** step)
    if rho_t <= 5.0:
        return None
    return math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))


def radam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
                 decoupled_weight_decay, maximize):
    """One RAdam step on the array ``param``, in place, updating ``exp_avg`` (m) and ``exp_avg_sq``
    (v).  ``step`` counts from 1; hyperparameters are Python floats::

        g = -grad if maximize else grad
        param = param * (1 - lr * weight_decay)          decoupled, or else
        g = g + weight_decay * param                     L2 penalty
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^step)
        param = param - lr * m_hat * r_t * sqrt(1 - beta2^step) / (sqrt(v) + eps)    r_t: radam_rectification
        param = param - lr * m_hat                                                   while r_t is None
    """
    xp = backend.xp_of(param)
    grad = decayed_gradient(param, grad, lr=lr, weight_decay=weight_decay, maximize=maximize,
                            decoupled=decoupled_weight_decay)

    scratch = update_first_moment(grad, exp_avg, beta1)
    update_second_moment(grad, exp_avg_sq, beta2, scratch)

    step_size = lr / (1.0 - beta1 ** step)
    rect = radam_rectification(step, beta2)
    if rect is None:
        xp.multiply(exp_avg, step_size, out=scratch)
    else:
        xp.sqrt(exp_avg_sq, out=scratch)
        scratch += eps
        xp.divide(exp_avg, scratch, out=scratch)
        scratch *= step_size * rect * math.sqrt(1.0 - beta2 ** step)
    param -= scratch


class RAdam(Optimizer):
    """RAdam (Liu et al., 2019; PyTorch's ``torch.optim.RAdam``, same arguments and defaults).

    State per parameter: ``step`` (a 0-d tensor, as in PyTorch), ``exp_avg`` and ``exp_avg_sq``.
    ``decoupled_weight_decay=True`` shrinks the weights directly (RAdamW).  ``foreach`` is accepted
    for PyTorch's signature.  The update is :func:`radam_update`.
    """

    _scalar_state = frozenset({"step"})

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        check_adam_hyperparameters(lr, betas, eps, weight_decay)
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=False,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=False))

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        options = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                       weight_decay=float(group["weight_decay"]),
                       decoupled_weight_decay=bool(group["decoupled_weight_decay"]),
                       maximize=bool(group["maximize"]))
        decay = tensor_lr_decay(group, options)
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(step=scalar_state(), exp_avg=zeros_like_param(p), exp_avg_sq=zeros_like_param(p))
            step = count_step(state)
            if decay is not None:
                p._data *= decay
            radam_update(p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data, step=step,
                         **options)
