"""Scaled dot-product attention (PyTorch's ``F.scaled_dot_product_attention``), one Function.

For a query Q (..., L, E), keys K (..., S, E) and values V (..., S, Ev)::

    S = Q K^T * scale + M          scores, M the additive mask (0 or -inf, or any floats)
    P = softmax(S)                 along the key axis (rows that mask every key give P = 0)
    W = P * D                      D the dropout multiplier (1 without dropout)
    O = W V

Backward, from dO (and dW when the weights themselves are used, as MultiheadAttention's
``need_weights``)::

    dV = W^T dO
    dW = dO V^T (+ dW)             then dP = dW * D
    dS = P * (dP - rowsum(dP * P)) the softmax's Jacobian-vector product, row by row
    dM = dS                        (summed over broadcast dims by the engine)
    dQ = dS K * scale
    dK = dS^T Q * scale

Boolean masks (True = attend), ``is_causal`` (the lower triangle of an L x S matrix, aligned
top-left as PyTorch's) and dropout are all turned into the constants M and D before the
Function runs, so the Function itself is deterministic.  Second order: ``composite`` writes the
same forward with differentiable ops (matmul, softmax, where), which the engine differentiates
under ``create_graph``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor
from ._kernels import kernels
from .activation import fused_rows, softmax
from .dropout import dropout_mask
from .linalg import matmul

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _dead_rows(mask):
    """Rows of the additive mask that exclude every key (all -inf): constants, or None."""
    if mask is None:
        return None
    m = f.value(mask)
    dead = backend.xp_of(m).isneginf(m).all(axis=-1, keepdims=True)
    return dead if dead.any() else None


class Attention(Function):
    """O = softmax(Q K^T scale + M) * D @ V, returning (O, W) with W the (dropped-out) weights;
    the derivation is in the module docstring."""
    materialize_grads = False

    @staticmethod
    def forward(ctx, q, k, v, mask=None, keep=None, scale=1.0):
        xp = backend.xp_of(q)
        s = q @ k.swapaxes(-1, -2)
        dead = _dead_rows(mask)
        if mask is None and scale > 0 and fused_rows(s, s.ndim - 1):
            p = kernels("softmax").softmax_forward(s, scale)     # the scale inside: one pass fewer
        else:
            s *= scale
            if mask is not None:
                s = s + (mask if dead is None else xp.where(dead, 0, mask))
            if fused_rows(s, s.ndim - 1):
                p = kernels("softmax").softmax_forward(s)
            else:
                s -= s.max(axis=-1, keepdims=True)
                p = xp.exp(s, out=s)
                p /= p.sum(axis=-1, keepdims=True)
        if dead is not None:
            p = p * ~dead
        w = p if keep is None else p * keep
        ctx.save_for_backward(q, k, v, p, keep)
        ctx.scale = scale
        return w @ v, w

    @staticmethod
    def backward(ctx, g_out, g_w):
        q, k, v, p, keep = ctx.saved_tensors
        needs = ctx.needs_input_grad
        w = p if keep is None else p * keep
        dv = w.swapaxes(-1, -2) @ g_out if g_out is not None and needs[2] else None
        if g_out is None and g_w is None:
            return None, None, dv
        dw = g_out @ v.swapaxes(-1, -2) if g_out is not None else 0
        if g_w is not None:
            dw = dw + g_w
        dp = dw if keep is None else dw * keep
        needs_mask = len(needs) > 3 and needs[3]
        # the scale goes into the softmax backward's own pass, unless dM (which is dS itself) is needed
        folded = not needs_mask and ctx.scale > 0 and fused_rows(p, p.ndim - 1, dp)
        if folded:
            ds = kernels("softmax").softmax_backward(p, dp, ctx.scale)
        elif fused_rows(p, p.ndim - 1, dp):
            ds = kernels("softmax").softmax_backward(p, dp)
        else:
            ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
        post = 1.0 if folded else ctx.scale

        def scaled(a):
            return a if post == 1.0 else a * post
        dq = scaled(ds @ k) if needs[0] else None
        dk = scaled(ds.swapaxes(-1, -2) @ q) if needs[1] else None
        return dq, dk, dv, (ds if needs_mask else None)

    @staticmethod
    def composite(q, k, v, mask=None, keep=None, scale=1.0):
        s = matmul(q, k.transpose(-2, -1)) * scale
        dead = _dead_rows(mask)
        if mask is not None:
            s = s + (mask if dead is None else f.where(dead, 0.0, mask))
        p = softmax(s, -1)
        if dead is not None:
            p = p * Tensor._wrap((~dead).astype(p._data.dtype))
        w = p if keep is None else p * Tensor._wrap(keep)
        return matmul(w, v), w


class SplitHeads(Function):
    """Self-attention's packed projection (N, T, 3E) -> q, k, v, each (N, H, T, E/H), views of it;
    backward: the three gradients written back into one (N, T, 3E) array, each in a single strided
    copy (chunk, reshape and permute would copy twice: once to undo the permute, once to join)."""
    materialize_grads = False

    @staticmethod
    def forward(ctx, x, num_heads):
        N, T, E3 = x.shape
        ctx.shape = x.shape
        heads = x.reshape(N, T, 3, num_heads, E3 // (3 * num_heads)).transpose(2, 0, 3, 1, 4)
        return heads[0], heads[1], heads[2]

    @staticmethod
    def backward(ctx, dq, dk, dv):
        N, T, E3 = ctx.shape
        grads = (dq, dk, dv)
        g = next(a for a in grads if a is not None)
        xp = backend.xp_of(g)
        out = (xp.empty if all(a is not None for a in grads) else xp.zeros)((N, T, 3) + g.shape[1:2] + g.shape[3:],
                                                                          dtype=g.dtype)
        for i, a in enumerate(grads):
            if a is not None:
                out[:, :, i] = a.transpose(0, 2, 1, 3)
        return out.reshape(ctx.shape)

    @staticmethod
    def composite(x, num_heads):
        N, T, E3 = x._data.shape
        return tuple(part.reshape(N, T, num_heads, E3 // (3 * num_heads)).permute(0, 2, 1, 3)
                     for part in x.chunk(3, dim=-1))


def _broadcast(shapes, what, opname, names):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        shown = ", ".join(f"{n} {s}" for n, s in zip(names, shapes))
        raise ArgumentError(f"{opname}: {what} do not broadcast ({shown})") from None


def attention_mask(attn_mask, is_causal, L, S, dtype, xp, opname="scaled_dot_product_attention"):
    """The additive float mask of SDPA's arguments (None when nothing is masked): a boolean mask
    (True = attend) becomes 0 / -inf, a float mask stays as it is (and keeps its graph)."""
    if is_causal:
        if attn_mask is not None:
            raise ArgumentError(f"{opname}: pass either attn_mask or is_causal=True, not both (as PyTorch)")
        keep = xp.tril(xp.ones((L, S), dtype=bool))
        return xp.where(keep, 0.0, -math.inf).astype(dtype)
    if attn_mask is None:
        return None
    m = as_tensor(attn_mask, opname)
    if m._data.dtype == np.bool_:
        return xp.where(m._data, 0.0, -math.inf).astype(dtype)
    return _float_mask(m, "attn_mask", dtype, opname)


def _float_mask(m, name, dtype, opname):
    """A float mask in the query's dtype.  PyTorch takes a float32 mask with a query of any float
    dtype (a causal mask from Transformer.generate_square_subsequent_mask with a model in float64):
    it is cast, keeping its graph; any other float dtype must be the query's."""
    if m._data.dtype == dtype:
        return m
    if m._data.dtype == np.float32:
        from .conversion import cast
        return cast(m, dtype)
    raise TypeError(f"{opname}: {name} must be bool, float32 or of the query's dtype {dtype}, got {m._data.dtype}")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False) -> Tensor:
    """softmax(Q K^T * scale + mask) V with PyTorch's arguments.

    query (..., L, E), key (..., S, E), value (..., S, Ev), batch dims broadcasting; ``attn_mask``
    boolean (True = take part in attention) or float (added to the scores), broadcastable to
    (..., L, S); ``is_causal`` masks the upper triangle (query i sees keys 0..i); ``scale``
    defaults to 1/sqrt(E); ``dropout_p`` drops attention weights (always, as PyTorch's function:
    pass 0 in evaluation); ``enable_gqa`` lets dim -3 of key/value divide that of query (grouped
    query attention, each key/value head serving consecutive query heads).
    """
    name = "scaled_dot_product_attention"
    q, k, v = (as_tensor(t, name) for t in (query, key, value))
    if q._data.dtype.kind != "f" or not q._data.dtype == k._data.dtype == v._data.dtype:
        raise TypeError(f"{name}: query, key and value must share a float dtype, got "
                        f"{q._data.dtype}, {k._data.dtype} and {v._data.dtype}")
    sq, sk, sv = q._data.shape, k._data.shape, v._data.shape
    if min(len(sq), len(sk), len(sv)) < 2:
        raise ArgumentError(f"{name}: query, key and value need at least 2 dims (..., L, E), got {sq}, {sk}, {sv}")
    if sq[-1] != sk[-1] or sk[-2] != sv[-2]:
        raise ArgumentError(f"{name}: query {sq}, key {sk} and value {sv} do not fit (query and key must share the "
                         f"last dim, key and value the sequence dim -2)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ArgumentError(f"{name}: dropout_p must be between 0 and 1, got {dropout_p}")
    if enable_gqa and len(sq) >= 3 and len(sk) >= 3 and sq[-3] != sk[-3]:
        hq, hk = sq[-3], sk[-3]
        if hk == 0 or hq % hk or sv[-3] != hk:
            raise ArgumentError(f"{name}: with enable_gqa the query heads ({hq}) must be a multiple of the key/value "
                             f"heads ({hk}, {sv[-3] if len(sv) >= 3 else None})")
        k, v = k.repeat_interleave(hq // hk, dim=-3), v.repeat_interleave(hq // hk, dim=-3)
        sk, sv = k._data.shape, v._data.shape
    L, S = sq[-2], sk[-2]
    batch = _broadcast([sq[:-2], sk[:-2], sv[:-2]], "the batch dims of query, key and value", name,
                       ["query", "key", "value"])
    xp = backend.xp_of(q._data)
    mask = attention_mask(attn_mask, is_causal, L, S, q._data.dtype, xp)
    if mask is not None:
        ms = tuple(mask.shape)
        full = _broadcast([ms, batch + (L, S)], "attn_mask and the scores (..., L, S)", name, ["attn_mask", "scores"])
        if full != batch + (L, S):
            raise ArgumentError(f"{name}: attn_mask of shape {ms} does not broadcast to the scores {batch + (L, S)}")
    keep = None
    if dropout_p >= 1.0:
        keep = xp.zeros(batch + (L, S), dtype=q._data.dtype)
    elif dropout_p > 0.0:
        keep = dropout_mask(batch + (L, S), dropout_p, q._data.dtype, q.device)
    scale = 1.0 / math.sqrt(sq[-1]) if scale is None else float(scale)
    return Attention.apply(q, k, v, mask, keep, scale)[0]


# ----------------------------------------------------------------------------- multi-head attention
def _canonical_mask(mask, name, dtype):
    """MultiheadAttention's masks as additive floats: a boolean mask marks positions to leave
    out (True -> -inf, the opposite of SDPA's convention), a float mask is added as it is."""
    if mask is None:
        return None
    m = as_tensor(mask, "multi_head_attention_forward")
    if m._data.dtype == np.bool_:
        return Tensor._wrap(backend.xp_of(m._data).where(m._data, -math.inf, 0.0).astype(dtype))
    if m._data.dtype.kind != "f":
        raise TypeError(f"multi_head_attention_forward: only bool and floating types of {name} are supported, "
                        f"got {m._data.dtype}")
    return _float_mask(m, name, dtype, "multi_head_attention_forward")


def _pad_key_column(mask):
    """One more key (bias_k or the zero key) that every query may attend: a zero column."""
    from .shape import pad
    return None if mask is None else pad(mask, (0, 1))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """PyTorch's ``F.multi_head_attention_forward``: inputs (L, N, E) / (S, N, E) or unbatched
    (L, E) / (S, E); returns (output (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S)
    per head, or None).  Boolean masks mark what to leave out; ``attn_mask`` is (L, S) or
    (N * num_heads, L, S), ``key_padding_mask`` (N, S).  The heads are the batch dims of one
    :class:`Attention` node between the input and output projections.  A query whose every key
    is masked gets zero weights (PyTorch: zeros with need_weights=False, NaN with True)."""
    from .linalg import linear
    from .shape import cat
    name = "multi_head_attention_forward"
    query, key, value = (as_tensor(t, name) for t in (query, key, value))
    dtype = query._data.dtype
    batched = query._data.ndim == 3
    if query._data.ndim not in (2, 3) or key._data.ndim != query._data.ndim or value._data.ndim != query._data.ndim:
        raise ArgumentError(f"{name}: query, key and value must all be 3-D (batched) or 2-D (unbatched), got shapes "
                         f"{query._data.shape}, {key._data.shape}, {value._data.shape}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = as_tensor(key_padding_mask, name).unsqueeze(0)
        if attn_mask is not None and as_tensor(attn_mask, name)._data.ndim == 3:
            attn_mask = as_tensor(attn_mask, name)
    L, N, E = query._data.shape
    S = key._data.shape[0]
    if E != embed_dim_to_check:
        raise ArgumentError(f"{name}: was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    if num_heads <= 0 or E % num_heads:
        raise ArgumentError(f"{name}: embed_dim {E} not divisible by num_heads {num_heads}")
    if key._data.shape[:2] != value._data.shape[:2] or key._data.shape[1] != N:
        raise ArgumentError(f"{name}: key {key._data.shape} and value {value._data.shape} must match in (S, N) and "
                         f"the query's batch {N}")
    H, hd = num_heads, E // num_heads
    kpm = _canonical_mask(key_padding_mask, "key_padding_mask", dtype)
    mask = _canonical_mask(attn_mask, "attn_mask", dtype)
    causal = False
    if is_causal and mask is None:
        raise RuntimeError(f"{name}: need attn_mask if specifying the is_causal hint")
    if is_causal and kpm is None and not need_weights:
        mask, causal = None, True                       # the hint: causal attention without the mask
    if kpm is not None and tuple(kpm._data.shape) != (N, S):
        raise ArgumentError(f"{name}: expected key_padding_mask of shape {(N, S)}, got {tuple(kpm._data.shape)}")
    if mask is not None:
        want = (L, S) if mask._data.ndim == 2 else (N * H, L, S)
        if tuple(mask._data.shape) != want:
            raise ArgumentError(f"{name}: attn_mask should be of shape {(L, S)} or {(N * H, L, S)}, got "
                             f"{tuple(mask._data.shape)}")

    # batch-major from here on, (N, T, E): with batch_first callers the transposes cancel out
    self_attention = query is key and key is value
    query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
    packed_heads = (self_attention and not use_separate_proj_weight and static_k is None and static_v is None
                    and (bias_k is None or bias_v is None))
    if packed_heads:                                    # straight to (N, H, T, hd): one node, one copy back
        q, k, v = SplitHeads.apply(linear(query, in_proj_weight, in_proj_bias), H)
    elif not use_separate_proj_weight:
        if self_attention:
            q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        else:
            ws = in_proj_weight.chunk(3)
            bs = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
            q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), ws, bs))
    else:
        bs = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), (q_proj_weight, k_proj_weight,
                                                                           v_proj_weight), bs))
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, N, E).transpose(0, 1)], dim=1)
        v = cat([v, bias_v.expand(1, N, E).transpose(0, 1)], dim=1)
        mask, kpm = _pad_key_column(mask), _pad_key_column(kpm)

    def heads(x):                                       # (N, T, E) -> (N, H, T, hd)
        return x.reshape(N, x._data.shape[1], H, hd).permute(0, 2, 1, 3)

    if not packed_heads:
        q = heads(q)
        k = heads(k) if static_k is None else as_tensor(static_k, name).reshape(N, H, -1, hd)
        v = heads(v) if static_v is None else as_tensor(static_v, name).reshape(N, H, -1, hd)
    if add_zero_attn:
        xp = backend.xp_of(q._data)
        k = cat([k, Tensor._wrap(xp.zeros((N, H, 1, hd), dtype=dtype))], dim=2)
        v = cat([v, Tensor._wrap(xp.zeros((N, H, 1, hd), dtype=dtype))], dim=2)
        mask, kpm = _pad_key_column(mask), _pad_key_column(kpm)
    S = k._data.shape[2]
    if mask is not None:
        mask = mask.reshape(1, 1, L, S) if mask._data.ndim == 2 else mask.reshape(N, H, L, S)
    if kpm is not None:
        kpm = kpm.reshape(N, 1, 1, S)
        mask = kpm if mask is None else mask + kpm
    if causal:
        mask = attention_mask(None, True, L, S, dtype, backend.xp_of(q._data), name)
    p = dropout_p if training else 0.0
    keep = None
    if p > 0.0:
        keep = (backend.xp_of(q._data).zeros((N, H, L, S), dtype=dtype) if p >= 1.0
                else dropout_mask((N, H, L, S), p, dtype, q.device))
    out, weights = Attention.apply(q, k, v, mask, keep, 1.0 / math.sqrt(hd))
    out = linear(out.permute(0, 2, 1, 3).reshape(N, L, E), out_proj_weight, out_proj_bias).transpose(0, 1)
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return (out, weights) if batched else (out.squeeze(1), weights.squeeze(0))
