"""minigrad.special (torch.special) beyond the registry: the namespace and its aliases, the kernels
over wide ranges (far tails, large arguments, edges) against their references and against PyTorch,
dtype rules, and gradients at the special points (0 for i1/i1e and entr, the masks of xlog1py)."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.kernels import special as kernels

NEW = ["ndtr", "log_ndtr", "ndtri", "erfcx", "i0", "i0e", "i1", "i1e", "entr"]
WIDE = np.concatenate([np.linspace(-40, 40, 1601), [0.0, -0.0, 1e-300, -1e-300, 1e-8, -1e-8, 24.9, 25.0, 25.1,
                                                    26.0, 100.0, -100.0, 700.0, 712.0, -713.0, 720.0, 1e5, -1e5,
                                                    np.inf, -np.inf, np.nan]])
PROBABILITIES = np.concatenate([np.linspace(0, 1, 2001), [1e-300, 5e-324, 1e-100, 1e-20, 1 - 1e-16, 0.25, 0.75,
                                                          np.nextafter(0.25, 0), np.nextafter(0.75, 1), -0.1, 1.1,
                                                          np.nan]])


def _inputs(name):
    return PROBABILITIES if name == "ndtri" else WIDE


def _assert_close(got, want, rtol, atol=0.0):
    got, want = np.asarray(got), np.asarray(want)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(invalid="ignore"):
        close = np.abs(got - want) <= rtol * np.abs(want) + atol
    bad = ~(same | close)
    assert not bad.any(), list(zip(got[bad][:5], want[bad][:5]))


# ----------------------------------------------------------------------------- the namespace
def test_special_is_a_module_and_an_attribute():
    import minigrad.special as sp
    assert mg.special is sp


def test_the_torch_special_names_are_the_existing_ops():
    sp = mg.special
    assert sp.expit is mg.sigmoid and sp.erf is mg.erf and sp.erfc is mg.erfc and sp.erfinv is mg.erfinv
    assert sp.gammaln is mg.lgamma and sp.digamma is sp.psi is mg.digamma and sp.polygamma is mg.polygamma
    assert sp.xlogy is mg.xlogy and sp.logit is mg.logit and sp.sinc is mg.sinc and sp.multigammaln is mg.mvlgamma
    assert sp.log1p is mg.log1p and sp.expm1 is mg.expm1 and sp.exp2 is mg.exp2 and sp.logsumexp is mg.logsumexp
    assert sp.modified_bessel_i0 is sp.i0 and sp.modified_bessel_i1 is sp.i1 and mg.i0 is sp.i0   # torch.i0 too
    assert all(hasattr(sp, name) for name in sp.__all__)


def test_softmax_round_and_friends_take_torch_specials_signatures(torch):
    x = np.random.default_rng(0).normal(size=(3, 4))
    t = torch.tensor(x)
    np.testing.assert_allclose(mg.special.softmax(mg.tensor(x), 1).numpy(), torch.special.softmax(t, 1).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(mg.special.log_softmax(mg.tensor(x), 0, dtype=mg.float32).numpy(),
                               torch.special.log_softmax(t, 0, dtype=torch.float32).numpy(), rtol=1e-6)
    assert mg.special.log_softmax(mg.tensor(x), 0, dtype=mg.float32).dtype == mg.float32
    np.testing.assert_array_equal(mg.special.round(mg.tensor(x), decimals=1).numpy(),
                                  torch.special.round(t, decimals=1).numpy())
    with pytest.raises(TypeError):
        mg.special.softmax(mg.tensor(x))              # dim is required, as in torch.special


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("name", ["log_ndtr", "ndtri", "erfcx", "i0", "i0e", "i1", "i1e"])
def test_kernels_match_pytorch_over_wide_ranges(name, torch):
    x = _inputs(name)
    got = getattr(kernels, name)(x)
    want = getattr(torch.special, name)(torch.tensor(x, dtype=torch.float64)).numpy()
    # PyTorch's erfcx for x < 0 is 2 exp(x^2) - erfcx(-x), which loses ~1e-14 near -26 (ours agrees with mpmath)
    _assert_close(got, want, 1e-13 if name == "erfcx" else 1e-12)


@pytest.mark.parametrize("name", ["ndtr", "entr"])
def test_elementwise_ops_match_pytorch_over_wide_ranges(name, torch):
    x = WIDE
    got = getattr(mg.special, name)(mg.tensor(x)).numpy()
    want = getattr(torch.special, name)(torch.tensor(x)).numpy()
    if name == "ndtr":
        # PyTorch's is (1 + erf(x / sqrt 2)) / 2: absolute accuracy only (0 below -8.37); ours, by erfc, is relative
        _assert_close(got, 0.5 * kernels.erfc_ref(-x / math.sqrt(2)), 1e-12)
        got, want = got[x > -1], want[x > -1]
    _assert_close(got, want, 1e-12)


@pytest.mark.parametrize("name", ["log_ndtr", "erfcx", "i0", "i0e", "i1", "i1e", "ndtri"])
def test_kernels_match_their_references(name):
    """The references (a continued fraction, the trapezoid rule on the Bessel integrals, bisection) are
    other algorithms; compared where they are accurate themselves."""
    x = np.linspace(1e-4, 1 - 1e-4, 999) if name == "ndtri" else np.linspace(-37.0, 37.0, 1481)
    got, ref = getattr(kernels, name)(x), getattr(kernels, name + "_ref")(x)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 if name == "ndtri" else 0)


def test_log_ndtr_in_the_far_left_tail(torch):
    x = np.array([-30.0, -40.0, -100.0, -1e4, -1e10])
    got = mg.special.log_ndtr(mg.tensor(x)).numpy()
    np.testing.assert_allclose(got, torch.special.log_ndtr(torch.tensor(x)).numpy(), rtol=1e-14)
    # log Phi(x) = -x^2/2 - log(-x sqrt(2 pi)) - a + 5a^2/2 - 37a^3/3 + O(a^4), a = 1/x^2: exp underflows, its log not
    a = 1 / 900
    assert abs(got[0] - (-450.0 - math.log(30 * math.sqrt(2 * math.pi)) - a + 2.5 * a * a - 37 / 3 * a ** 3)) < 1e-9
    assert np.isfinite(got).all()


def test_ndtri_inverts_ndtr_into_both_tails():
    p = np.array([1e-300, 1e-50, 1e-10, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-12])
    x = kernels.ndtri(p)
    np.testing.assert_allclose(np.exp(kernels.log_ndtr(x)), p, rtol=1e-11)
    edges = kernels.ndtri(np.array([0.0, 1.0, -0.5, 1.5, np.nan]))
    assert edges[0] == -np.inf and edges[1] == np.inf and np.isnan(edges[2:]).all()


def test_erfcx_is_finite_for_large_arguments():
    x = np.array([30.0, 1e3, 1e8, 1e150])
    np.testing.assert_allclose(kernels.erfcx(x), 1 / (x * math.sqrt(math.pi)) * (1 - 1 / (2 * x * x)), rtol=1e-5)
    assert kernels.erfcx(np.array([-27.0]))[0] == np.inf


def test_bessel_symmetry_and_overflow():
    x = np.array([0.3, 2.0, 24.99, 25.01, 300.0])
    np.testing.assert_array_equal(kernels.i0(-x), kernels.i0(x))
    np.testing.assert_array_equal(kernels.i1(-x), -kernels.i1(x))
    assert np.isfinite(kernels.i0(np.array([713.0]))).all() and kernels.i0(np.array([720.0]))[0] == np.inf
    np.testing.assert_allclose(kernels.i0e(np.array([1e6])), 1 / math.sqrt(2 * math.pi * 1e6), rtol=1e-6)


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("size", [0, 5, 1 << 17])           # the last takes the parallel path
def test_float32_stays_float32_and_integers_promote(name, size):
    x = np.linspace(0.01, 0.99, size) if name == "ndtri" else np.linspace(-3, 3, size)
    fn = getattr(mg.special, name)
    out32 = fn(mg.tensor(x.astype(np.float32)))
    assert out32.dtype == mg.float32 and out32.shape == (size,)
    np.testing.assert_allclose(out32.numpy(), fn(mg.tensor(x)).numpy().astype(np.float32), rtol=1e-5, atol=1e-6)
    ints = mg.tensor([0, 1, 2]) if name != "ndtri" else mg.tensor([0, 1])
    assert fn(ints).dtype == mg.get_default_dtype()


@pytest.mark.parametrize("name", [n for n in NEW if n != "entr"])
def test_float16_is_refused_by_name(name):
    with pytest.raises(TypeError, match=name):
        getattr(mg.special, name)(mg.tensor([0.5], dtype=mg.float16))


def test_xlog1py_numbers_dtypes_and_zeros(torch):
    sp = mg.special
    assert sp.xlog1py(mg.tensor([1, 2]), 3).dtype == mg.get_default_dtype()
    x32 = mg.tensor([1.0, 2.0], dtype=mg.float32, requires_grad=True)
    y = sp.xlog1py(x32, 3)
    y.sum().backward()
    assert y.dtype == x32.grad.dtype == mg.float32
    np.testing.assert_allclose(x32.grad.numpy(), [math.log(4)] * 2, rtol=1e-6)
    np.testing.assert_allclose(sp.xlog1py(2, mg.tensor([1.0, 2.0])).numpy(), 2 * np.log1p([1.0, 2.0]))
    x, z = np.array([0.0, 0.0, 0.0, 1.5]), np.array([-1.0, np.nan, 3.0, -1.0])
    np.testing.assert_array_equal(sp.xlog1py(mg.tensor(x), mg.tensor(z)).numpy(),
                                  torch.special.xlog1py(torch.tensor(x), torch.tensor(z)).numpy())


# ----------------------------------------------------------------------------- gradients at the special points
def _grads(fn, x, order=1):
    t = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    (g,) = mg.autograd.grad(fn(t).sum(), [t], create_graph=order > 1)
    if order == 2:
        (g,) = mg.autograd.grad(g.sum(), [t])
    return g.numpy()


def _torch_grads(torch, fn, x, order=1):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(fn(t).sum(), [t], create_graph=order > 1)
    if order == 2:
        (g,) = torch.autograd.grad(g.sum(), [t])
    return g.numpy()


@pytest.mark.parametrize("name", ["i1", "i1e"])
def test_i1_gradients_at_and_near_zero(name, torch):
    fn = getattr(mg.special, name)
    x = np.array([0.0, 1e-12, -1e-12, 5e-4, -5e-4, 2e-3, 0.7, -3.0])
    np.testing.assert_allclose(_grads(fn, x), _torch_grads(torch, getattr(torch.special, name), x), rtol=1e-13)
    second = _grads(fn, x, 2)
    # near 0 the second derivative by the series: I_1'' = 3x/8 + O(x^3), (i1e)'' = -sign(x) + O(x)
    # (PyTorch's, I_0 - I_1/x differentiated, cancels there)
    lead = 3 * x / 8 if name == "i1" else -np.sign(x)
    np.testing.assert_allclose(second[1:5], lead[1:5], rtol=1e-2, atol=1e-15)
    far = np.abs(x) > 0.5                              # PyTorch's loses 2e-10 already at x = 2e-3
    np.testing.assert_allclose(second[far], _torch_grads(torch, getattr(torch.special, name), x, 2)[far], rtol=1e-10)


def test_entr_and_log_ndtr_gradients_match_pytorch_at_the_edges(torch):
    x = np.array([0.0, -1.0, 0.5, 2.0])
    np.testing.assert_array_equal(_grads(mg.special.entr, x), _torch_grads(torch, torch.special.entr, x))
    x = np.array([-30.0, -100.0, -5.0, 0.0, 8.0])
    np.testing.assert_allclose(_grads(mg.special.log_ndtr, x), _torch_grads(torch, torch.special.log_ndtr, x),
                               rtol=1e-12)


def test_xlog1py_gradient_masks_match_pytorch(torch):
    x, z = np.array([0.0, 0.0, 2.0, 1.0]), np.array([-1.0, 0.5, 0.5, -0.5])
    mx, mz = mg.tensor(x, requires_grad=True), mg.tensor(z, requires_grad=True)
    mg.special.xlog1py(mx, mz).sum().backward()
    tx, tz = torch.tensor(x, requires_grad=True), torch.tensor(z, requires_grad=True)
    torch.special.xlog1py(tx, tz).sum().backward()
    np.testing.assert_array_equal(mx.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(mz.grad.numpy(), tz.grad.numpy(), rtol=1e-15)


# ----------------------------------------------------------------------------- zeta, gammainc, gammaincc
def test_zeta_matches_pytorch_and_its_reference(torch):
    rng = np.random.default_rng(0)
    s = np.concatenate([rng.uniform(1.01, 10, 400), rng.uniform(10, 120, 100), [2.0, 1.0, 0.5, 3.0, 3.0, 2.0, 4.0]])
    q = np.concatenate([rng.uniform(0.01, 20, 400), rng.uniform(0.05, 3, 100), [1.0, 1.0, 1.0, -1.5, -2.0, 0.0, -3.7]])
    got = mg.special.zeta(mg.tensor(s), mg.tensor(q)).numpy()
    _assert_close(got, torch.special.zeta(torch.tensor(s), torch.tensor(q)).numpy(), 1e-13)
    assert got[-7] == pytest.approx(math.pi ** 2 / 6, rel=1e-15) and got[-6] == np.inf and np.isnan(got[-5])
    _assert_close(got[:500], kernels.zeta_ref(s[:500], q[:500]), 1e-13)


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma_matches_pytorch_and_its_reference(name, torch):
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.uniform(1e-3, 0.5, 300), rng.uniform(0.5, 20, 300), [0.0, 1.0, 0.0, -1.0, 2.0, 1.0]])
    x = np.concatenate([rng.uniform(1e-4, 1.5, 300), rng.uniform(0, 30, 300), [1.0, 0.0, 0.0, 1.0, -1.0, np.inf]])
    got = getattr(mg.special, name)(mg.tensor(a), mg.tensor(x)).numpy()
    _assert_close(got, getattr(torch.special, name)(torch.tensor(a), torch.tensor(x)).numpy(), 5e-13)
    np.testing.assert_allclose(got[:600], getattr(kernels, name + "_ref")(a[:600], x[:600]), rtol=1e-12, atol=1e-14)


def test_incomplete_gamma_upper_tail_for_small_a_without_cancellation():
    """Q(a, x) for tiny a is a E_1(x) + ...: computed directly, not as 1 - P (which keeps ~7 digits at a = 1e-10)."""
    q = kernels.gammaincc(np.array([1e-10, 1e-3]), np.array([1e-10, 0.5]))
    np.testing.assert_allclose(q, [2.244863524002411e-09, 5.600666564707498e-04], rtol=1e-11)   # mpmath, 40 digits


@pytest.mark.parametrize("name", ["zeta", "gammainc", "gammaincc"])
def test_only_the_second_argument_is_differentiable(name, torch):
    a = mg.tensor([2.5, 1.7], dtype=mg.float64, requires_grad=True)
    x = mg.tensor([0.8, 2.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match=name):
        getattr(mg.special, name)(a, x).sum().backward()
    (g,) = mg.autograd.grad(getattr(mg.special, name)(a.detach(), x).sum(), [x])
    tx = torch.tensor([0.8, 2.0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(getattr(torch.special, name)(torch.tensor([2.5, 1.7], dtype=torch.float64), tx).sum(),
                                [tx])
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12)


def test_two_argument_functions_take_numbers_and_promote_integers():
    assert mg.special.zeta(mg.tensor([2, 3]), 1).dtype == mg.get_default_dtype()
    np.testing.assert_allclose(mg.special.zeta(2.0, mg.tensor([1.0], dtype=mg.float64)).numpy(), [math.pi ** 2 / 6])
    out = mg.special.gammainc(mg.tensor([1.0], dtype=mg.float32), 2.0)
    assert out.dtype == mg.float32 and out.item() == pytest.approx(1 - math.exp(-2), rel=1e-6)
    assert mg.special.gammaincc(mg.tensor(1.0, dtype=mg.float64), mg.tensor(2.0, dtype=mg.float64)).shape == ()


# ----------------------------------------------------------------------------- bessel_j0, bessel_j1 (no gradient)
@pytest.mark.parametrize("n", [0, 1])
def test_bessel_j_against_its_reference_and_pytorch(n, torch):
    x = np.concatenate([np.linspace(-60, 60, 4801), [0.0, 1e-300, -1e-8, 2.0, 24.99, 25.01, 1e5, 1e10, np.inf, np.nan]])
    got = getattr(mg.special, f"bessel_j{n}")(mg.tensor(x)).numpy()
    small = np.abs(x) <= 200
    np.testing.assert_allclose(got[small], getattr(kernels, f"j{n}_ref")(x[small]), rtol=0, atol=2e-15)
    # PyTorch's is off by up to 4.6e-7 for |x| in about [5, 8] (ours agrees with mpmath to 2e-16 there), 2e-12 at 1e10
    want = getattr(torch.special, f"bessel_j{n}")(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=5e-7)
    if n == 1:
        assert got[4801 + 1] == 5e-301 and got[4801 + 2] == -5e-9      # the series: relative accuracy near 0


def test_bessel_j_has_no_gradient_and_promotes_integers():
    x = mg.tensor([0.5, 3.0], requires_grad=True)
    assert not mg.special.bessel_j0(x).requires_grad and not mg.special.bessel_j1(x).requires_grad
    assert mg.special.bessel_j0(mg.tensor([1, 2])).dtype == mg.get_default_dtype()
    assert mg.special.bessel_j1(mg.tensor([1.0], dtype=mg.float32)).dtype == mg.float32
    with pytest.raises(TypeError, match="bessel_j0"):
        mg.special.bessel_j0(mg.tensor([0.5], dtype=mg.float16))


@pytest.mark.parametrize("name", ["zeta", "gammainc", "gammaincc"])
def test_two_argument_kernels_parallel_path_and_broadcasting(name):
    n = 1 << 17                                                   # the threaded loop
    a = np.linspace(1.5, 4.0, n)
    x = np.linspace(0.1, 6.0, n)
    fn = getattr(kernels, name)
    big = fn(a, x)
    picks = np.arange(0, n, 4099)
    np.testing.assert_array_equal(big[picks], fn(a[picks], x[picks]))
    out = fn(np.array([[2.0], [3.0]], np.float32), np.array([0.5, 1.0, 2.0], np.float32))
    assert out.shape == (2, 3) and out.dtype == np.float32
    with pytest.raises(TypeError, match=name):
        fn(np.ones(2, np.float32), np.ones(2))
