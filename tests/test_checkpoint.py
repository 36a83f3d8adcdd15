"""Activation checkpointing (minigrad.utils.checkpoint): the same gradients as the plain forward,
first and second order, to arguments and to parameters read from a closure, with dropout's draws
replayed; less memory held between forward and backward; PyTorch's values on the same weights."""
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.utils.checkpoint import checkpoint, checkpoint_sequential


def _net(dropout=0.0):
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(dropout), nn.Linear(8, 3)).double()


def _grads(net, x):
    out = [p.grad.numpy().copy() for p in net.parameters()] + [x.grad.numpy().copy()]
    net.zero_grad()
    x.grad = None
    return out


def _assert_same(a, b, tol=0.0):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=0, atol=tol)


@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_backward_matches_the_plain_forward(dropout):
    """Parameters are reached from the closure (the Sequential), the input as an argument;
    dropout's mask in the recomputation is the first run's (the RNG state is replayed)."""
    net = _net(dropout)
    x = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    mg.manual_seed(3)
    checkpoint(net, x, use_reentrant=False).pow(2).sum().backward()
    got = _grads(net, x)
    mg.manual_seed(3)
    net(x).pow(2).sum().backward()
    _assert_same(got, _grads(net, x))


def test_autograd_grad_returns_parameter_gradients_and_leaves_grad_alone():
    net = _net()
    x = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    params = list(net.parameters())
    got = mg.autograd.grad(checkpoint(net, x).sum(), params + [x])
    want = mg.autograd.grad(net(x).sum(), params + [x])
    _assert_same([g.numpy() for g in got], [g.numpy() for g in want])
    assert all(p.grad is None for p in params) and x.grad is None


def test_second_order_through_the_recomputation():
    """Under create_graph the recomputation runs on the arguments themselves, so the returned
    gradient hangs on the outer graph: Hessian-vector products and mixed second derivatives
    (input, then a weight) equal the plain ones, and gradgradcheck passes."""
    net = _net()
    x = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    w = net[0].weight
    results = []
    for f in (lambda: checkpoint(net, x), lambda: net(x)):
        (gx,) = mg.autograd.grad(f().pow(3).sum(), x, create_graph=True)
        results.append([g.numpy() for g in mg.autograd.grad(gx.sum(), [x, w])])
    _assert_same(results[0], results[1], tol=1e-13)
    assert mg.gradgradcheck(lambda t: checkpoint(net, t), (x,))


def test_several_outputs_keywords_and_non_tensor_arguments():
    def f(a, b, k, scale=1.0):
        return a * b * scale * k, (a + b).sum()

    a = mg.randn(3, dtype=mg.float64, requires_grad=True)
    b = mg.randn(3, dtype=mg.float64)
    o1, o2 = checkpoint(f, a, b, 2, scale=0.5, use_reentrant=False)
    (o1.sum() + o2).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.numpy() + 1, rtol=1e-15)
    assert b.grad is None
    with pytest.raises(ValueError, match="keyword arguments"):
        checkpoint(f, a, b, 2, scale=0.5, use_reentrant=True)


def test_without_gradients_it_is_a_plain_call():
    net = _net()
    x = mg.randn(5, 4, dtype=mg.float64)
    with mg.no_grad():
        y = checkpoint(net, x)
    assert not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), net(x).detach().numpy())


def test_checkpoint_sequential_matches_the_plain_forward():
    mg.manual_seed(1)
    net = nn.Sequential(*[m for _ in range(3) for m in (nn.Linear(6, 6), nn.Tanh())]).double()
    x = mg.randn(4, 6, dtype=mg.float64, requires_grad=True)
    checkpoint_sequential(net, 3, x, use_reentrant=False).sum().backward()
    got = _grads(net, x)
    net(x).sum().backward()
    _assert_same(got, _grads(net, x))
    with pytest.raises(ValueError, match="segments must be positive"):
        checkpoint_sequential(net, 0, x)


def test_memory_between_forward_and_backward_shrinks():
    """Eight 512-wide layers on a batch of 512: the plain forward keeps every layer's activations
    for backward (a 1 MB array a layer in float32), the checkpointed one only the block's output."""
    mg.manual_seed(0)
    block = nn.Sequential(*[m for _ in range(8) for m in (nn.Linear(512, 512), nn.Tanh())])
    x = mg.randn(512, 512, requires_grad=True)

    def held(run):
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            out = run()
            kept = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        out.sum().backward()
        return kept

    plain, checkpointed = held(lambda: block(x)), held(lambda: checkpoint(block, x))
    layer = 512 * 512 * 4
    assert plain > 7 * layer, plain
    assert checkpointed < 2 * layer, checkpointed


def test_matches_pytorch_on_the_same_weights(torch):
    net = _net()
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Dropout(0.0),
                               torch.nn.Linear(8, 3)).double()
    tnet.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in net.state_dict().items()})
    xv = np.random.default_rng(0).standard_normal((5, 4))
    x, tx = mg.tensor(xv, requires_grad=True), torch.tensor(xv, requires_grad=True)
    checkpoint(net, x, use_reentrant=False).pow(2).sum().backward()
    torch.utils.checkpoint.checkpoint(tnet, tx, use_reentrant=False).pow(2).sum().backward()
    for p, tp in zip(net.parameters(), tnet.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
