"""nn.utils.parametrize, nn.utils.parametrizations.weight_norm / spectral_norm and the older
hook-based weight_norm / spectral_norm, against PyTorch in float64 (outputs, gradients,
state-dict names, power iteration in training and eval)."""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn
from minigrad.nn.utils import parametrize as P
from minigrad.nn.utils import parametrizations

R = np.random.default_rng(0)


def _linear_pair(lib_in=4, out=3):
    ref = torch.nn.Linear(lib_in, out).double()
    ours = nn.Linear(lib_in, out).double()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    return ours, ref


def _sd_to_ours(ours, ref):
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})


def _check_same(ours, ref, x, what):
    yo, yr = ours(mg.tensor(x)), ref(torch.tensor(x))
    np.testing.assert_allclose(yo.detach().numpy(), yr.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=what)
    (yo ** 2).sum().backward()
    (yr ** 2).sum().backward()
    go = {k: p.grad.numpy() for k, p in ours.named_parameters()}
    gr = {k: p.grad.numpy() for k, p in ref.named_parameters()}
    assert go.keys() == gr.keys(), what
    for k in go:
        np.testing.assert_allclose(go[k], gr[k], rtol=1e-9, atol=1e-12, err_msg=f"{what}: {k}")


class _Sym(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class _TSym(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


def test_register_parametrization_matches_torch():
    ours, ref = _linear_pair(3, 3)
    P.register_parametrization(ours, "weight", _Sym())
    torch.nn.utils.parametrize.register_parametrization(ref, "weight", _TSym())
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert P.is_parametrized(ours) and P.is_parametrized(ours, "weight") and not P.is_parametrized(ours, "bias")
    np.testing.assert_allclose(ours.weight.detach().numpy(), ref.weight.detach().numpy())
    x = R.normal(size=(2, 3))
    _check_same(ours, ref, x, "symmetric")
    a = R.normal(size=(3, 3))
    ours.weight = mg.tensor(a + a.T)
    with torch.no_grad():
        ref.weight = torch.tensor(a + a.T)
    np.testing.assert_allclose(ours.parametrizations.weight.original.detach().numpy(),
                               ref.parametrizations.weight.original.detach().numpy())
    with P.cached():
        assert ours.weight is ours.weight
    assert ours.weight is not ours.weight
    P.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(ref, "weight")
    assert type(ours) is nn.Linear and list(ours.state_dict()) == list(ref.state_dict())
    np.testing.assert_allclose(ours.weight.detach().numpy(), ref.weight.detach().numpy())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(ours, "weight")


def test_parametrization_keeps_the_parameter_for_optimizers_and_checks_shape():
    lin = nn.Linear(3, 3).double()
    w = lin.weight
    P.register_parametrization(lin, "weight", _Sym())
    assert lin.parametrizations.weight.original is w
    P.remove_parametrizations(lin, "weight", leave_parametrized=False)
    assert lin.weight is w

    class Bad(nn.Module):
        def forward(self, x):
            return x.sum()
    with pytest.raises(ValueError, match="shape"):
        P.register_parametrization(nn.Linear(2, 2), "weight", Bad())
    with pytest.raises(ValueError, match="no parameter or buffer"):
        P.register_parametrization(nn.Linear(2, 2), "nope", _Sym())


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization(dim):
    ours, ref = _linear_pair()
    parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(ref, dim=dim)
    assert list(ours.state_dict()) == list(ref.state_dict())
    _sd_to_ours(ours, ref)
    _check_same(ours, ref, R.normal(size=(5, 4)), f"weight_norm dim={dim}")


@pytest.mark.parametrize("dim", [0, None])
def test_old_weight_norm(dim):
    ours, ref = _linear_pair()
    nn.utils.weight_norm(ours, dim=dim)
    torch.nn.utils.weight_norm(ref, dim=dim)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    _check_same(ours, ref, R.normal(size=(5, 4)), "old weight_norm")
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    np.testing.assert_allclose(ours.weight.detach().numpy(), ref.weight.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(ours)


@pytest.mark.parametrize("n_iter", [1, 3])
def test_spectral_norm_parametrization_train_and_eval(n_iter):
    ours, ref = _linear_pair(5, 4)
    parametrizations.spectral_norm(ours, n_power_iterations=n_iter)
    torch.nn.utils.parametrizations.spectral_norm(ref, n_power_iterations=n_iter)
    assert list(ours.state_dict()) == list(ref.state_dict())
    _sd_to_ours(ours, ref)                                   # the same u, v
    x = R.normal(size=(2, 5))
    for step in range(2):                                     # training: power iteration each call
        ours.zero_grad()
        ref.zero_grad()
        _check_same(ours, ref, x, f"spectral_norm train step {step}")
        np.testing.assert_allclose(ours.parametrizations.weight[0]._u.numpy(),
                                   ref.parametrizations.weight[0]._u.numpy(), rtol=1e-10)
    ours.eval()
    ref.eval()
    u_before = ours.parametrizations.weight[0]._u.numpy().copy()
    ours.zero_grad()
    ref.zero_grad()
    _check_same(ours, ref, x, "spectral_norm eval")
    np.testing.assert_array_equal(ours.parametrizations.weight[0]._u.numpy(), u_before)
    # after many iterations sigma is the top singular value
    w = ours.parametrizations.weight.original.detach().numpy()
    ours.train()
    lin = nn.Linear(5, 4).double()
    lin.weight._data = w.copy()
    parametrizations.spectral_norm(lin, n_power_iterations=50)
    np.testing.assert_allclose(np.linalg.svd(lin.weight.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-6)


def test_spectral_norm_conv_transpose_dim_and_errors():
    m = parametrizations.spectral_norm(nn.ConvTranspose2d(2, 3, 3))
    assert m.parametrizations.weight[0].dim == 1
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_old_spectral_norm_train_and_eval():
    ours, ref = _linear_pair(5, 4)
    nn.utils.spectral_norm(ours)
    torch.nn.utils.spectral_norm(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    _sd_to_ours(ours, ref)
    x = R.normal(size=(3, 5))
    for step in range(2):
        ours.zero_grad()
        ref.zero_grad()
        _check_same(ours, ref, x, f"old spectral_norm train {step}")
        np.testing.assert_allclose(ours.weight_u.numpy(), ref.weight_u.numpy(), rtol=1e-10)
    ours.eval()
    ref.eval()
    ours.zero_grad()
    ref.zero_grad()
    _check_same(ours, ref, x, "old spectral_norm eval")
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    np.testing.assert_allclose(ours.weight.detach().numpy(), ref.weight.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("shape,omap", [((4, 4), None), ((5, 3), None), ((3, 5), None), ((4, 4), "householder"),
                                        ((5, 3), "matrix_exp")])
def test_orthogonal_matches_torch(shape, omap):
    ref = torch.nn.Linear(shape[1], shape[0]).double()
    ours = nn.Linear(shape[1], shape[0]).double()
    torch.nn.utils.parametrizations.orthogonal(ref, orthogonal_map=omap)
    parametrizations.orthogonal(ours, orthogonal_map=omap)
    assert list(ours.state_dict()) == list(ref.state_dict())
    # the same base, and an original moved away from -I so that the map itself is exercised (off the
    # diagonal: the householder map reads the diagonal's integer part as column signs)
    noise = R.normal(size=shape) * 0.3
    noise[np.arange(min(shape)), np.arange(min(shape))] = 0
    with torch.no_grad():
        ref.parametrizations.weight.original.add_(torch.tensor(noise))
    _sd_to_ours(ours, ref)
    w = ours.weight.detach().numpy()
    np.testing.assert_allclose(w, ref.weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-10)
    ours.zero_grad()
    ref.zero_grad()
    _check_same(ours, ref, R.normal(size=(2, shape[1])), f"orthogonal {shape} {omap}")


def test_orthogonal_initial_weight_is_the_orthogonalised_weight():
    lin = nn.Linear(4, 4).double()
    w = lin.weight.detach().numpy().copy()
    parametrizations.orthogonal(lin)
    q, r = np.linalg.qr(w)
    np.testing.assert_allclose(lin.weight.detach().numpy(), q * np.sign(np.diag(r)), atol=1e-12)
    with pytest.raises(NotImplementedError, match="cayley"):
        parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="cayley")
    with pytest.raises(ValueError, match="matrix"):
        parametrizations.orthogonal(nn.Linear(3, 3), "bias")


@pytest.mark.parametrize("which", ["spectral", "weight", "old_spectral", "old_weight"])
def test_norms_on_conv_weights(which):
    ref = torch.nn.Conv2d(2, 3, 3).double()
    ours = nn.Conv2d(2, 3, 3).double()
    apply_o = {"spectral": parametrizations.spectral_norm, "weight": parametrizations.weight_norm,
               "old_spectral": nn.utils.spectral_norm, "old_weight": nn.utils.weight_norm}[which]
    apply_r = {"spectral": torch.nn.utils.parametrizations.spectral_norm,
               "weight": torch.nn.utils.parametrizations.weight_norm,
               "old_spectral": torch.nn.utils.spectral_norm, "old_weight": torch.nn.utils.weight_norm}[which]
    apply_o(ours)
    apply_r(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    _sd_to_ours(ours, ref)
    _check_same(ours, ref, R.normal(size=(2, 2, 5, 5)), f"{which} on Conv2d")


def test_deepcopy_of_a_parametrized_module_is_independent():
    import copy
    lin = parametrizations.spectral_norm(nn.Linear(4, 3).double())
    twin = copy.deepcopy(lin)
    assert type(twin) is not type(lin) and type(twin).__name__ == "ParametrizedLinear"
    assert twin.parametrizations.weight.original is not lin.parametrizations.weight.original
    lin.eval()
    twin.eval()
    np.testing.assert_array_equal(twin.weight.detach().numpy(), lin.weight.detach().numpy())
    P.remove_parametrizations(twin, "weight")
    assert type(twin) is nn.Linear and P.is_parametrized(lin, "weight")
    assert lin.weight.shape == (3, 4)          # the original's property survives the copy's removal
