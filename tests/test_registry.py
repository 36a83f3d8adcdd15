"""The registry is complete: every public op and every Function in minigrad.ops is covered."""
import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd import Function
from minigrad.testing import NON_DIFFERENTIABLE, REGISTRY, RandomDrawer
from minigrad.testing.harness import build_inputs, run_op
from minigrad.testing.strategies import HypothesisDrawer

OP_MODULES = ["activation", "compare", "conversion", "conv", "dropout", "elementwise", "linalg", "loss", "norm",
              "pool", "reduce", "shape", "embedding", "recurrent", "interpolate",
              "activation_extra", "norm_extra", "distance", "loss_extra", "math", "scan",
              "indexing", "sorting", "linalg_extra", "blocks", "sampling", "conv_nd", "pool_nd",
              "loss_misc", "ctc", "activation_misc", "dropout_extra", "embedding_bag", "attention",
              "composite", "discrete", "linalg_decomp", "special", "linalg_more"]
#: Functions no CPU-only run can exercise, with the entry that does on a GPU.
NEEDS_CUDA = {"Transfer": "to_device"}


def _public_ops():
    for name in OP_MODULES:
        module = importlib.import_module(f"minigrad.ops.{name}")
        for op in module.__all__:
            yield name, op


def _function_classes():
    found = set()
    todo = [Function]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("minigrad.ops."):
                found.add(sub)
    return found


def test_every_public_op_has_an_entry_or_a_reason():
    covered = {s.op for s in REGISTRY}
    missing = [f"{module}.{op}" for module, op in _public_ops() if op not in covered and op not in NON_DIFFERENTIABLE]
    assert not missing, f"public ops without a registry entry: {missing}"


def test_every_entry_names_a_public_op():
    public = {op for _, op in _public_ops()}
    unknown = [s.name for s in REGISTRY if s.op not in public]
    assert not unknown, f"registry entries covering no public op: {unknown}"


UNARY = {"argmax", "argmin", "isfinite", "isnan", "isinf", "signbit", "logical_not", "any", "all",
         "count_nonzero", "argsort", "unique", "nonzero", "isneginf", "isposinf", "isreal", "histc",
         "unique_consecutive", "argwhere", "frexp", "histogram"}


def test_non_differentiable_ops_really_give_no_graph():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    for name in NON_DIFFERENTIABLE:
        fn = getattr(mg, name, None) or getattr(mg.nn.functional, name)
        if name == "one_hot":                # integer indices in, integers out
            out = fn(mg.tensor([0, 2, 1]))
        elif name.startswith("bitwise_"):      # integer operands, which never require grad: the result must not either
            n = mg.tensor([5, -3, 12])
            out = fn(n) if name == "bitwise_not" else fn(n, mg.tensor([1, 2, 3]))
        elif name == "bincount":              # float weights that require grad: no gradient either, as PyTorch
            out = fn(mg.tensor([0, 2, 2]), weights=x)
        elif name in ("gcd", "lcm"):           # integer operands only
            out = fn(mg.tensor([4, 6, 9]), mg.tensor([6, 4, 3]))
        elif name == "unravel_index":          # integer indices
            out = fn(mg.tensor([0, 5]), (2, 3))
        else:
            out = fn(x) if name in UNARY else fn(x, x * 2)
        if isinstance(out, mg.Tensor):
            assert not out.requires_grad, name


def test_every_function_class_is_exercised(monkeypatch):
    used = set()
    original = Function.apply.__func__

    def recording_apply(cls, *args, **kwargs):
        used.add(cls)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Function, "apply", classmethod(recording_apply))
    for k, spec in enumerate(REGISTRY):
        if spec.needs_cuda:
            continue
        for seed in range(8):
            sample = spec.sample(RandomDrawer(1000 * k + seed), np.float64)
            args, kwargs = build_inputs(sample)
            _twice_differentiated(run_op(spec, args, kwargs), args)
    names = {c.__name__ for c in _function_classes() - used}
    assert names == set(NEEDS_CUDA), f"Functions no registry entry exercises: {sorted(names - set(NEEDS_CUDA))}"
    for entry in NEEDS_CUDA.values():
        assert any(s.name == entry and s.needs_cuda for s in REGISTRY)


def _twice_differentiated(outputs, args):
    """Gradients with create_graph, then theirs with create_graph: the backward ops (adjoints)
    are Functions too, applied only there."""
    outs = [o for o in outputs if isinstance(o, mg.Tensor) and o.requires_grad]
    inputs = [a for a in args if isinstance(a, mg.Tensor) and a.requires_grad]
    if not outs or not inputs:
        return
    cotangents = [mg.ones_like(o).requires_grad_() for o in outs]      # so that linear ops' gradients have a graph
    firsts = mg.autograd.grad(outs, inputs, cotangents, create_graph=True, allow_unused=True)
    firsts = [g for g in firsts if g is not None and g.requires_grad]
    if firsts:
        mg.autograd.grad(firsts, inputs + cotangents, [mg.ones_like(g) for g in firsts], create_graph=True,
                         allow_unused=True)


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.name)
@given(data=st.data())
def test_samples_pass_arrays_not_numpy_scalars(spec, data):
    """A float argument drawn as a NumPy scalar (0-d arithmetic gives one) would reach the op as a
    constant, untested by gradcheck (clamp_tensor's lower bound once did)."""
    sample = spec.sample(HypothesisDrawer(data), np.float64)
    scalars = [k for k, a in enumerate(sample.args) if isinstance(a, np.generic)]
    assert not scalars, f"{spec.name}: positional arguments {scalars} are NumPy scalars"
