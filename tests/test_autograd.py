"""The backward engine: ordering, accumulation, graph lifetime, hooks, modes, custom Functions."""
import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import AnomalyError, Function

from helpers import assert_close


def leaf(values, dtype=mg.float64):
    return mg.tensor(values, dtype=dtype, requires_grad=True)


# ----------------------------------------------------------------------------- accumulation and order
def test_fan_out_accumulates():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x + x * 3 + x          # dy/dx = 2x + 4
    y.sum().backward()
    assert_close(x.grad, 2 * np.array([1, 2, 3]) + 4)


def test_diamond_graph_is_visited_once_per_node():
    x = leaf(2.0)
    a = x * 3
    b = a.exp()
    c = a.sin()
    y = b * c                       # both branches meet again
    y.backward()
    av = 6.0
    expected = 3 * (np.exp(av) * np.sin(av) + np.exp(av) * np.cos(av))
    assert_close(x.grad, expected, rtol=1e-12)


def test_backward_accumulates_into_existing_grad():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert_close(x.grad, [5.0, 5.0])


def test_broadcast_gradients_are_reduced_to_input_shape():
    a = leaf(np.ones((2, 3)))
    b = leaf(np.ones((3,)))
    c = leaf(np.ones((2, 1)))
    ((a * b) + c).sum().backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (3,) and c.grad.shape == (2, 1)
    assert_close(b.grad, [2.0, 2.0, 2.0])
    assert_close(c.grad, [[3.0], [3.0]])


def test_inputs_without_requires_grad_get_no_gradient():
    a = leaf([1.0, 2.0])
    b = mg.tensor([3.0, 4.0], dtype=mg.float64)
    (a * b).sum().backward()
    assert b.grad is None
    assert_close(a.grad, [3.0, 4.0])


def test_leaf_gradients_never_share_memory():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    (a + b).sum().backward()       # Add hands the same array to both inputs
    assert not np.shares_memory(a.grad._data, b.grad._data)
    a.grad._data *= 10
    assert_close(b.grad, [1.0, 1.0])


def test_deep_chain_does_not_recurse():
    x = leaf(0.5)
    y = x
    for _ in range(20000):
        y = y * 1.0
    y.backward()
    assert_close(x.grad, 1.0)


def test_engine_visits_nodes_by_generation():
    order = []

    class Tag(Function):
        @staticmethod
        def forward(ctx, x, label):
            ctx.label = label
            return x.copy()

        @staticmethod
        def backward(ctx, g):
            order.append(ctx.label)
            return g

    x = leaf(1.0)
    a = Tag.apply(x, "a")
    b = Tag.apply(a, "b")
    c = Tag.apply(a, "c")
    d = Tag.apply(b + c, "d")
    d.backward()
    assert order[0] == "d" and order[-1] == "a" and set(order[1:3]) == {"b", "c"}
    assert_close(x.grad, 2.0)


# ----------------------------------------------------------------------------- graph lifetime
def test_graph_is_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, [4.0, 8.0])


def test_graph_is_released_when_outputs_are_dropped():
    x = leaf(np.ones(1000))
    y = (x * 2).exp()
    node = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert node() is None


def test_nodes_do_not_keep_outputs_alive():
    x = leaf(np.ones(10))
    y = x * 2
    z = y.exp()
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None            # z's node holds y's array, not y itself
    z.sum().backward()
    assert_close(x.grad, 2 * np.exp(2 * np.ones(10)))


def test_saved_arrays_are_freed_after_backward():
    x = leaf(np.ones(3))
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="freed|second time"):
        node.saved_tensors


# ----------------------------------------------------------------------------- modes
def test_no_grad_records_nothing():
    x = leaf([1.0])
    with mg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_and_enable_grad_as_decorators():
    x = leaf([1.0])

    @mg.no_grad()
    def f(t):
        return t * 2

    @mg.enable_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad
    with mg.no_grad():
        assert g(x).requires_grad
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    x = leaf([1.0])
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_detach_cuts_the_graph_and_shares_memory():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * 1.0
    assert np.shares_memory(y.detach()._data, y._data)


# ----------------------------------------------------------------------------- hooks
def test_hook_on_leaf_can_replace_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (x * 3).sum().backward()
    assert_close(seen[0], [3.0, 3.0])
    assert_close(x.grad, [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert_close(x.grad, [3.0, 3.0])


def test_hook_on_intermediate_tensor_changes_what_flows_back():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: g * 0)
    (y * 5).sum().backward()
    assert_close(x.grad, [0.0, 0.0])


def test_retain_grad_keeps_intermediate_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    assert_close(y.grad, [4.0, 8.0])
    assert_close(x.grad, [8.0, 16.0])


def test_hook_on_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).register_hook(lambda g: g)


# ----------------------------------------------------------------------------- custom Functions
class Cube(Function):
    """d x^3 = 3 x^2 g"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * x * g


def test_custom_function_and_gradcheck():
    x = leaf(np.linspace(-1, 1, 5))
    y = Cube.apply(x)
    assert_close(y, np.linspace(-1, 1, 5) ** 3)
    assert mg.gradcheck(Cube.apply, (x,))


def test_gradcheck_catches_a_wrong_backward():
    x = leaf(np.linspace(0.5, 1, 4))
    with pytest.raises(mg.GradcheckError, match=r"input 0.*analytic"):
        mg.gradcheck(WrongCube.apply, (x,))


def test_custom_function_with_two_outputs_and_options():
    class SplitScale(Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.scale = scale
            return x * scale, x * 2 * scale

        @staticmethod
        def backward(ctx, g1, g2):
            return (g1 + 2 * g2) * ctx.scale      # the option's gradient may be left out

    x = leaf([1.0, 2.0])
    a, b = SplitScale.apply(x, 3.0)
    b.sum().backward()              # a unused: its gradient arrives as zeros
    assert_close(x.grad, [6.0, 6.0])


def test_backward_returning_too_many_gradients_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="Bad.backward returned 2 gradients, expected 1"):
        Bad.apply(leaf([1.0])).sum().backward()


def test_backward_returning_wrong_shape_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return np.ones(7)

    with pytest.raises(RuntimeError, match=r"Bad.backward returned a gradient of shape \(7,\)"):
        Bad.apply(leaf([1.0, 2.0])).sum().backward()


def test_forward_returning_non_array_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return [1.0]

    with pytest.raises(TypeError, match="Bad.forward must return arrays"):
        Bad.apply(leaf([1.0]))


# ----------------------------------------------------------------------------- autograd.grad
def test_grad_returns_gradients_without_touching_dot_grad():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    (gx,) = mg.autograd.grad(y, x)
    assert_close(gx, [2.0, 4.0])
    assert x.grad is None


def test_grad_with_respect_to_an_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = mg.autograd.grad(y, h)
    assert_close(gh, [6.0, 12.0])


def test_grad_of_unused_input():
    x, z = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not used"):
        mg.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = mg.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None


# ----------------------------------------------------------------------------- errors
def test_backward_on_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient="):
        (x * 2).backward()


def test_backward_gradient_of_wrong_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_with_explicit_gradient_tensor_or_array():
    x = leaf([1.0, 2.0])
    (x * 2).backward(mg.tensor([1.0, 10.0]))
    assert_close(x.grad, [2.0, 20.0])
    x.grad = None
    (x * 2).backward(np.array([1.0, 1.0]))
    assert_close(x.grad, [2.0, 2.0])


def test_backward_of_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_requires_grad_on_integer_tensor():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require "
                                           "gradients; got dtype int64"):
        mg.tensor([1, 2], requires_grad=True)


def test_device_mismatch_names_the_op_and_devices(monkeypatch):
    class FakeGPUArray(np.ndarray):
        pass

    from minigrad import backend
    real_device_of = backend.device_of
    monkeypatch.setattr(backend, "device_of",
                        lambda a: backend.Device("cuda", 0) if isinstance(a, FakeGPUArray) else real_device_of(a))
    a = mg.tensor([1.0, 2.0])
    b = mg.Tensor._wrap(np.array([1.0, 2.0], dtype=np.float32).view(FakeGPUArray))
    with pytest.raises(RuntimeError, match=r"Add: expected all tensors on the same device, got input 0 on cpu, input 1 on cuda:0"):
        a + b


def test_anomaly_mode_names_the_forward_op():
    x = leaf([-1.0, 1.0])
    with mg.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(AnomalyError, match="Log: forward produced NaN"):
            x.log()
        (x + 1.0).log()                                 # -inf is no anomaly (nor in PyTorch's backward)
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log()._data).any()          # outside the mode nothing is checked


def test_anomaly_mode_names_the_backward_op():
    x = leaf([0.0, 4.0])
    with mg.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        y = (x * 1.0).sqrt()        # sqrt(0) is fine forward; its derivative is infinite, times 0 NaN
        with pytest.raises(AnomalyError, match=r"'SqrtBackward0' returned nan values. Sqrt: backward produced NaN"
                                               r"[\s\S]*forward was called"):
            (y * 0.0).sum().backward()
        x.grad = None
        y = (x * 1.0).sqrt()
        y.sum().backward()          # an infinite gradient is no anomaly, as in PyTorch
    assert np.isinf(x.grad._data[0])


def test_anomaly_mode_says_when_the_input_was_not_finite_already():
    x = mg.tensor([1.0, np.nan])                 # NaN in the data, not made by any op
    w = leaf([2.0, 3.0])
    with mg.detect_anomaly():
        y = (x * w).sum()
        with pytest.raises(AnomalyError, match=r"Mul: .*held NaN already: an input held NaN"):
            y.backward()


def test_dot_grad_never_aliases_the_gradient_passed_in():
    x = leaf([1.0, 2.0])
    g = np.array([1.0, 1.0])
    (x + 0.0).backward(g)
    assert not np.shares_memory(x.grad._data, g)
    x.grad._data[0] = 100
    assert g[0] == 1.0


def test_accumulation_is_in_place_like_pytorch():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    assert x.grad is first
    assert_close(first, [5.0, 5.0])


def test_gradient_of_a_0d_input_is_an_array():
    """0-d arrays added by NumPy become scalars; gradients must stay arrays (.numpy() works)."""
    x = mg.tensor(2.0, requires_grad=True)
    ((x + x) * x).backward()
    assert isinstance(x.grad._data, np.ndarray) and x.grad.numpy() == 8.0


@pytest.mark.parametrize("base, exponent", [(0.0, 2.0), (0.0, 0.0), (0.0, 1.0), (0.0, 3.0), (2.0, 0.0)])
def test_pow_gradients_at_base_or_exponent_zero_match_pytorch(base, exponent, torch):
    a, b = leaf(base), leaf(exponent)
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (base, exponent))
    (a ** b).backward()
    (ta ** tb).backward()
    assert_close(a.grad, ta.grad.item(), what="d/d base")
    assert_close(b.grad, tb.grad.item(), what="d/d exponent")
    s = leaf(base)
    (s ** exponent).backward()
    t = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    (t ** exponent).backward()
    assert_close(s.grad, t.grad.item(), what="python exponent")


def test_the_graph_can_be_read_through_public_names():
    """grad_fn.next_functions (leaves through their AccumulateGrad, as PyTorch's), generation,
    input_metadata, num_outputs, output_nr, and the thread's tracer: what viz, tracing and nn.Module read."""
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0], requires_grad=True)
    c = a * b                                   # b broadcast: its gradient comes back as shape (1,)
    d = (c + 1.0).sum()
    mul = c.grad_fn
    (acc_a, ia), (acc_b, ib) = mul.next_functions
    assert acc_a.variable is a and acc_b.variable is b and ia == ib == 0 and mul.generation == 1
    assert acc_a is mul.next_functions[0][0] and acc_a.next_functions == ()       # one per leaf
    assert acc_a.name() == "torch::autograd::AccumulateGrad" and mul.name() == "MulBackward0"
    assert repr(mul).startswith("<MulBackward0 object at ")
    assert mul.input_metadata == (((2,), np.dtype(np.float32)), ((1,), np.dtype(np.float32)))
    assert d.grad_fn.next_functions[0][0].next_functions[0] == (mul, 0)
    assert d.grad_fn.generation == 3 and mul.num_outputs == 1 and c.output_nr == 0
    from minigrad.ops.norm import BatchNorm
    y, mean, var = BatchNorm.apply(mg.randn(4, 3, requires_grad=True), None, None, None, None, 1e-5)
    assert y.grad_fn is mean.grad_fn and y.grad_fn.num_outputs == 3 and (y.output_nr, var.output_nr) == (0, 2)
    assert mg.autograd.get_tracer() is None
    with mg.trace() as t:
        assert mg.autograd.get_tracer() is t
        previous = mg.autograd.set_tracer(None)
        assert previous is t and mg.autograd.get_tracer() is None
        mg.autograd.set_tracer(previous)
    assert mg.autograd.get_tracer() is None
