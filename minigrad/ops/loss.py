"""Losses: cross-entropy (fused, with its kernel), negative log-likelihood, MSE, L1 and
binary cross-entropy with logits (fused, stable).

Reductions as PyTorch: ``'mean'`` (cross-entropy and NLL over class indices divide by the
summed weights of the targets that are not ignored), ``'sum'``, ``'none'``.

Second order: NLL and BCE-with-logits have backward formulas that run on Tensors too; the
fused cross-entropy keeps its kernel for ordinary gradients and gives a ``composite``
(log_softmax, a gather, weights and smoothing as differentiable ops) for ``create_graph``.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError, DtypeError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor, float_operand, refuse_float16
from .activation import log_softmax
from .shape import permute, reshape
from ._kernels import kernels

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, opname):
    if reduction not in _REDUCTIONS:
        raise ArgumentError(f"{opname}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce_rows(rows, reduction, denom):
    """The rows' losses reduced; a mean over no weight (every target ignored, or weighted 0) is
    PyTorch's 0/0, NaN (written as a product with NaN, so NumPy warns of no division by zero)."""
    if reduction == "none":
        return rows
    total = rows.sum()
    if reduction == "sum":
        return total
    return total * np.nan if denom == 0 else total / denom


def _row_gradient(g, reduction, n, denom):
    """The upstream gradient of each row's loss (NaN over a zero weight, as the loss itself;
    ignored rows get 0 from the kernels, or from NLLLoss.backward)."""
    if reduction == "none":
        return g.reshape(-1)
    scale = g if reduction == "sum" else g * np.nan if denom == 0 else g / denom
    return f.cast(f.broadcast_to(scale.reshape(1), (n,)), f.value(g).dtype)


# ----------------------------------------------------------------------------- cross-entropy
class CrossEntropy(Function):
    """Fused log-softmax + NLL over class indices, (M, C) logits; see kernels/loss.py for the
    formulas of the loss and of d loss / d logits = s * (softmax-weighted terms - one-hot)."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, smoothing, reduction):
        rows, lse = kernels("loss").cross_entropy_forward(logits, target, weight, ignore_index, smoothing)
        valid = target != ignore_index
        denom = weight[target[valid]].sum() if reduction == "mean" else None
        ctx.save_for_backward(logits, lse, target, weight)
        ctx.options = (ignore_index, smoothing, reduction, denom)
        return _reduce_rows(rows, reduction, denom)

    @staticmethod
    def backward(ctx, g):
        logits, lse, target, weight = ctx.saved_tensors
        ignore_index, smoothing, reduction, denom = ctx.options
        grad_rows = _row_gradient(g, reduction, logits.shape[0], denom)
        return kernels("loss").cross_entropy_backward(logits, lse, target, weight, backend.xp_of(logits).ascontiguousarray(grad_rows),
                                                 ignore_index, smoothing)

    @staticmethod
    def composite(logits, target, weight, ignore_index, smoothing, reduction):
        """rows = (1 - s) (-w[y] logp[y]) + s / C (-sum_c w_c logp_c), 0 where y is ignored."""
        xp = backend.xp_of(target)
        logp = log_softmax(logits, 1)
        valid = target != ignore_index
        safe = xp.where(valid, target, 0)
        w_rows = weight[safe] * valid
        rows = logp[xp.arange(target.shape[0]), safe] * Tensor._wrap(-w_rows)
        if smoothing:
            spread = (logp * Tensor._wrap(weight)).sum(1) * Tensor._wrap(-valid.astype(logits.dtype))
            rows = rows * (1.0 - smoothing) + spread * (smoothing / logits.shape[1])
        if reduction == "none":
            return rows
        total = rows.sum()
        return total if reduction == "sum" else total / w_rows.sum()


def _class_weight(weight, n_cls, like, opname):
    xp = backend.xp_of(like)
    if weight is None:
        return xp.ones(n_cls, dtype=like.dtype)
    w = weight._data if isinstance(weight, Tensor) else xp.asarray(weight)
    if w.shape != (n_cls,):
        raise ArgumentError(f"{opname}: weight must have shape ({n_cls},) (one per class), got {tuple(w.shape)}")
    return w.astype(like.dtype, copy=False)


def _class_dim_last(x):
    """(N, C, d1, ...) -> (N * d1 * ..., C), differentiably; (N, C) and (C,) pass through as 2-D."""
    if x._data.ndim == 1:
        return reshape(x, 1, -1)
    if x._data.ndim == 2:
        return x
    order = (0,) + tuple(range(2, x._data.ndim)) + (1,)
    return reshape(permute(x, order), -1, x._data.shape[1])


def _check_class_targets(opname, x, t):
    expected = (x._data.shape[0],) + x._data.shape[2:] if x._data.ndim >= 2 else ()
    if t._data.shape != expected:
        raise ArgumentError(f"{opname}: target of shape {t._data.shape} does not match input of shape {x._data.shape} "
                         f"(expected class indices of shape {expected})")
    if t._data.dtype.kind not in "iu":
        raise DtypeError(f"{opname}: class-index targets must be integers, got {t._data.dtype}")


def _check_class_range(opname, target, n_cls, ignore_index):
    valid = target[target != ignore_index]
    if valid.size and (int(valid.min()) < 0 or int(valid.max()) >= n_cls):
        raise IndexError(f"{opname}: target {int(valid.min()) if int(valid.min()) < 0 else int(valid.max())} is out "
                         f"of bounds for {n_cls} classes")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0) -> Tensor:
    """PyTorch's ``F.cross_entropy`` on logits ``input`` (N, C) / (N, C, d1, ...) / (C,).

    ``target`` holds class indices (what Keras calls sparse categorical cross-entropy) or
    class probabilities of the input's shape.  Class indices take one fused, stable op.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = float_operand(input, "cross_entropy")
    refuse_float16("cross_entropy", x)
    t = as_tensor(target, "cross_entropy")
    if x._data.ndim == 0:
        raise ArgumentError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    n_cls = x._data.shape[1] if x._data.ndim >= 2 else x._data.shape[0]
    w = _class_weight(weight, n_cls, x._data, "cross_entropy")
    if t._data.dtype.kind == "f":
        return _soft_cross_entropy(x, t, w, reduction, label_smoothing)
    _check_class_targets("cross_entropy", x, t)
    _check_class_range("cross_entropy", t._data, n_cls, ignore_index)
    rows = _class_dim_last(x)
    out = CrossEntropy.apply(rows, t._data.reshape(-1).astype(np.int64, copy=False), w, int(ignore_index),
                             float(label_smoothing), reduction)
    if reduction == "none":
        return reshape(out, t._data.shape)
    return out


def _soft_cross_entropy(x, t, w, reduction, smoothing):
    """Probability targets: loss = -sum_c w_c t_c log p_c, composed from differentiable ops
    (gradients flow to the targets too); 'mean' averages over the samples."""
    if t._data.shape != x._data.shape:
        raise ArgumentError(f"cross_entropy: probability targets of shape {t._data.shape} must match the input's "
                         f"shape {x._data.shape}")
    n_cls = x._data.shape[1] if x._data.ndim >= 2 else x._data.shape[0]
    class_dim = 1 if x._data.ndim >= 2 else 0
    if smoothing:
        t = t * (1.0 - smoothing) + smoothing / n_cls
    shape = [1] * x._data.ndim
    shape[class_dim] = n_cls
    logp = log_softmax(x, class_dim)
    per_sample = -(logp * t * Tensor._wrap(w.reshape(shape))).sum(class_dim)
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


# ----------------------------------------------------------------------------- NLL
class NLLLoss(Function):
    """loss_i = -w[y_i] x[i, y_i] (0 where y_i is ignored);  dx[i, y_i] = -w[y_i] s_i"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        xp = backend.xp_of(logp)
        valid = target != ignore_index
        safe = xp.where(valid, target, 0)
        w_rows = weight[safe] * valid
        rows = -w_rows * logp[xp.arange(logp.shape[0]), safe]
        denom = w_rows.sum() if reduction == "mean" else None
        ctx.save_for_backward(safe, w_rows, valid)
        ctx.options = (logp.shape, reduction, denom)
        return _reduce_rows(rows, reduction, denom)

    @staticmethod
    def backward(ctx, g):
        safe, w_rows, valid = (f.value(t) for t in ctx.saved_tensors)
        shape, reduction, denom = ctx.options
        xp = backend.xp_of(safe)
        picked = (xp.arange(shape[1])[None, :] == safe[:, None]).astype(f.value(g).dtype)   # one-hot rows
        rows = _row_gradient(g, reduction, shape[0], denom) * f.like(-w_rows, g)
        dx = f.like(picked, g) * rows.reshape(-1, 1)
        if denom is not None and denom == 0:      # a NaN scale: NaN only at the picked entries of rows not ignored
            dx = f.where((picked != 0) & valid[:, None], dx, 0.0)
        return dx


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean") -> Tensor:
    """PyTorch's ``F.nll_loss`` on log-probabilities (N, C) / (N, C, d1, ...) / (C,)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    x = float_operand(input, "nll_loss")
    t = as_tensor(target, "nll_loss")
    if x._data.ndim == 0:
        raise ArgumentError("nll_loss: input must have a class dimension, got a 0-d tensor")
    _check_class_targets("nll_loss", x, t)
    n_cls = x._data.shape[1] if x._data.ndim >= 2 else x._data.shape[0]
    _check_class_range("nll_loss", t._data, n_cls, ignore_index)
    w = _class_weight(weight, n_cls, x._data, "nll_loss")
    out = NLLLoss.apply(_class_dim_last(x), t._data.reshape(-1).astype(np.int64, copy=False), w, int(ignore_index),
                        reduction)
    return reshape(out, t._data.shape) if reduction == "none" else out


# ----------------------------------------------------------------------------- regression losses
def _same_shape(opname, x, y):
    if x._data.shape != y._data.shape:
        raise ArgumentError(f"{opname}: input of shape {x._data.shape} and target of shape {y._data.shape} differ; "
                         f"broadcasting them would silently compute something else (reshape one first)")


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated ``size_average`` / ``reduce`` flags, when given, decide the reduction."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


def _element_weight(opname, weight, x):
    """A per-element loss weight: a float Tensor of the input's shape (PyTorch refuses any other)."""
    if weight is None:
        return None
    w = float_operand(weight, opname)
    if w._data.shape != x._data.shape:
        raise ArgumentError(f"{opname}: weight of shape {w._data.shape} must have the input's shape {x._data.shape}")
    return w


def _weighted_mean_reduce(loss, w, reduction):
    """Weighted elementwise losses reduced as PyTorch's mse_loss/l1_loss: 'mean' divides by sum(w)."""
    if w is None:
        return _reduce(loss, reduction)
    loss = loss * w
    return loss.sum() / w.sum() if reduction == "mean" else _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None) -> Tensor:
    """Mean squared error (d = 2 (x - y) / n), composed of verified ops; with ``weight`` (the input's
    shape) the mean is sum(w (x - y)^2) / sum(w)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "mse_loss")
    x, y = float_operand(input, "mse_loss"), float_operand(target, "mse_loss")
    _same_shape("mse_loss", x, y)
    diff = x - y
    return _weighted_mean_reduce(diff * diff, _element_weight("mse_loss", weight, x), reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None) -> Tensor:
    """Mean absolute error (d = sign(x - y) / n; 0 where x == y, as PyTorch); with ``weight`` the
    mean is sum(w |x - y|) / sum(w)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "l1_loss")
    x, y = float_operand(input, "l1_loss"), float_operand(target, "l1_loss")
    _same_shape("l1_loss", x, y)
    return _weighted_mean_reduce((x - y).abs(), _element_weight("l1_loss", weight, x), reduction)


# ----------------------------------------------------------------------------- binary cross-entropy with logits
class BCEWithLogits(Function):
    """With c = 1 + (pos_weight - 1) y and softplus(-x) = log(1 + exp(-x)) computed stably:
        loss = w [ (1 - y) x + c softplus(-x) ]
        d/dx = w [ (1 - y) - c sigmoid(-x) ],    d/dy = w [ -x + (pos_weight - 1) softplus(-x) ]"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight):
        xp = backend.xp_of(x)
        sp = xp.logaddexp(0, -x)                 # softplus(-x), stable for any x
        c = 1 + (pos_weight - 1) * y if pos_weight is not None else 1
        loss = (1 - y) * x + c * sp
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight, pos_weight)
        return loss

    @staticmethod
    def backward(ctx, g):
        x, y, weight, pos_weight = ctx.saved_tensors
        gw = g * weight if weight is not None else g
        dx = dy = None
        if ctx.needs_input_grad[0]:
            c = 1 + (pos_weight - 1) * y if pos_weight is not None else 1
            dx = gw * ((1 - y) - c * f.sigmoid(-x))
        if ctx.needs_input_grad[1]:
            dy = gw * (-x + (pos_weight - 1) * f.softplus(-x) if pos_weight is not None else -x)
        return dx, dy


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None) -> Tensor:
    """PyTorch's ``F.binary_cross_entropy_with_logits``: sigmoid and BCE in one stable op."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x, y = float_operand(input, "binary_cross_entropy_with_logits"), float_operand(target, "binary_cross_entropy_with_logits")
    _same_shape("binary_cross_entropy_with_logits", x, y)
    if y._data.dtype != x._data.dtype:
        y = y.to(x._data.dtype)
    extras = []
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is None:
            extras.append(None)
            continue
        arr = t._data if isinstance(t, Tensor) else backend.xp_of(x._data).asarray(t)
        try:
            np.broadcast_shapes(arr.shape, x._data.shape)
        except ValueError:
            raise ArgumentError(f"binary_cross_entropy_with_logits: {name} of shape {arr.shape} does not broadcast "
                             f"to the input's shape {x._data.shape}") from None
        extras.append(arr.astype(x._data.dtype, copy=False))
    return _reduce(BCEWithLogits.apply(x, y, *extras), reduction)
