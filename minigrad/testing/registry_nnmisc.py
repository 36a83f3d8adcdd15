"""Registry entries for the last everyday ``nn.functional`` surface of issue 12: the margin,
embedding, Gaussian and CTC losses, hardshrink / softshrink / rrelu / gumbel_softmax /
bilinear, the alpha dropouts and dropout3d, embedding_bag.  NumPy references are written from
the formulas (CTC's by enumerating every alignment).  Samples keep the hinges away from their
kinks: the two sides of a hinge are drawn one on the 1/8 grid and one off it."""
from __future__ import annotations

import itertools

import numpy as np

from ..ops import activation_misc as _act
from ..ops import ctc as _ctc
from ..ops import dropout_extra as _drop
from ..ops import embedding_bag as _bag
from ..ops import loss_misc as _loss
from ..ops.dropout import Dropout
from .registry import OpSpec, Sample, register

_REDS = ["mean", "sum", "none"]


def _np_reduce(loss, reduction):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def _signs(d, shape, dtype):
    return np.asarray(np.where(d.mask(shape), 1.0, -1.0).astype(dtype))


def _np_softplus(x):
    return np.logaddexp(0, x)


# ----------------------------------------------------------------------------- embedding losses
def _np_cos(a, b):
    return (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))


def _cosine_embedding_sample(d, dtype):
    shape = d.choice([(d.integers(1, 4), d.integers(1, 4)), (d.integers(1, 4),)])
    a, b = d.floats(shape, "nonzero", dtype=dtype), d.floats(shape, "nonzero", dtype=dtype)
    y = _signs(d, shape[:-1], dtype)
    margin = d.choice([0.0, 0.5, -0.5])
    near = np.abs(_np_cos(a.astype(np.float64), b.astype(np.float64)) - margin) < 0.05
    y = np.asarray(np.where(near, 1.0, y).astype(dtype))        # max(0, cos - margin) away from its kink
    return Sample([a, b, y], {"margin": margin, "reduction": d.choice(_REDS)}, frozenset({2}))


def _np_cosine_embedding(a, b, y, margin, reduction):
    cos = _np_cos(a, b)
    return _np_reduce(np.where(y == 1, 1 - cos, np.maximum(cos - margin, 0)), reduction)


register(OpSpec("cosine_embedding_loss", lambda a, b, y, **kw: _loss.cosine_embedding_loss(a, b, y, **kw),
                _np_cosine_embedding, _cosine_embedding_sample,
                lambda t, a, b, y, **kw: t.nn.functional.cosine_embedding_loss(a, b, y, **kw)))


def _hinge_embedding_sample(d, dtype):
    shape = d.shape(0, 3)
    return Sample([d.floats(shape, "offgrid", dtype=dtype), _signs(d, shape, dtype)],
                  {"margin": d.choice([1.0, 0.5]), "reduction": d.choice(_REDS)}, frozenset({1}))


def _np_hinge_embedding(x, y, margin, reduction):
    return _np_reduce(np.where(y == 1, x, np.maximum(margin - x, 0)), reduction)


register(OpSpec("hinge_embedding_loss", lambda x, y, **kw: _loss.hinge_embedding_loss(x, y, **kw),
                _np_hinge_embedding, _hinge_embedding_sample,
                lambda t, x, y, **kw: t.nn.functional.hinge_embedding_loss(x, y, **kw)))


def _soft_margin_sample(d, dtype):
    shape = d.shape(0, 3)
    return Sample([d.floats(shape, dtype=dtype), _signs(d, shape, dtype)], {"reduction": d.choice(_REDS)},
                  frozenset({1}))      # PyTorch does not differentiate by the target


register(OpSpec("soft_margin_loss", lambda x, y, **kw: _loss.soft_margin_loss(x, y, **kw),
                lambda x, y, reduction: _np_reduce(_np_softplus(-y * x), reduction), _soft_margin_sample,
                lambda t, x, y, **kw: t.nn.functional.soft_margin_loss(x, y, **kw)))


# ----------------------------------------------------------------------------- multi-class margins
def _class_rows(d):
    return d.choice([(d.integers(1, 3), d.integers(2, 4)), (d.integers(2, 4),)])


def _multi_margin_sample(d, dtype):
    shape = _class_rows(d)
    c = shape[-1]
    y = np.array([d.integers(0, c - 1) for _ in range(int(np.prod(shape[:-1])))], dtype=np.int64).reshape(shape[:-1])
    onehot = np.arange(c) == y[..., None]
    x = np.where(onehot, d.floats(shape, "offgrid", dtype=dtype), d.floats(shape, "grid", dtype=dtype))
    kw = {"p": d.choice([1, 2]), "margin": d.choice([1.0, 0.5]), "reduction": d.choice(_REDS)}
    if d.boolean():
        kw["weight"] = d.floats((c,), "positive", dtype=dtype)
    return Sample([np.asarray(x.astype(dtype)), y], kw)


def _np_multi_margin(x, y, p, margin, reduction, weight=None):
    c = x.shape[-1]
    picked = np.take_along_axis(x, y[..., None], -1)
    h = np.maximum(margin - picked + x, 0) ** p
    h = np.where(np.arange(c) == y[..., None], 0, h)
    if weight is not None:
        h = h * weight[y][..., None]
    return _np_reduce(h.sum(-1) / c, reduction)


def _torch_multi_margin(t, x, y, p, margin, reduction, weight=None):
    """The formula in torch ops: PyTorch's multi_margin_loss has no second derivative (its first-order
    gradient is compared with F.multi_margin_loss in tests/test_nn_misc.py)."""
    c = x.shape[-1]
    h = t.relu(margin - x.gather(-1, y[..., None]) + x) ** p
    h = h * (t.arange(c) != y[..., None])
    if weight is not None:
        h = h * t.as_tensor(weight)[y][..., None]
    loss = h.sum(-1) / c
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


register(OpSpec("multi_margin_loss", lambda x, y, **kw: _loss.multi_margin_loss(x, y, **kw), _np_multi_margin,
                _multi_margin_sample, _torch_multi_margin))


def _multilabel_margin_sample(d, dtype):
    shape = _class_rows(d)
    c = shape[-1]
    rows, listed = [], []
    for _ in range(int(np.prod(shape[:-1]))):
        k = d.integers(0, c)
        classes = d.permutation(c)[:k]
        if k and d.boolean():
            classes.append(classes[0])                          # a repeated class counts twice, as PyTorch's
        row = (classes + [-1] * c)[:c]
        if len(classes) < c and d.boolean():
            row[-1] = d.integers(0, c - 1)                      # after the first -1: ignored
        rows.append(row)
        listed.append(np.isin(np.arange(c), classes))
    t = np.array(rows, dtype=np.int64).reshape(shape)
    is_listed = np.array(listed).reshape(shape)
    x = np.where(is_listed, d.floats(shape, "offgrid", dtype=dtype), d.floats(shape, "grid", dtype=dtype))
    return Sample([np.asarray(x.astype(dtype)), t], {"reduction": d.choice(_REDS)})


def _np_multilabel_margin(x, t, reduction):
    c = x.shape[-1]
    xs, ts = x.reshape(-1, c), t.reshape(-1, c)
    out = []
    for row, tr in zip(xs, ts):
        labels = list(itertools.takewhile(lambda v: v != -1, tr))
        others = [i for i in range(c) if i not in labels]
        out.append(sum(max(0.0, 1 - (row[j] - row[i])) for j in labels for i in others) / c)
    return _np_reduce(np.array(out, dtype=x.dtype).reshape(x.shape[:-1]), reduction)


def _torch_multilabel_margin(t, x, target, reduction):
    """The formula in torch ops (PyTorch's kernel has no second derivative; test_nn_misc.py compares
    its first order)."""
    c = x.shape[-1]
    xs, ts = x.reshape(-1, c), target.reshape(-1, c)
    rows = []
    for row, tr in zip(xs, ts.tolist()):
        labels = list(itertools.takewhile(lambda v: v != -1, tr))
        others = [i for i in range(c) if i not in labels]
        pairs = [t.relu(1 - (row[j] - row[i])) for j in labels for i in others]
        rows.append(t.stack(pairs).sum() / c if pairs else row.sum() * 0)
    loss = t.stack(rows).reshape(x.shape[:-1])
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


register(OpSpec("multilabel_margin_loss", lambda x, t, **kw: _loss.multilabel_margin_loss(x, t, **kw),
                _np_multilabel_margin, _multilabel_margin_sample, _torch_multilabel_margin))


def _multilabel_soft_sample(d, dtype):
    shape = d.shape(1, 3)
    args = [d.floats(shape, dtype=dtype), np.asarray(d.floats(shape, "unit", dtype=dtype) * dtype(0.5) + dtype(0.5))]
    if d.boolean():
        args.append(d.floats(shape[-1:], "positive", dtype=dtype))
    return Sample(args, {"reduction": d.choice(_REDS)})


def _np_multilabel_soft(x, y, weight=None, *, reduction):
    loss = y * _np_softplus(-x) + (1 - y) * _np_softplus(x)
    if weight is not None:
        loss = loss * weight
    return _np_reduce(loss.sum(-1) / x.shape[-1], reduction)


register(OpSpec("multilabel_soft_margin_loss",
                lambda x, y, w=None, *, reduction: _loss.multilabel_soft_margin_loss(x, y, w, reduction=reduction),
                _np_multilabel_soft, _multilabel_soft_sample,
                lambda t, x, y, w=None, *, reduction: t.nn.functional.multilabel_soft_margin_loss(
                    x, y, w, reduction=reduction)))


# ----------------------------------------------------------------------------- Gaussian
def _gaussian_sample(d, dtype):
    shape = d.shape(1, 3, min_side=2)
    var_shape = d.choice([shape, shape[:-1], shape[:-1] + (1,), (1,) + shape[1:]])
    return Sample([d.floats(shape, dtype=dtype), d.floats(shape, dtype=dtype), d.floats(var_shape, "positive",
                                                                                        dtype=dtype)],
                  {"full": d.boolean(), "reduction": d.choice(_REDS)})


def _np_gaussian(x, y, v, full, reduction):
    if v.shape != x.shape and v.shape == x.shape[:-1]:
        v = v[..., None]
    v = np.maximum(v, 1e-6)
    loss = 0.5 * (np.log(v) + (x - y) ** 2 / v) + (0.5 * np.log(2 * np.pi) if full else 0)
    return _np_reduce(loss, reduction)


register(OpSpec("gaussian_nll_loss", lambda x, y, v, **kw: _loss.gaussian_nll_loss(x, y, v, **kw), _np_gaussian,
                _gaussian_sample, lambda t, x, y, v, **kw: t.nn.functional.gaussian_nll_loss(x, y, v, **kw)))


# ----------------------------------------------------------------------------- triplets with a distance
def _np_pairwise(a, b):
    return np.sqrt(((a - b + 1e-6) ** 2).sum(-1))


def _np_cosine_distance(a, b):
    return 1 - (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-8)


_DISTANCES = {"pairwise": _np_pairwise, "cosine": _np_cosine_distance}


def _triplet_distance_sample(d, dtype):
    shape = (d.integers(1, 3), d.integers(2, 4))
    a = d.floats(shape, "nonzero", dtype=dtype)
    p = np.asarray(a - d.floats(shape, "nonzero", dtype=dtype) * dtype(0.5))
    n = np.asarray(a - d.floats(shape, "nonzero", dtype=dtype))
    # rows near 0 are where the cosine distance is singular (hypothesis found p = a - 0.5 v = 0): move them off it
    p, n = (np.where(np.linalg.norm(v, axis=-1, keepdims=True) < 0.5, v + dtype(1.0), v).astype(dtype) for v in (p, n))
    dist = d.choice(["pairwise", "cosine"])
    f = _DISTANCES[dist]
    a64, p64, n64 = (v.astype(np.float64) for v in (a, p, n))
    swap = d.boolean() and bool((np.abs(f(a64, n64) - f(p64, n64)) > 0.05).all())      # no tie in the min
    d_neg = np.minimum(f(a64, n64), f(p64, n64)) if swap else f(a64, n64)
    gap = f(a64, p64) - d_neg
    margins = [m for m in (1.0, 0.5, 2.0, 0.25, 3.0) if (np.abs(m + gap) > 0.05).all()]
    return Sample([a, p, n], {"dist": dist, "margin": margins[0] if margins else 1.0, "swap": swap and bool(margins),
                              "reduction": d.choice(_REDS)})


def _np_triplet_distance(a, p, n, dist, margin, swap, reduction):
    f = _DISTANCES[dist]
    d_neg = np.minimum(f(a, n), f(p, n)) if swap else f(a, n)
    return _np_reduce(np.maximum(margin + f(a, p) - d_neg, 0), reduction)


def _mg_triplet_distance(a, p, n, dist, **kw):
    from ..ops.distance import cosine_similarity
    fn = None if dist == "pairwise" else (lambda u, v: 1 - cosine_similarity(u, v, -1))
    return _loss.triplet_margin_with_distance_loss(a, p, n, distance_function=fn, **kw)


def _torch_triplet_distance(t, a, p, n, dist, **kw):
    fn = None if dist == "pairwise" else (lambda u, v: 1 - t.nn.functional.cosine_similarity(u, v, -1))
    return t.nn.functional.triplet_margin_with_distance_loss(a, p, n, distance_function=fn, **kw)


register(OpSpec("triplet_margin_with_distance_loss", _mg_triplet_distance, _np_triplet_distance,
                _triplet_distance_sample, _torch_triplet_distance))


# ----------------------------------------------------------------------------- CTC
def _ctc_sample(d, dtype, normalized=True):
    """Short sequences (the reference enumerates all C^T alignments); every target alignable."""
    T, N, C = d.integers(1, 4), d.integers(1, 2), d.integers(2, 3)
    blank = d.integers(0, C - 1)
    labels = [c for c in range(C) if c != blank]
    targets, tl, il = np.zeros((N, T), dtype=np.int64), [], []
    for n in range(N):
        length = d.integers(1, T)
        L = d.integers(0, T)
        seq = [d.choice(labels) for _ in range(L)]
        while seq and len(seq) + sum(a == b for a, b in zip(seq, seq[1:])) > length:
            seq.pop()
        targets[n, :len(seq)] = seq
        tl.append(len(seq))
        il.append(length)
    x = d.floats((T, N, C), dtype=dtype)
    return Sample([x, targets, np.array(il, dtype=np.int64), np.array(tl, dtype=np.int64)],
                  {"blank": blank, "reduction": d.choice(_REDS), "zero_infinity": d.boolean()})


def _np_log_softmax(x):
    return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)


def _np_ctc(lp, targets, il, tl, blank, reduction, zero_infinity):
    """-log of the summed probability of every alignment that collapses to the target."""
    T, N, C = lp.shape
    losses = []
    for n in range(N):
        want = list(targets[n, :tl[n]])
        total = -np.inf
        for path in itertools.product(range(C), repeat=int(il[n])):
            merged = [c for k, c in enumerate(path) if (k == 0 or c != path[k - 1]) and c != blank]
            if merged == want:
                total = np.logaddexp(total, sum(lp[t, n, c] for t, c in enumerate(path)))
        losses.append(0.0 if zero_infinity and total == -np.inf else -total)
    losses = np.array(losses, dtype=lp.dtype)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else (losses / np.maximum(tl, 1)).mean()


register(OpSpec("ctc_loss", lambda x, *rest, **kw: _ctc.ctc_loss(x.log_softmax(-1), *rest, **kw),
                lambda x, *rest, **kw: _np_ctc(_np_log_softmax(x), *rest, **kw), _ctc_sample))
# on log-probabilities that do not sum to 1: the true gradient by log_probs (PyTorch's kernel returns the
# gradient by the logits of a log_softmax in front instead; test_nn_misc.py compares the two ways)
register(OpSpec("ctc_loss_unnormalized", _ctc.ctc_loss, _np_ctc, _ctc_sample, covers="ctc_loss"))


# ----------------------------------------------------------------------------- activations
def _shrink_sample(d, dtype):
    return Sample([d.floats(d.shape(), "offgrid", dtype=dtype)], {"lambd": d.choice([0.5, 0.25, 1.0])})


register(OpSpec("hardshrink", lambda x, lambd: _act.hardshrink(x, lambd),
                lambda x, lambd: np.where(np.abs(x) > lambd, x, 0), _shrink_sample,
                lambda t, x, lambd: t.nn.functional.hardshrink(x, lambd)))
register(OpSpec("softshrink", lambda x, lambd: _act.softshrink(x, lambd),
                lambda x, lambd: np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)), _shrink_sample,
                lambda t, x, lambd: t.nn.functional.softshrink(x, lambd)))


def _rrelu_sample(d, dtype):
    return Sample([d.floats(d.shape(), "nonzero", dtype=dtype)],
                  d.choice([{"lower": 0.125, "upper": 1 / 3}, {"lower": 0.1, "upper": 0.5}]))


register(OpSpec("rrelu", lambda x, **kw: _act.rrelu(x, **kw),
                lambda x, lower, upper: np.where(x >= 0, x, x * (lower + upper) / 2), _rrelu_sample,
                lambda t, x, **kw: t.nn.functional.rrelu(x, **kw)))


def _rrelu_train_sample(d, dtype):
    """Training mode with the slopes given (one per element, as F.rrelu draws them)."""
    shape = d.shape()
    slope = np.asarray(d.floats(shape, "unit", dtype=dtype) * dtype(0.1) + dtype(0.2))     # in [0.11, 0.29]
    return Sample([d.floats(shape, "nonzero", dtype=dtype), slope], constant=frozenset({1}))


register(OpSpec("rrelu_training", lambda x, a: _act.LeakyBySlope.apply(x, a.detach()),
                lambda x, a: np.where(x >= 0, x, a * x), _rrelu_train_sample,
                lambda t, x, a: t.where(x >= 0, x, a * x), covers="rrelu"))


def _gumbel_sample(d, dtype):
    shape = d.shape(1, 3, min_side=2)
    dim = d.integers(-len(shape), len(shape) - 1)
    x, g = d.floats(shape, dtype=dtype), d.floats(shape, dtype=dtype)
    tau = d.choice([1.0, 0.5, 2.0])
    hard = False      # hard=True: a one-hot forward with the soft gradient, which finite differences cannot check
    return Sample([x, g], {"tau": tau, "hard": hard, "dim": dim}, frozenset({1}))


def _np_gumbel(x, g, tau, hard, dim):
    z = (x + g) / tau
    e = np.exp(z - z.max(axis=dim, keepdims=True))
    y = e / e.sum(axis=dim, keepdims=True)
    if hard:
        y = (np.arange(x.shape[dim]).reshape([-1 if k == dim % x.ndim else 1 for k in range(x.ndim)])
             == np.expand_dims(y.argmax(axis=dim), dim)).astype(x.dtype)
    return y


def _torch_gumbel(t, x, g, tau, hard, dim):
    y = t.softmax((x + g) / tau, dim)
    if not hard:
        return y
    one_hot = t.zeros_like(y).scatter_(dim, y.argmax(dim, keepdim=True), 1.0)
    return one_hot - y.detach() + y


register(OpSpec("gumbel_softmax", lambda x, g, **kw: _act.gumbel_softmax_with_noise(x, g, **kw), _np_gumbel,
                _gumbel_sample, _torch_gumbel))


def _bilinear_sample(d, dtype):
    batch = d.shape(0, 2, max_side=3)
    i1, i2, o = d.integers(1, 3), d.integers(1, 3), d.integers(1, 3)
    args = [d.floats(batch + (i1,), dtype=dtype), d.floats(batch + (i2,), dtype=dtype),
            d.floats((o, i1, i2), dtype=dtype)]
    if d.boolean():
        args.append(d.floats((o,), dtype=dtype))
    if not batch:                                     # PyTorch's bilinear needs a batch dim
        args[0], args[1] = args[0][None], args[1][None]
    return Sample(args)


register(OpSpec("bilinear", _act.bilinear,
                lambda a, b, w, bias=None: np.einsum("...i,oij,...j->...o", a, w, b) + (0 if bias is None else bias),
                _bilinear_sample, lambda t, a, b, w, bias=None: t.nn.functional.bilinear(a, b, w, bias)))


# ----------------------------------------------------------------------------- dropout (masks given)
def _alpha_sample(feature):
    def sample(d, dtype):
        shape = (d.integers(1, 3), d.integers(1, 3)) + d.shape(0, 2, max_side=3)
        p = d.choice([0.2, 0.5])
        keep = d.mask(shape[:2] + (1,) * (len(shape) - 2) if feature else shape)
        scale, shift = _drop.alpha_scale_shift(keep, p, dtype)
        return Sample([d.floats(shape, dtype=dtype), np.asarray(scale), np.asarray(shift)], constant=frozenset({1, 2}))
    return sample


def _masked_affine(x, scale, shift):
    return _drop.MaskedAffine.apply(x, scale.detach(), shift.detach())


register(OpSpec("alpha_dropout", _masked_affine, lambda x, s, b: x * s + b, _alpha_sample(False),
                lambda t, x, s, b: x * s + b))
register(OpSpec("feature_alpha_dropout", _masked_affine, lambda x, s, b: x * s + b, _alpha_sample(True),
                lambda t, x, s, b: x * s + b))


def _dropout3d_sample(d, dtype):
    shape = (d.integers(1, 2), d.integers(1, 3)) + (d.integers(1, 2),) * 3
    p = d.choice([0.25, 0.5])
    keep = d.mask(shape[:2] + (1, 1, 1))
    return Sample([d.floats(shape, dtype=dtype), (keep / (1 - p)).astype(dtype)], constant=frozenset({1}))


register(OpSpec("dropout3d", lambda x, mask: Dropout.apply(x, mask.detach()), lambda x, mask: x * mask,
                _dropout3d_sample, lambda t, x, mask: x * mask))


# ----------------------------------------------------------------------------- embedding_bag
def _bag_sample(d, dtype):
    V, E = d.integers(2, 5), d.integers(1, 3)
    mode = d.choice(["sum", "mean", "max"])
    w = np.asarray(d.floats((V, E), unique=True, dtype=dtype))            # no ties for max
    kw = {"mode": mode, "padding_idx": d.choice([None, 0, -1])}
    if d.boolean():                                                       # fixed-length bags
        bags, length = d.integers(1, 3), d.integers(1, 3)
        idx = np.array([[d.integers(0, V - 1) for _ in range(length)] for _ in range(bags)], dtype=np.int64)
        args = [idx, w, None]
    else:
        m = d.integers(0, 5)
        idx = np.array([d.integers(0, V - 1) for _ in range(m)], dtype=np.int64)
        cuts = sorted(d.integers(0, m) for _ in range(d.integers(1, 3)))
        offsets = np.array([0] + cuts, dtype=np.int64)
        kw["include_last_offset"] = d.boolean()
        if kw["include_last_offset"]:
            offsets = np.append(offsets, m)
        args = [idx, w, offsets]
    if mode == "sum" and d.boolean():
        args.append(d.floats(idx.shape, dtype=dtype))
    return Sample(args, kw)


def _np_bag(idx, w, offsets=None, psw=None, *, mode, padding_idx, include_last_offset=False):
    V = w.shape[0]
    pad = None if padding_idx is None else padding_idx % V
    if idx.ndim == 2:
        bags = [(list(r), None if psw is None else list(p)) for r, p in zip(idx, psw if psw is not None else idx)]
    else:
        starts = list(offsets[:-1] if include_last_offset else offsets)
        ends = starts[1:] + [len(idx)]
        bags = [(list(idx[s:e]), None if psw is None else list(psw[s:e])) for s, e in zip(starts, ends)]
    out = np.zeros((len(bags), w.shape[1]), dtype=w.dtype)
    for b, (rows, weights) in enumerate(bags):
        keep = [k for k, r in enumerate(rows) if r != pad]
        if not keep:
            continue
        vals = np.stack([w[rows[k]] * (1 if weights is None else weights[k]) for k in keep])
        out[b] = vals.max(0) if mode == "max" else vals.sum(0) / (len(keep) if mode == "mean" else 1)
    return out


def _mg_bag(idx, w, offsets=None, psw=None, **kw):
    return _bag.embedding_bag(idx, w, offsets, per_sample_weights=psw, **kw)


def _torch_bag(t, idx, w, offsets=None, psw=None, *, mode, padding_idx, include_last_offset=False):
    """Bag by bag in torch ops (PyTorch's embedding_bag has no second derivative; test_nn_misc.py
    compares its first order)."""
    pad = None if padding_idx is None else padding_idx % w.shape[0]
    if idx.ndim == 2:
        bounds = [(b * idx.shape[1], (b + 1) * idx.shape[1]) for b in range(idx.shape[0])]
        idx, psw = idx.reshape(-1), None if psw is None else psw.reshape(-1)
    else:
        starts = offsets.tolist()[:-1] if include_last_offset else offsets.tolist()
        bounds = list(zip(starts, starts[1:] + [len(idx)]))
    out = []
    for s, e in bounds:
        keep = [k for k in range(s, e) if idx[k].item() != pad]
        if not keep:
            out.append(w[0] * 0)
            continue
        vals = w[idx[keep]] * (1 if psw is None else psw[keep][:, None])
        out.append(vals.max(0).values if mode == "max" else vals.sum(0) / (len(keep) if mode == "mean" else 1))
    return t.stack(out)


register(OpSpec("embedding_bag", _mg_bag, _np_bag, _bag_sample, _torch_bag))
