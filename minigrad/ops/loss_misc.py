"""The remaining everyday losses (PyTorch's names, arguments and reductions):
cosine_embedding_loss, hinge_embedding_loss, soft_margin_loss, multi_margin_loss,
multilabel_margin_loss, multilabel_soft_margin_loss, gaussian_nll_loss,
triplet_margin_with_distance_loss.  (ctc_loss, with its forward-backward recursion, is in
``ops/ctc.py``.)

Each is a composition of verified differentiable ops, so its gradient (and second derivative)
is theirs.  The hinges ``max(0, z)`` are ``relu``; which elements are targets, which pairs are
counted, are constant masks computed from the integer targets.  The formulas, per sample:

    cosine_embedding   1 - cos(x1, x2) where y = 1,  max(0, cos(x1, x2) - margin) where y = -1
                       cos = <x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))
    hinge_embedding    x where y = 1,  max(0, margin - x) where y = -1
    soft_margin        log(1 + exp(-y x))
    multi_margin       sum_{j != y} w[y] max(0, margin - x[y] + x[j])^p / C
    multilabel_margin  sum_{j in targets} sum_{i not in targets} max(0, 1 - (x[j] - x[i])) / C
    multilabel_soft    -sum_c w_c [y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)] / C
    gaussian_nll       (log max(var, eps) + (x - y)^2 / max(var, eps)) / 2  (+ log(2 pi) / 2 with full)
    triplet_with_dist  max(0, margin + d(a, p) - d(a, n))
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, float_operand
from .activation import relu, softplus
from .activation_extra import logsigmoid
from .distance import pairwise_distance
from .elementwise import minimum, where
from .loss import _check_reduction, _reduce, _same_shape
from .loss import _legacy_reduction
from .loss_extra import _mask, _same_shapes

__all__ = ["cosine_embedding_loss", "hinge_embedding_loss", "soft_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss", "multilabel_soft_margin_loss", "gaussian_nll_loss",
           "triplet_margin_with_distance_loss"]


def _const(array):
    """A constant array as a Tensor without a graph."""
    return Tensor._wrap(np.asarray(array) if isinstance(array, np.generic) else array)


def _index_targets(opname, x, target, n_cls):
    """Integer class targets of shape x.shape[:-1] ((N,) for (N, C), () for (C,)), in range."""
    t = as_tensor(target, opname)._data
    if t.dtype.kind not in "iu":
        raise TypeError(f"{opname}: target must hold integer class indices, got {t.dtype}")
    if t.shape != x._data.shape[:-1]:
        raise ArgumentError(f"{opname}: target of shape {tuple(t.shape)} does not match input of shape {x._data.shape} "
                         f"(expected {x._data.shape[:-1]})")
    if t.size and (int(t.min()) < 0 or int(t.max()) >= n_cls):
        raise IndexError(f"{opname}: target {int(t.min()) if int(t.min()) < 0 else int(t.max())} is out of bounds "
                         f"for {n_cls} classes")
    return t.astype(np.int64, copy=False)


def _class_input(opname, input):
    x = float_operand(input, opname)
    if x._data.ndim not in (1, 2) or x._data.shape[-1] == 0:
        raise ArgumentError(f"{opname}: expected a non-empty (C,) or (N, C) input, got shape {x._data.shape}")
    return x


# ----------------------------------------------------------------------------- embeddings
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean") -> Tensor:
    """PyTorch's ``F.cosine_embedding_loss`` on (N, D) / (D,) inputs and a target of 1 / -1 per row."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cosine_embedding_loss")
    a, b = float_operand(input1, "cosine_embedding_loss"), float_operand(input2, "cosine_embedding_loss")
    t = as_tensor(target, "cosine_embedding_loss")
    _same_shapes("cosine_embedding_loss", ("input1", "input2"), (a, b))
    if a._data.ndim not in (1, 2) or t._data.shape != a._data.shape[:-1]:
        raise ArgumentError(f"cosine_embedding_loss: expected (N, D) or (D,) inputs and a target of shape (N,) or (), "
                         f"got inputs of shape {a._data.shape} and target of shape {t._data.shape}")
    eps = 1e-12
    cos = (a * b).sum(-1) / (((a * a).sum(-1) + eps) * ((b * b).sum(-1) + eps)).sqrt()
    y = t._data
    loss = where(_mask(y == 1, cos), 1 - cos, 0.0) + where(_mask(y == -1, cos), relu(cos - margin), 0.0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """x where target is 1, max(0, margin - x) where it is -1 (both terms where it is neither, as PyTorch)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "hinge_embedding_loss")
    x = float_operand(input, "hinge_embedding_loss")
    t = as_tensor(target, "hinge_embedding_loss")
    _same_shape("hinge_embedding_loss", x, t)
    y = t._data
    loss = where(_mask(y != 1, x), relu(margin - x), 0.0) + where(_mask(y != -1, x), x, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """log(1 + exp(-target * input)), the two-class logistic loss with targets 1 / -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "soft_margin_loss")
    x, y = float_operand(input, "soft_margin_loss"), float_operand(target, "soft_margin_loss")
    _same_shape("soft_margin_loss", x, y)
    if y._data.dtype != x._data.dtype:
        y = y.to(x._data.dtype)
    return _reduce(softplus(-y * x), reduction)


# ----------------------------------------------------------------------------- multi-class margins
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean") -> Tensor:
    """PyTorch's ``F.multi_margin_loss``: per sample sum_{j != y} w[y] max(0, margin - x[y] + x[j])^p / C."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ArgumentError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    x = _class_input("multi_margin_loss", input)
    n_cls = x._data.shape[-1]
    y = _index_targets("multi_margin_loss", x, target, n_cls)
    xp = backend.xp_of(x._data)
    rows = x if x._data.ndim == 2 else x.reshape(1, n_cls)
    y2 = y.reshape(-1)
    picked = rows[xp.arange(y2.shape[0]), y2].reshape(-1, 1)
    h = relu(margin - picked + rows)
    if p == 2:
        h = h * h
    others = xp.arange(n_cls)[None, :] != y2[:, None]
    scale = others.astype(x._data.dtype)
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else xp.asarray(weight)
        if w.shape != (n_cls,):
            raise ArgumentError(f"multi_margin_loss: weight must have shape ({n_cls},) (one per class), got {tuple(w.shape)}")
        scale = scale * w.astype(x._data.dtype)[y2][:, None]
    loss = (h * _const(scale)).sum(1) / n_cls
    return _reduce(loss.reshape(y.shape), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """PyTorch's ``F.multilabel_margin_loss``: ``target`` (like ``input``) lists each sample's classes,
    ended by the first -1; per sample sum over listed j and unlisted i of max(0, 1 - (x[j] - x[i])) / C."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_margin_loss")
    x = _class_input("multilabel_margin_loss", input)
    t = as_tensor(target, "multilabel_margin_loss")._data
    if t.shape != x._data.shape:
        raise ArgumentError(f"multilabel_margin_loss: target of shape {tuple(t.shape)} must match the input's shape "
                         f"{x._data.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"multilabel_margin_loss: target must hold integer class indices, got {t.dtype}")
    n_cls = x._data.shape[-1]
    xp = backend.xp_of(x._data)
    t2 = t.reshape(-1, n_cls).astype(np.int64)
    listed = xp.cumprod(t2 != -1, axis=1).astype(bool)            # the prefix before the first -1
    if bool((((t2 < 0) | (t2 >= n_cls)) & listed).any()):
        raise IndexError(f"multilabel_margin_loss: target holds a class outside [0, {n_cls}) before its first -1")
    hits = (t2[:, :, None] == xp.arange(n_cls)[None, None, :]) & listed[:, :, None]
    counts = hits.sum(1).astype(x._data.dtype)                      # how often each class is listed
    pairs = counts[:, :, None] * (counts == 0)[:, None, :]         # (j listed, i not listed)
    rows = x.reshape(-1, n_cls)
    hinge = relu(1 - rows.reshape(-1, n_cls, 1) + rows.reshape(-1, 1, n_cls))
    loss = (hinge * _const(pairs)).sum((1, 2)) / n_cls
    return _reduce(loss.reshape(x._data.shape[:-1]), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean") -> Tensor:
    """Per sample -sum_c w_c [y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)] / C, C the last dim."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_soft_margin_loss")
    x, y = float_operand(input, "multilabel_soft_margin_loss"), float_operand(target, "multilabel_soft_margin_loss")
    _same_shape("multilabel_soft_margin_loss", x, y)
    if x._data.ndim == 0:
        raise ArgumentError("multilabel_soft_margin_loss: input must have a class dimension, got a 0-d tensor")
    if y._data.dtype != x._data.dtype:
        y = y.to(x._data.dtype)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        w = as_tensor(weight, "multilabel_soft_margin_loss")
        try:
            np.broadcast_shapes(w._data.shape, x._data.shape)
        except ValueError:
            raise ArgumentError(f"multilabel_soft_margin_loss: weight of shape {w._data.shape} does not broadcast to "
                             f"the input's shape {x._data.shape}") from None
        loss = loss * w.to(x._data.dtype)
    return _reduce(loss.sum(-1) / x._data.shape[-1], reduction)


# ----------------------------------------------------------------------------- Gaussian
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean") -> Tensor:
    """Negative log-likelihood of ``target`` under N(input, var): (log v + (input - target)^2 / v) / 2
    with v = max(var, eps), the clamp invisible to the gradient (PyTorch clamps under no_grad).
    ``var`` has the input's shape, or one dim fewer, or a 1 in one dim (homoscedastic), or is a float."""
    _check_reduction(reduction, "gaussian_nll_loss")
    x, y = float_operand(input, "gaussian_nll_loss"), float_operand(target, "gaussian_nll_loss")
    _same_shape("gaussian_nll_loss", x, y)
    if y._data.dtype != x._data.dtype:
        y = y.to(x._data.dtype)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ArgumentError("gaussian_nll_loss: var has negative entry/entries")
        v = Tensor._wrap(backend.xp_of(x._data).full(x._data.shape, float(var), dtype=x._data.dtype))
    else:
        v = float_operand(var, "gaussian_nll_loss")
        if v._data.size and bool((v._data < 0).any()):
            raise ArgumentError("gaussian_nll_loss: var has negative entry/entries")
        xs, vs = x._data.shape, v._data.shape
        if vs != xs:
            if xs[:-1] == vs:
                v = v.reshape(vs + (1,))
            elif not (len(xs) == len(vs) and sum(b for a, b in zip(xs, vs) if a != b) == 1):
                raise ArgumentError(f"gaussian_nll_loss: var of shape {vs} is of incorrect size for input of shape {xs} "
                                 f"(expected {xs}, {xs[:-1]}, or {xs} with one dim 1)")
        if v._data.dtype != x._data.dtype:
            v = v.to(x._data.dtype)
    xp = backend.xp_of(v._data)
    v = v + _const(xp.maximum(v._data, eps) - v._data)           # max(var, eps), gradient 1 everywhere
    d = x - y
    loss = 0.5 * (v.log() + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- triplets
def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)), ``distance_function`` any differentiable callable
    (default: the pairwise Euclidean distance); ``swap`` uses min(d(a, n), d(p, n))."""
    _check_reduction(reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ArgumentError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    a, pos, neg = (as_tensor(v, "triplet_margin_with_distance_loss") for v in (anchor, positive, negative))
    dims = [v._data.ndim for v in (a, pos, neg)]
    if len(set(dims)) > 1:
        raise ArgumentError(f"triplet_margin_with_distance_loss: anchor, positive and negative must have the same "
                         f"number of dimensions, got shapes {a._data.shape}, {pos._data.shape}, {neg._data.shape}")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(a, pos), dist(a, neg)
    if swap:
        d_neg = minimum(d_neg, dist(pos, neg))
    return _reduce(relu(margin + d_pos - d_neg), reduction)
