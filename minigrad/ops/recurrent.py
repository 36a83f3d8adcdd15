"""Recurrent layers: Elman RNN (tanh / relu), LSTM and GRU, with backpropagation through time
written out in one place.

Shape legend (time-major inside; ``batch_first`` is a transpose in the wrappers):

    T  time steps        B  batch          I  input features       H  hidden size
    k  gates per cell: RNN 1, GRU 3 [r | z | n], LSTM 4 [i | f | g | o]  (PyTorch's order)
    x (T, B, I)   h0, c0, h_n, c_n (B, H)   y (T, B, H)
    w_ih (kH, I)  w_hh (kH, H)  b_ih, b_hh (kH,)
    lengths (B,) ints in [1, T]: sequence b is x[:lengths[b], b]

One :class:`Function` runs one layer in one direction over the whole sequence:

forward
    1. the input projection of every step at once, one matrix product:
       A = x W_ih^T  (T B, kH)
    2. the recurrence, per step t: the product h_{t-1} W_hh^T into a preallocated buffer, then
       the fused cell kernel (``kernels/recurrent.py``) turns A[t] + that product + the biases
       into the step's gate activations (kept in A for backward), the new state and h_t;
backward (through time, last step first)
    3. per step t: the cell kernel's backward turns dL/dh_t (from step t+1 plus dy_t) and
       dL/dc_t into the gradient of the pre-activations dA[t]; then dL/dh_{t-1} = dA[t] W_hh;
    4. after the loop, the weight gradients as a few large products over all steps:
       dW_ih = dA^T x,  dW_hh = dA^T [h_{-1}, ..., h_{T-2}],  db = sum_t dA[t],  dx = dA W_ih.

Variable lengths follow PyTorch's packed sequences: sequences are ordered longest first
(permuting the batch when they are not), so that the rows still running at step t are a
prefix ``[:n_t]``; only those are multiplied and updated, the others carry their state
unchanged.  So each sequence's final state is the one at its own length, the output is zero
past it, and padding never changes a result.  Each layer's states are saved (T + 1 of them:
``hs[0]`` or ``hs[T]`` is the initial one), and the "previous hidden state" of every step is
a contiguous view of them, so dW_hh needs no copy.

Second order: that backward (fused kernels, steps written out) serves ordinary gradients.
Each layer Function also has a ``composite``, the same recurrence written with differentiable
ops (one matrix product, sigmoid, tanh per gate and step; ``_recurrence``), which the engine
differentiates under ``create_graph``.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import as_tensor, refuse_float16
from .dropout import dropout as _dropout
from .shape import cat, reshape, stack, transpose
from ._kernels import kernels

__all__ = ["rnn_tanh", "rnn_relu", "lstm", "gru", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ----------------------------------------------------------------------------- the schedule
class _Plan:
    """Which rows each time step updates, in the order the steps run.

    ``steps`` lists ``(t, n_t, prev, cur)``: step t reads state ``hs[prev]`` and writes
    ``hs[cur]`` for rows ``[:n_t]``.  ``perm`` sorts the batch longest first (None when it
    already is); ``padded`` says whether some sequence is shorter than T.
    """

    __slots__ = ("T", "B", "steps", "perm", "inverse", "padded", "reverse")

    def __init__(self, T, B, lengths, reverse):
        self.T, self.B, self.reverse = T, B, reverse
        self.perm = self.inverse = None
        if lengths is None:
            counts = [B] * T
            self.padded = False
        else:
            if np.any(lengths[1:] > lengths[:-1]):
                self.perm = np.argsort(-lengths, kind="stable")
                self.inverse = np.argsort(self.perm, kind="stable")
                lengths = lengths[self.perm]
            counts = (lengths[None, :] > np.arange(T)[:, None]).sum(axis=1).tolist()
            self.padded = bool(lengths[-1] < T) if B else False
        order = range(T - 1, -1, -1) if reverse else range(T)
        self.steps = [(t, counts[t], t + 1 if reverse else t, t if reverse else t + 1) for t in order]

    @property
    def start(self):
        """Index in ``hs`` of the initial state."""
        return self.T if self.reverse else 0

    @property
    def final(self):
        return 0 if self.reverse else self.T

    def outputs(self, hs):
        """The per-step hidden states y (T, B, H) as a view of ``hs`` (T + 1, B, H)."""
        return hs[:self.T] if self.reverse else hs[1:]

    def previous(self, hs):
        """h_{t-1} of every step (T, B, H), a view: what dW_hh multiplies."""
        return hs[1:] if self.reverse else hs[:self.T]

    def sort(self, a, axis):
        return a if self.perm is None else backend.xp_of(a).take(a, self._on(a, self.perm), axis=axis)

    def unsort(self, a, axis):
        return a if self.perm is None else backend.xp_of(a).take(a, self._on(a, self.inverse), axis=axis)

    @staticmethod
    def _on(a, index):
        return index if isinstance(a, np.ndarray) else backend.xp_of(a).asarray(index)

    def mask_padding(self, y):
        """Zero the outputs past each sequence's end (a copy when there is padding)."""
        if not self.padded:
            return y
        y = y.copy()
        for t, n, _, _ in self.steps:
            if n < self.B:
                y[t, n:] = 0
        return y


def _initial(state, plan, shape, like):
    """The initial state (B, H) in the plan's batch order, as a contiguous array."""
    xp = backend.xp_of(like)
    if state is None:
        return xp.zeros(shape, dtype=like.dtype)
    return xp.ascontiguousarray(plan.sort(state, 0))


def _project(x, w_ih):
    """A = x W_ih^T: every step's input part, one matrix product (T, B, kH).  (The biases are
    added by the cell kernels, which read A anyway.)"""
    T, B, _ = x.shape
    return (x.reshape(T * B, -1) @ w_ih.T).reshape(T, B, -1)


def _bias(b_ih, b_hh, size, like):
    """b_ih + b_hh, or zeros without biases."""
    if b_ih is None:
        return backend.xp_of(like).zeros(size, dtype=like.dtype)
    return b_ih + b_hh


def _fresh(a):
    """A writable C-contiguous copy."""
    out = backend.xp_of(a).empty(a.shape, dtype=a.dtype)
    out[...] = a
    return out


def _carry(buffers, plan, n, prev, cur):
    """Rows past n are not running at this step: their state stays as it was."""
    if n < plan.B:
        for buf in buffers:
            buf[cur, n:] = buf[prev, n:]


def _after_loop(plan, dA, x, hs, w_ih, need_dx, need_dw_ih, need_dw_hh, need_db):
    """The gradients that do not depend on the recurrence, as large products over all steps:
    dx = dA W_ih, dW_ih = dA^T x, dW_hh = dA^T h_prev, db = sum over steps and batch of dA."""
    T, B = plan.T, plan.B
    dA2 = dA.reshape(T * B, -1)
    dx = plan.unsort((dA2 @ w_ih).reshape(T, B, -1), 1) if need_dx else None
    dw_ih = dA2.T @ x.reshape(T * B, -1) if need_dw_ih else None
    dw_hh = dA2.T @ plan.previous(hs).reshape(T * B, -1) if need_dw_hh else None
    db = dA2.sum(axis=0) if need_db else None
    return dx, dw_ih, dw_hh, db


def _backward_inputs(plan, dy, dh_n):
    """dy (T, B, H) and a writable dL/dh_n (B, H), in the plan's batch order."""
    dy = backend.xp_of(dy).ascontiguousarray(plan.sort(dy, 1))
    return dy, _fresh(plan.sort(dh_n, 0))


# ----------------------------------------------------------------------------- the layer Functions
class LSTMLayer(Function):
    """One LSTM layer, one direction, the whole sequence (the formulas of one step are in
    kernels/recurrent.py):  x (T, B, I), h0, c0 (B, H) -> y (T, B, H), h_n, c_n (B, H).

    BPTT: dA[t] = cell_backward(dL/dh_t, dL/dc_t);  dL/dh_{t-1} = dA[t] W_hh;
    dL/dc_{t-1} = dL/dc_t f_t;  dW_ih = dA^T x;  dW_hh = dA^T h_prev;  db_ih = db_hh = sum dA."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
        xp = backend.xp_of(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        plan = _Plan(T, B, lengths, reverse)
        x = xp.ascontiguousarray(plan.sort(x, 1))
        bias = _bias(b_ih, b_hh, 4 * H, x)
        gates = _project(x, w_ih)
        hs = xp.empty((T + 1, B, H), dtype=x.dtype)
        cs = xp.empty((T + 1, B, H), dtype=x.dtype)
        tanh_c = xp.empty((T, B, H), dtype=x.dtype)
        hs[plan.start] = _initial(h0, plan, (B, H), x)
        cs[plan.start] = _initial(c0, plan, (B, H), x)
        w_hh_t = xp.ascontiguousarray(w_hh.T)           # (H, 4H): a contiguous operand is faster per step
        gh = xp.zeros((B, 4 * H), dtype=x.dtype)
        cell = kernels("recurrent").lstm_cell_forward
        for k, (t, n, prev, cur) in enumerate(plan.steps):
            _carry((hs, cs), plan, n, prev, cur)
            if n:
                if k or h0 is not None:                  # a zero initial state contributes nothing
                    xp.matmul(hs[prev, :n], w_hh_t, out=gh[:n])
                cell(gates[t, :n], gh[:n], bias, cs[prev, :n], cs[cur, :n], hs[cur, :n], tanh_c[t, :n])
        ctx.save_for_backward(x, w_ih, w_hh, gates, hs, cs, tanh_c)
        ctx.plan = plan
        y = plan.unsort(plan.mask_padding(plan.outputs(hs)), 1)
        return y, _fresh(plan.unsort(hs[plan.final], 0)), _fresh(plan.unsort(cs[plan.final], 0))

    @staticmethod
    def backward(ctx, dy, dh_n, dc_n):
        x, w_ih, w_hh, gates, hs, cs, tanh_c = ctx.saved_tensors
        plan, needs = ctx.plan, ctx.needs_input_grad
        xp = backend.xp_of(x)
        dy, dh = _backward_inputs(plan, dy, dh_n)
        dc = _fresh(plan.sort(dc_n, 0))
        dA = xp.empty_like(gates)
        cell = kernels("recurrent").lstm_cell_backward
        for k in range(len(plan.steps) - 1, -1, -1):
            t, n, prev, cur = plan.steps[k]
            if n < plan.B:
                dA[t, n:] = 0
            if n:
                cell(gates[t, :n], cs[prev, :n], tanh_c[t, :n], dh[:n], dy[t, :n], dc[:n], dA[t, :n])
                if k or needs[1]:                          # the first step's product only feeds dL/dh0
                    xp.matmul(dA[t, :n], w_hh, out=dh[:n])
        dx, dw_ih, dw_hh, db = _after_loop(plan, dA, x, hs, w_ih, needs[0], needs[3], needs[4], needs[5] or needs[6])
        return (dx, plan.unsort(dh, 0) if needs[1] else None, plan.unsort(dc, 0) if needs[2] else None,
                dw_ih, dw_hh, db, db)

    @staticmethod
    def composite(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
        y, (h_n, c_n) = _recurrence(_lstm_step, x, (h0, c0), w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        return y, h_n, c_n


class GRULayer(Function):
    """One GRU layer, one direction, the whole sequence:  x (T, B, I), h0 (B, H) -> y, h_n.

    The reset gate multiplies the hidden product *with its bias* (PyTorch's GRU), so the input
    and hidden sides get different gradients for the n block: dgh = [dr, dz, dn r] (gradient of
    h_prev W_hh^T + b_hh) and dgx = [dr, dz, dn] (of x W_ih^T + b_ih).  BPTT:
    dL/dh_{t-1} = dL/dh_t z + dgh[t] W_hh;  dW_hh = dgh^T h_prev;  dW_ih = dgx^T x;
    db_hh = sum dgh;  db_ih = sum dgx."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
        xp = backend.xp_of(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        plan = _Plan(T, B, lengths, reverse)
        x = xp.ascontiguousarray(plan.sort(x, 1))
        gates = _project(x, w_ih)
        zero = xp.zeros(3 * H, dtype=x.dtype)
        b_ih = zero if b_ih is None else xp.ascontiguousarray(b_ih)
        b_hh = zero if b_hh is None else xp.ascontiguousarray(b_hh)
        hs = xp.empty((T + 1, B, H), dtype=x.dtype)
        hn = xp.empty((T, B, H), dtype=x.dtype)
        hs[plan.start] = _initial(h0, plan, (B, H), x)
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        gh = xp.zeros((B, 3 * H), dtype=x.dtype)
        cell = kernels("recurrent").gru_cell_forward
        for k, (t, n, prev, cur) in enumerate(plan.steps):
            _carry((hs,), plan, n, prev, cur)
            if n:
                if k or h0 is not None:                  # a zero initial state contributes nothing
                    xp.matmul(hs[prev, :n], w_hh_t, out=gh[:n])
                cell(gates[t, :n], gh[:n], b_ih, b_hh, hs[prev, :n], hn[t, :n], hs[cur, :n])
        ctx.save_for_backward(x, w_ih, w_hh, gates, hs, hn)
        ctx.plan = plan
        y = plan.unsort(plan.mask_padding(plan.outputs(hs)), 1)
        return y, _fresh(plan.unsort(hs[plan.final], 0))

    @staticmethod
    def backward(ctx, dy, dh_n):
        x, w_ih, w_hh, gates, hs, hn = ctx.saved_tensors
        plan, needs = ctx.plan, ctx.needs_input_grad
        xp = backend.xp_of(x)
        T, B = plan.T, plan.B
        H = w_hh.shape[1]
        dy, dh = _backward_inputs(plan, dy, dh_n)
        dgh = xp.empty_like(gates)                 # gradient of h_prev W_hh^T + b_hh
        dnx = xp.empty_like(hn)                    # gradient of x W_in^T + b_in (r, z: as dgh)
        tmp = xp.empty_like(dh)
        cell = kernels("recurrent").gru_cell_backward
        for k in range(len(plan.steps) - 1, -1, -1):
            t, n, prev, cur = plan.steps[k]
            if n < B:
                dgh[t, n:] = 0
                dnx[t, n:] = 0
            if n:
                cell(gates[t, :n], hn[t, :n], hs[prev, :n], dh[:n], dy[t, :n], dgh[t, :n], dnx[t, :n])
                if k or needs[1]:
                    xp.matmul(dgh[t, :n], w_hh, out=tmp[:n])
                    dh[:n] += tmp[:n]
        dgh2, dnx2 = dgh.reshape(T * B, 3 * H), dnx.reshape(T * B, H)
        x2 = x.reshape(T * B, -1)
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        if needs[0]:
            dx = dgh2[:, :2 * H] @ w_ih[:2 * H]
            dx += dnx2 @ w_ih[2 * H:]
            dx = plan.unsort(dx.reshape(T, B, -1), 1)
        if needs[2]:
            dw_ih = xp.empty_like(w_ih)
            xp.matmul(dgh2[:, :2 * H].T, x2, out=dw_ih[:2 * H])
            xp.matmul(dnx2.T, x2, out=dw_ih[2 * H:])
        if needs[3]:
            dw_hh = dgh2.T @ plan.previous(hs).reshape(T * B, H)
        if len(needs) > 4 and (needs[4] or needs[5]):
            db_hh = dgh2.sum(axis=0)
            db_ih = xp.concatenate([db_hh[:2 * H], dnx2.sum(axis=0)])
        return dx, plan.unsort(dh, 0) if needs[1] else None, dw_ih, dw_hh, db_ih, db_hh

    @staticmethod
    def composite(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
        y, (h_n,) = _recurrence(_gru_step, x, (h0,), w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        return y, h_n


class RNNLayer(Function):
    """One Elman RNN layer, one direction:  h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),
    act = tanh (d = 1 - h^2) or relu (d = [h > 0]).  BPTT: dA[t] = (dL/dh_t + dy_t) act'(h_t);
    dL/dh_{t-1} = dA[t] W_hh;  dW_ih = dA^T x;  dW_hh = dA^T h_prev;  db_ih = db_hh = sum dA."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, nonlinearity):
        xp = backend.xp_of(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        plan = _Plan(T, B, lengths, reverse)
        x = xp.ascontiguousarray(plan.sort(x, 1))
        bias = _bias(b_ih, b_hh, H, x)
        pre = _project(x, w_ih)
        hs = xp.empty((T + 1, B, H), dtype=x.dtype)
        hs[plan.start] = _initial(h0, plan, (B, H), x)
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        gh = xp.zeros((B, H), dtype=x.dtype)
        cell = kernels("recurrent").rnn_cell_forward
        for k, (t, n, prev, cur) in enumerate(plan.steps):
            _carry((hs,), plan, n, prev, cur)
            if n:
                if k or h0 is not None:                  # a zero initial state contributes nothing
                    xp.matmul(hs[prev, :n], w_hh_t, out=gh[:n])
                cell(pre[t, :n], gh[:n], bias, hs[cur, :n], nonlinearity)
        ctx.save_for_backward(x, w_ih, w_hh, hs)
        ctx.plan, ctx.nonlinearity = plan, nonlinearity
        y = plan.unsort(plan.mask_padding(plan.outputs(hs)), 1)
        return y, _fresh(plan.unsort(hs[plan.final], 0))

    @staticmethod
    def backward(ctx, dy, dh_n):
        x, w_ih, w_hh, hs = ctx.saved_tensors
        plan, needs = ctx.plan, ctx.needs_input_grad
        xp = backend.xp_of(x)
        dy, dh = _backward_inputs(plan, dy, dh_n)
        dA = xp.empty((plan.T, plan.B, w_hh.shape[1]), dtype=x.dtype)
        cell = kernels("recurrent").rnn_cell_backward
        for k in range(len(plan.steps) - 1, -1, -1):
            t, n, prev, cur = plan.steps[k]
            if n < plan.B:
                dA[t, n:] = 0
            if n:
                cell(hs[cur, :n], dh[:n], dy[t, :n], dA[t, :n], ctx.nonlinearity)
                if k or needs[1]:                          # the first step's product only feeds dL/dh0
                    xp.matmul(dA[t, :n], w_hh, out=dh[:n])
        dx, dw_ih, dw_hh, db = _after_loop(plan, dA, x, hs, w_ih, needs[0], needs[2], needs[3], needs[4] or needs[5])
        return dx, plan.unsort(dh, 0) if needs[1] else None, dw_ih, dw_hh, db, db

    @staticmethod
    def composite(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, nonlinearity):
        step = _rnn_tanh_step if nonlinearity == "tanh" else _rnn_relu_step
        y, (h_n,) = _recurrence(step, x, (h0,), w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        return y, h_n


# ----------------------------------------------------------------------------- the composites (create_graph)
def _affine(x, w, b):
    out = x @ w.T
    return out if b is None else out + b


def _lstm_step(x, states, w_ih, w_hh, b_ih, b_hh):
    h, c = states
    i, f, g, o = (_affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _lstm_proj_step(w_hr):
    """An LSTM step whose hidden state is projected: h = (o tanh(c)) W_hr^T (PyTorch's proj_size)."""
    def step(x, states, w_ih, w_hh, b_ih, b_hh):
        h, c = _lstm_step(x, states, w_ih, w_hh, b_ih, b_hh)
        return h @ w_hr.T, c
    return step


def _gru_step(x, states, w_ih, w_hh, b_ih, b_hh):
    (h,) = states
    xr, xz, xn = _affine(x, w_ih, b_ih).chunk(3, 1)
    hr, hz, hn = _affine(h, w_hh, b_hh).chunk(3, 1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return ((1 - z) * n + z * h,)


def _rnn_tanh_step(x, states, w_ih, w_hh, b_ih, b_hh):
    return ((_affine(x, w_ih, b_ih) + _affine(states[0], w_hh, b_hh)).tanh(),)


def _rnn_relu_step(x, states, w_ih, w_hh, b_ih, b_hh):
    return ((_affine(x, w_ih, b_ih) + _affine(states[0], w_hh, b_hh)).relu(),)


def _recurrence(step, x, initial, w_ih, w_hh, b_ih, b_hh, lengths, reverse, sizes=None):
    """One layer and direction with differentiable ops, on the same schedule as the fused
    Functions (longest sequences first, rows [:n_t] running at step t): (y, final states).
    ``sizes``: each state's width (default: the hidden size for all; a projected LSTM's h and c differ)."""
    T, B, _ = x.shape
    sizes = sizes or [w_hh.shape[1]] * len(initial)
    plan = _Plan(T, B, lengths, reverse)
    xp = backend.xp_of(x._data)

    def sort(t, dim):
        return t if plan.perm is None else t.index_select(dim, Tensor._wrap(xp.asarray(plan.perm)))

    def unsort(t, dim):
        return t if plan.perm is None else t.index_select(dim, Tensor._wrap(xp.asarray(plan.inverse)))

    def zeros(rows, width):
        return Tensor._wrap(xp.zeros((rows, width), dtype=x.dtype))

    x = sort(x, 1)
    states = [zeros(B, size) if s is None else sort(s, 0) for s, size in zip(initial, sizes)]
    ys = [None] * T
    for t, n, _, _ in plan.steps:
        if n == 0:
            ys[t] = zeros(B, sizes[0])
            continue
        new = step(x[t, :n], [s[:n] for s in states], w_ih, w_hh, b_ih, b_hh)
        if n < B:                          # rows past n are not running: state kept, output 0
            states = [cat([a, s[n:]], 0) for a, s in zip(new, states)]
            ys[t] = cat([new[0], zeros(B - n, sizes[0])], 0)
        else:
            states = list(new)
            ys[t] = new[0]
    return unsort(stack(ys, 0), 1), tuple(unsort(s, 0) for s in states)


# ----------------------------------------------------------------------------- argument checks
def _lengths(lengths, T, B, opname):
    """Host int64 array (B,) with values in [1, T], or None."""
    if lengths is None:
        return None
    if isinstance(lengths, Tensor):
        lengths = lengths._data
    if backend.is_array(lengths) and not isinstance(lengths, np.ndarray):
        lengths = backend.to_device(lengths, backend.CPU)
    arr = np.asarray(lengths)
    if arr.dtype.kind not in "iu" and arr.size:
        raise TypeError(f"{opname}: lengths must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64).reshape(-1) if arr.ndim <= 1 else arr
    if arr.shape != (B,):
        raise ArgumentError(f"{opname}: lengths must have one entry per sequence, shape ({B},); got {np.shape(lengths)}")
    if B and (arr.min() < 1 or arr.max() > T):
        raise ArgumentError(f"{opname}: lengths must be in [1, {T}] (the padded length), got min {arr.min()} "
                         f"and max {arr.max()}")
    return arr


def _same_kind(opname, x, tensors):
    for name, t in tensors:
        if t is None:
            continue
        if t._data.dtype != x._data.dtype:
            raise TypeError(f"{opname}: {name} is {t._data.dtype} but the input is {x._data.dtype}")
        if type(t._data) is not type(x._data):
            raise RuntimeError(f"{opname}: {name} is on {t.device} but the input is on {x.device}")


def _check_layer_weights(opname, mode, w_ih, w_hh, b_ih, b_hh, in_size, where):
    k = GATES[mode]
    if w_hh._data.ndim != 2 or w_hh._data.shape[0] != k * w_hh._data.shape[1]:
        raise ArgumentError(f"{opname}: weight_hh{where} must have shape ({k} * hidden_size, hidden_size), "
                         f"got {w_hh._data.shape}")
    H = w_hh._data.shape[1]
    if w_ih._data.shape != (k * H, in_size):
        raise ArgumentError(f"{opname}: weight_ih{where} must have shape ({k * H}, {in_size}) for input size {in_size} "
                         f"and hidden size {H}, got {w_ih._data.shape}")
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None and b._data.shape != (k * H,):
            raise ArgumentError(f"{opname}: {name}{where} must have shape ({k * H},), got {b._data.shape}")
    if (b_ih is None) != (b_hh is None):
        raise ArgumentError(f"{opname}: give both biases or neither")
    return H


def _float_input(input, opname):
    x = as_tensor(input, opname)
    if x._data.dtype.kind != "f":
        raise TypeError(f"{opname}: input must be a floating-point tensor, got {x._data.dtype}")
    refuse_float16(opname, x)
    return x


def _split_params(opname, params, num_layers, directions, proj=False):
    """Per layer and direction ``[w_ih, w_hh, b_ih, b_hh]`` (None for absent biases), plus
    ``w_hr`` last for a projected LSTM (PyTorch's flat order puts it after the biases)."""
    params = list(params)
    per = len(params) // max(num_layers * directions, 1)
    allowed = (3, 5) if proj else (2, 4)
    if per not in allowed or per * num_layers * directions != len(params):
        names = "weight_ih, weight_hh, bias_ih, bias_hh" + (", weight_hr" if proj else "")
        raise ArgumentError(f"{opname}: expected {num_layers * directions * allowed[1]} parameters ({names} per layer "
                         f"and direction) or {num_layers * directions * allowed[0]} without biases, got {len(params)}")
    groups = [[as_tensor(p, opname) for p in params[k * per:(k + 1) * per]] for k in range(num_layers * directions)]
    if per == allowed[0]:                           # no biases: [w_ih, w_hh(, w_hr)]
        groups = [g[:2] + [None, None] + g[2:] for g in groups]
    return groups


def _check_proj_weights(opname, w_ih, w_hh, b_ih, b_hh, w_hr, in_size, where):
    """A projected LSTM layer: w_hr (P, H), w_hh (4H, P), w_ih (4H, in), biases (4H,); returns (H, P)."""
    if w_hr._data.ndim != 2 or not 0 < w_hr._data.shape[0] < w_hr._data.shape[1]:
        raise ArgumentError(f"{opname}: weight_hr{where} must have shape (proj_size, hidden_size) with "
                         f"0 < proj_size < hidden_size, got {w_hr._data.shape}")
    P, H = w_hr._data.shape
    expected = {"weight_ih": (4 * H, in_size), "weight_hh": (4 * H, P), "bias_ih": (4 * H,), "bias_hh": (4 * H,)}
    for name, t in (("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
        if t is not None and t._data.shape != expected[name]:
            raise ArgumentError(f"{opname}: {name}{where} must have shape {expected[name]} for hidden size {H}, "
                             f"proj size {P} and input size {in_size}, got {t._data.shape}")
    return H, P


def _state(opname, name, h, L, B, H, unbatched, x):
    if h is None:
        return None
    h = as_tensor(h, opname)
    expected = (L, H) if unbatched else (L, B, H)
    if h._data.shape != expected:
        raise ArgumentError(f"{opname}: {name} must have shape {expected} (num_layers * num_directions, "
                         f"{'' if unbatched else 'batch, '}hidden_size), got {h._data.shape}")
    _same_kind(opname, x, [(name, h)])
    return reshape(h, L, 1, H) if unbatched else h


def _layer(mode, x, init, weights, lengths, reverse):
    """One layer in one direction: ``(y, final states)``, the states ``(h_n, c_n)`` for an LSTM,
    ``(h_n,)`` otherwise.  The one place a mode picks its Function; ``weights`` is
    ``(w_ih, w_hh, b_ih, b_hh)``, ``init`` the initial states (None: zeros)."""
    if mode == "LSTM":
        y, h_n, c_n = LSTMLayer.apply(x, init[0], init[1], *weights, lengths, reverse)
        return y, (h_n, c_n)
    if mode == "GRU":
        y, h_n = GRULayer.apply(x, init[0], *weights, lengths, reverse)
        return y, (h_n,)
    y, h_n = RNNLayer.apply(x, init[0], *weights, lengths, reverse, "tanh" if mode == "RNN_TANH" else "relu")
    return y, (h_n,)


def _run(mode, input, hx, params, num_layers, bidirectional, batch_first, dropout, training, lengths,
         generator, proj_size=0):
    """The stack: layers of one Function per direction, the directions' outputs concatenated,
    dropout between layers.  Returns (output, [h_n] or [h_n, c_n])."""
    opname = mode.lower()
    if not isinstance(num_layers, int) or num_layers < 1:
        raise ArgumentError(f"{opname}: num_layers must be a positive integer, got {num_layers!r}")
    if not 0.0 <= dropout <= 1.0:
        raise ArgumentError(f"{opname}: dropout must be in [0, 1], got {dropout}")
    x = _float_input(input, opname)
    given_shape = x._data.shape
    if x._data.ndim not in (2, 3):
        raise ArgumentError(f"{opname}: expected input of 2 (unbatched: seq_len, input_size) or 3 dims, got shape "
                         f"{x._data.shape}")
    unbatched = x._data.ndim == 2
    if unbatched:
        x = reshape(x, x._data.shape[0], 1, x._data.shape[1])
    elif batch_first:
        x = transpose(x, 0, 1)
    T, B, in_size = x._data.shape
    if T == 0:
        raise ArgumentError(f"{opname}: expected a sequence length larger than 0 (as PyTorch), got input of shape "
                         f"{given_shape}")
    D = 2 if bidirectional else 1
    proj = bool(proj_size)
    groups = _split_params(opname, params, num_layers, D, proj)
    lens = _lengths(lengths, T, B, opname)
    if unbatched and lens is not None:
        raise ArgumentError(f"{opname}: lengths need a batch dimension in the input")
    H = P = None                                    # P: the width of h (H, or proj_size)
    for k, g in enumerate(groups):
        layer, d = divmod(k, D)
        where = f"_l{layer}" + ("_reverse" if d else "")
        layer_in = in_size if layer == 0 else D * P
        size, width = (_check_proj_weights(opname, *g, layer_in, where) if proj else
                       (_check_layer_weights(opname, mode, *g, layer_in, where),) * 2)
        if H is not None and (size, width) != (H, P):
            raise ArgumentError(f"{opname}: weight_hh{where} has hidden size {size}, the first layer {H}")
        H, P = size, width
        _same_kind(opname, x, zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"), g))
    if mode == "LSTM":
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{opname}: hx must be a tuple (h_0, c_0) or None")
        h0, c0 = hx if hx is not None else (None, None)
        states = [_state(opname, "h_0", h0, num_layers * D, B, P, unbatched, x),
                  _state(opname, "c_0", c0, num_layers * D, B, H, unbatched, x)]
    else:
        states = [_state(opname, "h_0", hx, num_layers * D, B, H, unbatched, x)]
    finals = [[] for _ in states]
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            k = layer * D + d
            init = [None if s is None else s[k] for s in states]
            if B == 0:
                y, *new = _empty_batch_layer(x, init, groups[k], [P, H][:len(states)])
            elif proj:                              # no fused kernel: the differentiable composite
                w_ih, w_hh, b_ih, b_hh, w_hr = groups[k]
                y, new = _recurrence(_lstm_proj_step(w_hr), x, init, w_ih, w_hh, b_ih, b_hh, lens, d == 1,
                                     sizes=[P, H])
            else:
                y, new = _layer(mode, x, init, groups[k], lens, reverse=d == 1)
            new = tuple(new)
            outs.append(y)
            for lst, s in zip(finals, new):
                lst.append(s)
        x = outs[0] if D == 1 else cat(outs, 2)
        if dropout and training and layer < num_layers - 1:
            x = _dropout(x, dropout, True, generator=generator)
    finals = [stack(f, 0) for f in finals]
    if unbatched:
        return reshape(x, T, -1), [reshape(f, f._data.shape[0], f._data.shape[-1]) for f in finals]
    return (transpose(x, 0, 1) if batch_first else x), finals


def _empty_batch_layer(x, init, weights, sizes):
    """A layer over a batch of 0 sequences (the cell kernels need at least one): empty outputs
    (T, 0, sizes[0]) and states (0, size) of each width in ``sizes``, joined to the inputs by
    ``sum * 0`` so that backward still reaches them, with zero gradients for the weights, as
    PyTorch gives."""
    link = x.sum() * 0
    for t in [*init, *weights]:
        if t is not None:
            link = link + t.sum() * 0
    xp = backend.xp_of(x._data)
    T = x._data.shape[0]
    y = link + Tensor._wrap(xp.zeros((T, 0, sizes[0]), dtype=x._data.dtype))
    return (y, *[link + Tensor._wrap(xp.zeros((0, size), dtype=x._data.dtype)) for size in sizes])


# ----------------------------------------------------------------------------- public functions
def lstm(input, hx, params, num_layers=1, bidirectional=False, batch_first=False, dropout=0.0, training=False,
         lengths=None, generator=None, proj_size=0):
    """A stacked LSTM (what ``nn.LSTM`` runs): returns ``(output, (h_n, c_n))``.

    ``input`` (T, B, I) (``batch_first``: (B, T, I); unbatched: (T, I)); ``hx`` None or
    ``(h_0, c_0)``, each (num_layers * num_directions, B, H); ``params`` PyTorch's flat order:
    per layer, per direction, weight_ih, weight_hh[, bias_ih, bias_hh].  ``lengths`` (B,) gives
    each sequence's length in a padded batch: outputs past it are zero and h_n, c_n are taken
    at it, as PyTorch's packed sequences.  ``dropout`` applies between layers when ``training``.
    ``proj_size`` P > 0: each layer's h is projected, h = (o tanh(c)) W_hr^T of width P, with
    ``weight_hr`` after each layer-direction's biases in ``params`` and h_0 (L D, B, P); this
    runs the recurrence as differentiable ops step by step (no fused kernel).
    """
    out, (h_n, c_n) = _run("LSTM", input, hx, params, num_layers, bidirectional, batch_first, dropout, training,
                           lengths, generator, proj_size)
    return out, (h_n, c_n)


def gru(input, hx, params, num_layers=1, bidirectional=False, batch_first=False, dropout=0.0, training=False,
        lengths=None, generator=None):
    """A stacked GRU (``nn.GRU``): returns ``(output, h_n)``; arguments as :func:`lstm`."""
    out, (h_n,) = _run("GRU", input, hx, params, num_layers, bidirectional, batch_first, dropout, training, lengths,
                       generator)
    return out, h_n


def rnn_tanh(input, hx, params, num_layers=1, bidirectional=False, batch_first=False, dropout=0.0, training=False,
             lengths=None, generator=None):
    """A stacked Elman RNN with tanh (``nn.RNN``): returns ``(output, h_n)``; arguments as :func:`lstm`."""
    out, (h_n,) = _run("RNN_TANH", input, hx, params, num_layers, bidirectional, batch_first, dropout, training,
                       lengths, generator)
    return out, h_n


def rnn_relu(input, hx, params, num_layers=1, bidirectional=False, batch_first=False, dropout=0.0, training=False,
             lengths=None, generator=None):
    """A stacked Elman RNN with relu (``nn.RNN(nonlinearity='relu')``): returns ``(output, h_n)``."""
    out, (h_n,) = _run("RNN_RELU", input, hx, params, num_layers, bidirectional, batch_first, dropout, training,
                       lengths, generator)
    return out, h_n


# ----------------------------------------------------------------------------- cells: one step
def _cell(mode, input, states, w_ih, w_hh, b_ih, b_hh):
    """One time step: the layer Function with T = 1.  input (B, I) or (I,); states (B, H) or (H,)."""
    opname = mode.lower() + "_cell"
    x = _float_input(input, opname)
    if x._data.ndim not in (1, 2):
        raise ArgumentError(f"{opname}: expected input of shape (batch, input_size) or (input_size,), got "
                         f"{x._data.shape}")
    unbatched = x._data.ndim == 1
    B, in_size = (1, x._data.shape[0]) if unbatched else x._data.shape
    w_ih, w_hh = as_tensor(w_ih, opname), as_tensor(w_hh, opname)
    b_ih = None if b_ih is None else as_tensor(b_ih, opname)
    b_hh = None if b_hh is None else as_tensor(b_hh, opname)
    H = _check_layer_weights(opname, mode, w_ih, w_hh, b_ih, b_hh, in_size, "")
    _same_kind(opname, x, [("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)])
    init = []
    for name, s in states:
        if s is None:
            init.append(None)
            continue
        s = as_tensor(s, opname)
        expected = (H,) if unbatched else (B, H)
        if s._data.shape != expected:
            raise ArgumentError(f"{opname}: {name} must have shape {expected}, got {s._data.shape}")
        _same_kind(opname, x, [(name, s)])
        init.append(reshape(s, 1, H) if unbatched else s)
    _, out = _layer(mode, reshape(x, 1, B, in_size), init, (w_ih, w_hh, b_ih, b_hh), None, reverse=False)
    return tuple(reshape(o, H) for o in out) if unbatched else out


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (``nn.LSTMCell``): ``hx`` None or ``(h, c)``; returns ``(h', c')``."""
    h, c = (None, None) if hx is None else hx
    return _cell("LSTM", input, (("h", h), ("c", c)), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (``nn.GRUCell``): returns h'."""
    return _cell("GRU", input, (("hx", hx),), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with tanh (``nn.RNNCell``): returns h'."""
    return _cell("RNN_TANH", input, (("hx", hx),), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with relu (``nn.RNNCell(nonlinearity='relu')``): returns h'."""
    return _cell("RNN_RELU", input, (("hx", hx),), w_ih, w_hh, b_ih, b_hh)[0]
