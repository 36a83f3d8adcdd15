"""In-place Tensor methods (``x.exp_()``, ``x.clamp_(0, 1)``, ``x[0].mul_(2)``), all by one rule.

An in-place op is its out-of-place op applied to the tensor's current value, whose result is
then written into the tensor's memory, with the tensor moved onto the result's place in the
graph::

    x.exp_()   is   new = exp(x_now);  x._data[...] = new._data;  x.grad_fn = new.grad_fn

so its derivative is the out-of-place op's, first and second order alike, and nothing here is
differentiated by hand.  PyTorch's rules come with it:

* a leaf that requires grad (or a view of one) cannot be edited in place while gradients are
  recorded (do it under ``no_grad``, as optimizers and ``nn.init`` do);
* every write bumps the version counter of the memory (``autograd/versions.py``), and a backward
  that needs an array modified since it was saved raises instead of using the new values (a write
  through ``t.data``, PyTorch's untracked handle, bumps nothing: see :func:`bump`);
* editing a view (``v = y[0]``, ``y.t()``, ``y.view(...)``) edits its base: the base's new value is
  ``where(covered, put(new, positions), base)``, where ``positions`` are the base's flat indices
  of the view's elements (read off the two arrays' memory layout, so every view op works the
  same), and the view becomes ``take(base, positions)`` of the new base.  d base = g where not
  covered plus, through the view, the in-place op's gradient at the covered positions.

The op runs on a copy of the old value, so what it saves for backward is never overwritten.
The other live views of the edited memory (made while gradients were recorded) move onto the
new graph too, as PyTorch regenerates a view's ``grad_fn`` after its base changed.
"""
from __future__ import annotations

import functools
import math as _pymath
import warnings

import numpy as np

from .. import autograd, backend
from ..autograd import versions
from ..tensor import Tensor, check_not_inference
from .elementwise import where
from .indexing import PutAdd, Take


def _requires_grad(value) -> bool:
    return isinstance(value, Tensor) and value._requires_grad


def _check_writable(x, name):
    check_not_inference(x, "Inplace update")
    if any(s == 0 and n > 1 for s, n in zip(x._data.strides, x._data.shape)):
        raise RuntimeError(f"{name}: unsupported operation: more than one element of the written-to tensor "
                           f"(shape {x._data.shape}, an expanded view) refers to a single memory location; "
                           f"clone() it first")


def _fit(name, x, new):
    """``new`` as a value for ``x``: same shape, dtype cast as PyTorch allows (same kind)."""
    if not isinstance(new, Tensor):
        new = Tensor._wrap(backend.xp_of(x._data).asarray(new))
    if new._data.shape != x._data.shape:
        raise RuntimeError(f"{name}: output with shape {x._data.shape} doesn't match the broadcast shape "
                           f"{new._data.shape}")
    if new._data.dtype != x._data.dtype:
        if not np.can_cast(new._data.dtype, x._data.dtype, "same_kind"):
            raise RuntimeError(f"{name}: result type {new._data.dtype} can't be cast to the desired output "
                               f"type {x._data.dtype} of the tensor edited in place")
        new = new.to(x._data.dtype)
    return new


def _rebase(t, new):
    """Move tensor ``t`` onto the place of ``new`` in the graph (its data stays).  A retain_grad()
    moves along (its .grad is of the edited value, as PyTorch's); hooks stay on the old value."""
    old = t._grad_fn
    retained = old is not None and old._retained and old._retained.get(t._out_index, lambda: None)() is t
    if retained:
        del old._retained[t._out_index]
    t._grad_fn = new._grad_fn
    t._out_index = new._out_index
    t._requires_grad = new._requires_grad
    if retained and t._grad_fn is not None:
        t.retain_grad()


def _offsets(a):
    """Byte address of every element of array ``a`` (shape of ``a``)."""
    start = a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr
    off = np.array(start, dtype=np.int64)
    for n, s in zip(a.shape, a.strides):
        off = off[..., None] + np.arange(n, dtype=np.int64) * s
    return off


def view_positions(view, base, name="in-place", overlap=False):
    """Flat (C-order) indices into ``base`` of the elements of ``view`` (shape of ``view``);
    elements sharing memory (``unfold``'s overlapping windows) refused unless ``overlap``."""
    ob = _offsets(base).reshape(-1)
    ov = _offsets(view)
    order = np.argsort(ob, kind="stable")
    ob_sorted = ob[order]
    k = np.clip(np.searchsorted(ob_sorted, ov), 0, max(ob.size - 1, 0))
    if ob.size == 0 or not np.array_equal(ob_sorted[k], ov):
        raise RuntimeError(f"{name}: the view of shape {tuple(view.shape)} is not inside its base of shape {tuple(base.shape)}")
    pos = np.asarray(order[k]).reshape(view.shape)
    if not overlap and np.unique(pos).size != pos.size:
        raise RuntimeError(f"{name}: unsupported operation: some elements of the view of shape {tuple(view.shape)} "
                           f"refer to a single memory location (overlapping windows); clone() it first")
    return pos


def _save_result_as(new, x):
    """When the op saved its result for backward (``exp_`` saves exp(x)), let it keep ``x``
    itself, the same values: as PyTorch, a later in-place edit of ``x`` then makes that
    backward raise instead of going unnoticed (and the copy is freed)."""
    node = new._grad_fn
    if node is None or type(node._saved) is not tuple or not any(s is new._data for s in node._saved):
        return
    node._saved = tuple(x._data if s is new._data else s for s in node._saved)
    node._saved_versions = versions.versions_of(node)


def bump(x):
    """Note a write into ``x``'s memory, unless ``x`` is a ``.data`` tensor or a view of one:
    PyTorch's ``.data`` has a version counter of its own, so autograd does not see its edits."""
    base = getattr(x, "_base", None)
    if not getattr(x if base is None else base, "_untracked", False):
        versions.bump(x._data)


def _base_of(x):
    base = getattr(x, "_base", None)
    if base is None or base is x or versions.root(base._data) is not versions.root(x._data):
        return None
    return base


def apply(x, name, fn, *args, **kwargs):
    """``x.<name>(...)``: ``fn(x, *args, **kwargs)`` written into ``x``, following the rules above.
    Arguments that are ``x`` itself stand for its value before the edit."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor to modify in place, got {type(x).__name__}")
    _check_writable(x, name)
    grad_mode = autograd.is_grad_enabled()
    base = _base_of(x)
    if grad_mode and base is not None and base._requires_grad and not x._requires_grad:
        raise RuntimeError(f"{name}: a view was created in no_grad mode (or before its base joined a graph) and "
                           f"is being modified in place with grad mode enabled; the base's graph cannot follow "
                           f"(make the view again, or edit it under no_grad)")
    graph = grad_mode and (
        x._requires_grad or any(_requires_grad(a) for a in args) or any(_requires_grad(v) for v in kwargs.values()))
    tracer = autograd.get_tracer()
    if not graph:
        with autograd.no_grad():
            new = _fit(name, x, fn(x, *args, **kwargs))
        x._data[...] = new._data
        bump(x)
        if tracer is not None:
            tracer.inplace("write", x._data, new._data)
        return x
    if x._grad_fn is None and x._requires_grad:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation "
                           f"(do it under minigrad.no_grad(), or on a clone)")
    if base is not None and base._grad_fn is None and base._requires_grad:
        raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
                           f"operation (do it under minigrad.no_grad(), or on a clone)")
    if base is not None:                       # before any write: an overlapping view is refused
        pos = backend.to_device(view_positions(x._data, base._data, name), x.device)
    old = Tensor._wrap(x._data.copy(), x._grad_fn, x._out_index)
    old._requires_grad = x._requires_grad
    if tracer is not None:
        tracer.inplace("alias", old._data, x._data)
    args = tuple(old if a is x else a for a in args)
    kwargs = {k: old if v is x else v for k, v in kwargs.items()}
    new = _fit(name, x, fn(old, *args, **kwargs))
    if not new._requires_grad:                 # a fill: the old value gets a zero gradient
        new = where(Tensor._wrap(backend.xp_of(x._data).ones(x._data.shape, dtype=bool)), new, old)
    elif new._grad_fn is None or new is old or any(new is a for a in (*args, *kwargs.values())):
        new = autograd._Alias.apply(new)       # an argument handed back (copy_ of a leaf): a node of x's own
    x._data[...] = new._data
    bump(x)
    if tracer is not None:
        tracer.inplace("write", x._data, new._data)
    _save_result_as(new, x)
    if base is None:
        _rebase(x, new)
        _refresh_views(x, x)
        return x
    xp = backend.xp_of(base._data)
    covered = xp.zeros(base._data.size, dtype=bool)
    covered[pos.reshape(-1)] = True
    old_base = Tensor._wrap(base._data, base._grad_fn, base._out_index)
    old_base._requires_grad = base._requires_grad
    new_base = where(Tensor._wrap(covered.reshape(base._data.shape)), PutAdd.apply(new, base._data.shape, pos),
                     old_base)
    _rebase(base, new_base)
    _rebase(x, Take.apply(new_base, pos))
    _refresh_views(base, x)
    return x


def write_out(name, result, out):
    """``torch.<name>(..., out=out)``: ``result`` written into ``out``'s memory and ``out`` returned.
    PyTorch's rules: an ``out`` of another shape is resized first (with PyTorch's warning when it
    held elements), the result is cast to ``out``'s dtype as an in-place op's is (same kind only),
    and out= takes no part in autograd: an argument that requires grad refuses while gradients are
    recorded."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if not isinstance(result, Tensor):
        raise TypeError(f"{name}(): out= takes one Tensor, and {name} returns {type(result).__name__}")
    if result._requires_grad or (out._requires_grad and autograd.is_grad_enabled()):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad")
    if out._data.shape != result._data.shape:
        if out._data.size:
            warnings.warn(f"{name}(): an output with one or more elements was resized since it had shape "
                          f"{list(out._data.shape)}, which does not match the required output shape "
                          f"{list(result._data.shape)} (as PyTorch; resize it to zero elements first to reuse it)",
                          UserWarning, stacklevel=3)
        out.resize_(result._data.shape)
    return apply(out, name, lambda _: result)


def with_out(fn):
    """``fn`` taking PyTorch's ``out=`` keyword as well (:func:`write_out`); for the ``torch.*``
    functions, which PyTorch gives ``out=``: the wrapper is ``minigrad.<name>`` (so it pickles by
    that name, as a collate_fn sent to a worker is)."""
    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        return result if out is None else write_out(fn.__name__, result, out)
    call.__module__, call.__qualname__ = "minigrad", fn.__name__
    return call


def _refresh_views(base, edited):
    """The other live views of ``base`` move onto its new graph, ``take(base, their positions)``
    (PyTorch regenerates a view's grad_fn after its base changed, likewise)."""
    views = getattr(base, "_views", None)
    if not views or not base._requires_grad:
        return
    handle = Tensor._wrap(base._data, base._grad_fn, base._out_index)
    r = versions.root(base._data)
    for v in list(views):
        if v is not edited and versions.root(v._data) is r:
            pos = view_positions(v._data, base._data, overlap=True)
            _rebase(v, Take.apply(handle, backend.to_device(pos, v.device)))


def reshape_in_place(x, name, fn, *args):
    """``t_ transpose_ squeeze_ unsqueeze_``: ``x`` takes the shape (and the graph node) of the
    view ``fn(x, *args)``; its memory is not touched."""
    if autograd.is_grad_enabled() and x._grad_fn is None and x._requires_grad:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation "
                           f"(do it under minigrad.no_grad())")
    new = fn(x, *args)
    x._data = new._data
    if x._requires_grad and new._requires_grad:
        _rebase(x, new)
    return x


def fill(x, name, array):
    """Overwrite ``x`` with ``array`` (an RNG draw, a constant): no gradient reaches the old value."""
    return apply(x, name, lambda t: Tensor._wrap(array))


# ----------------------------------------------------------------------------- random fills
def _uniform(x, generator):
    return backend.random_uniform(x._data.shape, np.float64 if x._data.dtype == np.float64 else np.float32,
                                  x.device, generator)


def _cast(x, values):
    return values.astype(x._data.dtype, copy=False)


def bernoulli_(x, p=0.5, *, generator=None):
    """1 with probability ``p`` (a number or a tensor broadcast to ``x``), else 0."""
    p = p._data if isinstance(p, Tensor) else p
    if not backend.is_array(p) and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_: expects 0 <= p <= 1, got p={p}")
    return fill(x, "bernoulli_", _cast(x, _uniform(x, generator) < p))


def exponential_(x, lambd=1.0, *, generator=None):
    """-log(1 - U) / lambd."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_: expects lambda > 0.0, but found lambda={lambd}")
    xp = backend.xp_of(x._data)
    return fill(x, "exponential_", _cast(x, -xp.log1p(-_uniform(x, generator)) / lambd))


def geometric_(x, p, *, generator=None):
    """The number of Bernoulli(p) trials up to the first success: ceil(log(1 - U) / log(1 - p))."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_: p must be in (0, 1), got {p}")
    xp = backend.xp_of(x._data)
    u = _uniform(x, generator)
    return fill(x, "geometric_", _cast(x, xp.maximum(xp.ceil(xp.log1p(-u) / _pymath.log1p(-p)), 1)))


def log_normal_(x, mean=1.0, std=2.0, *, generator=None):
    """exp(N(mean, std^2))."""
    if std <= 0:
        raise RuntimeError(f"log_normal_: expects std > 0.0, but found std={std}")
    xp = backend.xp_of(x._data)
    z = backend.random_normal(x._data.shape, x._data.dtype, x.device, generator, float(mean), float(std))
    return fill(x, "log_normal_", _cast(x, xp.exp(z)))


def cauchy_(x, median=0.0, sigma=1.0, *, generator=None):
    """median + sigma tan(pi (U - 1/2))."""
    xp = backend.xp_of(x._data)
    return fill(x, "cauchy_", _cast(x, median + sigma * xp.tan(np.pi * (_uniform(x, generator) - 0.5))))


def _random_top(dtype):
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1)
    if dtype.kind == "b":
        return 1
    return int(np.iinfo(dtype).max)


def random_(x, *args, generator=None, **kwargs):
    """Integers drawn uniformly: ``random_()`` in [0, 2^mantissa] (floats) or [0, max] (integers),
    ``random_(to)`` in [0, to), ``random_(from, to)`` in [from, to)."""
    if len(args) == 1 and not kwargs:
        low, high = 0, args[0]
    else:
        bound = dict(zip(("from_", "to"), args))
        bound.update({("from_" if k in ("from", "from_") else k): v for k, v in kwargs.items()})
        low, high = bound.get("from_", 0), bound.get("to")
    if high is None:
        high = _random_top(x._data.dtype) + 1
    if low >= high:
        raise RuntimeError(f"random_: expects 'from' to be less than 'to', but got from={low} >= to={high}")
    values = backend.random_integers(int(low), int(high), x._data.shape, x.device, generator)
    return fill(x, "random_", _cast(x, values))


# ----------------------------------------------------------------------------- x[index] = value
def index_put(x, index, value):
    """``x`` with ``value`` written at ``x[index]``, out of place and differentiable in both:
    where(covered, put(value, positions), x), the last write winning at repeated positions."""
    from .shape import normalize_index, split_integers
    xp = backend.xp_of(x._data)
    pos = xp.arange(x._data.size).reshape(x._data.shape)
    idx = normalize_index(index, pos)
    split = split_integers(idx)
    pos = pos[split[0]][split[1]] if split is not None else pos[idx]
    if not isinstance(value, Tensor):
        value = Tensor._wrap(xp.asarray(value, dtype=x._data.dtype))
    flat = pos.reshape(-1)
    value = value.to(x._data.dtype).broadcast_to(pos.shape).reshape(-1)
    _, last = np.unique(backend.to_device(flat, backend.CPU)[::-1], return_index=True)
    if last.size != flat.size:                   # repeated positions: keep each one's last value
        keep = backend.to_device(flat.size - 1 - last, x.device)
        flat, value = flat[keep], value[keep]
    covered = xp.zeros(x._data.size, dtype=bool)
    covered[flat] = True
    return where(Tensor._wrap(covered.reshape(x._data.shape)), PutAdd.apply(value, x._data.shape, flat), x)
