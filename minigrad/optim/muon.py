"""Muon: momentum whose update matrix is orthogonalised by a few Newton-Schulz iterations, for the
2-D weights of hidden layers (other parameters go to a standard optimizer such as AdamW)."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .optimizer import Optimizer, check_lr, zeros_like_param

#: the quintic iteration's coefficients, its stabilising epsilon and number of steps (PyTorch's defaults)
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
EPS = 1e-7
NS_STEPS = 5


def bfloat16_round(x):
    """``x`` rounded to bfloat16 (to nearest, ties to even) and held in float32: PyTorch runs the
    iteration in bfloat16, which NumPy lacks; each of its operations rounds its result once."""
    xp = backend.xp_of(x)
    bits = xp.ascontiguousarray(x, dtype=np.float32).reshape(xp.shape(x)).view(np.uint32)
    bits = bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    return (bits & np.uint32(0xFFFF0000)).view(np.float32)


def newton_schulz(matrix, coefficients=NS_COEFFICIENTS, steps=NS_STEPS, eps=EPS):
    """An approximately orthogonal matrix U S' V^T (S' near 1) from ``matrix`` = U S V^T, by
    ``steps`` iterations X <- a X + (b A + c A^2) X with A = X X^T, from X = matrix / ||matrix||
    (the wide orientation, so that A is the smaller Gram matrix), in bfloat16 as PyTorch."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if matrix.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    xp = backend.xp_of(matrix)
    a, b, c = coefficients
    tall = matrix.shape[0] > matrix.shape[1]
    x = bfloat16_round(matrix.T if tall else matrix)
    norm = bfloat16_round(xp.sqrt((x * x).sum(dtype=np.float32)))
    x = bfloat16_round(x / max(float(norm), float(bfloat16_round(np.float32(eps)))))
    for _ in range(steps):
        gram = bfloat16_round(x @ x.T)
        gram_update = bfloat16_round(np.float32(b) * gram + np.float32(c) * (gram @ gram))
        x = bfloat16_round(np.float32(a) * x + gram_update @ x)
    return x.T if tall else x


def muon_lr(lr, adjust_lr_fn, shape):
    """The learning rate for a (rows, columns) matrix: scaled by sqrt(max(1, rows / columns))
    ("original", the default), or by 0.2 sqrt(max(rows, columns)) ("match_rms_adamw", so that the
    update's RMS matches AdamW's)."""
    rows, columns = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / columns))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, columns))
    return lr


def muon_update(param, grad, buf, *, lr, weight_decay, momentum, nesterov, ns_coefficients, ns_steps, eps,
                adjust_lr_fn):
    """One Muon step on the 2-D array ``param``, in place, updating the momentum buffer ``buf``::

        buf = lerp(buf, g, 1 - momentum)
        u = lerp(g, buf, momentum) if nesterov else buf
        param = param * (1 - lr * weight_decay) - muon_lr(lr) * newton_schulz(u)
    """
    buf += (1 - momentum) * (grad - buf)
    update = grad + momentum * (buf - grad) if nesterov else buf
    update = newton_schulz(update, ns_coefficients, ns_steps, eps)
    param *= 1 - lr * weight_decay
    param -= muon_lr(lr, adjust_lr_fn, param.shape) * update


class Muon(Optimizer):
    """Muon (Jordan et al., 2024; PyTorch's ``torch.optim.Muon``, same arguments, defaults and
    messages).  Only 2-D parameters; state per parameter: ``momentum_buffer``.  The update is
    :func:`muon_update`; the Newton-Schulz iteration runs in emulated bfloat16, as PyTorch's."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=NS_COEFFICIENTS,
                 eps=EPS, ns_steps=NS_STEPS, adjust_lr_fn=None):
        check_lr(lr, message="Learning rate should be >= 0 but is: {}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                                      adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def _update_group(self, group):
        options = dict(lr=float(group["lr"]), weight_decay=float(group["weight_decay"]),
                       momentum=float(group["momentum"]), nesterov=bool(group["nesterov"]),
                       ns_coefficients=tuple(group["ns_coefficients"]), ns_steps=int(group["ns_steps"]),
                       eps=float(group["eps"]), adjust_lr_fn=group["adjust_lr_fn"])
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = zeros_like_param(p)
            muon_update(p._data, p.grad._data, state["momentum_buffer"]._data, **options)
