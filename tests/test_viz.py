"""Seeing backprop: graph pictures (DOT text, rendering), traces, the op profiler, gradient flow,
gradients through time, and the graph/profile commands."""
import importlib.util
import json
import os
import re
import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.autograd import _modes
from minigrad.models import BasicBlock, mlp, resnet18

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- helpers
def parse_dot(source):
    """``({id: (label, kind)}, [(src, dst, label)], [cluster names])`` of our DOT text."""
    nodes = {m[0]: (m[1].replace("\\n", "\n"), re.sub(r"\d+$", "", m[0]))
             for m in re.findall(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', source, flags=re.M)}
    edges = [(s, d, label.replace("\\n", "\n"))
             for s, d, label in re.findall(r'^\s*(\w+) -> (\w+) \[label="((?:[^"\\]|\\.)*)"\]', source, flags=re.M)]
    clusters = re.findall(r'subgraph "cluster_([^"]*)"', source)
    return nodes, edges, clusters


def op_labels(nodes):
    """The op nodes' labels, in the graph's (forward) numbering."""
    return [label for _, label in sorted((int(k[2:]), label) for k, (label, kind) in nodes.items() if kind == "op")]


def by_label(nodes, first_line):
    return [k for k, (label, _) in nodes.items() if label.split("\n")[0] == first_line]


def mlp_step(trace=True, batch=8):
    mg.manual_seed(0)
    model = mlp(64, 32, 10)
    x = mg.randn(batch, 64, requires_grad=True)
    y = mg.randint(0, 10, (batch,))
    if not trace:
        return model, nn.CrossEntropyLoss()(model(x), y), None
    with mg.trace(model) as t:
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
    return model, loss, t


def fmt(v):
    return f"{v:.3g}"


# ----------------------------------------------------------------------------- the graph as DOT text
def test_mlp_graph_has_the_ops_parameters_and_shapes():
    model, loss, _ = mlp_step(trace=False)
    nodes, edges, clusters = parse_dot(viz.graph(loss, model).source)
    assert op_labels(nodes) == ["Linear", "ReLU", "Linear", "CrossEntropy"]
    assert nodes["param0"][0] == "1.weight\n32×64 float32" and nodes["param1"][0] == "1.bias\n32 float32"
    assert nodes["input0"][0] == "input\n8×64 float32"
    assert nodes["output0"][0] == "output\nscalar float32"
    lin1, relu, lin2, ce = by_label(nodes, "Linear")[0], by_label(nodes, "ReLU")[0], by_label(nodes, "Linear")[1], \
        by_label(nodes, "CrossEntropy")[0]
    assert set(edges) == {("input0", lin1, "8×64"), ("param0", lin1, "32×64"), ("param1", lin1, "32"),
                          (lin1, relu, "8×32"), (relu, lin2, "8×32"), ("param2", lin2, "10×32"),
                          ("param3", lin2, "10"), (lin2, ce, "8×10"), (ce, "output0", "scalar")}
    assert clusters == []                                # no trace, no modules known


def test_graph_of_an_expression_names_leaves_as_inputs_and_keeps_every_use():
    a = mg.randn(3, requires_grad=True)
    x = mg.randn(4, 6, dtype=mg.float64, requires_grad=True)
    p, q = x.chunk(2, dim=1)
    y = (a * a).sum() + (p * q).sum().float()
    g = viz.graph(y)
    nodes, edges, _ = parse_dot(g.source)
    assert g.counts == {"op": 7, "param": 0, "input": 2, "output": 1, "module": 0}
    mul_a = [d for s, d, _ in edges if s == "input0"]
    assert len(mul_a) == 2 and len(set(mul_a)) == 1           # a * a: two arguments, two edges
    split = by_label(nodes, "Split")[0]
    assert sorted(label for s, _, label in edges if s == split) == ["out 0: 4×3 float64", "out 1: 4×3 float64"]
    assert nodes["input1"][0] == "input\n4×6 float64"


def test_graph_walk_is_iterative():
    x = mg.randn(2, requires_grad=True)
    y = x
    for _ in range(3000):                                  # far deeper than the recursion limit
        y = y * 1.0
    assert viz.graph(y.sum()).counts["op"] == 3001


def test_graph_with_a_trace_boxes_modules_and_shows_gradient_norms():
    model, loss, t = mlp_step()
    nodes, edges, clusters = parse_dot(viz.graph(loss, model, trace=t).source)
    assert clusters == ["1", "3"]                         # Linear layers; stateless ReLU/Flatten/loss get none
    w = model[1].weight
    assert f"|grad| {fmt(np.sqrt((w.grad.numpy().astype(np.float64) ** 2).sum()))}" in nodes["param0"][0]
    relu = by_label(nodes, "ReLU")[0]
    (label,) = [label for s, _, label in edges if s == relu]
    # the gradient with respect to the ReLU's output, recomputed with retain_grad
    mg.manual_seed(0)
    model2 = mlp(64, 32, 10)
    x = mg.randn(8, 64, requires_grad=True)
    y = mg.randint(0, 10, (8,))
    h = model2[2](model2[1](model2[0](x)))
    h.retain_grad()
    nn.CrossEntropyLoss()(model2[3](h), y).backward()
    assert label == f"8×32\n∇ {fmt(np.sqrt((h.grad.numpy().astype(np.float64) ** 2).sum()))}"
    assert [lab for s, d, lab in edges if d == "output0"] == ["scalar\n∇ 1"]


def test_graph_without_trace_uses_scopes_of_a_live_traced_graph():
    model = mlp(64, 32, 10)
    with mg.trace(model):
        out = model(mg.randn(2, 64)).sum()
    _, _, clusters = parse_dot(viz.graph(out, model).source)
    assert clusters == ["1", "3"]


@pytest.fixture(scope="module")
def resnet_graph():
    mg.manual_seed(0)
    model = resnet18(10).eval()
    x = mg.randn(1, 3, 32, 32, requires_grad=True)
    with mg.trace(model) as t:
        out = model(x).sum()
    return model, out, t


def test_resnet18_full_graph_counts(resnet_graph):
    model, out, t = resnet_graph
    g = viz.graph(out, model, trace=t)
    nodes, edges, clusters = parse_dot(g.source)
    assert g.counts == {"op": 70, "param": 62, "input": 1, "output": 1, "module": 0}
    ops = op_labels(nodes)
    assert {op: ops.count(op) for op in set(ops)} == {"Conv2d": 20, "BatchNorm": 20, "ReLU": 17, "Add": 8,
                                                    "MaxPool2d": 1, "AdaptivePool2d": 1, "Reshape": 1,
                                                    "Linear": 1, "Sum": 1}
    assert "layer1.0" in clusters and "layer1.0.conv1" in clusters and "layer1.0.relu" not in clusters
    assert len(edges) == sum(1 for _ in model.parameters()) + 20 + 20 + 17 + 2 * 8 + 5 + 1


@pytest.mark.parametrize("how, modules, ops", [({"collapse": "BasicBlock"}, 8, 8), ({"collapse": BasicBlock}, 8, 8),
                                               ({"depth": 2}, 8, 8), ({"depth": 1}, 4, 8)])
def test_resnet18_folds_into_one_node_per_module(resnet_graph, how, modules, ops):
    model, out, t = resnet_graph
    g = viz.graph(out, model, trace=t, **how)
    nodes, edges, clusters = parse_dot(g.source)
    assert g.counts["module"] == modules and g.counts["op"] == ops and g.counts["param"] == 5
    names = [label.split("\n")[0] for label, kind in nodes.values() if kind == "module"]
    if modules == 8:
        assert names == [f"layer{i}.{j}" for i in range(1, 5) for j in range(2)]
        assert nodes["module2"][0] == "layer2.0\nBasicBlock\n9 ops, 230,144 params"
        assert ("module0", "module1", "1×64×8×8") in edges and "fc" in clusters
    else:
        assert names == ["layer1", "layer2", "layer3", "layer4"]
    assert len(edges) == len(set(edges))                     # one edge per tensor into a folded module
    assert len(g.source.splitlines()) < 100


def test_graph_errors_name_what_is_wrong(resnet_graph):
    with pytest.raises(ValueError, match="no graph behind it"):
        viz.graph(mg.randn(3))
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.graph(np.ones(3))
    model, loss, _ = mlp_step(trace=False)
    with pytest.raises(ValueError, match="minigrad.trace"):
        viz.graph(loss, model, collapse="Linear")
    model, out, t = resnet_graph
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        viz.graph(out, model, trace=t, depth=0)


# ----------------------------------------------------------------------------- rendering
def test_dot_text_is_written_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    model, loss, t = mlp_step()
    g = viz.graph(loss, model, trace=t)
    assert g.render(str(tmp_path / "g.dot")) == str(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text(encoding="utf-8") == g.source
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
        g.render(str(tmp_path / "g.svg"))
    assert g._repr_svg_() is None and "3 params" not in repr(g) and "4 params" in repr(g)
    assert os.listdir(tmp_path) == ["g.dot"]
    with pytest.raises(ValueError, match="cannot tell the picture format"):
        g.render(str(tmp_path / "g.bmp"))


@needs_dot
def test_render_svg_and_png(tmp_path):
    model, loss, t = mlp_step()
    g = viz.graph(loss, model, trace=t, title="an MLP")
    svg = tmp_path / "g.svg"
    g.render(str(svg))
    root = ET.parse(svg).getroot()                           # well-formed XML
    assert root.tag.endswith("svg") and "1.weight" in svg.read_text() and "CrossEntropy" in svg.read_text()
    png = tmp_path / "g.png"
    g.render(str(png))
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.stat().st_size > 5000
    assert sorted(os.listdir(tmp_path)) == ["g.png", "g.svg"]
    assert g._repr_svg_().lstrip().startswith("<?xml")


@needs_dot
def test_render_folded_resnet(tmp_path, resnet_graph):
    model, out, t = resnet_graph
    viz.graph(out, model, trace=t, collapse="BasicBlock").render(str(tmp_path / "r.svg"))
    assert "layer4.1" in (tmp_path / "r.svg").read_text()


def test_to_graphviz():
    graphviz = pytest.importorskip("graphviz")
    model, loss, _ = mlp_step(trace=False)
    src = viz.graph(loss, model).to_graphviz()
    assert isinstance(src, graphviz.Source) and "digraph" in src.source


# ----------------------------------------------------------------------------- the trace
def test_trace_lists_backward_ops_in_the_engines_order_with_shapes():
    mg.manual_seed(0)
    lin1, lin2 = nn.Linear(5, 4), nn.Linear(4, 4)
    x = mg.randn(3, 5)
    seen = []

    def watch(t):                                        # a hook fires as its producer's backward starts
        node = t.grad_fn
        t.register_hook(lambda g: seen.append(id(node)))
        return t

    with mg.trace() as tr:
        a = watch(watch(lin1(x)).relu())
        b = watch(lin2(a))
        c = watch(watch(a + b).tanh())
        loss = watch(watch(c * a).sum())
        loss.backward()
    fwd = {r.node: r for r in tr.forward_records()}
    bwd = tr.backward_records()
    assert [r.node for r in bwd] == seen and len(bwd) == len(fwd) == 7
    assert all(r.phase == "backward" for r in tr.records[7:]) and all(r.phase == "forward" for r in tr.records[:7])
    for r in bwd:
        f = fwd[r.node]
        assert r.op == f.op and r.input_shapes == f.output_shapes
    lin_bwd = [r for r in bwd if r.op == "Linear"]
    assert lin_bwd[0].output_shapes == [[3, 4], [4, 4], [4]]         # gradients for a, weight, bias of lin2
    assert lin_bwd[-1].output_shapes == [None, [4, 5], [4]]          # x needs no gradient
    assert lin_bwd[-1].grad_norms[1] == pytest.approx(float(np.linalg.norm(lin1.weight.grad.numpy())), rel=1e-5)
    assert [r.index for r in tr.records] == list(range(14))


def test_trace_reports_gradients_as_delivered_after_broadcasting():
    x = mg.randn(4, 3, requires_grad=True)
    b = mg.randn(3, requires_grad=True)
    with mg.trace() as t:
        ((x + b) ** 2).sum().backward()
    add = [r for r in t.backward_records() if r.op == "Add"][0]
    assert add.output_shapes == [[4, 3], [3]]
    assert add.grad_norms[1] == pytest.approx(float(np.linalg.norm(b.grad.numpy())), rel=1e-5)
    assert add.out_grad_norms[0] == pytest.approx(add.grad_norms[0], rel=1e-6)


def test_trace_scopes_are_module_paths():
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 2)))
    with mg.trace(model) as t:
        nn.MSELoss()(model(mg.randn(2, 3)), mg.randn(2, 2))
    assert [(r.op, r.scope) for r in t.records[:3]] == [("Linear", "0"), ("ReLU", "1.0"), ("Linear", "1.1")]
    assert {r.scope for r in t.records[3:]} == {"MSELoss"}          # a module outside the model: its type
    with mg.trace() as t:                                # without a model: type names
        model(mg.randn(2, 3))
    assert [r.scope for r in t.records] == ["Sequential.Linear", "Sequential.Sequential.ReLU",
                                            "Sequential.Sequential.Linear"]


def test_trace_table_and_json(tmp_path):
    _, _, t = mlp_step()
    table = t.table()
    assert len(table.splitlines()) == 1 + len(t.records) == 9
    assert "CrossEntropy" in table and "8x32" in table and "backward" in table
    path = tmp_path / "trace.json"
    text = t.to_json(str(path))
    data = json.loads(path.read_text())
    assert json.loads(text) == data and len(data["records"]) == 8
    assert {"phase", "op", "input_shapes", "output_shapes", "seconds", "scope", "grad_norms"} <= set(data["records"][0])


def test_no_trace_no_cost():
    x = mg.randn(3, requires_grad=True)
    with mg.trace() as t:
        (x * 2).sum()
    assert _modes.tracer is None
    y = x * 2                                            # outside: nothing recorded, nothing attached
    assert len(t.records) == 2 and "_trace_scope" not in y.grad_fn.__dict__
    with mg.trace():
        with pytest.raises(RuntimeError, match="already active"):
            with mg.trace():
                pass


# ----------------------------------------------------------------------------- the profiler
def test_profile_rows_sum_the_records():
    _, _, t = mlp_step()
    p = t.profile()
    assert sum(r["forward_calls"] + r["backward_calls"] for r in p.rows) == len(t.records)
    assert p.ops_seconds == pytest.approx(sum(r.seconds for r in t.records))
    linear = next(r for r in p.rows if r["op"] == "Linear")
    assert linear["forward_calls"] == 2 and linear["backward_calls"] == 2
    assert "Linear" in str(p) and "share" in str(p)


def test_profile_adds_up_to_the_measured_step_time():
    mg.manual_seed(0)
    model = mlp(784, 2048, 10)                          # a step of big ops, as in a benchmark
    x, y = mg.randn(1024, 784), mg.randint(0, 10, (1024,))
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x), y).backward()                      # warm up
    ratios = []
    for _ in range(5):                                   # a busy machine may stall one run
        start = time.perf_counter()
        with mg.trace(model) as t:
            loss_fn(model(x), y).backward()
        measured = time.perf_counter() - start
        ratios.append(t.profile().ops_seconds / measured)
        if 0.85 <= ratios[-1] <= 1.0:
            break
    # 0.85: outside the ops' timed spans the trace itself takes its share (the gradient norms of every
    # record, the leaves' deposits); measured here at 0.89-0.92, before this session's changes too
    assert 0.85 <= ratios[-1] <= 1.0, ratios


def test_timing_synchronises_only_for_gpu_arrays():
    with mg.trace() as t:
        (mg.randn(3, requires_grad=True) * 2).sum().backward()
    assert not t.sync                                    # CPU arrays never wait for a device


@pytest.mark.cuda
@pytest.mark.skipif(not mg.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_profile_on_gpu_is_synchronised():
    mg.manual_seed(0)
    model = mlp(64, 32, 10).to("cuda")
    x, y = mg.randn(16, 64, device="cuda"), mg.randint(0, 10, (16,), device="cuda")
    nn.CrossEntropyLoss()(model(x), y).backward()
    start = time.perf_counter()
    with mg.trace(model) as t:
        nn.CrossEntropyLoss()(model(x), y).backward()
    measured = time.perf_counter() - start
    assert t.sync is True and "Linear" in str(t.profile())
    assert t.profile().ops_seconds <= measured


def test_paused_time_is_left_out():
    model, _, _ = mlp_step(trace=False)
    with mg.trace(model) as t:
        model(mg.randn(2, 64))
        with t.paused():
            time.sleep(0.05)
            model(mg.randn(2, 64))                       # not recorded
    assert len(t.records) == 3 and t.total_seconds < 0.05


# ----------------------------------------------------------------------------- gradient plots
def test_grad_stats_and_grad_flow(tmp_path):
    pytest.importorskip("matplotlib")
    model, _, _ = mlp_step()
    stats = dict((n, (mean, mx)) for n, mean, mx in viz.grad_stats(model))
    g = np.abs(model[1].weight.grad.numpy())
    assert list(stats) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert stats["1.weight"] == pytest.approx((g.mean(), g.max()))
    fig = viz.grad_flow(model, str(tmp_path / "flow.png"))
    assert (tmp_path / "flow.png").read_bytes().startswith(b"\x89PNG") and fig is not None
    with pytest.raises(ValueError, match="backward"):
        viz.grad_flow(mlp(4, 4, 2))


def test_plot_grad_through_time(tmp_path):
    pytest.importorskip("matplotlib")
    viz.plot_grad_through_time({"rnn": [1e-6, 1e-3, 1.0]}, str(tmp_path / "t.png"))
    assert (tmp_path / "t.png").read_bytes().startswith(b"\x89PNG")


def test_vanishing_gradients_example(tmp_path):
    if not hasattr(nn, "LSTMCell") or not hasattr(nn, "RNNCell"):
        pytest.skip("nn.LSTMCell / nn.RNNCell are not there yet")
    spec = importlib.util.spec_from_file_location("vanishing", os.path.join(ROOT, "examples", "vanishing_gradients.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    norms = example.run(steps=15, hidden=16, batch=4)
    rnn, lstm, opened = norms["RNN (tanh)"], norms["LSTM"], norms["LSTM, forget bias +1"]
    assert all(len(v) == 15 for v in norms.values())
    assert rnn[0] < 1e-3 * rnn[-1] and lstm[0] < 1e-2 * lstm[-1]     # vanishing towards t = 0
    assert opened[0] / opened[-1] > 10 * lstm[0] / lstm[-1]           # an open forget gate lets more through
    if importlib.util.find_spec("matplotlib"):
        example.main(["--steps", "6", "--hidden", "8", "--out", str(tmp_path / "v.png")])
        assert (tmp_path / "v.png").read_bytes().startswith(b"\x89PNG")


# ----------------------------------------------------------------------------- the commands
def test_cli_graph_writes_dot_and_pictures(tmp_path, capsys):
    from minigrad.__main__ import main
    assert main(["graph", "mlp", "--batch-size", "4", "--out", str(tmp_path / "mlp.dot")]) == 0
    nodes, edges, _ = parse_dot((tmp_path / "mlp.dot").read_text(encoding="utf-8"))
    assert op_labels(nodes) == ["Reshape", "Linear", "ReLU", "Linear", "CrossEntropy"]
    assert "wrote" in capsys.readouterr().out
    assert main(["graph", "resnet18", "--batch-size", "2", "--out", str(tmp_path / "r.dot")]) == 0
    nodes, _, _ = parse_dot((tmp_path / "r.dot").read_text(encoding="utf-8"))
    assert sum(1 for label, kind in nodes.values() if kind == "module" and "BasicBlock" in label) == 8
    if HAS_DOT:
        assert main(["graph", "cnn", "--batch-size", "2", "--out", str(tmp_path / "cnn.png")]) == 0
        assert (tmp_path / "cnn.png").read_bytes().startswith(b"\x89PNG")


def test_cli_graph_lstm(tmp_path):
    pytest.importorskip("minigrad.models.text_lstm")
    from minigrad.__main__ import main
    assert main(["graph", "lstm", "--batch-size", "2", "--out", str(tmp_path / "l.dot")]) == 0
    assert "lstm.weight_hh_l0" in (tmp_path / "l.dot").read_text(encoding="utf-8")


def test_cli_errors_are_one_line(tmp_path, capsys, monkeypatch):
    from minigrad.__main__ import main
    assert main(["graph", "mlp", "--out", str(tmp_path / "g.bmp")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot tell the picture format" in err
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    assert main(["graph", "mlp", "--out", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "install Graphviz" in err and "--out FILE.dot" in err
    assert main(["profile", "mlp", "--steps", "0"]) == 2
    assert "--steps must be positive" in capsys.readouterr().err


def test_cli_profile_prints_per_op_table(tmp_path, capsys):
    from minigrad.__main__ import main
    assert main(["profile", "cnn", "--batch-size", "4", "--steps", "1", "--trace", str(tmp_path / "t.json")]) == 0
    out = capsys.readouterr().out
    assert "Conv2d" in out and "bwd ms" in out and "optimizer step" in out
    assert json.loads((tmp_path / "t.json").read_text())["records"]
