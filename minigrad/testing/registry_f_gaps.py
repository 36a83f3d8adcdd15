"""Registry entries for the remaining ``nn.functional`` surface: the per-element ``weight`` of
mse_loss, l1_loss and huber_loss (PyTorch 2.13's), and pdist."""
from __future__ import annotations

import numpy as np

from ..ops import linalg_extra as _linalg
from ..ops import loss as _loss
from ..ops import loss_extra as _loss_extra
from .registry import OpSpec, Sample, register

_REDS = ["mean", "sum", "none"]


def _weighted_sample(x_domain, y_domain):
    """input, target and a positive weight of one shape (the weight differentiable too)."""
    def sample(d, dtype):
        shape = d.shape(0, 2)
        return Sample([d.floats(shape, x_domain, dtype=dtype), d.floats(shape, y_domain, dtype=dtype),
                       d.floats(shape, "positive", dtype=dtype)], {"reduction": d.choice(_REDS)})
    return sample


def _np_weighted(elementwise, mean_by_weight=True):
    def ref(x, y, w, reduction):
        loss = elementwise(x - y) * w
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        return loss.sum() / w.sum() if mean_by_weight else loss.mean()
    return ref


def _torch_weighted(name):
    return lambda t, x, y, w, reduction: getattr(t.nn.functional, name)(x, y, reduction=reduction, weight=w)


register(OpSpec("mse_loss_weighted", lambda x, y, w, reduction: _loss.mse_loss(x, y, reduction=reduction, weight=w),
                _np_weighted(np.square), _weighted_sample("real", "real"), _torch_weighted("mse_loss"),
                covers="mse_loss"))
register(OpSpec("l1_loss_weighted", lambda x, y, w, reduction: _loss.l1_loss(x, y, reduction=reduction, weight=w),
                _np_weighted(np.abs), _weighted_sample("grid", "offgrid"), _torch_weighted("l1_loss"),
                covers="l1_loss"))
register(OpSpec("huber_loss_weighted",
                lambda x, y, w, reduction: _loss_extra.huber_loss(x, y, reduction=reduction, weight=w),
                # x - y is 1/16 + k/8: never 0 and never +-1 (the default delta)
                _np_weighted(lambda d: np.where(np.abs(d) < 1.0, 0.5 * d * d, np.abs(d) - 0.5), mean_by_weight=False),
                _weighted_sample("grid", "offgrid"), _torch_weighted("huber_loss"), covers="huber_loss"))


def _pdist_sample(d, dtype):
    n, m = d.integers(1, 5), d.integers(1, 4)
    # distinct rows, well apart: every pair's difference is away from the norm's kink at 0; a ramp
    # across the columns that grows with the row keeps a pair's column differences apart, so the
    # inf-norm's max has no tie even where the drawn values repeat (all zeros, say)
    rows = np.arange(n, dtype=dtype)[:, None]
    ramp = rows * (np.arange(m, dtype=dtype)[None, :] + dtype(1.0)) * dtype(0.25 / m)
    x = d.floats((n, m), dtype=dtype) + rows * dtype(3.0) + ramp
    return Sample([x], {"p": d.choice([2.0, 1.0, 3.0, float("inf")])})


def _np_pdist(x, p):
    i, j = np.triu_indices(x.shape[0], 1)
    diff = np.abs(x[i] - x[j])
    if p == float("inf"):
        return diff.max(axis=1) if diff.size else np.zeros(len(i), dtype=x.dtype)
    return (diff ** p).sum(axis=1) ** (1 / p)


def _torch_pdist(t, x, p):
    """PyTorch's pdist by its definition: its own pdist has no second derivative (tests/test_f_gaps.py
    checks the first order against ``F.pdist`` itself)."""
    i, j = t.triu_indices(x.shape[0], x.shape[0], 1)
    return t.linalg.vector_norm(x[i] - x[j], p, dim=-1)


register(OpSpec("pdist", lambda x, p: _linalg.pdist(x, p), _np_pdist, _pdist_sample, _torch_pdist))
