"""optim.ASGD and optim.Rprop against PyTorch: trajectories (float32 and float64), state-dict
layout, loading PyTorch's state dict mid-trajectory, argument validation and signatures."""
import inspect

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.nn import Parameter

from helpers import assert_close, host

try:
    import torch
except ImportError:          # the torch fixture below skips (or fails under MINIGRAD_REQUIRE_TORCH)
    torch = None


@pytest.fixture(autouse=True)
def _cross_check(torch):
    """Every test here compares with PyTorch (conftest's fixture: skip, or fail in CI, without it)."""

SHAPES = [(3,), (2, 3), (4, 1)]


def start_values(dtype):
    rng = np.random.default_rng(11)
    return [rng.uniform(-1.0, 1.0, shape).astype(dtype) for shape in SHAPES]


def gradient(values, step):
    """A gradient field whose sign flips now and then (Rprop's two branches both run)."""
    return 2 * values + 0.8 * np.sin(3 * values + 1.7 * step)


CASES = [
    ("ASGD", {}, None),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.6, "t0": 5, "weight_decay": 0.1}, None),
    ("ASGD", {"lr": 0.05, "t0": 3, "maximize": True, "foreach": False}, None),
    ("ASGD", {"lr": 0.05, "t0": 2}, [{"lr": 0.01}, {"lambd": 0.1, "t0": 8}]),
    ("Rprop", {}, None),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}, None),
    ("Rprop", {"lr": 0.02, "maximize": True, "foreach": True}, None),
    ("Rprop", {"lr": 0.05}, [{"lr": 0.1}, {"etas": (0.4, 1.1)}]),
]
IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]


def grouped(params, groups):
    if groups is None:
        return params
    return [dict(groups[0], params=params[:1]), dict(groups[1], params=params[1:])]


def run_minigrad(name, options, groups, dtype, steps):
    params = [Parameter(mg.tensor(v)) for v in start_values(dtype)]
    opt = getattr(optim, name)(grouped(params, groups), **options)
    trajectory = []
    for k in range(steps):
        for p in params:
            p.grad = mg.tensor(gradient(host(p), k))
        opt.step()
        trajectory.append([host(p).copy() for p in params])
    return params, opt, trajectory


def run_torch(name, options, groups, dtype, steps):
    params = [torch.tensor(v, requires_grad=True) for v in start_values(dtype)]
    opt = getattr(torch.optim, name)(grouped(params, groups), **options)
    trajectory = []
    for k in range(steps):
        for p in params:
            p.grad = torch.from_numpy(gradient(p.detach().numpy(), k))
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return opt, trajectory


def assert_same(actual, expected, rtol, atol):
    for k, (got, want) in enumerate(zip(actual, expected)):
        for i, (a, e) in enumerate(zip(got, want)):
            assert_close(a, e, rtol=rtol, atol=atol, what=f"parameter {i} after step {k + 1}")


@pytest.fixture
def default_float64():
    """Both libraries' default dtype float64 (PyTorch keeps ASGD's eta and mu in it)."""
    before_torch, before_mg = torch.get_default_dtype(), mg.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    mg.set_default_dtype(mg.float64)
    yield
    torch.set_default_dtype(before_torch)
    mg.set_default_dtype(before_mg)


@pytest.mark.parametrize("name, options, groups", CASES, ids=IDS)
def test_float32_trajectory_and_state_dict_match_torch(name, options, groups):
    params, opt, trajectory = run_minigrad(name, options, groups, np.float32, 30)
    torch_opt, expected = run_torch(name, options, groups, np.float32, 30)
    assert_same(trajectory, expected, rtol=1e-5, atol=1e-6)
    assert all(p.dtype == mg.float32 for p in params)
    ours, theirs = opt.state_dict(), torch_opt.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for index, state in ours["state"].items():
        assert state.keys() == theirs["state"][index].keys()
        assert state["step"] == 30
        for key, value in state.items():
            if isinstance(value, mg.Tensor):
                assert value.dtype == mg.float32
                assert_close(value, theirs["state"][index][key].numpy(), rtol=1e-5, atol=1e-6, what=key)
            elif key != "step":
                assert value == pytest.approx(theirs["state"][index][key].item(), rel=1e-6)
    for group, torch_group in zip(ours["param_groups"], theirs["param_groups"]):
        assert group == {key: torch_group[key] for key in group}


@pytest.mark.parametrize("name, options, groups", CASES, ids=IDS)
def test_float64_trajectory_matches_torch_to_rounding(default_float64, name, options, groups):
    _, _, trajectory = run_minigrad(name, options, groups, np.float64, 30)
    _, expected = run_torch(name, options, groups, np.float64, 30)
    assert_same(trajectory, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, options, groups", CASES, ids=IDS)
def test_a_torch_state_dict_loads_and_continues_its_trajectory(name, options, groups):
    _, expected = run_torch(name, options, groups, np.float32, 20)
    halfway, _ = run_torch(name, options, groups, np.float32, 10)
    saved = halfway.state_dict()
    converted = {"state": {i: {k: mg.tensor(v.numpy()) for k, v in st.items()} for i, st in saved["state"].items()},
                 "param_groups": saved["param_groups"]}
    params = [Parameter(mg.tensor(v)) for v in expected[9]]
    opt = getattr(optim, name)(grouped(params, groups and [{}, {}]))
    opt.load_state_dict(converted)
    assert all(st["step"].dtype == mg.float32 and st["step"].shape == () for st in opt.state.values())
    got = []
    for k in range(10, 20):
        for p in params:
            p.grad = mg.tensor(gradient(host(p), k))
        opt.step()
        got.append([host(p).copy() for p in params])
    assert_same(got, expected[10:], rtol=1e-5, atol=1e-6)


BAD = [
    ("ASGD", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("ASGD", {"weight_decay": -1.0}, "Invalid weight_decay value: -1.0"),
    ("Rprop", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("Rprop", {"etas": (1.5, 1.2)}, "Invalid eta values: 1.5, 1.2"),
    ("Rprop", {"etas": (0.5, 0.9)}, "Invalid eta values: 0.5, 0.9"),
]


@pytest.mark.parametrize("name, options, message", BAD)
def test_bad_arguments_are_refused_as_torch(name, options, message):
    params = [Parameter(mg.tensor(v)) for v in start_values(np.float32)]
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)(params, **options)
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **options)


@pytest.mark.parametrize("name", ["ASGD", "Rprop"])
def test_signature_and_defaults_are_torch(name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert list(ours) == list(theirs)
    for key, param in theirs.items():
        assert ours[key].kind == param.kind, key
        if param.default is not inspect.Parameter.empty:
            assert ours[key].default == param.default, key
    params = [Parameter(mg.tensor(v)) for v in start_values(np.float32)]
    opt = getattr(optim, name)(params, foreach=True, maximize=True, differentiable=False)
    assert opt.param_groups[0]["maximize"] is True and opt.param_groups[0]["foreach"] is True
    with pytest.raises(ValueError, match=f"{name}: differentiable=True is not supported"):
        getattr(optim, name)(params, differentiable=True)
    with pytest.raises(ValueError, match=f"{name}: capturable=True is not supported"):
        getattr(optim, name)(params, capturable=True)


def test_parameters_without_gradient_are_skipped():
    a, b = Parameter(mg.ones(2)), Parameter(mg.ones(2))
    for name in ("ASGD", "Rprop"):
        opt = getattr(optim, name)([a, b])
        a.grad, b.grad = mg.ones(2), None
        opt.step()
        assert len(opt.state) == 1 and np.array_equal(host(b), np.ones(2))
