"""Registry entries of the recurrent ops (RNN tanh/relu, LSTM, GRU: stacks and cells) and the
embedding lookup.

Each stack entry draws the sizes (T, B, I, H up to 3), the layers and directions, batch_first,
an optional initial state, optional biases and, for the variable-length entries, one length per
sequence (unsorted, so the ops' own sorting is exercised too).  The NumPy reference runs every
sequence on its own, step by step, for exactly its length (so padding cannot matter there); the
PyTorch reference packs the batch with ``pack_padded_sequence`` and runs ``torch.nn.LSTM`` & co.
with the same weights (``torch.func.functional_call``).  Finite differences cover every
parameter, the input and the initial states.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg

from ..ops import embedding as _emb_ops
from ..ops import recurrent as _rec_ops
from .registry import OpSpec, Sample, register

_STACKS = {"LSTM": _rec_ops.lstm, "GRU": _rec_ops.gru, "RNN_TANH": _rec_ops.rnn_tanh, "RNN_RELU": _rec_ops.rnn_relu}
_CELLS = {"LSTM": _rec_ops.lstm_cell, "GRU": _rec_ops.gru_cell, "RNN_TANH": _rec_ops.rnn_tanh_cell,
          "RNN_RELU": _rec_ops.rnn_relu_cell}
_TORCH = {"LSTM": ("LSTM", {}), "GRU": ("GRU", {}), "RNN_TANH": ("RNN", {"nonlinearity": "tanh"}),
          "RNN_RELU": ("RNN", {"nonlinearity": "relu"})}


# ----------------------------------------------------------------------------- the NumPy reference
def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _np_cell(mode, x, state, w_ih, w_hh, b_ih, b_hh):
    """One step for one sequence: x (I,), state a tuple of (H,) arrays."""
    h = state[0]
    gi = w_ih @ x + (0.0 if b_ih is None else b_ih)
    gh = w_hh @ h + (0.0 if b_hh is None else b_hh)
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4)
        c = _sigmoid(f) * state[1] + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c
    if mode == "GRU":
        (xr, xz, xn), (hr, hz, hn) = np.split(gi, 3), np.split(gh, 3)
        r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        return ((1 - z) * n + z * h,)
    a = gi + gh
    return (np.tanh(a) if mode == "RNN_TANH" else np.maximum(a, 0.0),)


def _groups(params, n_groups):
    per = len(params) // n_groups
    return [list(params[k * per:(k + 1) * per]) + ([None, None] if per == 2 else []) for k in range(n_groups)]


def _np_stack(mode, x, states, params, num_layers, bidirectional, batch_first, lengths, cell=None):
    """-> (output, final states...) computed sequence by sequence (``cell``: the step, _np_cell)."""
    cell = cell or _np_cell
    unbatched = x.ndim == 2
    if unbatched:
        x = x[:, None]
        states = [None if s is None else s[:, None] for s in states]
    elif batch_first:
        x = x.transpose(1, 0, 2)
    T, B, _ = x.shape
    D = 2 if bidirectional else 1
    H = params[1].shape[1]
    groups = _groups(params, num_layers * D)
    lens = [T] * B if lengths is None else [int(v) for v in lengths]
    finals = [np.zeros((num_layers * D, B, H)) for _ in states]
    layer_in = x
    for layer in range(num_layers):
        out = np.zeros((T, B, D * H))
        for d in range(D):
            k = layer * D + d
            for b in range(B):
                state = tuple(np.zeros(H) if s is None else s[k, b] for s in states)
                steps = range(lens[b] - 1, -1, -1) if d else range(lens[b])
                for t in steps:
                    state = cell(mode, layer_in[t, b], state, *groups[k])
                    out[t, b, d * H:(d + 1) * H] = state[0]
                for f, s in zip(finals, state):
                    f[k, b] = s
        layer_in = out
    if unbatched:
        return (layer_in[:, 0],) + tuple(f[:, 0] for f in finals)
    return ((layer_in.transpose(1, 0, 2) if batch_first else layer_in),) + tuple(finals)


# ----------------------------------------------------------------------------- drawing a problem
def _relu_safe(mode, sample, n_states):
    """Relu RNNs: move b_ih until no pre-activation is within 1e-3 of the kink (finite
    differences across a kink measure nothing).  The reference tells where they are."""
    if mode != "RNN_RELU":
        return sample
    x, states, params, kw = sample.args[0], sample.args[1:1 + n_states], sample.args[1 + n_states:], sample.kwargs
    for attempt in range(40):
        if _min_relu_preactivation(x, states, params, kw) > 1e-3:
            break
        for k in range(2, len(params), 4):            # every layer's b_ih
            params[k] = params[k] + (0.0137 * (attempt + 1) * (-1) ** attempt)
    sample.args[1 + n_states:] = params
    return sample


def _min_relu_preactivation(x, states, params, kw):
    """The smallest |pre-activation| of a relu stack: the reference, run with a recording cell."""
    worst = [np.inf]

    def cell(mode, xv, state, w_ih, w_hh, b_ih, b_hh):
        a = w_ih @ xv + w_hh @ state[0] + (0.0 if b_ih is None else b_ih + b_hh)
        worst[0] = min(worst[0], float(np.min(np.abs(a))) if a.size else np.inf)
        return (np.maximum(a, 0.0),)

    _np_stack("RNN_RELU", x, list(states), params, kw["num_layers"], kw["bidirectional"], kw["batch_first"],
              kw["lengths"], cell)
    return worst[0]


def _stack_sample(mode, layers=(1, 1), bidirectional=None, variable_lengths=False):
    def sample(d, dtype):
        T, B, I, H = d.integers(1, 3), d.integers(1, 3), d.integers(1, 3), d.integers(1, 2)
        L = d.integers(*layers)
        bidir = d.boolean() if bidirectional is None else bidirectional
        D = 2 if bidir else 1
        unbatched = not variable_lengths and d.integers(0, 4) == 0
        batch_first = d.boolean()
        bias = True if mode == "RNN_RELU" else d.boolean()
        k = _rec_ops.GATES[mode]
        x = d.floats((T, I) if unbatched else ((B, T, I) if batch_first else (T, B, I)), "unit", dtype=dtype)
        state_shape = (L * D, H) if unbatched else (L * D, B, H)
        n_states = 2 if mode == "LSTM" else 1
        with_state = d.boolean()
        states = [d.floats(state_shape, "unit", dtype=dtype) if with_state else None for _ in range(n_states)]
        params = []
        for layer in range(L):
            for _ in range(D):
                in_size = I if layer == 0 else D * H
                params += [d.floats((k * H, in_size), "unit", dtype=dtype), d.floats((k * H, H), "unit", dtype=dtype)]
                if bias:
                    params += [d.floats((k * H,), "unit", dtype=dtype), d.floats((k * H,), "unit", dtype=dtype)]
        lengths = None
        if variable_lengths:
            lengths = np.array([d.integers(1, T) for _ in range(B)], dtype=np.int64)
        kwargs = {"num_layers": L, "bidirectional": bidir, "batch_first": batch_first, "lengths": lengths}
        return _relu_safe(mode, Sample([x] + states + params, kwargs), n_states)
    return sample


# ----------------------------------------------------------------------------- the three callers
def _stack_call(mode):
    n_states = 2 if mode == "LSTM" else 1

    def call(x, *rest, num_layers, bidirectional, batch_first, lengths):
        states, params = rest[:n_states], list(rest[n_states:])
        hx = (None if states[0] is None else tuple(states)) if mode == "LSTM" else states[0]
        out, finals = _STACKS[mode](x, hx, params, num_layers=num_layers, bidirectional=bidirectional,
                                    batch_first=batch_first, lengths=lengths)
        return (out,) + (tuple(finals) if mode == "LSTM" else (finals,))
    return call


def _stack_ref(mode):
    n_states = 2 if mode == "LSTM" else 1

    def ref(x, *rest, num_layers, bidirectional, batch_first, lengths):
        return _np_stack(mode, x, list(rest[:n_states]), list(rest[n_states:]), num_layers, bidirectional,
                         batch_first, lengths)
    return ref


def _stack_torch(mode):
    n_states = 2 if mode == "LSTM" else 1
    cls_name, extra = _TORCH[mode]

    def call(t, x, *rest, num_layers, bidirectional, batch_first, lengths):
        states, params = rest[:n_states], list(rest[n_states:])
        D = 2 if bidirectional else 1
        module = getattr(t.nn, cls_name)(x.shape[-1], params[1].shape[1], num_layers=num_layers,
                                         bias=len(params) == 4 * num_layers * D, batch_first=batch_first,
                                         bidirectional=bidirectional, dtype=x.dtype, **extra)
        hx = (None if states[0] is None else tuple(states)) if mode == "LSTM" else states[0]
        inp = x
        if lengths is not None:
            inp = t.nn.utils.rnn.pack_padded_sequence(x, t.as_tensor(lengths), batch_first=batch_first,
                                                      enforce_sorted=False)
        out, finals = t.func.functional_call(module, dict(zip(module._flat_weights_names, params)), (inp, hx))
        if lengths is not None:
            T = x.shape[1] if batch_first else x.shape[0]
            out = t.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=T)[0]
        return (out,) + (tuple(finals) if mode == "LSTM" else (finals,))
    return call


def _stack(name, mode, **draw):
    register(OpSpec(name, _stack_call(mode), _stack_ref(mode), _stack_sample(mode, **draw), _stack_torch(mode),
                    covers=mode.lower(), rtol32=2e-4))


for _mode in _STACKS:
    _stack(_mode.lower(), _mode)                                                  # one layer, either direction
    _stack(_mode.lower() + "_stacked", _mode, layers=(2, 2), bidirectional=True)  # 2 layers, both directions
    _stack(_mode.lower() + "_lengths", _mode, layers=(1, 2), variable_lengths=True)


# ----------------------------------------------------------------------------- cells
def _cell_sample(mode):
    def sample(d, dtype):
        B, I, H = d.integers(1, 3), d.integers(1, 3), d.integers(1, 3)
        k = _rec_ops.GATES[mode]
        unbatched = d.integers(0, 3) == 0
        lead = () if unbatched else (B,)
        n_states = 2 if mode == "LSTM" else 1
        with_state = d.boolean()
        states = [d.floats(lead + (H,), "unit", dtype=dtype) if with_state else None for _ in range(n_states)]
        args = [d.floats(lead + (I,), "unit", dtype=dtype)] + states
        args += [d.floats((k * H, I), "unit", dtype=dtype), d.floats((k * H, H), "unit", dtype=dtype)]
        if mode == "RNN_RELU" or d.boolean():
            args += [d.floats((k * H,), "unit", dtype=dtype), d.floats((k * H,), "unit", dtype=dtype)]
        s = Sample(args)
        if mode == "RNN_RELU":                        # keep the pre-activation away from relu's kink
            x, h, w_ih, w_hh, b_ih, b_hh = args
            for attempt in range(40):
                a = x @ w_ih.T + b_ih + b_hh + (0.0 if h is None else h @ w_hh.T)
                if np.min(np.abs(a)) > 1e-3:
                    break
                b_ih = b_ih + 0.0137 * (attempt + 1) * (-1) ** attempt
            s = Sample([x, h, w_ih, w_hh, b_ih, b_hh])
        return s
    return sample


def _cell_call(mode):
    n_states = 2 if mode == "LSTM" else 1

    def call(x, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        hx = (None if states[0] is None else tuple(states)) if mode == "LSTM" else states[0]
        out = _CELLS[mode](x, hx, *weights)
        return tuple(out) if mode == "LSTM" else out
    return call


def _cell_ref(mode):
    n_states = 2 if mode == "LSTM" else 1

    def ref(x, *rest):
        states, weights = list(rest[:n_states]), list(rest[n_states:]) + [None] * (4 - len(rest[n_states:]))
        H = weights[1].shape[1]
        batched = x.ndim == 2
        xs = x if batched else x[None]
        st = [np.zeros((xs.shape[0], H)) if s is None else (s if batched else s[None]) for s in states]
        outs = [_np_cell(mode, xs[b], tuple(s[b] for s in st), *weights) for b in range(xs.shape[0])]
        result = tuple(np.stack([o[j] for o in outs]) for j in range(n_states))
        result = result if batched else tuple(r[0] for r in result)
        return result if mode == "LSTM" else result[0]
    return ref


def _cell_torch(mode):
    n_states = 2 if mode == "LSTM" else 1
    cls_name, extra = _TORCH[mode]

    def call(t, x, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        module = getattr(t.nn, cls_name + "Cell")(x.shape[-1], weights[1].shape[1], bias=len(weights) == 4,
                                                  dtype=x.dtype, **extra)
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"][:len(weights)]
        hx = (None if states[0] is None else tuple(states)) if mode == "LSTM" else states[0]
        out = t.func.functional_call(module, dict(zip(names, weights)), (x, hx))
        return tuple(out) if mode == "LSTM" else out
    return call


for _mode in _CELLS:
    register(OpSpec(_mode.lower() + "_cell", _cell_call(_mode), _cell_ref(_mode), _cell_sample(_mode),
                    _cell_torch(_mode), rtol32=2e-4))


# ----------------------------------------------------------------------------- embedding
def _embedding_sample(d, dtype):
    V, E = d.integers(1, 5), d.integers(1, 3)
    shape = d.shape(0, 2, max_side=4)
    indices = np.asarray(d.index_array(shape, V) % V)           # repeats are likely: they must accumulate
    weight = d.floats((V, E), dtype=dtype)
    return Sample([indices, weight], {"padding_idx": d.choice([None, 0, V - 1, -1]), "frozen": weight.copy()})


def _embedding_call(idx, w, padding_idx, frozen):
    """The lookup, with the padding row read from a constant copy: by definition that row gets
    no gradient (as PyTorch's), which finite differences agree with only if it is a constant."""
    if padding_idx is not None:
        rows = np.zeros((w.shape[0], 1), dtype=bool)
        rows[padding_idx] = True
        w = mg.where(mg.tensor(rows, device=w.device), frozen, w)
    return _emb_ops.embedding(idx, w, padding_idx=padding_idx)


register(OpSpec("embedding", _embedding_call, lambda idx, w, padding_idx, frozen: w[idx], _embedding_sample,
                lambda t, idx, w, padding_idx, frozen: t.nn.functional.embedding(idx, w, padding_idx=padding_idx)))


# ----------------------------------------------------------------------------- LSTM with projections
def _proj_groups(params, n_groups):
    """[w_ih, w_hh, b_ih, b_hh, w_hr] per layer and direction (biases None when absent)."""
    per = len(params) // n_groups
    groups = [list(params[k * per:(k + 1) * per]) for k in range(n_groups)]
    return [g[:2] + [None, None] + g[2:] if per == 3 else g for g in groups]


def _np_lstm_proj(x, h0, c0, *params, num_layers, bidirectional, batch_first, lengths):
    """Sequence by sequence, step by step: the LSTM cell, then h = W_hr h (the projection)."""
    if batch_first:
        x = x.transpose(1, 0, 2)
    T, B, _ = x.shape
    D = 2 if bidirectional else 1
    groups = _proj_groups(params, num_layers * D)
    P, H = groups[0][4].shape
    lens = [T] * B if lengths is None else [int(v) for v in lengths]
    h_n, c_n = np.zeros((num_layers * D, B, P)), np.zeros((num_layers * D, B, H))
    layer_in = x
    for layer in range(num_layers):
        out = np.zeros((T, B, D * P))
        for d in range(D):
            k = layer * D + d
            w_ih, w_hh, b_ih, b_hh, w_hr = groups[k]
            for b in range(B):
                h = np.zeros(P) if h0 is None else h0[k, b]
                c = np.zeros(H) if c0 is None else c0[k, b]
                for t in (range(lens[b] - 1, -1, -1) if d else range(lens[b])):
                    h, c = _np_cell("LSTM", layer_in[t, b], (h, c), w_ih, w_hh, b_ih, b_hh)
                    h = w_hr @ h
                    out[t, b, d * P:(d + 1) * P] = h
                h_n[k, b], c_n[k, b] = h, c
        layer_in = out
    return (layer_in.transpose(1, 0, 2) if batch_first else layer_in), h_n, c_n


def _lstm_proj_sample(d, dtype):
    T, B, I, H = d.integers(1, 3), d.integers(1, 3), d.integers(1, 3), d.integers(2, 3)
    P, L, bidir, batch_first, bias = d.integers(1, H - 1), d.integers(1, 2), d.boolean(), d.boolean(), d.boolean()
    D = 2 if bidir else 1
    x = d.floats((B, T, I) if batch_first else (T, B, I), "unit", dtype=dtype)
    states = ([d.floats((L * D, B, P), "unit", dtype=dtype), d.floats((L * D, B, H), "unit", dtype=dtype)]
              if d.boolean() else [None, None])
    params = []
    for layer in range(L):
        for _ in range(D):
            params += [d.floats((4 * H, I if layer == 0 else D * P), "unit", dtype=dtype),
                       d.floats((4 * H, P), "unit", dtype=dtype)]
            if bias:
                params += [d.floats((4 * H,), "unit", dtype=dtype), d.floats((4 * H,), "unit", dtype=dtype)]
            params.append(d.floats((P, H), "unit", dtype=dtype))
    lengths = np.array([d.integers(1, T) for _ in range(B)], dtype=np.int64) if d.boolean() else None
    return Sample([x] + states + params,
                  {"num_layers": L, "bidirectional": bidir, "batch_first": batch_first, "lengths": lengths})


def _mg_lstm_proj(x, h0, c0, *params, num_layers, bidirectional, batch_first, lengths):
    proj = params[-1].shape[0]
    out, (h_n, c_n) = _rec_ops.lstm(x, None if h0 is None else (h0, c0), list(params), num_layers=num_layers,
                                    bidirectional=bidirectional, batch_first=batch_first, lengths=lengths,
                                    proj_size=proj)
    return out, h_n, c_n


def _torch_lstm_proj(t, x, h0, c0, *params, num_layers, bidirectional, batch_first, lengths):
    P, H = params[-1].shape
    D = 2 if bidirectional else 1
    module = t.nn.LSTM(x.shape[-1], H, num_layers=num_layers, bias=len(params) == 5 * num_layers * D,
                       batch_first=batch_first, bidirectional=bidirectional, proj_size=P, dtype=x.dtype)
    inp = x if lengths is None else t.nn.utils.rnn.pack_padded_sequence(x, t.as_tensor(lengths),
                                                                        batch_first=batch_first, enforce_sorted=False)
    out, (h_n, c_n) = t.func.functional_call(module, dict(zip(module._flat_weights_names, params)),
                                             (inp, None if h0 is None else (h0, c0)))
    if lengths is not None:
        T = x.shape[1] if batch_first else x.shape[0]
        out = t.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=T)[0]
    return out, h_n, c_n


register(OpSpec("lstm_proj", _mg_lstm_proj, _np_lstm_proj, _lstm_proj_sample, _torch_lstm_proj, covers="lstm",
                rtol32=2e-4))
