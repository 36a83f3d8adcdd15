"""The op registry: one entry per differentiable op of the public API.

Each :class:`OpSpec` says how to call the op in minigrad, in NumPy (the reference forward)
and, optionally, in PyTorch (the cross-check), and how to draw valid inputs through a
:class:`~minigrad.testing.draw.Drawer`.  The test suite runs every check on every entry
(forward vs reference, float64 finite differences, gradient shapes, zero cotangents,
repeatability, no mutation, PyTorch), and ``python -m minigrad gradcheck`` prints a table
of the finite-difference check.  A public op without an entry fails the suite
(``tests/test_registry.py``).

Positional arguments of a :class:`Sample` that are NumPy arrays become Tensors (float ones
require grad unless listed in ``constant``); everything else is passed through unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import minigrad as mg

from ..kernels import activation as _act_kernels

__all__ = ["OpSpec", "Sample", "REGISTRY", "NON_DIFFERENTIABLE", "SECOND_ORDER_UNSUPPORTED", "by_name", "register"]


@dataclass
class Sample:
    args: list
    kwargs: dict = field(default_factory=dict)
    constant: frozenset = frozenset()     # positions of float arrays that must not require grad


@dataclass
class OpSpec:
    name: str                                  # unique id of the entry
    fn: Callable                               # minigrad: fn(*args, **kwargs) -> Tensor or tuple
    ref: Callable                              # NumPy:    ref(*arrays, **kwargs) -> array or tuple
    sample: Callable                           # sample(drawer, dtype) -> Sample
    torch: Callable | None = None              # PyTorch:  torch(torch_module, *tensors, **kwargs)
    covers: str | None = None                  # the public op it tests (default: name)
    atol: float = 1e-12                        # forward tolerance in float64 (float32: see rtol32)
    rtol: float = 1e-10
    rtol32: float = 1e-4
    grad_atol: float | None = None             # gradcheck's tolerances; None: its float64 defaults
    grad_rtol: float | None = None             # (tight: set one only with a comment saying why)
    eps: float | None = None
    needs_cuda: bool = False
    out_dtype: object = None                   # a float dtype every output has whatever the inputs' (float_power)
    allow_nonfinite: bool = False              # inputs hold NaN/inf on purpose (nan_to_num, nansum): their
                                               # finite differences are NaN, so gradcheck compares the rest
    # label -> (sample(dtype), paths it must take): inputs sized for a fast path (registry_paths.py)
    paths: dict = field(default_factory=dict)

    @property
    def op(self) -> str:
        return self.covers or self.name


REGISTRY: list[OpSpec] = []


def register(spec: OpSpec) -> OpSpec:
    if any(s.name == spec.name for s in REGISTRY):
        raise ValueError(f"registry: duplicate entry {spec.name!r}")
    REGISTRY.append(spec)
    return spec


def by_name(name: str) -> OpSpec:
    for s in REGISTRY:
        if s.name == name:
            return s
    raise KeyError(name)


#: Public functions that return no gradient, and why.  Every other public op needs an entry.
NON_DIFFERENTIABLE = {
    "argmax": "returns indices", "argmin": "returns indices",
    "eq": "comparison", "ne": "comparison", "lt": "comparison", "le": "comparison",
    "gt": "comparison", "ge": "comparison", "logical_and": "logic", "logical_or": "logic",
    "logical_not": "logic", "isfinite": "test", "isnan": "test", "isinf": "test",
    "allclose": "returns a bool",
    "logical_xor": "logic", "isclose": "comparison", "equal": "returns a bool", "signbit": "test",
    "any": "logic (bool result)", "all": "logic (bool result)", "count_nonzero": "returns a count",
    "bitwise_and": "integer and bool tensors only", "bitwise_or": "integer and bool tensors only",
    "bitwise_xor": "integer and bool tensors only", "bitwise_not": "integer and bool tensors only",
    "bitwise_left_shift": "integer tensors only", "bitwise_right_shift": "integer tensors only",
    "argsort": "returns indices", "unique": "set-valued (PyTorch has no gradient for it either)",
    "searchsorted": "returns indices", "bincount": "returns counts (PyTorch has no gradient for weights)",
    "nonzero": "returns indices",
    "isin": "test", "isneginf": "test", "isposinf": "test", "isreal": "test",
    "heaviside": "a step function (PyTorch has no gradient for it)", "bucketize": "returns indices",
    "histc": "returns counts", "gcd": "integer tensors only", "lcm": "integer tensors only",
    "nextafter": "a neighbouring float (PyTorch has no gradient for it)",
    "unique_consecutive": "set-valued (PyTorch has no gradient for it either)", "unravel_index": "returns indices",
    "argwhere": "returns indices",
}


#: Functions (by class name) whose gradient cannot be differentiated again yet, and why; under
#: create_graph their gradient is correct and differentiating it raises an error naming them.
#: Empty: every op's backward runs on Tensors too, or the op has a composite.
SECOND_ORDER_UNSUPPORTED: dict = {}


# ----------------------------------------------------------------------------- builders
def _unary(name, fn, ref, torch=None, domain="real", kwargs=None, **opts):
    def sample(d, dtype):
        x = d.floats(d.shape(), domain, dtype=dtype)
        return Sample([x], kwargs(d) if kwargs else {})
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _binary(name, fn, ref, torch=None, domains=("real", "real"), **opts):
    def sample(d, dtype):
        (sa, sb), _ = d.broadcast_shapes(2)
        return Sample([d.floats(sa, domains[0], dtype=dtype), d.floats(sb, domains[1], dtype=dtype)])
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _with_scalar(name, fn, ref, torch=None, domain="real", scalar=(-2.0, 2.0), **opts):
    """``x op c`` or ``c op x`` with a Python float ``c`` (the reflected operators)."""
    def sample(d, dtype):
        c = d.choice([scalar[0], scalar[1], (scalar[0] + scalar[1]) / 2 + 0.25])
        return Sample([d.floats(d.shape(), domain, dtype=dtype)], {"c": c})
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _reduction_dims(d, ndim):
    """None, one dim (maybe negative) or a tuple of dims."""
    kind = d.integers(0, 2) if ndim else 0
    if kind == 0:
        return None
    if kind == 1:
        return d.integers(-ndim, ndim - 1)
    dims = [k for k in range(ndim) if d.boolean()]
    return tuple(dims)


def _np_dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, tuple):
        return tuple(sorted(k % ndim for k in dim))
    return (dim % ndim,)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


# ----------------------------------------------------------------------------- arithmetic
_binary("add", lambda a, b: a + b, np.add, lambda t, a, b: a + b)
register(OpSpec("add_alpha", lambda a, b, alpha: mg.add(a, b, alpha=alpha), lambda a, b, alpha: a + alpha * b,
                lambda d, dt: Sample([d.floats(d.shape(), dtype=dt), d.floats(d.shape(max_dims=0), dtype=dt)],
                                     {"alpha": d.choice([2.0, -0.5])}),
                lambda t, a, b, alpha: t.add(a, b, alpha=alpha), covers="add"))
_binary("sub", lambda a, b: a - b, np.subtract, lambda t, a, b: a - b)
_binary("mul", lambda a, b: a * b, np.multiply, lambda t, a, b: a * b)
_binary("div", lambda a, b: a / b, np.divide, lambda t, a, b: a / b, domains=("real", "nonzero"))
_binary("pow", lambda a, b: a ** b, np.power, lambda t, a, b: a ** b, domains=("positive", "nonzero"))
_with_scalar("add_scalar", lambda x, c: x + c, lambda x, c: x + c, lambda t, x, c: x + c, covers="add")
_with_scalar("radd", lambda x, c: c + x, lambda x, c: c + x, lambda t, x, c: c + x, covers="add")
_with_scalar("rsub", lambda x, c: c - x, lambda x, c: c - x, lambda t, x, c: c - x, covers="sub")
_with_scalar("rmul", lambda x, c: c * x, lambda x, c: c * x, lambda t, x, c: c * x, covers="mul")
_with_scalar("div_scalar", lambda x, c: x / c, lambda x, c: x / c, lambda t, x, c: x / c,
             scalar=(-2.0, 0.5), covers="div")
_with_scalar("rdiv", lambda x, c: c / x, lambda x, c: c / x, lambda t, x, c: c / x, domain="nonzero",
             covers="div")
_with_scalar("pow_scalar", lambda x, c: x ** c, lambda x, c: x ** c, lambda t, x, c: x ** c,
             domain="positive", scalar=(-1.5, 3.0), covers="pow")
register(OpSpec("pow_int", lambda x, c: x ** c, lambda x, c: x ** c,
                lambda d, dt: Sample([d.floats(d.shape(), dtype=dt)], {"c": d.choice([2, 3])}),
                lambda t, x, c: x ** c, covers="pow"))
_with_scalar("rpow", lambda x, c: c ** x, lambda x, c: c ** x, lambda t, x, c: c ** x,
             scalar=(0.5, 2.5), covers="pow")
_unary("neg", lambda x: -x, np.negative, lambda t, x: -x)
_unary("abs", mg.abs, np.abs, lambda t, x: t.abs(x), domain="nonzero")
_unary("exp", mg.exp, np.exp, lambda t, x: t.exp(x))
_unary("log", mg.log, np.log, lambda t, x: t.log(x), domain="positive")
_unary("sqrt", mg.sqrt, np.sqrt, lambda t, x: t.sqrt(x), domain="positive")
_unary("erf", mg.erf, lambda x: _act_kernels.erf_ref(x), lambda t, x: t.erf(x))


def _clamp_sample(d, dtype):
    x = d.floats(d.shape(), "offgrid", dtype=dtype)
    lo = d.choice([None, -1.0, 0.0])
    hi = d.choice([None, 0.5, 1.5]) if lo is not None else d.choice([0.5, 1.5])
    return Sample([x], {"min": lo, "max": hi})


register(OpSpec("clamp", lambda x, min, max: mg.clamp(x, min, max), lambda x, min, max: np.clip(x, min, max),
                _clamp_sample, lambda t, x, min, max: t.clamp(x, min, max)))
def _clamp_tensor_sample(d, dtype):
    (slo, shi), shape = d.broadcast_shapes(2)     # the bounds broadcast into x's shape, as PyTorch requires
    lo = np.asarray(d.floats(slo, "grid", dtype=dtype) - 1)
    hi = np.asarray(d.floats(shi, "grid", dtype=dtype) + 1)
    if (np.broadcast_to(lo, shape) == np.broadcast_to(hi, shape)).any():
        # lo == hi is a kink: keep the bounds apart, and off x's offgrid values (a 0-d lo stays an array)
        lo = np.asarray(lo - dtype(1 / 32))
    return Sample([d.floats(shape, "offgrid", dtype=dtype), lo, hi])


register(OpSpec("clamp_tensor", lambda x, lo, hi: mg.clamp(x, lo, hi), lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
                _clamp_tensor_sample, lambda t, x, lo, hi: t.clamp(x, lo, hi), covers="clamp"))
_binary("maximum", mg.maximum, np.maximum, lambda t, a, b: t.maximum(a, b), domains=("grid", "offgrid"))
_binary("minimum", mg.minimum, np.minimum, lambda t, a, b: t.minimum(a, b), domains=("grid", "offgrid"))


def _where_sample(d, dtype):
    (sc, sa, sb), _ = d.broadcast_shapes(3)
    return Sample([d.mask(sc), d.floats(sa, dtype=dtype), d.floats(sb, dtype=dtype)])


register(OpSpec("where", mg.where, np.where, _where_sample, lambda t, c, a, b: t.where(c, a, b)))
register(OpSpec("where_scalar", lambda c, a, s: mg.where(c, a, s), lambda c, a, s: np.where(c, a, s),
                lambda d, dt: (lambda ss: Sample([d.mask(ss[0][0]), d.floats(ss[0][1], dtype=dt)], {"s": 0.5}))(
                    d.broadcast_shapes(2)),
                lambda t, c, a, s: t.where(c, a, t.tensor(s, dtype=a.dtype)), covers="where"))


# ----------------------------------------------------------------------------- matmul
def _matmul_sample(d, dtype):
    n, k, m = d.integers(1, 4), d.integers(1, 4), d.integers(1, 4)
    kind = d.choice(["mm", "mv", "vm", "vv", "batched"])
    if kind == "vv":
        return Sample([d.floats((k,), dtype=dtype), d.floats((k,), dtype=dtype)])
    if kind == "mv":
        return Sample([d.floats(d.shape(0, 1) + (n, k), dtype=dtype), d.floats((k,), dtype=dtype)])
    if kind == "vm":
        return Sample([d.floats((k,), dtype=dtype), d.floats(d.shape(0, 1) + (k, m), dtype=dtype)])
    if kind == "mm":
        return Sample([d.floats((n, k), dtype=dtype), d.floats((k, m), dtype=dtype)])
    (ba, bb), _ = d.broadcast_shapes(2, 1, 2, 1, 3)
    return Sample([d.floats(ba + (n, k), dtype=dtype), d.floats(bb + (k, m), dtype=dtype)])


register(OpSpec("matmul", lambda a, b: a @ b, np.matmul, _matmul_sample, lambda t, a, b: a @ b))
register(OpSpec("rmatmul", lambda b, a: a @ b, lambda b, a: a @ b,
                lambda d, dt: Sample([d.floats((3, 2), dtype=dt)], {"a": d.floats((2, 3), dtype=dt)}),
                lambda t, b, a: t.as_tensor(a) @ b, covers="matmul"))


# ----------------------------------------------------------------------------- activations
_unary("tanh", mg.tanh, np.tanh, lambda t, x: t.tanh(x))
_unary("sigmoid", mg.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda t, x: t.sigmoid(x), domain="real")
_unary("relu", mg.relu, lambda x: np.maximum(x, 0), lambda t, x: t.relu(x), domain="nonzero")
_unary("leaky_relu", lambda x, negative_slope: mg.leaky_relu(x, negative_slope),
       lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
       lambda t, x, negative_slope: t.nn.functional.leaky_relu(x, negative_slope),
       domain="nonzero", kwargs=lambda d: {"negative_slope": d.choice([0.01, 0.2])})
_unary("gelu", lambda x, approximate: mg.gelu(x, approximate),
       lambda x, approximate: (_act_kernels.gelu_forward_ref(x) if approximate == "none" else
                               0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
       lambda t, x, approximate: t.nn.functional.gelu(x, approximate=approximate),
       kwargs=lambda d: {"approximate": d.choice(["none", "tanh"])}, rtol32=2e-4)
_unary("softplus", lambda x, beta, threshold: mg.softplus(x, beta, threshold),
       lambda x, beta, threshold: np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta),
       lambda t, x, beta, threshold: t.nn.functional.softplus(x, beta, threshold),
       domain="offgrid", kwargs=lambda d: {"beta": d.choice([0.5, 1.0, 2.0]), "threshold": d.choice([1.0, 20.0])})


def _softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _dim_sample(d, dtype, domain="real", unique=False, min_dims=1):
    shape = d.shape(min_dims=min_dims)
    return Sample([d.floats(shape, domain, unique=unique, dtype=dtype)],
                  {"dim": d.integers(-len(shape), len(shape) - 1) if shape else 0})


register(OpSpec("softmax", lambda x, dim: mg.softmax(x, dim), _softmax_ref, _dim_sample,
                lambda t, x, dim: t.softmax(x, dim)))
register(OpSpec("log_softmax", lambda x, dim: mg.log_softmax(x, dim), lambda x, dim: np.log(_softmax_ref(x, dim)),
                _dim_sample, lambda t, x, dim: t.log_softmax(x, dim)))


# ----------------------------------------------------------------------------- reductions
def _reduce_sample(domain="real", unique=False, min_dims=0):
    def sample(d, dtype):
        shape = d.shape(min_dims=min_dims)
        return Sample([d.floats(shape, domain, unique=unique, dtype=dtype)],
                      {"dim": _reduction_dims(d, len(shape)), "keepdim": d.boolean()})
    return sample


def _np_reduce(fn):
    """NumPy's reduction with PyTorch's dims: an empty tuple reduces every dim (sum, mean, amax, amin)."""
    return lambda x, dim, keepdim: fn(x, axis=_np_dims(None if dim == () else dim, x.ndim), keepdims=keepdim)


def _torch_reduce(name):
    def call(t, x, dim, keepdim):
        if dim == () and name == "logsumexp":    # PyTorch's logsumexp refuses dim=(); minigrad's reduces nothing
            return x.clone()
        dims = list(range(x.ndim)) if dim is None else dim
        return getattr(t, name)(x, dim=dims, keepdim=keepdim) if x.ndim else getattr(t, name)(x)
    return call


register(OpSpec("sum", lambda x, dim, keepdim: x.sum(dim, keepdim), _np_reduce(np.sum), _reduce_sample(),
                _torch_reduce("sum")))
register(OpSpec("mean", lambda x, dim, keepdim: x.mean(dim, keepdim), _np_reduce(np.mean), _reduce_sample(),
                _torch_reduce("mean")))


def _var_sample(d, dtype):
    shape = d.shape(min_dims=1, min_side=2)
    return Sample([d.floats(shape, unique=True, dtype=dtype)],
                  {"dim": _reduction_dims(d, len(shape)) or None, "keepdim": d.boolean(),
                   "correction": d.choice([0, 1])})


def _np_var(x, dim, keepdim, correction, sqrt=False):
    out = np.var(x, axis=_np_dims(dim, x.ndim), keepdims=keepdim, ddof=correction)
    return np.sqrt(out) if sqrt else out


def _torch_var(name):
    def call(t, x, dim, keepdim, correction):
        return getattr(t, name)(x, dim=list(range(x.ndim)) if dim is None else dim, keepdim=keepdim,
                                correction=correction)
    return call


register(OpSpec("var", lambda x, dim, keepdim, correction: x.var(dim, keepdim=keepdim, correction=correction),
                _np_var, _var_sample, _torch_var("var")))
register(OpSpec("std", lambda x, dim, keepdim, correction: x.std(dim, keepdim=keepdim, correction=correction),
                lambda x, dim, keepdim, correction: _np_var(x, dim, keepdim, correction, sqrt=True),
                _var_sample, _torch_var("std")))


def _full_sample(d, dtype):
    return Sample([d.floats(d.shape(), unique=True, dtype=dtype)])


register(OpSpec("max", lambda x: x.max(), np.max, _full_sample, lambda t, x: x.max()))
register(OpSpec("min", lambda x: x.min(), np.min, _full_sample, lambda t, x: x.min()))


def _dim_keep_sample(d, dtype):
    s = _dim_sample(d, dtype, unique=True)
    s.kwargs["keepdim"] = d.boolean()
    return s


def _np_max_dim(fn, arg):
    def ref(x, dim, keepdim):
        return fn(x, axis=dim, keepdims=keepdim), arg(x, axis=dim, keepdims=keepdim)
    return ref


register(OpSpec("max_dim", lambda x, dim, keepdim: tuple(x.max(dim, keepdim)), _np_max_dim(np.max, np.argmax),
                _dim_keep_sample, lambda t, x, dim, keepdim: tuple(t.max(x, dim, keepdim)), covers="max"))
register(OpSpec("min_dim", lambda x, dim, keepdim: tuple(x.min(dim, keepdim)), _np_max_dim(np.min, np.argmin),
                _dim_keep_sample, lambda t, x, dim, keepdim: tuple(t.min(x, dim, keepdim)), covers="min"))
register(OpSpec("max_binary", lambda a, b: mg.max(a, b), np.maximum,
                lambda d, dt: Sample([d.floats((3,), "grid", dtype=dt), d.floats((2, 1), "offgrid", dtype=dt)]),
                lambda t, a, b: t.max(a, b), covers="max"))
register(OpSpec("amax", lambda x, dim, keepdim: mg.amax(x, dim, keepdim), _np_reduce(np.max),
                _reduce_sample(unique=True), _torch_reduce("amax")))
register(OpSpec("amin", lambda x, dim, keepdim: mg.amin(x, dim, keepdim), _np_reduce(np.min),
                _reduce_sample(unique=True), _torch_reduce("amin")))


def _np_logsumexp(x, dim, keepdim):
    axes = _np_dims(dim, x.ndim)
    m = x.max(axis=axes, keepdims=True)
    out = m + np.log(np.exp(x - m).sum(axis=axes, keepdims=True))
    return out if keepdim else out.reshape([s for k, s in enumerate(x.shape) if k not in axes])


register(OpSpec("logsumexp", lambda x, dim, keepdim: x.logsumexp(dim, keepdim), _np_logsumexp,
                _reduce_sample(min_dims=1), _torch_reduce("logsumexp")))


# ----------------------------------------------------------------------------- shapes
def _factor_shape(d, size):
    """A random shape with ``size`` elements."""
    dims, rest = [], size
    for p in (2, 3, 5, 7):
        while rest % p == 0 and d.boolean():
            dims.append(p)
            rest //= p
    dims.append(rest)
    order = d.permutation(len(dims))
    return tuple(dims[k] for k in order)


def _reshape_sample(d, dtype):
    shape = d.shape()
    new = _factor_shape(d, int(np.prod(shape)) if shape else 1)
    if new and d.boolean():
        k = d.integers(0, len(new) - 1)
        new = new[:k] + (-1,) + new[k + 1:]
    return Sample([d.floats(shape, dtype=dtype)], {"shape": new})


register(OpSpec("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape), _reshape_sample,
                lambda t, x, shape: x.reshape(shape)))
register(OpSpec("view", lambda x, shape: x.view(shape), lambda x, shape: x.reshape(shape), _reshape_sample,
                lambda t, x, shape: x.view(shape)))


def _flatten_sample(d, dtype):
    shape = d.shape(min_dims=1)
    a, b = sorted((d.integers(0, len(shape) - 1), d.integers(0, len(shape) - 1)))
    return Sample([d.floats(shape, dtype=dtype)], {"start_dim": a, "end_dim": b - len(shape) if d.boolean() else b})


register(OpSpec("flatten", lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim),
                lambda x, start_dim, end_dim: x.reshape(x.shape[:start_dim] + (-1,) + x.shape[end_dim % x.ndim + 1:]),
                _flatten_sample, lambda t, x, start_dim, end_dim: x.flatten(start_dim, end_dim)))


def _squeeze_sample(d, dtype):
    shape = tuple(1 if d.boolean() else s for s in d.shape(min_dims=1))
    dim = d.choice([None, d.integers(-len(shape), len(shape) - 1)])
    return Sample([d.floats(shape, dtype=dtype)], {"dim": dim})


def _np_squeeze(x, dim):
    if dim is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=dim) if x.shape[dim] == 1 else x


register(OpSpec("squeeze", lambda x, dim: x.squeeze(dim), _np_squeeze, _squeeze_sample,
                lambda t, x, dim: x.squeeze() if dim is None else x.squeeze(dim)))


def _unsqueeze_sample(d, dtype):
    shape = d.shape()
    return Sample([d.floats(shape, dtype=dtype)], {"dim": d.integers(-len(shape) - 1, len(shape))})


register(OpSpec("unsqueeze", lambda x, dim: x.unsqueeze(dim), lambda x, dim: np.expand_dims(x, dim),
                _unsqueeze_sample, lambda t, x, dim: x.unsqueeze(dim)))


def _transpose_sample(d, dtype):
    shape = d.shape(min_dims=1)
    n = len(shape)
    return Sample([d.floats(shape, dtype=dtype)], {"dim0": d.integers(-n, n - 1), "dim1": d.integers(-n, n - 1)})


register(OpSpec("transpose", lambda x, dim0, dim1: x.transpose(dim0, dim1),
                lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1), _transpose_sample,
                lambda t, x, dim0, dim1: x.transpose(dim0, dim1)))


def _permute_sample(d, dtype):
    shape = d.shape(min_dims=1)
    return Sample([d.floats(shape, dtype=dtype)], {"dims": tuple(d.permutation(len(shape)))})


register(OpSpec("permute", lambda x, dims: x.permute(dims), lambda x, dims: np.transpose(x, dims), _permute_sample,
                lambda t, x, dims: x.permute(dims)))
register(OpSpec("T", lambda x: x.T, lambda x: x.T, lambda d, dt: Sample([d.floats(d.shape(max_dims=2), dtype=dt)]),
                lambda t, x: x.permute(tuple(reversed(range(x.ndim)))), covers="permute"))


def _expand_sample(d, dtype):
    (small,), big = d.broadcast_shapes(1)
    sizes = tuple(-1 if k >= len(big) - len(small) and d.boolean() else s for k, s in enumerate(big))
    return Sample([d.floats(small, dtype=dtype)], {"sizes": sizes})


def _np_expand(x, sizes):
    lead = len(sizes) - x.ndim
    return np.broadcast_to(x, tuple(x.shape[k - lead] if s == -1 else s for k, s in enumerate(sizes)))


register(OpSpec("expand", lambda x, sizes: x.expand(*sizes), _np_expand, _expand_sample,
                lambda t, x, sizes: x.expand(sizes)))
register(OpSpec("broadcast_to", lambda x, shape: mg.broadcast_to(x, shape), lambda x, shape: np.broadcast_to(x, shape),
                lambda d, dt: (lambda ss: Sample([d.floats(ss[0][0], dtype=dt)], {"shape": ss[1]}))(d.broadcast_shapes(1)),
                lambda t, x, shape: t.broadcast_to(x, shape)))


# ----------------------------------------------------------------------------- indexing
def _slice(d, n):
    start = d.choice([None, d.integers(-n, n - 1)])
    stop = d.choice([None, d.integers(-n, n)])
    step = d.choice([None, 1, 2, -1])
    return slice(start, stop, step)


def _basic_index_sample(d, dtype):
    shape = d.shape(min_dims=1)
    parts = []
    for n in shape:
        parts.append(d.integers(-n, n - 1) if d.integers(0, 3) == 0 else _slice(d, n))
    if d.boolean():
        parts.insert(d.integers(0, len(parts)), None)
    return Sample([d.floats(shape, dtype=dtype)], {"index": tuple(parts)})


def _torch_getitem(t, x, index):
    """``x[index]`` in PyTorch, which lacks negative slice steps: apply the index one part at a
    time, reversing with ``index_select`` where NumPy would step backwards."""
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(p, np.ndarray) for p in parts):
        return x[tuple(t.as_tensor(p) if isinstance(p, np.ndarray) else p for p in parts)]
    dim = 0
    for p in parts:
        if p is None:
            x = x.unsqueeze(dim)
            dim += 1
        elif isinstance(p, int):
            x = x.select(dim, p)
        elif p.step is not None and p.step < 0:
            picked = np.arange(x.shape[dim])[p].tolist()
            x = x.index_select(dim, t.tensor(picked, dtype=t.int64))
            dim += 1
        else:
            x = x[(slice(None),) * dim + (p,)]
            dim += 1
    return x


register(OpSpec("getitem_basic", lambda x, index: x[index], lambda x, index: x[index], _basic_index_sample,
                _torch_getitem, covers="getitem"))


def _rows_sample(d, dtype):
    shape = d.shape(min_dims=1)
    idx = d.index_array(d.shape(max_dims=2), shape[0])
    return Sample([d.floats(shape, dtype=dtype)], {"index": idx})


register(OpSpec("getitem_rows", lambda x, index: x[index], lambda x, index: x[index], _rows_sample,
                lambda t, x, index: x[t.as_tensor(index)], covers="getitem"))


def _advanced_sample(d, dtype):
    shape = d.shape(min_dims=2)
    idx_shape = d.shape(max_dims=2)
    first = d.index_array(idx_shape, shape[0])
    second = d.index_array(idx_shape, shape[1])
    kind = d.choice(["pair", "slice_then_array"])
    index = (first, second) if kind == "pair" else (slice(None), second)
    return Sample([d.floats(shape, dtype=dtype)], {"index": index})


register(OpSpec("getitem_advanced", lambda x, index: x[index], lambda x, index: x[index], _advanced_sample,
                _torch_getitem, covers="getitem"))


def _mask_sample(d, dtype):
    shape = d.shape(min_dims=1)
    return Sample([d.floats(shape, dtype=dtype)], {"index": d.mask(shape[:d.integers(1, len(shape))])})


register(OpSpec("getitem_mask", lambda x, index: x[index], lambda x, index: x[index], _mask_sample,
                lambda t, x, index: x[t.as_tensor(index)], covers="getitem"))


def _index_select_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = d.integers(-len(shape), len(shape) - 1)
    return Sample([d.floats(shape, dtype=dtype)], {"dim": dim, "index": d.index_array((d.integers(0, 5),), shape[dim])})


register(OpSpec("index_select", lambda x, dim, index: x.index_select(dim, index),
                lambda x, dim, index: np.take(x, index, axis=dim), _index_select_sample,
                lambda t, x, dim, index: x.index_select(dim, t.as_tensor(index % x.shape[dim]))))


# ----------------------------------------------------------------------------- join, split, pad
def _join_sample(stack):
    def sample(d, dtype):
        shape = d.shape(min_dims=1)
        n = d.integers(1, 3)
        if stack:
            arrays = [d.floats(shape, dtype=dtype) for _ in range(n)]
            dim = d.integers(-len(shape) - 1, len(shape))
        else:
            dim = d.integers(-len(shape), len(shape) - 1)
            arrays = []
            for _ in range(n):
                s = list(shape)
                s[dim] = d.integers(0, 3)
                arrays.append(d.floats(tuple(s), dtype=dtype))
        return Sample(arrays, {"dim": dim})
    return sample


register(OpSpec("cat", lambda *xs, dim: mg.cat(list(xs), dim), lambda *xs, dim: np.concatenate(xs, axis=dim),
                _join_sample(False), lambda t, *xs, dim: t.cat(xs, dim)))
register(OpSpec("stack", lambda *xs, dim: mg.stack(list(xs), dim), lambda *xs, dim: np.stack(xs, axis=dim),
                _join_sample(True), lambda t, *xs, dim: t.stack(xs, dim)))


def _split_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = d.integers(-len(shape), len(shape) - 1)
    n = shape[dim]
    if d.boolean():
        sections = d.integers(1, n + 1)
    else:
        cut = sorted(d.integers(0, n) for _ in range(d.integers(0, 2)))
        sections = [b - a for a, b in zip([0] + cut, cut + [n])]
    return Sample([d.floats(shape, dtype=dtype)], {"sections": sections, "dim": dim})


def _np_split(x, sections, dim):
    n = x.shape[dim]
    sizes = [sections] * (n // sections) + ([n % sections] if n % sections else []) if isinstance(sections, int) else sections
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=dim))


register(OpSpec("split", lambda x, sections, dim: x.split(sections, dim), _np_split, _split_sample,
                lambda t, x, sections, dim: x.split(sections, dim)))


def _chunk_sample(d, dtype):
    shape = d.shape(min_dims=1)
    return Sample([d.floats(shape, dtype=dtype)], {"chunks": d.integers(1, 4), "dim": d.integers(-len(shape), len(shape) - 1)})


def _np_chunk(x, chunks, dim):
    n = x.shape[dim]
    return _np_split(x, max(1, -(-n // chunks)), dim)


register(OpSpec("chunk", lambda x, chunks, dim: x.chunk(chunks, dim), _np_chunk, _chunk_sample,
                lambda t, x, chunks, dim: x.chunk(chunks, dim)))


def _pad_sample(d, dtype):
    shape = d.shape(min_dims=1, min_side=2)
    mode = d.choice(["constant", "reflect", "replicate", "circular"])
    n_dims = d.integers(1, min(len(shape), 3 if mode == "constant" else 2))
    amounts = []
    for k in range(n_dims):
        size = shape[-1 - k]
        lo = -(size // 2) if mode == "constant" else 0
        hi = size - 1 if mode in ("reflect", "circular") else 3
        amounts += [d.integers(lo, hi), d.integers(lo, hi)]
    return Sample([d.floats(shape, dtype=dtype)], {"pad": tuple(amounts), "mode": mode})


def _np_pad(x, pad, mode):
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    crop = tuple(slice(-b if b < 0 else 0, s + a if a < 0 else s) for (b, a), s in zip(widths, x.shape))
    widths = [(max(b, 0), max(a, 0)) for b, a in widths]
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    return np.pad(x[crop], widths, mode=np_mode)


def _torch_pad(t, x, pad, mode):
    if mode == "constant":
        return t.nn.functional.pad(x, pad)
    # PyTorch pads the last 1-3 dims in these modes and wants a batch dim in front
    n = len(pad) // 2
    lead = x.shape[:x.ndim - n]
    y = x.reshape((1, -1) + x.shape[x.ndim - n:])
    out = t.nn.functional.pad(y, pad, mode=mode)
    return out.reshape(tuple(lead) + tuple(out.shape[2:]))


register(OpSpec("pad", lambda x, pad, mode: mg.pad(x, pad, mode), _np_pad, _pad_sample, _torch_pad))


# ----------------------------------------------------------------------------- conversions
register(OpSpec("to_dtype", lambda x: x.to(mg.float32).to(x.dtype) * 1.0,
                lambda x: x.astype(np.float32).astype(x.dtype),
                lambda d, dt: Sample([d.floats(d.shape(), dtype=dt)]),
                lambda t, x: x.to(t.float32).to(x.dtype), covers="cast",
                eps=1e-2, grad_atol=1e-4))   # the float32 round trip is a staircase of steps 2^-23 |x|: a wide eps
register(OpSpec("clone", lambda x: x.clone(), lambda x: x.copy(),
                lambda d, dt: Sample([d.floats(d.shape(), dtype=dt)]), lambda t, x: x.clone(), covers="clone"))
register(OpSpec("to_device", lambda x: x.to("cuda").to("cpu") * 1.0, lambda x: x.copy(),
                lambda d, dt: Sample([d.floats(d.shape(), dtype=dt)]), lambda t, x: x.clone(),
                covers="transfer", needs_cuda=True))


# ----------------------------------------------------------------------------- layers (nn.functional)
from ..ops import linalg as _linalg_ops  # noqa: E402
from ..ops import loss as _loss_ops  # noqa: E402
from ..ops import norm as _norm_ops  # noqa: E402


def _linear_sample(d, dtype):
    n_in, n_out = d.integers(1, 4), d.integers(1, 4)
    batch = d.shape(0, 2)
    args = [d.floats(batch + (n_in,), dtype=dtype), d.floats((n_out, n_in), dtype=dtype)]
    if d.boolean():
        args.append(d.floats((n_out,), dtype=dtype))
    return Sample(args)


def _np_linear(x, w, b=None):
    return x @ w.T + (0 if b is None else b)


register(OpSpec("linear", _linalg_ops.linear, _np_linear, _linear_sample,
                lambda t, *a: t.nn.functional.linear(*a)))


def _dropout_sample(channels):
    """Public F.dropout / F.dropout2d with a generator seeded afresh on every call, so every
    forward of a gradient check draws one mask, and the backward must use that mask."""
    def sample(d, dtype):
        shape = (d.integers(1, 2), d.integers(1, 3)) + d.shape(1, 2, max_side=3) if channels else d.shape()
        return Sample([d.floats(shape, dtype=dtype)], {"p": d.choice([0.0, 0.25, 0.5, 1.0]), "seed": d.integers(0, 999)})
    return sample


def _dropout_call(fn):
    return lambda x, p, seed: fn(x, p, training=True, generator=mg.Generator().manual_seed(seed))


def _np_dropout(channels):
    """The contract, in NumPy: keep where the generator's float32 uniforms are >= p (one per
    channel for dropout2d), scaled by 1 / (1 - p); all zeros at p = 1."""
    def ref(x, p, seed):
        shape = x.shape[:-2] + (1, 1) if channels else x.shape
        keep = np.random.default_rng(seed).random(shape, dtype=np.float32) >= p
        return np.zeros_like(x) if p == 1 else x * keep / (1 - p)
    return ref


register(OpSpec("dropout", _dropout_call(lambda *a, **kw: mg.nn.functional.dropout(*a, **kw)), _np_dropout(False),
                _dropout_sample(False)))         # no PyTorch reference: its generator draws other masks


def _layer_norm_sample(d, dtype):
    shape = d.shape(1, 3, min_side=2)
    k = d.integers(1, len(shape))
    norm_shape = shape[len(shape) - k:]
    # distinct values: a group of near-equal ones has a variance near eps, where the curvature
    # defeats finite differences (a CI draw: rows [0, 0, 0] and [0, 0, 0.0039])
    args = [(d.floats(shape, unique=True, dtype=np.float64) * 2).astype(dtype)]
    affine = d.boolean()
    if affine:
        args += [d.floats(norm_shape, dtype=dtype), d.floats(norm_shape, dtype=dtype)]
    return Sample(args, {"normalized_shape": norm_shape})


def _ln_call(x, w=None, b=None, *, normalized_shape):
    return _norm_ops.layer_norm(x, normalized_shape, w, b)


def _np_layer_norm(x, w=None, b=None, *, normalized_shape):
    dims = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    y = (x - x.mean(axis=dims, keepdims=True)) / np.sqrt(x.var(axis=dims, keepdims=True) + 1e-5)
    return y * (1 if w is None else w) + (0 if b is None else b)


register(OpSpec("layer_norm", _ln_call, _np_layer_norm, _layer_norm_sample,
                lambda t, x, w=None, b=None, *, normalized_shape: t.nn.functional.layer_norm(x, normalized_shape, w, b),
                rtol32=1e-3))


def _batch_norm_sample(d, dtype):
    shape = (d.integers(2, 4), d.integers(1, 3)) + d.shape(0, 2, min_side=1, max_side=3)
    c = shape[1]
    training = d.boolean()
    mean = d.floats((c,), dtype=np.float64)
    var = d.floats((c,), "positive", dtype=np.float64)
    return Sample([d.floats(shape, dtype=dtype), d.floats((c,), dtype=dtype), d.floats((c,), dtype=dtype)],
                  {"training": training, "running": (mean, var)})


def _bn_call(x, w, b, *, training, running):
    mean, var = (mg.tensor(a.copy(), dtype=x.dtype, device=x.device) for a in running)
    return _norm_ops.batch_norm(x, mean, var, w, b, training=training)


def _np_batch_norm(x, w, b, *, training, running):
    dims = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = (x.mean(axis=dims), x.var(axis=dims)) if training else running
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-5) * w.reshape(shape) + b.reshape(shape)


def _torch_bn(t, x, w, b, *, training, running):
    mean, var = (t.tensor(a.copy(), dtype=x.dtype) for a in running)
    return t.nn.functional.batch_norm(x, mean, var, w, b, training=training)


register(OpSpec("batch_norm", _bn_call, _np_batch_norm, _batch_norm_sample, _torch_bn, rtol32=1e-3))


# ----------------------------------------------------------------------------- losses
def _np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _np_class_loss(logp, target, weight, ignore_index, reduction, smoothing):
    """Reference cross-entropy/NLL from log-probabilities (N, C, *) and class indices (N, *)."""
    n_cls = logp.shape[1]
    w = np.ones(n_cls) if weight is None else weight
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    picked = np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
    w_rows = w[safe] * valid
    nll = -w_rows * picked
    smooth = -(logp * w.reshape((1, -1) + (1,) * (logp.ndim - 2))).sum(axis=1) * valid
    rows = (1 - smoothing) * nll + smoothing / n_cls * smooth
    if reduction == "none":
        return rows
    return rows.sum() if reduction == "sum" else rows.sum() / w_rows.sum()


def _ce_sample(d, dtype):
    n, c = d.integers(1, 4), d.integers(2, 4)
    extra = d.shape(0, 1, max_side=3)
    weight = d.floats((c,), "positive", dtype=dtype) if d.boolean() else None
    target = np.array([d.integers(0, c - 1) for _ in range(n * int(np.prod(extra)))], dtype=np.int64).reshape((n,) + extra)
    ignore = d.choice([-100, 0])
    if ignore == 0 and np.all(target == 0):
        ignore = -100
    return Sample([d.floats((n, c) + extra, dtype=dtype), target],
                  {"weight": weight, "ignore_index": ignore, "reduction": d.choice(["mean", "sum", "none"]),
                   "label_smoothing": d.choice([0.0, 0.1])})


def _ce_call(x, target, **kw):
    return _loss_ops.cross_entropy(x, target, **kw)


def _np_ce(x, target, weight, ignore_index, reduction, label_smoothing):
    return _np_class_loss(_np_log_softmax(x, 1), target, weight, ignore_index, reduction, label_smoothing)


def _torch_weighted(fn):
    def call(t, *args, weight=None, **kw):
        return fn(t, *args, weight=None if weight is None else t.as_tensor(weight), **kw)
    return call


register(OpSpec("cross_entropy", _ce_call, _np_ce, _ce_sample,
                _torch_weighted(lambda t, x, y, **kw: t.nn.functional.cross_entropy(x, y, **kw))))


def _ce_probs_sample(d, dtype):
    n, c = d.integers(1, 4), d.integers(2, 4)
    logits = d.floats((n, c), dtype=dtype)
    probs = d.floats((n, c), "positive", dtype=dtype)
    probs = probs / probs.sum(axis=1, keepdims=True)
    return Sample([logits, probs], {"reduction": d.choice(["mean", "sum", "none"]),
                                    "label_smoothing": d.choice([0.0, 0.2])})


def _np_ce_probs(x, p, reduction, label_smoothing):
    p = p * (1 - label_smoothing) + label_smoothing / x.shape[1]
    rows = -(_np_log_softmax(x, 1) * p).sum(axis=1)
    return rows if reduction == "none" else rows.sum() if reduction == "sum" else rows.mean()


register(OpSpec("cross_entropy_probs", lambda x, p, **kw: _loss_ops.cross_entropy(x, p, **kw), _np_ce_probs,
                _ce_probs_sample, lambda t, x, p, **kw: t.nn.functional.cross_entropy(x, p, **kw),
                covers="cross_entropy"))


def _nll_sample(d, dtype):
    s = _ce_sample(d, dtype)
    s.args[0] = _np_log_softmax(s.args[0], 1).astype(dtype)
    s.kwargs.pop("label_smoothing")
    return s


register(OpSpec("nll_loss", lambda x, y, **kw: _loss_ops.nll_loss(x, y, **kw),
                lambda x, y, weight, ignore_index, reduction: _np_class_loss(x, y, weight, ignore_index, reduction, 0.0),
                _nll_sample, _torch_weighted(lambda t, x, y, **kw: t.nn.functional.nll_loss(x, y, **kw))))


def _pair_sample(domains=("real", "real")):
    def sample(d, dtype):
        shape = d.shape()
        return Sample([d.floats(shape, domains[0], dtype=dtype), d.floats(shape, domains[1], dtype=dtype)],
                      {"reduction": d.choice(["mean", "sum", "none"])})
    return sample


def _np_reduce_loss(rows, reduction):
    return rows if reduction == "none" else rows.sum() if reduction == "sum" else rows.mean()


register(OpSpec("mse_loss", lambda x, y, reduction: _loss_ops.mse_loss(x, y, reduction=reduction),
                lambda x, y, reduction: _np_reduce_loss((x - y) ** 2, reduction), _pair_sample(),
                lambda t, x, y, reduction: t.nn.functional.mse_loss(x, y, reduction=reduction)))
register(OpSpec("l1_loss", lambda x, y, reduction: _loss_ops.l1_loss(x, y, reduction=reduction),
                lambda x, y, reduction: _np_reduce_loss(np.abs(x - y), reduction), _pair_sample(("grid", "offgrid")),
                lambda t, x, y, reduction: t.nn.functional.l1_loss(x, y, reduction=reduction)))


def _bce_sample(d, dtype):
    shape = d.shape(1, 2)
    args = [d.floats(shape, dtype=dtype), d.floats(shape, "unit", dtype=dtype) * 0.5 + 0.5]
    kw = {"reduction": d.choice(["mean", "sum", "none"])}
    if d.boolean():
        kw["weight"] = d.floats(shape[-1:], "positive", dtype=dtype)
    if d.boolean():
        kw["pos_weight"] = d.floats(shape[-1:], "positive", dtype=dtype)
    return Sample(args, kw)


def _np_bce(x, y, reduction, weight=None, pos_weight=None):
    logsig, log1msig = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    pw = 1.0 if pos_weight is None else pos_weight
    rows = -(pw * y * logsig + (1 - y) * log1msig) * (1.0 if weight is None else weight)
    return _np_reduce_loss(rows, reduction)


def _torch_bce(t, x, y, reduction, weight=None, pos_weight=None):
    as_t = (lambda a: None if a is None else t.as_tensor(a))
    return t.nn.functional.binary_cross_entropy_with_logits(x, y, weight=as_t(weight), reduction=reduction,
                                                            pos_weight=as_t(pos_weight))


register(OpSpec("binary_cross_entropy_with_logits",
                lambda x, y, **kw: _loss_ops.binary_cross_entropy_with_logits(x, y, **kw), _np_bce, _bce_sample,
                _torch_bce))
from . import registry_conv  # noqa: E402,F401  (convolution and pooling entries)
from . import registry_convnd  # noqa: E402,F401  (1-D and 3-D convolution and pooling)
from . import registry_recurrent  # noqa: E402,F401
from . import registry_nn  # noqa: E402,F401  (issue 12: nn.functional additions)
from . import registry_paths  # noqa: E402,F401  (samples that take each implementation path)
from . import registry_math  # noqa: E402,F401  (ops/math.py)
from . import registry_scan  # noqa: E402,F401  (ops/scan.py)
from . import registry_indexing  # noqa: E402,F401  (gathers, scatters, rearrangements)
from . import registry_linalg_extra  # noqa: E402,F401  (products, einsum, norms)
from . import registry_resample  # noqa: E402,F401  (pad cropping, fold/unfold, shuffles, resampling)
from . import registry_nnmisc  # noqa: E402,F401  (losses, activations, dropouts, embedding_bag)
from . import registry_attention  # noqa: E402,F401  (scaled dot-product and multi-head attention)
from . import registry_composite  # noqa: E402,F401  (ops/composite.py: compositions of other ops)
from . import registry_linalg_decomp  # noqa: E402,F401  (inverses, determinants, solves, decompositions)
from . import registry_f_gaps  # noqa: E402,F401  (weighted regression losses, pdist)
from . import registry_surface_methods  # noqa: E402,F401  (select/slice/diagonal_scatter, index_put, put)
from . import registry_special  # noqa: E402,F401  (minigrad.special: torch.special's functions)
from . import registry_linalg_more  # noqa: E402,F401  (SVD, QR, pinv, lstsq, matrix_exp, triangular solves, LU)
