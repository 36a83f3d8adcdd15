"""Tensor.register_post_accumulate_grad_hook and autograd.queue_callback: a leaf's hook runs as
soon as its gradient is final, during the backward (what DDP overlaps its all-reduce with)."""
import gc

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd

from helpers import assert_close


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def two_layers(rng):
    x = mg.tensor(rng.standard_normal((4, 3)))
    w1, w2 = leaf(rng.standard_normal((3, 5))), leaf(rng.standard_normal((5, 2)))
    return x, w1, w2


def test_hook_runs_during_backward_before_earlier_layers(rng):
    x, w1, w2 = two_layers(rng)
    log = []
    w1.register_post_accumulate_grad_hook(lambda p: log.append("w1"))
    w2.register_post_accumulate_grad_hook(lambda p: log.append(("w2", p.grad is not None)))
    h = (x @ w1).relu()
    h.register_hook(lambda g: log.append("h"))        # runs when the engine reaches relu's node
    (h @ w2).sum().backward()
    assert log == [("w2", True), "h", "w1"]


def test_fan_out_hook_runs_once_with_the_whole_gradient(rng):
    x, w1, w2 = two_layers(rng)
    seen = []
    w1.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.numpy().copy()))

    def loss():       # w1 is used at two depths: its gradient is final only after the deeper use
        return ((x @ w1).tanh() @ w2).sum() + (x @ w1).sum() * 0.5 + ((x @ w1) * (x @ w1)).sum()

    loss().backward()
    hooked = w1.grad.numpy().copy()
    w1_ref = leaf(w1.detach().numpy())
    ((x @ w1_ref).tanh() @ w2).sum().backward()
    ((x @ w1_ref).sum() * 0.5 + ((x @ w1_ref) * (x @ w1_ref)).sum()).backward()
    assert len(seen) == 1
    assert_close(seen[0], w1_ref.grad.numpy())
    assert_close(hooked, w1_ref.grad.numpy())


def test_hook_sees_accumulated_grad_and_retain_graph_runs_it_again(rng):
    x, w1, w2 = two_layers(rng)
    sums = []
    w1.register_post_accumulate_grad_hook(lambda p: sums.append(p.grad.numpy().copy()))
    y = ((x @ w1) @ w2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert len(sums) == 2
    assert_close(sums[1], 2 * sums[0])


def test_in_place_edit_in_a_hook_touches_no_other_gradient():
    def zero(p):                        # returns None: PyTorch refuses a post-accumulate hook's value
        p.grad._data *= 0.0

    def add_five(p):
        p.grad._data += 5.0
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    a.register_post_accumulate_grad_hook(zero)
    (a + b * 2).sum().backward()        # Add hands one array to leaf a and to Mul's node
    assert_close(a.grad, [0.0, 0.0])
    assert_close(b.grad, [2.0, 2.0])
    c, d = leaf([1.0]), leaf([1.0])
    c.register_post_accumulate_grad_hook(add_five)
    (c + d).sum().backward()            # the same array for two leaves
    assert_close(c.grad, [6.0])
    assert_close(d.grad, [1.0])


def test_create_graph_gradients_stay_differentiable():
    x = leaf([1.0, 2.0])
    calls = []
    x.register_post_accumulate_grad_hook(lambda p: calls.append(p.grad.requires_grad))
    (x ** 3).sum().backward(create_graph=True)
    assert calls == [True]
    (gx,) = autograd.grad(x.grad.sum(), x)           # d/dx sum(3x^2) = 6x
    assert_close(gx, [6.0, 12.0])


def test_remove_and_inputs_path_and_leaf_check():
    x = leaf([1.0, 2.0])
    calls = []
    handle = x.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    (x * 2).sum().backward(inputs=[x])              # the capture path deposits (and calls) at the end
    assert calls == [1]
    handle.remove()
    assert autograd._post_hooks_of(x) is None
    (x * 2).sum().backward()
    assert calls == [1]
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda p: None)


def test_hooks_die_with_their_tensor():
    x = leaf([1.0])
    x.register_post_accumulate_grad_hook(lambda p: None)
    key = id(x)
    assert key in autograd._post_hooks
    del x
    gc.collect()
    assert key not in autograd._post_hooks


def test_queued_callback_runs_after_every_gradient_and_is_dropped_on_error(rng):
    x, w1, w2 = two_layers(rng)
    seen = []
    w2.register_post_accumulate_grad_hook(
        lambda p: autograd.queue_callback(lambda: seen.append(w1.grad is not None)))
    ((x @ w1) @ w2).sum().backward()
    assert seen == [True]

    class Boom(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    with pytest.raises(ValueError):
        (Boom.apply(x @ w1) @ w2).sum().backward()
    assert seen == [True]                              # the callback queued by w2's hook was dropped
    ((x @ w1) @ w2).sum().backward()
    assert seen == [True, True]
