"""The nn layers of issue 12 against torch.nn with the same weights: outputs and parameter
gradients in float64, state dicts loading both ways."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")


def _to_torch(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _copy_state(ours, theirs):
    """Our module's parameters and buffers into the torch module (state dicts must match by name)."""
    ours_sd = {k: v.detach().numpy() for k, v in ours.state_dict().items()}
    theirs_sd = theirs.state_dict()
    assert set(ours_sd) == set(theirs_sd), (sorted(ours_sd), sorted(theirs_sd))
    theirs.load_state_dict({k: torch.as_tensor(np.array(v)).to(theirs_sd[k].dtype) for k, v in ours_sd.items()})


def _compare(ours, theirs, inputs, *, randomize=True, rtol=1e-10, atol=1e-12, grad_rtol=1e-9):
    """Same weights (randomised off their defaults), same inputs: same outputs, input and parameter gradients."""
    ours = ours.double() if hasattr(ours, "double") else ours
    theirs = theirs.double()
    rng = np.random.default_rng(0)
    if randomize:
        for p in ours.parameters():
            p._data[...] = rng.uniform(0.5, 1.5, p.shape)
    _copy_state(ours, theirs)
    xs = [mg.tensor(a, dtype=mg.float64, requires_grad=np.asarray(a).dtype.kind == "f") for a in inputs]
    ts = [_to_torch(a, np.asarray(a).dtype.kind == "f") if np.asarray(a).dtype.kind == "f" else torch.as_tensor(a)
          for a in inputs]
    out, t_out = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=rtol, atol=atol)
    cot = rng.standard_normal(t_out.shape)
    out.backward(mg.tensor(cot))
    t_out.backward(torch.as_tensor(cot))
    for x, t in zip(xs, ts):
        if x.requires_grad:
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=grad_rtol, atol=1e-11)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    t_buffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.detach().numpy(), t_buffers[name].numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    # and back: torch's state dict loads into ours
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return out


def _x(*shape, seed=1, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


ACTIVATIONS = [
    ("SiLU", (), {}), ("Mish", (), {}), ("ELU", (0.5,), {}), ("SELU", (), {}), ("CELU", (), {"alpha": 2.0}),
    ("ReLU6", (), {}), ("Hardtanh", (-0.5, 1.5), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("Softmin", (), {"dim": 1}), ("GLU", (), {"dim": 1}),
    ("Threshold", (0.1, 20.0), {}), ("Tanhshrink", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_modules_match_torch(name, args, kwargs):
    x = _x(3, 4, 2) * 3          # reaches past the kinks at +-3 and 6 (no value lands on one)
    # PyTorch's float64 hardsigmoid backward multiplies by a float32 1/6 (relative error 3e-8)
    _compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), [x],
             grad_rtol=1e-7 if name == "Hardsigmoid" else 1e-9)
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_module(num_parameters):
    m = nn.PReLU(num_parameters)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.full(num_parameters, 0.25))
    _compare(m, torch.nn.PReLU(num_parameters), [_x(2, 3, 4)])


def test_prelu_rejects_a_wrong_weight():
    with pytest.raises(ValueError, match="prelu"):
        nn.functional.prelu(mg.zeros(2, 3), mg.ones(2))


def test_glu_rejects_an_odd_dim():
    with pytest.raises(ValueError, match="glu"):
        nn.functional.glu(mg.zeros(2, 3))


NORMS = [
    ("GroupNorm", (2, 4), {}, (2, 4, 3)), ("GroupNorm", (1, 4), {"affine": False}, (2, 4, 2, 2)),
    ("GroupNorm", (4, 4), {"bias": False}, (3, 4, 5)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)), ("InstanceNorm1d", (3,), {"affine": True}, (3, 5)),
    ("InstanceNorm1d", (3,), {"affine": True, "bias": False}, (2, 3, 4)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 2, 3)),
    ("RMSNorm", ((3, 4),), {}, (2, 3, 4)), ("RMSNorm", (4,), {"eps": 1e-3, "elementwise_affine": False}, (2, 4)),
    ("LocalResponseNorm", (3,), {"alpha": 0.5, "beta": 0.75, "k": 1.5}, (2, 5, 3)),
    ("LocalResponseNorm", (2,), {}, (1, 4, 2, 2)),
    ("BatchNorm3d", (3,), {}, (2, 3, 2, 2, 2)),
    ("BatchNorm3d", (3,), {"affine": False, "momentum": None}, (2, 3, 1, 2, 2)),
]


def test_group_norm_takes_device_and_dtype_positionally_as_torch():
    """GroupNorm(num_groups, num_channels, eps, affine, device, dtype, *, bias): minigrad's bias sat before device,
    so a positional device became bias and a positional dtype the device."""
    ours = nn.GroupNorm(2, 4, 1e-5, True, "cpu", mg.float64)
    theirs = torch.nn.GroupNorm(2, 4, 1e-5, True, "cpu", torch.float64)
    assert ours.weight.dtype == mg.float64 and ours.bias is not None and theirs.bias is not None
    with pytest.raises(TypeError):
        nn.GroupNorm(2, 4, 1e-5, True, "cpu", mg.float64, False)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("name,args,kwargs,shape", NORMS, ids=[f"{n[0]}-{k}" for k, n in enumerate(NORMS)])
def test_norm_modules_match_torch(name, args, kwargs, shape, train):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    ours.train(train)
    theirs.train(train)
    if "running_var" in dict(ours.named_buffers()) and ours.running_var is not None:
        ours.running_mean._data[...] = np.linspace(-0.5, 0.5, ours.running_mean.shape[0])
        ours.running_var._data[...] = np.linspace(0.5, 1.5, ours.running_var.shape[0])
    _compare(ours, theirs, [_x(*shape)])
    assert repr(ours) == repr(theirs)


def test_instance_norm_tracks_running_stats_over_batches():
    ours, theirs = nn.InstanceNorm1d(2, track_running_stats=True, momentum=0.3), \
        torch.nn.InstanceNorm1d(2, track_running_stats=True, momentum=0.3)
    for seed in range(3):
        x = _x(3, 2, 4, seed=seed)
        ours(mg.tensor(x))
        theirs(torch.as_tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)


def test_norms_reject_bad_shapes():
    with pytest.raises(ValueError, match="group_norm"):
        nn.functional.group_norm(mg.zeros(2, 3, 4), 2)
    with pytest.raises(ValueError, match="rms_norm"):
        nn.functional.rms_norm(mg.zeros(2, 3), (4,))
    with pytest.raises(ValueError, match="BatchNorm3d"):
        nn.BatchNorm3d(3)(mg.zeros(2, 3, 4))


@pytest.mark.parametrize("name,kwargs,shapes", [
    ("CosineSimilarity", {}, [(3, 4), (3, 4)]), ("CosineSimilarity", {"dim": -1}, [(2, 3, 4), (3, 4)]),
    ("PairwiseDistance", {}, [(3, 4), (3, 4)]), ("PairwiseDistance", {"p": 1.0, "keepdim": True}, [(2, 5), (2, 5)]),
    ("PairwiseDistance", {"p": 3.0}, [(4,), (4,)]),
])
def test_distance_modules_match_torch(name, kwargs, shapes):
    xs = [_x(*s, seed=k) for k, s in enumerate(shapes)]
    _compare(getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), xs)


def test_one_hot_matches_torch_and_has_no_gradient():
    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 5):
        ours = nn.functional.one_hot(mg.tensor(idx), n)
        theirs = torch.nn.functional.one_hot(torch.as_tensor(idx), n)
        assert ours.dtype == mg.int64 and not ours.requires_grad
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="one_hot"):
        nn.functional.one_hot(mg.tensor([0, 4]), 3)
    with pytest.raises(TypeError, match="one_hot"):
        nn.functional.one_hot(mg.tensor([0.0, 1.0]))


def test_normalize_keeps_zero_vectors_finite():
    out = nn.functional.normalize(mg.zeros(2, 3), dim=1)
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 3)))


def _probs(*shape, seed):
    return _x(*shape, seed=seed, lo=0.05, hi=0.95)


LOSSES = [
    ("BCELoss", {}, lambda: [_probs(3, 4, seed=1), _probs(3, 4, seed=2)]),
    ("BCELoss", {"reduction": "none"}, lambda: [_probs(3, 4, seed=1), _probs(3, 4, seed=2)]),
    ("KLDivLoss", {"reduction": "batchmean"}, lambda: [_x(3, 4), _probs(3, 4, seed=2)]),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, lambda: [_x(3, 4), _x(3, 4, seed=2)]),
    ("HuberLoss", {"delta": 0.7}, lambda: [_x(5, 2), _x(5, 2, seed=3)]),
    ("SmoothL1Loss", {"beta": 0.5, "reduction": "sum"}, lambda: [_x(5, 2), _x(5, 2, seed=3)]),
    ("SmoothL1Loss", {"beta": 0.0}, lambda: [_x(5, 2), _x(5, 2, seed=3)]),
    ("MarginRankingLoss", {"margin": 0.3}, lambda: [_x(6), _x(6, seed=2), np.sign(_x(6, seed=3))]),
    ("TripletMarginLoss", {"margin": 1.5}, lambda: [_x(4, 3), _x(4, 3, seed=2), _x(4, 3, seed=3)]),
    ("TripletMarginLoss", {"p": 1.0, "swap": True, "reduction": "none"},
     lambda: [_x(4, 3), _x(4, 3, seed=2), _x(4, 3, seed=3)]),
    ("PoissonNLLLoss", {}, lambda: [_x(3, 4), _x(3, 4, seed=2, lo=0, hi=4)]),
    ("PoissonNLLLoss", {"log_input": False, "full": True, "reduction": "sum"},
     lambda: [_x(3, 4, lo=0.1, hi=3), _x(3, 4, seed=2, lo=0, hi=4)]),
]


@pytest.mark.parametrize("name,kwargs,inputs", LOSSES, ids=[f"{n[0]}-{k}" for k, n in enumerate(LOSSES)])
def test_loss_modules_match_torch(name, kwargs, inputs):
    _compare(getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), inputs())


def test_bce_loss_weight_and_range():
    w = np.array([0.5, 1.0, 2.0])
    _compare(nn.BCELoss(mg.tensor(w)), torch.nn.BCELoss(torch.as_tensor(w)),
             [_probs(2, 3, seed=1), _probs(2, 3, seed=2)], randomize=False)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.functional.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))


@pytest.mark.parametrize("fn", ["binary_cross_entropy", "kl_div", "huber_loss", "smooth_l1_loss", "poisson_nll_loss"])
def test_losses_never_broadcast(fn):
    with pytest.raises(ValueError, match=fn):
        getattr(nn.functional, fn)(mg.full((3, 1), 0.5), mg.full((3,), 0.5))


def test_bce_gradient_at_the_clamp_matches_torch():
    x, y = np.array([0.0, 1.0, 0.3]), np.array([0.2, 0.9, 1.0])
    ours, theirs = mg.tensor(x, requires_grad=True), _to_torch(x, True)
    nn.functional.binary_cross_entropy(ours, mg.tensor(y)).backward()
    torch.nn.functional.binary_cross_entropy(theirs, _to_torch(y)).backward()
    # the same clamp (x (1 - x) >= 1e-12, PyTorch's constant in float32: relative 4e-9 apart)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8)


def test_unflatten_and_zeropad_match_torch():
    x = _x(2, 6, 3)
    _compare(nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), [x])
    _compare(nn.Unflatten(-1, (3, 1)), torch.nn.Unflatten(-1, (3, 1)), [x])
    _compare(nn.ZeroPad2d((1, 0, 2, 1)), torch.nn.ZeroPad2d((1, 0, 2, 1)), [_x(1, 2, 3, 3)])
    _compare(nn.ZeroPad2d(1), torch.nn.ZeroPad2d(1), [_x(2, 3, 2)])
    assert repr(nn.ZeroPad2d(1)) == repr(torch.nn.ZeroPad2d(1))
    assert repr(nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))


@pytest.mark.parametrize("shape", [(4, 3, 50), (6, 40)])
def test_dropout1d_drops_whole_channels(shape):
    mg.manual_seed(0)
    m = nn.Dropout1d(0.5)
    x = mg.ones(*shape, requires_grad=True)
    out = m(x)
    rows = out.detach().numpy().reshape(-1, shape[-1])
    assert set(np.unique(rows)) <= {0.0, 2.0}
    assert all(len(set(r)) == 1 for r in rows)             # one decision per channel
    assert 0 < (rows[:, 0] == 0).sum() < len(rows)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())
    m.eval()
    assert m(x) is x or np.array_equal(m(x).detach().numpy(), x.detach().numpy())
    with pytest.raises(ValueError, match="dropout1d"):
        nn.functional.dropout1d(mg.ones(2, 3, 4, 5))


class _Weights(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.plist = lib.ParameterList([lib.Parameter(mg.ones(2) if lib is nn else torch.ones(2))])
        self.plist.append(lib.Parameter(mg.zeros(3) if lib is nn else torch.zeros(3)))
        self.pdict = lib.ParameterDict({"a": lib.Parameter(mg.ones(2, 2) if lib is nn else torch.ones(2, 2))})
        self.pdict["b"] = lib.Parameter(mg.ones(1) if lib is nn else torch.ones(1))


class _TorchWeights(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.plist = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.zeros(3))])
        self.pdict = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.ones(2, 2)),
                                             "b": torch.nn.Parameter(torch.ones(1))})


def test_parameter_containers_register_like_torch():
    ours, theirs = _Weights(nn), _TorchWeights()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(ours.plist) == 2 and len(ours.pdict) == 2 and "a" in ours.pdict
    assert [tuple(p.shape) for p in ours.plist] == [(2,), (3,)]
    assert list(ours.pdict.keys()) == ["a", "b"]
    ours.load_state_dict({k: mg.tensor(v.detach().numpy() + 1) for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours.plist[1].detach().numpy(), np.ones(3))
    loss = (ours.plist[0] * 2).sum() + ours.pdict["a"].sum()
    loss.backward()
    np.testing.assert_array_equal(ours.plist[0].grad.numpy(), [2.0, 2.0])
    ours.plist[0] = mg.ones(4)                       # a plain tensor becomes a Parameter
    assert isinstance(ours.plist[0], nn.Parameter) and tuple(ours.plist[0].shape) == (4,)
