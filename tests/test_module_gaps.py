"""nn.Module gaps (get_parameter, get_buffer, set_submodule, half, type, share_memory, backward pre
hooks, state-dict hooks) and nn.init.dirac_ / sparse_, against PyTorch."""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn


def _pair():
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    return ours, ref


def test_get_parameter_and_buffer():
    ours, ref = _pair()
    np.testing.assert_array_equal(ours.get_parameter("0.weight").detach().numpy(),
                                  ref.get_parameter("0.weight").detach().numpy())
    np.testing.assert_array_equal(ours.get_buffer("1.running_var").numpy(), ref.get_buffer("1.running_var").numpy())
    for m in (ours, ref):
        with pytest.raises(AttributeError, match="not an nn.Parameter"):
            m.get_parameter("1.running_mean")
        with pytest.raises(AttributeError, match="not a buffer"):
            m.get_buffer("0.weight")
        with pytest.raises(AttributeError):
            m.get_parameter("0.nope")


def test_set_submodule():
    ours, _ = _pair()
    new = nn.Linear(4, 2)
    ours.set_submodule("2", new)
    assert ours[2] is new
    with pytest.raises(ValueError, match="target name"):
        ours.set_submodule("", new)
    with pytest.raises(AttributeError):
        ours.set_submodule("extra", new, strict=True)
    with pytest.raises(AttributeError, match="not an nn.Module"):
        ours.set_submodule("0.weight", new)
    ours.set_submodule("extra", new)
    assert ours.extra is new


def test_half_type_share_memory():
    m = nn.Linear(2, 3)
    assert m.half() is m and m.weight.dtype == mg.float16
    m.type(mg.float64)
    assert m.weight.dtype == mg.float64 and m.bias.dtype == mg.float64
    assert m.share_memory() is m


def test_full_backward_pre_hook_matches_torch():
    ours, ref = _pair()
    seen = {}

    def mk(tag):
        def hook(module, grad_output):
            seen[tag] = grad_output[0].detach().numpy().copy()
            return (grad_output[0] * 3,)
        return hook
    ours[2].register_full_backward_pre_hook(mk("ours"))
    ref[2].register_full_backward_pre_hook(mk("ref"))
    x = np.random.default_rng(0).normal(size=(5, 3))
    xo, xr = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours(xo) ** 2).sum().backward()
    (ref(xr) ** 2).sum().backward()
    np.testing.assert_allclose(seen["ours"], seen["ref"], rtol=1e-10)
    np.testing.assert_allclose(xo.grad.numpy(), xr.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours[0].weight.grad.numpy(), ref[0].weight.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_state_dict_pre_hook_and_load_post_hook():
    ours, _ = _pair()
    calls = []
    ours[1].register_state_dict_pre_hook(lambda m, prefix, keep_vars: calls.append((prefix, keep_vars)))
    ours.state_dict()
    assert calls == [("1.", False)]

    def drop_missing(module, keys):
        calls.append(list(keys.missing_keys))
        keys.missing_keys.clear()
    handle = ours.register_load_state_dict_post_hook(drop_missing)
    sd = ours.state_dict()
    del sd["2.bias"]
    ours.load_state_dict(sd)                     # strict, but the hook cleared missing_keys
    assert calls[-1] == ["2.bias"]
    handle.remove()
    with pytest.raises(RuntimeError, match=r"Missing key\(s\)"):
        ours.load_state_dict(sd)


@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 3, 1, 5), 1), ((4, 2, 3, 3), 2)])
def test_dirac_matches_torch(shape, groups):
    ours = nn.init.dirac_(mg.empty(*shape), groups)
    ref = torch.nn.init.dirac_(torch.empty(*shape), groups)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    with pytest.raises(ValueError, match="3, 4, or 5"):
        nn.init.dirac_(mg.empty(2, 2))


def test_sparse_zeros_per_column():
    w = nn.init.sparse_(mg.empty(10, 6), sparsity=0.3, std=0.5, generator=mg.Generator().manual_seed(0))
    zeros = (w.numpy() == 0).sum(axis=0)
    assert (zeros == 3).all()
    assert 0.2 < w.numpy()[w.numpy() != 0].std() < 1.0
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.sparse_(mg.empty(3), 0.1)


def test_module_pickled_without_the_new_hook_stores_still_runs():
    import pickle
    m = nn.Linear(2, 2)
    state = dict(m.__dict__)
    for name in ("_backward_pre_hooks", "_state_dict_pre_hooks", "_load_state_dict_post_hooks"):
        del state[name]
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)
    assert old(mg.ones(1, 2)).shape == (1, 2) and list(old.state_dict()) == ["weight", "bias"]
    again = pickle.loads(pickle.dumps(m))
    assert again(mg.ones(1, 2)).shape == (1, 2)
