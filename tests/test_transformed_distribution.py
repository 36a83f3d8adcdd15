"""TransformedDistribution and transforms against torch.distributions in float64."""
import numpy as np
import pytest
import torch
import torch.distributions as TD
import torch.distributions.transforms as TT

import minigrad as mg
import minigrad.distributions as D

R = np.random.default_rng(3)


def _pair(kind):
    loc, scale = R.normal(size=3), R.uniform(0.5, 1.5, size=3)
    po = {"loc": mg.tensor(loc, requires_grad=True), "scale": mg.tensor(scale, requires_grad=True)}
    pr = {"loc": torch.tensor(loc, requires_grad=True), "scale": torch.tensor(scale, requires_grad=True)}
    if kind == "tanh":
        return (D.TransformedDistribution(D.Normal(**po), [D.TanhTransform(cache_size=1)]),
                TD.TransformedDistribution(TD.Normal(**pr), [TT.TanhTransform(cache_size=1)]), po, pr,
                R.uniform(-0.9, 0.9, size=(2, 3)))
    if kind == "affine_exp":
        return (D.TransformedDistribution(D.Normal(**po), [D.AffineTransform(1.0, -2.0), D.ExpTransform()]),
                TD.TransformedDistribution(TD.Normal(**pr), [TT.AffineTransform(1.0, -2.0), TT.ExpTransform()]),
                po, pr, R.uniform(0.5, 3, size=(2, 3)))
    if kind == "sigmoid":
        return (D.TransformedDistribution(D.Normal(**po), D.SigmoidTransform()),
                TD.TransformedDistribution(TD.Normal(**pr), TT.SigmoidTransform()), po, pr,
                R.uniform(0.1, 0.9, size=(2, 3)))
    return (D.TransformedDistribution(D.Normal(**po), [D.AffineTransform(mg.tensor([1.0, 2.0, 3.0]), 2.0,
                                                                          event_dim=1)]),
            TD.TransformedDistribution(TD.Normal(**pr), [TT.AffineTransform(torch.tensor([1.0, 2.0, 3.0],
                                                                                         dtype=torch.float64), 2.0,
                                                                            event_dim=1)]),
            po, pr, R.normal(size=(2, 3)))


@pytest.mark.parametrize("kind", ["tanh", "affine_exp", "sigmoid", "affine_event"])
def test_log_prob_cdf_and_grads_match_torch(kind):
    do, dr, po, pr, v = _pair(kind)
    assert do.batch_shape == tuple(dr.batch_shape) and do.event_shape == tuple(dr.event_shape)
    lo, lr = do.log_prob(mg.tensor(v)), dr.log_prob(torch.tensor(v))
    np.testing.assert_allclose(lo.detach().numpy(), lr.detach().numpy(), rtol=1e-10, atol=1e-12)
    total_o, total_r = lo.sum(), lr.sum()
    if kind != "affine_event":
        co, cr = do.cdf(mg.tensor(v)), dr.cdf(torch.tensor(v))
        np.testing.assert_allclose(co.detach().numpy(), cr.detach().numpy(), rtol=1e-10, atol=1e-12)
        total_o, total_r = total_o + co.sum(), total_r + cr.sum()
    total_o.backward()
    total_r.backward()
    for k in po:
        np.testing.assert_allclose(po[k].grad.numpy(), pr[k].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_tanh_rsample_log_prob_uses_the_cached_pre_image():
    """Samples far in the tail round to exactly 1.0; only the cached pre-image keeps log_prob finite."""
    mg.manual_seed(0)
    loc = mg.tensor([25.0], dtype=mg.float64, requires_grad=True)
    cached = D.TransformedDistribution(D.Normal(loc, 1.0), [D.TanhTransform(cache_size=1)])
    y = cached.rsample((50,))
    assert y.requires_grad and (y.detach().numpy() == 1.0).all()
    lp = cached.log_prob(y)
    assert np.isfinite(lp.detach().numpy()).all()
    lp.sum().backward()
    assert np.isfinite(loc.grad.numpy()).all()
    uncached = D.TransformedDistribution(D.Normal(25.0, 1.0), [D.TanhTransform()])
    with np.errstate(divide="ignore", invalid="ignore"):
        assert not np.isfinite(uncached.log_prob(y.detach()).numpy()).all()


def test_sample_moments_of_a_log_normal_built_from_transforms():
    mg.manual_seed(1)
    d = D.TransformedDistribution(D.Normal(0.2, 0.3), [D.ExpTransform()])
    s = d.sample((100000,)).numpy()
    ref = TD.LogNormal(0.2, 0.3)
    np.testing.assert_allclose(s.mean(), ref.mean.item(), rtol=0.01)
    np.testing.assert_allclose(s.std(), ref.stddev.item(), rtol=0.03)
    with pytest.raises(ValueError, match="Transform"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [lambda x: x])
