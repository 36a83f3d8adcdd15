"""Recurrent layers, cells, packed sequences and embeddings: PyTorch's names, layouts and
numbers (weights copied through state_dict both ways), variable lengths, errors.

The ops themselves (every gradient against finite differences and PyTorch, stacks, directions,
lengths) are checked through the op registry in test_ops.py; these tests cover the modules.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn as nn
from minigrad.nn.utils import rnn as rnn_utils

from helpers import host

CLASSES = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}


def _pair(torch, kind, *args, **kwargs):
    """A PyTorch module and ours with its weights (float64)."""
    theirs = getattr(torch.nn, kind)(*args, **kwargs, dtype=torch.float64)
    ours = CLASSES[kind](*args, **kwargs, dtype=mg.float64)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def _outputs(result):
    out, states = result
    states = states if isinstance(states, tuple) else (states,)
    return (out,) + tuple(states)


def _compare(ours, theirs, atol=1e-10, what=""):
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(host(a.detach()), b.detach().numpy(), rtol=1e-9, atol=atol, err_msg=f"{what} {k}")


# ----------------------------------------------------------------------------- names, shapes, init, repr
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2, "bidirectional": True}, {"bias": False}])
def test_state_dict_names_and_shapes_match_pytorch(torch, kind, options):
    theirs = getattr(torch.nn, kind)(5, 7, **options)
    ours = CLASSES[kind](5, 7, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert ours._flat_weights_names == theirs._flat_weights_names


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_names_and_shapes_match_pytorch(torch, kind):
    theirs, ours = getattr(torch.nn, kind)(4, 6), getattr(nn, kind)(4, 6)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("make", [lambda m: m.LSTM(3, 4), lambda m: m.GRU(3, 4, num_layers=2, dropout=0.5),
                                  lambda m: m.RNN(3, 4, nonlinearity="relu", bias=False, batch_first=True),
                                  lambda m: m.LSTM(3, 4, bidirectional=True), lambda m: m.LSTMCell(2, 3),
                                  lambda m: m.RNNCell(2, 3, nonlinearity="relu"), lambda m: m.GRUCell(2, 3, bias=False),
                                  lambda m: m.Embedding(10, 3, padding_idx=0, max_norm=1.0)])
def test_repr_matches_pytorch(torch, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert repr(make(nn)) == repr(make(torch.nn))


def test_initialisation_follows_pytorch():
    mg.manual_seed(0)
    lstm = nn.LSTM(10, 16, num_layers=2)
    bound = 1 / 16 ** 0.5
    for name, p in lstm.named_parameters():
        values = host(p.detach())
        assert np.abs(values).max() <= bound and values.std() > bound / 3, name
    emb = nn.Embedding(1000, 8, padding_idx=3)
    w = host(emb.weight.detach())
    assert np.all(w[3] == 0) and abs(w.std() - 1) < 0.05


# ----------------------------------------------------------------------------- numbers against PyTorch
@pytest.mark.parametrize("kind, options", [
    (kind, options) for kind in ("LSTM", "GRU", "RNN")
    for options in ({}, {"num_layers": 2, "bidirectional": True, "batch_first": True}, {"bias": False, "num_layers": 3})
] + [("RNN", {"nonlinearity": "relu"}), ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True})])
def test_outputs_and_gradients_match_pytorch(torch, kind, options):
    theirs, ours = _pair(torch, kind, 3, 4, **options)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3) if options.get("batch_first") else (5, 2, 3))      # batch 2, 5 steps
    L = theirs.num_layers * (2 if theirs.bidirectional else 1)
    h0 = [rng.standard_normal((L, 2, 4)) for _ in range(2)]
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    t_state = tuple(torch.tensor(h, requires_grad=True) for h in h0)
    m_state = tuple(mg.tensor(h, requires_grad=True) for h in h0)
    t_res = _outputs(theirs(tx, t_state if kind == "LSTM" else t_state[0]))
    m_res = _outputs(ours(mx, m_state if kind == "LSTM" else m_state[0]))
    _compare(m_res, t_res, what="output")
    cot = [rng.standard_normal(tuple(o.shape)) for o in t_res]
    t_inputs = [tx] + list(t_state[:len(t_res) - 1]) + list(theirs.parameters())
    m_inputs = [mx] + list(m_state[:len(m_res) - 1]) + list(ours.parameters())
    t_grads = torch.autograd.grad(t_res, t_inputs, [torch.tensor(c) for c in cot])
    m_grads = mg.autograd.grad(m_res, m_inputs, [mg.tensor(c) for c in cot])
    _compare(m_grads, t_grads, what="gradient")


def test_backpropagation_through_a_long_sequence_matches_pytorch(torch):
    theirs, ours = _pair(torch, "LSTM", 3, 8)
    x = np.random.default_rng(1).standard_normal((60, 2, 3))
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    theirs(tx)[1][0].sum().backward()
    ours(mx)[1][0].sum().backward()
    np.testing.assert_allclose(host(mx.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(host(p.grad), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_weights_move_back_to_pytorch_in_float32(torch):
    mg.manual_seed(0)
    ours = nn.GRU(4, 5, num_layers=2, bidirectional=True)
    theirs = torch.nn.GRU(4, 5, num_layers=2, bidirectional=True)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 3, 4)).astype(np.float32)
    m_out, t_out = _outputs(ours(mg.tensor(x))), _outputs(theirs(torch.tensor(x)))
    for a, b in zip(m_out, t_out):
        assert host(a).dtype == np.float32
        np.testing.assert_allclose(host(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_unbatched_input_matches_pytorch(torch, kind):
    theirs, ours = _pair(torch, kind, 3, 4, num_layers=2)
    x = np.random.default_rng(2).standard_normal((5, 3))
    _compare(_outputs(ours(mg.tensor(x))), _outputs(theirs(torch.tensor(x))))


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_pytorch(torch, kind, batched):
    theirs = getattr(torch.nn, kind)(3, 4, dtype=torch.float64)
    ours = getattr(nn, kind)(3, 4, dtype=mg.float64)
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(3)
    lead = (2,) if batched else ()
    x, h, c = rng.standard_normal(lead + (3,)), rng.standard_normal(lead + (4,)), rng.standard_normal(lead + (4,))
    for use_state in (False, True):
        t_state = ((torch.tensor(h), torch.tensor(c)) if kind == "LSTMCell" else torch.tensor(h)) if use_state else None
        m_state = ((mg.tensor(h), mg.tensor(c)) if kind == "LSTMCell" else mg.tensor(h)) if use_state else None
        t_out, m_out = theirs(torch.tensor(x), t_state), ours(mg.tensor(x), m_state)
        t_out = t_out if isinstance(t_out, tuple) else (t_out,)
        m_out = m_out if isinstance(m_out, tuple) else (m_out,)
        _compare(m_out, t_out)


# ----------------------------------------------------------------------------- variable lengths
def test_pack_and_pad_match_pytorch(torch):
    x = np.random.default_rng(0).standard_normal((4, 6, 3))        # (B, T, F), batch first
    lengths = [3, 6, 1, 4]
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first=True,
                                                       enforce_sorted=False)
    m_packed = rnn_utils.pack_padded_sequence(mg.tensor(x), lengths, batch_first=True, enforce_sorted=False)
    for a, b in zip(m_packed, t_packed):
        np.testing.assert_array_equal(host(a), b.numpy())
    for batch_first in (False, True):
        t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(t_packed, batch_first=batch_first, padding_value=-1.0,
                                                              total_length=7)
        m_pad, m_len = rnn_utils.pad_packed_sequence(m_packed, batch_first=batch_first, padding_value=-1.0,
                                                     total_length=7)
        np.testing.assert_array_equal(host(m_pad), t_pad.numpy())
        np.testing.assert_array_equal(host(m_len), t_len.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_pytorch(torch, batch_first, side):
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    t = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=batch_first, padding_value=9.0,
                                        padding_side=side)
    m = rnn_utils.pad_sequence([mg.tensor(s) for s in seqs], batch_first=batch_first, padding_value=9.0,
                               padding_side=side)
    np.testing.assert_array_equal(host(m), t.numpy())


def test_pack_sequence_round_trip_and_gradients():
    seqs = [mg.tensor(np.arange(n * 2, dtype=np.float64).reshape(n, 2), requires_grad=True) for n in (2, 4, 1)]
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    assert host(packed.batch_sizes).tolist() == [3, 2, 1, 1]
    back = rnn_utils.unpack_sequence(packed)
    for a, b in zip(back, seqs):
        np.testing.assert_array_equal(host(a.detach()), host(b.detach()))
    sum(((s * s).sum() for s in back), mg.tensor(0.0)).backward()
    for s in seqs:
        np.testing.assert_allclose(host(s.grad), 2 * host(s.detach()))
    assert mg.gradcheck(lambda a, b: rnn_utils.pad_packed_sequence(
        rnn_utils.pack_padded_sequence(rnn_utils.pad_sequence([a, b]), [3, 2]))[0],
        (mg.randn(3, 2, dtype=mg.float64, requires_grad=True), mg.randn(2, 2, dtype=mg.float64, requires_grad=True)))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2, "bidirectional": True}])
def test_packed_input_matches_pytorch(torch, kind, options):
    theirs, ours = _pair(torch, kind, 3, 4, **options)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 4, 3))
    lengths = [2, 6, 3, 5]
    L = theirs.num_layers * (2 if theirs.bidirectional else 1)
    h0 = rng.standard_normal((L, 4, 4))
    t_x, m_x = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    t_in = torch.nn.utils.rnn.pack_padded_sequence(t_x, lengths, enforce_sorted=False)
    m_in = rnn_utils.pack_padded_sequence(m_x, lengths, enforce_sorted=False)
    t_h0 = (torch.tensor(h0), torch.tensor(h0 * 0.5)) if kind == "LSTM" else torch.tensor(h0)
    m_h0 = (mg.tensor(h0), mg.tensor(h0 * 0.5)) if kind == "LSTM" else mg.tensor(h0)
    t_out, t_states = theirs(t_in, t_h0)
    m_out, m_states = ours(m_in, m_h0)
    assert isinstance(m_out, rnn_utils.PackedSequence)
    _compare((m_out.data,) + _outputs((m_out.data, m_states))[1:], (t_out.data,) + _outputs((t_out.data, t_states))[1:])
    t_pad = torch.nn.utils.rnn.pad_packed_sequence(t_out)[0]
    m_pad = rnn_utils.pad_packed_sequence(m_out)[0]
    (t_pad.sum() + _outputs((t_pad, t_states))[1].sum()).backward()
    (m_pad.sum() + _outputs((m_pad, m_states))[1].sum()).backward()
    np.testing.assert_allclose(host(m_x.grad), t_x.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_lengths_argument_is_packing():
    mg.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=mg.float64)
    x = mg.randn(3, 5, 3, dtype=mg.float64)
    lengths = [5, 2, 4]
    out_l, (h_l, c_l) = lstm(x, lengths=lengths)
    packed_out, (h_p, c_p) = lstm(rnn_utils.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    out_p, _ = rnn_utils.pad_packed_sequence(packed_out, batch_first=True)
    for a, b in ((out_l, out_p), (h_l, h_p), (c_l, c_p)):
        np.testing.assert_allclose(host(a), host(b), rtol=1e-12, atol=1e-14)


@given(lengths=st.lists(st.integers(1, 5), min_size=1, max_size=4), kind=st.sampled_from(["LSTM", "GRU", "RNN"]),
       reverse=st.booleans(), seed=st.integers(0, 5))
def test_padding_never_changes_a_result(lengths, kind, reverse, seed):
    """A padded batch with lengths gives, for every sequence, what that sequence gives alone
    (outputs, final states and gradients), whatever the padding holds."""
    mg.manual_seed(seed)
    layer = CLASSES[kind](2, 3, bidirectional=reverse, dtype=mg.float64)
    rng = np.random.default_rng(seed)
    T = max(lengths) + 1
    seqs = [rng.standard_normal((n, 2)) for n in lengths]
    padded = rng.standard_normal((T, len(lengths), 2)) * 100               # garbage in the padding
    for b, s in enumerate(seqs):
        padded[:len(s), b] = s
    x = mg.tensor(padded, requires_grad=True)
    out, states = layer(x, lengths=lengths)
    h_n = states[0] if kind == "LSTM" else states
    (out.sum() + (h_n * h_n).sum()).backward()
    grads = host(x.grad)
    for b, s in enumerate(seqs):
        xs = mg.tensor(s[:, None], requires_grad=True)
        out_b, states_b = layer(xs)
        h_b = states_b[0] if kind == "LSTM" else states_b
        np.testing.assert_allclose(host(out[:len(s), b].detach()), host(out_b[:, 0].detach()), atol=1e-12)
        np.testing.assert_allclose(host(h_n[:, b].detach()), host(h_b[:, 0].detach()), atol=1e-12)
        assert not np.any(host(out[len(s):, b].detach())), "outputs past the length must be zero"
        (out_b.sum() + (h_b * h_b).sum()).backward()
        np.testing.assert_allclose(grads[:len(s), b], host(xs.grad)[:, 0], atol=1e-12)
        assert not np.any(grads[len(s):, b]), "padding must get no gradient"


# ----------------------------------------------------------------------------- dropout between layers
def test_dropout_between_layers():
    mg.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = mg.randn(5, 2, 3)
    lstm.eval()
    eval_a, eval_b = lstm(x)[0], lstm(x)[0]
    np.testing.assert_array_equal(host(eval_a), host(eval_b))
    lstm.train()
    mg.manual_seed(1)
    train_a = lstm(x)[0]
    mg.manual_seed(1)
    train_b = lstm(x)[0]
    np.testing.assert_array_equal(host(train_a), host(train_b))              # the seed fixes the masks
    assert not np.allclose(host(train_a), host(eval_a))
    with pytest.warns(UserWarning, match="dropout applies between layers"):
        nn.GRU(3, 4, dropout=0.2)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.LSTM(3, 4)(mg.randn(5, 2, 4)), ValueError, r"weight_ih_l0 must have shape \(16, 4\)"),
    (lambda: nn.LSTM(3, 4)(mg.randn(2, 5, 2, 3)), ValueError, "expected input of 2"),
    (lambda: nn.GRU(3, 4)(mg.randn(5, 2, 3), mg.randn(2, 2, 4)), ValueError, r"h_0 must have shape \(1, 2, 4\)"),
    (lambda: nn.LSTM(3, 4)(mg.randn(5, 2, 3), mg.randn(1, 2, 4)), TypeError, r"hx must be a tuple \(h_0, c_0\)"),
    (lambda: nn.RNN(3, 4)(mg.randn(5, 2, 3), lengths=[5, 6]), ValueError, r"lengths must be in \[1, 5\]"),
    (lambda: nn.RNN(3, 4)(mg.randn(5, 2, 3), lengths=[0, 2]), ValueError, r"lengths must be in \[1, 5\]"),
    (lambda: nn.RNN(3, 4)(mg.randn(5, 2, 3), lengths=[1, 2, 3]), ValueError, "one entry per sequence"),
    (lambda: nn.LSTM(3, 4)(mg.randn(5, 2, 3, dtype=mg.float64)), TypeError,
     "weight_ih is float32 but the input is float64"),
    (lambda: nn.LSTM(3, 4, proj_size=4), ValueError, "proj_size has to be smaller"),
    (lambda: nn.GRU(3, 4, proj_size=2), ValueError, "proj_size argument is only supported for LSTM"),
    (lambda: nn.RNN(3, 4, proj_size=0), ValueError, "proj_size argument is only supported for LSTM"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity 'sigmoid'"),
    (lambda: nn.GRU(3, 4, dropout=1.5), ValueError, "dropout must be a number in"),
    (lambda: nn.LSTMCell(3, 4)(mg.randn(2, 3), (mg.randn(2, 5), mg.randn(2, 4))), ValueError, r"h must have shape"),
    (lambda: rnn_utils.pack_padded_sequence(mg.randn(4, 2, 3), [2, 3]), RuntimeError, "sorted in decreasing order"),
    (lambda: rnn_utils.pack_padded_sequence(mg.randn(4, 2, 3), [5, 3]), ValueError, "exceeds the padded length 4"),
    (lambda: nn.Embedding(5, 2)(mg.tensor([0, 5])), IndexError, r"embedding: index out of range \[0, 5\)"),
    (lambda: nn.Embedding(5, 2)(mg.tensor([0.0])), TypeError, "indices must be integers"),
    (lambda: nn.Embedding(5, 2, padding_idx=5), ValueError, "must be within num_embeddings .*padding_idx 5"),
])
def test_errors_name_the_op_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------------------- embedding
@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"scale_grad_by_freq": True},
                                     {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0, "padding_idx": 0}])
def test_embedding_matches_pytorch(torch, options):
    theirs = torch.nn.Embedding(6, 3, **options, dtype=torch.float64)
    ours = nn.Embedding(6, 3, **options, dtype=mg.float64)
    ours.load_state_dict(theirs.state_dict())
    idx = np.array([[1, 2, 1, 5], [1, 0, 4, 1]])                       # repeated rows must accumulate
    t_out, m_out = theirs(torch.tensor(idx)), ours(mg.tensor(idx))
    np.testing.assert_allclose(host(m_out.detach()), t_out.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(0).standard_normal((2, 4, 3))
    t_out.backward(torch.tensor(g))
    m_out.backward(mg.tensor(g))
    np.testing.assert_allclose(host(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(host(ours.weight.detach()), theirs.weight.detach().numpy(), rtol=1e-12)  # max_norm


def test_embedding_from_pretrained():
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(host(frozen(mg.tensor([1, 1, 0]))), [[3, 4], [3, 4], [1, 2]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


def test_recurrent_ops_import_no_kernel_until_used():
    import subprocess
    import sys
    code = ("import sys, minigrad as mg; m = mg.nn.LSTM(2, 3); e = mg.nn.Embedding(4, 2); "
            "print('numba' in sys.modules); m(mg.randn(2, 1, 2)); print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True}])
def test_an_empty_batch_gives_empty_results_and_zero_gradients_as_pytorch(cls, kwargs):
    torch = pytest.importorskip("torch")
    shape = (0, 5, 3) if kwargs.get("batch_first") else (5, 0, 3)
    ours, theirs = getattr(nn, cls)(3, 4, **kwargs), getattr(torch.nn, cls)(3, 4, **kwargs)
    x = mg.zeros(*shape, requires_grad=True)
    out, h = ours(x)
    expected, th = theirs(torch.zeros(*shape))
    h, th = (h[0], th[0]) if cls == "LSTM" else (h, th)
    assert out.shape == tuple(expected.shape) and h.shape == tuple(th.shape)
    (out.sum() + h.sum()).backward()
    assert x.grad.shape == shape
    for p in ours.parameters():
        np.testing.assert_array_equal(host(p.grad), np.zeros(p.shape))


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_a_sequence_of_length_0_is_a_clear_error_as_pytorch(cls):
    with pytest.raises(ValueError, match=r"expected a sequence length larger than 0 .*\(0, 2, 3\)"):
        getattr(nn, cls)(3, 4)(mg.zeros(0, 2, 3))


# ----------------------------------------------------------------------------- projections (proj_size)
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True}, {"bias": False, "batch_first": True}])
def test_lstm_with_projections_matches_pytorch(kwargs, torch):
    """nn.LSTM(proj_size=P): PyTorch's parameters (weight_hr_l{k} after the biases, weight_hh
    (4H, P)), state-dict keys and repr; outputs, states and every gradient on the same weights,
    padded and packed."""
    ours = mg.nn.LSTM(4, 6, proj_size=2, **kwargs).double()
    theirs = torch.nn.LSTM(4, 6, proj_size=2, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 4) if kwargs.get("batch_first") else (5, 3, 4))
    L = ours.num_layers * (2 if ours.bidirectional else 1)
    h0, c0 = rng.standard_normal((L, 3, 2)), rng.standard_normal((L, 3, 6))
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, (h, c) = ours(xm, (mg.tensor(h0), mg.tensor(c0)))
    t_out, (t_h, t_c) = theirs(xt, (torch.tensor(h0), torch.tensor(c0)))
    (out.sum() + (h * h).sum() + c.sum()).backward()
    (t_out.sum() + (t_h * t_h).sum() + t_c.sum()).backward()
    for a, b in [(out, t_out), (h, t_h), (c, t_c), (xm.grad, xt.grad)] + [
            (p.grad, q.grad) for p, q in zip(ours.parameters(), theirs.parameters())]:
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-13)
    lengths = [5, 2, 4]
    packed = mg.nn.utils.rnn.pack_padded_sequence(mg.tensor(x), lengths, batch_first=ours.batch_first,
                                                  enforce_sorted=False)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first=ours.batch_first,
                                                       enforce_sorted=False)
    (out, (h, c)), (t_out, (t_h, t_c)) = ours(packed), theirs(t_packed)
    for a, b in [(out.data, t_out.data), (h, t_h), (c, t_c)]:
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-13)


def test_lstm_projection_arguments_are_checked():
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        mg.nn.LSTM(4, 6, proj_size=6)
    with pytest.raises(ValueError, match="proj_size should be a non-negative integer"):
        mg.nn.LSTM(4, 6, proj_size=-1)
    lstm = mg.nn.LSTM(4, 6, proj_size=2)
    with pytest.raises(ValueError, match=r"h_0 must have shape \(1, 3, 2\)"):
        lstm(mg.randn(5, 3, 4), (mg.zeros(1, 3, 6), mg.zeros(1, 3, 6)))
