"""Tensor utilities (type, new_*, stride, is_contiguous, nelement, ndimension, is_floating_point) and
random creation (randperm, multinomial, normal), against NumPy, statistics, and PyTorch."""
import numpy as np
import pytest

import minigrad as mg

from conftest import DEVICE
from helpers import assert_close, host

TYPE_NAMES = [(mg.float32, "FloatTensor"), (mg.float64, "DoubleTensor"), (mg.float16, "HalfTensor"),
              (mg.int64, "LongTensor"), (mg.int32, "IntTensor"), (mg.int16, "ShortTensor"), (mg.int8, "CharTensor"),
              (mg.uint8, "ByteTensor"), (mg.bool, "BoolTensor")]


# ----------------------------------------------------------------------------- metadata
@pytest.mark.parametrize("dtype, name", TYPE_NAMES)
def test_type_names_and_casts(dtype, name):
    x = mg.tensor([1, 0, 3], dtype=dtype)
    assert x.type() == f"minigrad.{name}"
    y = mg.tensor([1.5, 0.0]).type(dtype)
    assert y.dtype == dtype
    assert mg.tensor([1.5, 0.0]).type(f"torch.{name}").dtype == dtype       # PyTorch's names accepted
    assert mg.tensor([1.5, 0.0]).type(name).dtype == dtype


def test_type_names_are_torchs(torch):
    for dtype, name in TYPE_NAMES:
        assert torch.from_numpy(np.zeros(2, dtype)).type() == f"torch.{name}"
    with pytest.raises(TypeError, match="type: unknown tensor type 'torch.ComplexTensor'"):
        mg.zeros(2).type("torch.ComplexTensor")


def test_type_is_differentiable_between_floats():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.type(mg.float64).sum().backward()
    assert x.grad.dtype == mg.float32 and x.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("method, args", [("new_zeros", ((2, 3),)), ("new_ones", (2, 3)), ("new_empty", ((4,),)),
                                          ("new_full", ((2, 2), 7)), ("new_tensor", ([[1, 2], [3, 4]],))])
def test_new_tensors_take_this_ones_dtype_and_device(torch, method, args):
    x = mg.tensor([1, 2], dtype=mg.int16, device=DEVICE)
    out = getattr(x, method)(*args)
    expected = getattr(torch.tensor([1, 2], dtype=torch.int16), method)(*args)
    assert out.dtype == mg.int16 and out.device == x.device and out.shape == tuple(expected.shape)
    if method != "new_empty":
        np.testing.assert_array_equal(host(out), expected.numpy())
    other = getattr(x, method)(*args, dtype=mg.float64, requires_grad=True)
    assert other.dtype == mg.float64 and other.requires_grad


def test_new_tensor_copies():
    data = np.array([1.0, 2.0])
    out = mg.zeros(1, dtype=mg.float64).new_tensor(data)
    data[0] = 5
    assert out.tolist() == [1.0, 2.0]


VIEWS = [lambda t: t, lambda t: t.transpose(0, 2), lambda t: t[:, ::2], lambda t: t[..., 1], lambda t: t[1],
         lambda t: t.permute(1, 0, 2), lambda t: t[:, :1].expand(2, 3, 4)]


@pytest.mark.parametrize("view", VIEWS)
def test_stride_and_is_contiguous_match_torch(torch, view):
    ours, theirs = view(mg.arange(24).reshape(2, 3, 4)), view(torch.arange(24).reshape(2, 3, 4))
    assert ours.stride() == theirs.stride()
    assert all(ours.stride(d) == theirs.stride(d) for d in range(-ours.ndim, ours.ndim))
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.contiguous().is_contiguous()
    np.testing.assert_array_equal(host(ours.contiguous()), theirs.contiguous().numpy())


def test_contiguous_copy_keeps_the_graph():
    x = mg.randn(3, 4, requires_grad=True)
    y = x.T.contiguous()
    assert y.is_contiguous() and y.grad_fn is not None
    (y * mg.arange(3.0)).sum().backward()
    assert_close(x.grad, np.tile(np.arange(3.0)[:, None], (1, 4)))
    assert x.contiguous() is x


def test_counts_and_kind():
    x = mg.zeros(2, 3, 4)
    assert x.nelement() == x.numel() == 24 and x.ndimension() == x.dim() == 3
    assert mg.tensor(1.0).ndimension() == 0 and mg.tensor(1.0).nelement() == 1
    assert x.is_floating_point() is True and mg.tensor([1]).is_floating_point() is False
    assert mg.tensor([True]).is_floating_point() is False
    with pytest.raises(IndexError, match="stride: dimension 3 is out of range"):
        x.stride(3)


# ----------------------------------------------------------------------------- linspace
def test_linspace_refuses_bool_like_torch(torch):
    """The bug: linspace(..., dtype=bool) returned a mask where PyTorch raises."""
    with pytest.raises(TypeError, match="linspace: dtype bool is not supported"):
        mg.linspace(0, 1, 5, dtype=mg.bool)
    with pytest.raises((NotImplementedError, RuntimeError, TypeError)):
        torch.linspace(0, 1, 5, dtype=torch.bool)
    assert mg.linspace(0, 10, 5, dtype=mg.int64).tolist() == torch.linspace(0, 10, 5, dtype=torch.int64).tolist()


# ----------------------------------------------------------------------------- randperm
@pytest.mark.parametrize("n", [0, 1, 10, 1000])
def test_randperm_is_a_seeded_permutation(n):
    mg.manual_seed(5)
    p = mg.randperm(n, device=DEVICE)
    assert p.dtype == mg.int64 and p.shape == (n,)
    assert sorted(host(p).tolist()) == list(range(n))
    mg.manual_seed(5)
    np.testing.assert_array_equal(host(mg.randperm(n, device=DEVICE)), host(p))
    gen = mg.Generator(DEVICE).manual_seed(1)
    again = mg.Generator(DEVICE).manual_seed(1)
    np.testing.assert_array_equal(host(mg.randperm(n, generator=gen, device=DEVICE)),
                                  host(mg.randperm(n, generator=again, device=DEVICE)))
    if n == 1000:
        assert (host(p) != np.arange(n)).mean() > 0.9                     # actually shuffled
    assert mg.randperm(n, dtype=mg.int32).dtype == mg.int32


def test_randperm_refuses_bad_n():
    with pytest.raises(ValueError, match="randperm: n must be a non-negative integer, got -1"):
        mg.randperm(-1)


# ----------------------------------------------------------------------------- multinomial
def frequencies(samples, categories):
    return np.bincount(host(samples).ravel(), minlength=categories) / host(samples).size


def test_multinomial_with_replacement_draws_in_proportion_to_the_weights():
    mg.manual_seed(0)
    weights = mg.tensor([1.0, 0.0, 3.0, 6.0], device=DEVICE)       # unnormalised; a zero weight
    samples = mg.multinomial(weights, 20000, replacement=True)
    assert samples.dtype == mg.int64 and samples.shape == (20000,)
    # 4 standard errors of a proportion out of 20000 draws is at most 0.015
    np.testing.assert_allclose(frequencies(samples, 4), [0.1, 0.0, 0.3, 0.6], atol=0.015)
    assert not (host(samples) == 1).any()


def test_multinomial_without_replacement_draws_each_category_at_most_once():
    mg.manual_seed(1)
    weights = mg.tensor([[1.0, 2.0, 0.0, 4.0, 8.0], [5.0, 0.0, 0.0, 1.0, 1.0]], device=DEVICE)
    for _ in range(20):
        rows = host(mg.multinomial(weights, 3))
        assert rows.shape == (2, 3)
        assert all(len(set(row)) == 3 and 2 not in row for row in rows.tolist())
        assert set(rows[1].tolist()) == {0, 3, 4}                # the only three of non-zero weight
    # the first draw is distributed as the weights; the heaviest category usually comes first
    firsts = np.array([host(mg.multinomial(weights[0], 2))[0] for _ in range(3000)])
    np.testing.assert_allclose(np.bincount(firsts, minlength=5) / 3000, [1 / 15, 2 / 15, 0, 4 / 15, 8 / 15],
                               atol=0.04)


def test_multinomial_without_replacement_second_draws_follow_the_renormalised_weights():
    """Drawing two of (1, 1, 2): P(second = 2) = P(first = 0) * 2/3 + P(first = 1) * 2/3 = 1/3 + ..."""
    mg.manual_seed(2)
    w = mg.tensor([1.0, 1.0, 2.0])
    seconds = np.array([host(mg.multinomial(w, 2))[1] for _ in range(4000)])
    # P(second = 2) = 2 * (1/4 * 2/3) = 1/3; P(second = 0) = 1/4 * 1/3 + 1/2 * 1/2 = 1/3
    np.testing.assert_allclose(np.bincount(seconds, minlength=3) / 4000, [1 / 3, 1 / 3, 1 / 3], atol=0.035)


def test_multinomial_without_replacement_draws_zero_weights_last_like_torch(torch):
    for _ in range(10):
        rows = host(mg.multinomial(mg.tensor([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 3.0, 0.0]]), 3))
        assert rows[0, 0] == 1 and set(rows[1, :2].tolist()) == {0, 2}
        assert all(len(set(row)) == 3 for row in rows.tolist())
    drawn = torch.multinomial(torch.tensor([0.0, 1.0, 0.0, 0.0]), 3)
    assert drawn[0] == 1 and len(set(drawn.tolist())) == 3


def test_multinomial_is_seeded():
    w = mg.tensor([0.2, 0.3, 0.5])
    mg.manual_seed(9)
    a = mg.multinomial(w, 10, replacement=True)
    mg.manual_seed(9)
    np.testing.assert_array_equal(host(a), host(mg.multinomial(w, 10, replacement=True)))


@pytest.mark.parametrize("weights, n, replacement, message", [
    ([[[1.0]]], 1, True, "prob_dist must be 1 or 2 dim"),
    ([1.0, -1.0], 1, True, r"probability tensor contains either `inf`, `nan` or element < 0"),
    ([1.0, np.nan], 1, True, r"probability tensor contains either `inf`, `nan` or element < 0"),
    ([0.0, 0.0], 1, True, r"invalid multinomial distribution \(sum of probabilities <= 0\)"),
    ([1.0, 2.0], 3, False, r"cannot sample n_sample > prob_dist.size\(-1\) samples without replacement"),
    ([1.0, 2.0], 0, True, "num_samples must be a positive integer"),
])
def test_multinomial_refuses_like_torch(torch, weights, n, replacement, message):
    with pytest.raises(ValueError, match=message):
        mg.multinomial(mg.tensor(weights), n, replacement)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), n, replacement)


# ----------------------------------------------------------------------------- normal
def test_normal_signatures_shapes_and_dtypes():
    mg.manual_seed(3)
    assert mg.normal(2.0, 3.0, (4, 5)).shape == (4, 5) and mg.normal(2.0, 3.0, size=(2,)).dtype == mg.float32
    assert mg.normal(0.0, 1.0, (3,), dtype=mg.float64).dtype == mg.float64
    mean = mg.zeros(2, 1, dtype=mg.float64)
    assert mg.normal(mean, mg.ones(3, dtype=mg.float64)).shape == (2, 3)
    assert mg.normal(mean).shape == (2, 1) and mg.normal(mean).dtype == mg.float64
    assert mg.normal(1.0, mg.ones(4)).shape == (4,)
    assert mg.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad


def test_normal_statistics_follow_mean_and_std():
    mg.manual_seed(4)
    mean = mg.tensor([[-5.0], [0.0], [10.0]], dtype=mg.float64, device=DEVICE)
    std = mg.tensor([0.5, 2.0], dtype=mg.float64, device=DEVICE)
    draws = np.stack([host(mg.normal(mean, std)) for _ in range(4000)])
    # standard errors: std / sqrt(4000) <= 0.032 for the mean, about std / 90 for the std
    np.testing.assert_allclose(draws.mean(0), np.broadcast_to(host(mean), (3, 2)), atol=0.13)
    np.testing.assert_allclose(draws.std(0), np.broadcast_to(host(std), (3, 2)), rtol=0.05)
    scalar = host(mg.normal(3.0, 0.25, (20000,), dtype=mg.float64))
    assert abs(scalar.mean() - 3.0) < 0.01 and abs(scalar.std() - 0.25) < 0.01


def test_normal_is_seeded_by_generators():
    a = mg.normal(0.0, 1.0, (5,), generator=mg.Generator().manual_seed(2))
    b = mg.normal(0.0, 1.0, (5,), generator=mg.Generator().manual_seed(2))
    np.testing.assert_array_equal(host(a), host(b))


@pytest.mark.parametrize("call, error, message", [
    (lambda: mg.normal(0.0, 1.0), TypeError, "normal: with a number for both mean and std, give a size"),
    (lambda: mg.normal(0.0, -1.0, (2,)), ValueError, r"normal: expects std >= 0.0, but found std -1.0"),
    (lambda: mg.normal(mg.zeros(2), mg.tensor([1.0, -1.0])), ValueError, "normal: expects all elements of std >= 0.0"),
    (lambda: mg.normal(mg.zeros(2), mg.ones(3)), ValueError,
     r"normal: mean of shape \(2,\) and std of shape \(3,\) do not broadcast"),
    (lambda: mg.normal(mg.tensor([1, 2])), TypeError,
     "normal: expected floating-point mean and std tensors, got int64"),
    (lambda: mg.normal(mg.zeros(2), 1.0, (2,)), TypeError, "normal: size is only for numbers mean and std"),
])
def test_normal_refuses(call, error, message):
    with pytest.raises(error, match=message):
        call()
