"""The fused recurrent cell kernels (kernels/recurrent.py) against their NumPy references, and
the checks that run before any kernel."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.kernels import recurrent as K

FLOATS = [np.float32, np.float64]


def _tol(dtype):
    return 2e-6 if dtype == np.float32 else 1e-13


def _arrays(rng, dtype, *shapes, unit=False):
    out = []
    for s in shapes:
        a = rng.uniform(0.01, 0.99, s) if unit else rng.standard_normal(s) * 1.5
        out.append(a.astype(dtype))
    return out


def _check(got, ref, dtype, what):
    assert got.dtype == dtype, what
    np.testing.assert_allclose(got, ref, rtol=_tol(dtype) * 10, atol=_tol(dtype) * 10, err_msg=what)


# ----------------------------------------------------------------------------- LSTM
def _lstm_forward_case(n, H, dtype, seed):
    rng = np.random.default_rng(seed)
    gates, gh, bias, c_prev = _arrays(rng, dtype, (n, 4 * H), (n, 4 * H), (4 * H,), (n, H))
    out = [np.empty((n, H), dtype) for _ in range(3)]
    ref = K.lstm_cell_forward_ref(gates.astype(np.float64), gh, bias, c_prev)
    got_gates = gates.copy()
    K.lstm_cell_forward(got_gates, gh, bias, c_prev, *out)
    for name, g, r in zip(("gates", "c", "h", "tanh_c"), [got_gates] + out, ref):
        _check(g, r, dtype, f"lstm_cell_forward {name}")


def _lstm_backward_case(n, H, dtype, seed):
    rng = np.random.default_rng(seed)
    (gates,) = _arrays(rng, dtype, (n, 4 * H), unit=True)          # activations: sigmoids in (0, 1)
    c_prev, tanh_c, dh, dy, dc = _arrays(rng, dtype, *[(n, H)] * 5)
    tanh_c = np.tanh(tanh_c)
    ref_dgates, ref_dc = K.lstm_cell_backward_ref(gates, c_prev, tanh_c, dh, dy, dc)
    dgates, dc_out = np.empty((n, 4 * H), dtype), dc.copy()
    K.lstm_cell_backward(gates, c_prev, tanh_c, dh, dy, dc_out, dgates)
    _check(dgates, ref_dgates, dtype, "lstm_cell_backward dgates")
    _check(dc_out, ref_dc, dtype, "lstm_cell_backward dc")


# ----------------------------------------------------------------------------- GRU
def _gru_forward_case(n, H, dtype, seed):
    rng = np.random.default_rng(seed)
    gates, gh, b_ih, b_hh, h_prev = _arrays(rng, dtype, (n, 3 * H), (n, 3 * H), (3 * H,), (3 * H,), (n, H))
    ref = K.gru_cell_forward_ref(gates.astype(np.float64), gh, b_ih, b_hh, h_prev)
    got_gates, hn, h = gates.copy(), np.empty((n, H), dtype), np.empty((n, H), dtype)
    K.gru_cell_forward(got_gates, gh, b_ih, b_hh, h_prev, hn, h)
    for name, g, r in zip(("gates", "hn", "h"), (got_gates, hn, h), ref):
        _check(g, r, dtype, f"gru_cell_forward {name}")


def _gru_backward_case(n, H, dtype, seed):
    rng = np.random.default_rng(seed)
    (gates,) = _arrays(rng, dtype, (n, 3 * H), unit=True)
    hn, h_prev, dh, dy = _arrays(rng, dtype, *[(n, H)] * 4)
    ref = K.gru_cell_backward_ref(gates, hn, h_prev, dh, dy)
    dh_out, dgh, dnx = dh.copy(), np.empty((n, 3 * H), dtype), np.empty((n, H), dtype)
    K.gru_cell_backward(gates, hn, h_prev, dh_out, dy, dgh, dnx)
    for name, g, r in zip(("dh", "dgh", "dnx"), (dh_out, dgh, dnx), ref):
        _check(g, r, dtype, f"gru_cell_backward {name}")


# ----------------------------------------------------------------------------- Elman
def _rnn_case(n, H, dtype, seed, nonlinearity):
    rng = np.random.default_rng(seed)
    pre, gh, bias, dh, dy = _arrays(rng, dtype, (n, H), (n, H), (H,), (n, H), (n, H))
    h = np.empty((n, H), dtype)
    K.rnn_cell_forward(pre, gh, bias, h, nonlinearity)
    _check(h, K.rnn_cell_forward_ref(pre.astype(np.float64), gh, bias, nonlinearity), dtype, "rnn_cell_forward")
    dpre = np.empty((n, H), dtype)
    K.rnn_cell_backward(h, dh, dy, dpre, nonlinearity)
    _check(dpre, K.rnn_cell_backward_ref(h, dh, dy, nonlinearity), dtype, "rnn_cell_backward")


CASES = [_lstm_forward_case, _lstm_backward_case, _gru_forward_case, _gru_backward_case,
         lambda *a: _rnn_case(*a, "tanh"), lambda *a: _rnn_case(*a, "relu")]


@pytest.mark.parametrize("case", range(len(CASES)), ids=["lstm_fwd", "lstm_bwd", "gru_fwd", "gru_bwd", "rnn_tanh",
                                                         "rnn_relu"])
@given(n=st.integers(0, 5), H=st.integers(1, 7), dtype=st.sampled_from(FLOATS), seed=st.integers(0, 3))
def test_kernels_match_their_references(case, n, H, dtype, seed):
    CASES[case](n, H, dtype, seed)


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("dtype", FLOATS)
def test_kernels_parallel_path(case, dtype):
    """n x 4H >= PARALLEL_MIN_ELEMENTS takes the threaded drivers."""
    CASES[case](128, 256, dtype, 1)


def test_lstm_forward_saturates_without_overflow():
    gates = np.array([[80.0, -80.0, 80.0, -80.0], [-1e4, 1e4, -1e4, 1e4]], np.float32)
    c, h, tc = (np.empty((2, 1), np.float32) for _ in range(3))
    K.lstm_cell_forward(gates, np.zeros_like(gates), np.zeros(4, np.float32), np.ones((2, 1), np.float32), c, h, tc)
    assert np.all(np.isfinite(gates)) and np.all(np.isfinite(c)) and np.all(np.isfinite(h))
    np.testing.assert_allclose(gates[0], [1, 0, 1, 0], atol=1e-6)      # i = 1, f = 0, g = 1, o = 0
    np.testing.assert_allclose(c[:, 0], [1.0, 1.0], atol=1e-6)      # row 1: i = 0, f = 1 keeps c_prev
    np.testing.assert_allclose(h[:, 0], [0.0, np.tanh(1.0)], atol=1e-6)


# ----------------------------------------------------------------------------- checks before the loops
def _lstm_args(n=2, H=3, dtype=np.float32):
    return ([np.zeros((n, 4 * H), dtype), np.zeros((n, 4 * H), dtype), np.zeros(4 * H, dtype)]
            + [np.zeros((n, H), dtype) for _ in range(4)])


def test_kernels_validate_before_the_loop():
    args = _lstm_args()
    bad = list(args)
    bad[3] = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match=r"lstm_cell_forward: c_prev has shape \(2, 4\), expected \(2, 3\)"):
        K.lstm_cell_forward(*bad)
    bad = list(args)
    bad[1] = np.zeros((2, 12), np.float64)
    with pytest.raises(TypeError, match="lstm_cell_forward: arrays must share one dtype"):
        K.lstm_cell_forward(*bad)
    with pytest.raises(TypeError, match="expected float32 or float64"):
        K.lstm_cell_forward(*[a.astype(np.int64) for a in args])
    bad = list(args)
    bad[4] = np.zeros((3, 2), np.float32).T
    with pytest.raises(ValueError, match="C-contiguous"):
        K.lstm_cell_forward(*bad)
    with pytest.raises(ValueError, match=r"expected gates of shape \(n, 4H\)"):
        K.lstm_cell_forward(np.zeros((2, 5), np.float32), *args[1:])
    with pytest.raises(ValueError, match="gru_cell_forward: b_hh has shape"):
        K.gru_cell_forward(np.zeros((2, 9), np.float32), np.zeros((2, 9), np.float32), np.zeros(9, np.float32),
                           np.zeros(8, np.float32), *[np.zeros((2, 3), np.float32)] * 3)
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        K.rnn_cell_forward(*[np.zeros((2, 3))] * 2, np.zeros(3), np.zeros((2, 3)), "sigmoid")
    with pytest.raises(ValueError, match=r"rnn_cell_backward: expected \(n, H\) arrays"):
        K.rnn_cell_backward(*[np.zeros(3)] * 4)


def test_one_compiled_specialisation_per_dtype():
    for dtype in FLOATS:
        for _ in range(2):
            _lstm_backward_case(3, 2, dtype, 0)
    assert len(K._lstm_backward_serial.signatures) == 2, K._lstm_backward_serial.signatures


# ----------------------------------------------------------------------------- the CuPy kernels (skipped without a GPU)
def _cuda_available():
    import minigrad as mg
    return mg.cuda.is_available()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n, H", [(1, 1), (5, 7), (64, 256)])
@pytest.mark.parametrize("case", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.cuda
@pytest.mark.skipif(not _cuda_available(), reason="needs CuPy and a CUDA GPU")
def test_cuda_kernels_match_the_cpu(case, n, H, dtype):
    """The same arguments through the CuPy kernel and the CPU one (itself checked against the reference)."""
    import cupy as cp
    rng = np.random.default_rng(n + H)
    fwd = {"lstm": K.lstm_cell_forward, "gru": K.gru_cell_forward}.get(case, K.rnn_cell_forward)
    bwd = {"lstm": K.lstm_cell_backward, "gru": K.gru_cell_backward}.get(case, K.rnn_cell_backward)
    if case == "lstm":
        f_args = _arrays(rng, dtype, (n, 4 * H), (n, 4 * H), (4 * H,), (n, H)) + [np.zeros((n, H), dtype)] * 3
        outputs = (0, 4, 5, 6)
    elif case == "gru":
        f_args = _arrays(rng, dtype, (n, 3 * H), (n, 3 * H), (3 * H,), (3 * H,), (n, H)) + [np.zeros((n, H), dtype)] * 2
        outputs = (0, 5, 6)
    else:
        f_args = _arrays(rng, dtype, (n, H), (n, H), (H,)) + [np.zeros((n, H), dtype), case[4:]]
        outputs = (3,)
    gpu_args = [cp.asarray(a) if isinstance(a, np.ndarray) else a for a in f_args]
    cpu_args = [a.copy() if isinstance(a, np.ndarray) else a for a in f_args]
    fwd(*cpu_args)
    fwd(*gpu_args)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for i in outputs:
        np.testing.assert_allclose(cp.asnumpy(gpu_args[i]), cpu_args[i], rtol=tol, atol=tol, err_msg=f"forward {i}")
    if case == "lstm":
        b_args = [cpu_args[0], cpu_args[3], cpu_args[6]] + _arrays(rng, dtype, (n, H), (n, H), (n, H)) \
            + [np.zeros((n, 4 * H), dtype)]
        outputs = (5, 6)
    elif case == "gru":
        b_args = [cpu_args[0], cpu_args[5], cpu_args[4]] + _arrays(rng, dtype, (n, H), (n, H)) \
            + [np.zeros((n, 3 * H), dtype), np.zeros((n, H), dtype)]
        outputs = (3, 5, 6)
    else:
        b_args = [cpu_args[3]] + _arrays(rng, dtype, (n, H), (n, H)) + [np.zeros((n, H), dtype), case[4:]]
        outputs = (3,)
    gpu_b = [cp.asarray(a) if isinstance(a, np.ndarray) else a for a in b_args]
    cpu_b = [a.copy() if isinstance(a, np.ndarray) else a for a in b_args]
    bwd(*cpu_b)
    bwd(*gpu_b)
    for i in outputs:
        np.testing.assert_allclose(cp.asnumpy(gpu_b[i]), cpu_b[i], rtol=tol, atol=tol, err_msg=f"backward {i}")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.cuda
@pytest.mark.skipif(not _cuda_available(), reason="needs CuPy and a CUDA GPU")
def test_text_training_steps_on_gpu_match_cpu(kind):
    """Embedding -> 2-layer bidirectional RNN with lengths -> Linear, two Adam steps, on both devices."""
    import minigrad as mg
    from minigrad import nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(30, 6, padding_idx=0)
            self.rnn = getattr(nn, kind)(6, 5, num_layers=2, bidirectional=True)
            self.fc = nn.Linear(10, 2)

        def forward(self, tokens, lengths):
            out, states = self.rnn(self.emb(tokens), lengths=lengths)
            h = states[0] if kind == "LSTM" else states
            return self.fc(mg.cat([h[-2], h[-1]], 1)) + out.sum() * 0.01

    mg.manual_seed(0)
    cpu = Model().double()
    gpu = Model().double()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    rng = np.random.default_rng(0)
    tokens, labels, lengths = rng.integers(1, 30, (7, 4)), rng.integers(0, 2, 4), [7, 3, 5, 1]
    results = []
    for model, device in ((cpu, "cpu"), (gpu, "cuda")):
        opt = mg.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(2):
            opt.zero_grad()
            logits = model(mg.tensor(tokens, device=device), lengths)
            loss = nn.CrossEntropyLoss()(logits, mg.tensor(labels, device=device))
            loss.backward()
            opt.step()
        results.append((loss.item(), {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}))
    assert abs(results[0][0] - results[1][0]) < 1e-9
    for key, value in results[0][1].items():
        np.testing.assert_allclose(results[1][1][key], value, rtol=1e-8, atol=1e-10, err_msg=key)
