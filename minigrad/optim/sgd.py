"""SGD: stochastic gradient descent with optional momentum (heavy-ball or Nesterov)."""
from __future__ import annotations

from ..ops._kernels import kernels
from ..tensor import Tensor
from .optimizer import Optimizer, check_lr, check_fused, refuse_unsupported


def sgd_update(param, grad, buf, *, lr, momentum, dampening, nesterov, weight_decay, maximize):
    """One SGD step on the array ``param``, in place; returns the momentum buffer (a new one on
    the first step, None without momentum).  Hyperparameters are Python floats::

        g   = -grad if maximize else grad
        g   = g + weight_decay * param
        buf = g                                       on the first step
        buf = momentum * buf + (1 - dampening) * g    on later steps
        d   = g + momentum * buf  if nesterov  else  buf     (d = g without momentum)
        param = param - lr * d

    On the CPU, after the first step, the same arithmetic runs as one fused pass (kernels/optim.py,
    bitwise equal).
    """
    optim_kernels = kernels("optim")
    if (momentum == 0 or buf is not None) and optim_kernels.serves(param, grad, *((buf,) if momentum else ())):
        optim_kernels.sgd_step(param, grad, buf, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                               weight_decay=weight_decay, maximize=maximize)
        return buf
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        if buf is None:
            buf = g.astype(param.dtype, copy=True)    # owns its memory, in the parameter's dtype
        else:
            buf *= momentum
            buf += g if dampening == 0 else (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    param -= lr * g
    return buf


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's ``torch.optim.SGD``, same arguments and defaults).

    ``momentum`` adds a velocity ``buf`` (state ``momentum_buffer``), ``dampening`` scales the
    gradient entering it, ``nesterov`` looks ahead along it; ``weight_decay`` adds an L2 penalty's
    gradient; ``maximize`` ascends instead.  The update is :func:`sgd_update`.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check_fused(fused, foreach, differentiable)
        refuse_unsupported(type(self).__name__, differentiable=differentiable)
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      foreach=foreach, differentiable=False, fused=fused))

    def _update_group(self, group):
        momentum = float(group["momentum"])
        options = dict(lr=float(group["lr"]), momentum=momentum, dampening=float(group["dampening"]),
                       nesterov=bool(group["nesterov"]), weight_decay=float(group["weight_decay"]),
                       maximize=bool(group["maximize"]))
        params = [p for p in group["params"] if p.grad is not None]
        if momentum == 0:
            for p in params:
                sgd_update(p._data, p.grad._data, None, **options)
            return
        # the buffers as the step starts (PyTorch's order: a parameter given twice in its group gets
        # a fresh buffer at each appearance on its first step, and keeps the last one)
        bufs = [self.state[p].get("momentum_buffer") for p in params]
        for i, p in enumerate(params):
            new_buf = sgd_update(p._data, p.grad._data, None if bufs[i] is None else bufs[i]._data, **options)
            if bufs[i] is None:
                bufs[i] = Tensor._wrap(new_buf)
        for p, buf in zip(params, bufs):
            self.state[p]["momentum_buffer"] = buf

