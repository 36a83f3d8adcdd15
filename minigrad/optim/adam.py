"""Adam and AdamW: steps scaled by running averages of the gradient and of its square."""
from __future__ import annotations

import math

from .. import backend
from ..ops._kernels import kernels
from ..tensor import Tensor
from .optimizer import (
    Optimizer, check_adam_hyperparameters, check_fused, count_step, decayed_gradient, refuse_unsupported,
    scalar_state, tensor_lr_decay, update_first_moment, update_second_moment, zeros_like_param)


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
                weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """One Adam step on the array ``param``, in place, updating the moment buffers ``exp_avg``
    (m) and ``exp_avg_sq`` (v), and ``max_exp_avg_sq`` with amsgrad.  ``step`` counts from 1;
    hyperparameters are Python floats::

        g = -grad if maximize else grad
        param = param * (1 - lr * weight_decay)          decoupled (AdamW), or else
        g = g + weight_decay * param                     L2 penalty (Adam)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v), then used for v below     amsgrad
        m_hat = m / (1 - beta1^step),  v_hat = v / (1 - beta2^step)
        param = param - lr * m_hat / (sqrt(v_hat) + eps)

    On the CPU the same arithmetic runs as one fused pass (kernels/optim.py, bitwise equal).
    """
    optim_kernels = kernels("optim")
    if optim_kernels.serves(param, grad, exp_avg, exp_avg_sq, *((max_exp_avg_sq,) if amsgrad else ())):
        optim_kernels.adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr, beta1=beta1,
                                beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                                decoupled=decoupled_weight_decay)
        return
    xp = backend.xp_of(param)
    grad = decayed_gradient(param, grad, lr=lr, weight_decay=weight_decay, maximize=maximize,
                            decoupled=decoupled_weight_decay)

    scratch = update_first_moment(grad, exp_avg, beta1)
    update_second_moment(grad, exp_avg_sq, beta2, scratch)
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    second_moment = max_exp_avg_sq if amsgrad else exp_avg_sq

    # m_hat / (sqrt(v_hat) + eps) = (c2 / c1) m / (sqrt(v) + eps c2) with c1 = 1 - beta1^step,
    # c2 = sqrt(1 - beta2^step): the bias corrections become scalars, saving a pass over the array
    correction1 = 1.0 - beta1 ** step
    correction2 = math.sqrt(1.0 - beta2 ** step)
    xp.sqrt(second_moment, out=scratch)
    scratch += eps * correction2
    xp.divide(exp_avg, scratch, out=scratch)
    scratch *= lr * correction2 / correction1
    param -= scratch


def _check_tensor_betas(betas, foreach, capturable) -> None:
    """PyTorch's Adam takes betas as two floats or two one-element Tensors (not with foreach)."""
    if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if foreach and not capturable:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")


class Adam(Optimizer):
    """Adam (PyTorch's ``torch.optim.Adam``, same arguments and defaults).

    State per parameter: ``step`` (a 0-d tensor, as in PyTorch), ``exp_avg``, ``exp_avg_sq`` and, with
    ``amsgrad``, ``max_exp_avg_sq``.  ``weight_decay`` adds an L2 penalty's gradient, or shrinks
    the weights directly with ``decoupled_weight_decay=True`` (that is :class:`AdamW`).
    The update is :func:`adam_update`.
    """

    _scalar_state = frozenset({"step"})

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_adam_hyperparameters(lr, betas, eps, weight_decay)
        _check_tensor_betas(betas, foreach, capturable)
        check_fused(fused, foreach, differentiable)
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=False,
                                      differentiable=False, fused=fused, decoupled_weight_decay=decoupled_weight_decay))

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        amsgrad = bool(group["amsgrad"])
        options = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                       weight_decay=float(group["weight_decay"]), amsgrad=amsgrad,
                       maximize=bool(group["maximize"]),
                       decoupled_weight_decay=bool(group["decoupled_weight_decay"]))
        decay = tensor_lr_decay(group, options)
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(step=scalar_state(), exp_avg=zeros_like_param(p), exp_avg_sq=zeros_like_param(p))
            if amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = zeros_like_param(p)
            step = count_step(state)
            if decay is not None:
                p._data *= decay
            if isinstance(group["lr"], Tensor):
                options["lr"] = _lr_for_tensor_step_size(group["lr"], options["beta1"], step)
            adam_update(p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                        state["max_exp_avg_sq"]._data if amsgrad else None, step=step, **options)


def _lr_for_tensor_step_size(lr: Tensor, beta1: float, step: float) -> float:
    """PyTorch divides a Tensor lr by the bias correction 1 - beta1^step in the lr's dtype (float32,
    say); the float lr that gives adam_update that rounded step size."""
    correction = 1.0 - beta1 ** step
    return float(lr._data.reshape(()) / correction) * correction      # NumPy keeps the lr's dtype here


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's ``torch.optim.AdamW``): the weights shrink by
    ``lr * weight_decay`` each step instead of the penalty entering the moment estimates.
    ``weight_decay`` defaults to 1e-2."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, foreach=foreach, fused=fused, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True   # AdamW stays AdamW whatever was saved, as in PyTorch
