"""Modules: registration, state_dict both ways with PyTorch, modes, hooks, layers, init."""
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

from helpers import assert_close


def mlp():
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = mlp()
        self.norm = nn.BatchNorm1d(3)
        self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 2)])
        self.scale = nn.Parameter(mg.ones(1))

    def forward(self, x):
        x = self.norm(self.body(x))
        for b in self.blocks:
            x = b(x)
        return x * self.scale


# ----------------------------------------------------------------------------- registration and traversal
def test_parameters_buffers_and_names_follow_pytorch():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "norm.weight",
                     "norm.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    keys = list(Net().state_dict())
    assert "norm.running_mean" in keys and "norm.num_batches_tracked" in keys
    assert len(list(Net().modules())) == 9 and len(list(Net().children())) == 3


def test_names_match_torch_for_the_same_architecture(torch):
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.body = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
            self.norm = torch.nn.BatchNorm1d(3)
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(3, 3), torch.nn.Linear(3, 2)])

    ours = {k: v.shape for k, v in Net().state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in TorchNet().state_dict().items()}
    assert ours == theirs


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2


def test_replacing_a_child_keeps_its_place_as_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = mlp(), torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    setattr(ours, "1", nn.Tanh())
    setattr(theirs, "1", torch.nn.Tanh())
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()] == ["0", "1", "2"]
    x = mg.randn(4, 6)
    expected = ours[2](ours[1](ours[0](x)))
    assert_close(ours(x), expected)                      # the layers still run in their order
    ours[0].weight = nn.Parameter(mg.zeros(5, 6))         # a parameter replaced keeps its place too
    assert list(ours.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_sequential_setitem_and_delitem_as_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = mlp(), torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    ours[-2], theirs[-2] = nn.Tanh(), torch.nn.Tanh()
    assert isinstance(ours[1], nn.Tanh) and [n for n, _ in ours.named_children()] == ["0", "1", "2"]
    del ours[0]
    del theirs[0]
    assert [(n, type(m).__name__) for n, m in ours.named_children()] == \
        [(n, type(m).__name__) for n, m in theirs.named_children()] == [("0", "Tanh"), ("1", "Linear")]
    ours.append(nn.ReLU())
    del ours[:2]
    assert [n for n, _ in ours.named_children()] == ["0"] and isinstance(ours[0], nn.ReLU)
    with pytest.raises(IndexError):
        ours[5] = nn.ReLU()
    blocks = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    del blocks[1]
    assert [type(m).__name__ for m in blocks] == ["ReLU", "Sigmoid"] and list(blocks._modules) == ["0", "1"]


def test_setattr_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()


def test_repr_matches_pytorch_style(torch):
    ours = repr(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)))
    theirs = repr(torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)))
    assert ours == theirs


# ----------------------------------------------------------------------------- state_dict
def test_state_dict_round_trip_and_strictness():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    x = mg.randn(4, 6)
    a.eval(), b.eval()
    assert_close(a(x), b(x)._data)
    sd = a.state_dict()
    del sd["scale"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "scale"'):
        b.load_state_dict(sd)
    result = b.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["scale"]
    sd = a.state_dict()
    sd["body.0.weight"] = mg.zeros(2, 2)
    with pytest.raises(RuntimeError, match=r"size mismatch for body.0.weight: copying a param with shape \(2, 2\)"):
        b.load_state_dict(sd)


def test_state_dict_moves_both_ways_with_pytorch(torch):
    ours = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    assert_close(ours(mg.tensor(x)), theirs(torch.tensor(x)).detach().numpy(), atol=1e-6)
    theirs2 = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    ours.load_state_dict(theirs2.state_dict())                 # PyTorch tensors load directly
    assert_close(ours(mg.tensor(x)), theirs2(torch.tensor(x)).detach().numpy(), atol=1e-6)


def test_to_keeps_parameter_identity_and_casts():
    m = mlp()
    w = m[0].weight
    m.double()
    assert m[0].weight is w and w.dtype == mg.float64
    assert m(mg.randn(2, 6, dtype=mg.float64)).dtype == mg.float64


# ----------------------------------------------------------------------------- modes and gradients
def test_train_eval_and_dropout():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = mg.randn(8, 4)
    m.eval()
    assert not m[1].training
    assert_close(m(x), m[0](x)._data)
    m.train()
    mg.manual_seed(0)
    out = m(x)._data
    zeros = (out == 0).mean()
    assert 0.2 < zeros < 0.8


def test_zero_grad():
    m = mlp()
    F.cross_entropy(m(mg.randn(3, 6)), mg.tensor([0, 1, 2])).backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(not p.grad._data.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


# ----------------------------------------------------------------------------- hooks
def test_forward_hooks():
    m = nn.Linear(3, 2)
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: seen.append("pre"))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 0)
    out = m(mg.randn(1, 3))
    assert seen == ["pre"] and not out._data.any()
    h1.remove(), h2.remove()
    assert m(mg.ones(1, 3))._data.any()


def test_full_backward_hook_sees_and_replaces_gradients():
    m = nn.Linear(3, 2)
    record = {}

    def hook(mod, grad_input, grad_output):
        record["in"], record["out"] = grad_input[0].numpy().copy(), grad_output[0].numpy().copy()
        return (grad_input[0] * 0,)

    m.register_full_backward_hook(hook)
    x = mg.randn(4, 3, requires_grad=True)
    m(x).sum().backward()
    assert record["out"].shape == (4, 2) and np.allclose(record["out"], 1)
    assert_close(record["in"], np.ones((4, 2)) @ m.weight._data, atol=1e-6)
    assert not x.grad._data.any()                       # replaced by the hook
    assert m.weight.grad is not None


# ----------------------------------------------------------------------------- layers against PyTorch
LAYERS = [
    (lambda: nn.Linear(5, 4), lambda t: t.nn.Linear(5, 4), (3, 5)),
    (lambda: nn.Linear(5, 4, bias=False), lambda t: t.nn.Linear(5, 4, bias=False), (2, 7, 5)),
    (lambda: nn.LayerNorm(5), lambda t: t.nn.LayerNorm(5), (3, 5)),
    (lambda: nn.LayerNorm((2, 5)), lambda t: t.nn.LayerNorm((2, 5)), (3, 2, 5)),
    (lambda: nn.BatchNorm1d(5), lambda t: t.nn.BatchNorm1d(5), (8, 5)),
    (lambda: nn.BatchNorm1d(5, affine=False), lambda t: t.nn.BatchNorm1d(5, affine=False), (8, 5, 3)),
    (lambda: nn.BatchNorm1d(5, momentum=None), lambda t: t.nn.BatchNorm1d(5, momentum=None), (8, 5)),
    (lambda: nn.GELU(), lambda t: t.nn.GELU(), (3, 5)),
    (lambda: nn.LeakyReLU(0.2), lambda t: t.nn.LeakyReLU(0.2), (3, 5)),
    (lambda: nn.Softmax(dim=1), lambda t: t.nn.Softmax(dim=1), (3, 5)),
    (lambda: nn.LogSoftmax(dim=-1), lambda t: t.nn.LogSoftmax(dim=-1), (3, 5)),
    (lambda: nn.Flatten(), lambda t: t.nn.Flatten(), (3, 5, 2)),
]


@pytest.mark.parametrize("make, make_torch, shape", LAYERS, ids=lambda v: "" if callable(v) else str(v))
def test_layers_match_pytorch_in_train_and_eval(make, make_torch, shape, torch):
    ours, theirs = make().double(), make_torch(torch).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    for mode in ("train", "train", "eval"):
        ours.train(mode == "train"), theirs.train(mode == "train")
        x = rng.standard_normal(shape)
        xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours.zero_grad(), theirs.zero_grad()
        ym, yt = ours(xm), theirs(xt)
        g = rng.standard_normal(ym.shape)
        assert_close(ym, yt.detach().numpy(), atol=1e-10, what=f"{mode} forward")
        ym.backward(g), yt.backward(torch.tensor(g))
        assert_close(xm.grad, xt.grad.numpy(), atol=1e-10, what=f"{mode} input gradient")
        for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            assert_close(p.grad, tp.grad.numpy(), atol=1e-10, what=f"{mode} grad of {name}")
        for (name, b), tb in zip(ours.named_buffers(), theirs.buffers()):
            assert_close(b, tb.numpy(), atol=1e-12, what=f"{mode} buffer {name}")


@pytest.mark.parametrize("make, make_torch", [
    (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), lambda t: t.nn.CrossEntropyLoss(label_smoothing=0.1)),
    (lambda: nn.CrossEntropyLoss(reduction="sum", ignore_index=1), lambda t: t.nn.CrossEntropyLoss(reduction="sum", ignore_index=1)),
    (lambda: nn.NLLLoss(), lambda t: t.nn.NLLLoss()),
])
def test_class_losses_match_pytorch(make, make_torch, torch):
    x = np.random.default_rng(0).standard_normal((6, 4))
    y = np.array([0, 1, 2, 3, 1, 0])
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lm, lt = make()(xm, mg.tensor(y)), make_torch(torch)(xt, torch.tensor(y))
    lm.backward(), lt.backward()
    assert_close(lm, lt.item(), atol=1e-12)
    assert_close(xm.grad, xt.grad.numpy(), atol=1e-12)


def test_loss_modules_and_errors():
    x, y = mg.randn(4, 3), mg.randn(4, 3)
    assert_close(nn.MSELoss()(x, y), ((x._data - y._data) ** 2).mean(), atol=1e-6)
    assert_close(nn.L1Loss(reduction="sum")(x, y), np.abs(x._data - y._data).sum(), atol=1e-5)
    assert nn.BCEWithLogitsLoss()(x, mg.rand(4, 3)).shape == ()
    with pytest.raises(ValueError, match=r"mse_loss: input of shape \(4, 3\) and target of shape \(4, 1\) differ"):
        F.mse_loss(x, mg.randn(4, 1))
    with pytest.raises(IndexError, match="target 7 is out of bounds for 3 classes"):
        F.cross_entropy(x, mg.tensor([0, 1, 7, 2]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) does not match input of shape \(4, 3\)"):
        F.cross_entropy(x, mg.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction must be"):
        nn.CrossEntropyLoss(reduction="avg")


def test_cross_entropy_is_stable_for_huge_logits():
    x = mg.tensor([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([0, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad._data).all()
    assert_close(loss, 5e4, rtol=1e-6)


def test_layer_input_errors():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 4\) does not match weight of shape \(3, 5\)"):
        nn.Linear(5, 3)(mg.randn(2, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected a 2D or 3D input, got 4D"):
        nn.BatchNorm1d(3)(mg.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(mg.randn(1, 3))


# ----------------------------------------------------------------------------- initialisation
def test_linear_default_init_is_pytorchs():
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = m.weight._data
    assert w.min() >= -bound and w.max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert m.bias._data.min() >= -bound and m.bias._data.max() <= bound


@pytest.mark.parametrize("fn, expected_std", [
    (lambda t: nn.init.xavier_uniform_(t), math.sqrt(2 / (200 + 100))),
    (lambda t: nn.init.xavier_normal_(t), math.sqrt(2 / (200 + 100))),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 100)),
    (lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda t: nn.init.trunc_normal_(t, std=0.02), 0.02),
    (lambda t: nn.init.trunc_normal_(t, a=-1.0, b=1.0), 0.5376),
])
def test_init_statistics(fn, expected_std):
    t = mg.empty(200, 100)
    fn(t)
    assert abs(float(t._data.std()) - expected_std) < 0.05 * expected_std


def test_init_is_reproducible_and_orthogonal():
    mg.manual_seed(3)
    a = nn.Linear(4, 4).weight._data.copy()
    mg.manual_seed(3)
    assert np.array_equal(a, nn.Linear(4, 4).weight._data)
    q = nn.init.orthogonal_(mg.empty(4, 6))._data
    assert_close(q @ q.T, np.eye(4), atol=1e-5)


def test_functional_batch_norm_momentum_is_a_number_as_in_pytorch(torch):
    """F.batch_norm(momentum=None) is a TypeError in PyTorch too; the modules' momentum=None (a
    cumulative average over num_batches_tracked) passes 1 / count, and matches PyTorch batch after batch."""
    x = np.random.default_rng(0).standard_normal((6, 3))
    with pytest.raises(TypeError):
        torch.nn.functional.batch_norm(torch.tensor(x), torch.zeros(3, dtype=torch.float64),
                                       torch.ones(3, dtype=torch.float64), training=True, momentum=None)
    with pytest.raises(TypeError, match="batch_norm: momentum"):
        F.batch_norm(mg.tensor(x), mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64), training=True,
                     momentum=None)
    ours, theirs = nn.BatchNorm1d(3, momentum=None).double(), torch.nn.BatchNorm1d(3, momentum=None).double()
    for k in range(4):
        batch = np.random.default_rng(k).standard_normal((5 + k, 3))
        ours(mg.tensor(batch)), theirs(torch.tensor(batch))
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked.item()) == 4
    assert_close(ours.running_mean, theirs.running_mean.numpy(), atol=1e-12)
    assert_close(ours.running_var, theirs.running_var.numpy(), atol=1e-12)


LOSSES_OVER_NO_WEIGHT = [
    ("cross_entropy", [-100, -100, -100, -100], None),         # every target ignored: NaN loss, zero gradients
    ("nll_loss", [-100, -100, -100, -100], None),
    ("nll_loss", [-100, 1, -100, 2], [1.0, 0.0, 0.0]),          # the rest weighted 0: NaN there, 0 where ignored
    ("cross_entropy", [-100, 1, -100, 2], [1.0, 0.0, 0.0]),
    ("cross_entropy", [0, 1, 2, 0], [0.0, 0.0, 0.0]),
]


@pytest.mark.parametrize("name, target, weight", LOSSES_OVER_NO_WEIGHT)
def test_mean_losses_over_no_weight_are_nan_as_pytorch_without_warnings(torch, name, target, weight):
    """A mean over zero total weight is PyTorch's 0/0: a NaN loss, ignored rows with gradient 0 and
    the others NaN; and NumPy warns of nothing (setup.cfg makes minigrad's RuntimeWarnings errors)."""
    x = np.arange(12.0).reshape(4, 3) / 7
    results = []
    for T in (torch, mg):
        xt = T.tensor(x, requires_grad=True)
        w = None if weight is None else T.tensor(weight, dtype=T.float64)
        loss = getattr(T.nn.functional, name)(xt, T.tensor(target), weight=w)
        loss.backward()
        results.append((loss.detach().numpy(), xt.grad.numpy()))
    (theirs, t_grad), (ours, o_grad) = results
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(o_grad, t_grad)
