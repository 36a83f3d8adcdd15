"""minigrad.distributions against torch.distributions in float64: log_prob, entropy, moments,
cdf/icdf and their gradients with respect to the parameters; sample statistics; rsample
gradients; argument validation; expand; kl_divergence."""
import numpy as np
import pytest
import torch
import torch.distributions as TD

import minigrad as mg
import minigrad.distributions as D

R = np.random.default_rng(0)


def _pos(*shape):
    return R.uniform(0.5, 2.0, size=shape)


def _spd(k, batch=()):
    a = R.normal(size=batch + (k, k))
    return a @ np.swapaxes(a, -1, -2) + k * np.eye(k)


def _simplex(*shape):
    p = R.uniform(0.2, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


# name: (our class, torch class, {param: array}, value sampler(batch shape) -> array)
CASES = {
    "Normal": (D.Normal, TD.Normal, lambda: {"loc": R.normal(size=(3,)), "scale": _pos(3)},
               lambda: R.normal(size=(2, 3))),
    "Uniform": (D.Uniform, TD.Uniform, lambda: {"low": R.uniform(-2, -1, size=3), "high": R.uniform(1, 2, size=3)},
                lambda: R.uniform(-0.9, 0.9, size=(2, 3))),
    "Exponential": (D.Exponential, TD.Exponential, lambda: {"rate": _pos(3)}, lambda: _pos(2, 3)),
    "LogNormal": (D.LogNormal, TD.LogNormal, lambda: {"loc": R.normal(size=3) * 0.3, "scale": _pos(3) * 0.3},
                  lambda: _pos(2, 3)),
    "Poisson": (D.Poisson, TD.Poisson, lambda: {"rate": _pos(3) * 2}, lambda: R.integers(0, 6, size=(2, 3)) * 1.0),
    "Cauchy": (D.Cauchy, TD.Cauchy, lambda: {"loc": R.normal(size=3), "scale": _pos(3)},
               lambda: R.normal(size=(2, 3)) * 2),
    "HalfNormal": (D.HalfNormal, TD.HalfNormal, lambda: {"scale": _pos(3)}, lambda: _pos(2, 3)),
    "Binomial_probs": (D.Binomial, TD.Binomial, lambda: {"total_count": 7, "probs": R.uniform(0.2, 0.8, size=3)},
                       lambda: R.integers(0, 8, size=(2, 3)) * 1.0),
    "Binomial_logits": (D.Binomial, TD.Binomial, lambda: {"total_count": 5, "logits": R.normal(size=3)},
                        lambda: R.integers(0, 6, size=(2, 3)) * 1.0),
    "Geometric": (D.Geometric, TD.Geometric, lambda: {"probs": R.uniform(0.2, 0.8, size=3)},
                  lambda: R.integers(0, 6, size=(2, 3)) * 1.0),
    "Laplace": (D.Laplace, TD.Laplace, lambda: {"loc": R.normal(size=3), "scale": _pos(3)},
                lambda: R.normal(size=(2, 3)) + 3.0),
    "Bernoulli_probs": (D.Bernoulli, TD.Bernoulli, lambda: {"probs": R.uniform(0.2, 0.8, size=3)},
                        lambda: (R.uniform(size=(2, 3)) < 0.5).astype(float)),
    "Bernoulli_logits": (D.Bernoulli, TD.Bernoulli, lambda: {"logits": R.normal(size=3)},
                         lambda: (R.uniform(size=(2, 3)) < 0.5).astype(float)),
    "Categorical_probs": (D.Categorical, TD.Categorical, lambda: {"probs": _simplex(3, 4)},
                          lambda: R.integers(0, 4, size=(2, 3))),
    "Categorical_logits": (D.Categorical, TD.Categorical, lambda: {"logits": R.normal(size=(3, 4))},
                           lambda: R.integers(0, 4, size=(2, 3))),
    "OneHotCategorical": (D.OneHotCategorical, TD.OneHotCategorical, lambda: {"logits": R.normal(size=(3, 4))},
                          lambda: np.eye(4)[R.integers(0, 4, size=(2, 3))]),
    "Gamma": (D.Gamma, TD.Gamma, lambda: {"concentration": _pos(3) + 0.5, "rate": _pos(3)}, lambda: _pos(2, 3)),
    "Beta": (D.Beta, TD.Beta, lambda: {"concentration1": _pos(3), "concentration0": _pos(3)},
             lambda: R.uniform(0.1, 0.9, size=(2, 3))),
    "Dirichlet": (D.Dirichlet, TD.Dirichlet, lambda: {"concentration": _pos(3, 4)}, lambda: _simplex(2, 3, 4)),
    "MVN_cov": (D.MultivariateNormal, TD.MultivariateNormal,
                lambda: {"loc": R.normal(size=(2, 3)), "covariance_matrix": _spd(3, (2,))},
                lambda: R.normal(size=(4, 2, 3))),
    "MVN_tril": (D.MultivariateNormal, TD.MultivariateNormal,
                 lambda: {"loc": R.normal(size=3), "scale_tril": np.linalg.cholesky(_spd(3, (2,)))},
                 lambda: R.normal(size=(4, 2, 3))),
    "MVN_prec": (D.MultivariateNormal, TD.MultivariateNormal,
                 lambda: {"loc": R.normal(size=3), "precision_matrix": _spd(3)},
                 lambda: R.normal(size=(4, 3))),
}
NO_MOMENTS = {"Categorical_probs", "Categorical_logits", "Cauchy"}       # nan / inf in both


def _build(name):
    ours_cls, ref_cls, make_params, make_value = CASES[name]
    params = make_params()
    po = {k: mg.tensor(v, requires_grad=True) if isinstance(v, np.ndarray) else v for k, v in params.items()}
    pr = {k: torch.tensor(v, requires_grad=True) if isinstance(v, np.ndarray) else v for k, v in params.items()}
    return ours_cls(**po), ref_cls(**pr), po, pr, make_value()


def _close(a, b, what, rtol=1e-9, atol=1e-11):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol, err_msg=what)


def _grads_match(out_o, out_r, po, pr, what):
    out_o.sum().backward()
    out_r.sum().backward()
    for k in [k for k in po if isinstance(po[k], mg.Tensor)]:
        go = po[k].grad
        gr = pr[k].grad
        if gr is None:
            assert go is None or not np.any(go.numpy()), f"{what}: grad of {k}"
        else:
            np.testing.assert_allclose(go.numpy(), gr.numpy(), rtol=1e-8, atol=1e-9, err_msg=f"{what}: grad {k}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_and_grad(name):
    do, dr, po, pr, value = _build(name)
    assert do.batch_shape == tuple(dr.batch_shape) and do.event_shape == tuple(dr.event_shape)
    vo = mg.tensor(value) if "Categorical_" not in name else mg.tensor(value.astype(np.int64))
    lo, lr = do.log_prob(vo), dr.log_prob(torch.tensor(value))
    _close(lo, lr, f"{name} log_prob")
    _grads_match(lo, lr, po, pr, f"{name} log_prob")


@pytest.mark.parametrize("name", sorted(set(CASES) - {"Poisson", "Binomial_probs", "Binomial_logits"}))
def test_entropy_and_grad(name):
    do, dr, po, pr, _ = _build(name)
    _close(do.entropy(), dr.entropy(), f"{name} entropy")
    _grads_match(do.entropy(), dr.entropy(), po, pr, f"{name} entropy")


@pytest.mark.parametrize("name", sorted(set(CASES) - NO_MOMENTS))
def test_moments_and_grad(name):
    do, dr, po, pr, _ = _build(name)
    _close(do.mean, dr.mean, f"{name} mean")
    _close(do.variance, dr.variance, f"{name} variance")
    _close(do.stddev, dr.stddev, f"{name} stddev")
    _grads_match(do.mean + do.variance * 2, dr.mean + dr.variance * 2, po, pr, f"{name} moments")


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace", "LogNormal", "Cauchy",
                                  "HalfNormal"])
def test_cdf_icdf_and_grad(name):
    do, dr, po, pr, value = _build(name)
    _close(do.cdf(mg.tensor(value)), dr.cdf(torch.tensor(value)), f"{name} cdf")
    q = R.uniform(0.05, 0.95, size=(2, 3))
    _close(do.icdf(mg.tensor(q)), dr.icdf(torch.tensor(q)), f"{name} icdf")
    _grads_match(do.cdf(mg.tensor(value)) + do.icdf(mg.tensor(q)), dr.cdf(torch.tensor(value)) +
                 dr.icdf(torch.tensor(q)), po, pr, f"{name} cdf+icdf")


@pytest.mark.parametrize("name", sorted(set(CASES) - {"Cauchy"}))    # no moments to compare
def test_sample_statistics(name):
    mg.manual_seed(1)
    do, dr, *_ = _build(name)
    s = do.sample((40000,))
    assert tuple(s.shape) == (40000,) + do.batch_shape + do.event_shape
    arr = s.numpy().astype(np.float64)
    if "Categorical_" in name:                       # frequencies against the probabilities
        k = do.probs.shape[-1]
        freq = (arr[..., None] == np.arange(k)).mean(0)
        np.testing.assert_allclose(freq, do.probs.detach().numpy(), atol=0.015)
        return
    mean, std = dr.mean.detach().numpy(), dr.stddev.detach().numpy()
    np.testing.assert_allclose(arr.mean(0), mean, atol=4 * std.max() / np.sqrt(40000) * 3)
    np.testing.assert_allclose(arr.std(0), std, rtol=0.05, atol=0.01)


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace", "LogNormal", "HalfNormal", "MVN_tril",
                                  "MVN_cov"])
def test_rsample_gradient_is_the_analytic_one(name):
    """d E[f(x)]/d theta through rsample equals the exact derivative (f(x) = x^2, whose mean is
    mean^2 + variance), by Monte Carlo with many samples."""
    mg.manual_seed(2)
    do, dr, po, pr, _ = _build(name)
    assert do.has_rsample
    x = do.rsample((200000,))
    assert x.requires_grad
    (x ** 2).mean(0).sum().backward()
    exact = (dr.mean ** 2 + dr.variance).sum()
    exact.backward()
    for k in po:
        # atol: about 5 Monte-Carlo standard errors
        np.testing.assert_allclose(po[k].grad.numpy(), pr[k].grad.numpy(), rtol=0.05, atol=0.08, err_msg=k)
    assert not do.sample((3,)).requires_grad


def test_lazy_module_attribute():
    assert mg.distributions.Normal is D.Normal and mg.func.grad is not None


def test_no_rsample_for_gamma_family():
    for d in (D.Gamma(2.0, 1.0), D.Beta(2.0, 3.0), D.Dirichlet(mg.ones(3))):
        assert not d.has_rsample
        with pytest.raises(NotImplementedError):
            d.rsample()


def test_validation_messages():
    with pytest.raises(ValueError, match="scale .* to satisfy the constraint GreaterThan"):
        D.Normal(0.0, mg.tensor([1.0, -1.0]))
    D.Normal(0.0, mg.tensor([1.0, -1.0]), validate_args=False)
    with pytest.raises(ValueError, match="within the support"):
        D.Exponential(1.0).log_prob(mg.tensor([-1.0]))
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Bernoulli()
    with pytest.raises(ValueError, match="within the support"):
        D.Categorical(logits=mg.zeros(3)).log_prob(mg.tensor([3]))
    with pytest.raises(ValueError, match="Exactly one"):
        D.MultivariateNormal(mg.zeros(2))
    with pytest.raises(ValueError, match="probs .* Simplex"):
        D.Categorical(probs=mg.tensor([[0.5, -0.1]]))
    with pytest.raises(ValueError, match="Uniform|LessThan"):
        D.Uniform(1.0, 0.0)


def test_expand_and_independent():
    loc, scale = R.normal(size=3), _pos(3)
    d = D.Normal(mg.tensor(loc), mg.tensor(scale)).expand((2, 3))
    r = TD.Normal(torch.tensor(loc), torch.tensor(scale)).expand((2, 3))
    v = R.normal(size=(2, 3))
    assert d.batch_shape == (2, 3)
    _close(d.log_prob(mg.tensor(v)), r.log_prob(torch.tensor(v)), "expand")
    io, ir = D.Independent(d, 1), TD.Independent(r, 1)
    assert io.batch_shape == (2,) and io.event_shape == (3,)
    _close(io.log_prob(mg.tensor(v)), ir.log_prob(torch.tensor(v)), "Independent log_prob")
    _close(io.entropy(), ir.entropy(), "Independent entropy")
    e = D.Categorical(logits=mg.tensor(R.normal(size=4))).expand((5,))
    assert e.batch_shape == (5,) and e.sample().shape == (5,)


KL_PAIRS = ["Poisson", "Normal", "Bernoulli_logits", "Bernoulli_probs", "Categorical_logits", "Exponential", "Laplace",
            "Gamma", "Beta", "Dirichlet", "MVN_cov", "MVN_tril", "OneHotCategorical"]


@pytest.mark.parametrize("name", KL_PAIRS)
def test_kl_divergence_and_grad(name):
    po_d, pr_d, po, pr, _ = _build(name)
    qo_d, qr_d, qo, qr, _ = _build(name)
    ko, kr = D.kl_divergence(po_d, qo_d), TD.kl_divergence(pr_d, qr_d)
    _close(ko, kr, f"KL {name}")
    _grads_match(ko, kr, {**{"p" + k: v for k, v in po.items()}, **{"q" + k: v for k, v in qo.items()}},
                 {**{"p" + k: v for k, v in pr.items()}, **{"q" + k: v for k, v in qr.items()}}, f"KL {name}")


def test_kl_uniform_and_errors():
    p, q = D.Uniform(mg.tensor([0.0, 0.0]), mg.tensor([1.0, 1.0])), D.Uniform(mg.tensor([-1.0, 0.5]),
                                                                               mg.tensor([2.0, 3.0]))
    tp, tq = TD.Uniform(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0])), TD.Uniform(torch.tensor([-1.0, 0.5]),
                                                                                          torch.tensor([2.0, 3.0]))
    np.testing.assert_allclose(D.kl_divergence(p, q).numpy(), TD.kl_divergence(tp, tq).numpy())
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Exponential(1.0))
