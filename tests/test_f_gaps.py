"""The rest of nn.functional's surface: legacy size_average/reduce flags, the per-element loss
weight, pdist against PyTorch's own, the *_with_indices pools and the deprecated upsample names."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))


@pytest.mark.parametrize("size_average, reduce, expected", [(None, None, "mean"), (False, None, "sum"),
                                                            (True, True, "mean"), (None, False, "none")])
def test_legacy_reduction_flags_pick_the_reduction(size_average, reduce, expected):
    for fn in (F.mse_loss, F.l1_loss):
        legacy = fn(mg.tensor(X), mg.tensor(Y), size_average=size_average, reduce=reduce)
        np.testing.assert_allclose(legacy.numpy(), fn(mg.tensor(X), mg.tensor(Y), reduction=expected).numpy())
    logits, target = mg.tensor(X), mg.tensor([0, 2, 1, 1])
    np.testing.assert_allclose(F.cross_entropy(logits, target, size_average=size_average, reduce=reduce).numpy(),
                               F.cross_entropy(logits, target, reduction=expected).numpy())
    np.testing.assert_allclose(F.nll_loss(logits, target, None, size_average, -100, reduce).numpy(),
                               F.nll_loss(logits, target, reduction=expected).numpy())


def test_loss_arguments_keep_pytorchs_positions(torch):
    w = RNG.random(3) + 0.5
    t_target = torch.tensor([0, 2, 1, 1])
    ours = F.cross_entropy(mg.tensor(X), mg.tensor([0, 2, 1, 1]), mg.tensor(w), None, 1, None, "sum")
    theirs = torch.nn.functional.cross_entropy(torch.tensor(X), t_target, torch.tensor(w), None, 1, None, "sum")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours = F.mse_loss(mg.tensor(X), mg.tensor(Y), None, None, "sum")
    np.testing.assert_allclose(ours.numpy(), torch.nn.functional.mse_loss(torch.tensor(X), torch.tensor(Y), None,
                                                                          None, "sum").numpy(), rtol=1e-12)


def test_weighted_mean_divides_by_the_weights_sum():
    w = np.array([[1.0, 0.0, 3.0]] * 4)
    got = F.mse_loss(mg.tensor(X), mg.tensor(Y), weight=mg.tensor(w)).numpy()
    np.testing.assert_allclose(got, ((X - Y) ** 2 * w).sum() / w.sum())
    with pytest.raises(ValueError, match=r"mse_loss: weight of shape \(3,\) must have the input's shape \(4, 3\)"):
        F.mse_loss(mg.tensor(X), mg.tensor(Y), weight=mg.tensor(w[0]))


def test_pdist_matches_pytorchs_own(torch):
    x = RNG.standard_normal((5, 3))
    for p in (2.0, 1.0, 0.5, float("inf")):
        ours = mg.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        F.pdist(ours, p).sum().backward()
        torch.nn.functional.pdist(theirs, p).sum().backward()
        np.testing.assert_allclose(mg.pdist(ours, p).detach().numpy(), torch.pdist(theirs, p).detach().numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert F.pdist(mg.tensor(x[:1])).shape == (0,)
    with pytest.raises(ValueError, match=r"pdist: expected a 2-D input \(N, M\), got shape \(5,\)"):
        F.pdist(mg.tensor(x[:, 0]))


def test_with_indices_pools_always_return_indices():
    x = mg.tensor(RNG.standard_normal((1, 2, 4, 4, 4)))
    for name, inp, arg in [("max_pool1d", x[0, :, 0], 2), ("max_pool2d", x[0], 2), ("max_pool3d", x, 2),
                           ("adaptive_max_pool1d", x[0, :, 0], 2), ("adaptive_max_pool2d", x[0], 2),
                           ("adaptive_max_pool3d", x, 2)]:
        out, idx = getattr(F, f"{name}_with_indices")(inp, arg)
        ref_out, ref_idx = getattr(F, name)(inp, arg, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), ref_out.numpy())
        np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())


def test_deprecated_upsample_names(torch):
    x = RNG.standard_normal((1, 2, 3, 3))
    np.testing.assert_allclose(F.upsample_bilinear(mg.tensor(x), scale_factor=2).numpy(),
                               torch.nn.functional.upsample_bilinear(torch.tensor(x), scale_factor=2).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(F.upsample_nearest(mg.tensor(x), size=(5, 4)).numpy(),
                               torch.nn.functional.upsample_nearest(torch.tensor(x), size=(5, 4)).numpy())
    np.testing.assert_array_equal(F.native_channel_shuffle(mg.tensor(x), 2).numpy(),
                                  F.channel_shuffle(mg.tensor(x), 2).numpy())


@pytest.mark.parametrize("shape", [(), (5,), (2, 5), (2, 3, 4), (2, 3, 2, 2)])
def test_implicit_softmax_dim_as_pytorch(torch, shape):
    """F.softmax / log_softmax / softmin and nn.Softmax / LogSoftmax / Softmin without a dim take
    PyTorch's deprecated choice (dim 0 for 0-, 1- and 3-D inputs, else 1) with its warning;
    torch.softmax and Tensor.softmax keep requiring one, as PyTorch's do."""
    x = RNG.standard_normal(shape)
    for name, module in (("softmax", "Softmax"), ("log_softmax", "LogSoftmax"), ("softmin", "Softmin")):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
            ours = getattr(F, name)(mg.tensor(x))
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            ours_module = getattr(mg.nn, module)()(mg.tensor(x))
        with pytest.warns(UserWarning):
            theirs = getattr(torch.nn.functional, name)(torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours_module.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.softmax(mg.tensor(x).float(), -1 if shape else 0, dtype=mg.float64).numpy(),
                               torch.nn.functional.softmax(torch.tensor(x).float(), -1 if shape else 0,
                                                           dtype=torch.float64).numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match="softmax: dim is required"):
        mg.softmax(mg.tensor(x))
