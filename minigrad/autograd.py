"""Reverse-mode automatic differentiation, written out.

A differentiable op is a :class:`Function` subclass with two static methods that work on
raw arrays (``numpy.ndarray`` or ``cupy.ndarray``), never on Tensors::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):            # arrays in, arrays out
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, dout):        # d/dx x^2 = 2x
            (x,) = ctx.saved_tensors
            return 2 * x * dout

    y = Square.apply(x)                 # Tensors in, Tensors out

``apply`` unwraps the Tensors, runs ``forward`` and, when any input requires a gradient,
turns the Function instance itself into a node of the graph: it keeps edges to the nodes
that made its inputs, the arrays ``forward`` saved, and nothing of its outputs (so a graph
is freed as soon as the user drops its last tensor).  :func:`run_backward` walks the nodes
from the output in reverse topological order (highest generation first), calls each
``backward``, reduces broadcast dimensions, casts to the input's dtype, accumulates at
fan-out and finally adds the results into the leaves' ``.grad``.
"""
from __future__ import annotations

import copy
import functools
import heapq
import itertools
import threading
import traceback
import weakref

import numpy as np

from . import backend
from .tensor import Tensor

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled", "AnomalyError",
]


# ----------------------------------------------------------------------------- modes
class _Modes(threading.local):
    grad_enabled = True
    anomaly = False
    tracer = None            # a tracing.Trace while ``minigrad.trace()`` is active


_modes = _Modes()


def is_grad_enabled() -> bool:
    return _modes.grad_enabled


class _ModeSwitch:
    """A context manager that is also a decorator (as ``torch.no_grad``)."""

    _attr = ""
    _value = None

    def __enter__(self):
        self._previous = getattr(_modes, self._attr)
        setattr(_modes, self._attr, self._value)
        return self

    def __exit__(self, *exc):
        setattr(_modes, self._attr, self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with copy.copy(self):   # a fresh switch per call, so nested/recursive calls restore correctly
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_ModeSwitch):
    """Ops inside record no graph: for evaluation and in-place parameter updates."""
    _attr, _value = "grad_enabled", False


class enable_grad(_ModeSwitch):
    """Turn graph recording back on inside a ``no_grad`` region."""
    _attr, _value = "grad_enabled", True


class set_grad_enabled(_ModeSwitch):
    _attr = "grad_enabled"

    def __init__(self, mode: bool):
        self._value = bool(mode)


class detect_anomaly(_ModeSwitch):
    """Name the op whose forward or backward first produced a NaN or an infinity.

    Inside this context every op checks its outputs (forward) and its input gradients
    (backward); when they are not finite although what it received was, it raises
    :class:`AnomalyError` with the op's name and, for backward, where its forward was called.
    """
    _attr, _value = "anomaly", True


def is_anomaly_enabled() -> bool:
    return _modes.anomaly


class AnomalyError(RuntimeError):
    """Raised by :class:`detect_anomaly` when an op first produces NaN or infinity."""


def _all_finite(arrays) -> bool:
    for a in arrays:
        if a is not None and a.dtype.kind == "f" and not bool(backend.xp_of(a).isfinite(a).all()):
            return False
    return True


# ----------------------------------------------------------------------------- Function
_FREED = object()


class Function:
    """Base class of every differentiable op, built-in or user-written.

    Subclasses define ``forward(ctx, *args, **kwargs)`` and ``backward(ctx, *grads)`` as
    static methods on arrays.  ``backward`` returns one gradient per positional argument of
    ``forward`` (``None`` for arguments that are not tensors or need no gradient); trailing
    non-tensor arguments may be left out, and a single gradient may be returned bare.  Gradients may have the broadcast shape of the output:
    the engine sums them down to each input's shape.

    Inside both methods ``ctx`` is the Function instance: store what backward needs with
    ``ctx.save_for_backward(*arrays)`` (read back as ``ctx.saved_tensors``) or as plain
    attributes; ``ctx.needs_input_grad[i]`` says whether input ``i`` wants a gradient.
    """

    __slots__ = ("_next", "_gen", "_saved", "_needs", "_out_meta", "_hooks",
                 "_retained", "_stack", "__dict__", "__weakref__")

    #: Return zero arrays instead of None for outputs that received no gradient.
    materialize_grads = True

    # -- what an op calls from forward/backward
    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        saved = getattr(self, "_saved", ())
        if saved is _FREED:
            raise RuntimeError(self._freed_message())
        return saved

    @property
    def needs_input_grad(self) -> tuple:
        return self._needs

    @property
    def name(self) -> str:
        return type(self).__name__

    def _freed_message(self):
        return (f"{self.name}: trying to backward through the graph a second time (or to read "
                f"its saved arrays after they were freed); pass retain_graph=True to the first "
                f"backward() if you need to backward through it again")

    def __repr__(self):
        return f"<{self.name} node>"

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define a static backward(ctx, *grads)")

    # -- the call
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arrays of ``args`` and return Tensor output(s).

        Tensors in ``args`` must share a device; other arguments (scalars, arrays of
        indices, options) are passed through unchanged and never receive gradients.
        """
        ctx = cls.__new__(cls)
        grad_on = _modes.grad_enabled
        n = len(args)
        arrays = [None] * n
        edges = [None] * n        # (producer node or leaf tensor, output index, shape, dtype)
        gen = 0
        any_grad = False
        array_type = None
        for i in range(n):
            a = args[i]
            if not isinstance(a, Tensor):
                arrays[i] = a
                continue
            arr = arrays[i] = a.data
            if array_type is None:
                array_type = type(arr)
            elif type(arr) is not array_type:
                _raise_device_mismatch(cls.__name__, args)
            if a._requires_grad and grad_on:
                any_grad = True
                node = a._grad_fn
                if node is None:
                    edges[i] = (a, None, arr.shape, arr.dtype)
                else:
                    edges[i] = (node, a._out_index, arr.shape, arr.dtype)
                    if node._gen > gen:
                        gen = node._gen
        ctx._needs = tuple([e is not None for e in edges]) if any_grad else (False,) * n
        ctx._saved = ()
        tracer = _modes.tracer
        if tracer is not None:
            start = tracer.clock(arrays)
        outputs = cls.forward(ctx, *arrays, **kwargs)
        if type(outputs) is not tuple:
            out = outputs if isinstance(outputs, np.ndarray) else _as_arrays(cls.__name__, (outputs,))[0]
            if _modes.anomaly:
                _check_forward(cls.__name__, arrays, (out,))
            if not any_grad or out.dtype.kind != "f":
                result = Tensor._wrap(out)
            else:
                ctx._link(edges, gen, None, anomaly=_modes.anomaly)
                result = Tensor._wrap(out, ctx, 0)
            if tracer is not None:
                tracer.forward(cls.__name__, result._grad_fn, arrays, (out,), start)
            return result
        outputs = _as_arrays(cls.__name__, outputs)
        if _modes.anomaly:
            _check_forward(cls.__name__, arrays, outputs)
        if not any_grad:
            results = tuple(Tensor._wrap(out) for out in outputs)
        else:
            ctx._link(edges, gen, tuple((o.shape, o.dtype) for o in outputs), anomaly=_modes.anomaly)
            results = tuple(Tensor._wrap(out, ctx, i) if out.dtype.kind == "f" else Tensor._wrap(out)
                            for i, out in enumerate(outputs))
        if tracer is not None:
            tracer.forward(cls.__name__, ctx if any_grad else None, arrays, outputs, start)
        return results

    def _link(self, edges, gen, out_meta, anomaly):
        """Make this Function a node of the graph (only when some input requires grad)."""
        self._gen = gen + 1
        self._next = tuple(edges)
        self._hooks = None
        self._retained = None
        self._out_meta = out_meta
        self._stack = traceback.format_stack()[:-2] if anomaly else None


def _as_arrays(name, outputs):
    """Outputs must be arrays; NumPy reductions return scalars, which become 0-d arrays."""
    for out in outputs:
        if not isinstance(out, np.ndarray):
            break
    else:
        return outputs
    fixed = []
    for out in outputs:
        if isinstance(out, np.generic):
            out = np.asarray(out)
        elif not backend.is_array(out):
            raise TypeError(f"{name}.forward must return arrays (or a tuple of arrays), got {type(out).__name__}")
        fixed.append(out)
    return tuple(fixed)


def _raise_device_mismatch(name, args):
    found = [(i, backend.device_of(a.data)) for i, a in enumerate(args) if isinstance(a, Tensor)]
    described = ", ".join(f"input {i} on {d}" for i, d in found)
    raise RuntimeError(f"{name}: expected all tensors on the same device, got {described}; "
                       f"move them with .to(device) first")


def _check_forward(name, inputs, outputs):
    arrays = [a for a in inputs if backend.is_array(a)]
    if _all_finite(arrays) and not _all_finite(outputs):
        raise AnomalyError(f"{name}: forward produced NaN or infinity from finite inputs")


# ----------------------------------------------------------------------------- the backward engine
def _fit_gradient(node, i, g, shape, dtype):
    """Check gradient ``g`` that ``node.backward`` returned for input ``i``; sum broadcast
    dimensions away and cast it to the input's dtype.  (The engine skips this call when
    shape and dtype already match.)"""
    if not backend.is_array(g):
        if isinstance(g, np.generic):     # NumPy turns 0-d results into scalars
            g = np.asarray(g)
        elif isinstance(g, Tensor):
            g = g.data
        else:
            raise TypeError(f"{node.name}.backward returned {type(g).__name__} for input {i}; "
                            f"expected an array or None")
    if g.shape != shape:
        g = unbroadcast(g, shape, node.name, i)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def unbroadcast(g, shape, opname="op", index=0):
    """Sum ``g`` over the dimensions that broadcasting added to an input of ``shape``.

    The one shared rule of every broadcasting op: d(broadcast x)/dx sums the copies.
    """
    extra = g.ndim - len(shape)
    if extra < 0:
        raise RuntimeError(f"{opname}.backward returned a gradient of shape {g.shape} for input "
                           f"{index} of shape {shape}")
    axes = list(range(extra))
    for k, size in enumerate(shape):
        gsize = g.shape[extra + k]
        if size == 1 and gsize != 1:
            axes.append(extra + k)
        elif size != gsize:
            raise RuntimeError(f"{opname}.backward returned a gradient of shape {g.shape} for "
                               f"input {index} of shape {shape}")
    if axes:
        g = g.sum(axis=tuple(axes), keepdims=True)
    return g.reshape(shape)


def _run_tensor_hooks(hooks, g):
    for hook in hooks:
        out = hook(Tensor._wrap(g))
        if out is not None:
            new = out.data if isinstance(out, Tensor) else out
            if new.shape != g.shape:
                raise RuntimeError(f"a gradient hook returned shape {new.shape}, expected {g.shape}")
            g = new
    return g


def run_backward(roots, grad_roots, retain_graph=False, capture=None):
    """The engine.  Propagate ``grad_roots`` (arrays) back from ``roots`` (Tensors).

    Nodes wait in a heap keyed by generation (highest first): a node's generation exceeds
    that of every node feeding it, so when a node is popped every gradient it will receive
    has arrived.  Gradients for the same target are summed out of place (the first may be
    shared: ``Add`` hands one array to both inputs).

    Without ``capture`` the gradients are added into the leaves' ``.grad``; with it (a list
    of tensors, for :func:`grad`) they are returned instead and no ``.grad`` is touched.
    """
    counter = itertools.count()
    heap = []                 # (-generation, tiebreak, node)
    pending = {}              # node -> {output index: gradient so far}
    leaf_grads = {}           # leaf tensor -> gradient so far
    captured_nodes = {}       # (node, output index) -> positions in capture
    captured = {}             # position in capture -> gradient
    if capture is not None:
        for k, t in enumerate(capture):
            if t._grad_fn is not None:
                captured_nodes.setdefault((t._grad_fn, t._out_index), []).append(k)

    for root, g in zip(roots, grad_roots):
        if root._grad_fn is None:
            _send(leaf_grads, pending, heap, counter, root, None, g)
        else:
            _send(leaf_grads, pending, heap, counter, root._grad_fn, root._out_index, g)

    anomaly = _modes.anomaly
    while heap:
        node = heapq.heappop(heap)[2]
        slots = pending.pop(node)
        if node._saved is _FREED:
            raise RuntimeError(node._freed_message())
        if node._out_meta is None and node._hooks is None and node._retained is None:
            grads = (slots[0],)                      # the common case: one output, no hooks
        else:
            grads = _node_output_grads(node, slots)
        if captured_nodes:
            for idx, g in enumerate(grads):
                for k in captured_nodes.get((node, idx), ()):
                    captured[k] = g
        tracer = _modes.tracer
        if tracer is not None:
            start = tracer.clock(grads)
        grads_in = node.backward(node, *grads)
        if type(grads_in) is not tuple:
            grads_in = (grads_in,)
        if tracer is not None:
            tracer.backward(node, grads, grads_in, start)
        edges = node._next
        if len(grads_in) != len(edges) and not _only_options_missing(node, grads_in):
            raise RuntimeError(f"{node.name}.backward returned {len(grads_in)} gradients, expected "
                               f"{len(edges)} (one per argument of forward, None where there is none)")
        if anomaly:
            _check_backward(node, grads, grads_in)
        if not retain_graph:
            node._saved = _FREED
            node.__dict__.clear()
        for i, g in enumerate(grads_in):
            edge = edges[i]
            if edge is None or g is None:
                continue
            target, index, shape, dtype = edge
            if type(g) is not np.ndarray or g.shape != shape or g.dtype != dtype:
                g = _fit_gradient(node, i, g, shape, dtype)
            _send(leaf_grads, pending, heap, counter, target, index, g)

    if capture is not None:
        return [captured.get(k) if t._grad_fn is not None else leaf_grads.get(t) for k, t in enumerate(capture)]
    _deposit_leaf_grads(leaf_grads, foreign=[id(g) for g in grad_roots])
    return None


def _send(leaf_grads, pending, heap, counter, target, index, g):
    """Add gradient ``g`` for a leaf (``index`` None) or for output ``index`` of node ``target``,
    queueing the node the first time it receives one."""
    if index is None:
        old = leaf_grads.get(target)
        leaf_grads[target] = g if old is None else old + g
        return
    slots = pending.get(target)
    if slots is None:
        slots = pending[target] = {}
        heapq.heappush(heap, (-target._gen, next(counter), target))
    old = slots.get(index)
    slots[index] = g if old is None else old + g


def _only_options_missing(node, grads_in):
    """Trailing non-tensor arguments (options such as ``dim``) may be left out of backward's result."""
    n = len(grads_in)
    return n < len(node._next) and all(edge is None for edge in node._next[n:])


def _node_output_grads(node, slots):
    """The gradients of a node's outputs, after hooks; zeros for outputs that got none."""
    n_out = 1 if node._out_meta is None else len(node._out_meta)
    grads = [slots.get(i) for i in range(n_out)]
    if node._hooks:
        for idx, hooks in node._hooks.items():
            if grads[idx] is not None:
                grads[idx] = _run_tensor_hooks(hooks, grads[idx])
    if node._retained:
        for idx, ref in node._retained.items():
            t = ref()
            if t is not None and grads[idx] is not None:
                t.grad = Tensor._wrap(grads[idx] if t.grad is None else t.grad.data + grads[idx])
    if node.materialize_grads and any(g is None for g in grads):
        # zeros for float outputs nobody used; integer outputs (indices) have no gradient
        xp = backend.xp_of(next(g for g in grads if g is not None))
        grads = [xp.zeros(*node._out_meta[i]) if g is None and node._out_meta[i][1].kind == "f" else g
                 for i, g in enumerate(grads)]
    return grads


def _deposit_leaf_grads(leaf_grads, foreign=()):
    """Add each leaf's gradient into its ``.grad``, in place when it exists (as PyTorch).

    A new ``.grad`` never shares memory with another array: not with another leaf's (``Add``
    hands one array to both inputs), not with a view of an engine temporary, not with a
    gradient the caller passed in (``foreign``).  So in-place edits of one gradient, like
    clipping or accumulation, touch nothing else.
    """
    handed_out = set(foreign)
    for leaf, g in leaf_grads.items():
        if leaf._hooks:
            g = _run_tensor_hooks(leaf._hooks, g)
        grad = leaf.grad
        if grad is None:
            if g.base is not None or id(g) in handed_out:
                g = g.copy()
            handed_out.add(id(g))
            leaf.grad = Tensor._wrap(g)
        elif grad.data.shape == g.shape and grad.data.dtype == g.dtype and getattr(grad.data.flags, "writeable", True):
            grad.data += g
        else:
            grad.data = grad.data + g


def _check_backward(node, grads_out, grads_in):
    if _all_finite(grads_out) and not _all_finite([g for g in grads_in if backend.is_array(g)]):
        where = "".join(node._stack[-4:]) if node._stack else "(forward ran outside detect_anomaly)\n"
        raise AnomalyError(f"{node.name}: backward produced NaN or infinity from finite gradients.\n"
                           f"Its forward was called here:\n{where}")


# ----------------------------------------------------------------------------- user-facing entry points
def _root_gradient(t: Tensor, g):
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(f"backward: a gradient can be created implicitly only for outputs with "
                               f"one element; this output has shape {t.shape}: pass gradient=")
        return backend.xp_of(t.data).ones(t.shape, dtype=t.dtype)
    arr = g.data if isinstance(g, Tensor) else g
    if not backend.is_array(arr):
        arr = np.asarray(arr)
    if type(arr) is not type(t.data):
        raise RuntimeError(f"backward: gradient is on {backend.device_of(arr)} but the output is on "
                           f"{t.device}")
    if arr.shape != t.shape:
        raise RuntimeError(f"backward: gradient has shape {arr.shape} but the output has shape {t.shape}")
    return arr.astype(t.dtype, copy=False)     # never stored as a .grad as is (see _deposit_leaf_grads)


def _check_roots(roots):
    for k, t in enumerate(roots):
        if not t._requires_grad:
            raise RuntimeError(f"backward: output {k} does not require grad and has no grad_fn "
                               f"(was it computed under no_grad(), or from tensors without requires_grad=True?)")


def backward(tensors, grad_tensors=None, retain_graph=False):
    """Accumulate the gradients of ``tensors`` (a Tensor or a sequence) into the leaves' ``.grad``."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor) or backend.is_array(grad_tensors):
        grad_tensors = [grad_tensors] * len(tensors) if grad_tensors is None else [grad_tensors]
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"backward: got {len(tensors)} tensors but {len(grad_tensors)} gradients")
    _check_roots(tensors)
    grads = [_root_gradient(t, g) for t, g in zip(tensors, grad_tensors)]
    run_backward(tensors, grads, retain_graph=retain_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``
    (as ``torch.autograd.grad``)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor) or backend.is_array(grad_outputs):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    _check_roots(outputs)
    for k, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError(f"grad: input {k} does not require grad")
    grads = [_root_gradient(t, g) for t, g in zip(outputs, grad_outputs)]
    found = run_backward(outputs, grads, retain_graph=retain_graph, capture=inputs)
    result = []
    for k, g in enumerate(found):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {k} was not used to compute the outputs "
                               f"(pass allow_unused=True to get None for it)")
        result.append(None if g is None else Tensor._wrap(g))
    return tuple(result)


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, fn):
        self._hooks = hooks
        self._fn = fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)
