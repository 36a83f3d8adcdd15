"""gradcheck itself: it passes right gradients, fails wrong ones with a useful message."""
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
    assert x.dtype == mg.float64 and x.requires_grad and float(x.data.min()) >= 0.25
    assert mg.gradcheck(mg.log, (x,))
