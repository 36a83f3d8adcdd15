"""The registry's checks, one function each, for one entry and one drawn sample.

``tests/test_ops.py`` runs them on hypothesis-drawn samples, and the mutation score
(:mod:`minigrad.testing.mutation`) runs the same functions on seeded samples against mutated
backwards.  Each raises ``AssertionError`` (or :class:`~minigrad.GradcheckError`) on a failure.
None needs PyTorch: the PyTorch cross-check stays in the test suite.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg

from .. import backend
from .harness import as_outputs, build_inputs, differentiable, grad_inputs, numpy_args, op_function, run_op

__all__ = ["forward_matches_reference", "gradient_matches_finite_differences", "gradient_properties", "CHECKS"]


def _host(x):
    data = x._data if isinstance(x, mg.Tensor) else x
    return backend.to_device(data, backend.CPU) if backend.is_array(data) else np.asarray(data)


def forward_matches_reference(spec, sample, dtype=np.float64, device="cpu"):
    """The forward matches the NumPy reference (computed in float64) and keeps the dtype."""
    args, kwargs = build_inputs(sample, device)
    outs = run_op(spec, args, kwargs)
    ref_args, ref_kwargs = numpy_args(sample, np.float64)
    refs = as_outputs(spec.ref(*ref_args, **ref_kwargs))
    assert len(outs) == len(refs), f"{spec.name}: {len(outs)} outputs, reference has {len(refs)}"
    for k, (out, ref) in enumerate(zip(outs, refs)):
        ref = np.asarray(ref)
        got = _host(out)
        assert got.shape == ref.shape, f"{spec.name} output {k}: shape {tuple(got.shape)} != reference {tuple(ref.shape)}"
        if ref.dtype.kind == "f":
            expected = np.dtype(spec.out_dtype or dtype)
            assert got.dtype == expected, f"{spec.name} output {k}: dtype {got.dtype} for {np.dtype(dtype)} inputs"
            rtol = spec.rtol if dtype == np.float64 else spec.rtol32
            atol = spec.atol if dtype == np.float64 else spec.rtol32
            np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=f"{spec.name} output {k}")
        else:
            np.testing.assert_array_equal(got, ref, err_msg=f"{spec.name} output {k}")


def gradient_matches_finite_differences(spec, sample, device="cpu", seed=0):
    """Float64 gradients against central differences (``minigrad.gradcheck``, its tight defaults
    unless the entry says otherwise)."""
    args, kwargs = build_inputs(sample, device)
    fn, diff = op_function(spec, args, kwargs)
    if diff:
        assert mg.gradcheck(fn, diff, eps=spec.eps, atol=spec.grad_atol, rtol=spec.grad_rtol, seed=seed,
                            allow_nonfinite=spec.allow_nonfinite)


def cotangents(outputs, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape).astype(o.dtype) for o in outputs]


def gradient_properties(spec, sample, dtype=np.float64, device="cpu"):
    """Gradients have the inputs' shapes and dtypes, a zero cotangent gives zero gradients,
    backward twice gives identical results, and the inputs are not mutated."""
    args, kwargs = build_inputs(sample, device)
    before = [_host(a).copy() if isinstance(a, mg.Tensor) else None for a in args]
    outs = differentiable(run_op(spec, args, kwargs))
    inputs = grad_inputs(args)
    if not outs or not inputs:
        return
    cot = cotangents(outs, 1)
    devices = [o.device for o in outs]         # an output may live elsewhere (to_device ends on the CPU)

    def backward(values):
        return mg.autograd.grad(outs, inputs, grad_outputs=[mg.tensor(c, device=d) for c, d in zip(values, devices)],
                                retain_graph=True, allow_unused=True)
    grads, again = backward(cot), backward(cot)
    zeros = backward([np.zeros_like(c) for c in cot])
    for k, (x, g, g2, z) in enumerate(zip(inputs, grads, again, zeros)):
        if g is None:
            continue
        assert g.shape == x.shape, f"{spec.name}: gradient {k} has shape {tuple(g.shape)}, input {tuple(x.shape)}"
        assert g.dtype == x.dtype, f"{spec.name}: gradient {k} has dtype {g.dtype}, input {x.dtype}"
        np.testing.assert_array_equal(_host(g), _host(g2), err_msg=f"{spec.name}: second backward differs")
        assert not np.any(_host(z)), f"{spec.name}: zero cotangent gave a non-zero gradient {k}"
    for k, (a, b) in enumerate(zip(args, before)):
        if b is not None:
            np.testing.assert_array_equal(_host(a), b, err_msg=f"{spec.name}: input {k} was mutated")


#: name -> check(spec, sample): what the mutation score runs (float64, CPU).
CHECKS = {
    "forward": forward_matches_reference,
    "gradcheck": gradient_matches_finite_differences,
    "properties": gradient_properties,
}
