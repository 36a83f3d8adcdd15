"""More losses (PyTorch's names, arguments and reductions): binary_cross_entropy, kl_div,
huber_loss, smooth_l1_loss, margin_ranking_loss, triplet_margin_loss, poisson_nll_loss.

Inputs and targets must have the same shape (as in ``ops/loss.py``: broadcasting them would
silently compute something else).  Binary cross-entropy on probabilities is a Function with
its backward written out, because PyTorch's clamps (log at least -100, x (1 - x) at least
1e-12) give a gradient that a composition through ``clamp`` would zero:

    loss = -w [y max(log x, -100) + (1 - y) max(log(1 - x), -100)]
    d/dx = w (x - y) / max(x (1 - x), 1e-12),     d/dy = w [max(log(1 - x), -100) - max(log x, -100)]

The others are compositions of verified ops; their pieces (which side of |d| < delta, of
y > 1) are constant masks computed from the values, so they differentiate twice.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import float_operand
from .activation import relu
from .distance import pairwise_distance
from .elementwise import minimum, where
from .loss import _check_reduction, _element_weight, _legacy_reduction, _reduce, _same_shape

__all__ = ["binary_cross_entropy", "kl_div", "huber_loss", "smooth_l1_loss", "margin_ranking_loss",
           "triplet_margin_loss", "poisson_nll_loss"]


def _pair(opname, input, target, reduction):
    _check_reduction(reduction, opname)
    x, y = float_operand(input, opname), float_operand(target, opname)
    _same_shape(opname, x, y)
    if y._data.dtype != x._data.dtype:
        y = y.to(x._data.dtype)
    return x, y


def _mask(cond, ref):
    """A constant bool mask as a Tensor beside ``ref``."""
    if isinstance(cond, np.generic):            # 0-d comparisons give NumPy scalars
        cond = np.asarray(cond)
    return Tensor._wrap(cond) if isinstance(ref, Tensor) else cond


# ----------------------------------------------------------------------------- binary cross-entropy
def _clamped_log(a):
    """max(log a, -100), the clamp a constant mask."""
    v = f.value(a)
    small = v < math.exp(-100)
    return f.where(small, -100.0, f.log(f.where(small, 1.0, a)))


class BinaryCrossEntropy(Function):
    """See the module docstring for the loss and its two derivatives; ``weight`` is a constant."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, y, weight):
        ctx.save_for_backward(x, y)
        ctx.weight = weight
        loss = -(y * _clamped_log(x) + (1 - y) * _clamped_log(1 - x))
        return loss * weight if weight is not None else loss

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gw = g * f.like(ctx.weight, g) if ctx.weight is not None else g
        dx = dy = None
        if ctx.needs_input_grad[0]:
            v = f.value(x)
            tiny = v * (1 - v) < 1e-12
            dx = gw * (x - y) / f.where(tiny, 1e-12, x * (1 - x))
        if ctx.needs_input_grad[1]:
            dy = gw * (_clamped_log(1 - x) - _clamped_log(x))
        return dx, dy


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """PyTorch's ``F.binary_cross_entropy`` on probabilities ``input`` in [0, 1]."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _pair("binary_cross_entropy", input, target, reduction)
    v = x._data
    if v.size and (float(v.min()) < 0 or float(v.max()) > 1):
        raise ArgumentError("binary_cross_entropy: all elements of input should be between 0 and 1 (for logits use "
                         "binary_cross_entropy_with_logits)")
    w = None
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else backend.xp_of(v).asarray(weight)
        try:
            if np.broadcast_shapes(w.shape, v.shape) != v.shape:
                raise ValueError
        except ValueError:
            raise ArgumentError(f"binary_cross_entropy: weight of shape {tuple(w.shape)} does not broadcast to the input's "
                             f"shape {tuple(v.shape)}") from None
        w = w.astype(v.dtype, copy=False)
    return _reduce(BinaryCrossEntropy.apply(x, y, w), reduction)


# ----------------------------------------------------------------------------- KL divergence
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False) -> Tensor:
    """PyTorch's ``F.kl_div``: ``input`` holds log-probabilities; pointwise
    target (log target - input), or exp(target) (target - input) with ``log_target``
    (0 where target is 0).  ``reduction='batchmean'`` divides the sum by the batch size
    (the true KL divergence); 'mean' averages over all elements, as PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    batchmean = reduction == "batchmean"
    if not batchmean:
        _check_reduction(reduction, "kl_div")
    x, y = _pair("kl_div", input, target, "sum" if batchmean else reduction)
    if log_target:
        loss = y.exp() * (y - x)
    else:
        positive = y._data > 0
        safe = where(_mask(positive, y), y, 1.0)           # log of 1 where the target is 0: y log y = 0 there
        loss = y * safe.log() - y * x
    if batchmean:
        return loss.sum() / (x._data.shape[0] if x._data.ndim else 1)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- robust regression
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), d = input - target; ``weight`` (the
    input's shape) multiplies each element before the reduction (a plain mean, as PyTorch's)."""
    x, y = _pair("huber_loss", input, target, reduction)
    if delta <= 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    d = x - y
    small = _mask(abs(d._data) < delta, d)
    loss = where(small, 0.5 * d * d, delta * (d.abs() - 0.5 * delta))
    w = _element_weight("huber_loss", weight, x)
    return _reduce(loss if w is None else loss * w, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2 (beta = 0: the L1 loss)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _pair("smooth_l1_loss", input, target, reduction)
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = x - y
    if beta == 0:
        return _reduce(d.abs(), reduction)
    small = _mask(abs(d._data) < beta, d)
    return _reduce(where(small, 0.5 * d * d / beta, d.abs() - 0.5 * beta), reduction)


# ----------------------------------------------------------------------------- ranking
def _same_shapes(opname, names, tensors):
    shapes = [t._data.shape for t in tensors]
    if len(set(shapes)) > 1:
        raise ArgumentError(f"{opname}: " + ", ".join(f"{n} of shape {s}" for n, s in zip(names, shapes)) +
                         " differ; broadcasting them would silently compute something else")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean") -> Tensor:
    """max(0, -target (input1 - input2) + margin), target holding 1 or -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "margin_ranking_loss")
    a, b, t = (float_operand(v, "margin_ranking_loss") for v in (input1, input2, target))
    _same_shapes("margin_ranking_loss", ("input1", "input2", "target"), (a, b, t))
    return _reduce(relu(-t * (a - b) + margin), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-norm distance over the last dim;
    ``swap`` uses min(d(a, n), d(p, n)) for the negative distance."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "triplet_margin_loss")
    a, pos, neg = (float_operand(v, "triplet_margin_loss") for v in (anchor, positive, negative))
    _same_shapes("triplet_margin_loss", ("anchor", "positive", "negative"), (a, pos, neg))
    if a._data.ndim not in (1, 2):
        raise ArgumentError(f"triplet_margin_loss: expected 1-D or 2-D inputs, got shape {a._data.shape}")
    if margin <= 0:
        raise ArgumentError(f"triplet_margin_loss: margin must be positive, got {margin}")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(relu(d_pos - d_neg + margin), reduction)


# ----------------------------------------------------------------------------- Poisson
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean") -> Tensor:
    """Negative log-likelihood of ``target`` under Poisson(rate): exp(input) - target input with
    ``log_input`` (input = log rate), else input - target log(input + eps); ``full`` adds
    Stirling's approximation of log(target!), target log target - target + log(2 pi target) / 2,
    where target > 1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _pair("poisson_nll_loss", input, target, reduction)
    loss = x.exp() - y * x if log_input else x - y * (x + eps).log()
    if full:
        big = _mask(y._data > 1, y)
        safe = where(big, y, 1.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)
