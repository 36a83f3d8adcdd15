"""Padding, block and resampling layers against PyTorch (float64, same inputs: outputs, input
gradients and reprs), and the errors for bad input.  The ops themselves are in the registry
(minigrad/testing/registry_resample.py)."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")


def _compare(ours, theirs, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    xm = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out, t_out = ours(xm), theirs(xt)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    cot = rng.standard_normal(tuple(t_out.shape))
    out.backward(mg.tensor(cot))
    t_out.backward(torch.tensor(cot))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert repr(ours) == repr(theirs)


PADS = [("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad1d", ((1, -2),), (3, 5)), ("ZeroPad2d", ((1, 0, 2, 1),), (1, 2, 3, 3)),
        ("ZeroPad2d", (1,), (2, 3, 2)), ("ZeroPad3d", ((1, 0, -1, 2, 0, 1),), (1, 2, 3, 3, 2)),
        ("ConstantPad1d", (2, 3.5), (2, 3, 4)), ("ConstantPad2d", ((0, -1, 2, 1), -1.0), (2, 3, 4)),
        ("ConstantPad3d", (1, 0.5), (1, 1, 2, 2, 2)),
        ("ReflectionPad1d", (2,), (2, 3, 4)), ("ReflectionPad1d", ((-1, 3),), (3, 5)),
        ("ReflectionPad2d", ((1, -2, 2, 0),), (1, 2, 3, 4)),
        ("ReflectionPad3d", ((1, 1, -1, 2, 0, 1),), (1, 2, 3, 3, 2)),
        ("ReplicationPad1d", ((3, -1),), (2, 3, 4)), ("ReplicationPad2d", ((-2, 3, 1, -1),), (2, 3, 4)),
        ("ReplicationPad3d", (1,), (1, 1, 2, 3, 2)),
        ("CircularPad1d", ((2, -1),), (2, 3, 4)), ("CircularPad2d", ((1, 2, -1, 1),), (1, 2, 3, 4)),
        ("CircularPad3d", ((1, 0, 1, -1, 2, 1),), (2, 3, 3, 2))]


@pytest.mark.parametrize("name, args, shape", PADS, ids=[f"{n}{a}" for n, a, _ in PADS])
def test_padding_layers_match_torch(name, args, shape):
    _compare(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), shape)


def test_padding_errors_name_the_op_and_shape():
    x = mg.zeros(1, 2, 3)
    with pytest.raises(ValueError, match=r"pad: reflect padding \(3, 0\) must be smaller than dim 2's size 3 "
                                         r"\(input shape \(1, 2, 3\)\)"):
        nn.functional.pad(x, (3, 0), "reflect")
    with pytest.raises(ValueError, match="wrap around more than once"):
        nn.functional.pad(x, (0, 4), "circular")
    with pytest.raises(ValueError, match=r"replicate padding \(-2, -1\) crops every entry of dim 2"):
        nn.functional.pad(x, (-2, -1), "replicate")
    with pytest.raises(ValueError, match="crop more than the shape"):
        nn.functional.pad(x, (-2, -2), "constant")
    with pytest.raises(ValueError, match=r"ReflectionPad2d: expected a 3-D or 4-D input, got shape \(3,\)"):
        nn.ReflectionPad2d(1)(mg.zeros(3))
    with pytest.raises(ValueError, match="ZeroPad3d: padding must be an int or 6 ints"):
        nn.ZeroPad3d((1, 2))


def test_negative_reflect_and_replicate_read_the_whole_input_as_pytorch():
    # cropping one side and padding the other past the crop reads the cropped entries, mirrored
    x = np.arange(5.0).reshape(1, 1, 5)
    for mode, pad in [("reflect", (-4, 1)), ("reflect", (-6, 2)), ("replicate", (-6, 7)), ("circular", (-1, 2))]:
        ours = nn.functional.pad(mg.tensor(x), pad, mode).numpy()
        np.testing.assert_array_equal(ours, torch.nn.functional.pad(torch.tensor(x), pad, mode=mode).numpy())
    # circular wraps around what cropping left; where that is shorter than the padding PyTorch reads
    # memory it has not written (or refuses), minigrad continues the period
    np.testing.assert_array_equal(nn.functional.pad(mg.tensor(x), (-3, 4), "circular").numpy().ravel(),
                                  [3, 4, 3, 4, 3, 4])


BLOCKS = [("Unfold", (2,), {}, (2, 3, 4, 5)), ("Unfold", ((2, 3),), dict(dilation=(2, 1), padding=1, stride=(1, 2)),
                                                  (1, 2, 5, 4)),
          ("Unfold", (3,), dict(padding=1, stride=2), (2, 4, 4)),
          ("Fold", ((4, 5), 2), {}, (2, 12, 12)), ("Fold", ((5, 4), (2, 3)), dict(dilation=(2, 1), padding=1, stride=2),
                                                   (12, 6)),
          ("PixelShuffle", (2,), {}, (2, 8, 3, 2)), ("PixelShuffle", (3,), {}, (2, 1, 9, 2, 2)),
          ("PixelUnshuffle", (2,), {}, (1, 3, 4, 6)), ("ChannelShuffle", (3,), {}, (2, 6, 2, 3)),
          ("ChannelShuffle", (2,), {}, (2, 4, 3))]


@pytest.mark.parametrize("name, args, kwargs, shape", BLOCKS, ids=[f"{b[0]}{b[3]}" for b in BLOCKS])
def test_block_layers_match_torch(name, args, kwargs, shape):
    _compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), shape)


def test_fold_of_unfold_counts_the_blocks_covering_each_pixel():
    x = mg.ones(1, 2, 5, 5)
    cols = nn.functional.unfold(x, 3, padding=1, stride=2)
    counts = nn.functional.fold(cols, (5, 5), 3, padding=1, stride=2).numpy()
    expected = torch.nn.functional.fold(torch.nn.functional.unfold(torch.ones(1, 2, 5, 5), 3, padding=1, stride=2),
                                        (5, 5), 3, padding=1, stride=2).numpy()
    np.testing.assert_array_equal(counts, expected)
    assert counts.max() == 4 and counts.min() == 1


def test_block_errors_name_the_op_and_shapes():
    F = nn.functional
    with pytest.raises(ValueError, match=r"fold: output_size=\(3, 3\) .* makes 2 x 2 blocks, but the input of shape "
                                         r"\(1, 8, 5\) has 5"):
        F.fold(mg.zeros(1, 8, 5), (3, 3), 2)
    with pytest.raises(ValueError, match=r"fold: input of shape \(1, 7, 4\) has 7 rows, not divisible"):
        F.fold(mg.zeros(1, 7, 4), (3, 3), 2)
    with pytest.raises(ValueError, match=r"unfold: input of shape \(1, 2, 3, 3\) .* has no complete block"):
        F.unfold(mg.zeros(1, 2, 3, 3), 4)
    with pytest.raises(ValueError, match=r"unfold: expected a 3-D .* got shape \(2, 3\)"):
        F.unfold(mg.zeros(2, 3), 2)
    with pytest.raises(ValueError, match=r"pixel_shuffle: .* got shape \(5, 2, 2\)"):
        F.pixel_shuffle(mg.zeros(5, 2, 2), 2)
    with pytest.raises(ValueError, match=r"pixel_unshuffle: .* got shape \(4, 3, 2\)"):
        F.pixel_unshuffle(mg.zeros(4, 3, 2), 2)
    with pytest.raises(ValueError, match=r"channel_shuffle: .* got shape \(1, 5, 2\)"):
        F.channel_shuffle(mg.zeros(1, 5, 2), 3)
    with pytest.raises(ValueError, match=r"Tensor.unfold: window size 5 does not fit dim 1 of size 4"):
        mg.zeros(3, 4).unfold(1, 5, 1)
    with pytest.raises(ValueError, match="Tensor.unfold: step must be positive"):
        mg.zeros(3, 4).unfold(1, 2, 0)


def test_tensor_unfold_is_a_view_with_an_overlap_add_gradient():
    x = mg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    w = x.unfold(1, 3, 1)
    assert w.shape == (3, 2, 3) and np.shares_memory(w.detach().numpy(), x.detach().numpy())
    w.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile([1.0, 2.0, 2.0, 1.0], (3, 1)))
    assert mg.tensor(3.0).unfold(0, 1, 1).shape == (1,)


UPSAMPLES = [(("Upsample",), dict(scale_factor=2, mode="nearest"), (1, 2, 3)),
             (("Upsample",), dict(size=5, mode="linear", align_corners=True), (2, 1, 3)),
             (("Upsample",), dict(scale_factor=(1.5, 2), mode="bilinear"), (1, 2, 2, 3)),
             (("Upsample",), dict(scale_factor=2, mode="trilinear"), (1, 2, 2, 3, 2)),
             (("Upsample",), dict(size=(3, 5, 2), mode="trilinear", align_corners=True), (1, 1, 2, 3, 4)),
             (("Upsample",), dict(size=(2, 4, 3), mode="nearest-exact"), (2, 1, 3, 3, 2)),
             (("Upsample",), dict(size=(2, 3, 1), mode="area"), (1, 2, 4, 5, 3)),
             (("Upsample",), dict(scale_factor=3, mode="nearest"), (1, 1, 2, 1, 2)),
             (("UpsamplingNearest2d",), dict(scale_factor=2), (1, 2, 3, 2)),
             (("UpsamplingBilinear2d",), dict(size=(4, 5)), (2, 1, 3, 2)),
             (("UpsamplingBilinear2d",), dict(scale_factor=2), (1, 2, 3, 3))]


@pytest.mark.parametrize("name, kwargs, shape", UPSAMPLES, ids=[f"{u[0][0]}-{u[1]}" for u in UPSAMPLES])
def test_upsampling_layers_match_torch(name, kwargs, shape):
    _compare(getattr(nn, name[0])(**kwargs), getattr(torch.nn, name[0])(**kwargs), shape)


def test_deprecated_upsample_is_interpolate():
    x = np.random.default_rng(1).standard_normal((1, 2, 3, 2, 2))
    ours = nn.functional.upsample(mg.tensor(x), scale_factor=2, mode="trilinear").numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.functional.upsample(torch.tensor(x), scale_factor=2, mode="trilinear").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_interpolate_errors_name_the_mode_and_shape():
    F = nn.functional
    with pytest.raises(ValueError, match=r"mode 'trilinear' needs a 5-D input, got shape \(1, 1, 2, 2\)"):
        F.interpolate(mg.zeros(1, 1, 2, 2), scale_factor=2, mode="trilinear")
    with pytest.raises(ValueError, match=r"mode 'bilinear' needs a 4-D input, got shape \(1, 1, 2, 2, 2\)"):
        F.interpolate(mg.zeros(1, 1, 2, 2, 2), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(mg.zeros(1, 1, 2, 2, 2), scale_factor=2, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="size must be a positive int or 3 of them"):
        F.interpolate(mg.zeros(1, 1, 2, 2, 2), size=(2, 2), mode="nearest")


def test_grid_sample_errors_name_the_op_and_shapes():
    F = nn.functional
    with pytest.raises(ValueError, match=r"grid_sample: expected input .* got shapes \(1, 1, 2, 2\) and \(2, 3, 3, 2\)"):
        F.grid_sample(mg.zeros(1, 1, 2, 2), mg.zeros(2, 3, 3, 2))
    with pytest.raises(ValueError, match="padding_mode must be"):
        F.grid_sample(mg.zeros(1, 1, 2, 2), mg.zeros(1, 3, 3, 2), padding_mode="wrap")
    with pytest.raises(NotImplementedError, match="grid_sample: mode 'bicubic'"):
        F.grid_sample(mg.zeros(1, 1, 2, 2), mg.zeros(1, 3, 3, 2), mode="bicubic")
    with pytest.raises(ValueError, match=r"affine_grid: expected theta of shape \(2, 2, 3\) .* got \(1, 2, 3\)"):
        F.affine_grid(mg.zeros(1, 2, 3), (2, 1, 3, 3))


def test_a_spatial_transformer_trains_theta_as_pytorch():
    # an affine_grid -> grid_sample chain: the gradient for theta flows through the grid
    rng = np.random.default_rng(3)
    x, theta = rng.standard_normal((2, 3, 5, 4)), np.array([[[0.9, 0.1, 0.05], [-0.2, 1.1, 0.1]]] * 2)
    ours_t = mg.tensor(theta, requires_grad=True)
    torch_t = torch.tensor(theta, requires_grad=True)
    for padding_mode in ("zeros", "border", "reflection"):
        ours = nn.functional.grid_sample(mg.tensor(x), nn.functional.affine_grid(ours_t, (2, 3, 4, 6)),
                                         padding_mode=padding_mode)
        theirs = torch.nn.functional.grid_sample(torch.tensor(x), torch.nn.functional.affine_grid(
            torch_t, (2, 3, 4, 6), align_corners=False), padding_mode=padding_mode, align_corners=False)
        (ours ** 2).sum().backward()
        (theirs ** 2).sum().backward()
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours_t.grad.numpy(), torch_t.grad.numpy(), rtol=1e-10, atol=1e-12)
