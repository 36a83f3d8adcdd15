"""nn.utils.parameters_to_vector / vector_to_parameters, functional_call (nn.utils.stateless and
minigrad.func) and the minigrad.func transforms, against PyTorch in float64."""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn
from minigrad.func import functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from minigrad.nn.utils import parameters_to_vector, vector_to_parameters

RNG = np.random.default_rng(0)


def _pair():
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    return ours, ref


def test_parameters_to_vector_roundtrip_and_grad():
    ours, ref = _pair()
    vo, vr = parameters_to_vector(ours.parameters()), torch.nn.utils.parameters_to_vector(ref.parameters())
    np.testing.assert_array_equal(vo.detach().numpy(), vr.detach().numpy())
    (vo ** 2).sum().backward()
    np.testing.assert_allclose(ours[0].weight.grad.numpy(), 2 * ours[0].weight.detach().numpy())
    new = RNG.normal(size=vo.shape[0])
    vector_to_parameters(mg.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), ref.parameters())
    for (k, a), b in zip(ours.state_dict().items(), ref.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    with pytest.raises(TypeError, match="Tensor"):
        vector_to_parameters(new, ours.parameters())
    with pytest.raises(RuntimeError, match="elements"):
        vector_to_parameters(mg.zeros(3), ours.parameters())


def test_functional_call_matches_torch_and_grads_flow_to_substitutes():
    ours, ref = _pair()
    x = RNG.normal(size=(5, 3))
    new = {"0.weight": RNG.normal(size=(4, 3)), "2.bias": RNG.normal(size=2)}
    po = {k: mg.tensor(v, requires_grad=True) for k, v in new.items()}
    pr = {k: torch.tensor(v, requires_grad=True) for k, v in new.items()}
    yo = functional_call(ours, po, (mg.tensor(x),))
    yr = torch.func.functional_call(ref, pr, (torch.tensor(x),))
    np.testing.assert_allclose(yo.detach().numpy(), yr.detach().numpy(), rtol=1e-12)
    (yo ** 2).sum().backward()
    (yr ** 2).sum().backward()
    for k in new:
        np.testing.assert_allclose(po[k].grad.numpy(), pr[k].grad.numpy(), rtol=1e-10)
    assert ours[0].weight.grad is None                      # the module's own parameter is untouched
    np.testing.assert_array_equal(ours[0].weight.detach().numpy(), ref[0].weight.detach().numpy())
    assert nn.utils.stateless.functional_call is functional_call


def test_functional_call_buffers_tied_weights_strict():
    bn = nn.BatchNorm1d(3).double()
    mean = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64)
    bn.eval()
    out = functional_call(bn, {"running_mean": mean}, mg.tensor(np.ones((2, 3))))
    np.testing.assert_allclose(out.detach().numpy(), np.ones((2, 3)) - [1, 2, 3], atol=1e-4)
    assert bn.running_mean.numpy().sum() == 0

    def tied(lib):
        class Tied(lib.Module):
            def __init__(self):
                super().__init__()
                self.a, self.b = lib.Linear(2, 2, bias=False).double(), lib.Linear(2, 2, bias=False).double()
                self.b.weight = self.a.weight

            def forward(self, x):
                return self.b(self.a(x) * 3)
        return Tied()
    ours, ref = tied(nn), tied(torch.nn)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    w = np.eye(2) * 2 + 0.5
    for tie in (True, False):
        yo = functional_call(ours, {"a.weight": mg.tensor(w)}, mg.ones(1, 2, dtype=mg.float64), tie_weights=tie)
        yr = torch.func.functional_call(ref, {"a.weight": torch.tensor(w)}, torch.ones(1, 2, dtype=torch.float64),
                                        tie_weights=tie)
        np.testing.assert_allclose(yo.detach().numpy(), yr.detach().numpy(), rtol=1e-12)
    lin = nn.Linear(2, 2, bias=False)
    w = mg.tensor(np.eye(2))
    with pytest.raises(RuntimeError, match="missing keys"):
        functional_call(lin, {}, mg.ones(1, 2), strict=True)
    with pytest.raises(AttributeError, match="nope"):
        functional_call(lin, {"nope": w}, mg.ones(1, 2))
    with pytest.raises(ValueError, match="multiple"):
        functional_call(lin, ({"weight": w}, {"weight": w}), mg.ones(1, 2))


def _f(x, y):
    return (x.sin() * y).sum() + (x * x * y).sum()


def _tf(x, y):
    return (x.sin() * y).sum() + (x * x * y).sum()


def test_grad_transforms_match_torch():
    x, y = RNG.normal(size=4), RNG.normal(size=4)
    mx, my, tx, ty = mg.tensor(x), mg.tensor(y), torch.tensor(x), torch.tensor(y)
    np.testing.assert_allclose(grad(_f)(mx, my).numpy(), torch.func.grad(_tf)(tx, ty).numpy(), rtol=1e-12)
    gs = grad(_f, argnums=(0, 1))(mx, my)
    rs = torch.func.grad(_tf, argnums=(0, 1))(tx, ty)
    for a, b in zip(gs, rs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    g, v = grad_and_value(_f)(mx, my)
    assert not g.requires_grad and abs(v.item() - _tf(tx, ty).item()) < 1e-12
    g, aux = grad(lambda a: (_f(a, my), a * 2), has_aux=True)(mx)
    np.testing.assert_allclose(aux.numpy(), 2 * x)
    # composition: second derivative of sum(sin x * y + x^2 y) along each coordinate
    gg = grad(lambda a: grad(_f)(a, my).sum())(mx)
    np.testing.assert_allclose(gg.numpy(), (-np.sin(x) + 2) * y, rtol=1e-12)
    np.testing.assert_allclose(hessian(_f)(mx, my).numpy(), torch.func.hessian(_tf)(tx, ty).numpy(), rtol=1e-12)
    np.testing.assert_allclose(jacrev(lambda a: a.sin() * my)(mx).numpy(),
                               torch.func.jacrev(lambda a: a.sin() * ty)(tx).numpy(), rtol=1e-12)
    np.testing.assert_allclose(jacfwd(lambda a, b: a.sin() * b, argnums=1)(mx, my).numpy(),
                               torch.func.jacfwd(lambda a, b: a.sin() * b, argnums=1)(tx, ty).numpy(), rtol=1e-12)
    np.testing.assert_allclose(jacfwd(jacrev(_f))(mx, my).numpy(), torch.func.hessian(_tf)(tx, ty).numpy(),
                               rtol=1e-12)


def test_vjp_jvp_match_torch():
    x = RNG.normal(size=(3,))
    v = RNG.normal(size=(3,))
    out, fn = vjp(lambda a: a.exp() * a, mg.tensor(x))
    rout, rfn = torch.func.vjp(lambda a: a.exp() * a, torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), rout.numpy(), rtol=1e-12)
    np.testing.assert_allclose(fn(mg.tensor(v))[0].numpy(), rfn(torch.tensor(v))[0].numpy(), rtol=1e-12)
    o, t = jvp(lambda a: a.exp() * a, (mg.tensor(x),), (mg.tensor(v),))
    ro, rt = torch.func.jvp(lambda a: a.exp() * a, (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(t.numpy(), rt.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="scalar"):
        grad(lambda a: a * 2)(mg.tensor(x))


def test_vmap_matches_torch_and_gives_per_sample_grads():
    from minigrad.func import vmap
    x, w = RNG.normal(size=(5, 3)), RNG.normal(size=(3,))
    ours = vmap(lambda a, b: (a * b).sin().sum(), in_dims=(0, None))(mg.tensor(x), mg.tensor(w))
    ref = torch.func.vmap(lambda a, b: (a * b).sin().sum(), in_dims=(0, None))(torch.tensor(x), torch.tensor(w))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    # per-sample gradients of a linear model's loss with respect to the weights
    y = RNG.normal(size=5)

    def loss(wt, xi, yi):
        return ((xi * wt).sum() - yi) ** 2
    go = vmap(grad(loss), in_dims=(None, 0, 0))(mg.tensor(w), mg.tensor(x), mg.tensor(y))
    gr = torch.func.vmap(torch.func.grad(lambda a, b, c: ((b * a).sum() - c) ** 2), in_dims=(None, 0, 0))(
        torch.tensor(w), torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(go.numpy(), gr.numpy(), rtol=1e-12)
    a, b = vmap(lambda t: (t * 2, t.sum()), in_dims=1, out_dims=(1, 0))(mg.tensor(x))
    assert tuple(a.shape) == (5, 3) and tuple(b.shape) == (3,)
    with pytest.raises(ValueError, match="same size"):
        vmap(lambda p, q: p + q)(mg.ones(2), mg.ones(3))
