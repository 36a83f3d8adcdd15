"""The 1-D and 3-D convolution and pooling layers against torch.nn with the same weights (outputs,
input and parameter gradients in float64, state dicts both ways, reprs), the arguments only a
module takes (ConvTranspose's output_size, Conv3d's padding_mode), indices, integer dtypes, and
errors that name the op and the shapes.  The functional ops themselves are registry entries
(minigrad/testing/registry_convnd.py)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

torch = pytest.importorskip("torch")


def _to_torch(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _x(*shape, seed=1, unique=False):
    rng = np.random.default_rng(seed)
    if unique:          # no ties: max pooling's argmax is then the same in both
        return rng.permutation(np.arange(np.prod(shape))).reshape(shape) / 8.0
    return rng.uniform(-2.0, 2.0, shape)


def _compare(ours, theirs, x, *forward_args):
    """Same weights (randomised), same input: same outputs, gradients and state dicts."""
    ours, theirs = ours.double(), theirs.double()
    rng = np.random.default_rng(0)
    for p in ours.parameters():
        p._data[...] = rng.uniform(-1.0, 1.0, p.shape)
    sd = {k: v.detach().numpy() for k, v in ours.state_dict().items()}
    assert set(sd) == set(theirs.state_dict())
    theirs.load_state_dict({k: torch.as_tensor(np.array(v)) for k, v in sd.items()})
    xm, xt = mg.tensor(x, requires_grad=True), _to_torch(x, True)
    out, t_out = ours(xm, *forward_args), theirs(xt, *forward_args)
    out, t_out = (out[0], t_out[0]) if isinstance(out, tuple) else (out, t_out)
    assert out.shape == tuple(t_out.shape) and out.dtype == mg.float64
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    cot = rng.standard_normal(t_out.shape)
    out.backward(mg.tensor(cot))
    t_out.backward(torch.as_tensor(cot))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)


CONVS = [
    ("Conv3d", (4, 6, 3), {}, (2, 4, 5, 6, 5)),
    ("Conv3d", (4, 6, (1, 2, 3)), {"stride": (2, 1, 2), "padding": (0, 1, 1), "dilation": (1, 2, 1), "groups": 2},
     (2, 4, 5, 6, 7)),
    ("Conv3d", (2, 3, (2, 3, 2)), {"padding": "same", "bias": False}, (1, 2, 4, 5, 4)),
    ("Conv3d", (2, 3, 2), {"padding": "valid"}, (2, 4, 3, 3)),                     # unbatched
    ("Conv3d", (2, 4, 3), {"padding": 1, "padding_mode": "reflect", "groups": 2}, (1, 2, 4, 4, 5)),
    ("Conv3d", (2, 2, (2, 3, 3)), {"padding": (1, 2, 1), "padding_mode": "replicate"}, (1, 2, 3, 4, 3)),
    ("Conv3d", (2, 2, 3), {"padding": "same", "padding_mode": "circular", "dilation": 2}, (1, 2, 4, 5, 6)),
    ("ConvTranspose1d", (4, 6, 3), {}, (2, 4, 7)),
    ("ConvTranspose1d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 2},
     (2, 4, 7)),
    ("ConvTranspose1d", (3, 2, 2), {"bias": False}, (3, 5)),                       # unbatched
    ("ConvTranspose3d", (4, 2, 3), {}, (1, 4, 3, 4, 3)),
    ("ConvTranspose3d", (4, 6, (2, 3, 2)), {"stride": (2, 1, 3), "padding": (1, 0, 1), "output_padding": (1, 0, 2),
                                            "groups": 2, "dilation": (1, 2, 1)}, (2, 4, 3, 4, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", CONVS, ids=[f"{c[0]}-{k}" for k, c in enumerate(CONVS)])
def test_conv_modules_match_torch(name, args, kwargs, shape):
    _compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), _x(*shape))


def test_default_initialisation_bounds_as_pytorch():
    """kaiming_uniform(a=sqrt(5)): weights and biases within 1/sqrt(fan_in)."""
    for layer, fan_in in [(nn.Conv3d(4, 6, 3, groups=2), 2 * 27), (nn.ConvTranspose3d(4, 6, 2), 3 * 8),
                          (nn.ConvTranspose1d(3, 2, 5), 2 * 5)]:
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(layer.weight.detach().numpy()).max() <= bound
        assert np.abs(layer.bias.detach().numpy()).max() <= bound
        assert layer.weight.detach().numpy().std() > bound / 4         # not all zero


@pytest.mark.parametrize("name,args,shape,size", [
    ("ConvTranspose1d", (2, 3, 3), (1, 2, 5), [14]),
    ("ConvTranspose1d", (2, 3, 3), (1, 2, 5), [1, 3, 15]),
    ("ConvTranspose3d", (2, 3, 2), (1, 2, 3, 2, 3), [7, 3, 5]),
    ("ConvTranspose2d", (2, 3, 3), (2, 2, 5, 4), [14, 8]),              # the DCGAN / U-Net idiom
    ("ConvTranspose2d", (2, 3, 3), (2, 2, 5, 4), (2, 3, 15, 7)),
    ("ConvTranspose2d", (2, 3, 3), (2, 5, 4), [14, 8]),                 # unbatched
])
def test_conv_transpose_output_size_as_pytorch(name, args, shape, size):
    kwargs = {"stride": {"1d": 3, "2d": (3, 2), "3d": (3, 2, 2)}[name[-2:]], "padding": 1}
    _compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), _x(*shape), size)


def test_conv_transpose_output_size_out_of_range_names_the_range():
    layer = nn.ConvTranspose1d(2, 3, 3, stride=2)
    with pytest.raises(ValueError, match=r"ConvTranspose1d: requested an output size of \(13,\), but valid sizes "
                                         r"range from \(11,\) to \(12,\)"):
        layer(mg.tensor(_x(1, 2, 5)), output_size=[13])
    with pytest.raises(ValueError, match=r"ConvTranspose1d: requested an output size of \(10,\)"):
        layer(mg.tensor(_x(1, 2, 5)), output_size=[10])
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of \(13, 9\)"):
        nn.ConvTranspose2d(2, 3, 3, stride=2).double()(mg.tensor(_x(1, 2, 5, 4)), output_size=[13, 9])


def test_conv_transpose2d_takes_padding_mode_zeros_only_as_pytorch():
    assert nn.ConvTranspose2d(2, 3, 3, padding_mode="zeros").padding_mode == "zeros"
    with pytest.raises(ValueError, match="ConvTranspose2d: only padding_mode='zeros'"):
        nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")


POOLS = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3, 2, 1), {"dilation": 2, "ceil_mode": True}, (2, 3, 10)),
    ("MaxPool1d", (2,), {}, (3, 7)),                                               # unbatched
    ("MaxPool3d", (2,), {}, (2, 2, 4, 5, 6)),
    ("MaxPool3d", ((2, 3, 2), (1, 2, 2), (1, 1, 0)), {"dilation": (2, 1, 1), "ceil_mode": True}, (1, 2, 5, 6, 5)),
    ("AvgPool1d", (3,), {}, (2, 3, 10)),
    ("AvgPool1d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}, (2, 3, 10)),
    ("AvgPool3d", (2,), {}, (2, 2, 4, 5, 6)),
    ("AvgPool3d", ((2, 3, 2), (2, 2, 1), (1, 1, 0)), {"ceil_mode": True}, (1, 2, 5, 6, 5)),
    ("AvgPool3d", (2, 1), {"divisor_override": 3}, (2, 3, 3, 4)),                  # unbatched
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}, (2, 2, 5, 4, 7)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveMaxPool3d", (3,), {}, (2, 5, 4, 7)),
    ("LPPool1d", (2, 3), {}, (2, 3, 10)),
    ("LPPool2d", (1.5, (2, 3)), {"stride": (1, 2), "ceil_mode": True}, (2, 3, 5, 6)),
    ("LPPool3d", (3, 2), {}, (1, 2, 4, 4, 5)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", POOLS, ids=[f"{p[0]}-{k}" for k, p in enumerate(POOLS)])
def test_pool_modules_match_torch(name, args, kwargs, shape):
    x = _x(*shape, unique=True)
    if name.startswith("LP"):
        x = np.abs(x) + 0.25
    _compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), x)


@pytest.mark.parametrize("fn,shape,kwargs", [
    ("max_pool1d", (2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("max_pool3d", (2, 2, 5, 4, 6), {"kernel_size": (2, 3, 2), "stride": 1, "dilation": (2, 1, 1), "ceil_mode": True}),
    ("max_pool3d", (2, 5, 4, 6), {"kernel_size": 2}),
    ("adaptive_max_pool1d", (2, 3, 9), {"output_size": 4}),
    ("adaptive_max_pool3d", (2, 2, 5, 4, 6), {"output_size": (2, 3, 4)}),
])
def test_max_pool_indices_match_torch_and_unpool_inverts_them(fn, shape, kwargs):
    x = _x(*shape, unique=True)
    out, idx = getattr(F, fn)(mg.tensor(x), return_indices=True, **kwargs)
    t_out, t_idx = getattr(torch.nn.functional, fn)(_to_torch(x), return_indices=True, **kwargs)
    assert idx.dtype == mg.int64
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    if fn.startswith("max_pool") and "dilation" not in kwargs:
        nd = int(fn[-2])
        unpool = getattr(F, f"max_unpool{nd}d")(out, idx, kwargs["kernel_size"], kwargs.get("stride"),
                                              kwargs.get("padding", 0), output_size=x.shape[-nd:])
        t_unpool = getattr(torch.nn.functional, f"max_unpool{nd}d")(t_out, t_idx, kwargs["kernel_size"],
                                                                    kwargs.get("stride"), kwargs.get("padding", 0),
                                                                    output_size=x.shape[-nd:])
        np.testing.assert_array_equal(unpool.numpy(), t_unpool.numpy())


@pytest.mark.parametrize("name,args,shape", [("MaxUnpool1d", (2,), (2, 3, 8)), ("MaxUnpool2d", (2, 1), (1, 2, 4, 6)),
                                             ("MaxUnpool3d", (2,), (1, 2, 4, 4, 2))])
def test_max_unpool_modules_match_torch(name, args, shape):
    x = _x(*shape, unique=True)
    nd = int(name[-2])
    pool = getattr(torch.nn.functional, f"max_pool{nd}d")
    t_out, t_idx = pool(_to_torch(x), *args, return_indices=True)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    y = ours(mg.tensor(t_out.numpy(), requires_grad=True), mg.tensor(t_idx.numpy()))
    t_in = t_out.detach().requires_grad_(True)
    t_y = theirs(t_in, t_idx)
    np.testing.assert_array_equal(y.detach().numpy(), t_y.detach().numpy())
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_max_pools_keep_integer_dtypes_as_pytorch(dtype):
    x = (np.arange(2 * 2 * 4 * 4 * 4) % 251).astype(dtype)
    for fn, shape in [("max_pool2d", (2, 8, 4, 4)), ("max_pool3d", (2, 2, 4, 4, 4))]:
        out, idx = getattr(F, fn)(mg.tensor(x.reshape(shape)), 2, return_indices=True)
        t_out, t_idx = getattr(torch.nn.functional, fn)(torch.as_tensor(x.reshape(shape)), 2, return_indices=True)
        assert out.numpy().dtype == dtype
        np.testing.assert_array_equal(out.numpy(), t_out.numpy())
        np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    # PyTorch's max_pool1d computes integers only on its return_indices path (the other one refuses them)
    out = F.max_pool1d(mg.tensor(x.reshape(4, 8, 8)), 3, 2, 1)
    t_out, _ = torch.nn.functional.max_pool1d(torch.as_tensor(x.reshape(4, 8, 8)), 3, 2, 1, return_indices=True)
    assert out.numpy().dtype == dtype
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())


@pytest.mark.parametrize("kwargs,shape", [({}, (2, 3, 2, 3, 4)), ({"affine": True, "track_running_stats": True},
                                                                   (2, 3, 3, 2, 2)), ({"affine": True}, (3, 2, 3, 4))])
@pytest.mark.parametrize("train", [True, False])
def test_instance_norm3d_matches_torch(kwargs, shape, train):
    ours, theirs = nn.InstanceNorm3d(3, **kwargs), torch.nn.InstanceNorm3d(3, **kwargs)
    ours.train(train)
    theirs.train(train)
    _compare(ours, theirs, _x(*shape))
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.detach().numpy(), dict(theirs.named_buffers())[name].numpy(), rtol=1e-9)


def test_instance_norm3d_refuses_other_ranks():
    with pytest.raises(ValueError, match=r"InstanceNorm3d: expected a 4D \(unbatched\) or 5D input, got 3D"):
        nn.InstanceNorm3d(3)(mg.randn(3, 4, 5))


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv3d(mg.randn(3, 4, 4), mg.randn(2, 3, 1, 1, 1)),
     r"^conv3d: expected a 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\) input, got shape \(3, 4, 4\)"),
    (lambda: F.conv3d(mg.randn(1, 3, 4, 4, 4), mg.randn(2, 3, 1, 1)), r"^conv3d: expected a 5-D weight"),
    (lambda: F.conv3d(mg.randn(1, 4, 4, 4, 4), mg.randn(3, 2, 1, 1, 1), groups=2),
     r"^conv3d: groups=2 must be a positive int dividing the weight's dim 0 \(weight shape \(3, 2, 1, 1, 1\)\)"),
    (lambda: F.conv3d(mg.randn(1, 3, 4, 4, 4), mg.randn(2, 1, 1, 1, 1), groups=2),
     r"^conv3d: groups=2 must divide the input's 3 channels \(input shape \(1, 3, 4, 4, 4\)\)"),
    (lambda: F.conv3d(mg.randn(1, 3, 4, 4, 4), mg.randn(2, 2, 1, 1, 1)),
     r"^conv3d: input of shape \(1, 3, 4, 4, 4\) has 3 channels but weight of shape \(2, 2, 1, 1, 1\) expects 2"),
    (lambda: F.conv3d(mg.randn(1, 2, 2, 4, 4), mg.randn(2, 2, 3, 1, 1)),
     r"^conv3d: input of spatial size \(2, 4, 4\) \(padding 0\) is smaller than the dilated kernel \(3, 1, 1\)"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 3, 3, 3), stride=2, padding="same"),
     r"^conv3d: padding='same' needs stride 1"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 1, 1, 1), bias=mg.randn(3)),
     r"^conv3d: bias must have shape \(2,\), got \(3,\)"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 1, 1, 1), stride=(1, 2)),
     r"^conv3d: stride must be an int or a tuple of 3 ints"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4).double(), mg.randn(2, 2, 1, 1, 1).float()),
     r"^conv3d: input is float64 but weight is float32"),
    (lambda: F.conv_transpose1d(mg.randn(1, 3, 5), mg.randn(2, 2, 3)),
     r"^conv_transpose1d: input of shape \(1, 3, 5\) has 3 channels but weight of shape \(2, 2, 3\) expects 2"),
    (lambda: F.conv_transpose3d(mg.randn(1, 2, 3, 3, 3), mg.randn(2, 2, 3, 3, 3), stride=2, output_padding=2),
     r"^conv_transpose3d: output_padding \(2, 2, 2\) must be smaller than stride \(2, 2, 2\) or dilation"),
    (lambda: F.conv_transpose1d(mg.randn(1, 2, 1), mg.randn(2, 2, 1), padding=1),
     r"^conv_transpose1d: input of shape \(1, 2, 1\) .* gives the non-positive output size \(-1,\)"),
    (lambda: F.max_pool3d(mg.randn(2, 3, 4, 4), 2),
     None),                                                                       # unbatched (C, D, H, W): fine
    (lambda: F.max_pool3d(mg.randn(3, 4, 4), 2),
     r"^max_pool3d: expected a 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\) input, got shape \(3, 4, 4\)"),
    (lambda: F.max_pool1d(mg.randn(1, 2, 3), 5), r"^max_pool1d: input of spatial size \(3,\) is too small"),
    (lambda: F.max_pool1d(mg.randn(1, 2, 8), 2, padding=2), r"^max_pool1d: padding \(2,\) must be at most half"),
    (lambda: F.avg_pool3d(mg.randn(1, 2, 4, 4, 4), 2, divisor_override=0),
     r"^avg_pool3d: divisor_override must be a positive int"),
    (lambda: F.adaptive_avg_pool3d(mg.randn(1, 2, 4, 4, 4), (2, 2)),
     r"^adaptive_avg_pool3d: output_size must be an int or 3 values"),
    (lambda: F.max_unpool1d(mg.randn(1, 2, 4), mg.tensor(np.zeros((1, 2, 3), dtype=np.int64)), 2),
     r"^max_unpool1d: indices of shape \(1, 2, 3\) must match the input's \(1, 2, 4\)"),
    (lambda: F.max_unpool1d(mg.randn(1, 1, 2), mg.tensor(np.array([[[0, 4]]])), 2),
     r"^max_unpool1d: indices must lie in \[0, 4\) for the output size \(4,\)"),
    (lambda: F.lp_pool2d(mg.randn(1, 2, 4, 4), 0, 2), r"^lp_pool2d: norm_type must be nonzero"),
])
def test_errors_name_the_op_and_the_shapes(call, message):
    if message is None:
        assert call().shape == (2, 1, 2, 2)
        return
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_numpy_integer_arguments_are_accepted():
    x, w = mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 2, 2, 2)
    assert F.conv3d(x, w, stride=np.int64(2), padding=(np.int64(1),) * 3).shape == (1, 2, 3, 3, 3)


def test_module_errors():
    with pytest.raises(ValueError, match=r"Conv3d: padding_mode must be one of"):
        nn.Conv3d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"ConvTranspose3d: padding_mode must be one of \('zeros',\)"):
        nn.ConvTranspose3d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"in_channels must be divisible by groups \(in_channels=3, groups=2\)"):
        nn.Conv3d(3, 2, 1, groups=2)


def test_conv3d_second_order_matches_torch():
    """d/dx and d/dW of a function of conv3d's gradients (the three adjoint Functions)."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 4, 5, 3)), rng.standard_normal((6, 2, 2, 3, 2))
    xm, wm = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    xt, wt = _to_torch(x, True), _to_torch(w, True)
    kw = {"stride": (2, 1, 1), "padding": 1, "dilation": (1, 1, 2), "groups": 2}
    gm = mg.autograd.grad((F.conv3d(xm, wm, **kw) ** 2).sum(), [xm, wm], create_graph=True)
    gt = torch.autograd.grad((torch.nn.functional.conv3d(xt, wt, **kw) ** 2).sum(), [xt, wt], create_graph=True)
    ((gm[0] ** 2).sum() + (gm[1] * wm).sum()).backward()
    ((gt[0] ** 2).sum() + (gt[1] * wt).sum()).backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(wm.grad.numpy(), wt.grad.numpy(), rtol=1e-9)
