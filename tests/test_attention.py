"""nn.MultiheadAttention and the Transformer family against PyTorch with the same weights, in
float64: outputs, input gradients and every parameter's gradient, with and without masks.
PyTorch's state_dict loads into ours (and ours into PyTorch's).  The ops themselves
(scaled_dot_product_attention, multi_head_attention_forward) have registry entries."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def _pair(torch, make, **kw):
    """(ours, theirs): the same class built with the same arguments, PyTorch's randomised weights
    copied into ours through load_state_dict; both in eval mode (dropout off)."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, make)(**kw).double().eval()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype) * 0.5)
    ours = getattr(nn, make)(**kw, dtype=mg.float64).eval()
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd) or set(ours.state_dict()) == set(sd)
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in sd.items()})
    return ours, theirs


def _as(lib, a, grad):
    if a is None or isinstance(a, (bool, int, float)):
        return a
    if lib == "torch":
        import torch
        return torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    return mg.tensor(a, requires_grad=grad and a.dtype.kind == "f")


def _compare(torch, ours, theirs, inputs, kwargs=None, same=None, tol=1e-10):
    """Run both on the same inputs (float arrays get gradients; ``same`` names inputs that are the
    very same tensor as input 0, as in self-attention) and compare outputs and all gradients."""
    kwargs = kwargs or {}
    rng = np.random.default_rng(1)
    results = []
    for lib, module in (("mg", ours), ("torch", theirs)):
        xs = [_as(lib, a, True) for a in inputs]
        for i in same or ():
            xs[i] = xs[0]
        out = module(*xs, **{k: _as(lib, v, False) for k, v in kwargs.items()})
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
        rng = np.random.default_rng(1)
        loss = sum((o * _as(lib, rng.standard_normal(tuple(o.shape)), False)).sum() for o in outs)
        loss.backward()
        grads = {n: p.grad for n, p in module.named_parameters()}
        results.append(([o.detach().numpy() for o in outs], [x.grad for x in xs], grads))
    (o_mg, gx_mg, gp_mg), (o_t, gx_t, gp_t) = results
    assert len(o_mg) == len(o_t)
    for a, b in zip(o_mg, o_t):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    for a, b in zip(gx_mg, gx_t):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)
    assert set(gp_mg) == set(gp_t)
    for name, g in gp_t.items():
        assert (g is None) == (gp_mg[name] is None), name
        if g is not None:
            np.testing.assert_allclose(gp_mg[name].numpy(), g.numpy(), rtol=tol, atol=tol, err_msg=name)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _padding(N, S):
    m = np.zeros((N, S), dtype=bool)
    m[0, -1] = True
    if N > 1 and S > 2:
        m[1, -2:] = True
    return m


# ----------------------------------------------------------------------------- MultiheadAttention
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_self_attention(torch, batch_first, need_weights, average):
    ours, theirs = _pair(torch, "MultiheadAttention", embed_dim=8, num_heads=2, batch_first=batch_first)
    x = _x(3, 5, 8)
    _compare(torch, ours, theirs, [x, x, x], {"need_weights": need_weights, "average_attn_weights": average},
             same=(1, 2))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mask_kind", ["bool", "float", "float3", "padding", "both"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks(torch, batch_first, mask_kind, need_weights):
    L, S, N, E, H = 4, 5, 2, 6, 3
    ours, theirs = _pair(torch, "MultiheadAttention", embed_dim=E, num_heads=H, batch_first=batch_first)
    q, k, v = (_x(*((N, T, E) if batch_first else (T, N, E)), seed=s) for s, T in ((0, L), (1, S), (2, S)))
    bool_mask = np.random.default_rng(3).random((L, S)) < 0.4
    bool_mask[:, 0] = False                            # no query left without keys
    kw = {"need_weights": need_weights}
    if mask_kind in ("bool", "both"):
        kw["attn_mask"] = bool_mask
    if mask_kind == "float":
        kw["attn_mask"] = _x(L, S, seed=4)
    if mask_kind == "float3":
        kw["attn_mask"] = _x(N * H, L, S, seed=4)
    if mask_kind in ("padding", "both"):
        kw["key_padding_mask"] = _padding(N, S)
    _compare(torch, ours, theirs, [q, k, v], kw)


def test_mha_float_key_padding_mask_and_causal(torch):
    L, N, E = 5, 2, 8
    ours, theirs = _pair(torch, "MultiheadAttention", embed_dim=E, num_heads=4)
    x = _x(L, N, E)
    causal = np.triu(np.full((L, L), -np.inf), 1)
    for need in (True, False):
        _compare(torch, ours, theirs, [x, x, x], {"attn_mask": causal, "is_causal": True, "need_weights": need},
                 same=(1, 2))
    kpm = np.where(_padding(N, L), -np.inf, 0.0) + _x(N, L, seed=5) * 0.1
    _compare(torch, ours, theirs, [x, x, x], {"key_padding_mask": kpm, "attn_mask": causal}, same=(1, 2))


@pytest.mark.parametrize("options", [
    {"kdim": 3, "vdim": 5},
    {"kdim": 3, "vdim": 5, "bias": False},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
    {"add_bias_kv": True, "add_zero_attn": True, "kdim": 4, "vdim": 4},
])
def test_mha_options(torch, options):
    E, L, S, N = 6, 3, 4, 2
    ours, theirs = _pair(torch, "MultiheadAttention", embed_dim=E, num_heads=2, **options)
    q, k, v = _x(L, N, E), _x(S, N, options.get("kdim", E), seed=1), _x(S, N, options.get("vdim", E), seed=2)
    _compare(torch, ours, theirs, [q, k, v], {"key_padding_mask": _padding(N, S)})
    _compare(torch, ours, theirs, [q, k, v], {"need_weights": False, "attn_mask": _x(L, S, seed=3)})


def test_mha_unbatched(torch):
    ours, theirs = _pair(torch, "MultiheadAttention", embed_dim=4, num_heads=2)
    q, kv = _x(3, 4), _x(5, 4, seed=1)
    mask = np.zeros(5, dtype=bool)
    mask[-1] = True
    _compare(torch, ours, theirs, [q, kv, kv], {"key_padding_mask": mask, "average_attn_weights": False})
    _compare(torch, ours, theirs, [q, kv, kv], {"attn_mask": _x(2, 3, 5, seed=2), "need_weights": False})


def test_mha_state_dict_loads_into_pytorch(torch):
    ours = nn.MultiheadAttention(6, 3, kdim=2, vdim=4, add_bias_kv=True, dtype=mg.float64)
    theirs = torch.nn.MultiheadAttention(6, 3, kdim=2, vdim=4, add_bias_kv=True).double()
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    assert set(ours.state_dict()) == set(theirs.state_dict())
    _compare(torch, ours.eval(), theirs.eval(), [_x(3, 2, 6), _x(4, 2, 2, seed=1), _x(4, 2, 4, seed=2)])


def test_mha_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(4, 2)
    x = mg.randn(3, 2, 4)
    with pytest.raises(ValueError, match="attn_mask"):
        mha(x, x, x, attn_mask=mg.zeros(2, 3))
    with pytest.raises(ValueError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=mg.zeros(3, 3, dtype=mg.bool))
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="embedding dimension"):
        mha(mg.randn(3, 2, 5), x, x)


def test_sdpa_errors():
    F = nn.functional
    q = mg.randn(2, 3, 4)
    with pytest.raises(ValueError, match="do not fit"):
        F.scaled_dot_product_attention(q, mg.randn(2, 3, 5), mg.randn(2, 3, 5))
    with pytest.raises(TypeError, match="dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(ValueError, match="attn_mask"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mg.zeros(4, 3))
    with pytest.raises(ValueError, match="either"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mg.zeros(3, 3), is_causal=True)


def test_sdpa_dropout_keeps_the_expected_share():
    mg.manual_seed(0)
    q = mg.randn(4, 64, 8, requires_grad=True)
    v = mg.ones(4, 64, 8)
    out = nn.functional.scaled_dot_product_attention(q, q, v, dropout_p=0.5)
    assert abs(out.detach().numpy().mean() - 1.0) < 0.1       # each row: weights sum to 1 in expectation
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all()
    full = nn.functional.scaled_dot_product_attention(q, q, v, dropout_p=1.0)
    assert (full.detach().numpy() == 0).all()


# ----------------------------------------------------------------------------- Transformer layers
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer(torch, norm_first, activation, batch_first):
    ours, theirs = _pair(torch, "TransformerEncoderLayer", d_model=8, nhead=2, dim_feedforward=16,
                         norm_first=norm_first, activation=activation, batch_first=batch_first)
    L, N = 5, 3
    src = _x(*((N, L, 8) if batch_first else (L, N, 8)))
    _compare(torch, ours, theirs, [src])
    causal = np.triu(np.full((L, L), -np.inf), 1)
    _compare(torch, ours, theirs, [src], {"src_mask": causal, "src_key_padding_mask": _padding(N, L)})
    _compare(torch, ours, theirs, [src], {"src_mask": causal, "is_causal": True})


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer(torch, norm_first, activation):
    ours, theirs = _pair(torch, "TransformerDecoderLayer", d_model=8, nhead=4, dim_feedforward=12,
                         norm_first=norm_first, activation=activation, batch_first=True)
    N, T, S = 2, 4, 6
    tgt, memory = _x(N, T, 8), _x(N, S, 8, seed=1)
    _compare(torch, ours, theirs, [tgt, memory])
    causal = np.triu(np.ones((T, T), dtype=bool), 1)
    _compare(torch, ours, theirs, [tgt, memory], {"tgt_mask": causal, "tgt_key_padding_mask": _padding(N, T),
                                                   "memory_key_padding_mask": _padding(N, S),
                                                   "memory_mask": _x(T, S, seed=2)})


def test_encoder_and_decoder_stacks(torch):
    torch.manual_seed(0)
    for stack, layer, inputs in [("TransformerEncoder", "TransformerEncoderLayer", [_x(5, 2, 8)]),
                                 ("TransformerDecoder", "TransformerDecoderLayer", [_x(5, 2, 8), _x(3, 2, 8, seed=1)])]:
        t_layer = getattr(torch.nn, layer)(8, 2, 16, dropout=0.0)
        theirs = getattr(torch.nn, stack)(t_layer, 2, norm=torch.nn.LayerNorm(8)).double().eval()
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(torch.randn(p.shape, dtype=p.dtype) * 0.5)
        ours = getattr(nn, stack)(getattr(nn, layer)(8, 2, 16, dropout=0.0, dtype=mg.float64), 2,
                                  norm=nn.LayerNorm(8, dtype=mg.float64)).eval()
        assert set(ours.state_dict()) == set(theirs.state_dict())
        assert "layers.1.self_attn.in_proj_weight" in ours.state_dict()
        ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
        assert ours.layers[0].linear1.weight is not ours.layers[1].linear1.weight     # deep copies
        causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=mg.float64).numpy()
        kw = {"mask": causal} if stack == "TransformerEncoder" else {"tgt_mask": causal}
        _compare(torch, ours, theirs, inputs, kw)


def test_float32_mask_with_a_float64_model(torch):
    """generate_square_subsequent_mask gives the default dtype (float32); PyTorch adds such a mask
    to the scores of a float64 model (SDPA takes bool, float32 or the query's dtype), so a
    tutorial model moved to .double() keeps working.  Any other float dtype is refused."""
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    theirs = torch.nn.TransformerEncoder(t_layer, 2, enable_nested_tensor=False).double().eval()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2).double().eval()
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    causal = nn.Transformer.generate_square_subsequent_mask(5).numpy()
    assert causal.dtype == np.float32
    _compare(torch, ours, theirs, [_x(5, 2, 8)], {"mask": causal})
    F = nn.functional
    q = mg.tensor(_x(2, 5, 4), requires_grad=True)
    m = mg.tensor(_x(5, 5, seed=1).astype(np.float32), requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=m)
    tq, tm = torch.tensor(q.detach().numpy(), requires_grad=True), torch.tensor(m.detach().numpy(), requires_grad=True)
    ref = torch.nn.functional.scaled_dot_product_attention(tq, tq, tq, attn_mask=tm)
    assert out.dtype == mg.float64
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    out.sum().backward()
    ref.sum().backward()
    assert m.grad.dtype == mg.float32
    np.testing.assert_allclose(m.grad.numpy(), tm.grad.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="attn_mask must be bool, float32 or of the query's dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=m.half())
    mha = nn.MultiheadAttention(4, 2).double()
    with pytest.raises(TypeError, match="multi_head_attention_forward: key_padding_mask"):
        mha(q, q, q, key_padding_mask=mg.zeros(5, 2, dtype=mg.float16))


@pytest.mark.parametrize("case", ["bool", "float", "final_norm", "grad", "unaligned", "odd_heads", "gelu_module",
                                  "seq_first", "no_nested", "training"])
def test_encoder_zeros_padded_positions_as_pytorchs_nested_path(torch, case):
    """PyTorch's TransformerEncoder in evaluation without gradient, batch first and with a
    src_key_padding_mask padded at the end, runs on nested tensors and returns zeros at the
    padded positions (then the final norm); in the other cases they hold computed values."""
    N, S, E = 3, 5, 8
    pad = np.zeros((N, S), dtype=bool)
    pad[0, 3:] = True
    pad[2, 4] = True
    if case == "unaligned":
        pad[1, 0] = True
    kpm = np.where(pad, -np.inf, 0.0) if case == "float" else pad
    heads = 1 if case == "odd_heads" else 2
    bf = case != "seq_first"
    outs = []
    for lib, module in (("torch", torch.nn), ("mg", nn)):
        lay = module.TransformerEncoderLayer(E, heads, 16, dropout=0.0, batch_first=bf,
                                             activation=module.GELU() if case == "gelu_module" else "relu")
        enc = module.TransformerEncoder(lay, 2, norm=module.LayerNorm(E) if case == "final_norm" else None,
                                        enable_nested_tensor=case != "no_nested").double()
        if lib == "torch":
            torch.manual_seed(0)
            with torch.no_grad():
                for p in enc.parameters():
                    p.copy_(torch.randn(p.shape, dtype=p.dtype) * 0.5)
            sd = {k: mg.tensor(v.numpy()) for k, v in enc.state_dict().items()}
        else:
            enc.load_state_dict(sd)
        enc.train(case == "training")
        x = _x(N, S, E) if bf else _x(N, S, E).transpose(1, 0, 2).copy()
        lib_mod = torch if lib == "torch" else mg
        with lib_mod.set_grad_enabled(case == "grad"):
            outs.append(enc(lib_mod.tensor(x), src_key_padding_mask=lib_mod.tensor(kpm)).detach().numpy())
    theirs, ours = outs
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
    at_pad = theirs[pad] if bf else theirs.transpose(1, 0, 2)[pad]
    zeroed = case in ("bool", "float", "final_norm", "gelu_module")
    expected = at_pad[0] if case == "final_norm" else 0.0      # the final norm of a zero row: its bias
    assert (at_pad == expected).all() == zeroed


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(torch, norm_first):
    ours, theirs = _pair(torch, "Transformer", d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                         dim_feedforward=16, norm_first=norm_first)
    S, T, N = 6, 4, 2
    src, tgt = _x(S, N, 8), _x(T, N, 8, seed=1)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=mg.float64).numpy()
    np.testing.assert_array_equal(tgt_mask, torch.nn.Transformer.generate_square_subsequent_mask(T).numpy())
    _compare(torch, ours, theirs, [src, tgt], {"tgt_mask": tgt_mask, "src_key_padding_mask": _padding(N, S),
                                               "memory_key_padding_mask": _padding(N, S),
                                               "tgt_key_padding_mask": _padding(N, T)})


def test_transformer_checks_and_defaults():
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    with pytest.raises(RuntimeError, match="batch number"):
        model(mg.randn(3, 2, 8), mg.randn(3, 3, 8))
    with pytest.raises(RuntimeError, match="d_model"):
        model(mg.randn(3, 2, 6), mg.randn(3, 2, 6))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    layer = nn.TransformerEncoderLayer(8, 2, activation=nn.functional.silu)
    assert layer(mg.randn(3, 2, 8)).shape == (3, 2, 8)
    enc = nn.TransformerEncoderLayer(8, 2)
    assert enc.dropout.p == 0.1 and enc.linear1.out_features == 2048 and enc.self_attn.batch_first is False


# ----------------------------------------------------------------------------- the transformer task
def _train_steps(task, info, train_set, steps, batch=32):
    from minigrad.data import DataLoader
    mg.manual_seed(0)
    model = task.build_model(info)
    optimizer = task.build_optimizer(model.parameters(), task.defaults["lr"])
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    loader = DataLoader(train_set, batch_size=batch, shuffle=True, generator=mg.Generator().manual_seed(0))
    batches = (b for _ in range(steps) for b in loader)                 # as many epochs as it takes
    for _, (x, y) in zip(range(steps), batches):
        optimizer.zero_grad()
        out = model(x)
        assert out.shape == (x.shape[0], info["vocab_size"], x.shape[1])
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_transformer_task_learns_to_reverse():
    from minigrad.tasks import get_task
    task = get_task("transformer")
    train_set, test_set, info = task.datasets["reverse"](None)
    x, y = train_set[3]
    assert train_set.decode(y) == train_set.decode(x)[::-1]
    losses = _train_steps(task, info, train_set, 25)
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])          # starts at ln(10) = 2.3


def test_transformer_task_on_a_text_file(tmp_path):
    from minigrad.tasks import UsageError, get_task
    task = get_task("transformer")
    path = tmp_path / "text.txt"
    path.write_text("the quick brown fox jumps over the lazy dog. " * 40, encoding="utf-8")
    train_set, test_set, info = task.datasets["text"](str(path))
    assert info["causal"] and len(test_set) >= 1
    x, y = train_set[0]
    assert train_set.decode(x)[1:] == train_set.decode(y)[:-1]        # targets: the next characters
    losses = _train_steps(task, info, train_set, 12, batch=8)
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])
    with pytest.raises(UsageError, match="--root"):
        task.datasets["text"](None)
    (tmp_path / "short.txt").write_text("abc", encoding="utf-8")
    with pytest.raises(UsageError, match="too short"):
        task.datasets["text"](str(tmp_path / "short.txt"))


def test_char_transformer_is_causal_on_text():
    from minigrad.models import CharTransformer
    mg.manual_seed(0)
    model = CharTransformer(5, 8, d_model=8, nhead=2, num_layers=1, dim_feedforward=8, causal=True).eval()
    ids = mg.tensor([[0, 1, 2, 3, 4, 0]])
    changed = mg.tensor([[0, 1, 2, 4, 4, 1]])                        # differs from position 3 on
    a, b = model(ids).detach().numpy(), model(changed).detach().numpy()
    np.testing.assert_allclose(a[..., :3], b[..., :3], atol=1e-6)
    assert not np.allclose(a[..., 3:], b[..., 3:])


def test_accuracy_counts_positions_for_sequence_outputs():
    from minigrad.train import _correct
    logits = mg.tensor(np.eye(3)[[[0, 1, 2], [2, 2, 2]]].transpose(0, 2, 1))   # (2, 3 classes, 3 positions)
    assert _correct(logits, mg.tensor([[0, 1, 2], [2, 0, 0]])) == pytest.approx(1 + 1 / 3)
    assert _correct(mg.tensor(np.eye(3)), mg.tensor([0, 1, 0])) == 2


def test_transformer_chars_example_pieces():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "examples", "transformer_chars.py")
    spec = importlib.util.spec_from_file_location("transformer_chars", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    from minigrad.data.chars import text_chunks
    from minigrad.models import CharTransformer
    train_set, test_set = text_chunks("abcabcabd" * 20, 8)
    mg.manual_seed(0)
    model = CharTransformer(len(train_set.alphabet), 8, d_model=8, nhead=2, num_layers=1, dim_feedforward=8,
                            causal=True)
    lines = []
    example.train(model, train_set, 1, batch_size=4, log=lines.append)
    assert lines and lines[0].startswith("epoch 1: loss")
    assert 0.0 <= example.accuracy(model, test_set) <= 1.0
    text = example.continue_text(model, train_set.alphabet, "abc", length=12)
    assert text.startswith("abc") and len(text) == 15 and set(text) <= set("abcd")


def test_training_mode_with_dropout_backpropagates_everywhere():
    mg.manual_seed(0)
    model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    assert model.training and model.encoder.layers[0].dropout.p == 0.1
    out = model(mg.randn(5, 3, 16), mg.randn(4, 3, 16), tgt_mask=nn.Transformer.generate_square_subsequent_mask(4))
    out.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in model.parameters())
    mha = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = mg.randn(4, 2, 8, requires_grad=True)
    o, w = mha(x, x, x)
    (o.sum() + w.sum()).backward()
    assert o.shape == (4, 2, 8) and w.shape == (2, 4, 4) and np.isfinite(x.grad.numpy()).all()

