"""Gradients where a product or a norm meets zeros, against PyTorch (float64): scatter_reduce
'prod' with zero factors, the 2-norm at the zero vector, prod/cumprod second derivatives with
one, two or more zeros."""
import numpy as np
import pytest

import minigrad as mg
from helpers import assert_close

try:
    import torch
except ImportError:          # the torch fixture below skips (or fails under MINIGRAD_REQUIRE_TORCH)
    torch = None


@pytest.fixture(autouse=True)
def _cross_check(torch):
    """Every test here compares with PyTorch (conftest's fixture: skip, or fail in CI, without it)."""


def _grads(lib, fn, values, order):
    """First (and with order 2, second: d/dx of sum(grad * weights)) derivatives of sum(fn(x))."""
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    out = fn(lib, x)
    (g,) = lib.autograd.grad(out.sum(), [x], create_graph=order == 2)
    if order == 1:
        return [g.detach().numpy()]
    w = lib.tensor(np.linspace(1.0, 2.0, g.numel()).reshape(tuple(g.shape)), dtype=lib.float64)
    (h,) = lib.autograd.grad((g * w).sum(), [x])
    return [g.detach().numpy(), h.numpy()]


def _check(fn, values, order):
    for a, b in zip(_grads(mg, fn, values, order), _grads(torch, fn, values, order)):
        assert np.isfinite(a).all()
        assert_close(a, b, atol=1e-10, rtol=1e-10)


_IDX = [0, 0, 1, 1, 2, 2]


def _scatter_src(include):
    def fn(lib, x):
        base = lib.tensor([1.5, 0.0, 2.0], dtype=lib.float64)
        return base.scatter_reduce(0, lib.tensor(_IDX), x, "prod", include_self=include)
    return fn


def _scatter_self(lib, x):
    return x.scatter_reduce(0, lib.tensor(_IDX), lib.tensor([0.0, 2.0, 3.0, 0.0, 1.5, 0.5], dtype=lib.float64),
                            "prod")


@pytest.mark.parametrize("include", [True, False])
@pytest.mark.parametrize("src", [[0.0, 2.0, 0.0, 0.0, 3.0, 0.5], [0.0, 0.0, 1.0, 2.0, 0.0, 4.0],
                                 [1.0, 2.0, 3.0, 0.5, 0.7, 0.9]])
def test_scatter_reduce_prod_gradient_with_zeros(include, src):
    _check(_scatter_src(include), src, 1)


@pytest.mark.parametrize("values", [[1.0, 0.0, 2.0], [0.0, 3.0, -1.0], [0.0, 0.0, 0.0]])
def test_scatter_reduce_prod_gradient_of_self_with_zeros(values):
    _check(_scatter_self, values, 1)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.norm(),
    lambda lib, x: x.norm(dim=1),
    lambda lib, x: x.norm(p=3, dim=1),
    lambda lib, x: lib.linalg.vector_norm(x),
    lambda lib, x: lib.linalg.vector_norm(x, dim=1, keepdim=True),
    lambda lib, x: lib.linalg.vector_norm(x, ord=1.5, dim=1),
    lambda lib, x: lib.nn.functional.normalize(x, dim=1),
    lambda lib, x: lib.nn.functional.normalize(x, p=3.0, dim=1),
], ids=["norm", "norm_dim", "norm_p3", "vector_norm", "vector_norm_dim", "vector_norm_1.5", "normalize",
        "normalize_p3"])
def test_norm_gradient_at_the_zero_vector(fn):
    _check(fn, np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]), 1)


@pytest.mark.parametrize("values", [[0.0, 1.5, 2.0, 3.0], [0.0, 0.0, 2.0, 3.0], [0.0, 0.0, 0.0, 3.0],
                                    [[0.0, 2.0, 0.0], [1.0, 0.0, -3.0]], [1.5, -2.0, 0.5, 3.0]])
def test_prod_second_derivative_with_zeros(values):
    _check(lambda lib, x: x.prod(), values, 2)


def test_prod_over_a_dim_second_derivative_with_zeros():
    values = [[0.0, 2.0, 0.0, 1.0], [1.0, 0.0, -3.0, 2.0], [0.0, 0.0, 0.0, 5.0]]
    _check(lambda lib, x: x.prod(1), values, 2)
    _check(lambda lib, x: x.prod(0), np.array(values).T, 2)


@pytest.mark.parametrize("values", [[2.0, 0.0, 1.5, 2.0, 3.0], [2.0, 0.0, 1.5, 0.0, 3.0], [0.0, 0.0, 0.0, 1.0],
                                    [1.5, -2.0, 0.5, 3.0]])
def test_cumprod_second_derivative_with_zeros(values):
    _check(lambda lib, x: x.cumprod(0), values, 2)


def test_cumprod_second_derivative_with_zeros_along_an_inner_dim():
    values = [[2.0, 0.0, 1.5, 0.0], [1.0, 0.5, 0.0, 2.0], [0.0, 0.0, 3.0, 1.0]]
    _check(lambda lib, x: x.cumprod(1), values, 2)
    _check(lambda lib, x: x.cumprod(0), values, 2)


@pytest.mark.parametrize("op", ["prod", "cumprod"])
def test_third_derivative_with_zeros(op):
    values = [[2.0, 0.0, 1.5, 0.0], [0.0, 0.0, 1.0, 2.0]]
    results = []
    for lib in (mg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = x.prod(1) if op == "prod" else x.cumprod(1)
        (g,) = lib.autograd.grad(out.sum(), [x], create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), [x], create_graph=True)
        (k,) = lib.autograd.grad((h * h).sum(), [x])
        results.append(k.numpy())
    assert_close(results[0], results[1], atol=1e-9)
