"""NAdam: Adam with Nesterov momentum and Dozat's momentum schedule."""
from __future__ import annotations

from .. import backend
from .optimizer import (
    Optimizer, check_adam_hyperparameters, count_step, decayed_gradient, refuse_unsupported, scalar_state,
    tensor_lr_decay, update_first_moment, update_second_moment, zeros_like_param)


def nadam_momentum(step, beta1, momentum_decay):
    """Dozat's schedule: mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))


def nadam_update(param, grad, exp_avg, exp_avg_sq, *, step, mu_product, lr, beta1, beta2, eps, weight_decay,
                 momentum_decay, decoupled_weight_decay, maximize):
    """One NAdam step on the array ``param``, in place, updating ``exp_avg`` (m) and ``exp_avg_sq``
    (v); ``mu_product`` is the product of the momenta mu_1 ... mu_step, this step's included.
    ``step`` counts from 1; hyperparameters are Python floats::

        g = -grad if maximize else grad
        param = param * (1 - lr * weight_decay)          decoupled, or else
        g = g + weight_decay * param                     L2 penalty
        mu = mu_step, mu_next = mu_(step+1)              (nadam_momentum), P = mu_1 ... mu_step
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        denom = sqrt(v / (1 - beta2^step)) + eps
        param = param - lr (1 - mu) / (1 - P) * g / denom - lr mu_next / (1 - P mu_next) * m / denom
    """
    xp = backend.xp_of(param)
    grad = decayed_gradient(param, grad, lr=lr, weight_decay=weight_decay, maximize=maximize,
                            decoupled=decoupled_weight_decay)
    mu = nadam_momentum(step, beta1, momentum_decay)
    mu_next = nadam_momentum(step + 1, beta1, momentum_decay)

    scratch = update_first_moment(grad, exp_avg, beta1)
    update_second_moment(grad, exp_avg_sq, beta2, scratch)

    denom = exp_avg_sq / (1.0 - beta2 ** step)
    xp.sqrt(denom, out=denom)
    denom += eps
    xp.divide(grad, denom, out=scratch)
    scratch *= lr * (1.0 - mu) / (1.0 - mu_product)
    param -= scratch
    xp.divide(exp_avg, denom, out=scratch)
    scratch *= lr * mu_next / (1.0 - mu_product * mu_next)
    param -= scratch


class NAdam(Optimizer):
    """NAdam (Dozat, 2016; PyTorch's ``torch.optim.NAdam``, same arguments and defaults).

    State per parameter: ``step`` and ``mu_product`` (the product of the momenta so far), 0-d
    tensors of PyTorch's scalar dtype as there, ``exp_avg`` and ``exp_avg_sq``.  ``decoupled_weight_decay=True`` shrinks
    the weights directly (NAdamW).  ``foreach`` is accepted for PyTorch's signature.  The update
    is :func:`nadam_update`.
    """

    _scalar_state = frozenset({"step", "mu_product"})

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_adam_hyperparameters(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=False, differentiable=False))

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        options = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                       weight_decay=float(group["weight_decay"]), momentum_decay=float(group["momentum_decay"]),
                       decoupled_weight_decay=bool(group["decoupled_weight_decay"]),
                       maximize=bool(group["maximize"]))
        decay = tensor_lr_decay(group, options)
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(step=scalar_state(), mu_product=scalar_state(1.0), exp_avg=zeros_like_param(p),
                             exp_avg_sq=zeros_like_param(p))
            step = count_step(state)
            if decay is not None:
                p._data *= decay
            # the product is kept in its tensor's dtype (float32 unless the default dtype is float64), as PyTorch's
            mu_product = state["mu_product"]
            mu_product._data *= nadam_momentum(step, options["beta1"], options["momentum_decay"])
            nadam_update(p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data, step=step,
                         mu_product=float(mu_product._data), **options)
