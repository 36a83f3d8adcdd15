"""The gate math of one recurrent time step, fused: LSTM, GRU and Elman RNN cells.

Shapes (one step, ``n`` active rows of the batch; H hidden size):

    gates   (n, 4H) LSTM [i | f | g | o],  (n, 3H) GRU [r | z | n]: the input part x W_ih^T
    gh      (n, 4H) / (n, 3H) / (n, H)    the recurrent product h_prev @ W_hh^T of this step
    bias    (4H,) LSTM, (H,) RNN: b_ih + b_hh;   b_ih, b_hh (3H,) GRU (b_hh sits inside r's product)
    c_prev, c, h_prev, h, tanh_c, hn, dh, dy, dc, dnx, dpre   (n, H)

The time loop, the matrix products and the weight gradients live in ``minigrad/ops/recurrent.py``;
these functions are the elementwise part of one step, forward and backward.  With
s(a) = 1 / (1 + exp(-a)) (computed as 0.5 + 0.5 tanh(a / 2)):

LSTM   a = gates + gh + bias
       i = s(a_i)  f = s(a_f)  g = tanh(a_g)  o = s(a_o);   c = f c_prev + i g;   h = o tanh(c)
  back dH = dh + dy;  dC = dc + dH o (1 - tanh(c)^2)
       da_i = dC g i (1 - i)   da_f = dC c_prev f (1 - f)   da_g = dC i (1 - g^2)
       da_o = dH tanh(c) o (1 - o);                          dc_prev = dC f

GRU    r = s(x_r + b_ir + gh_r + b_hr)  z = s(x_z + b_iz + gh_z + b_hz)  hn = gh_n + b_hn
       n = tanh(x_n + b_in + r hn);    h = (1 - z) n + z h_prev
  back dH = dh + dy;  dn = dH (1 - z) (1 - n^2)
       dgh = [dn hn r (1 - r) | dH (h_prev - n) z (1 - z) | dn r]   (gradient of gh + b_hh)
       dnx = dn                                                     (gradient of x_n; x_r, x_z as dgh)
       dh_prev = dH z + dgh @ W_hh                                   (the caller adds the product)

RNN    h = tanh(pre + gh + bias)  or  relu(...);   dpre = dH (1 - h^2)  or  dH [h > 0]

Forward functions overwrite ``gates`` with the activations (what backward reads) and write
their outputs in place; backward functions write theirs in place.  On the CPU the
transcendental functions are NumPy's own (vectorised: 20x faster than a Numba loop calling
the C library's tanh, measured on 64 x 1024 float32: 79 us against 1.58 ms) and the
arithmetic around them is Numba; on the GPU each step is one CuPy kernel.  Each function
has a plain NumPy reference (``*_ref``, returning new arrays) that the tests compare against.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_MIN_ELEMENTS, check_contiguous, check_float, check_same_device, is_numpy

NONLINEARITIES = ("tanh", "relu")


# ----------------------------------------------------------------------------- NumPy references
def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_cell_forward_ref(gates, gh, bias, c_prev):
    """-> (activated gates (n, 4H), c, h, tanh_c)"""
    H = c_prev.shape[1]
    a = gates + gh + bias
    i, f, g, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), _sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    return np.concatenate([i, f, g, o], axis=1), c, o * tc, tc


def lstm_cell_backward_ref(gates, c_prev, tanh_c, dh, dy, dc):
    """-> (dgates (n, 4H): gradient of the pre-activations, dc_prev)"""
    H = c_prev.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    dH = dh + dy
    dC = dc + dH * o * (1 - tanh_c ** 2)
    dgates = np.concatenate([dC * g * i * (1 - i), dC * c_prev * f * (1 - f), dC * i * (1 - g ** 2),
                             dH * tanh_c * o * (1 - o)], axis=1)
    return dgates, dC * f


def gru_cell_forward_ref(gates, gh, b_ih, b_hh, h_prev):
    """-> (activated gates [r | z | n] (n, 3H), hn, h)"""
    H = h_prev.shape[1]
    x = gates + b_ih
    r = _sigmoid(x[:, :H] + gh[:, :H] + b_hh[:H])
    z = _sigmoid(x[:, H:2 * H] + gh[:, H:2 * H] + b_hh[H:2 * H])
    hn = gh[:, 2 * H:] + b_hh[2 * H:]
    n = np.tanh(x[:, 2 * H:] + r * hn)
    return np.concatenate([r, z, n], axis=1), hn, (1 - z) * n + z * h_prev


def gru_cell_backward_ref(gates, hn, h_prev, dh, dy):
    """-> (dh direct part dH z, dgh (n, 3H), dnx (n, H))"""
    H = h_prev.shape[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dH = dh + dy
    dn = dH * (1 - z) * (1 - n ** 2)
    dgh = np.concatenate([dn * hn * r * (1 - r), dH * (h_prev - n) * z * (1 - z), dn * r], axis=1)
    return dH * z, dgh, dn


def rnn_cell_forward_ref(pre, gh, bias, nonlinearity):
    a = pre + gh + bias
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)


def rnn_cell_backward_ref(h, dh, dy, nonlinearity):
    dH = dh + dy
    return dH * (1 - h ** 2) if nonlinearity == "tanh" else dH * (h > 0)


# ----------------------------------------------------------------------------- Numba (CPU)
# Each step is a few passes over (n, 4H): Numba for the arithmetic, NumPy for tanh.  The
# row bodies are shared by a serial driver (small batches: the common case) and a prange one.

@njit(cache=True, nogil=True, inline="always")
def _lstm_pre_row(gates, gh, bias, b, H):
    """a = gates + gh + bias, halved for the sigmoid gates (s(a) = 0.5 + 0.5 tanh(a / 2))."""
    T = gates.dtype.type
    half = T(0.5)
    gr, ghr = gates[b], gh[b]
    for j in range(2 * H):
        gr[j] = half * (gr[j] + ghr[j] + bias[j])
    for j in range(2 * H, 3 * H):
        gr[j] = gr[j] + ghr[j] + bias[j]
    for j in range(3 * H, 4 * H):
        gr[j] = half * (gr[j] + ghr[j] + bias[j])


@njit(cache=True, nogil=True, inline="always")
def _lstm_state_row(gates, c_prev, c, b, H):
    """gates hold tanh of the (halved) pre-activations: finish the sigmoids, c = f c_prev + i g."""
    T = gates.dtype.type
    half = T(0.5)
    gr, cp, cr = gates[b], c_prev[b], c[b]          # row views: short loops over few arrays vectorise
    for j in range(2 * H):
        gr[j] = half + half * gr[j]
    for j in range(3 * H, 4 * H):
        gr[j] = half + half * gr[j]
    for j in range(H):
        cr[j] = gr[H + j] * cp[j] + gr[j] * gr[2 * H + j]


@njit(cache=True, nogil=True)
def _lstm_pre_serial(gates, gh, bias):
    H = gates.shape[1] // 4
    for b in range(gates.shape[0]):
        _lstm_pre_row(gates, gh, bias, b, H)


@njit(cache=True, nogil=True, parallel=True)
def _lstm_pre_parallel(gates, gh, bias):
    H = gates.shape[1] // 4
    for b in prange(gates.shape[0]):
        _lstm_pre_row(gates, gh, bias, b, H)


@njit(cache=True, nogil=True)
def _lstm_state_serial(gates, c_prev, c):
    H = c.shape[1]
    for b in range(c.shape[0]):
        _lstm_state_row(gates, c_prev, c, b, H)


@njit(cache=True, nogil=True, parallel=True)
def _lstm_state_parallel(gates, c_prev, c):
    H = c.shape[1]
    for b in prange(c.shape[0]):
        _lstm_state_row(gates, c_prev, c, b, H)


@njit(cache=True, nogil=True, inline="always")
def _lstm_backward_row(gates, c_prev, tanh_c, dh, dy, dc, dgates, b, H):
    T = gates.dtype.type
    one = T(1.0)
    gr, dg, cp, tcr, dhr, dyr, dcr = gates[b], dgates[b], c_prev[b], tanh_c[b], dh[b], dy[b], dc[b]
    # three short loops (o and dC; i and g; f and dc_prev) vectorise, one long one does not
    for j in range(H):
        dH = dhr[j] + dyr[j]
        tc = tcr[j]
        o = gr[3 * H + j]
        dg[3 * H + j] = dH * tc * o * (one - o)
        dcr[j] = dcr[j] + dH * o * (one - tc * tc)
    for j in range(H):
        i = gr[j]
        g = gr[2 * H + j]
        dg[j] = dcr[j] * g * i * (one - i)
        dg[2 * H + j] = dcr[j] * i * (one - g * g)
    for j in range(H):
        f = gr[H + j]
        dg[H + j] = dcr[j] * cp[j] * f * (one - f)
        dcr[j] = dcr[j] * f


@njit(cache=True, nogil=True)
def _lstm_backward_serial(gates, c_prev, tanh_c, dh, dy, dc, dgates):
    H = dc.shape[1]
    for b in range(dc.shape[0]):
        _lstm_backward_row(gates, c_prev, tanh_c, dh, dy, dc, dgates, b, H)


@njit(cache=True, nogil=True, parallel=True)
def _lstm_backward_parallel(gates, c_prev, tanh_c, dh, dy, dc, dgates):
    H = dc.shape[1]
    for b in prange(dc.shape[0]):
        _lstm_backward_row(gates, c_prev, tanh_c, dh, dy, dc, dgates, b, H)


@njit(cache=True, nogil=True, inline="always")
def _gru_pre_row(gates, gh, b_ih, b_hh, hn, b, H):
    """Halved r, z pre-activations into gates; x_n + b_in; hn = gh_n + b_hn."""
    T = gates.dtype.type
    half = T(0.5)
    gr, ghr, hnr = gates[b], gh[b], hn[b]
    for j in range(2 * H):
        gr[j] = half * (gr[j] + b_ih[j] + ghr[j] + b_hh[j])
    for j in range(2 * H, 3 * H):
        gr[j] = gr[j] + b_ih[j]
    for j in range(H):
        hnr[j] = ghr[2 * H + j] + b_hh[2 * H + j]


@njit(cache=True, nogil=True, inline="always")
def _gru_candidate_row(gates, hn, b, H):
    """Finish r and z (from tanh of the halved pre-activations); n's pre-activation x_n + r hn."""
    T = gates.dtype.type
    half = T(0.5)
    gr, hnr = gates[b], hn[b]
    for j in range(2 * H):
        gr[j] = half + half * gr[j]
    for j in range(H):
        gr[2 * H + j] = gr[2 * H + j] + gr[j] * hnr[j]


@njit(cache=True, nogil=True, inline="always")
def _gru_output_row(gates, h_prev, h, b, H):
    T = gates.dtype.type
    one = T(1.0)
    gr, hp, hr = gates[b], h_prev[b], h[b]
    for j in range(H):
        z = gr[H + j]
        hr[j] = (one - z) * gr[2 * H + j] + z * hp[j]


@njit(cache=True, nogil=True)
def _gru_pre_serial(gates, gh, b_ih, b_hh, hn):
    H = hn.shape[1]
    for b in range(hn.shape[0]):
        _gru_pre_row(gates, gh, b_ih, b_hh, hn, b, H)


@njit(cache=True, nogil=True, parallel=True)
def _gru_pre_parallel(gates, gh, b_ih, b_hh, hn):
    H = hn.shape[1]
    for b in prange(hn.shape[0]):
        _gru_pre_row(gates, gh, b_ih, b_hh, hn, b, H)


@njit(cache=True, nogil=True)
def _gru_candidate_serial(gates, hn):
    H = hn.shape[1]
    for b in range(hn.shape[0]):
        _gru_candidate_row(gates, hn, b, H)


@njit(cache=True, nogil=True, parallel=True)
def _gru_candidate_parallel(gates, hn):
    H = hn.shape[1]
    for b in prange(hn.shape[0]):
        _gru_candidate_row(gates, hn, b, H)


@njit(cache=True, nogil=True)
def _gru_output_serial(gates, h_prev, h):
    H = h.shape[1]
    for b in range(h.shape[0]):
        _gru_output_row(gates, h_prev, h, b, H)


@njit(cache=True, nogil=True, parallel=True)
def _gru_output_parallel(gates, h_prev, h):
    H = h.shape[1]
    for b in prange(h.shape[0]):
        _gru_output_row(gates, h_prev, h, b, H)


@njit(cache=True, nogil=True, inline="always")
def _gru_backward_row(gates, hn, h_prev, dh, dy, dgh, dnx, b, H):
    T = gates.dtype.type
    one = T(1.0)
    gr, hnr, hp, dhr, dyr, dg, dnr = gates[b], hn[b], h_prev[b], dh[b], dy[b], dgh[b], dnx[b]
    for j in range(H):
        z = gr[H + j]
        n = gr[2 * H + j]
        dH = dhr[j] + dyr[j]
        dnr[j] = dH * (one - z) * (one - n * n)
        dg[H + j] = dH * (hp[j] - n) * z * (one - z)
        dhr[j] = dH * z
    for j in range(H):
        r = gr[j]
        dn = dnr[j]
        dg[j] = dn * hnr[j] * r * (one - r)
        dg[2 * H + j] = dn * r


@njit(cache=True, nogil=True)
def _gru_backward_serial(gates, hn, h_prev, dh, dy, dgh, dnx):
    H = dh.shape[1]
    for b in range(dh.shape[0]):
        _gru_backward_row(gates, hn, h_prev, dh, dy, dgh, dnx, b, H)


@njit(cache=True, nogil=True, parallel=True)
def _gru_backward_parallel(gates, hn, h_prev, dh, dy, dgh, dnx):
    H = dh.shape[1]
    for b in prange(dh.shape[0]):
        _gru_backward_row(gates, hn, h_prev, dh, dy, dgh, dnx, b, H)


@njit(cache=True, nogil=True, inline="always")
def _rnn_backward_row(h, dh, dy, dpre, relu, b):
    T = h.dtype.type
    one, zero = T(1.0), T(0.0)
    hr, dhr, dyr, dp = h[b], dh[b], dy[b], dpre[b]
    if relu:
        for j in range(hr.shape[0]):
            dp[j] = (dhr[j] + dyr[j]) if hr[j] > zero else zero
    else:
        for j in range(hr.shape[0]):
            v = hr[j]
            dp[j] = (dhr[j] + dyr[j]) * (one - v * v)


@njit(cache=True, nogil=True)
def _rnn_backward_serial(h, dh, dy, dpre, relu):
    for b in range(h.shape[0]):
        _rnn_backward_row(h, dh, dy, dpre, relu, b)


@njit(cache=True, nogil=True, parallel=True)
def _rnn_backward_parallel(h, dh, dy, dpre, relu):
    for b in prange(h.shape[0]):
        _rnn_backward_row(h, dh, dy, dpre, relu, b)


def _pick(serial, parallel, size):
    return parallel if size >= PARALLEL_MIN_ELEMENTS else serial


# ----------------------------------------------------------------------------- CuPy (GPU)
_SIGMOID = "((T)1 / ((T)1 + exp(-({x}))))"
_cuda_kernels = {}


def _cuda(name):
    if not _cuda_kernels:
        import cupy as cp
        s = _SIGMOID.format
        _cuda_kernels["lstm_forward"] = cp.ElementwiseKernel(
            "T c_prev, raw T gh, raw T bias, int64 H", "raw T gates, T c, T h, T tanh_c",
            f"""
            long long b = i / H, j = i - b * H, k = b * 4 * H + j;
            T ig = {s(x="gates[k] + gh[k] + bias[j]")};
            T fg = {s(x="gates[k + H] + gh[k + H] + bias[j + H]")};
            T gg = tanh(gates[k + 2 * H] + gh[k + 2 * H] + bias[j + 2 * H]);
            T og = {s(x="gates[k + 3 * H] + gh[k + 3 * H] + bias[j + 3 * H]")};
            T cn = fg * c_prev + ig * gg;
            T tc = tanh(cn);
            gates[k] = ig; gates[k + H] = fg; gates[k + 2 * H] = gg; gates[k + 3 * H] = og;
            c = cn; tanh_c = tc; h = og * tc;
            """, "minigrad_lstm_cell_forward")
        _cuda_kernels["lstm_backward"] = cp.ElementwiseKernel(
            "T c_prev, T tanh_c, T dh, T dy, raw T gates, int64 H", "T dc, raw T dgates",
            """
            long long b = i / H, j = i - b * H, k = b * 4 * H + j;
            T ig = gates[k], fg = gates[k + H], gg = gates[k + 2 * H], og = gates[k + 3 * H];
            T dH = dh + dy;
            T dC = dc + dH * og * ((T)1 - tanh_c * tanh_c);
            dgates[k] = dC * gg * ig * ((T)1 - ig);
            dgates[k + H] = dC * c_prev * fg * ((T)1 - fg);
            dgates[k + 2 * H] = dC * ig * ((T)1 - gg * gg);
            dgates[k + 3 * H] = dH * tanh_c * og * ((T)1 - og);
            dc = dC * fg;
            """, "minigrad_lstm_cell_backward")
        _cuda_kernels["gru_forward"] = cp.ElementwiseKernel(
            "T h_prev, raw T gh, raw T b_ih, raw T b_hh, int64 H", "raw T gates, T hn, T h",
            f"""
            long long b = i / H, j = i - b * H, k = b * 3 * H + j;
            T r = {s(x="gates[k] + b_ih[j] + gh[k] + b_hh[j]")};
            T z = {s(x="gates[k + H] + b_ih[j + H] + gh[k + H] + b_hh[j + H]")};
            T hv = gh[k + 2 * H] + b_hh[j + 2 * H];
            T cand = tanh(gates[k + 2 * H] + b_ih[j + 2 * H] + r * hv);
            gates[k] = r; gates[k + H] = z; gates[k + 2 * H] = cand;
            hn = hv; h = ((T)1 - z) * cand + z * h_prev;
            """, "minigrad_gru_cell_forward")
        _cuda_kernels["gru_backward"] = cp.ElementwiseKernel(
            "T hn, T h_prev, T dy, raw T gates, int64 H", "T dh, raw T dgh, T dnx",
            """
            long long b = i / H, j = i - b * H, k = b * 3 * H + j;
            T r = gates[k], z = gates[k + H], cand = gates[k + 2 * H];
            T dH = dh + dy;
            T dn = dH * ((T)1 - z) * ((T)1 - cand * cand);
            dgh[k] = dn * hn * r * ((T)1 - r);
            dgh[k + H] = dH * (h_prev - cand) * z * ((T)1 - z);
            dgh[k + 2 * H] = dn * r;
            dnx = dn;
            dh = dH * z;
            """, "minigrad_gru_cell_backward")
        _cuda_kernels["rnn_forward_tanh"] = cp.ElementwiseKernel(
            "T pre, T gh, raw T bias, int64 H", "T h", "h = tanh(pre + gh + bias[i % H])", "minigrad_rnn_tanh_forward")
        _cuda_kernels["rnn_forward_relu"] = cp.ElementwiseKernel(
            "T pre, T gh, raw T bias, int64 H", "T h", "T a = pre + gh + bias[i % H]; h = a > (T)0 ? a : (T)0",
            "minigrad_rnn_relu_forward")
        _cuda_kernels["rnn_backward_tanh"] = cp.ElementwiseKernel(
            "T h, T dh, T dy", "T dpre", "dpre = (dh + dy) * ((T)1 - h * h)", "minigrad_rnn_tanh_backward")
        _cuda_kernels["rnn_backward_relu"] = cp.ElementwiseKernel(
            "T h, T dh, T dy", "T dpre", "dpre = h > (T)0 ? dh + dy : (T)0", "minigrad_rnn_relu_backward")
    return _cuda_kernels[name]


# ----------------------------------------------------------------------------- checks
def _check(name, shapes, **arrays):
    """Every array: float, one dtype, one device, C-contiguous, of the expected shape."""
    values = list(arrays.values())
    check_float(name, *values)
    check_same_device(name, *values)
    for key, a in arrays.items():
        if a.shape != shapes[key]:
            got = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
            raise ValueError(f"{name}: {key} has shape {a.shape}, expected {shapes[key]} (got {got})")
    if is_numpy(values[0]):
        check_contiguous(name, *values)
    elif not all(a.flags.c_contiguous for a in values):
        raise ValueError(f"{name}: expected C-contiguous arrays")


def _rows(name, a, k):
    """(n, H) from an (n, k H) array."""
    if a.ndim != 2 or a.shape[1] % k:
        raise ValueError(f"{name}: expected gates of shape (n, {k}H), got {a.shape}")
    return a.shape[0], a.shape[1] // k


# ----------------------------------------------------------------------------- public entry points
def lstm_cell_forward(gates, gh, bias, c_prev, c, h, tanh_c):
    """One LSTM step.  ``gates`` (n, 4H) holds x W_ih^T on entry and the activations
    [i | f | g | o] on return; ``gh`` = h_prev W_hh^T and ``bias`` = b_ih + b_hh (4H,) are
    read; ``c``, ``h`` and ``tanh_c`` (n, H) are written."""
    n, H = _rows("lstm_cell_forward", gates, 4)
    s = (n, H)
    _check("lstm_cell_forward", {"gates": (n, 4 * H), "gh": (n, 4 * H), "bias": (4 * H,), "c_prev": s, "c": s,
                                 "h": s, "tanh_c": s},
           gates=gates, gh=gh, bias=bias, c_prev=c_prev, c=c, h=h, tanh_c=tanh_c)
    if not is_numpy(gates):
        _cuda("lstm_forward")(c_prev, gh, bias, np.int64(H), gates, c, h, tanh_c)
        return
    size = gates.size
    _pick(_lstm_pre_serial, _lstm_pre_parallel, size)(gates, gh, bias)
    np.tanh(gates, out=gates)
    _pick(_lstm_state_serial, _lstm_state_parallel, size)(gates, c_prev, c)
    np.tanh(c, out=tanh_c)
    np.multiply(gates[:, 3 * H:], tanh_c, out=h)


def lstm_cell_backward(gates, c_prev, tanh_c, dh, dy, dc, dgates):
    """Backward of one LSTM step: ``dgates`` (n, 4H) gets the gradient of the pre-activations;
    ``dc`` (n, H) holds dL/dc_t on entry and dL/dc_{t-1} on return (``dh`` and ``dy`` are read)."""
    n, H = _rows("lstm_cell_backward", gates, 4)
    s = (n, H)
    _check("lstm_cell_backward", {"gates": (n, 4 * H), "c_prev": s, "tanh_c": s, "dh": s, "dy": s, "dc": s,
                                  "dgates": (n, 4 * H)},
           gates=gates, c_prev=c_prev, tanh_c=tanh_c, dh=dh, dy=dy, dc=dc, dgates=dgates)
    if not is_numpy(gates):
        _cuda("lstm_backward")(c_prev, tanh_c, dh, dy, gates, np.int64(H), dc, dgates)
        return
    _pick(_lstm_backward_serial, _lstm_backward_parallel, gates.size)(gates, c_prev, tanh_c, dh, dy, dc, dgates)


def gru_cell_forward(gates, gh, b_ih, b_hh, h_prev, hn, h):
    """One GRU step.  ``gates`` (n, 3H) holds x W_ih^T on entry and [r | z | n] on return;
    ``gh`` = h_prev W_hh^T, ``b_ih`` and ``b_hh`` (3H,) are read; ``hn`` (the reset gate's
    operand gh_n + b_hn, kept for backward) and ``h`` (n, H) are written."""
    n, H = _rows("gru_cell_forward", gates, 3)
    s = (n, H)
    _check("gru_cell_forward", {"gates": (n, 3 * H), "gh": (n, 3 * H), "b_ih": (3 * H,), "b_hh": (3 * H,),
                                "h_prev": s, "hn": s, "h": s},
           gates=gates, gh=gh, b_ih=b_ih, b_hh=b_hh, h_prev=h_prev, hn=hn, h=h)
    if not is_numpy(gates):
        _cuda("gru_forward")(h_prev, gh, b_ih, b_hh, np.int64(H), gates, hn, h)
        return
    size = gates.size
    _pick(_gru_pre_serial, _gru_pre_parallel, size)(gates, gh, b_ih, b_hh, hn)
    rz = gates[:, :2 * H]
    np.tanh(rz, out=rz)
    _pick(_gru_candidate_serial, _gru_candidate_parallel, size)(gates, hn)
    cand = gates[:, 2 * H:]
    np.tanh(cand, out=cand)
    _pick(_gru_output_serial, _gru_output_parallel, size)(gates, h_prev, h)


def gru_cell_backward(gates, hn, h_prev, dh, dy, dgh, dnx):
    """Backward of one GRU step: ``dgh`` (n, 3H) gets the gradient of h_prev W_hh^T + b_hh,
    ``dnx`` (n, H) that of x W_in^T + b_in; ``dh`` holds dL/dh_t on entry and its direct part
    of dL/dh_{t-1}, dH z, on return (the caller adds dgh @ W_hh)."""
    n, H = _rows("gru_cell_backward", gates, 3)
    s = (n, H)
    _check("gru_cell_backward", {"gates": (n, 3 * H), "hn": s, "h_prev": s, "dh": s, "dy": s, "dgh": (n, 3 * H),
                                 "dnx": s},
           gates=gates, hn=hn, h_prev=h_prev, dh=dh, dy=dy, dgh=dgh, dnx=dnx)
    if not is_numpy(gates):
        _cuda("gru_backward")(hn, h_prev, dy, gates, np.int64(H), dh, dgh, dnx)
        return
    _pick(_gru_backward_serial, _gru_backward_parallel, gates.size)(gates, hn, h_prev, dh, dy, dgh, dnx)


def _check_nonlinearity(name, nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"{name}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def rnn_cell_forward(pre, gh, bias, h, nonlinearity="tanh"):
    """One Elman step: ``h`` = tanh or relu of ``pre`` (x W_ih^T) + ``gh`` (h_prev W_hh^T) +
    ``bias`` (b_ih + b_hh, (H,))."""
    _check_nonlinearity("rnn_cell_forward", nonlinearity)
    if pre.ndim != 2:
        raise ValueError(f"rnn_cell_forward: expected (n, H) arrays, got {pre.shape}")
    _check("rnn_cell_forward", {"pre": pre.shape, "gh": pre.shape, "bias": pre.shape[1:], "h": pre.shape},
           pre=pre, gh=gh, bias=bias, h=h)
    if not is_numpy(pre):
        _cuda("rnn_forward_" + nonlinearity)(pre, gh, bias, np.int64(pre.shape[1]), h)
        return
    np.add(pre, gh, out=h)              # NumPy passes: nothing left to fuse
    h += bias
    if nonlinearity == "tanh":
        np.tanh(h, out=h)
    else:
        np.maximum(h, 0, out=h)


def rnn_cell_backward(h, dh, dy, dpre, nonlinearity="tanh"):
    """Backward of one Elman step: ``dpre`` = (dh + dy) times the activation's derivative at ``h``."""
    _check_nonlinearity("rnn_cell_backward", nonlinearity)
    if h.ndim != 2:
        raise ValueError(f"rnn_cell_backward: expected (n, H) arrays, got {h.shape}")
    _check("rnn_cell_backward", {"h": h.shape, "dh": h.shape, "dy": h.shape, "dpre": h.shape},
           h=h, dh=dh, dy=dy, dpre=dpre)
    if not is_numpy(h):
        _cuda("rnn_backward_" + nonlinearity)(h, dh, dy, dpre)
        return
    _pick(_rnn_backward_serial, _rnn_backward_parallel, h.size)(h, dh, dy, dpre, nonlinearity == "relu")
