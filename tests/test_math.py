"""ops/math.py and ops/scan.py beyond the registry: special-function kernels against references,
edge values (zeros, poles, NaN, infinities), integer dtypes, zero gradients of rounding ops,
products and scans with zeros, var/std with correction >= N; against PyTorch where it is installed."""
import math
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad.kernels import special

FLOATS = [np.float32, np.float64]


# ----------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfc"])
@pytest.mark.parametrize("size", [0, 7, 1 << 17])          # the last takes the parallel path
def test_special_kernels_match_references(name, dtype, size):
    x = np.linspace(-4.7, 9.3, size).astype(dtype)
    got, ref = getattr(special, name)(x), getattr(special, name + "_ref")(x)
    assert got.dtype == dtype and got.shape == x.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", FLOATS)
def test_erfinv_kernel_matches_bisection_and_inverts_erf(dtype):
    y = np.linspace(-0.999, 0.999, 101).astype(dtype)
    got = special.erfinv(y)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, special.erfinv_ref(y), rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-12)
    x = np.array([1e-300, 1e-8, 0.3, 2.5, 3.0])      # beyond ~3, erf's rounding alone moves the inverse
    np.testing.assert_allclose(special.erfinv(np.vectorize(math.erf)(x)), x, rtol=1e-11)
    edges = special.erfinv(np.array([1.0, -1.0, 1.5, np.nan, 0.0, -0.0]))
    assert edges[0] == np.inf and edges[1] == -np.inf and np.isnan(edges[2:4]).all() and edges[4] == 0


def test_polygamma_kernel_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    x = np.array([0.1, 0.7, 1.0, 3.3, 14.9, 15.0, 40.0, 1e3])
    for n in (1, 2, 3, 5):
        expected = np.array([float(mpmath.polygamma(n, v)) for v in x])
        np.testing.assert_allclose(special.polygamma(n, x), expected, rtol=1e-13)
        np.testing.assert_allclose(special.polygamma_ref(n, x), expected, rtol=1e-13)
    np.testing.assert_allclose(special.digamma(x), [float(mpmath.digamma(v)) for v in x], rtol=1e-13)


def test_special_kernels_validate_before_the_loop():
    with pytest.raises(TypeError, match="expected float32 or float64"):
        special.digamma(np.ones(3, np.int64))
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        special.polygamma(0, np.ones(3))
    with pytest.raises(ValueError, match="non-negative integer"):
        mg.polygamma(-1, mg.ones(3))


def test_gamma_family_at_poles_and_negative_values(torch):
    x = np.array([0.0, -1.0, -2.5, -0.5, 1e-8, 30.0])
    for name in ("lgamma", "digamma"):
        got = getattr(mg, name)(mg.tensor(x)).numpy()
        np.testing.assert_allclose(got, getattr(torch, name)(torch.tensor(x)).numpy(), rtol=1e-12, equal_nan=True)


# ----------------------------------------------------------------------------- dtypes and edge values
def test_float_ops_promote_integers_and_keep_float32():
    assert mg.sin(mg.tensor([1, 2])).dtype == mg.float32
    assert mg.lgamma(mg.tensor([1.5], dtype=mg.float32)).dtype == mg.float32
    assert mg.atan2(mg.tensor([1, 2]), mg.tensor([3, 4])).dtype == mg.float32
    assert mg.square(mg.tensor([2, -3])).dtype == mg.int64


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign"])
def test_rounding_keeps_integers(name):
    out = getattr(mg, name)(mg.tensor([3, -2, 0]))
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(out.numpy(), [1, -1, 0] if name == "sign" else [3, -2, 0])


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign", "frac"])
def test_rounding_gradients_are_zero_or_one(name, torch):
    values = [1.25, -2.5, 0.5, 3.0]
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    getattr(mg, name)(x).sum().backward()
    getattr(torch, name)(t).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(getattr(mg, name)(x).detach().numpy(), getattr(torch, name)(t).detach().numpy())


def test_round_decimals_and_half_to_even(torch):
    v = np.array([0.5, 1.5, 2.5, -0.5, 1.2345, 1234.5, -0.05])
    for decimals in (0, 1, 2, -1, -2):
        np.testing.assert_allclose(mg.round(mg.tensor(v), decimals=decimals).numpy(),
                                   torch.round(torch.tensor(v), decimals=decimals).numpy(), rtol=1e-15)


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounded_division_matches_pytorch_on_integers_and_floats(mode, torch):
    a, b = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    got = mg.div(mg.tensor(a), mg.tensor(b), rounding_mode=mode)
    assert got.dtype == mg.int64
    np.testing.assert_array_equal(got.numpy(), torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode).numpy())
    fa, fb = a * 1.25, b * 0.5
    np.testing.assert_array_equal(mg.div(mg.tensor(fa), mg.tensor(fb), rounding_mode=mode).numpy(),
                                  torch.div(torch.tensor(fa), torch.tensor(fb), rounding_mode=mode).numpy())
    with pytest.raises(ValueError, match="rounding_mode"):
        mg.div(mg.tensor(fa), 2.0, rounding_mode="round")


def test_remainders_and_operators(torch):
    a, b = np.array([5, -5, 5, -5]), np.array([3, 3, -3, -3])
    for name in ("fmod", "remainder", "floor_divide"):
        np.testing.assert_array_equal(getattr(mg, name)(mg.tensor(a), mg.tensor(b)).numpy(),
                                      getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    x = mg.tensor([5.5, -5.5])
    np.testing.assert_array_equal((x % 2).numpy(), [1.5, 0.5])
    np.testing.assert_array_equal((x // 2).numpy(), [2.0, -3.0])
    np.testing.assert_array_equal((7 % mg.tensor([4, -4])).numpy(), [3, -1])
    with pytest.raises(ZeroDivisionError, match="fmod: integer division by zero"):
        mg.fmod(mg.tensor([1, 2]), mg.tensor([1, 0]))


def test_xlogy_at_zero_and_nan(torch):
    x, y = np.array([0.0, 0.0, 2.0, 0.0]), np.array([0.0, np.nan, 3.0, 2.0])
    got = mg.xlogy(mg.tensor(x, requires_grad=True), mg.tensor(y))
    np.testing.assert_array_equal(got.detach().numpy(), torch.xlogy(torch.tensor(x), torch.tensor(y)).numpy())
    assert mg.xlogy(2, mg.tensor([math.e])).item() == pytest.approx(2.0)


@pytest.mark.parametrize("other", [5.0, 0.0, -1.0, [5.0, 0.0, -1.0], [np.nan]], ids=str)
def test_xlogy_gradient_and_dtype_as_pytorch(torch, other):
    """d/dx x log(z) is log(z) also at x == 0, masked to 0 only where z <= 0 (PyTorch's rule); a number z keeps
    the tensor's float32 (a NumPy float64 log made it float64)."""
    x = [0.0, 2.0, 0.0]
    grads = []
    for lib in (mg, torch):
        xs = lib.tensor(x, requires_grad=True)
        z = lib.tensor(other) if isinstance(other, list) else other
        out = lib.xlogy(xs, z)
        assert str(out.dtype).endswith("float32")
        out.sum().backward()
        grads.append(xs.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    assert mg.special.xlogy(mg.tensor([1, 2]), 4).dtype == mg.float32


def test_nan_to_num_defaults_are_the_dtype_extremes():
    for dtype in (mg.float32, mg.float64):
        out = mg.nan_to_num(mg.tensor([np.nan, np.inf, -np.inf, 1.0], dtype=dtype)).numpy()
        info = np.finfo(dtype)
        np.testing.assert_array_equal(out, np.array([0.0, info.max, info.min, 1.0], dtype=dtype))


def test_copysign_sinc_and_lerp_edges(torch):
    a = mg.tensor([0.0, 2.0, -3.0], dtype=mg.float64, requires_grad=True)
    t = torch.tensor([0.0, 2.0, -3.0], dtype=torch.float64, requires_grad=True)
    other = [-1.0, -0.0, 4.0]
    mg.copysign(a, mg.tensor(other, dtype=mg.float64)).sum().backward()
    torch.copysign(t, torch.tensor(other, dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
    x = mg.tensor([0.0, 1e-9, 1e-4], dtype=mg.float64, requires_grad=True)
    mg.sinc(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -(math.pi ** 2) / 3 * x.detach().numpy(), rtol=1e-7, atol=0)
    assert mg.lerp(mg.tensor([1.0]), mg.tensor([3.0]), 1.0).item() == 3.0


# ----------------------------------------------------------------------------- products and scans with zeros
@pytest.mark.parametrize("zeros", [[], [1], [1, 4]])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_with_zeros_matches_pytorch(zeros, dim, torch):
    values = np.arange(1.0, 9.0).reshape(2, 4) * 0.5
    values.reshape(-1)[zeros] = 0
    x = mg.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    (x.prod() if dim is None else x.prod(dim)).sum().backward()
    (t.prod() if dim is None else t.prod(dim)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_prod_one_zero_differentiates_again():
    x = mg.tensor([2.0, 0.0, 3.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradgradcheck(lambda v: v.prod(), (x,))


@pytest.mark.parametrize("zeros", [[], [2], [1, 4], [0, 5]])
def test_cumprod_gradient_with_zeros_matches_pytorch(zeros, torch):
    values = np.linspace(0.5, 2.0, 6)
    values[zeros] = 0
    w = np.linspace(-1.0, 1.0, 6)
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    (x.cumprod(0) * mg.tensor(w, dtype=mg.float64)).sum().backward()
    (t.cumprod(0) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_cummax_ties_take_the_later_index(torch):
    v = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0]])
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(mg, name)(mg.tensor(v), 1), getattr(torch, name)(torch.tensor(v), 1)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())


def test_scans_of_integers_and_0d():
    assert mg.cumsum(mg.tensor([1, 2, 3], dtype=mg.int32), 0).dtype == mg.int64
    assert mg.prod(mg.tensor([True, True])).dtype == mg.int64
    assert mg.cumsum(mg.tensor(2.5), 0).shape == ()
    with pytest.raises(IndexError, match="cumsum: dim 2 is out of range"):
        mg.cumsum(mg.ones(2, 2), 2)


def test_median_even_count_is_the_lower_one_and_shares_ties(torch):
    x = mg.tensor([4.0, 1.0, 3.0, 2.0], requires_grad=True)
    assert mg.median(x).item() == 2.0
    y = mg.tensor([1.0, 2.0, 2.0, 5.0, 7.0], requires_grad=True)
    t = torch.tensor([1.0, 2.0, 2.0, 5.0, 7.0], requires_grad=True)
    y.median().backward()
    t.median().backward()
    np.testing.assert_array_equal(y.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("data, dim", [([1.0, np.nan, 3.0, np.nan], None),
                                       ([[np.nan, 1.0, np.nan], [2.0, 0.5, 4.0]], 1),
                                       ([[np.nan, 1.0], [2.0, 0.5]], 0), ([np.nan], 0)])
def test_median_of_a_nan_is_nan_as_pytorch(torch, data, dim):
    """A NaN makes the median NaN (NumPy's sort would put it last and pick a number), with the first
    NaN's index along dim; without dim the gradient is shared among the NaNs."""
    x = mg.tensor(data, dtype=mg.float64, requires_grad=True)
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    ours, theirs = (x.median(), t.median()) if dim is None else (x.median(dim), t.median(dim))
    if dim is not None:
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        ours, theirs = ours.values, theirs.values
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_nan_reductions(torch):
    v = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(mg.nansum(mg.tensor(v), 1).numpy(), torch.nansum(torch.tensor(v), 1).numpy())
    np.testing.assert_array_equal(mg.nanmean(mg.tensor(v), 1).numpy(), torch.nanmean(torch.tensor(v), 1).numpy())


def test_norm_at_zero_has_zero_gradient_and_refuses_unknown_p(torch):
    for p in (2, 3, 0.5, 1, math.inf):
        x = mg.zeros(3, dtype=mg.float64, requires_grad=True)
        t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        x.norm(p).backward()
        t.norm(p).backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    with pytest.raises(ValueError, match="norm: p must be"):
        mg.norm(mg.ones(3), "nucl")
    with pytest.raises(ValueError, match="norm: p='nuc' needs two dims"):
        mg.norm(mg.ones(3), "nuc")


@pytest.mark.parametrize("correction", [3, 4])
def test_var_with_correction_at_least_n_is_inf_or_nan(correction, torch):
    for v in ([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]):
        ours = mg.var(mg.tensor(v), correction=correction).item()
        with pytest.warns(UserWarning):
            theirs = torch.var(torch.tensor(v), correction=correction).item()
        assert (math.isnan(ours) and math.isnan(theirs)) or ours == theirs
    assert math.isnan(mg.tensor([1.0]).var().item()) and math.isnan(mg.tensor([1.0]).std().item())


def test_tensor_methods_and_exports():
    x = mg.tensor([[0.5, -0.25], [1.0, 2.0]])
    for name in ("sin", "arcsin", "expm1", "erfinv", "digamma", "frac", "fix", "logcumsumexp"):
        assert callable(getattr(x, name)) and hasattr(mg, name)
    assert x.aminmax().max.item() == 2.0 and x.cummax(1).indices.dtype == mg.int64
    assert mg.var_mean(x)[1].item() == pytest.approx(0.8125)
    assert x.clamp_min(0).min().item() == 0 and x.clamp_max(1).max().item() == 1


# ----------------------------------------------------------------------------- IEEE special values
_SPECIAL = ["x / 0", "x.log()", "x.sqrt()", "x.rsqrt()", "(x * 1e30) * 1e30", "x.reciprocal()", "x.pow(-1)",
            "x.acos()", "x.atanh()", "x.log2()", "(x - x.abs() - 1).sqrt()", "x.exp() * 1e38"]


@pytest.mark.parametrize("expr", _SPECIAL)
def test_infinities_and_nans_come_without_warnings(expr, torch):
    """PyTorch computes 1/0 = inf, log(0) = -inf, sqrt(-1) = nan and overflows silently, forward and
    backward; so does minigrad (NumPy's warnings are off inside ops), with PyTorch's values, even
    where warnings are errors."""
    import warnings
    values = [0.0, -1.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = mg.tensor(values, requires_grad=True)
        y = eval(expr)
        y.sum().backward()
    t = torch.tensor(values, requires_grad=True)
    ty = eval(re.sub(r"\bx\b", "t", expr))
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
