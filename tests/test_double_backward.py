"""Differentiating the derivative: create_graph, autograd.grad's semantics, once-differentiable
Functions, the errors, and autograd.functional against torch.autograd.functional."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import Function
from minigrad.autograd import functional as AF

from helpers import assert_close


def leaf(values):
    return mg.tensor(values, dtype=mg.float64, requires_grad=True)


# ----------------------------------------------------------------------------- create_graph
def test_third_derivative_of_tanh_matches_the_closed_form():
    x = leaf(np.linspace(-2, 2, 7))
    (d1,) = mg.autograd.grad(x.tanh().sum(), x, create_graph=True)
    (d2,) = mg.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = mg.autograd.grad(d2.sum(), x)
    t = np.tanh(np.linspace(-2, 2, 7))
    assert_close(d1, 1 - t ** 2, rtol=1e-12)
    assert_close(d2, -2 * t * (1 - t ** 2), rtol=1e-12)
    assert_close(d3, -2 * (1 - t ** 2) ** 2 + 4 * t ** 2 * (1 - t ** 2), rtol=1e-12)


def test_backward_create_graph_leaves_a_differentiable_grad():
    x = leaf([1.0, 2.0, 3.0])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    assert_close(x.grad, 3 * np.array([1.0, 4.0, 9.0]))
    (h,) = mg.autograd.grad(x.grad.sum(), x)
    assert_close(h, 6 * np.array([1.0, 2.0, 3.0]))


def test_without_create_graph_gradients_are_plain():
    x = leaf([1.0, 2.0])
    (g,) = mg.autograd.grad((x * x).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_gradient_penalty_gradients_match_pytorch(torch):
    mg.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    tnet.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in net.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4))
    xs, tx = leaf(x), torch.tensor(x, requires_grad=True)
    (g,) = mg.autograd.grad(net(xs).sum(), xs, create_graph=True)
    (tg,) = torch.autograd.grad(tnet(tx).sum(), tx, create_graph=True)
    ((g.square() if hasattr(g, "square") else g * g).sum(1).sqrt() - 1).pow(2).mean().backward()
    ((tg * tg).sum(1).sqrt() - 1).pow(2).mean().backward()
    for (name, p), tp in zip(net.named_parameters(), tnet.parameters()):
        if tp.grad is None:             # the last bias does not reach dD/dx
            assert p.grad is None, name
        else:
            assert_close(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12, what=name)


# ----------------------------------------------------------------------------- grad's semantics
def test_grad_runs_only_the_part_of_the_graph_it_needs():
    calls = []

    class Spy(Function):
        differentiable_backward = True

        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g

    x = leaf([1.0, 2.0])
    h = Spy.apply(x) * 2.0
    y = (h * h).sum()
    (gh,) = mg.autograd.grad(y, h)
    assert_close(gh, 2 * h.detach().numpy())
    assert not calls, "grad(y, h) ran a node below h"


def test_allow_unused_and_materialize_grads():
    x, z = leaf([1.0]), leaf([2.0])
    y = (x * 3).sum()
    with pytest.raises(RuntimeError, match=r"input 1 .* was not used"):
        mg.autograd.grad(y, [x, z], retain_graph=True)
    assert mg.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)[1] is None
    assert_close(mg.autograd.grad(y, [x, z], materialize_grads=True)[1], [0.0])


def test_backward_through_a_freed_graph_names_the_op():
    x = leaf([1.0, 2.0])
    y = x.tanh().sum()
    mg.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="Sum: Trying to backward through the graph a second time"):
        mg.autograd.grad(y, x)


def test_create_graph_inside_no_grad_records_the_gradients_graph():
    x = leaf([1.0])
    y = (x * x * x).sum()
    with mg.no_grad():                  # as PyTorch: create_graph switches recording on for the backward
        (g,) = mg.autograd.grad(y, x, create_graph=True)
        assert not mg.is_grad_enabled()
    assert g.requires_grad
    (g2,) = mg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2._data, [6.0])


def test_backward_inputs_fills_only_those_grads():
    a, b = leaf([1.0]), leaf([2.0])
    (a * b).sum().backward(inputs=[a])
    assert_close(a.grad, [2.0])
    assert b.grad is None


def test_hooks_see_tensors_with_a_graph_under_create_graph():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.requires_grad))
    (x ** 2).sum().backward(create_graph=True)
    assert seen == [True]


# ----------------------------------------------------------------------------- user Functions
class ArrayCube(Function):
    """d x^3 = 3 x^2 g, written on arrays only (np.power: a forward on Tensors would be PyTorch's
    style, whose backward is differentiable again)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.power(x, 3)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


class FormulaCube(ArrayCube):
    differentiable_backward = True


def test_array_only_function_works_once_and_refuses_twice_by_name():
    x = leaf([1.0, 2.0])
    (g,) = mg.autograd.grad(ArrayCube.apply(x).sum(), x, create_graph=True)
    assert_close(g, [3.0, 12.0])
    with pytest.raises(RuntimeError, match="ArrayCube: its backward works on arrays only"):
        mg.autograd.grad(g.sum(), x)


def test_function_with_differentiable_backward_gives_second_derivatives():
    x = leaf([1.0, 2.0])
    assert mg.gradgradcheck(FormulaCube.apply, (x,))
    (g,) = mg.autograd.grad(FormulaCube.apply(x).sum(), x, create_graph=True)
    (h,) = mg.autograd.grad(g.sum(), x)
    assert_close(h, [6.0, 12.0])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class Wrong(Function):
        differentiable_backward = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * (x * x).detach() if isinstance(x, mg.Tensor) else 3 * x * x * g   # drops d/dx

    x = leaf([1.0, 2.0])
    assert mg.gradcheck(Wrong.apply, (x,))
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(Wrong.apply, (x,))


# ----------------------------------------------------------------------------- autograd.functional
def _pair(torch, fn_mg, fn_t, values):
    return [leaf(v) for v in values], [torch.tensor(v) for v in values]


def _mlp_loss(torch_module=None):
    rng = np.random.default_rng(1)
    w1, w2 = rng.standard_normal((5, 3)), rng.standard_normal((2, 5))
    x, y = rng.standard_normal((4, 3)), np.array([0, 1, 1, 0])

    def mg_loss(a, b):
        return nn.functional.cross_entropy((x_m @ a.T).tanh() @ b.T, y_m)

    def t_loss(a, b):
        F = torch_module.nn.functional
        return F.cross_entropy((x_t @ a.T).tanh() @ b.T, y_t)
    x_m, y_m = mg.tensor(x), mg.tensor(y)
    x_t, y_t = (torch_module.tensor(x), torch_module.tensor(y)) if torch_module else (None, None)
    return (w1, w2), mg_loss, t_loss


@pytest.mark.parametrize("name", ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"])
def test_functional_matches_pytorch(torch, name):
    import torch.autograd.functional as TF
    (w1, w2), mg_loss, t_loss = _mlp_loss(torch)
    rng = np.random.default_rng(2)
    inputs = (leaf(w1), leaf(w2))
    t_inputs = (torch.tensor(w1), torch.tensor(w2))
    if name in ("hessian", "hvp", "vhp"):
        args = () if name == "hessian" else ((mg.tensor(rng.standard_normal(w1.shape)),
                                               mg.tensor(rng.standard_normal(w2.shape))),)
        t_args = () if name == "hessian" else (tuple(torch.tensor(a.numpy()) for a in args[0]),)
        ours, theirs = getattr(AF, name)(mg_loss, inputs, *args), getattr(TF, name)(t_loss, t_inputs, *t_args)
    else:
        def f(a, b):
            return ((a @ a.T) * 2).tanh() + b[:, :3].sum()

        def tf(a, b):
            return ((a @ a.T) * 2).tanh() + b[:, :3].sum()
        v = rng.standard_normal((5, 5)) if name == "vjp" else None
        if name == "vjp":
            ours, theirs = AF.vjp(f, inputs, mg.tensor(v)), TF.vjp(tf, t_inputs, torch.tensor(v))
        elif name == "jvp":
            vs = (rng.standard_normal(w1.shape), rng.standard_normal(w2.shape))
            ours = AF.jvp(f, inputs, tuple(mg.tensor(a) for a in vs))
            theirs = TF.jvp(tf, t_inputs, tuple(torch.tensor(a) for a in vs))
        else:
            ours, theirs = AF.jacobian(f, inputs), TF.jacobian(tf, t_inputs)
    _assert_nested_close(ours, theirs)


def _assert_nested_close(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_nested_close(a, b)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert_close(ours, theirs.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_jacobian_forward_mode_equals_reverse_mode():
    x = leaf(np.array([0.3, -0.7, 1.1]))
    rev = AF.jacobian(lambda a: (a * a).softmax(0), x)
    fwd = AF.jacobian(lambda a: (a * a).softmax(0), x, strategy="forward-mode")
    assert_close(fwd, rev.numpy(), rtol=1e-12)


def test_hessian_of_a_quadratic_is_its_matrix():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    A = mg.tensor(a)
    H = AF.hessian(lambda x: 0.5 * (x @ A @ x), leaf([0.5, -1.0]))
    assert_close(H, a, rtol=1e-12)


def test_functional_strict_and_shape_errors():
    x, z = leaf([1.0, 2.0]), leaf([3.0])
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda a, b: (a * 2).sum(), (x, z), strict=True)
    assert_close(AF.vjp(lambda a, b: (a * 2).sum(), (x, z))[1][1], [0.0])
    with pytest.raises(RuntimeError, match="single Tensor with one element"):
        AF.hessian(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v\\[0\\] has shape"):
        AF.vjp(lambda a: a * 2, x, mg.zeros(3, dtype=mg.float64))


def test_functional_on_whole_models_matches_pytorch(torch):
    import torch.autograd.functional as TF
    mg.manual_seed(0)
    models = {
        "mlp": (nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)),
                torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)), (4, 6)),
        "cnn": (nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(48, 3)),
                torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                                    torch.nn.Linear(48, 3)), (2, 2, 4, 4)),
    }
    rng = np.random.default_rng(0)
    for name, (m, tm, shape) in models.items():
        m.double()
        tm.double().load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in m.state_dict().items()})
        x = rng.standard_normal(shape)
        y = np.array([0, 2, 1, 0][:shape[0]])
        v = rng.standard_normal(shape)

        def loss(inp):
            return nn.functional.cross_entropy(m(inp), mg.tensor(y))

        def t_loss(inp):
            return torch.nn.functional.cross_entropy(tm(inp), torch.tensor(y))
        _assert_nested_close(AF.hvp(loss, leaf(x), mg.tensor(v)), TF.hvp(t_loss, torch.tensor(x), torch.tensor(v)))
        _assert_nested_close(AF.jacobian(lambda a: m(a), leaf(x)), TF.jacobian(lambda a: tm(a), torch.tensor(x)))


def test_lstm_hvp_matches_pytorch(torch):
    import torch.autograd.functional as TF
    mg.manual_seed(0)
    m = nn.LSTM(3, 4, batch_first=True).double()
    tm = torch.nn.LSTM(3, 4, batch_first=True).double()
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in m.state_dict().items()})
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 3))
    ours = AF.hvp(lambda a: (m(a)[0][:, -1] ** 2).sum(), leaf(x), mg.tensor(v))
    theirs = TF.hvp(lambda a: (tm(a)[0][:, -1] ** 2).sum(), torch.tensor(x), torch.tensor(v))
    _assert_nested_close(ours, theirs)


def test_the_graph_of_a_gradient_can_be_drawn_and_traced():
    from minigrad import viz
    x = leaf([0.5, 1.0])
    with mg.trace() as t:
        (g,) = mg.autograd.grad(x.tanh().sum(), x, create_graph=True)
    dot = str(viz.graph(g))
    assert "Tanh" in dot and "Mul" in dot and "Sub" in dot      # g = 1 * (1 - y * y), y = tanh(x)
    phases = [(r.phase, r.op) for r in t.records]
    tanh_back = phases.index(("backward", "Tanh"))
    assert ("forward", "Sub") in phases[:tanh_back], "the backward's own ops were not recorded"


# ----------------------------------------------------------------------------- the examples
def _example(name):
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "examples", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_newton_example_reaches_the_minimum():
    x, steps = _example("newton").newton(_example("newton").rosenbrock, [-1.2, 1.0], verbose=False)
    assert_close(x, [1.0, 1.0], atol=1e-12)
    assert steps <= 10


def test_gradient_penalty_example_trains():
    history = _example("gradient_penalty").train(steps=6, batch_size=32, verbose=False)
    assert len(history) == 6 and all(np.isfinite(v).all() for v in history)
    assert all(p > 0 for _, p in history)


def test_hessian_eigenvalue_example_agrees_with_the_explicit_hessian():
    by_power, exact, big = _example("hessian_eigenvalue").main(verbose=False)
    assert abs(by_power - exact) < 1e-6 * abs(exact)
    assert big > 0
