"""``Tensor.data`` as in PyTorch: a detached Tensor on the same memory, whose edits reach the
original unseen by autograd, and ``t.data = other`` to rebind a tensor's values.

The idioms are those of code written for PyTorch before ``no_grad`` (hand-written optimizer
steps, ``p.data.normal_(0, 0.02)`` initialisation); each is checked against PyTorch when installed.
"""
import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

from helpers import assert_close, host


def test_data_is_a_detached_tensor_on_the_same_memory():
    p = nn.Parameter(mg.tensor([1.0, 2.0, 3.0]))
    d = p.data
    assert isinstance(d, mg.Tensor) and type(d) is mg.Tensor          # not a Parameter, as in PyTorch
    assert d.requires_grad is False and d.grad_fn is None and d.is_leaf
    assert d.shape == (3,) and d.dtype == p.dtype and d.device == p.device
    assert np.shares_memory(d._data, p._data) and d.data_ptr() == p.data_ptr()
    assert p.data.numpy().tolist() == [1.0, 2.0, 3.0] and p.data.cpu().numpy().tolist() == [1.0, 2.0, 3.0]
    assert float(p.data[0]) == 1.0
    c = p.data.clone()
    c.fill_(0.0)
    assert host(p).tolist() == [1.0, 2.0, 3.0]                         # a clone has its own memory


@pytest.mark.parametrize("edit, expected", [
    (lambda p: p.data.fill_(0.5), [0.5, 0.5, 0.5]),
    (lambda p: p.data.mul_(2), [2.0, 4.0, 6.0]),
    (lambda p: p.data.zero_(), [0.0, 0.0, 0.0]),
    (lambda p: p.data.copy_(mg.tensor([7.0, 8.0, 9.0])), [7.0, 8.0, 9.0]),
    (lambda p: p.data.add_(mg.tensor([1.0, 1.0, 1.0]), alpha=-0.5), [0.5, 1.5, 2.5]),
    (lambda p: p.data.clamp_(1.5, 2.5), [1.5, 2.0, 2.5]),
    (lambda p: p.data[1:].fill_(0.0), [1.0, 0.0, 0.0]),                 # through a view of .data
    (lambda p: p.data.__setitem__(0, 5.0), [5.0, 2.0, 3.0]),
])
def test_in_place_edits_of_data_reach_a_leaf_that_requires_grad(edit, expected):
    """No "leaf Variable ... in-place" error: .data does not require grad (grad mode on)."""
    p = nn.Parameter(mg.tensor([1.0, 2.0, 3.0]))
    edit(p)
    assert host(p).tolist() == expected
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


def test_augmented_assignment_on_data_updates_the_parameter():
    p = nn.Parameter(mg.tensor([1.0, 3.0]))
    p.data -= 0.5 * mg.tensor([2.0, 4.0])
    p.data *= 2
    assert host(p).tolist() == [0.0, 2.0] and p.requires_grad and isinstance(p, nn.Parameter)


def test_random_init_through_data():
    mg.manual_seed(0)
    w = nn.Parameter(mg.empty(200, 50))
    w.data.normal_(0, 0.02)
    assert abs(float(host(w).std()) - 0.02) < 0.002 and abs(float(host(w).mean())) < 0.002
    w.data.uniform_(-1, 1)
    assert -1 <= host(w).min() and host(w).max() <= 1


def test_grad_data_zero_():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    p.grad.data.zero_()
    assert host(p.grad).tolist() == [0.0, 0.0]


def test_data_of_a_non_leaf():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.data
    assert d.requires_grad is False and d.grad_fn is None and host(d).tolist() == [3.0, 6.0]
    d.add_(1.0)
    assert host(y).tolist() == [4.0, 7.0] and y.grad_fn is not None


def test_operations_on_data_record_no_graph():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    z = (p.data * 2).sum()
    assert not z.requires_grad and z.grad_fn is None
    with pytest.raises(RuntimeError):
        z.backward()


def test_setter_rebinds_the_values_shape_may_change():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    new = mg.tensor([[1.0, 2.0, 3.0]])
    p.data = new
    assert isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf and p.shape == (1, 3)
    new.mul_(2)                                              # p looks at new's memory now
    assert host(p).tolist() == [[2.0, 4.0, 6.0]]
    (p * p).sum().backward()
    assert host(p.grad).tolist() == [[4.0, 8.0, 12.0]]
    p.data = np.zeros(2)                                     # minigrad's own code sets arrays
    assert p.shape == (2,) and p.dtype == mg.float64
    with pytest.raises(TypeError, match="Tensor"):
        p.data = [1.0, 2.0]


def test_setter_refuses_integers_on_a_tensor_that_requires_grad(torch):
    theirs = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError):
        theirs.data = torch.tensor([1, 2])
    ours = nn.Parameter(mg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError):
        ours.data = mg.tensor([1, 2])
    plain = mg.tensor([1.0, 2.0])
    plain.data = mg.tensor([1, 2])                           # allowed without requires_grad, as PyTorch
    assert plain.dtype == mg.int64


def test_setter_in_a_module_keeps_the_registered_parameter():
    lin = nn.Linear(3, 2)
    weight = lin.weight
    lin.weight.data = mg.ones(2, 3)
    assert lin.weight is weight and dict(lin.named_parameters())["weight"] is weight
    assert_close(lin(mg.ones(1, 3)), 3.0 + host(lin.bias)[None])


def test_edits_through_data_are_not_seen_by_autograd(torch):
    """A backward that saved the edited values uses the new ones, without the version error that
    an edit through ``detach()`` raises (PyTorch's semantics of .data)."""
    start = np.array([0.5, -1.0, 2.0])
    results = []
    for lib in (mg, torch):
        w = lib.tensor(start, requires_grad=True)
        y = w.exp()                                          # saves its result
        z = (w * w).sum()                                    # saves w
        y.data.mul_(2)
        w.data.add_(1.0)
        (y.sum() + z).backward()
        results.append((host(w.grad) if lib is mg else w.grad.numpy(), host(y) if lib is mg else y.detach().numpy()))
    assert_close(results[0][0], results[1][0], atol=1e-12)
    assert_close(results[0][1], results[1][1], atol=1e-12)
    assert_close(results[0][0], 2 * np.exp(start) + 2 * (start + 1), atol=1e-12)


def test_edits_through_detach_are_still_seen_by_autograd():
    w = mg.tensor([0.5, 1.0], requires_grad=True)
    y = w.exp()
    y.detach().mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def _model():
    mg.manual_seed(3)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()


def _batches():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 3))
    return mg.tensor(x), mg.tensor(np.sin(x).sum(1, keepdims=True))


@pytest.mark.parametrize("style", ["add_alpha", "isub"])
def test_hand_written_sgd_through_data_matches_optim_sgd(style):
    lr, steps = 0.1, 10
    x, y = _batches()
    ours, reference = _model(), _model()
    opt = optim.SGD(reference.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        ((reference(x) - y) ** 2).mean().backward()
        opt.step()
        loss = ((ours(x) - y) ** 2).mean()
        for p in ours.parameters():
            p.grad = None
        loss.backward()
        for p in ours.parameters():
            if style == "add_alpha":
                p.data.add_(p.grad.data, alpha=-lr)
            else:
                p.data -= lr * p.grad.data
    for (name, a), b in zip(ours.named_parameters(), reference.parameters()):
        assert_close(a, host(b), atol=1e-14, rtol=0, what=name)


def test_hand_written_sgd_through_data_matches_pytorch(torch):
    lr, steps = 0.1, 5
    x, y = _batches()
    ours = _model()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
    for q, p in zip(theirs.parameters(), ours.parameters()):
        q.data = torch.tensor(p.data.numpy())                # the idiom on PyTorch's side too
    tx, ty = torch.tensor(host(x)), torch.tensor(host(y))
    for _ in range(steps):
        for model, inputs, target in ((ours, x, y), (theirs, tx, ty)):
            for p in model.parameters():
                p.grad = None
            ((model(inputs) - target) ** 2).mean().backward()
            for p in model.parameters():
                p.data.add_(p.grad.data, alpha=-lr)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p, q.detach().numpy(), atol=1e-12)


def test_state_dict_and_deepcopy_see_edits_through_data():
    model = _model()
    model[0].weight.data.fill_(0.25)
    assert (host(model.state_dict()["0.weight"]) == 0.25).all()
    clone = copy.deepcopy(model)
    assert (host(clone[0].weight) == 0.25).all() and isinstance(clone[0].weight, nn.Parameter)
    other = _model()
    other.load_state_dict(model.state_dict())
    assert (host(other[0].weight) == 0.25).all()


def test_matches_pytorch_attributes(torch):
    for lib in (mg, torch):
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        d = p.data
        assert isinstance(d, lib.Tensor) and not isinstance(d, lib.nn.Parameter)
        assert d.requires_grad is False and d.grad_fn is None and d.is_leaf
        assert d.data_ptr() == p.data_ptr()
