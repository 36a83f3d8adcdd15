"""Adagrad: steps divided by the root of each coordinate's accumulated squared gradients."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, check_lr, count_step, scalar_state, check_fused, refuse_unsupported


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    """One Adagrad step on the array ``param``, in place, updating the accumulator ``state_sum``.
    ``step`` counts from 1; hyperparameters are Python floats::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        sum = sum + g^2
        param = param - clr * g / (sqrt(sum) + eps)
    """
    xp = backend.xp_of(param)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    decayed_lr = lr / (1 + (step - 1) * lr_decay)

    scratch = xp.multiply(grad, grad)
    state_sum += scratch
    xp.sqrt(state_sum, out=scratch)
    scratch += eps
    xp.divide(grad, scratch, out=scratch)
    scratch *= decayed_lr
    param -= scratch


class Adagrad(Optimizer):
    """Adagrad (PyTorch's ``torch.optim.Adagrad``, same arguments and defaults).

    State per parameter: ``step`` (a 0-d tensor, as in PyTorch) and ``sum``, which starts at
    ``initial_accumulator_value`` and is created with the parameter's group, as in PyTorch.
    ``lr_decay`` divides the learning rate by ``1 + (step - 1) * lr_decay``.  The update is
    :func:`adagrad_update`.
    """

    _scalar_state = frozenset({"step"})

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_fused(fused, foreach, differentiable)
        refuse_unsupported(type(self).__name__, differentiable=differentiable)
        check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=False, fused=fused))

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = _initial_state(p, group)

    def _update_group(self, group):
        options = dict(lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                       weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                       maximize=bool(group["maximize"]))
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:                 # e.g. after loading a state dict without this parameter's state
                state.update(_initial_state(p, group))
            step = count_step(state)
            adagrad_update(p._data, p.grad._data, state["sum"]._data, step=step, **options)


def _initial_state(p, group):
    xp = backend.xp_of(p._data)
    accumulator = xp.full_like(p._data, float(group["initial_accumulator_value"]))
    return {"step": scalar_state(), "sum": Tensor._wrap(accumulator)}
