"""Optimizers (minigrad.optim) and gradient clipping (minigrad.nn.utils).

Every optimizer runs a 20-step trajectory from a fixed start under a fixed gradient field, checked
against a plain NumPy reference written below (textbook formulas, no PyTorch needed) and against
PyTorch when it is installed.
"""
import math
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.nn import Parameter
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_

from conftest import DEVICE
from helpers import assert_close, host

SHAPES = [(3,), (2, 3), (4, 1)]
STEPS = 20


def start_values():
    rng = np.random.default_rng(7)
    return [rng.uniform(-1.0, 1.0, shape).astype(np.float32) for shape in SHAPES]


def gradient(values, step):
    """A fixed gradient field, float32: that of sum(p^2 - cos(3p + step) / 6)."""
    return 2 * values + 0.5 * np.sin(3 * values + step)


# (optimizer, constructor options, options of two parameter groups (the first parameter, the rest) or None)
CASES = [
    ("SGD", {"lr": 0.1}, None),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, None),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, None),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "maximize": True}, None),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, [{"lr": 0.02}, {"momentum": 0.5}]),
    ("Adam", {}, None),
    ("Adam", {"lr": 0.05}, None),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}, None),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}, None),
    ("Adam", {"lr": 0.05}, [{"lr": 0.01}, {"amsgrad": True}]),
    ("AdamW", {"lr": 0.05}, None),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True, "maximize": True}, None),
    ("AdamW", {"lr": 0.05}, [{"lr": 0.01, "weight_decay": 0.0}, {}]),
    ("RMSprop", {}, None),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}, None),
    ("RMSprop", {"lr": 0.01, "centered": True, "weight_decay": 0.1}, None),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5, "maximize": True}, None),
    ("RMSprop", {"lr": 0.01}, [{"lr": 0.003}, {"centered": True}]),
    ("Adagrad", {"lr": 0.1}, None),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1}, None),
    ("Adagrad", {"lr": 0.1, "eps": 1e-6, "maximize": True}, None),
    ("Adagrad", {"lr": 0.1}, [{"lr": 0.03}, {"lr_decay": 0.05}]),
    ("Adadelta", {}, None),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1, "maximize": True}, None),
    ("Adadelta", {"lr": 0.5}, [{"lr": 2.0}, {"rho": 0.95, "foreach": True}]),
    ("Adamax", {}, None),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-4, "weight_decay": 0.1, "maximize": True}, None),
    ("Adamax", {"lr": 0.05}, [{"lr": 0.01}, {"betas": (0.5, 0.99), "foreach": True}]),
    ("NAdam", {}, None),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.05, "weight_decay": 0.1, "maximize": True}, None),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.2, "decoupled_weight_decay": True, "eps": 1e-6}, None),
    ("NAdam", {"lr": 0.05}, [{"lr": 0.01}, {"betas": (0.8, 0.99), "foreach": True}]),
    ("RAdam", {}, None),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9), "weight_decay": 0.1, "maximize": True}, None),  # steps 1-5 unrectified
    ("RAdam", {"lr": 0.05, "betas": (0.8, 0.95), "weight_decay": 0.2, "decoupled_weight_decay": True}, None),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.8)}, [{"lr": 0.01}, {"eps": 1e-4, "foreach": True}]),
]
CASE_IDS = [f"{name}-{options}" + (f"-groups{groups}" if groups else "") for name, options, groups in CASES]


def grouped(params, groups):
    """The optimizer's params argument: a plain list, or two groups (the first parameter, the rest)."""
    if groups is None:
        return list(params)
    return [{"params": params[:1], **groups[0]}, {"params": params[1:], **groups[1]}]


# ----------------------------------------------------------------------------- the NumPy reference
def reference_sgd(p, g, s, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
    g = (-g if maximize else g) + weight_decay * p
    if momentum:
        s["buf"] = g.copy() if "buf" not in s else momentum * s["buf"] + (1 - dampening) * g
        g = g + momentum * s["buf"] if nesterov else s["buf"]
    return p - lr * g


def reference_adam(p, g, s, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
                   decoupled=False):
    beta1, beta2 = betas
    t = s["t"] = s.get("t", 0) + 1
    g = -g if maximize else g
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = s["m"] = beta1 * s.get("m", 0) + (1 - beta1) * g
    v = s["v"] = beta2 * s.get("v", 0) + (1 - beta2) * g * g
    if amsgrad:
        v = s["v_max"] = np.maximum(s.get("v_max", 0), v)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def reference_adamw(p, g, s, weight_decay=1e-2, **options):
    return reference_adam(p, g, s, weight_decay=weight_decay, decoupled=True, **options)


def reference_rmsprop(p, g, s, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                      maximize=False):
    g = (-g if maximize else g) + weight_decay * p
    v = s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
    if centered:
        mean = s["mean"] = alpha * s.get("mean", 0) + (1 - alpha) * g
        v = v - mean * mean
    update = g / (np.sqrt(v) + eps)
    if momentum > 0:
        update = s["buf"] = momentum * s.get("buf", 0) + update
    return p - lr * update


def reference_adagrad(p, g, s, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                      maximize=False):
    t = s["t"] = s.get("t", 0) + 1
    g = (-g if maximize else g) + weight_decay * p
    s["sum"] = s.get("sum", initial_accumulator_value) + g * g
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)


def reference_adadelta(p, g, s, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False, foreach=None):
    g = (-g if maximize else g) + weight_decay * p
    v = s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("u", 0) + eps) / np.sqrt(v + eps) * g
    s["u"] = rho * s.get("u", 0) + (1 - rho) * delta * delta
    return p - lr * delta


def reference_adamax(p, g, s, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False, foreach=None):
    beta1, beta2 = betas
    t = s["t"] = s.get("t", 0) + 1
    g = (-g if maximize else g) + weight_decay * p
    m = s["m"] = beta1 * s.get("m", 0) + (1 - beta1) * g
    u = s["u"] = np.maximum(beta2 * s.get("u", 0), np.abs(g) + eps)
    return p - lr / (1 - beta1 ** t) * m / u


def reference_nadam(p, g, s, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                    decoupled_weight_decay=False, maximize=False, foreach=None):
    """Dozat's NAdam: the Nesterov look-ahead mixes the bias-corrected gradient and momentum."""
    beta1, beta2 = betas
    t = s["t"] = s.get("t", 0) + 1
    g = -g if maximize else g
    if decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    mu = [beta1 * (1 - 0.5 * 0.96 ** (k * momentum_decay)) for k in (t, t + 1)]
    product = s["product"] = s.get("product", 1.0) * mu[0]
    m = s["m"] = beta1 * s.get("m", 0) + (1 - beta1) * g
    v = s["v"] = beta2 * s.get("v", 0) + (1 - beta2) * g * g
    look_ahead = (1 - mu[0]) * g / (1 - product) + mu[1] * m / (1 - product * mu[1])
    return p - lr * look_ahead / (np.sqrt(v / (1 - beta2 ** t)) + eps)


def reference_radam(p, g, s, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                    maximize=False, foreach=None):
    """Liu et al.'s RAdam, algorithm 2."""
    beta1, beta2 = betas
    t = s["t"] = s.get("t", 0) + 1
    g = -g if maximize else g
    if decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = s["m"] = beta1 * s.get("m", 0) + (1 - beta1) * g
    v = s["v"] = beta2 * s.get("v", 0) + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    if rho <= 5:
        return p - lr * m_hat
    r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return p - lr * m_hat * r * math.sqrt(1 - beta2 ** t) / (np.sqrt(v) + eps)


REFERENCES = {"SGD": reference_sgd, "Adam": reference_adam, "AdamW": reference_adamw,
              "RMSprop": reference_rmsprop, "Adagrad": reference_adagrad, "Adadelta": reference_adadelta,
              "Adamax": reference_adamax, "NAdam": reference_nadam, "RAdam": reference_radam}


def reference_trajectory(name, options, groups, steps=STEPS):
    """The parameters' values after each step, by the reference formulas."""
    values = start_values()
    per_param = [dict(options, **(groups[min(i, 1)] if groups else {})) for i in range(len(values))]
    states = [{} for _ in values]
    trajectory = []
    for k in range(steps):
        values = [REFERENCES[name](v, gradient(v, k), s, **o) for v, s, o in zip(values, states, per_param)]
        trajectory.append(values)
    return trajectory


# ----------------------------------------------------------------------------- minigrad and PyTorch runs
def make_params(values=None, dtype=None):
    values = start_values() if values is None else values
    return [Parameter(mg.tensor(v, dtype=dtype, device=DEVICE)) for v in values]


def run(opt, params, steps, first=0):
    """``steps`` optimizer steps under the gradient field; the values after each."""
    trajectory = []
    for k in range(first, first + steps):
        for p in params:
            p.grad = mg.tensor(gradient(host(p), k), device=DEVICE)
        opt.step()
        trajectory.append([host(p).copy() for p in params])
    return trajectory


def run_case(name, options, groups, steps=STEPS, dtype=None):
    params = make_params([v.astype(dtype) for v in start_values()] if dtype else None, dtype)
    opt = getattr(optim, name)(grouped(params, groups), **options)
    return params, opt, run(opt, params, steps)


def torch_case(torch, name, options, groups, steps=STEPS, dtype=np.float32):
    params = [torch.tensor(v.astype(dtype), requires_grad=True) for v in start_values()]
    opt = getattr(torch.optim, name)(grouped(params, groups), **options)
    trajectory = []
    for k in range(steps):
        for p in params:
            p.grad = torch.from_numpy(gradient(p.detach().numpy(), k))
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return opt, trajectory


@pytest.fixture(params=["float32", "float64"])
def both_default_dtypes(request, torch):
    """PyTorch and minigrad with the same default dtype, which is that of their scalar state (the
    step count, NAdam's mu_product): float64 only when float64 is the default."""
    before = torch.get_default_dtype(), mg.get_default_dtype()
    torch.set_default_dtype(getattr(torch, request.param))
    mg.set_default_dtype(getattr(mg, request.param))
    yield torch
    torch.set_default_dtype(before[0])
    mg.set_default_dtype(before[1])


def assert_trajectories_close(actual, expected, rtol=1e-5, atol=1e-6):
    for k, (got, want) in enumerate(zip(actual, expected)):
        for i, (a, e) in enumerate(zip(got, want)):
            assert_close(a, e, rtol=rtol, atol=atol, what=f"parameter {i} after step {k + 1}")


# ----------------------------------------------------------------------------- trajectories
@pytest.mark.parametrize("name, options, groups", CASES, ids=CASE_IDS)
def test_trajectory_matches_numpy_reference(name, options, groups):
    params, opt, trajectory = run_case(name, options, groups)
    assert_trajectories_close(trajectory, reference_trajectory(name, options, groups))
    # float32 parameters keep float32 parameters and state
    assert all(p.dtype == mg.float32 for p in params)
    for state in opt.state.values():
        for key, value in state.items():
            assert isinstance(value, mg.Tensor) and value.dtype == mg.float32, key


@pytest.mark.parametrize("name, options, groups", CASES, ids=CASE_IDS)
def test_trajectory_matches_torch(torch, name, options, groups):
    _, opt, trajectory = run_case(name, options, groups)
    torch_opt, expected = torch_case(torch, name, options, groups)
    assert_trajectories_close(trajectory, expected)

    # the state dict has PyTorch's layout: the same parameter indices, state names and hyperparameters
    ours, theirs = opt.state_dict(), torch_opt.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for index, state in ours["state"].items():
        assert state.keys() == theirs["state"][index].keys()
        assert state.get("step", STEPS) == STEPS
    for group, torch_group in zip(ours["param_groups"], theirs["param_groups"]):
        assert group.keys() <= torch_group.keys()
        assert group == {key: torch_group[key] for key in group}


NEW_CASES = [case for case in CASES if case[0] in ("Adadelta", "Adamax", "NAdam", "RAdam")]


@pytest.mark.parametrize("name, options, groups", NEW_CASES, ids=[CASE_IDS[CASES.index(c)] for c in NEW_CASES])
def test_float64_trajectory_matches_torch_to_rounding(both_default_dtypes, name, options, groups):
    params, _, trajectory = run_case(name, options, groups, dtype=np.float64)
    assert all(p.dtype == mg.float64 for p in params)
    _, expected = torch_case(both_default_dtypes, name, options, groups, dtype=np.float64)
    assert_trajectories_close(trajectory, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, options, groups", NEW_CASES, ids=[CASE_IDS[CASES.index(c)] for c in NEW_CASES])
def test_a_torch_state_dict_loads_and_continues_its_trajectory(torch, name, options, groups):
    torch_opt, expected = torch_case(torch, name, options, groups, steps=2 * 10)
    halfway, _ = torch_case(torch, name, options, groups, steps=10)
    saved = halfway.state_dict()
    converted = {"state": {i: {k: mg.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v for k, v in st.items()}
                           for i, st in saved["state"].items()},
                 "param_groups": saved["param_groups"]}
    params = make_params([host(v) for v in expected[9]])
    opt = getattr(optim, name)(grouped(params, groups and [{}, {}]))
    opt.load_state_dict(converted)
    assert all(st["step"].dtype == mg.float32 and st["step"].shape == () for st in opt.state.values())
    assert_trajectories_close(run(opt, params, 10, first=10), expected[10:])


def test_real_gradients_through_minigrad_match_torch(torch):
    """A small tanh regression trained end to end: backward fills .grad, the optimizer steps."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 4)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)
    w0, b0 = rng.standard_normal((4, 1)).astype(np.float32), np.zeros(1, np.float32)

    w, b = make_params([w0, b0])
    opt = optim.Adam([w, b], lr=0.05)
    tw, tb = (torch.tensor(v, requires_grad=True) for v in (w0, b0))
    topt = torch.optim.Adam([tw, tb], lr=0.05)
    xs, ys = mg.tensor(x, device=DEVICE), mg.tensor(y, device=DEVICE)
    losses, torch_losses = [], []
    for _ in range(15):
        opt.zero_grad()
        loss = (((xs @ w + b).tanh() - ys) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        topt.zero_grad()
        torch_loss = (((torch.from_numpy(x) @ tw + tb).tanh() - torch.from_numpy(y)) ** 2).mean()
        torch_loss.backward()
        topt.step()
        torch_losses.append(torch_loss.item())
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-5)
    assert losses[-1] < losses[0]
    assert_close(w, tw.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert_close(b, tb.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.05, momentum=0.9)), ("SGD", dict(lr=0.05)),
                                           ("Adam", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, momentum=0.5))])
def test_a_parameter_repeated_in_its_group_is_updated_per_appearance_as_torch(torch, name, options):
    """A weight tied between two modules whose parameter lists were concatenated appears twice in
    one group: PyTorch warns and updates it once per appearance (SGD: each appearance starts its
    own momentum buffer on the first step, the last one is kept); the state dict numbers it by
    its last appearance.  Across groups it stays an error."""
    rng = np.random.default_rng(5)
    w0, b0, x = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))
    results = []
    for lib in (mg, torch):
        w, b = (lib.nn.Parameter(lib.tensor(v)) for v in (w0, b0))
        if lib is mg:
            with pytest.warns(UserWarning, match="parameter 2 of group 0 was given more than once"):
                opt = getattr(optim, name)([w, b, w], **options)
        else:
            with pytest.warns(UserWarning, match="duplicate parameters"):
                opt = getattr(lib.optim, name)([w, b, w], **options)
        for _ in range(3):
            opt.zero_grad()
            ((lib.tensor(x) @ w + b).tanh() ** 2).sum().backward()
            opt.step()
        sd = opt.state_dict()
        results.append((w.detach().numpy(), b.detach().numpy(), sd["param_groups"][0]["params"], sorted(sd["state"])))
    (w_mg, b_mg, idx_mg, keys_mg), (w_t, b_t, idx_t, keys_t) = results
    np.testing.assert_allclose(w_mg, w_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b_mg, b_t, rtol=1e-12, atol=1e-12)
    assert idx_mg == idx_t == [2, 1, 2] and keys_mg == keys_t
    p = Parameter(mg.zeros(2))
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_numpy_float64_hyperparameters_keep_float32():
    params = make_params()
    opt = optim.SGD(params, lr=np.float64(0.1), momentum=np.float64(0.9), weight_decay=np.float64(0.01))
    run(opt, params, 3)
    assert all(p.dtype == mg.float32 and opt.state[p]["momentum_buffer"].dtype == mg.float32 for p in params)


# ----------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("name, options, groups", CASES, ids=CASE_IDS)
def test_state_dict_round_trip_resumes_exactly(name, options, groups):
    _, _, straight = run_case(name, options, groups, steps=2 * 10)
    params, opt, _ = run_case(name, options, groups, steps=10)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))

    # a fresh optimizer built with default options: loading restores the hyperparameters too
    resumed = make_params([host(p) for p in params])
    fresh = getattr(optim, name)(grouped(resumed, groups and [{}, {}]))
    fresh.load_state_dict(saved)
    assert [{k: v for k, v in g.items() if k != "params"} for g in fresh.param_groups] == \
           [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    second_half = run(fresh, resumed, 10, first=10)
    for got, want in zip(second_half, straight[10:]):
        for a, e in zip(got, want):
            np.testing.assert_array_equal(a, e)


def test_state_dict_numbers_parameters_over_groups_and_shares_buffers():
    params = make_params()
    opt = optim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    params[1].grad = mg.ones_like(params[1])
    params[2].grad = mg.ones_like(params[2])
    opt.step()
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in saved["param_groups"]] == [0.1, 0.5]
    assert sorted(saved["state"]) == [1, 2]       # parameter 0 had no gradient, so no state
    assert isinstance(saved["state"][1]["momentum_buffer"], mg.Tensor)
    assert saved["state"][1]["momentum_buffer"] is opt.state[params[1]]["momentum_buffer"]


def test_load_state_dict_copies_onto_the_parameters_dtype():
    params32 = make_params()
    opt32 = optim.Adam(params32, lr=0.05)
    run(opt32, params32, 3)
    params64 = make_params(dtype=mg.float64)
    opt64 = optim.Adam(params64)
    opt64.load_state_dict(opt32.state_dict())
    for p32, p64 in zip(params32, params64):
        state32, state64 = opt32.state[p32], opt64.state[p64]
        assert state64["step"] == 3 and state64["exp_avg"].dtype == mg.float64
        assert_close(state64["exp_avg"], host(state32["exp_avg"]), rtol=0, atol=0)
        assert state64["exp_avg"]._data is not state32["exp_avg"]._data
    assert opt64.param_groups[0]["lr"] == 0.05


@pytest.mark.parametrize("saved_step", [2, 2.0, "float64 tensor"])
def test_load_state_dict_accepts_a_step_count_held_in_a_number(saved_step):
    """Older PyTorch dicts hold the step as a number: it becomes a 0-d tensor of the scalar
    dtype; a tensor keeps its dtype (as PyTorch keeps it)."""
    params = make_params()
    opt = optim.Adam(params)
    run(opt, params, 2)
    saved = opt.state_dict()
    for state in saved["state"].values():
        state["step"] = mg.tensor(2.0, dtype=mg.float64) if saved_step == "float64 tensor" else saved_step
    opt.load_state_dict(saved)
    dtype = mg.float64 if saved_step == "float64 tensor" else mg.float32
    assert all(state["step"].item() == 2 and state["step"].dtype == dtype for state in opt.state.values())
    run(opt, params, 1)
    assert all(state["step"].item() == 3 for state in opt.state.values())


def _spoil_group_count(saved):
    saved["param_groups"].append(dict(saved["param_groups"][0], params=[]))


def _spoil_group_size(saved):
    saved["param_groups"][0]["params"].pop()


def _spoil_shape(saved):
    saved["state"][0]["exp_avg"] = mg.zeros(7)


def _spoil_index(saved):
    saved["state"][99] = saved["state"][0]


@pytest.mark.parametrize("spoil, message", [
    (_spoil_group_count, r"loaded state dict has a different number of parameter groups \(2, the optimizer has 1\)"),
    (_spoil_group_size, r"loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                        r"group \(group 0 has 2 parameter\(s\) in the state dict, 3 in the optimizer\)"),
    (_spoil_shape, r"state 'exp_avg' of parameter 0 has shape \(7,\) but should have shape \(3,\)"),
    (_spoil_index, "state for parameter 99, which none of its parameter groups lists"),
])
def test_load_state_dict_rejects_a_dict_that_does_not_fit(spoil, message):
    params = make_params()
    opt = optim.Adam(params, lr=0.05)
    run(opt, params, 1)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    spoil(saved)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(saved)
    assert opt.state_dict()["state"][0]["exp_avg"] is before["state"][0]["exp_avg"]   # left unchanged
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


# ----------------------------------------------------------------------------- the Optimizer API
def test_zero_grad_drops_or_zeroes_in_place():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = mg.ones_like(p)
    arrays = [p.grad._data for p in params]
    opt.zero_grad(set_to_none=False)
    assert all(p.grad._data is a and not host(p.grad).any() for p, a in zip(params, arrays))
    opt.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_parameters_without_gradient_are_skipped(name):
    params = make_params()
    opt = getattr(optim, name)(params, lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    params[1].grad = mg.ones_like(params[1])
    opt.step()
    assert_close(params[0], start_values()[0], rtol=0, atol=0)
    assert_close(params[2], start_values()[2], rtol=0, atol=0)
    assert not (host(params[1]) == start_values()[1]).any()
    stepped = [i for i, p in enumerate(params)
               if opt.state.get(p, {}).get("step", 0) > 0 or "momentum_buffer" in opt.state.get(p, {})]
    assert stepped == [1]


def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss():
    (p,) = make_params([np.array([1.0, -2.0], np.float32)])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    assert_close(p, [0.5, -1.0])


def test_add_param_group_fills_in_defaults():
    a, b = make_params()[:2]
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    with pytest.raises(ValueError, match="group 2 repeats a parameter of an earlier group"):
        opt.add_param_group({"params": [a]})


def test_adagrad_creates_its_state_with_the_group():
    params = make_params()
    opt = optim.Adagrad(params, initial_accumulator_value=0.5)
    assert all(opt.state[p]["step"] == 0 and (host(opt.state[p]["sum"]) == 0.5).all() for p in params)


@pytest.mark.parametrize("make, error, message", [
    (lambda p: optim.SGD([]), ValueError, "SGD: optimizer got an empty parameter list"),
    (lambda p: optim.Adam(p[0]), TypeError,
     "Adam: params argument given to the optimizer should be an iterable of Tensors or dicts"),
    (lambda p: optim.SGD([{"params": p[:2]}, {"params": p[1:]}]), ValueError,
     "SGD: some parameters appear in more than one parameter group"),
    (lambda p: optim.Adam([p[0] * 2]), ValueError, "Adam: can't optimize a non-leaf Tensor"),
    (lambda p: optim.SGD([mg.tensor([1, 2])]), TypeError,
     "SGD: can only optimize floating-point Tensors, but parameter 0 of group 0 has dtype int64"),
    (lambda p: optim.RMSprop([np.zeros(3)]), TypeError,
     "RMSprop: optimizer can only optimize Tensors, but one of the params is ndarray"),
    (lambda p: optim.SGD([{"params": set(p)}]), TypeError, "ordered collections"),
    (lambda p: optim.SGD([{"lr": 0.1}]), ValueError, "a parameter group needs a 'params' entry"),
])
def test_bad_params_are_refused_with_a_clear_message(make, error, message):
    with pytest.raises(error, match=message):
        make(make_params())


# (optimizer, options, PyTorch's message)
BAD_HYPERPARAMETERS = [
    ("SGD", {"lr": -1}, "Invalid learning rate: -1"),
    ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("SGD", {"weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
    ("SGD", {"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"momentum": 0.9, "dampening": 0.1, "nesterov": True}, "Nesterov momentum requires"),
    ("Adam", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("AdamW", {"weight_decay": -0.01}, "Invalid weight_decay value: -0.01"),
    ("RMSprop", {"alpha": -0.9}, "Invalid alpha value: -0.9"),
    ("RMSprop", {"momentum": -1}, "Invalid momentum value: -1"),
    ("RMSprop", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1"),
    ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value: -1"),
    ("Adagrad", {"eps": -1e-10}, "Invalid epsilon value: -1e-10"),
    ("Adadelta", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("Adadelta", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("Adadelta", {"weight_decay": -1.0}, "Invalid weight_decay value: -1.0"),
    ("Adamax", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("Adamax", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("NAdam", {"momentum_decay": -0.1}, "Invalid momentum_decay value: -0.1"),
    ("NAdam", {"betas": (-0.1, 0.9)}, "Invalid beta parameter at index 0: -0.1"),
    ("RAdam", {"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
    ("RAdam", {"lr": -0.5}, "Invalid learning rate: -0.5"),
]


@pytest.mark.parametrize("name, options, message", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_are_refused(name, options, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)(make_params(), **options)


@pytest.mark.parametrize("name, options, message", BAD_HYPERPARAMETERS)
def test_hyperparameter_messages_are_torchs(torch, name, options, message):
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.zeros(3, requires_grad=True)], **options)


@pytest.mark.parametrize("name, options, groups", [CASES[i] for i in (4, 9, 13)], ids=[CASE_IDS[i] for i in (4, 9, 13)])
def test_repr_is_torchs_less_its_extra_options(torch, name, options, groups):
    ours = repr(getattr(optim, name)(grouped(make_params(), groups), **options))
    theirs = repr(getattr(torch.optim, name)(grouped([torch.zeros(s, requires_grad=True) for s in SHAPES], groups),
                                             **options))
    ours_keys = {line.split(":")[0].strip() for line in ours.splitlines() if line.startswith("    ")}
    kept = [line for line in theirs.splitlines()
            if not line.startswith("    ") or line.split(":")[0].strip() in ours_keys]
    assert ours == "\n".join(kept)


# ----------------------------------------------------------------------------- gradient clipping
def grads_for_clipping(values=None):
    rng = np.random.default_rng(11)
    grads = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES] if values is None else values
    params = make_params()
    for p, g in zip(params, grads):
        p.grad = mg.tensor(g, device=DEVICE)
    return params, grads


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm):
    params, grads = grads_for_clipping()
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    p = float(norm_type)
    expected_total = np.abs(flat).max() if p == math.inf else (np.abs(flat) ** p).sum() ** (1 / p)
    total = clip_grad_norm_(params, max_norm, norm_type)
    assert total.shape == () and total.dtype == mg.float32
    assert_close(total, expected_total, rtol=1e-6)
    scale = min(1.0, max_norm / (expected_total + 1e-6))
    for param, g in zip(params, grads):
        assert_close(param.grad, g * scale, rtol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    params, grads = grads_for_clipping()
    params.append(make_params()[0])          # one parameter without a gradient
    torch_params = [torch.zeros(g.shape, requires_grad=True) for g in grads] + [torch.zeros(3, requires_grad=True)]
    for t, g in zip(torch_params, grads):
        t.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm_(params, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(torch_params, max_norm, norm_type)
    assert_close(total, expected.numpy(), rtol=1e-6)
    for p, t in zip(params, torch_params):
        assert (p.grad is None) == (t.grad is None)
        if t.grad is not None:
            assert_close(p.grad, t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_of_one_tensor_and_of_none():
    params, grads = grads_for_clipping()
    total = clip_grad_norm_(params[1], 1.0)
    assert_close(total, np.linalg.norm(grads[1]), rtol=1e-6)
    assert_close(params[0].grad, grads[0], rtol=0, atol=0)     # untouched
    zero = clip_grad_norm_(make_params(), 1.0)
    assert zero.shape == () and zero.item() == 0.0


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_clip_grad_norm_nonfinite(bad):
    params, _ = grads_for_clipping()
    params[1].grad._data[0, 0] = bad
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(params, 1.0)     # without the check, as in PyTorch, the gradients are spoiled
    assert not math.isfinite(total.item())
    assert np.isnan(host(params[1].grad)[0, 0])


def test_clip_grad_norm_nonfinite_spoils_like_torch(torch):
    params, grads = grads_for_clipping()
    grads[2][1, 0] = np.nan
    params[2].grad._data[1, 0] = np.nan
    torch_params = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for t, g in zip(torch_params, grads):
        t.grad = torch.from_numpy(g.copy())
    clip_grad_norm_(params, 1.0)
    torch.nn.utils.clip_grad_norm_(torch_params, 1.0)
    for p, t in zip(params, torch_params):
        np.testing.assert_array_equal(np.isnan(host(p.grad)), t.grad.isnan().numpy())


def test_clip_grad_value():
    params, grads = grads_for_clipping()
    clip_grad_value_(params, 0.5)
    for p, g in zip(params, grads):
        assert_close(p.grad, np.clip(g, -0.5, 0.5), rtol=0, atol=0)
        assert p.grad.dtype == mg.float32


def test_clip_grad_value_matches_torch(torch):
    params, grads = grads_for_clipping()
    torch_params = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for t, g in zip(torch_params, grads):
        t.grad = torch.from_numpy(g.copy())
    clip_grad_value_(params[1:], 0.3)
    torch.nn.utils.clip_grad_value_(torch_params[1:], 0.3)
    for p, t in zip(params, torch_params):
        assert_close(p.grad, t.grad.numpy(), rtol=0, atol=0)


# ----------------------------------------------------------------------------- L-BFGS
LBFGS_START = [np.array([-1.2, 1.0, 0.5, -0.3]), np.array([[0.3, -0.8, 1.5], [2.0, -0.1, 0.7]])]
LBFGS_TARGET = np.array([[0.5, -0.2, 0.1], [0.9, 0.0, -0.6]])
CURVE = 5.0       # a gentle valley: with 100 (Rosenbrock's) rounding differences grow 1000x per step


def lbfgs_loss_and_grads(a, b):
    """Rosenbrock's valley in a, a tanh regression in b: curved, so line searches must work.  The
    gradient is written out in NumPy and handed to both optimizers, so they see the same numbers."""
    rosenbrock = (CURVE * (a[1:] - a[:-1] ** 2) ** 2 + (1 - a[:-1]) ** 2).sum()
    fit = np.tanh(b) - LBFGS_TARGET
    loss = rosenbrock + (fit ** 2).sum() + 0.1 * (b * b).sum()
    grad_a = np.zeros_like(a)
    grad_a[1:] += 2 * CURVE * (a[1:] - a[:-1] ** 2)
    grad_a[:-1] += -4 * CURVE * a[:-1] * (a[1:] - a[:-1] ** 2) - 2 * (1 - a[:-1])
    grad_b = 2 * fit * (1 - np.tanh(b) ** 2) + 0.2 * b
    return loss, [grad_a, grad_b]


def lbfgs_run(module, params, options, steps, opt=None):
    """Losses, parameter values and counters after each of ``steps`` LBFGS steps."""
    opt = opt or module.optim.LBFGS(params, **options)

    def closure():
        loss, grads = lbfgs_loss_and_grads(*[np.array(p.detach().numpy()) for p in params])
        for p, g in zip(params, grads):
            p.grad = module.tensor(g)
        return module.tensor(loss)

    history = []
    for _ in range(steps):
        loss = opt.step(closure)
        state = opt.state[params[0]]
        history.append((float(loss), [np.array(p.detach().numpy()) for p in params],
                        state["func_evals"], state["n_iter"]))
    return opt, history


def minigrad_lbfgs(options, steps, start=LBFGS_START):
    params = [Parameter(mg.tensor(v, dtype=mg.float64)) for v in start]
    return params, *lbfgs_run(mg, params, options, steps)


LBFGS_CASES = [
    {},
    {"lr": 0.5, "max_iter": 7},
    {"history_size": 3, "max_iter": 10},                       # the history fills and drops its oldest pairs
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 12, "max_eval": 14},
    {"line_search_fn": "strong_wolfe", "lr": 2.0, "tolerance_change": 1e-5, "tolerance_grad": 1e-4},
]


@pytest.mark.parametrize("options", LBFGS_CASES, ids=str)
def test_lbfgs_trajectory_matches_torch(torch, options):
    _, opt, ours = minigrad_lbfgs(options, steps=4)
    tparams = [torch.tensor(v, requires_grad=True) for v in LBFGS_START]
    torch_opt, theirs = lbfgs_run(torch, tparams, options, steps=4)
    for k, ((loss, values, evals, iters), (t_loss, t_values, t_evals, t_iters)) in enumerate(zip(ours, theirs)):
        assert (evals, iters) == (t_evals, t_iters), f"step {k}"
        assert loss == pytest.approx(t_loss, rel=1e-9, abs=1e-12), f"step {k}"
        for v, tv in zip(values, t_values):
            assert_close(v, tv, rtol=1e-8, atol=1e-10, what=f"step {k}")
    ours_state, theirs_state = opt.state_dict()["state"], torch_opt.state_dict()["state"]
    assert ours_state.keys() == theirs_state.keys() == {0}
    assert ours_state[0].keys() == theirs_state[0].keys()
    assert len(ours_state[0]["old_dirs"]) == len(theirs_state[0]["old_dirs"])


def test_lbfgs_minimises():
    _, _, history = minigrad_lbfgs({"line_search_fn": "strong_wolfe", "max_iter": 100}, steps=2)
    assert history[-1][0] < 0.02 * history[0][0]
    _, grads = lbfgs_loss_and_grads(*history[-1][1])
    assert max(np.abs(g).max() for g in grads) < 1e-5


def test_lbfgs_stops_at_once_where_the_gradient_is_below_tolerance_grad():
    p = Parameter(mg.zeros(3, dtype=mg.float64))
    opt = optim.LBFGS([p])

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0
    assert opt.state[p] == {"func_evals": 1, "n_iter": 0}
    assert_close(p, np.zeros(3), rtol=0, atol=0)


@pytest.mark.parametrize("options", [LBFGS_CASES[2], LBFGS_CASES[4]], ids=str)
def test_lbfgs_state_dict_resumes_exactly(options):
    _, _, straight = minigrad_lbfgs(options, steps=4)
    params, opt, _ = minigrad_lbfgs(options, steps=2)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    resumed = [Parameter(mg.tensor(host(p))) for p in params]
    fresh = optim.LBFGS(resumed)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["history_size"] == options["history_size"]
    _, history = lbfgs_run(mg, resumed, options, steps=2, opt=fresh)
    for (loss, values, evals, iters), expected in zip(history, straight[2:]):
        assert (loss, evals, iters) == (expected[0], expected[2], expected[3])
        for v, e in zip(values, expected[1]):
            np.testing.assert_array_equal(v, e)


@pytest.mark.parametrize("make, error, message", [
    (lambda p: optim.LBFGS([{"params": p[:1]}, {"params": p[1:]}]), ValueError,
     "LBFGS doesn't support per-parameter options"),
    (lambda p: optim.LBFGS(p, line_search_fn="backtracking"), ValueError,
     "line_search_fn must be None or 'strong_wolfe', got 'backtracking'"),
    (lambda p: optim.LBFGS(p, lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda p: optim.LBFGS(p).step(), TypeError, "missing 1 required positional argument: 'closure'"),
    (lambda p: optim.LBFGS(p).step(None), TypeError, "LBFGS: step\\(\\) needs a closure"),
])
def test_lbfgs_refuses(make, error, message):
    with pytest.raises(error, match=message):
        make(make_params())


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam"])
@pytest.mark.parametrize("flag", ["capturable", "differentiable"])
def test_torch_only_modes_are_refused_clearly(name, flag):
    with pytest.raises(ValueError, match=f"{name}: {flag}=True is not supported by minigrad"):
        getattr(optim, name)(make_params(), **{flag: True})
    assert getattr(optim, name)(make_params(), **{flag: False}).param_groups[0][flag] is False


# ----------------------------------------------------------------------------- PyTorch's options, refusals and hooks
OPTIMIZER_NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD",
                   "Rprop", "Adafactor"]


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_group_options_are_torchs(torch, name):
    """A group holds every option PyTorch's does (foreach, fused, capturable, differentiable ...)."""
    ours = getattr(optim, name)(make_params())
    theirs = getattr(torch.optim, name)([torch.zeros(3, requires_grad=True)])
    assert list(ours.defaults) == list(theirs.defaults)               # in PyTorch's order, as state dicts list them
    assert list(ours.param_groups[0]) == list(theirs.param_groups[0])
    assert list(ours.state_dict()["param_groups"][0]) == list(theirs.state_dict()["param_groups"][0])
    assert {k: v for k, v in ours.defaults.items() if k != "betas"} == \
        {k: v for k, v in theirs.defaults.items() if k != "betas"}


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
@pytest.mark.parametrize("options, error, message", [
    ({"foreach": True, "fused": True}, RuntimeError, "`fused` and `foreach` cannot be `True` together."),
    ({"fused": True, "differentiable": True}, RuntimeError, "`fused` does not support `differentiable`"),
])
def test_fused_conflicts_are_refused_as_torch(torch, name, options, error, message):
    for lib, params in ((torch, [torch.zeros(3, requires_grad=True)]), (mg, make_params())):
        with pytest.raises(error, match=message):
            getattr(lib.optim, name)(params, **options)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_lr_with_foreach_is_refused_as_torch(torch, name):
    message = "lr as a Tensor is not supported for capturable=False and foreach=True"
    for lib, params in ((torch, [torch.zeros(3, requires_grad=True)]), (mg, make_params())):
        with pytest.raises(ValueError, match=message):
            getattr(lib.optim, name)(params, lr=lib.tensor(0.01), foreach=True)


def state_dict_hook_log(lib, name):
    p = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = getattr(lib.optim, name)([p], lr=0.1)
    p.grad = lib.ones_like(p)
    opt.step()
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "note": log.append("post") or 1})
    opt.register_state_dict_pre_hook(lambda o: log.append("first"), prepend=True)
    saved = opt.state_dict()
    opt.register_load_state_dict_pre_hook(lambda o, sd: (log.append(("load-pre", sd.pop("note"))), sd)[1])
    handle = opt.register_load_state_dict_post_hook(lambda o: log.append("load-post"))
    opt.load_state_dict(saved)
    handle.remove()
    opt.load_state_dict({**saved, "note": 2})
    return log, sorted(saved)


@pytest.mark.parametrize("name", ["SGD", "AdamW", "Adagrad"])
def test_state_dict_hooks_run_as_torchs(torch, name):
    assert state_dict_hook_log(mg, name) == state_dict_hook_log(torch, name)


def test_global_step_hooks_run_around_the_optimizers_own(torch):
    def log_of(lib):
        module = __import__(f"{lib.__name__}.optim.optimizer", fromlist=["optimizer"])
        log = []
        handles = [module.register_optimizer_step_pre_hook(lambda o, a, k: log.append("global-pre")),
                   module.register_optimizer_step_post_hook(lambda o, a, k: log.append("global-post"))]
        p = lib.tensor([1.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        opt.register_step_pre_hook(lambda o, a, k: log.append("pre"))
        opt.register_step_post_hook(lambda o, a, k: log.append("post"))
        p.grad = lib.ones_like(p)
        opt.step()
        for handle in handles:
            handle.remove()
        opt.step()
        return log
    assert log_of(mg) == log_of(torch)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_state_entries_are_tensors_of_torchs_dtypes(torch, name):
    """PyTorch keeps counters (step; NAdam's mu_product; ASGD's eta and mu) in 0-d tensors of its
    scalar dtype, float32 beside float64 parameters; a state dict reloaded casts all but step."""
    def layout(lib, reload):
        p = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, name)([p], lr=0.01)
        for _ in range(3):
            p.grad = p.detach().sin()
            opt.step()
        if reload:
            saved = opt.state_dict()
            opt = getattr(lib.optim, name)([p], lr=0.01)
            opt.load_state_dict(saved)
        return {key: (str(value.dtype).replace("torch.", ""), tuple(value.shape),
                      pytest.approx(value.reshape(-1)[0].item(), rel=1e-12))
                for key, value in opt.state[p].items()}
    for reload in (False, True):
        assert layout(mg, reload) == layout(torch, reload)


# PyTorch's error inputs shared by every optimizer (torch.testing._internal.common_optimizers), as
# (description, params and options from two parameters p and q, error type, PyTorch's regex)
ERROR_INPUTS = [
    ("a single tensor", lambda lib, p, q: (p, {}), TypeError,
     "params argument given to the optimizer should be an iterable of Tensors or dicts"),
    ("duplicates in a group", lambda lib, p, q: ([p, p], {}), UserWarning,
     ".*a parameter group with duplicate parameters.*"),
    ("duplicates across groups", lambda lib, p, q: ([{"params": p}, {"params": p}], {}), ValueError,
     "some parameters appear in more than one parameter group"),
    ("a two-element lr", lambda lib, p, q: ([p], {"lr": lib.tensor([0.001, 0.001])}), ValueError,
     "Tensor lr must be 1-element"),
    ("names for some params", lambda lib, p, q: ([("weight", p), q], {}), ValueError,
     "all optimizer params should be with/without names. Some param names are missing"),
    ("names for some groups", lambda lib, p, q: ([{"params": [p], "lr": 1e-2}, {"params": [("weight", q)]}], {}),
     ValueError, "all optimizer param groups should be with/without names. cannot add param group with names"),
    ("an empty list", lambda lib, p, q: ([], {}), ValueError, "optimizer got an empty parameter list"),
    ("a group's set", lambda lib, p, q: ([{"params": {p}}], {}), TypeError,
     "optimizer parameters need to be organized in ordered"),
    ("not a tensor", lambda lib, p, q: ([np.zeros(2)], {}), TypeError, "optimizer can only optimize Tensors"),
    ("a non-leaf", lambda lib, p, q: ([p * 2], {}), ValueError, "can't optimize a non-leaf Tensor"),
]
ADAM_ERROR_INPUTS = [
    ("a float and a tensor beta", lambda lib, p, q: ([p], {"betas": (0.9, lib.tensor(0.99))}), ValueError,
     "betas must be either both floats or both Tensors"),
    ("a tensor and a float beta", lambda lib, p, q: ([p], {"betas": (lib.tensor(0.9), 0.99)}), ValueError,
     "betas must be either both floats or both Tensors"),
    ("tensor betas with foreach", lambda lib, p, q: ([p], {"betas": (lib.tensor(0.9), lib.tensor(0.99)),
                                                           "foreach": True}), ValueError,
     r"betas\[0\] as a Tensor is not supported for capturable=False and foreach=True"),
]


ERROR_CASES = ([(name, *case) for name in OPTIMIZER_NAMES + ["LBFGS", "Muon"] for case in ERROR_INPUTS]
               + [(name, *case) for name in ("Adam", "AdamW") for case in ADAM_ERROR_INPUTS])


@pytest.mark.parametrize("name, what, make, error, regex", ERROR_CASES,
                         ids=[f"{case[0]}-{case[1]}" for case in ERROR_CASES])
def test_pytorchs_error_inputs_fail_with_its_messages(torch, name, what, make, error, regex):
    for lib in (torch, mg):
        p, q = (lib.nn.Parameter(lib.randn(1, 1)) for _ in range(2))
        params, options = make(lib, p, q)
        optimizer = getattr(lib.optim, name)
        if issubclass(error, Warning):
            with pytest.warns(error, match=regex):
                optimizer(params, **options)
        else:
            with pytest.raises(error, match=regex):
                optimizer(params, **options)


# ----------------------------------------------------------------------------- Adafactor
def adafactor_run(lib, options, reload_at=None, shapes=((3, 4), (5,), (2, 3, 2), ())):
    """Float64 parameters (matrices, a vector, a 3-d tensor, a scalar) after 8 steps under a fixed
    gradient field, optionally through a state dict reloaded into a fresh optimizer."""
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), dtype=lib.float64, requires_grad=True) for s in shapes]
    opt = lib.optim.Adafactor(params, **options)
    for k in range(8):
        for p in params:
            p.grad = (p.detach() * 1.5).sin() + 0.1 * k
        opt.step()
        if k == reload_at:
            saved = opt.state_dict()
            opt = lib.optim.Adafactor(params, **options)
            opt.load_state_dict(saved)
    return np.concatenate([p.detach().numpy().ravel() for p in params])


@pytest.mark.parametrize("options", [{}, {"lr": 0.1, "weight_decay": 0.1}, {"maximize": True},
                                     {"eps": (1e-30, 1e-3), "d": 2.0, "beta2_decay": -0.5},
                                     {"lr": 0.05, "eps": (None, 0.1)}])
@pytest.mark.parametrize("reload_at", [None, 3])
def test_adafactor_matches_torch(torch, options, reload_at):
    np.testing.assert_allclose(adafactor_run(mg, options, reload_at), adafactor_run(torch, options, reload_at),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("options, message", [
    ({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
    ({"beta2_decay": 0.5}, "beta2_decay should be <= 0 but is: 0.5"),
    ({"eps": (-1.0, 1e-3)}, "epsilon1 should be >= 0 but is: -1.0"),
    ({"eps": (None, -1.0)}, "epsilon2 should be >= 0 but is: -1.0"),
    ({"d": 0.5}, "Clipping threshold d should be >= 1 but is: 0.5"),
    ({"weight_decay": -1.0}, "weight_decay should be >= 0 but is: -1.0"),
])
def test_adafactor_refuses_bad_options_as_torch(torch, options, message):
    for lib in (torch, mg):
        with pytest.raises(ValueError, match=message):
            lib.optim.Adafactor([lib.zeros(2, requires_grad=True)], **options)


def test_adafactor_keeps_a_factored_moment_for_matrices(torch):
    def layout(lib):
        p, q = lib.zeros(2, 3, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = lib.optim.Adafactor([p, q])
        p.grad, q.grad = lib.ones_like(p), lib.ones_like(q)
        opt.step()
        return {i: {k: tuple(v.shape) for k, v in state.items()} for i, state in opt.state_dict()["state"].items()}
    assert layout(mg) == layout(torch) == {0: {"step": (), "row_var": (2, 1), "col_var": (1, 3)},
                                           1: {"step": (), "variance": (3,)}}


def test_state_dict_numbers_groups_repeated_in_the_list_as_torch(torch):
    """PyTorch's own state-dict test extends param_groups with itself: a parameter in several
    groups keeps the number of its first group."""
    def packed(lib):
        w, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([0.5], requires_grad=True)
        opt = lib.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.1}])
        w.grad, b.grad = lib.ones_like(w), lib.ones_like(b)
        opt.step()
        opt.param_groups.extend(opt.param_groups)
        saved = opt.state_dict()
        return [g["params"] for g in saved["param_groups"]], sorted(saved["state"])
    assert packed(mg) == packed(torch) == ([[0], [1], [0], [1]], [0, 1])


@pytest.mark.parametrize("name, options", [("Adam", {"maximize": True, "amsgrad": True}),
                                           ("SGD", {"momentum": 0.9, "nesterov": True, "maximize": True}),
                                           ("RMSprop", {"maximize": True})])
def test_an_older_state_dict_without_the_newer_flags_loads_as_torch(torch, name, options):
    """Groups saved before a flag existed get PyTorch's fill-in value for it (not the optimizer's)."""
    def run_old(lib):
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, name)([w], lr=0.1, **options)
        w.grad = lib.ones_like(w)
        opt.step()
        saved = opt.state_dict()
        for group in saved["param_groups"]:
            for key in ("maximize", "foreach", "amsgrad", "nesterov", "differentiable"):
                group.pop(key, None)
        opt.load_state_dict(saved)
        opt.step()
        return w.tolist(), sorted(opt.param_groups[0])
    ours, theirs = run_old(mg), run_old(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    assert ours[1] == theirs[1]


@pytest.mark.parametrize("name, options", [
    ("SGD", {"momentum": 0.9, "weight_decay": 0.1}), ("Adam", {}), ("Adam", {"amsgrad": True}), ("AdamW", {}),
    ("NAdam", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("Adafactor", {"weight_decay": 0.1}), ("RMSprop", {}), ("Adagrad", {})])
def test_a_tensor_lr_steps_as_torch(torch, name, options):
    """A float32 Tensor lr beside float64 parameters: PyTorch computes the decoupled decay factor
    (which moved AdamW's trajectory by 1e-7 relative) and Adam's step size lr / (1 - beta1^t) (1e-10)
    in float32; NAdam's and Adafactor's own float32 products are not copied (1e-10), hence the
    looser tolerance for them."""
    def run_tensor_lr(lib):
        p = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, name)([p], lr=lib.tensor(0.01), **options)
        for _ in range(4):
            p.grad = (p.detach() * 1.3).sin()
            opt.step()
        return p.tolist()
    rtol = 1e-9 if name in ("NAdam", "Adafactor") else 1e-13
    np.testing.assert_allclose(run_tensor_lr(mg), run_tensor_lr(torch), rtol=rtol, atol=0)


def test_required_options_and_params_type_for_custom_optimizers(torch):
    """Custom optimizers written for PyTorch import ``required`` and ``ParamsT`` from optim.optimizer."""
    from minigrad.optim.optimizer import ParamsT, required

    class Plain(optim.Optimizer):
        def __init__(self, params: ParamsT, lr=required):
            super().__init__(params, {"lr": lr})

    from torch.optim.optimizer import required as torch_required
    assert repr(required) == repr(torch_required) == "<required parameter>"
    assert Plain([{"params": make_params(), "lr": 0.1}]).param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match="parameter group didn't specify a value of required optimization "
                                         "parameter lr"):
        Plain(make_params())


# ----------------------------------------------------------------------------- Muon
def muon_run(lib, options, dtype):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), dtype=getattr(lib, dtype), requires_grad=True)
              for s in ((3, 4), (5, 2), (4, 4))]
    opt = lib.optim.Muon(params, **options)
    for k in range(6):
        for p in params:
            p.grad = (p.detach() * 1.5).sin() + 0.1 * k
        opt.step()
    return np.concatenate([p.detach().numpy().ravel() for p in params]).astype(np.float64)


@pytest.mark.parametrize("options", [{"lr": 0.02}, {"lr": 0.02, "nesterov": False},
                                     {"lr": 0.05, "adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.0},
                                     {"lr": 0.02, "ns_steps": 2, "momentum": 0.5}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_muon_matches_torch(torch, options, dtype):
    """PyTorch's Newton-Schulz iteration runs in bfloat16, emulated here by rounding each result:
    the trajectories agree but for a rare bfloat16 rounding (1e-8 of lr-sized steps)."""
    np.testing.assert_allclose(muon_run(mg, options, dtype), muon_run(torch, options, dtype), rtol=0, atol=1e-6)


@pytest.mark.parametrize("make, message", [
    (lambda lib: lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], lr=-1.0),
     "Learning rate should be >= 0 but is: -1.0"),
    (lambda lib: lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], momentum=-1.0),
     "momentum should be >= 0 but is: -1.0"),
    (lambda lib: lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], weight_decay=-1.0),
     "weight decay should be >= 0 but is: -1.0"),
    (lambda lib: lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], adjust_lr_fn="arbitrary"),
     "Adjust learning rate function arbitrary is not supported"),
    (lambda lib: lib.optim.Muon([lib.zeros(3, requires_grad=True)]), "Muon only supports 2D parameters"),
])
def test_muon_refuses_as_torch(torch, make, message):
    for lib in (torch, mg):
        with pytest.raises(ValueError, match=message):
            make(lib)


@pytest.mark.parametrize("spoil, regex", [
    (_spoil_group_count, "loaded state dict has a different number of parameter groups"),
    (_spoil_group_size, "loaded state dict contains a parameter group that doesn't match the size of "
                        "optimizer's group"),
])
def test_load_state_dict_misfits_carry_torchs_messages(torch, spoil, regex):
    for lib in (torch, mg):
        params = [lib.zeros(s, requires_grad=True) for s in SHAPES]
        opt = lib.optim.Adam(params, lr=0.05)
        saved = opt.state_dict()
        spoil(saved)
        with pytest.raises(ValueError, match=regex):
            opt.load_state_dict(saved)


def test_lbfgs_step_without_a_closure_is_a_type_error_as_torch(torch):
    for lib in (torch, mg):
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'closure'"):
            lib.optim.LBFGS([lib.zeros(2, requires_grad=True)]).step()


def test_lbfgs_state_layout_is_torchs(torch):
    """PyTorch keeps LBFGS's 1 / y.s, alphas and H_diag as 0-d tensors beside its flat vectors."""
    def layout(lib, reload):
        p = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([p], lr=0.5, max_iter=4)

        def closure():
            opt.zero_grad()
            loss = (p ** 4).sum()
            loss.backward()
            return loss
        for _ in range(2):
            opt.step(closure)
        if reload:
            saved = opt.state_dict()
            opt = lib.optim.LBFGS([p], lr=0.5, max_iter=4)
            opt.load_state_dict(saved)
            opt.step(closure)

        def kind(v):
            if isinstance(v, list):
                return [kind(x) for x in v]
            return (type(v).__name__, tuple(v.shape)) if isinstance(v, lib.Tensor) else type(v).__name__
        return {k: kind(v) for k, v in opt.state[p].items()}, p.tolist()
    for reload in (False, True):
        (ours, ours_p), (theirs, theirs_p) = layout(mg, reload), layout(torch, reload)
        assert ours == theirs
        np.testing.assert_allclose(ours_p, theirs_p, rtol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES + ["LBFGS", "Muon"])
def test_constructor_signatures_are_torchs(torch, name):
    """Names, order, kinds (positional or keyword-only) and defaults, so that calls written for
    PyTorch bind the same way (RMSprop takes its flags positionally there)."""
    import inspect

    def parameters(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]
    assert parameters(getattr(optim, name)) == parameters(getattr(torch.optim, name))


def test_a_custom_optimizers_state_loads_as_torchs(torch):
    """PyTorch's base class keeps a custom optimizer's numbers as numbers, its step tensor in its
    dtype, and casts other 0-d tensors to the parameter's dtype (no shape check)."""
    def loaded(lib):
        class Plain(lib.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, {"lr": lr})

            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        state = self.state[p]
                        state["count"] = state.get("count", 0) + 1
                        state["step"] = lib.tensor(float(state["count"]))
                        state["scale"] = lib.tensor(0.5, dtype=lib.float32)
                        state["trace"] = p.detach().clone()
        p = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        opt = Plain([p])
        opt.step()
        fresh = Plain([p])
        fresh.load_state_dict(opt.state_dict())
        return {k: (type(v).__name__, str(getattr(v, "dtype", "")).replace("torch.", ""),
                    tuple(getattr(v, "shape", ()))) for k, v in fresh.state[p].items()}
    assert loaded(mg) == loaded(torch)
