"""Adadelta: steps scaled by the ratio of running RMS of past updates to running RMS of gradients."""
from __future__ import annotations

from .. import backend
from .optimizer import Optimizer, check_lr, count_step, scalar_state, refuse_unsupported, zeros_like_param


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """One Adadelta step on the array ``param``, in place, updating the running averages
    ``square_avg`` (v, of g^2) and ``acc_delta`` (u, of the squared updates).  Hyperparameters
    are Python floats::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        param = param - lr * delta
    """
    xp = backend.xp_of(param)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param

    scratch = xp.multiply(grad, grad)
    scratch *= 1.0 - rho
    square_avg *= rho
    square_avg += scratch

    delta = acc_delta + eps
    xp.sqrt(delta, out=delta)
    xp.add(square_avg, eps, out=scratch)
    xp.sqrt(scratch, out=scratch)
    delta /= scratch
    delta *= grad

    xp.multiply(delta, delta, out=scratch)
    scratch *= 1.0 - rho
    acc_delta *= rho
    acc_delta += scratch
    delta *= lr
    param -= delta


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012; PyTorch's ``torch.optim.Adadelta``, same arguments and defaults).

    State per parameter: ``step`` (a 0-d tensor, as in PyTorch), ``square_avg`` and ``acc_delta``.  ``lr``
    scales the step (1.0 is the paper's method).  ``foreach`` is accepted for PyTorch's signature;
    every update is the same array code.  The update is :func:`adadelta_update`.
    """

    _scalar_state = frozenset({"step"})

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=False, foreach=foreach, differentiable=False))

    def _update_group(self, group):
        options = dict(lr=float(group["lr"]), rho=float(group["rho"]), eps=float(group["eps"]),
                       weight_decay=float(group["weight_decay"]), maximize=bool(group["maximize"]))
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(step=scalar_state(), square_avg=zeros_like_param(p), acc_delta=zeros_like_param(p))
            step = count_step(state)
            adadelta_update(p._data, p.grad._data, state["square_avg"]._data, state["acc_delta"]._data, **options)

