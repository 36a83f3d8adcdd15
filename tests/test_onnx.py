"""minigrad.onnx.export: models pass onnx.checker and give minigrad's outputs in onnxruntime
(float32; tolerance 1e-5 absolute + relative, 1e-4 for ResNet-18's 20 layers)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import models, nn
from minigrad.data.text import Vocab
from minigrad.nn import functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import minigrad.onnx  # noqa: E402


def _run_both(model, inputs, tmp_path, tol=1e-5, **kwargs):
    """Export, then compare onnxruntime's outputs with minigrad's; returns the ModelProto and session."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    path = tmp_path / "model.onnx"
    proto = minigrad.onnx.export(model, inputs, path, **kwargs)
    model.eval()
    with mg.no_grad():
        ours = model(*inputs)
    ours = ours if isinstance(ours, tuple) else (ours,)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    theirs = session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
    assert len(theirs) == len(ours)
    for k, (a, b) in enumerate(zip(theirs, ours)):
        np.testing.assert_allclose(a, b.numpy(), rtol=tol, atol=tol, err_msg=f"output {k}")
    return proto, session


def _vocab(n=30):
    return Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(n - 2)])


@pytest.mark.parametrize("name, build, shape, tol", [
    ("mlp", lambda: models.mlp(64, 32, 10), (3, 64), 1e-5),
    ("small_cnn", lambda: models.small_cnn(), (2, 1, 8, 8), 1e-5),
    ("resnet18", lambda: models.resnet18(num_classes=10), (1, 3, 64, 64), 1e-4),
])
def test_seed_models_match_onnxruntime(tmp_path, name, build, shape, tol):
    mg.manual_seed(0)
    model = build()
    for m in model.modules():             # non-trivial running statistics, so batch norm is really checked
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean._data[:] = mg.randn(*m.running_mean.shape).numpy() * 0.1
            m.running_var._data[:] = mg.rand(*m.running_var.shape).numpy() + 0.5
    proto, _ = _run_both(model, mg.randn(*shape), tmp_path, tol=tol)
    names = {i.name for i in proto.graph.initializer}
    assert set(dict(model.named_parameters())) <= names      # parameters keep their state-dict names


def test_lstm_classifier_with_dynamic_batch_and_length(tmp_path):
    mg.manual_seed(0)
    model = models.text_lstm(_vocab(), embedding_dim=8, hidden_size=16)
    _, session = _run_both(model, mg.randint(0, 30, (3, 7)), tmp_path, input_names=["tokens"],
                           output_names=["logits"], dynamic_axes={"tokens": {0: "batch", 1: "time"},
                                                                  "logits": [0]})
    other = mg.randint(0, 30, (5, 11))
    with mg.no_grad():
        expected = model(other).numpy()
    np.testing.assert_allclose(session.run(["logits"], {"tokens": other.numpy()})[0], expected, rtol=1e-5, atol=1e-5)


def test_small_cnn_with_dynamic_batch(tmp_path):
    mg.manual_seed(0)
    model = models.small_cnn()
    _, session = _run_both(model, mg.randn(2, 1, 8, 8), tmp_path, input_names=["x"],
                           dynamic_axes={"x": {0: "batch"}, "output_0": {0: "batch"}})
    x = mg.randn(5, 1, 8, 8)
    with mg.no_grad():
        np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], model(x).numpy(), rtol=1e-5, atol=1e-5)


class _ManyOps(nn.Module):
    """One output per group of ops, so that a wrong exporter shows in its own output."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True, bidirectional=True)
        self.rnn = nn.RNN(12, 5, nonlinearity="relu", num_layers=2)
        self.norm = nn.LayerNorm(5)
        self.conv_t = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)
        self.emb = nn.Embedding(10, 3)

    def forward(self, seq, img):
        y, _ = self.gru(seq)
        z, h = self.rnn(y)
        z = self.norm(z)
        acts = F.gelu(z) + F.gelu(z, approximate="tanh") + F.leaky_relu(z, 0.2) + F.softplus(z, beta=2.0) + z.sigmoid()
        idx = F.log_softmax(z[:, -1, None, 1:], dim=-1) + z[..., ::2].sum(dim=-1, keepdim=True).unsqueeze(-1)[:, :1]
        red = mg.cat([z.mean(dim=(0, 2)), z.amax(dim=1).reshape(-1), z.max(dim=0)[0].flatten(), h.reshape(-1)], 0)
        a, b = z.chunk(2, dim=0)
        pieces = mg.stack([a.clamp(-0.5, 0.5), b.abs().sqrt(), mg.where(a > 0, a, b).exp()], 1)
        x = F.pad(self.conv_t(img), (1, 1, 0, 2))          # 8x8 -> 10x10
        pools = F.avg_pool2d(x, 3, 2, ceil_mode=True) + F.max_pool2d(x, 3, 2, 1)
        pools = pools + F.adaptive_avg_pool2d(x, (2, 2)).mean()
        emb = self.emb(mg.tensor([[1, 2], [9, 0]])).transpose(0, 1).softmax(-1)
        return acts, idx, red, pieces, pools, emb


def test_many_ops_match_onnxruntime(tmp_path):
    mg.manual_seed(0)
    _run_both(_ManyOps(), (mg.randn(4, 5, 4), mg.randn(2, 2, 4, 4)), tmp_path)


def test_op_without_exporter_is_named(tmp_path):
    class Spread(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(x).var(dim=0)

    with pytest.raises(NotImplementedError, match="no exporter for op Var"):
        minigrad.onnx.export(Spread(), mg.randn(2, 3), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_export_leaves_training_mode_and_writes_a_loadable_file(tmp_path):
    model = models.small_cnn().train()
    minigrad.onnx.export(model, mg.randn(1, 1, 8, 8), tmp_path / "m.onnx")
    assert model.training
    loaded = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(loaded)
    assert {n.op_type for n in loaded.graph.node} >= {"Conv", "BatchNormalization", "MaxPool", "Gemm"}


def test_pooling_indices_are_refused_by_name(tmp_path):
    class WithIndices(nn.Module):
        def forward(self, x):
            return F.max_pool2d(x, 2, return_indices=True)

    with pytest.raises(NotImplementedError, match="indices that MaxPool2d returns"):
        minigrad.onnx.export(WithIndices(), mg.randn(1, 1, 4, 4), tmp_path / "m.onnx")


def test_attributes_passed_by_name_are_recovered_from_values():
    """If an op keeps no attribute for an option its caller passed by name, the exporter reads it off the
    input and output (the ops' internals are not the exporter's to rely on)."""
    from minigrad.capture import capture
    from minigrad.onnx import _gelu_form, _slope_from_values, _softplus_beta

    class Acts(nn.Module):
        def forward(self, x):
            return F.gelu(x) + F.gelu(x, approximate="tanh") + F.leaky_relu(x, 0.3) + F.softplus(x, beta=2.0)

    nodes = capture(Acts(), mg.randn(64) * 3).nodes
    gelus = [n for n in nodes if n.op == "GELU"]
    assert [_gelu_form(n) for n in gelus] == ["none", "tanh"]
    (leaky,) = [n for n in nodes if n.op == "LeakyReLU"]
    assert _slope_from_values(leaky) == pytest.approx(0.3)
    (softplus,) = [n for n in nodes if n.op == "Softplus"]
    assert _softplus_beta(softplus) == pytest.approx(2.0)


def test_capture_follows_in_place_edits():
    """ReLU(inplace=True) writes into its input: the captured graph must read the ReLU's output
    afterwards, not the array as it was before the edit (ResNet's blocks do this)."""
    from minigrad.capture import capture
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.ReLU(inplace=True), mg.nn.Linear(4, 2))
    graph = capture(model, (mg.randn(2, 3),))
    ops = [n.op for n in graph.nodes]
    relu = graph.nodes[ops.index("ReLU")] if "ReLU" in ops else next(n for n in graph.nodes if "relu" in n.op.lower())
    last = graph.nodes[-1]
    assert relu.outputs[0] in last.args, (ops, [getattr(a, "name", a) for a in last.args])
