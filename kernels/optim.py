"""Optimizer updates in one pass over each parameter: Adam's formula is ten NumPy passes over whole
arrays (each reading and writing memory), SGD with momentum four; here each element is read once,
updated in registers and written once.

The arithmetic is the NumPy formulas' own (``minigrad/optim/adam.py``, ``sgd.py``), operation by
operation, in the parameter's precision, in the same order and without fused multiply-adds, so the
results are bitwise those of the NumPy path, and so PyTorch's trajectories stay matched as before:

    Adam:  g = -grad if maximize;  p *= 1 - lr wd (decoupled) or g = g + wd p
           m = m + (1 - beta1)(g - m);  v = beta2 v + (1 - beta2) g^2;  v_max = max(v_max, v) (amsgrad)
           p = p - step_size * m / (sqrt(v) + eps_c2)
           with step_size = lr sqrt(1 - beta2^t) / (1 - beta1^t), eps_c2 = eps sqrt(1 - beta2^t)
    SGD:   g = -grad if maximize;  g = g + wd p
           buf = momentum buf + (1 - dampening) g;  d = g + momentum buf (nesterov) or buf
           p = p - lr d

One thread: the update is bound by memory, and waking a pool costs more than it saves on most
parameters.  Arrays must be C-contiguous NumPy arrays of one float dtype (checked before the call).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._common import check_contiguous, check_float, is_numpy


# ----------------------------------------------------------------------------- NumPy references
def adam_step_ref(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
                  weight_decay, amsgrad, maximize, decoupled):
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled:
            param *= 1.0 - lr * weight_decay
        else:
            g = g + weight_decay * param
    exp_avg += (g - exp_avg) * (1.0 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += g * g * (1.0 - beta2)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    second = max_exp_avg_sq if amsgrad else exp_avg_sq
    c1, c2 = 1.0 - beta1 ** step, math.sqrt(1.0 - beta2 ** step)
    param -= exp_avg / (np.sqrt(second) + eps * c2) * (lr * c2 / c1)


def sgd_step_ref(param, grad, buf, *, lr, momentum, dampening, nesterov, weight_decay, maximize):
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        buf *= momentum
        buf += g if dampening == 0 else (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    param -= lr * g


# ----------------------------------------------------------------------------- Numba (CPU)
# error_model="numpy": IEEE division, without the check for zero that Python's semantics would add
# to every element (with it LLVM does not vectorise the loop: 5x slower on Adam)
_fused = njit(cache=True, nogil=True, error_model="numpy")


@_fused
def _adam_plain(param, grad, m, v, beta1, beta2, step_size, eps_c2):
    """The common case (no weight decay, amsgrad or maximize) without branches, which LLVM
    vectorises; the general loop below runs element by element."""
    T = param.dtype.type
    b1c, b2, b2c = T(1.0 - beta1), T(beta2), T(1.0 - beta2)
    size, eps_term = T(step_size), T(eps_c2)
    for i in range(param.size):
        g = grad[i]
        m[i] = m[i] + (g - m[i]) * b1c
        v[i] = v[i] * b2 + (g * g) * b2c
        param[i] = param[i] - (m[i] / (np.sqrt(v[i]) + eps_term)) * size


@_fused
def _adam(param, grad, m, v, v_max, amsgrad, maximize, decoupled, lr, beta1, beta2, weight_decay,
          step_size, eps_c2):
    T = param.dtype.type
    keep, wd = T(1.0 - lr * weight_decay), T(weight_decay)
    b1c, b2, b2c = T(1.0 - beta1), T(beta2), T(1.0 - beta2)
    size, eps_term = T(step_size), T(eps_c2)
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0.0:
            if decoupled:
                param[i] = param[i] * keep
            else:
                g = g + wd * param[i]
        m[i] = m[i] + (g - m[i]) * b1c
        v[i] = v[i] * b2 + (g * g) * b2c
        second = v[i]
        if amsgrad:
            # NumPy's maximum: NaN from either side wins
            if not (v_max[i] >= second or v_max[i] != v_max[i]):
                v_max[i] = second
            second = v_max[i]
        param[i] = param[i] - (m[i] / (np.sqrt(second) + eps_term)) * size      # np.sqrt keeps float32


@_fused
def _sgd(param, grad, buf, maximize, nesterov, lr, momentum, dampening, weight_decay):
    T = param.dtype.type
    rate, mom, wd, damp = T(lr), T(momentum), T(weight_decay), T(1.0 - dampening)
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0.0:
            g = g + wd * param[i]
        if momentum != 0.0:
            buf[i] = buf[i] * mom + (g if dampening == 0.0 else damp * g)
            g = g + mom * buf[i] if nesterov else buf[i]
        param[i] = param[i] - rate * g


# ----------------------------------------------------------------------------- entry points
def serves(*arrays) -> bool:
    """Whether the fused updates can take these arrays (the rest: the NumPy formulas): C-contiguous,
    writable NumPy arrays of one float dtype and shape."""
    first = arrays[0]
    return all(isinstance(a, np.ndarray) and a.dtype == first.dtype and a.shape == first.shape
               and a.flags.c_contiguous and a.flags.writeable for a in arrays) and first.dtype in (np.float32,
                                                                                                  np.float64)


def _check(name, *arrays):
    if not all(is_numpy(a) for a in arrays):
        raise TypeError(f"{name}: the fused update runs on NumPy arrays (CPU)")
    check_float(name, *arrays)
    for a in arrays[1:]:
        if a.shape != arrays[0].shape:
            raise ValueError(f"{name}: arrays must share one shape, got {arrays[0].shape} and {a.shape}")
    check_contiguous(name, *arrays)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
              weight_decay, amsgrad, maximize, decoupled):
    """One Adam step, in place on ``param`` and the moment buffers (``max_exp_avg_sq`` with amsgrad)."""
    arrays = (param, grad, exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if amsgrad else ())
    _check("adam_step", *arrays)
    c1, c2 = 1.0 - beta1 ** step, math.sqrt(1.0 - beta2 ** step)
    if not (amsgrad or maximize or weight_decay):
        _adam_plain(param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1), float(beta1),
                    float(beta2), lr * c2 / c1, eps * c2)
        return
    _adam(param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
          (max_exp_avg_sq if amsgrad else exp_avg_sq).reshape(-1), bool(amsgrad), bool(maximize), bool(decoupled),
          float(lr), float(beta1), float(beta2), float(weight_decay), lr * c2 / c1, eps * c2)


def sgd_step(param, grad, buf, *, lr, momentum, dampening, nesterov, weight_decay, maximize):
    """One SGD step, in place on ``param`` and the momentum buffer ``buf`` (None without momentum)."""
    arrays = (param, grad) + ((buf,) if momentum != 0 else ())
    _check("sgd_step", *arrays)
    _sgd(param.reshape(-1), grad.reshape(-1), (buf if momentum != 0 else param).reshape(-1), bool(maximize),
         bool(nesterov), float(lr), float(momentum), float(dampening), float(weight_decay))
