"""Every entry of the op registry, under every check.

For each differentiable op of the public API (``minigrad.testing.REGISTRY``), with inputs
drawn by hypothesis (shapes, broadcasting, keyword arguments, kink- and tie-free values):

* the forward matches the NumPy reference, in float32 and float64, and keeps the dtype;
* the gradient matches central finite differences in float64 (``minigrad.gradcheck``);
* gradients have the inputs' shapes and dtypes, a zero cotangent gives zero gradients,
  backward twice gives identical results, and the inputs are not mutated;
* forward and gradients match PyTorch's in float64 (when PyTorch is installed).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import REGISTRY
from minigrad.testing.harness import (as_outputs, build_inputs, differentiable, grad_inputs, numpy_args,
                                      op_function, run_op, to_numpy_outputs)
from minigrad.testing.strategies import HypothesisDrawer

from conftest import DEVICE
from helpers import host

SPECS = [pytest.param(s, id=s.name) for s in REGISTRY]


def _draw(spec, data, dtype=np.float64):
    if spec.needs_cuda and DEVICE == "cpu":
        pytest.skip("needs a CUDA device")
    return spec.sample(HypothesisDrawer(data), dtype)


def _cotangents(outputs, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape).astype(o.dtype) for o in outputs]


@pytest.mark.parametrize("spec", SPECS)
@given(data=st.data())
def test_forward_matches_numpy_reference(spec, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    sample = _draw(spec, data, dtype)
    args, kwargs = build_inputs(sample, DEVICE)
    outs = run_op(spec, args, kwargs)
    ref_args, ref_kwargs = numpy_args(sample, np.float64)
    refs = as_outputs(spec.ref(*ref_args, **ref_kwargs))
    assert len(outs) == len(refs), f"{spec.name}: {len(outs)} outputs, reference has {len(refs)}"
    for k, (out, ref) in enumerate(zip(outs, refs)):
        ref = np.asarray(ref)
        got = host(out)
        assert got.shape == ref.shape, f"{spec.name} output {k}: shape {got.shape} != reference {ref.shape}"
        if ref.dtype.kind == "f":
            assert got.dtype == dtype, f"{spec.name} output {k}: dtype {got.dtype} for {np.dtype(dtype)} inputs"
            rtol = spec.rtol if dtype == np.float64 else spec.rtol32
            atol = spec.atol if dtype == np.float64 else 10 * spec.rtol32 * 1e-1
            np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=f"{spec.name} output {k}")
        else:
            np.testing.assert_array_equal(got, ref, err_msg=f"{spec.name} output {k}")


@pytest.mark.parametrize("spec", SPECS)
@given(data=st.data())
def test_gradient_matches_finite_differences(spec, data):
    sample = _draw(spec, data)
    args, kwargs = build_inputs(sample, DEVICE)
    fn, diff = op_function(spec, args, kwargs)
    if not diff:
        return
    assert mg.gradcheck(fn, diff, eps=spec.eps, atol=spec.grad_atol, rtol=spec.grad_rtol)


@pytest.mark.parametrize("spec", SPECS)
@given(data=st.data())
def test_gradient_properties(spec, data):
    """Shapes and dtypes, zero cotangent, determinism, no mutation of the inputs."""
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    sample = _draw(spec, data, dtype)
    args, kwargs = build_inputs(sample, DEVICE)
    before = [host(a).copy() if isinstance(a, mg.Tensor) else None for a in args]
    outs = differentiable(run_op(spec, args, kwargs))
    inputs = grad_inputs(args)
    if not outs or not inputs:
        return
    cot = _cotangents(outs, 1)
    devices = [o.device for o in outs]         # an output may live elsewhere (to_device ends on the CPU)
    grads = mg.autograd.grad(outs, inputs, grad_outputs=[mg.tensor(c, device=d) for c, d in zip(cot, devices)],
                             retain_graph=True, allow_unused=True)
    again = mg.autograd.grad(outs, inputs, grad_outputs=[mg.tensor(c, device=d) for c, d in zip(cot, devices)],
                             retain_graph=True, allow_unused=True)
    zeros = mg.autograd.grad(outs, inputs, grad_outputs=[mg.zeros(c.shape, dtype=c.dtype, device=d)
                                                         for c, d in zip(cot, devices)], allow_unused=True)
    for k, (x, g, g2, z) in enumerate(zip(inputs, grads, again, zeros)):
        if g is None:
            continue
        assert g.shape == x.shape, f"{spec.name}: gradient {k} has shape {g.shape}, input {x.shape}"
        assert g.dtype == x.dtype, f"{spec.name}: gradient {k} has dtype {g.dtype}, input {x.dtype}"
        np.testing.assert_array_equal(host(g), host(g2), err_msg=f"{spec.name}: second backward differs")
        assert not np.any(host(z)), f"{spec.name}: zero cotangent gave a non-zero gradient {k}"
    for k, (a, b) in enumerate(zip(args, before)):
        if b is not None:
            np.testing.assert_array_equal(host(a), b, err_msg=f"{spec.name}: input {k} was mutated")


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
    cot = _cotangents(ours, 2)
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
