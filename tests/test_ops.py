"""Every entry of the op registry, under every check.

For each differentiable op of the public API (``minigrad.testing.REGISTRY``), with inputs
drawn by hypothesis (shapes, broadcasting, keyword arguments, kink- and tie-free values):

* the forward matches the NumPy reference, in float32 and float64, and keeps the dtype;
* the gradient matches central finite differences in float64 (``minigrad.gradcheck``);
* gradients have the inputs' shapes and dtypes, a zero cotangent gives zero gradients,
  backward twice gives identical results, and the inputs are not mutated;
* forward and gradients match PyTorch's in float64 (when PyTorch is installed);
* path samples (``OpSpec.paths``) take the Winograd and im2col convolutions and every threaded
  Numba kernel, pass every check there, and give float32 gradients close to the float64 ones.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import REGISTRY, checks, paths
from minigrad.testing.harness import as_outputs, build_inputs, differentiable, grad_inputs, run_op, to_numpy_outputs
from minigrad.testing.strategies import HypothesisDrawer

from conftest import DEVICE
from helpers import host

SPECS = [pytest.param(s, id=s.name) for s in REGISTRY]


def _draw(spec, data, dtype=np.float64):
    if spec.needs_cuda and DEVICE == "cpu":
        pytest.skip("needs a CUDA device")
    return spec.sample(HypothesisDrawer(data), dtype)


@pytest.mark.parametrize("spec", SPECS)
@given(data=st.data())
def test_forward_matches_numpy_reference(spec, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    checks.forward_matches_reference(spec, _draw(spec, data, dtype), dtype, DEVICE)


@pytest.mark.parametrize("spec", SPECS)
@given(data=st.data())
def test_gradient_matches_finite_differences(spec, data):
    checks.gradient_matches_finite_differences(spec, _draw(spec, data), DEVICE)


@pytest.mark.parametrize("spec", SPECS)
@given(data=st.data())
def test_gradient_properties(spec, data):
    """Shapes and dtypes, zero cotangent, determinism, no mutation of the inputs."""
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    checks.gradient_properties(spec, _draw(spec, data, dtype), dtype, DEVICE)


def _torch_value(t, value, requires_grad):
    if isinstance(value, np.ndarray):
        tensor = t.as_tensor(value.copy())
        return tensor.requires_grad_(requires_grad and value.dtype.kind == "f")
    return value


@pytest.mark.parametrize("spec", [s for s in SPECS if s.values[0].torch is not None])
@given(data=st.data())
def test_matches_pytorch(spec, data, torch):
    sample = _draw(spec, data)
    args, kwargs = build_inputs(sample, DEVICE)
    outs = run_op(spec, args, kwargs)
    t_args = [_torch_value(torch, a, k not in sample.constant) for k, a in enumerate(sample.args)]
    t_outs = as_outputs(spec.torch(torch, *t_args, **sample.kwargs))
    assert len(outs) == len(t_outs)
    for k, (o, to) in enumerate(zip(to_numpy_outputs(outs), t_outs)):
        np.testing.assert_allclose(o, to.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{spec.name}: forward output {k} differs from PyTorch")
    ours = differentiable(outs)
    inputs = grad_inputs(args)
    t_inputs = [a for a in t_args if isinstance(a, torch.Tensor) and a.requires_grad]
    t_float = [o for o in t_outs if o.dtype.is_floating_point and o.requires_grad]
    if not ours or not inputs:
        return
    cot = checks.cotangents(ours, 2)
    grads = mg.autograd.grad(ours, inputs, grad_outputs=[mg.tensor(c, device=o.device) for c, o in zip(cot, ours)],
                             allow_unused=True)
    t_grads = torch.autograd.grad(t_float, t_inputs, grad_outputs=[torch.as_tensor(c) for c in cot], allow_unused=True)
    for k, (g, tg) in enumerate(zip(grads, t_grads)):
        expected = np.zeros(inputs[k].shape) if tg is None else tg.numpy()
        got = np.zeros(inputs[k].shape) if g is None else host(g)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11,
                                   err_msg=f"{spec.name}: gradient {k} differs from PyTorch")


# ----------------------------------------------------------------------------- float16 and the public op's name
def _half(*shape, grad=True):
    return mg.randn(*shape).to(mg.float16).requires_grad_(grad)


_HALF_OPS = {
    "conv2d": lambda F: F.conv2d(_half(1, 2, 5, 5), _half(3, 2, 3, 3)),
    "conv1d": lambda F: F.conv1d(_half(1, 2, 5), _half(3, 2, 3)),
    "conv_transpose2d": lambda F: F.conv_transpose2d(_half(1, 2, 5, 5), _half(2, 3, 3, 3)),
    "max_pool2d": lambda F: F.max_pool2d(_half(1, 2, 4, 4), 2),
    "avg_pool2d": lambda F: F.avg_pool2d(_half(1, 2, 4, 4), 2),
    "adaptive_max_pool2d": lambda F: F.adaptive_max_pool2d(_half(1, 2, 5, 5), 2),
    "batch_norm": lambda F: F.batch_norm(_half(4, 2), None, None, training=True),
    "gelu": lambda F: F.gelu(_half(3)),
    "embedding": lambda F: F.embedding(mg.tensor([0, 2]), _half(4, 3)),
    "cross_entropy": lambda F: F.cross_entropy(_half(2, 3), mg.tensor([0, 2])),
    "lstm": lambda F: mg.nn.LSTM(2, 3).to(mg.float16)(_half(4, 1, 2)),
    "gru": lambda F: mg.nn.GRU(2, 3).to(mg.float16)(_half(4, 1, 2)),
    "rnn_tanh": lambda F: mg.nn.RNN(2, 3).to(mg.float16)(_half(4, 1, 2)),
    "lstm_cell": lambda F: mg.nn.LSTMCell(2, 3).to(mg.float16)(_half(1, 2)),
}


@pytest.mark.parametrize("name", sorted(_HALF_OPS))
def test_float16_is_refused_by_the_public_op_by_its_name(name):
    import minigrad.nn.functional as F

    def run():
        out = _HALF_OPS[name](F)
        out = out[0] if isinstance(out, tuple) else out
        out.float().sum().backward()            # the backward's kernels too

    with pytest.raises(TypeError, match=rf"^{name}: float16 is not supported .*\.float\(\)"):
        run()


@pytest.mark.parametrize("call, message", [
    (lambda F: F.conv1d(mg.randn(2, 3, 8), mg.randn(4, 2, 3)), r"^conv1d: input of shape \(2, 3, 8\) has 3 channels"),
    (lambda F: F.conv1d(mg.randn(2, 3, 8), mg.randn(4, 3, 3), stride=0), "^conv1d: stride and dilation"),
    (lambda F: F.conv1d(mg.randn(2, 3, 2), mg.randn(4, 3, 3)), "^conv1d: input of length 2"),
    (lambda F: F.conv1d(mg.randn(2, 3, 8), mg.randn(4, 3, 3), groups=2), "^conv1d: groups=2"),
    (lambda F: F.conv_transpose2d(mg.randn(1, 3, 4, 4), mg.randn(3, 2, 3, 3), stride=0), "^conv_transpose2d: stride"),
])
def test_conv_errors_name_the_public_op(call, message):
    import minigrad.nn.functional as F
    with pytest.raises(ValueError, match=message):
        call(F)


# ----------------------------------------------------------------------------- implementation paths
PATH_SAMPLES = [pytest.param(s, label, id=f"{s.name}-{label}") for s in REGISTRY for label in s.paths]


def _assert_took(spec, label, fired, dtype):
    for path in spec.paths[label][1]:
        absent = paths.missing(path, fired)
        assert not absent, (f"{spec.name} {label} ({np.dtype(dtype)}): path {path} not taken ({absent} never ran); "
                            f"was a threshold moved (PARALLEL_MIN_ELEMENTS = {paths.PARALLEL_MIN_ELEMENTS})?")


@pytest.mark.skipif(DEVICE != "cpu", reason="the paths are the CPU's")
@pytest.mark.parametrize("spec, label", PATH_SAMPLES)
def test_path_samples_take_their_path_and_pass_every_check(spec, label):
    """Float64: forward against the reference, gradcheck, gradient properties, on the fast path."""
    sample = spec.paths[label][0](np.float64)
    with paths.taken() as fired:
        for check in checks.CHECKS.values():
            check(spec, sample)
    _assert_took(spec, label, fired, np.float64)


@pytest.mark.skipif(DEVICE != "cpu", reason="the paths are the CPU's")
@pytest.mark.parametrize("spec, label", PATH_SAMPLES)
def test_path_samples_in_float32(spec, label):
    """Float32 end to end on the fast path: the forward against the reference, and the gradients
    against the float64 gradients of the same inputs (checked above by finite differences)."""
    sample64 = spec.paths[label][0](np.float64)
    with paths.taken() as fired:
        checks.forward_matches_reference(spec, spec.paths[label][0](np.float32), np.float32)
        grads32 = _gradients(spec, sample64, np.float32)
    _assert_took(spec, label, fired, np.float32)
    for k, (g32, g64) in enumerate(zip(grads32, _gradients(spec, sample64, np.float64))):
        assert g32.dtype == np.float32
        scale = np.abs(g64).max() if g64.size else 0.0
        # float32 carries 7 digits; sums over up to a few thousand terms lose about two of them
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4 * scale, err_msg=f"{spec.name} {label}: gradient {k}")


def _gradients(spec, sample, dtype):
    args, kwargs = build_inputs(sample, dtype=dtype)
    outs = differentiable(run_op(spec, args, kwargs))
    inputs = grad_inputs(args)
    grads = mg.autograd.grad(outs, inputs, grad_outputs=[mg.tensor(c.astype(dtype)) for c in checks.cotangents(outs, 3)],
                             allow_unused=True)
    return [np.zeros(x.shape, dtype) if g is None else host(g) for g, x in zip(grads, inputs)]


def test_every_path_has_a_sample():
    """Every convolution algorithm and every threaded Numba kernel (found by inspection) is taken
    by some registry path sample: a new parallel kernel needs one."""
    claimed = {path for s in REGISTRY for _, takes in s.paths.values() for path in takes}
    assert set(paths.PATHS) - claimed == set(), f"paths no registry sample takes: {sorted(set(paths.PATHS) - claimed)}"
    assert len([p for p in paths.PATHS if p.startswith("parallel:")]) >= 20


# ----------------------------------------------------------------------------- dropout's randomness
@pytest.mark.parametrize("channels", [False, True], ids=["dropout", "dropout2d"])
@pytest.mark.parametrize("p", [0.0, 0.3, 0.75, 1.0])
def test_dropout_scales_kept_values_and_backward_uses_the_same_mask(p, channels):
    """Through the public functions, default generator: kept values are x / (1 - p), the rest 0,
    the keep rate is 1 - p, whole channels for dropout2d, and the gradient is g times the mask
    the forward drew (no generator is replayed here: the backward must have kept it)."""
    F = mg.nn.functional
    x = mg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (8, 64, 6, 6)), requires_grad=True)
    y = (F.dropout2d if channels else F.dropout)(x, p)
    scale = 0.0 if p == 1 else 1 / (1 - p)
    ratio = host(y) / host(x)
    kept = ratio != 0
    np.testing.assert_allclose(ratio[kept], scale, rtol=1e-15)
    if channels:
        assert (kept == kept[:, :, :1, :1]).all(), "dropout2d must keep or drop whole channels"
    decisions = kept[:, :, 0, 0] if channels else kept
    assert abs(decisions.mean() - (1 - p)) < 4 * np.sqrt(p * (1 - p) / decisions.size) + 1e-12
    g = np.random.default_rng(1).standard_normal(x.shape)
    (dx,) = mg.autograd.grad(y, x, grad_outputs=mg.tensor(g))
    np.testing.assert_allclose(host(dx), g * ratio, rtol=1e-15, atol=0)
    assert (F.dropout2d if channels else F.dropout)(x, p, training=False) is x       # evaluation: identity


def test_dropout_with_a_seeded_generator_repeats_its_mask():
    F = mg.nn.functional
    x = mg.randn(4, 100, dtype=mg.float64)
    first = F.dropout(x, 0.5, generator=mg.Generator().manual_seed(7))
    again = F.dropout(x, 0.5, generator=mg.Generator().manual_seed(7))
    other = F.dropout(x, 0.5, generator=mg.Generator().manual_seed(8))
    np.testing.assert_array_equal(host(first), host(again))
    assert not np.array_equal(host(first), host(other))
