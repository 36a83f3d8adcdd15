"""RMSprop: steps divided by a running root-mean-square of the gradient."""
from __future__ import annotations

from .. import backend
from .optimizer import Optimizer, check_lr, count_step, scalar_state, refuse_unsupported, zeros_like_param


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay,
                   momentum, centered, maximize):
    """One RMSprop step on the array ``param``, in place, updating ``square_avg`` (v), and
    ``grad_avg`` when centered, ``momentum_buffer`` when momentum > 0 (else they may be None).
    Hyperparameters are Python floats::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        v = alpha * v + (1 - alpha) * g^2
        g_avg = alpha * g_avg + (1 - alpha) * g                    centered
        denom = sqrt(v - g_avg^2) + eps  if centered  else  sqrt(v) + eps
        buf = momentum * buf + g / denom;  param = param - lr * buf     momentum > 0
        param = param - lr * g / denom                                  otherwise
    """
    xp = backend.xp_of(param)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param

    scratch = xp.multiply(grad, grad)
    scratch *= 1.0 - alpha
    square_avg *= alpha
    square_avg += scratch
    if centered:
        xp.subtract(grad, grad_avg, out=scratch)     # g_avg += (1 - alpha)(g - g_avg): PyTorch's lerp
        scratch *= 1.0 - alpha
        grad_avg += scratch
        xp.multiply(grad_avg, grad_avg, out=scratch)
        xp.subtract(square_avg, scratch, out=scratch)
        xp.sqrt(scratch, out=scratch)
    else:
        xp.sqrt(square_avg, out=scratch)
    scratch += eps
    xp.divide(grad, scratch, out=scratch)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += scratch
        xp.multiply(momentum_buffer, lr, out=scratch)
    else:
        scratch *= lr
    param -= scratch


class RMSprop(Optimizer):
    """RMSprop (PyTorch's ``torch.optim.RMSprop``, same arguments and defaults).

    State per parameter: ``step`` (a 0-d tensor, as in PyTorch), ``square_avg``, and ``momentum_buffer`` when
    ``momentum > 0``, ``grad_avg`` when ``centered`` (which divides by an estimate of the
    gradient's standard deviation instead of its root mean square).  The update is
    :func:`rmsprop_update`.
    """

    _scalar_state = frozenset({"step"})

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=False, foreach=foreach,
                                      maximize=maximize, differentiable=False))

    def _update_group(self, group):
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        options = dict(lr=float(group["lr"]), alpha=float(group["alpha"]), eps=float(group["eps"]),
                       weight_decay=float(group["weight_decay"]), momentum=momentum, centered=centered,
                       maximize=bool(group["maximize"]))
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(step=scalar_state(), square_avg=zeros_like_param(p))
            if momentum > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = zeros_like_param(p)
            if centered and "grad_avg" not in state:
                state["grad_avg"] = zeros_like_param(p)
            step = count_step(state)
            rmsprop_update(p._data, p.grad._data, state["square_avg"]._data,
                           state["grad_avg"]._data if centered else None,
                           state["momentum_buffer"]._data if momentum > 0 else None, **options)
