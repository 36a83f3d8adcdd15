"""gradcheck itself: it passes right gradients, fails wrong ones with a useful message.

Each blind spot of the first gradcheck has a test here: backwards that are not linear in the
cotangent, NaN/infinity agreeing with themselves, relative errors of 0.02% (in one element of a
large input, in projection mode, for every seed)."""
import warnings

import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
from minigrad.autograd import Function
from minigrad.gradcheck import gradcheck_report
from minigrad.testing import strategies as mst


class OffByScale(Function):
    """A deliberately wrong backward (d tanh = 1 - y^2, scaled by 1.01)."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return 1.01 * g * (1 - y * y)


def _tanh_with_backward(rule):
    """tanh whose backward is ``rule(g, dy)`` with dy = 1 - y^2 (the right one: g * dy)."""
    class Tanh(Function):
        @staticmethod
        def forward(ctx, x):
            y = np.tanh(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return rule(g, 1 - y * y)
    return Tanh.apply


def _one_element_off(g, dy, factor=1.0002):
    out = g * dy
    out.reshape(-1)[out.size // 3] *= factor       # one element of the gradient off by 0.02%
    return out


WRONG = {
    "abs(g)": lambda g, dy: np.abs(g) * dy,            # right for every one-hot cotangent
    "g**3": lambda g, dy: g ** 3 * dy,                  # right for every one-hot cotangent
    "ignores g": lambda g, dy: dy,                      # right for the cotangent 1
    "scaled by 1.0002": lambda g, dy: 1.0002 * g * dy,  # 0.02% everywhere
    "scaled by 0.9998": lambda g, dy: 0.9998 * g * dy,
    "one element off by 0.02%": _one_element_off,
}


@pytest.mark.parametrize("size", [(1,), (3, 4), (60,), (100, 100)], ids=["scalar", "full", "full-60", "projections"])
@pytest.mark.parametrize("rule", list(WRONG), ids=list(WRONG))
def test_wrong_backwards_fail_in_both_modes(rule, size):
    x = mg.tensor(np.random.default_rng(3).uniform(-0.5, 0.5, size), requires_grad=True)
    report = gradcheck_report(_tanh_with_backward(WRONG[rule]), (x,))
    assert report.mode == ("projections" if size == (100, 100) else "full")
    assert not report.ok, f"{rule} passed gradcheck"
    assert gradcheck_report(_tanh_with_backward(lambda g, dy: g * dy), (x,)).ok


@pytest.mark.parametrize("seed", range(20))
def test_projection_mode_catches_a_bias_off_by_0_02_percent_for_every_seed(seed):
    """The issue's case: a bias gradient off by 1% was missed for 2 of 20 seeds."""
    class Bias(Function):
        @staticmethod
        def forward(ctx, x, b):
            return x + b

        @staticmethod
        def backward(ctx, g):
            return g, 1.0002 * g.sum(axis=0)
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((200, 30)), requires_grad=True)
    b = mg.tensor(rng.standard_normal(30), requires_grad=True)
    report = gradcheck_report(lambda x, b: Bias.apply(x, b).tanh(), (x, b), seed=seed)
    assert report.mode == "projections" and not report.ok


@pytest.mark.parametrize("value", [-1.0, 0.0], ids=["nan", "inf"])
def test_non_finite_jacobians_fail_unless_allowed(value):
    x = mg.tensor([value, 1.0, 4.0], dtype=mg.float64, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        report = gradcheck_report(mg.sqrt, (x,))      # sqrt(-1): NaN both sides; at 0: inf and nonsense
        assert not report.ok and "non-finite" in report.message
        if value < 0:   # NaN against NaN agrees only when the caller says it is expected
            assert gradcheck_report(mg.sqrt, (x,), allow_nonfinite=True).ok


def test_float64_defaults_pass_right_gradients_of_stiff_functions():
    """The error budget in the docstring: 1/x at 1/4, exp at 4, a 4096-element sum."""
    x = mg.tensor([0.25, -0.25, 3.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda x: 1 / x, (x,))
    assert mg.gradcheck(lambda x: (4 * x).exp(), (x,))
    big = mg.tensor(np.random.default_rng(0).uniform(1, 2, 4096), requires_grad=True)
    assert gradcheck_report(lambda x: (x * 1000).sum(), (big,)).mode == "full"
    assert mg.gradcheck(lambda x: (x * 1000).sum(), (big,))


def test_float32_has_looser_documented_defaults():
    x = mg.tensor(np.linspace(-1, 1, 8), dtype=mg.float32, requires_grad=True)
    with pytest.warns(UserWarning, match="not float64"):
        good = gradcheck_report(mg.tanh, (x,))
    with pytest.warns(UserWarning):
        bad = gradcheck_report(_tanh_with_backward(lambda g, dy: 1.05 * g * dy), (x,))
    assert good.ok and not bad.ok and good.details["rtol"] > 1e-4


def test_outputs_that_skip_inputs_or_need_no_grad():
    """What a check of gradients-of-gradients hands over: several outputs, some independent of
    some inputs, some constant (not requiring grad) or None."""
    a = mg.randn(3, dtype=mg.float64, requires_grad=True)
    b = mg.randn(3, dtype=mg.float64, requires_grad=True)
    const = mg.ones(2, dtype=mg.float64)
    assert mg.gradcheck(lambda a, b: (a.exp(), const, None, (b * b).sum()), (a, b))
    big = mg.randn(100, 20, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda a, big: (a.tanh(), const, big.exp()), (a, big))


@pytest.mark.parametrize("n", [3, 300], ids=["full", "projections"])
def test_a_function_that_differentiates_inside(n):
    """The shape of a gradient-of-gradient check: fn returns a gradient it computes itself, in
    enable_grad(), in the analytic call and in every finite-difference evaluation alike."""
    def uses_a_gradient(x):
        assert x.requires_grad
        with mg.enable_grad():
            (g,) = mg.autograd.grad((2 * x).sum(), x)      # 2 everywhere (no graph of its own yet)
        return x * x * g
    x = mg.tensor(np.linspace(-1, 1, n), dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(uses_a_gradient, (x,))


def test_full_jacobian_mode_names_input_and_element():
    x = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=mg.float64, requires_grad=True)
    report = gradcheck_report(OffByScale.apply, (x,))
    assert not report.ok and report.mode == "full"
    assert "d input 0" in report.message and "analytic" in report.message and "numeric" in report.message
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(OffByScale.apply, (x,))


def test_projection_mode_for_large_inputs():
    x = mg.tensor(np.linspace(-1, 1, 200), dtype=mg.float64, requires_grad=True)
    good = gradcheck_report(mg.tanh, (x,))
    bad = gradcheck_report(OffByScale.apply, (x,))
    assert good.ok and good.mode == "projections"
    assert not bad.ok and "random projection" in bad.message


def test_multiple_inputs_and_outputs():
    a = mg.randn(3, 2, dtype=mg.float64, requires_grad=True)
    b = mg.randn(2, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda a, b: (a * b, (a @ b).exp()), (a, b))


def test_non_float64_inputs_warn():
    x = mg.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="not float64"):
        gradcheck_report(mg.tanh, (x,), atol=1e-2, rtol=1e-1)


def test_no_input_requiring_grad_is_an_error():
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(mg.tanh, (mg.randn(3, dtype=mg.float64),))


def test_gradcheck_leaves_dot_grad_untouched():
    x = mg.randn(4, dtype=mg.float64, requires_grad=True)
    mg.gradcheck(mg.exp, (x,))
    assert x.grad is None


@given(mst.broadcastable_tensors(2))
def test_user_style_property_test_with_exported_strategies(pair):
    a, b = pair
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mg.gradcheck(lambda a, b: (a * b).tanh(), (a, b))


@given(mst.tensors(domain="positive"))
def test_exported_tensor_strategy_respects_domain(x):
    assert x.dtype == mg.float64 and x.requires_grad and float(x._data.min()) >= 0.25
    assert mg.gradcheck(mg.log, (x,))
