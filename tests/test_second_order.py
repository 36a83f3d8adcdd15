"""Second order, for every entry of the op registry: gradgradcheck in float64 on hypothesis-drawn
inputs, and second derivatives against PyTorch's (same cotangents on both sides) when it is
installed.  And: every Function in minigrad.ops can be differentiated twice."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd import Function
from minigrad.testing import REGISTRY, RandomDrawer
from minigrad.testing.registry import SECOND_ORDER_UNSUPPORTED
from minigrad.testing.harness import (as_outputs, build_inputs, differentiable, grad_inputs, op_function,
                                      run_op)
from minigrad.testing.strategies import HypothesisDrawer

from conftest import DEVICE
from helpers import host

SPECS = [pytest.param(s, id=s.name) for s in REGISTRY]

def _draw(spec, data):
    if spec.needs_cuda and DEVICE == "cpu":
        pytest.skip("needs a CUDA device")
    return spec.sample(HypothesisDrawer(data), np.float64)


def _function_classes():
    found, todo = set(), [Function]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("minigrad.ops."):
                found.add(sub)
    return found


def test_every_function_supports_second_order():
    missing = sorted(c.__name__ for c in _function_classes()
                     if not c.differentiable_backward and c.composite is None and c.__name__ not in SECOND_ORDER_UNSUPPORTED)
    assert not missing, f"Functions without second-order support or a registered reason: {missing}"


@pytest.mark.parametrize("spec", SPECS)
@given(data=st.data())
def test_gradgradcheck(spec, data):
    sample = _draw(spec, data)
    args, kwargs = build_inputs(sample, DEVICE)
    fn, diff = op_function(spec, args, kwargs)
    if not diff or not differentiable(fn(*diff)):
        return
    assert mg.gradgradcheck(fn, diff, eps=spec.eps, atol=spec.grad_atol, rtol=spec.grad_rtol,
                            allow_nonfinite=spec.allow_nonfinite)


def _torch_value(t, value, requires_grad):
    if isinstance(value, np.ndarray):
        return t.as_tensor(value.copy()).requires_grad_(requires_grad and value.dtype.kind == "f")
    return value


@pytest.mark.parametrize("spec", [s for s in SPECS if s.values[0].torch is not None])
@given(data=st.data())
def test_second_derivatives_match_pytorch(spec, data, torch):
    """grad(grad(f, x, v, create_graph) . w, x) on both sides, same v and w."""
    sample = _draw(spec, data)
    args, kwargs = build_inputs(sample, DEVICE)
    outs = differentiable(run_op(spec, args, kwargs))
    inputs = grad_inputs(args)
    if not outs or not inputs:
        return
    t_args = [_torch_value(torch, a, k not in sample.constant) for k, a in enumerate(sample.args)]
    t_outs = [o for o in as_outputs(spec.torch(torch, *t_args, **sample.kwargs))
              if o.dtype.is_floating_point and o.requires_grad]
    t_inputs = [a for a in t_args if isinstance(a, torch.Tensor) and a.requires_grad]
    rng = np.random.default_rng(3)
    vs = [rng.standard_normal(o.shape) for o in outs]
    firsts = mg.autograd.grad(outs, inputs, [mg.tensor(v) for v in vs], create_graph=True, allow_unused=True)
    t_firsts = torch.autograd.grad(t_outs, t_inputs, [torch.as_tensor(v) for v in vs], create_graph=True,
                                   allow_unused=True)
    used = [k for k, (g, tg) in enumerate(zip(firsts, t_firsts)) if g is not None and g.requires_grad
            and tg is not None and tg.requires_grad]
    if not used:
        return
    ws = [rng.standard_normal(inputs[k].shape) for k in used]
    seconds = mg.autograd.grad([firsts[k] for k in used], inputs, [mg.tensor(w) for w in ws], allow_unused=True)
    t_seconds = torch.autograd.grad([t_firsts[k] for k in used], t_inputs, [torch.as_tensor(w) for w in ws],
                                    allow_unused=True)
    for k, (g, tg) in enumerate(zip(seconds, t_seconds)):
        expected = np.zeros(inputs[k].shape) if tg is None else tg.numpy()
        got = np.zeros(inputs[k].shape) if g is None else host(g)
        # atol 1e-9: where the exact second derivative is 0 (a normalisation over two elements, whose output is
        # +-1 whatever the input), both sides are rounding noise of about 1e-10
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-9,
                                   err_msg=f"{spec.name}: second derivative {k} differs from PyTorch")


@pytest.mark.parametrize("spec", [s for s in SPECS if s.values[0].torch is not None and not s.values[0].needs_cuda])
def test_forward_mode_matches_pytorch(spec, torch):
    """jvp (J u, by the double-vjp trick) against torch.autograd.functional.jvp on one draw."""
    import torch.autograd.functional as TF
    sample = spec.sample(RandomDrawer(7), np.float64)
    args, kwargs = build_inputs(sample, DEVICE)
    fn, diff = op_function(spec, args, kwargs)
    if not diff or not differentiable(fn(*diff)):
        return
    positions = [k for k, a in enumerate(args) if isinstance(a, mg.Tensor) and a.requires_grad]
    rng = np.random.default_rng(5)
    us = [rng.standard_normal(a.shape) for a in diff]

    def floats_only(outs):
        return tuple(o for o in outs if o.dtype.kind == "f") if isinstance(outs, tuple) else outs

    _, ours = mg.autograd.functional.jvp(lambda *xs: floats_only(fn(*xs)), tuple(diff), tuple(mg.tensor(u) for u in us))

    def t_fn(*xs):
        full = [_torch_value(torch, a, False) for a in sample.args]
        for k, x in zip(positions, xs):
            full[k] = x
        outs = as_outputs(spec.torch(torch, *full, **sample.kwargs))
        return tuple(o for o in outs if o.dtype.is_floating_point)
    t_in = tuple(torch.as_tensor(sample.args[k].copy()) for k in positions)
    _, theirs = TF.jvp(t_fn, t_in, tuple(torch.as_tensor(u) for u in us))
    ours = ours if isinstance(ours, tuple) else (ours,)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        expected = b.numpy()
        if not np.isfinite(expected).all():      # PyTorch's double backward gives NaN (logcumsumexp): use J u
            expected = _central_jvp(lambda *xs: floats_only(fn(*xs)), diff, us)[k]       # by differences
            np.testing.assert_allclose(host(a), expected, rtol=1e-6, atol=1e-7,
                                       err_msg=f"{spec.name}: jvp output {k} differs from finite differences")
            continue
        np.testing.assert_allclose(host(a), expected, rtol=1e-8, atol=1e-10,
                                   err_msg=f"{spec.name}: jvp output {k} differs from PyTorch")


def _central_jvp(fn, inputs, directions, eps=1e-6):
    def at(sign):
        with mg.no_grad():
            outs = fn(*[mg.tensor(host(x) + sign * eps * u) for x, u in zip(inputs, directions)])
        return [host(o) for o in (outs if isinstance(outs, tuple) else (outs,))]
    return [(p - m) / (2 * eps) for p, m in zip(at(1), at(-1))]
