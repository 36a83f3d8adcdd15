"""Connectionist temporal classification (CTC): the negative log-likelihood of a label sequence
under every alignment of it to the T frames of the input, summed by dynamic programming.

Shape legend: log_probs lp (T, N, C) (T frames, N sequences, C classes, one of them the blank
b); targets (N, S) padded, or the N target sequences concatenated (1-D); input_lengths T_n;
target_lengths L_n.

An alignment emits one class per frame; merging repeats and then dropping blanks must give the
target l = l_1 ... l_L.  Interleave blanks, l' = b l_1 b l_2 ... b l_L b (length 2L + 1); an
alignment is then a path through the states s of l' that at each frame stays (s), steps (s + 1)
or, onto a label different from the one two back, skips a blank (s + 2).  In log space, with
lse the log-sum-exp:

    alpha_0(0) = lp[0, b],   alpha_0(1) = lp[0, l_1]                            (others -inf)
    alpha_t(s) = lp[t, l'_s] + lse(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2) if l'_s != b, l'_s != l'_{s-2})
    beta_{T-1}(2L) = lp[T-1, b],   beta_{T-1}(2L-1) = lp[T-1, l_L]
    beta_t(s)  = lp[t, l'_s] + lse(beta_{t+1}(s), beta_{t+1}(s+1), beta_{t+1}(s+2) if l'_s != b, l'_s != l'_{s+2})
    loss = -log p = -lse(alpha_{T-1}(2L), alpha_{T-1}(2L-1))

alpha_t(s) + beta_t(s) - lp[t, l'_s] is the log of the summed probability of the alignments in
state s at frame t (both alpha and beta count frame t's factor, so subtract it once).  Every
path probability is exp(sum_t lp[t, pi_t]), so its derivative by lp[t, c] is itself when
pi_t = c, and

    d loss / d lp[t, c] = -sum_{s: l'_s = c} exp(alpha_t(s) + beta_t(s) - lp[t, l'_s] + loss)

minus the posterior probability that frame t emits c (0 for t >= T_n).  This is the true
gradient by ``log_probs``; PyTorch's kernel instead returns exp(lp) minus it, the gradient by
the logits of a log_softmax in front (the two agree once they pass through log_softmax, which
is how CTC is used: the posteriors sum to 1 over c).  ``zero_infinity`` gives impossible
alignments (T_n too short) loss 0 and gradient 0.

The recursions run on the host in ``kernels/ctc.py`` (Numba, one sequence per thread; NumPy
references beside them).  Second order: the Function's ``composite`` runs the alpha recursion
with differentiable ops (a large negative number standing for -inf).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._kernels import kernels
from ._args import as_tensor, float_operand
from .reduce import logsumexp
from .shape import cat, stack

__all__ = ["ctc_loss"]

_NEG = -1e30          # -inf in the composite: exp(_NEG - m) is 0, and lse of _NEG values stays finite


def _extended(targets, target_lengths, blank, xp):
    """l' per sequence, (N, 2 S + 1), the states past 2 L_n + 1 invalid; and which states may skip."""
    n, s = targets.shape
    ext = xp.full((n, 2 * s + 1), blank, dtype=np.int64)
    ext[:, 1::2] = targets
    valid = xp.arange(2 * s + 1)[None, :] < (2 * target_lengths + 1)[:, None]
    skip = xp.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, valid, skip


def _emissions(lp, ext, valid, xp):
    """lp[t, n, l'_{n, s}] (T, N, S'), -inf at invalid states."""
    em = lp[:, xp.arange(ext.shape[0])[:, None], ext]
    return xp.ascontiguousarray(xp.where(valid[None], em, -xp.inf))


def _host(a):
    """A NumPy copy of a device array (the recursion runs on the host)."""
    return a if isinstance(a, np.ndarray) else backend.to_device(a, backend.device("cpu"))


def _final(alpha, input_lengths, target_lengths):
    """-lse(alpha_{T_n-1}(2 L_n), alpha_{T_n-1}(2 L_n - 1)) per sequence."""
    n = np.arange(alpha.shape[1])
    last = alpha[input_lengths - 1, n]
    a = last[n, 2 * target_lengths]
    b = np.where(target_lengths > 0, last[n, np.maximum(2 * target_lengths - 1, 0)], -np.inf)
    return -np.logaddexp(a, b)


class CTCLoss(Function):
    """Per-sequence CTC losses (N,) from log_probs (T, N, C); the recursion and the gradient
    d loss_n / d lp[t, n, c] = -sum_{s: l'_s = c} exp(alpha + beta - lp + loss_n) in the module docstring."""

    @staticmethod
    def forward(ctx, lp, targets, input_lengths, target_lengths, blank, zero_infinity):
        xp = backend.xp_of(lp)
        host = _host(lp)
        ext, valid, skip = _extended(targets, target_lengths, blank, np)
        em = _emissions(host, ext, valid, np)
        alpha = kernels("ctc").ctc_alpha(em, skip, input_lengths)
        loss = _final(alpha, input_lengths, target_lengths)
        ctx.save_for_backward(lp)
        ctx.state = (em, alpha, loss, ext, skip)
        ctx.options = (input_lengths, target_lengths, zero_infinity)
        if zero_infinity:
            loss = np.where(np.isinf(loss), 0.0, loss)
        return xp.asarray(loss.astype(lp.dtype))

    @staticmethod
    def backward(ctx, g):
        (lp,) = ctx.saved_tensors
        em, alpha, loss, ext, skip = ctx.state
        input_lengths, target_lengths, zero_infinity = ctx.options
        beta = kernels("ctc").ctc_beta(em, skip, input_lengths, target_lengths)
        with np.errstate(invalid="ignore"):
            post = np.exp(alpha + beta - em + loss[None, :, None])                  # (T, N, S')
        post = np.where(np.isfinite(em), post, 0.0)
        T, N, _ = em.shape
        C = lp.shape[2]
        slot = (np.arange(T * N).reshape(T, N, 1) * C + ext[None]).reshape(-1)      # flat (t, n, l'_s)
        grad = -np.bincount(slot, weights=post.reshape(-1), minlength=T * N * C).reshape(T, N, C)   # sum over s
        if zero_infinity:
            grad[:, np.isinf(loss)] = 0.0
        xp = backend.xp_of(lp)
        gn = _host(g)
        return xp.asarray((grad * gn[None, :, None]).astype(lp.dtype))

    @staticmethod
    def composite(lp, targets, input_lengths, target_lengths, blank, zero_infinity):
        """The alpha recursion with differentiable ops (for second derivatives)."""
        ext, valid, skip = _extended(targets, target_lengths, blank, np)
        N, S = ext.shape
        em = lp[:, np.arange(N)[:, None], ext]
        neg = lambda shape: Tensor._wrap(np.full(shape, _NEG, dtype=lp._data.dtype))    # noqa: E731
        invalid = Tensor._wrap(~valid)
        em = em.masked_fill(invalid, _NEG)
        first = cat([em[0][:, :2], neg((N, S - 2))], 1) if S > 2 else em[0]
        alphas = [first]
        no_skip = Tensor._wrap(~skip)
        for t in range(1, lp._data.shape[0]):
            prev = alphas[-1]
            one = cat([neg((N, 1)), prev[:, :-1]], 1)
            two = cat([neg((N, 2)), prev[:, :-2]], 1) if S > 2 else neg((N, S))
            step = logsumexp(stack([prev, one, two.masked_fill(no_skip, _NEG)], 0), 0)
            alphas.append((em[t] + step).masked_fill(invalid, _NEG))
        last = stack(alphas, 0)[input_lengths - 1, np.arange(N)]
        n = np.arange(N)
        a = last[n, 2 * target_lengths]
        b = last[n, np.maximum(2 * target_lengths - 1, 0)].masked_fill(Tensor._wrap(target_lengths == 0), _NEG)
        loss = -logsumexp(stack([a, b], 0), 0)
        if zero_infinity:
            em = _emissions(_host(lp._data), ext, valid, np)
            finite = _final(kernels("ctc").ctc_alpha(em, skip, input_lengths), input_lengths, target_lengths)
            loss = loss.masked_fill(Tensor._wrap(np.isinf(finite)), 0.0)
        return loss


def _lengths(name, value, n):
    v = value._data if isinstance(value, Tensor) else value
    v = _host(v) if backend.is_array(v) else np.asarray(v)
    if v.dtype.kind not in "iu" or v.reshape(-1).shape != (n,):
        raise ArgumentError(f"ctc_loss: {name} must hold {n} integers (one per sequence), got shape {tuple(v.shape)} "
                         f"dtype {v.dtype}")
    return v.reshape(-1).astype(np.int64)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False) -> Tensor:
    """PyTorch's ``F.ctc_loss`` on log-probabilities (T, N, C) or (T, C) (see the module docstring).
    'mean' divides each sequence's loss by its target length (at least 1), then averages."""
    op = "ctc_loss"
    if reduction not in ("mean", "sum", "none"):
        raise ArgumentError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    lp = float_operand(log_probs, op)
    batched = lp._data.ndim == 3
    if lp._data.ndim not in (2, 3) or lp._data.shape[0] == 0:
        raise ArgumentError(f"{op}: log_probs must be (T, N, C) or (T, C) with T > 0, got shape {lp._data.shape}")
    if not batched:
        lp = lp.reshape(lp._data.shape[0], 1, lp._data.shape[1])
    T, N, C = lp._data.shape
    if not 0 <= blank < C:
        raise ArgumentError(f"{op}: blank {blank} must be a class in [0, {C})")
    il = _lengths("input_lengths", input_lengths, N)
    tl = _lengths("target_lengths", target_lengths, N)
    tg = as_tensor(targets, op)._data
    tg = _host(tg)
    if tg.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integers, got {tg.dtype}")
    if (il < 1).any() or (il > T).any() or (tl < 0).any():
        raise ArgumentError(f"{op}: input_lengths must be in [1, {T}] and target_lengths non-negative, got "
                         f"{il.tolist()} and {tl.tolist()}")
    if not batched:
        tg = tg.reshape(1, -1)
    if tg.ndim == 2 and tg.shape[0] == N:
        if tg.shape[1] < tl.max(initial=0):
            raise ArgumentError(f"{op}: targets of shape {tuple(tg.shape)} are shorter than the longest target length "
                             f"{int(tl.max())}")
        padded = tg[:, :max(int(tl.max(initial=0)), 1)].astype(np.int64)
    elif tg.ndim == 1:
        if tg.shape[0] != tl.sum():
            raise ArgumentError(f"{op}: 1-D targets of shape {tuple(tg.shape)} must hold the concatenated targets, "
                             f"sum(target_lengths) = {int(tl.sum())} labels")
        padded = np.full((N, max(int(tl.max(initial=0)), 1)), blank, dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(tl)[:-1]])
        for n in range(N):
            padded[n, :tl[n]] = tg[starts[n]:starts[n] + tl[n]]
    else:
        raise ArgumentError(f"{op}: targets must be (N, S) padded or 1-D concatenated, got shape {tuple(tg.shape)} for "
                         f"log_probs of shape {tuple(log_probs.shape)}")
    used = np.arange(padded.shape[1])[None, :] < tl[:, None]
    labels = padded[used]
    if labels.size and ((labels < 0).any() or (labels >= C).any() or (labels == blank).any()):
        raise ArgumentError(f"{op}: targets must be classes in [0, {C}) other than the blank {blank}")
    padded = np.where(used, padded, blank)          # past each target: never read (invalid states)
    losses = CTCLoss.apply(lp, padded, il, tl, int(blank), bool(zero_infinity))
    if reduction == "none":
        return losses if batched else losses.reshape(())
    if reduction == "sum":
        return losses.sum()
    xp = backend.xp_of(lp._data)
    return (losses / Tensor._wrap(xp.asarray(np.maximum(tl, 1).astype(lp._data.dtype)))).mean()
