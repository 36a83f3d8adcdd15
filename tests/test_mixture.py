"""MixtureSameFamily against torch.distributions in float64."""
import numpy as np
import pytest
import torch
import torch.distributions as TD

import minigrad as mg
import minigrad.distributions as D

R = np.random.default_rng(5)


def _pair(multivariate):
    logits = R.normal(size=(2, 3))
    loc = R.normal(size=(2, 3, 2) if multivariate else (2, 3))
    scale = R.uniform(0.5, 1.5, size=loc.shape)
    po = {k: mg.tensor(v, requires_grad=True) for k, v in (("logits", logits), ("loc", loc), ("scale", scale))}
    pr = {k: torch.tensor(v, requires_grad=True) for k, v in (("logits", logits), ("loc", loc), ("scale", scale))}
    comp_o, comp_r = D.Normal(po["loc"], po["scale"]), TD.Normal(pr["loc"], pr["scale"])
    if multivariate:
        comp_o, comp_r = D.Independent(comp_o, 1), TD.Independent(comp_r, 1)
    return (D.MixtureSameFamily(D.Categorical(logits=po["logits"]), comp_o),
            TD.MixtureSameFamily(TD.Categorical(logits=pr["logits"]), comp_r), po, pr)


@pytest.mark.parametrize("multivariate", [False, True])
def test_log_prob_moments_and_grads(multivariate):
    do, dr, po, pr = _pair(multivariate)
    assert do.batch_shape == tuple(dr.batch_shape) and do.event_shape == tuple(dr.event_shape)
    x = R.normal(size=(4, 2, 2) if multivariate else (4, 2))
    lo, lr = do.log_prob(mg.tensor(x)), dr.log_prob(torch.tensor(x))
    np.testing.assert_allclose(lo.detach().numpy(), lr.detach().numpy(), rtol=1e-10)
    for name in ("mean", "variance"):
        np.testing.assert_allclose(getattr(do, name).detach().numpy(), getattr(dr, name).detach().numpy(),
                                   rtol=1e-10, err_msg=name)
    (lo.sum() + do.variance.sum()).backward()
    (lr.sum() + dr.variance.sum()).backward()
    for k in po:
        np.testing.assert_allclose(po[k].grad.numpy(), pr[k].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    if not multivariate:
        np.testing.assert_allclose(do.cdf(mg.tensor(x)).detach().numpy(), dr.cdf(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10)


@pytest.mark.parametrize("multivariate", [False, True])
def test_sample_moments(multivariate):
    mg.manual_seed(4)
    do, dr, _, _ = _pair(multivariate)
    s = do.sample((60000,))
    assert tuple(s.shape) == (60000,) + do.batch_shape + do.event_shape
    arr = s.numpy()
    np.testing.assert_allclose(arr.mean(0), dr.mean.detach().numpy(), atol=0.03)
    np.testing.assert_allclose(arr.var(0), dr.variance.detach().numpy(), rtol=0.05)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(mg.zeros(3), mg.ones(3)))
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(logits=mg.zeros(2)), D.Normal(mg.zeros(3), mg.ones(3)))
