"""Registry entries of ops/attention.py: scaled dot-product attention (plain, causal, boolean and
float masks, scale, grouped-query heads) and the multi-head attention forward.

The NumPy reference spells the definition out: scores, additive mask, a softmax whose fully
masked rows are zero (as PyTorch's), weights times values.  Inputs are small normal draws, so
the softmax is smooth and far from saturation.
"""
from __future__ import annotations

import math

import numpy as np

from ..ops import attention as _att
from .registry import OpSpec, Sample, register


def _np_softmax_rows(s):
    dead = np.isneginf(s).all(axis=-1, keepdims=True)
    s = np.where(dead, 0.0, s)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return np.where(dead, 0.0, e / e.sum(axis=-1, keepdims=True))


def _np_sdpa(q, k, v, mask=None, is_causal=False, scale=None, enable_gqa=False):
    if enable_gqa and q.shape[-3] != k.shape[-3]:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        s = np.where(np.tril(np.ones((L, S), dtype=bool)), s, -np.inf)
    elif mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    return _np_softmax_rows(s) @ v


def _mg_sdpa(q, k, v, mask=None, **kw):
    return _att.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw)


def _torch_sdpa(t, q, k, v, mask=None, **kw):
    """PyTorch's math kernel (its flash kernel, chosen for some shapes, has no double backward)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.MATH):
        return t.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw)


def _qkv(d, dtype, batch_q=None, batch_k=None):
    """q (.., L, E), k (.., S, E), v (.., S, Ev) with batch dims that broadcast."""
    L, S, E, Ev = d.integers(1, 4), d.integers(1, 4), d.integers(1, 4), d.integers(1, 3)
    if batch_q is None:
        (batch_q, batch_k), _ = d.broadcast_shapes(2, 0, 2, max_side=3)
    return [d.floats(batch_q + (L, E), dtype=dtype), d.floats(batch_k + (S, E), dtype=dtype),
            d.floats(batch_k + (S, Ev), dtype=dtype)], L, S


def _plain_sample(d, dtype):
    args, _, _ = _qkv(d, dtype)
    return Sample(args, {"scale": d.choice([None, 0.7, 1.5])})


def _causal_sample(d, dtype):
    args, _, _ = _qkv(d, dtype)
    return Sample(args, {"is_causal": True, "scale": d.choice([None, 0.5])})


def _mask_shape(d, L, S, batch):
    """Broadcastable to the scores (batch + (L, S)), never widening them (PyTorch refuses that)."""
    return tuple(d.choice([(L, S), (1, S), (L, 1)] + ([(2, L, S), (2, 1, S)] if batch else [])))


def _bool_mask_sample(d, dtype):
    batch = (2,) if d.boolean() else ()
    args, L, S = _qkv(d, dtype, batch, batch)
    return Sample(args + [d.mask(_mask_shape(d, L, S, batch))])


def _float_mask_sample(d, dtype):
    batch = (2,) if d.boolean() else ()
    args, L, S = _qkv(d, dtype, batch, batch)
    return Sample(args + [d.floats(_mask_shape(d, L, S, batch), dtype=dtype)], {"scale": d.choice([None, 0.8])})


def _gqa_sample(d, dtype):
    hk, group = d.integers(1, 2), d.integers(2, 3)
    L, S, E = d.integers(1, 3), d.integers(1, 3), d.integers(1, 3)
    return Sample([d.floats((2, hk * group, L, E), dtype=dtype), d.floats((2, hk, S, E), dtype=dtype),
                   d.floats((2, hk, S, E), dtype=dtype)], {"enable_gqa": True})


register(OpSpec("scaled_dot_product_attention", _mg_sdpa, _np_sdpa, _plain_sample, _torch_sdpa))
for _name, _sample in [("causal", _causal_sample), ("bool_mask", _bool_mask_sample),
                       ("float_mask", _float_mask_sample), ("gqa", _gqa_sample)]:
    register(OpSpec(f"scaled_dot_product_attention_{_name}", _mg_sdpa, _np_sdpa, _sample, _torch_sdpa,
                    covers="scaled_dot_product_attention"))


# ----------------------------------------------------------------------------- multi-head attention
def _np_mha(query, key, value, w_in, b_in, w_out, b_out, attn_mask=None, *, num_heads, need_weights=True,
            average_attn_weights=True):
    """(L, N, E) inputs; PyTorch's boolean attn_mask marks what must NOT be attended."""
    L, N, E = query.shape
    S, h = key.shape[0], E // num_heads
    wq, wk, wv = np.split(w_in, 3)
    bq, bk, bv = np.split(b_in, 3)

    def heads(x, w, b):                            # (T, N, E) -> (N, H, T, h)
        return (x @ w.T + b).reshape(x.shape[0], N, num_heads, h).transpose(1, 2, 0, 3)

    q, k, v = heads(query, wq, bq), heads(key, wk, bk), heads(value, wv, bv)
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(h)
    if attn_mask is not None:
        m = attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(N, num_heads, L, S)
        s = np.where(m, -np.inf, s) if m.dtype == bool else s + m
    p = _np_softmax_rows(s)
    out = (p @ v).transpose(2, 0, 1, 3).reshape(L, N, E) @ w_out.T + b_out
    if not need_weights:
        return out
    return out, (p.mean(axis=1) if average_attn_weights else p)


def _mg_mha(query, key, value, w_in, b_in, w_out, b_out, attn_mask=None, *, num_heads, **kw):
    E = query.shape[-1]
    out = _att.multi_head_attention_forward(query, key, value, E, num_heads, w_in, b_in, None, None, False, 0.0,
                                            w_out, b_out, training=False, attn_mask=attn_mask, **kw)
    return out if kw.get("need_weights", True) else out[0]


def _torch_mha(t, query, key, value, w_in, b_in, w_out, b_out, attn_mask=None, *, num_heads, **kw):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    E = query.shape[-1]
    with sdpa_kernel(SDPBackend.MATH):
        out = t.nn.functional.multi_head_attention_forward(query, key, value, E, num_heads, w_in, b_in, None, None,
                                                           False, 0.0, w_out, b_out, training=False,
                                                           attn_mask=attn_mask, **kw)
    return out if kw.get("need_weights", True) else out[0]


def _mha_sample(d, dtype, self_attention=False):
    """Random (L, N, E) query, key and value (one tensor for self-attention, S = L), packed
    projections and one kind of attn_mask."""
    num_heads, h = d.integers(1, 2), d.integers(1, 2)
    E, L, N = num_heads * h, d.integers(1, 3), d.integers(1, 2)
    S = L if self_attention else d.integers(1, 3)
    inputs = [d.floats((L, N, E), dtype=dtype)]
    if not self_attention:
        inputs += [d.floats((S, N, E), dtype=dtype), d.floats((S, N, E), dtype=dtype)]
    args = inputs + [d.floats((3 * E, E), dtype=dtype), d.floats((3 * E,), dtype=dtype),
                     d.floats((E, E), dtype=dtype), d.floats((E,), dtype=dtype)]
    kind = d.choice(["none", "bool", "float", "float3"])
    if kind == "bool":                              # every query keeps key 0 (no row left empty)
        m = d.mask((L, S))
        m[:, 0] = False
        args.append(m)
    elif kind == "float":
        args.append(d.floats((L, S), dtype=dtype))
    elif kind == "float3":
        args.append(d.floats((N * num_heads, L, S), dtype=dtype))
    need = d.boolean()
    kw = {"num_heads": num_heads, "need_weights": need}
    if need:
        kw["average_attn_weights"] = d.boolean()
    return Sample(args, kw)


register(OpSpec("multi_head_attention_forward", _mg_mha, _np_mha, _mha_sample, _torch_mha))


# self-attention (query, key and value one tensor): the packed projection is split into heads by
# one node (SplitHeads), with a backward of its own
def _mg_mha_self(x, *rest, **kw):
    return _mg_mha(x, x, x, *rest, **kw)


def _np_mha_self(x, *rest, **kw):
    return _np_mha(x, x, x, *rest, **kw)


def _torch_mha_self(t, x, *rest, **kw):
    return _torch_mha(t, x, x, x, *rest, **kw)


register(OpSpec("multi_head_attention_forward_self", _mg_mha_self, _np_mha_self,
                lambda d, dtype: _mha_sample(d, dtype, self_attention=True), _torch_mha_self,
                covers="multi_head_attention_forward"))
