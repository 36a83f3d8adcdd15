"""Registry entries for the ``nn.functional`` additions of issue 12: more activations,
normalisations, distances and losses (NumPy references written from the formulas)."""
from __future__ import annotations

import math

import numpy as np

from ..ops import activation_extra as _act
from ..ops import norm_extra as _norm
from ..ops import distance as _dist
from ..ops import loss_extra as _loss
from ..ops import dropout as _dropout
from .registry import NON_DIFFERENTIABLE, OpSpec, Sample, register


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_softplus(x):
    return np.logaddexp(0, x)


def _pointwise(name, fn, ref, torch, domain="real", kwargs=None, scale=1.0, **opts):
    """A pointwise activation on one drawn tensor, ``scale`` widening the domain (kinks stay avoided:
    offgrid values times 2 are 1/8 + k/4, never an integer)."""
    def sample(d, dtype):
        x = np.asarray(d.floats(d.shape(), domain, dtype=dtype) * dtype(scale))
        return Sample([x], kwargs(d) if kwargs else {})
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


_SA, _SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# ----------------------------------------------------------------------------- activations
_pointwise("silu", _act.silu, lambda x: x * _np_sigmoid(x), lambda t, x: t.nn.functional.silu(x))
_pointwise("mish", _act.mish, lambda x: x * np.tanh(_np_softplus(x)), lambda t, x: t.nn.functional.mish(x))
_pointwise("elu", lambda x, alpha: _act.elu(x, alpha), lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
           lambda t, x, alpha: t.nn.functional.elu(x, alpha), domain="nonzero",
           kwargs=lambda d: {"alpha": d.choice([1.0, 0.5])})
_pointwise("selu", _act.selu, lambda x: _SS * np.where(x > 0, x, _SA * np.expm1(x)),
           lambda t, x: t.nn.functional.selu(x), domain="nonzero")
_pointwise("celu", lambda x, alpha: _act.celu(x, alpha),
           lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
           lambda t, x, alpha: t.nn.functional.celu(x, alpha), domain="nonzero",
           kwargs=lambda d: {"alpha": d.choice([1.0, 0.5, 2.0])})
_pointwise("relu6", _act.relu6, lambda x: np.clip(x, 0, 6), lambda t, x: t.nn.functional.relu6(x),
           domain="offgrid", scale=4.0)
_pointwise("hardtanh", lambda x, min_val, max_val: _act.hardtanh(x, min_val, max_val),
           lambda x, min_val, max_val: np.clip(x, min_val, max_val),
           lambda t, x, min_val, max_val: t.nn.functional.hardtanh(x, min_val, max_val), domain="offgrid",
           kwargs=lambda d: d.choice([{"min_val": -1.0, "max_val": 1.0}, {"min_val": -0.5, "max_val": 1.5}]))
_pointwise("hardswish", _act.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6,
           lambda t, x: t.nn.functional.hardswish(x), domain="offgrid", scale=2.0)
_pointwise("hardsigmoid", _act.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6,
           # PyTorch's float64 hardsigmoid backward multiplies by a float32 1/6 (off by 3e-8): its definition instead
           lambda t, x: t.nn.functional.relu6(x + 3) / 6, domain="offgrid", scale=2.0)
_pointwise("logsigmoid", _act.logsigmoid, lambda x: -_np_softplus(-x), lambda t, x: t.nn.functional.logsigmoid(x))
_pointwise("softsign", _act.softsign, lambda x: x / (1 + np.abs(x)), lambda t, x: t.nn.functional.softsign(x),
           domain="nonzero")
_pointwise("threshold", lambda x, threshold, value: _act.threshold(x, threshold, value),
           lambda x, threshold, value: np.where(x > threshold, x, value),
           lambda t, x, threshold, value: t.nn.functional.threshold(x, threshold, value), domain="offgrid",
           kwargs=lambda d: {"threshold": d.choice([0.0, 0.5]), "value": d.choice([-1.0, 2.0])})
_pointwise("tanhshrink", _act.tanhshrink, lambda x: x - np.tanh(x), lambda t, x: t.nn.functional.tanhshrink(x))


def _softmin_ref(x, dim):
    e = np.exp(-x - (-x).max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _dim_sample(d, dtype):
    shape = d.shape(min_dims=1)
    return Sample([d.floats(shape, dtype=dtype)], {"dim": d.integers(-len(shape), len(shape) - 1)})


register(OpSpec("softmin", lambda x, dim: _act.softmin(x, dim), _softmin_ref, _dim_sample,
                lambda t, x, dim: t.nn.functional.softmin(x, dim)))


def _glu_sample(d, dtype):
    shape = list(d.shape(min_dims=1, max_side=3))
    dim = d.integers(-len(shape), len(shape) - 1)
    shape[dim] *= 2
    return Sample([d.floats(tuple(shape), dtype=dtype)], {"dim": dim})


def _np_glu(x, dim):
    a, b = np.split(x, 2, axis=dim)
    return a * _np_sigmoid(b)


register(OpSpec("glu", lambda x, dim: _act.glu(x, dim), _np_glu, _glu_sample,
                lambda t, x, dim: t.nn.functional.glu(x, dim)))


def _prelu_sample(d, dtype):
    shape = d.shape(min_dims=1)
    channels = shape[1] if len(shape) >= 2 else 1
    n = d.choice([1, channels])
    return Sample([d.floats(shape, "nonzero", dtype=dtype), d.floats((n,), "positive", dtype=dtype) * dtype(0.5)])


def _np_prelu(x, w):
    shape = (1, w.size) + (1,) * (x.ndim - 2) if x.ndim >= 2 and w.size > 1 else (1,) * x.ndim
    return np.where(x > 0, x, x * w.reshape(shape))


register(OpSpec("prelu", _act.prelu, _np_prelu, _prelu_sample, lambda t, x, w: t.nn.functional.prelu(x, w)))


# ----------------------------------------------------------------------------- normalisation
def _norm_input(d, dtype, min_dims=2):
    """(N, C, *spatial) with at least two values per normalised group, all distinct (1/8 apart): a group of
    equal values has variance 0, where 1 / sqrt(var + eps) makes second derivatives too large for
    finite differences (found by gradgradcheck on a group of zeros)."""
    shape = (d.integers(1, 3), d.integers(1, 4)) + d.shape(min_dims - 2, 2, min_side=2, max_side=3)
    return shape, _distinct(d, shape, dtype)


def _distinct(d, shape, dtype):
    return (d.floats(shape, unique=True, dtype=np.float64) * 2).astype(dtype)


def _group_norm_sample(d, dtype):
    shape, x = _norm_input(d, dtype)
    c = shape[1]
    groups = d.choice([g for g in range(1, c + 1) if c % g == 0 and (c // g) * int(np.prod(shape[2:])) > 1] or [1])
    if (c // groups) * int(np.prod(shape[2:])) <= 1:      # one value per group: draw a spatial dim
        shape = shape + (2,)
        x = _distinct(d, shape, dtype)
    args = [x]
    if d.boolean():
        args += [d.floats((c,), dtype=dtype), d.floats((c,), dtype=dtype)]
    return Sample(args, {"num_groups": groups})


def _np_group_norm(x, w=None, b=None, *, num_groups):
    rows = x.reshape(x.shape[0], num_groups, -1)
    y = ((rows - rows.mean(axis=2, keepdims=True)) / np.sqrt(rows.var(axis=2, keepdims=True) + 1e-5)).reshape(x.shape)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


register(OpSpec("group_norm", lambda x, w=None, b=None, *, num_groups: _norm.group_norm(x, num_groups, w, b),
                _np_group_norm, _group_norm_sample,
                lambda t, x, w=None, b=None, *, num_groups: t.nn.functional.group_norm(x, num_groups, w, b),
                rtol32=1e-3))


def _instance_norm_sample(d, dtype):
    shape, x = _norm_input(d, dtype, min_dims=3)
    c = shape[1]
    args = [x]
    if d.boolean():
        args += [d.floats((c,), dtype=dtype), d.floats((c,), dtype=dtype)]
    use_input_stats = d.boolean()
    running = (d.floats((c,), dtype=np.float64), d.floats((c,), "positive", dtype=np.float64))
    return Sample(args, {"use_input_stats": use_input_stats, "running": running})


def _in_call(x, w=None, b=None, *, use_input_stats, running):
    import minigrad as mg
    mean, var = (mg.tensor(a.copy(), dtype=x.dtype) for a in running)
    return _norm.instance_norm(x, mean, var, w, b, use_input_stats=use_input_stats)


def _np_instance_norm(x, w=None, b=None, *, use_input_stats, running):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if use_input_stats:
        dims = tuple(range(2, x.ndim))
        y = (x - x.mean(axis=dims, keepdims=True)) / np.sqrt(x.var(axis=dims, keepdims=True) + 1e-5)
    else:
        y = (x - running[0].reshape(shape)) / np.sqrt(running[1].reshape(shape) + 1e-5)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


def _torch_in(t, x, w=None, b=None, *, use_input_stats, running):
    mean, var = (t.tensor(a.copy(), dtype=x.dtype) for a in running)
    return t.nn.functional.instance_norm(x, mean, var, w, b, use_input_stats=use_input_stats)


register(OpSpec("instance_norm", _in_call, _np_instance_norm, _instance_norm_sample, _torch_in, rtol32=1e-3))


def _rms_norm_sample(d, dtype):
    shape = d.shape(1, 3, min_side=1)
    k = d.integers(1, len(shape))
    norm_shape = shape[len(shape) - k:]
    args = [d.floats(shape, "nonzero", dtype=dtype)]     # mean(x^2) well above eps: finite differences hold
    if d.boolean():
        args.append(d.floats(norm_shape, dtype=dtype))
    return Sample(args, {"normalized_shape": norm_shape, "eps": d.choice([None, 1e-5])})


def _np_rms_norm(x, w=None, *, normalized_shape, eps):
    dims = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    eps = np.finfo(x.dtype).eps if eps is None else eps
    y = x / np.sqrt((x * x).mean(axis=dims, keepdims=True) + eps)
    return y * (1 if w is None else w)


register(OpSpec("rms_norm", lambda x, w=None, *, normalized_shape, eps: _norm.rms_norm(x, normalized_shape, w, eps),
                _np_rms_norm, _rms_norm_sample,
                lambda t, x, w=None, *, normalized_shape, eps: t.nn.functional.rms_norm(x, normalized_shape, w, eps),
                rtol32=1e-3))


def _lrn_sample(d, dtype):
    shape = (d.integers(1, 2), d.integers(1, 4)) + d.shape(1, 2, max_side=3)
    return Sample([d.floats(shape, dtype=dtype)],
                  {"size": d.integers(1, 4), "alpha": d.choice([1e-4, 0.5]), "beta": d.choice([0.75, 1.5]),
                   "k": d.choice([1.0, 2.0])})


def _np_lrn(x, *, size, alpha, beta, k):
    c = x.shape[1]
    sq = np.pad(x * x, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    window = sum(sq[:, j:j + c] for j in range(size))
    return x / (k + alpha / size * window) ** beta


register(OpSpec("local_response_norm", lambda x, **kw: _norm.local_response_norm(x, **kw), _np_lrn, _lrn_sample,
                lambda t, x, **kw: t.nn.functional.local_response_norm(x, **kw)))


# ----------------------------------------------------------------------------- distances
NON_DIFFERENTIABLE["one_hot"] = "returns integers (class indicator rows)"


def _np_norm(x, p, axis, keepdims=False):
    if p == math.inf:
        return np.abs(x).max(axis=axis, keepdims=keepdims)
    return (np.abs(x) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


def _normalize_sample(d, dtype):
    shape = d.shape(min_dims=1)
    p = d.choice([2.0, 1.0, 3.0])
    return Sample([d.floats(shape, "nonzero", dtype=dtype)], {"p": p, "dim": d.integers(-len(shape), len(shape) - 1)})


register(OpSpec("normalize", lambda x, p, dim: _dist.normalize(x, p, dim),
                lambda x, p, dim: x / np.maximum(_np_norm(x, p, dim, True), 1e-12), _normalize_sample,
                lambda t, x, p, dim: t.nn.functional.normalize(x, p, dim)))


def _cosine_sample(d, dtype):
    (sa, sb), shape = d.broadcast_shapes(2, min_dims=1)
    while not sa or not sb:
        (sa, sb), shape = d.broadcast_shapes(2, min_dims=1)
    shape = np.broadcast_shapes(sa, sb)
    return Sample([d.floats(sa, "nonzero", dtype=dtype), d.floats(sb, "nonzero", dtype=dtype)],
                  {"dim": d.integers(-len(shape), len(shape) - 1)})


def _np_cosine(a, b, dim):
    a, b = np.broadcast_arrays(a, b)
    return (a * b).sum(axis=dim) / (np.linalg.norm(a, axis=dim) * np.linalg.norm(b, axis=dim))


register(OpSpec("cosine_similarity", lambda a, b, dim: _dist.cosine_similarity(a, b, dim), _np_cosine, _cosine_sample,
                lambda t, a, b, dim: t.nn.functional.cosine_similarity(a, b, dim)))


def _pairwise_sample(d, dtype):
    shape = d.shape(min_dims=1, max_dims=2)
    a = d.floats(shape, dtype=dtype)
    b = np.asarray(a - d.floats(shape, "nonzero", dtype=dtype))     # x1 - x2 away from 0 (|.| and sqrt's kinks)
    return Sample([a, b], {"p": d.choice([2.0, 1.0, 3.0]), "keepdim": d.boolean()})


register(OpSpec("pairwise_distance", lambda a, b, p, keepdim: _dist.pairwise_distance(a, b, p, keepdim=keepdim),
                lambda a, b, p, keepdim: _np_norm(a - b + 1e-6, p, -1, keepdim), _pairwise_sample,
                lambda t, a, b, p, keepdim: t.nn.functional.pairwise_distance(a, b, p, keepdim=keepdim)))


# ----------------------------------------------------------------------------- losses
_REDS = ["mean", "sum", "none"]


def _np_reduce(loss, reduction):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def _bce_sample(d, dtype):
    shape = d.shape(1, 2)
    x = np.asarray(d.floats(shape, "unit", dtype=dtype) * dtype(0.5) + dtype(0.5))      # in [0.05, 0.95]
    y = np.asarray(d.floats(shape, "unit", dtype=dtype) * dtype(0.5) + dtype(0.5))
    kw = {"reduction": d.choice(_REDS)}
    if d.boolean():
        kw["weight"] = d.floats(shape[-1:], "positive", dtype=dtype)
    return Sample([x, y], kw)


def _np_bce(x, y, reduction, weight=None):
    loss = -(y * np.log(x) + (1 - y) * np.log(1 - x)) * (1 if weight is None else weight)
    return _np_reduce(loss, reduction)


register(OpSpec("binary_cross_entropy", lambda x, y, **kw: _loss.binary_cross_entropy(x, y, **kw), _np_bce,
                _bce_sample, lambda t, x, y, reduction, weight=None: t.nn.functional.binary_cross_entropy(
                    x, y, None if weight is None else t.as_tensor(weight), reduction=reduction)))


def _kl_sample(d, dtype):
    shape = d.shape(1, 3)
    log_target = d.boolean()
    x = d.floats(shape, dtype=dtype)
    y = d.floats(shape, "real" if log_target else "positive", dtype=dtype)
    return Sample([x, y], {"reduction": d.choice(_REDS + ["batchmean"]), "log_target": log_target})


def _np_kl(x, y, reduction, log_target):
    loss = np.exp(y) * (y - x) if log_target else y * (np.log(y) - x)
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return _np_reduce(loss, reduction)


register(OpSpec("kl_div", lambda x, y, **kw: _loss.kl_div(x, y, **kw), _np_kl, _kl_sample,
                lambda t, x, y, **kw: t.nn.functional.kl_div(x, y, **kw)))


def _robust_sample(param):
    def sample(d, dtype):
        shape = d.shape(0, 2)
        x = d.floats(shape, "grid", dtype=dtype)
        y = d.floats(shape, "offgrid", dtype=dtype)     # x - y: 1/16 + k/8, never 0 and never +-delta
        return Sample([x, y], {"reduction": d.choice(_REDS), param: d.choice([1.0, 0.5, 1.5])})
    return sample


def _np_huber(x, y, reduction, delta):
    d = np.abs(x - y)
    return _np_reduce(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def _np_smooth_l1(x, y, reduction, beta):
    d = np.abs(x - y)
    return _np_reduce(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


register(OpSpec("huber_loss", lambda x, y, **kw: _loss.huber_loss(x, y, **kw), _np_huber, _robust_sample("delta"),
                lambda t, x, y, **kw: t.nn.functional.huber_loss(x, y, **kw)))
register(OpSpec("smooth_l1_loss", lambda x, y, **kw: _loss.smooth_l1_loss(x, y, **kw), _np_smooth_l1,
                _robust_sample("beta"), lambda t, x, y, **kw: t.nn.functional.smooth_l1_loss(x, y, **kw)))


def _ranking_sample(d, dtype):
    shape = d.shape(0, 2)
    a, b = d.floats(shape, "grid", dtype=dtype), d.floats(shape, "offgrid", dtype=dtype)
    t = np.asarray(np.where(d.mask(shape), 1.0, -1.0).astype(dtype))
    return Sample([a, b, t], {"margin": d.choice([0.0, 0.5]), "reduction": d.choice(_REDS)}, frozenset({2}))


def _np_ranking(a, b, t, margin, reduction):
    return _np_reduce(np.maximum(0, -t * (a - b) + margin), reduction)


register(OpSpec("margin_ranking_loss", lambda a, b, t, **kw: _loss.margin_ranking_loss(a, b, t, **kw), _np_ranking,
                _ranking_sample, lambda t_, a, b, t, **kw: t_.nn.functional.margin_ranking_loss(a, b, t, **kw)))


def _triplet_sample(d, dtype):
    shape = d.shape(1, 2, min_side=2)
    a = d.floats(shape, dtype=dtype)
    p = np.asarray(a - d.floats(shape, "nonzero", dtype=dtype) * dtype(0.5))
    n = np.asarray(a - d.floats(shape, "nonzero", dtype=dtype))
    return Sample([a, p, n], {"margin": d.choice([1.0, 0.5]), "p": d.choice([2.0, 1.0]), "swap": d.boolean(),
                              "reduction": d.choice(_REDS)})


def _np_triplet(a, p, n, margin, p_, swap, reduction):
    dist = (lambda u, v: _np_norm(u - v + 1e-6, p_, -1))
    d_neg = np.minimum(dist(a, n), dist(p, n)) if swap else dist(a, n)
    return _np_reduce(np.maximum(dist(a, p) - d_neg + margin, 0), reduction)


register(OpSpec("triplet_margin_loss",
                lambda a, pos, n, margin, p, swap, reduction: _loss.triplet_margin_loss(
                    a, pos, n, margin, p, swap=swap, reduction=reduction),
                lambda a, pos, n, margin, p, swap, reduction: _np_triplet(a, pos, n, margin, p, swap, reduction),
                _triplet_sample,
                lambda t, a, pos, n, **kw: t.nn.functional.triplet_margin_loss(a, pos, n, **kw)))


def _poisson_sample(d, dtype):
    shape = d.shape(0, 2)
    log_input = d.boolean()
    x = d.floats(shape, "real" if log_input else "positive", dtype=dtype)
    y = np.asarray(d.floats(shape, "offgrid", dtype=dtype) + dtype(2))       # around 1 but never 1: 1/16 + k/8
    return Sample([x, y], {"log_input": log_input, "full": d.boolean(), "reduction": d.choice(_REDS)})


def _np_poisson(x, y, log_input, full, reduction):
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + 1e-8)
    if full:
        safe = np.where(y > 1, y, 1.0)
        loss = loss + np.where(y > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0)
    return _np_reduce(loss, reduction)


register(OpSpec("poisson_nll_loss", lambda x, y, **kw: _loss.poisson_nll_loss(x, y, **kw), _np_poisson,
                _poisson_sample, lambda t, x, y, **kw: t.nn.functional.poisson_nll_loss(x, y, **kw)))


# ----------------------------------------------------------------------------- dropout1d
def _dropout1d_sample(d, dtype):
    """A fixed mask with one keep decision per (N, C) channel, as F.dropout1d draws them."""
    shape = (d.integers(1, 2), d.integers(1, 3), d.integers(1, 4))
    p = d.choice([0.25, 0.5])
    keep = d.mask(shape[:2] + (1,))
    return Sample([d.floats(shape, dtype=dtype), (keep / (1 - p)).astype(dtype)], constant=frozenset({1}))


register(OpSpec("dropout1d", lambda x, mask: _dropout.Dropout.apply(x, mask), lambda x, mask: x * mask,
                _dropout1d_sample, lambda t, x, mask: x * mask))
