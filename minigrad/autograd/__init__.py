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

Differentiating the derivative (``create_graph=True``): the engine then carries gradients as
Tensors and calls each ``backward`` on Tensors too, with ``ctx.saved_tensors`` handing back
the saved inputs and outputs *as Tensors connected to the graph*, under ``enable_grad``, so
the ops of the backward record a graph of their own.  A backward written with operators and
the helpers of ``ops/_formula.py`` is thus one formula for both passes (the ops set
``differentiable_backward = True``).  Fused ops instead give a ``composite``: their forward
written with differentiable ops, which the engine differentiates (with its own graph) in
place of the fast backward.  A Function with neither keeps working for first-order
gradients; its gradient under ``create_graph`` is marked, and differentiating it again
raises an error that names it (PyTorch's ``once_differentiable``).
"""
from __future__ import annotations

import copy
import functools
import heapq
import inspect
import itertools
import threading
import traceback
import weakref

import numpy as np

from .. import backend
from ..tensor import INFERENCE_DEPTH, INFERENCE_SEEN, Tensor
from . import graph as _graph
from . import versions as _versions

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "AnomalyError", "queue_callback",
    "RemovableHandle", "get_tracer", "set_tracer",
]


# ----------------------------------------------------------------------------- modes
class _Modes(threading.local):
    grad_enabled = True
    anomaly = False
    tracer = None            # a tracing.Trace while ``minigrad.trace()`` is active
    tensor_backward = False  # True while the engine runs a backward on Tensors (create_graph)
    callbacks = None         # queue_callback's functions, run when the current backward() ends
    saved_hooks = ()         # (pack, unpack) pairs of the open graph.saved_tensors_hooks regions
    saved_hooks_disabled = None   # the message graph.disable_saved_tensors_hooks raises with


_modes = _Modes()


def is_grad_enabled() -> bool:
    return _modes.grad_enabled


def get_tracer():
    """What every op and backward step reports to in this thread (a ``tracing.Trace`` while
    ``minigrad.trace()`` records), or None."""
    return _modes.tracer


def set_tracer(tracer):
    """Make ``tracer`` (None: nothing) the one ops report to in this thread; returns the previous one."""
    previous, _modes.tracer = _modes.tracer, tracer
    return previous


class _ModeSwitch:
    """A context manager that is also a decorator (as ``torch.no_grad``)."""

    _attr = ""
    _value = None

    def __enter__(self):
        self._previous = getattr(_modes, self._attr)
        setattr(_modes, self._attr, self._value)

    def __exit__(self, *exc):
        setattr(_modes, self._attr, self._previous)
        return False

    def clone(self):
        """A fresh switch of the same kind (PyTorch's decorators copy theirs this way)."""
        return copy.copy(self)

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with copy.copy(self):   # a fresh switch per call, so nested/recursive calls restore correctly
                return fn(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, fn):
        """A generator runs each step inside the switch, and the caller's code between steps outside."""
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            sent = None
            while True:
                try:
                    with copy.copy(self):
                        item = gen.send(sent)
                except StopIteration as stop:
                    return stop.value
                sent = yield item
        return wrapper


class _BareSwitch(_ModeSwitch):
    """A switch that also decorates without parentheses (``@no_grad`` as ``@no_grad()``)."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return cls()(args[0])
        return super().__new__(cls)


class no_grad(_BareSwitch):
    """Ops inside record no graph: for evaluation and in-place parameter updates."""
    _attr, _value = "grad_enabled", False


class enable_grad(_BareSwitch):
    """Turn graph recording back on inside a ``no_grad`` region."""
    _attr, _value = "grad_enabled", True


class _SetSwitch(_ModeSwitch):
    """A switch that takes effect at once, as a plain call too (``set_grad_enabled(False)``);
    as a context manager or a decorator it restores the previous mode on exit."""

    def __init__(self, mode: bool):
        self._value = bool(mode)
        self._previous = getattr(_modes, self._attr)
        setattr(_modes, self._attr, self._value)

    def __enter__(self):
        pass                            # __init__ switched already

    def __call__(self, fn):
        setattr(_modes, self._attr, self._previous)      # decorating switches nothing
        switch, mode = type(self), self._value

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with switch(mode):
                return fn(*args, **kwargs)
        return wrapper


class set_grad_enabled(_SetSwitch):
    _attr = "grad_enabled"

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):      # PyTorch refuses 0/1 here, so code passing them fails there
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        super().__init__(mode)


class detect_anomaly(_ModeSwitch):
    """Name the op whose forward or backward first produced a NaN (infinities pass, as in PyTorch).

    Inside this context every op checks its outputs (forward: minigrad's addition, PyTorch checks
    backward only) and its input gradients (backward); when they hold NaN although what it
    received did not, it raises
    :class:`AnomalyError` with the op's name and, for backward, where its forward was called.
    """
    _attr, _value = "anomaly", True

    def __init__(self, check_nan: bool = True):
        self._value = bool(check_nan)       # the NaN checks are all this mode does


class set_detect_anomaly(_SetSwitch):
    """:class:`detect_anomaly` switched at once (a plain call too), as ``torch.autograd.set_detect_anomaly``."""
    _attr = "anomaly"

    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__(mode and check_nan)


def is_anomaly_enabled() -> bool:
    return _modes.anomaly


class _MisuseTypeError(TypeError):
    """A PyTorch-style Function broke PyTorch's rules: no retry of its forward on arrays."""


class AnomalyError(RuntimeError):
    """Raised by :class:`detect_anomaly` when an op first produces NaN."""


def _no_nan(arrays) -> bool:
    """Infinities pass, as in PyTorch's anomaly mode (a -inf attention mask, an infinite slope)."""
    for a in arrays:
        if a is not None and a.dtype.kind in "fc" and bool(backend.xp_of(a).isnan(a).any()):
            return False
    return True


# ----------------------------------------------------------------------------- Function
_FREED = object()


class _OpName(str):
    """A node's name, which PyTorch code calls: ``grad_fn.name()``."""

    def __call__(self) -> str:
        return self.torch_name


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

    Second order: set ``differentiable_backward = True`` when ``backward`` is written with
    operations that work on Tensors as well as arrays (operators, Tensor methods, the helpers
    of ``minigrad/ops/_formula.py``, ``OtherFunction.run``); under ``create_graph`` the engine
    then calls it on Tensors, and ``ctx.saved_tensors`` gives the saved inputs and outputs of
    ``forward`` as Tensors of the graph (other saved arrays, and plain attributes, are
    constants).  Or give a ``composite(*args, **kwargs)``: the forward written with
    differentiable ops, which the engine differentiates instead.  Without either, the
    gradient is correct but differentiating it again raises an error naming the Function.

    A Function written PyTorch's way works unchanged: ``forward(ctx, *args)`` computing with
    Tensor ops (or ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``), with
    ``ctx.mark_dirty``, ``ctx.mark_non_differentiable``, ``ctx.set_materialize_grads`` and
    ``function.once_differentiable``.  Its forward gets the Tensors themselves under
    ``no_grad``, its backward gets Tensors, and ``ctx.saved_tensors`` gives Tensors of the
    graph, so a backward written with Tensor ops is differentiable again.  Which kind a
    Function is: minigrad's own ops and Functions with a formula or a composite work on arrays;
    one with a ``setup_context`` on Tensors; any other user Function is tried on Tensors and
    falls back to arrays (remembered on the class) when its forward or backward fails there
    (a NumPy call on a Tensor, say).
    """

    __slots__ = ("_next", "_gen", "_saved", "_saved_src", "_inputs", "_needs", "_out_meta", "_hooks",
                 "_retained", "_stack", "__dict__", "__weakref__")

    #: Return zero arrays instead of None for outputs that received no gradient.
    materialize_grads = True
    #: ``backward`` also runs on Tensors (see the class docstring): gradients of this op are
    #: differentiable again.
    differentiable_backward = False
    #: ``composite(*args, **kwargs)``: the op written with differentiable ops (see above).
    composite = None
    #: Whether forward and backward work on Tensors, as PyTorch's (see ``_apply_on_tensors``):
    #: False for minigrad's own ops and for Functions with a formula or a composite, True with a
    #: ``setup_context``, None (found out on each call) for other user Functions.
    _tensors = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "vjp" in cls.__dict__ and "backward" not in cls.__dict__:
            cls.backward = cls.__dict__["vjp"]          # PyTorch's other name for backward
        if cls.setup_context is not Function.setup_context:
            cls._tensors = True
        elif cls.__module__.split(".")[0] == "minigrad" or cls.differentiable_backward or cls.composite is not None:
            cls._tensors = False
        else:
            cls._tensors = None

    # -- what an op calls from forward/backward
    def save_for_backward(self, *arrays):
        if self._tensors:       # PyTorch-style: keep the arrays, hand back Tensors (saved_tensors)
            for i, a in enumerate(arrays):
                if a is not None and not isinstance(a, Tensor):     # PyTorch's rule: ctx attributes hold the rest
                    raise _MisuseTypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                    f"{type(a).__name__}")
            arrays = tuple(a._data if isinstance(a, Tensor) else a for a in arrays)
        self._saved = arrays

    def mark_non_differentiable(self, *tensors):
        """PyTorch-style forward: these outputs get no grad_fn (indices, masks)."""
        self._non_diff = tuple(tensors)

    def mark_dirty(self, *tensors):
        """PyTorch-style forward: these inputs were edited in place and are returned as outputs."""
        self._dirty = tuple(tensors)

    def set_materialize_grads(self, value: bool):
        """False: backward gets None, not zeros, for outputs that received no gradient."""
        self.materialize_grads = bool(value)

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch's newer style: ``forward(*args)`` without ctx, then this fills ``ctx``."""
        raise NotImplementedError

    @property
    def saved_tensors(self):
        saved = getattr(self, "_saved", ())
        if saved is _FREED:
            raise RuntimeError(self._freed_message())
        if type(saved) is _graph.PackedSaved:
            saved = saved.unpacked(self.name)
        if (_modes.tensor_backward or self._tensors) and saved:
            return self._saved_as_tensors(saved)
        return saved

    @property
    def needs_input_grad(self) -> tuple:
        return self._needs

    @property
    def name(self) -> str:
        """The op's name ("Mul", as minigrad's messages say); called, PyTorch's ``grad_fn.name()``
        ("MulBackward0" for a built-in op, "MyFnBackward" for a user's Function)."""
        cls = type(self)
        name = _OpName(cls.__name__)
        name.torch_name = cls.__name__ + ("Backward0" if cls.__module__.split(".")[0] == "minigrad" else "Backward")
        return name

    @property
    def next_functions(self) -> tuple:
        """``((node, output index), ...)`` per input, ``(None, 0)`` for inputs that need no
        gradient, a leaf as its :class:`AccumulateGrad` (``.variable`` is the leaf), as PyTorch's
        ``grad_fn.next_functions``."""
        return tuple((None, 0) if e is None else
                     (accumulator(e[0]), 0) if isinstance(e[0], Tensor) else (e[0], e[1] or 0) for e in self._next)

    @property
    def generation(self) -> int:
        """One more than the highest generation of the nodes feeding it (leaves count 0)."""
        return self._gen

    @property
    def input_metadata(self) -> tuple:
        """``(shape, dtype)`` per input, of the gradient it expects back; None for inputs that
        need no gradient (beside :attr:`next_functions`)."""
        return tuple(None if e is None else (e[2], e[3]) for e in self._next)

    @property
    def metadata(self) -> dict:
        """A dict for the user's notes on this node (PyTorch's ``grad_fn.metadata``)."""
        return self.__dict__.setdefault("_metadata", {})

    @property
    def num_outputs(self) -> int:
        """How many outputs the forward returned (several: a gradient arrives per output)."""
        return 1 if self._out_meta is None else len(self._out_meta)

    def register_prehook(self, hook):
        """``hook(grad_outputs)`` before this node's backward; a tuple it returns replaces the
        gradients (PyTorch's ``grad_fn.register_prehook``).  Returns a removable handle."""
        return self._node_hook("_prehooks", hook)

    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs)`` after this node's backward; a tuple it returns
        replaces ``grad_inputs`` (PyTorch's ``grad_fn.register_hook``).  Returns a removable handle."""
        return self._node_hook("_posthooks", hook)

    def _node_hook(self, kind, hook):
        if self._hooks is None:
            self._hooks = {}            # takes the node off the engine's fast path
        hooks = self.__dict__.setdefault(kind, [])
        hooks.append(hook)
        return RemovableHandle(functools.partial(_remove_from, hooks, hook))

    def _freed_message(self):
        return (f"{self.name}: Trying to backward through the graph a second time (or to read "
                f"its saved arrays after they were freed); pass retain_graph=True to the first "
                f"backward() if you need to backward through it again")

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define a static backward(ctx, *grads)")

    # -- the call
    @classmethod
    def run(cls, *args, **kwargs):
        """``apply`` when some argument is a Tensor, else just ``forward`` on the arrays (no
        node, no graph): how one backward calls another op, so that the same line serves the
        first-order pass (arrays) and ``create_graph`` (Tensors)."""
        for a in args:
            if isinstance(a, Tensor):
                return cls.apply(*args, **kwargs)
        ctx = cls.__new__(cls)
        ctx._needs = (True,) * len(args)
        ctx._saved = ()
        return cls.forward(ctx, *args, **kwargs)

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arrays of ``args`` and return Tensor output(s).

        Tensors in ``args`` must share a device; other arguments (scalars, arrays of
        indices, options) are passed through unchanged and never receive gradients.
        A user's Function written PyTorch's way gets the Tensors instead (``_apply_on_tensors``).
        """
        if cls._tensors is not False:
            return _apply_on_tensors(cls, args, kwargs)
        return cls._apply(args, kwargs, None)

    def __call__(self, *args):
        raise RuntimeError(f"{self.name}: call {self.name}.apply(...), not an instance (PyTorch's legacy autograd "
                           f"Functions with a non-static forward are not supported)")

    @classmethod
    def _apply(cls, args, kwargs, run_forward):
        ctx = cls.__new__(cls)
        grad_on = _modes.grad_enabled and not INFERENCE_DEPTH[0]     # inference_mode: enable_grad records nothing
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
            arr = arrays[i] = a._data
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
        quiet = backend.fp_quiet()          # IEEE infs and NaNs without NumPy's warnings, as PyTorch
        try:
            outputs = cls.forward(ctx, *arrays, **kwargs) if run_forward is None else run_forward(ctx)
        finally:
            backend.fp_restore(quiet)
        if type(outputs) is not tuple:
            out = outputs if isinstance(outputs, np.ndarray) else _as_arrays(cls.__name__, (outputs,), ctx)[0]
            if _modes.anomaly:
                _check_forward(cls.__name__, arrays, (out,))
            if not any_grad or out.dtype.kind != "f":
                result = Tensor._wrap(out)
            else:
                ctx._link(edges, gen, None, _modes.anomaly, arrays, (out,), args, kwargs)
                result = Tensor._wrap(out, ctx, 0)
            if out.base is not None:
                _note_view(result, args, arrays)
            if tracer is not None:
                tracer.forward(cls.__name__, result._grad_fn, arrays, (out,), start)
            return result
        outputs = _as_arrays(cls.__name__, outputs, ctx)
        if _modes.anomaly:
            _check_forward(cls.__name__, arrays, outputs)
        if not any_grad:
            results = tuple(Tensor._wrap(out) for out in outputs)
        else:
            ctx._link(edges, gen, tuple((o.shape, o.dtype) for o in outputs), _modes.anomaly, arrays, outputs,
                      args, kwargs)
            results = tuple(Tensor._wrap(out, ctx, i) if out.dtype.kind == "f" else Tensor._wrap(out)
                            for i, out in enumerate(outputs))
        for r in results:
            if r._data.base is not None:
                _note_view(r, args, arrays)
        if tracer is not None:
            tracer.forward(cls.__name__, ctx if any_grad else None, arrays, outputs, start)
        return results

    def _link(self, edges, gen, out_meta, anomaly, arrays, outputs, args, kwargs):
        """Make this Function a node of the graph (only when some input requires grad), and
        note what a backward under ``create_graph`` will need: where each saved array came
        from (input i, output j), or, for a composite, the arguments themselves."""
        self._gen = gen + 1
        self._next = tuple(edges)
        self._hooks = None
        self._retained = None
        self._out_meta = out_meta
        self._stack = traceback.format_stack()[:-2] if anomaly else None
        saved = self._saved
        if saved and INFERENCE_SEEN[0]:
            _refuse_saved_inference(args, saved)
        if saved and (self.differentiable_backward or self._tensors):
            self._saved_src = [_source_of(s, arrays, outputs) for s in saved]
        if self.composite is not None:
            self._inputs = (arrays, kwargs, tuple(isinstance(a, Tensor) for a in args))
        if _versions._counts:          # some array was edited in place: note what this node saved
            self._saved_versions = _versions.versions_of(self)
        if _modes.saved_hooks and saved:   # graph.saved_tensors_hooks: keep the packed forms instead
            self._saved = _graph.PackedSaved(saved, *_modes.saved_hooks[-1])

    # -- the saved arrays as Tensors of the graph (create_graph)
    def _input_tensor(self, i, array):
        """Input ``i`` of forward as a Tensor: the leaf itself, a new handle on its producer's
        output, or a constant when it needs no gradient."""
        edge = self._next[i] if i < len(self._next) else None
        if edge is None:
            return Tensor._wrap(array)
        if edge[1] is None:
            return edge[0]
        return Tensor._wrap(array, edge[0], edge[1])

    def _saved_as_tensors(self, saved):
        out = []
        for s, src in zip(saved, self._saved_src):
            if s is None or not backend.is_array(s):
                out.append(s)
            elif src is None:
                out.append(Tensor._wrap(s))                  # an intermediate: a constant
            elif src >= 0:
                out.append(self._input_tensor(src, s))
            else:
                out.append(Tensor._wrap(s, self, -1 - src))  # an output of this very node
        return tuple(out)


def _refuse_saved_inference(args, saved):
    """PyTorch's rule: a recorded op may not save an inference tensor (no version counter guards it)."""
    for a in args:
        if isinstance(a, Tensor) and getattr(a, "_inference", False) and any(s is a._data for s in saved):
            raise RuntimeError("Inference tensors cannot be saved for backward. Please do not use Tensors created "
                               "in inference mode in computation tracked by autograd. To work around this, you can "
                               "make a clone to get a normal tensor and use it in autograd.")


class AccumulateGrad:
    """What PyTorch shows for a leaf in ``next_functions``: the step that adds its gradient into
    ``variable.grad``.  minigrad's engine adds into leaves directly; this is that step as an object
    for code that walks the graph (``fn.variable``, ``fn.next_functions == ()``), one per leaf
    while the leaf lives."""

    __slots__ = ("_leaf", "_prehooks", "_posthooks", "__weakref__")
    next_functions = ()

    def __init__(self, variable):
        self._leaf = weakref.ref(variable)      # weak: the table of accumulators must not keep leaves alive
        self._prehooks = self._posthooks = None

    @property
    def variable(self):
        return self._leaf()

    @staticmethod
    def name() -> str:
        return "torch::autograd::AccumulateGrad"

    def register_prehook(self, hook):
        """``hook((grad,))`` before the leaf's gradient is added into ``.grad``; a tuple it returns
        replaces the gradient (what PyTorch code hooks through ``next_functions``)."""
        return self._add_hook("_prehooks", hook)

    def register_hook(self, hook):
        """``hook((), (grad,))`` once the gradient is in ``.grad`` (Horovod's old gradient-ready hook)."""
        return self._add_hook("_posthooks", hook)

    def _add_hook(self, kind, hook):
        hooks = getattr(self, kind)
        if hooks is None:
            hooks = []
            setattr(self, kind, hooks)
        hooks.append(hook)
        return RemovableHandle(functools.partial(_remove_from, hooks, hook))

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_accumulators = {}           # id(leaf) -> its AccumulateGrad, dropped with the leaf


def accumulator(leaf) -> AccumulateGrad:
    """The leaf's AccumulateGrad (the same object each time, as PyTorch's)."""
    node = _accumulators.get(id(leaf))
    if node is None or node.variable is not leaf:
        node = _accumulators[id(leaf)] = AccumulateGrad(leaf)
        weakref.finalize(leaf, _accumulators.pop, id(leaf), None)
    return node


def _note_view(result, args, arrays):
    """When ``result`` looks at the memory of a Tensor argument (a view: ``x[0]``, ``x.t()``,
    ``x.view(...)``), remember that argument's base, so that an in-place edit of the view can
    rewrite the base's graph too, and (when the base is part of a graph) let the base know its
    view, so that an in-place edit of the base or of another view can rewrite this one's (see
    ``ops/inplace.py``)."""
    r = _versions.root(result._data)
    for a, arr in zip(args, arrays):
        if isinstance(a, Tensor) and _versions.root(arr) is r:
            base = getattr(a, "_base", None)
            base = result._base = a if base is None else base
            if base._requires_grad and _modes.grad_enabled:
                views = getattr(base, "_views", None)
                if views is None:
                    views = base._views = weakref.WeakSet()
                views.add(result)
            return


def _apply_on_tensors(cls, args, kwargs):
    """``apply`` for a Function written PyTorch's way: ``forward(ctx, *args)`` (or ``forward(*args)``
    plus ``setup_context(ctx, inputs, output)``) gets the Tensors themselves, under ``no_grad``,
    and returns Tensors; ``backward`` gets and returns Tensors (``_backward_on_tensors``) and
    ``ctx.saved_tensors`` gives Tensors, connected to the graph, so a backward written with
    Tensor ops is differentiable again.  Underneath it is the array machinery: the Tensors'
    arrays are what the node saves and outputs.  A user Function with neither a
    ``setup_context`` nor a formula (``cls._tensors`` None) may also be written on arrays, as
    minigrad's own ops: when its forward fails on Tensors it runs again on the arrays."""
    dirty = non_diff = ()
    returned = None

    def run_forward(ctx):
        nonlocal dirty, non_diff, returned
        ctx._tensors = True
        with no_grad():
            if cls._tensors and cls.setup_context is not Function.setup_context:
                returned = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, returned)
            else:
                returned = cls.forward(ctx, *args, **kwargs)
        dirty, non_diff = ctx.__dict__.pop("_dirty", ()), ctx.__dict__.pop("_non_diff", ())
        if type(returned) is tuple:
            gaps = tuple(i for i, o in enumerate(returned) if not _tensor_like(o))
            if gaps:                # non-Tensor outputs (PyTorch passes them through): the node has none
                ctx._gaps = gaps
            return tuple(o._data if isinstance(o, Tensor) else o for o in returned if _tensor_like(o))
        return returned._data if isinstance(returned, Tensor) else returned

    try:
        results = cls._apply(args, kwargs, run_forward)
    except (TypeError, AttributeError, ValueError) as e:
        if cls._tensors is not None or returned is not None or isinstance(e, _MisuseTypeError):
            raise
        try:
            results = cls._apply(args, kwargs, None)     # a forward on arrays, as minigrad's ops
        except Exception:
            pass
        else:
            cls._tensors = False
            return results
        raise
    single = type(results) is not tuple
    outs = (returned,) if single else returned
    results = iter((results,) if single else results)
    fixed = []
    for o in outs:
        if not _tensor_like(o):
            fixed.append(o)
            continue
        r = next(results)
        if any(o is t for t in dirty):          # edited in place: the input itself becomes the output
            if o._grad_fn is None and o._requires_grad and _modes.grad_enabled:
                raise RuntimeError(f"{cls.__name__}: a leaf Variable that requires grad has been used in an "
                                   f"in-place operation (mark_dirty); edit a clone instead")
            if r._grad_fn is not None:
                o._grad_fn, o._out_index, o._requires_grad = r._grad_fn, r._out_index, True
            r = o
        elif any(o is t for t in non_diff):
            r = Tensor._wrap(r._data)
        fixed.append(r)
    return fixed[0] if single else tuple(fixed)


def _tensor_like(o) -> bool:
    return isinstance(o, (Tensor, np.generic)) or backend.is_array(o)


def _with_gaps(node, grads):
    """The gradients a PyTorch-style backward takes: None also for its forward's non-Tensor outputs."""
    gaps = node.__dict__.get("_gaps")
    if not gaps:
        return grads
    grads = list(grads)
    for i in gaps:
        grads.insert(i, None)
    return grads


def _backward_on_tensors(node, grads):
    """A PyTorch-style Function's backward in a first-order pass: Tensors in (None stays None),
    arrays out, with gradients off (as PyTorch)."""
    previous, _modes.grad_enabled = _modes.grad_enabled, False
    try:
        out = node.backward(node, *_with_gaps(node, [None if g is None else Tensor._wrap(g) for g in grads]))
    except (TypeError, AttributeError):
        if type(node)._tensors is not None:
            raise
        node._tensors = type(node)._tensors = False     # a backward written on arrays, as minigrad's ops
        return node.backward(node, *grads)
    finally:
        _modes.grad_enabled = previous
    if type(out) is not tuple:
        return out._data if isinstance(out, Tensor) else out
    return tuple(g._data if isinstance(g, Tensor) else g for g in out)


def _source_of(saved, arrays, outputs):
    """Index of the input that ``saved`` is (i >= 0), of the output (-1 - j), or None."""
    i = 0
    for a in arrays:
        if a is saved:
            return i
        i += 1
    j = -1
    for o in outputs:
        if o is saved:
            return j
        j -= 1
    return None


class _Alias(Function):
    """y = x, a fresh node: where a nested ``grad`` (a composite's backward) stops."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g


class _OnceDifferentiable(Function):
    """Stands for a gradient that a Function's array-only backward computed under
    ``create_graph``: correct as a value, but not differentiable; reaching it in a later
    backward raises (PyTorch's ``once_differentiable``)."""

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"{ctx.source}: its backward works on arrays only, so its gradient cannot be "
                           f"differentiated again (set differentiable_backward = True on a backward written with "
                           f"Tensor operations, or give the Function a composite)")


def _once_differentiable(node, g, grads):
    """``g`` as a Tensor whose node depends on everything the gradient did (the node's inputs
    and the incoming gradients) and raises when a later backward reaches it."""
    edges = list(node._next)
    gen = node._gen
    for t in grads:
        if isinstance(t, Tensor) and t._requires_grad:
            src = t._grad_fn
            edges.append((t, None, t._data.shape, t._data.dtype) if src is None else (src, t._out_index, t._data.shape,
                                                                                   t._data.dtype))
            gen = max(gen, 0 if src is None else src._gen)
    err = _OnceDifferentiable.__new__(_OnceDifferentiable)
    err.source = node.name
    err._saved = ()
    err._needs = tuple(e is not None for e in edges)
    err._link(tuple(edges), gen, None, False, (), (), (), {})
    return Tensor._wrap(g, err, 0)


def _as_arrays(name, outputs, ctx=None):
    """Outputs must be arrays; NumPy reductions return scalars, which become 0-d arrays (also
    where forward saved them, so that a saved output is still recognised as the output)."""
    for out in outputs:
        if not isinstance(out, np.ndarray):
            break
    else:
        return outputs
    fixed = []
    for out in outputs:
        if isinstance(out, np.generic):
            array = np.asarray(out)
            if ctx is not None and ctx._saved:
                ctx._saved = tuple(array if s is out else s for s in ctx._saved)
            out = array
        elif not backend.is_array(out):
            raise TypeError(f"{name}.forward must return arrays (or a tuple of arrays), got {type(out).__name__}")
        fixed.append(out)
    return tuple(fixed)


def _raise_device_mismatch(name, args):
    found = [(i, backend.device_of(a._data)) for i, a in enumerate(args) if isinstance(a, Tensor)]
    described = ", ".join(f"input {i} on {d}" for i, d in found)
    raise RuntimeError(f"{name}: expected all tensors on the same device, got {described}; "
                       f"move them with .to(device) first")


def _check_forward(name, inputs, outputs):
    arrays = [a for a in inputs if backend.is_array(a)]
    if _no_nan(arrays) and not _no_nan(outputs):
        raise AnomalyError(f"{name}: forward produced NaN from inputs without NaN")


# ----------------------------------------------------------------------------- the backward engine
def _fit_gradient(node, i, g, shape, dtype):
    """Check gradient ``g`` that ``node.backward`` returned for input ``i``; sum broadcast
    dimensions away and cast it to the input's dtype.  (The engine skips this call when
    shape and dtype already match.)"""
    if isinstance(g, Tensor):
        if g._data.shape != shape:
            g = _unbroadcast_tensor(g, shape, node.name, i)
        if g._data.dtype != dtype:
            g = g.to(dtype)
        return g
    if not backend.is_array(g):
        if isinstance(g, np.generic):     # NumPy turns 0-d results into scalars
            g = np.asarray(g)
        else:
            raise TypeError(f"{node.name}.backward returned {type(g).__name__} for input {i}; "
                            f"expected an array or None")
    if g.shape != shape:
        g = unbroadcast(g, shape, node.name, i)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _broadcast_axes(gshape, shape, opname, index):
    extra = len(gshape) - len(shape)
    if extra < 0:
        raise RuntimeError(f"{opname}.backward returned a gradient of shape {gshape} for input "
                           f"{index} of shape {shape}")
    axes = list(range(extra))
    for k, size in enumerate(shape):
        gsize = gshape[extra + k]
        if size == 1 and gsize != 1:
            axes.append(extra + k)
        elif size != gsize:
            raise RuntimeError(f"{opname}.backward returned a gradient of shape {gshape} for "
                               f"input {index} of shape {shape}")
    return tuple(axes)


def unbroadcast(g, shape, opname="op", index=0):
    """Sum ``g`` over the dimensions that broadcasting added to an input of ``shape``.

    The one shared rule of every broadcasting op: d(broadcast x)/dx sums the copies.
    """
    axes = _broadcast_axes(g.shape, shape, opname, index)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _unbroadcast_tensor(g, shape, opname, index):
    """:func:`unbroadcast` with differentiable ops (create_graph)."""
    axes = _broadcast_axes(g._data.shape, shape, opname, index)
    if axes:
        g = g.sum(axes, keepdim=True)
    return g.reshape(shape)


def _run_tensor_hooks(hooks, g):
    graph = isinstance(g, Tensor)
    for hook in hooks:
        out = hook(g if graph else Tensor._wrap(g))
        if out is not None:
            if not isinstance(out, Tensor) and not backend.is_array(out):
                raise TypeError(f"expected Variable, but hook returned '{type(out).__name__}'")
            new = out if graph and isinstance(out, Tensor) else out._data if isinstance(out, Tensor) else out
            if new.shape != g.shape:
                raise RuntimeError(f"a gradient hook returned shape {tuple(new.shape)}, expected {tuple(g.shape)}")
            g = new
    return g


def run_backward(roots, grad_roots, retain_graph=False, capture=None, create_graph=False):
    """The engine (:func:`_run_backward`), with NumPy's floating-point warnings off as in forward."""
    quiet = backend.fp_quiet()
    try:
        return _run_backward(roots, grad_roots, retain_graph, capture, create_graph)
    finally:
        backend.fp_restore(quiet)


def _run_backward(roots, grad_roots, retain_graph=False, capture=None, create_graph=False):
    """The engine.  Propagate ``grad_roots`` back from ``roots`` (Tensors).

    Nodes wait in a heap keyed by generation (highest first): a node's generation exceeds
    that of every node feeding it, so when a node is popped every gradient it will receive
    has arrived.  Gradients for the same target are summed out of place (the first may be
    shared: ``Add`` hands one array to both inputs).

    Without ``capture`` the gradients are added into the leaves' ``.grad``; with it (a list
    of tensors, for :func:`grad`) they are returned instead, no ``.grad`` is touched, and only
    the nodes on a path from a root to a captured tensor run (as PyTorch).

    ``create_graph``: the gradients (``grad_roots`` included) are Tensors and every backward
    records the ops it does, so the results can be differentiated again.
    """
    counter = itertools.count()
    heap = []                 # (-generation, tiebreak, node)
    pending = {}              # node -> {output index: gradient so far}
    leaf_grads = {}           # leaf tensor -> gradient so far
    captured_nodes = {}       # (node, output index) -> positions in capture
    captured = {}             # position in capture -> gradient
    needed = None             # with capture: the nodes worth running
    if capture is not None:
        for k, t in enumerate(capture):
            if t._grad_fn is not None:
                captured_nodes.setdefault((t._grad_fn, t._out_index), []).append(k)
        needed = _nodes_to_run(roots, {n for n, _ in captured_nodes}, {id(t) for t in capture if t._grad_fn is None})
    send = functools.partial(_send, leaf_grads, pending, heap, counter, needed, captured_nodes)

    for root, g in zip(roots, grad_roots):
        if root._grad_fn is None:
            send(root, None, g)
        else:
            send(root._grad_fn, root._out_index, g)

    early = _PostAccumulate(roots, [id(g) for g in grad_roots]) if _post_hooks and capture is None else None
    anomaly = _modes.anomaly
    while heap:
        node = heapq.heappop(heap)[2]
        slots = pending.pop(node)
        if node._out_meta is None and node._hooks is None and node._retained is None:
            grads = (slots[0],)                      # the common case: one output, no hooks
        else:
            grads = _node_output_grads(node, slots, create_graph)
        if captured_nodes:
            for idx, g in enumerate(grads):
                for k in captured_nodes.get((node, idx), ()):
                    captured[k] = g
            if node not in needed:
                continue
        if node._saved is _FREED:
            raise RuntimeError(node._freed_message())
        if _versions._counts:
            _versions.check(node, node.__dict__.get("_saved_versions"))
        tracer = _modes.tracer
        if tracer is not None:
            start = tracer.clock(_plain(grads))
        if create_graph:
            grads_in = _tensor_backward(node, grads)
        elif node._tensors:
            grads_in = _backward_on_tensors(node, grads)
        else:
            grads_in = node.backward(node, *grads)
        if type(grads_in) is not tuple:
            grads_in = (grads_in,)
        if tracer is not None:
            tracer.backward(node, _plain(grads), _plain(grads_in), start)
        edges = node._next
        if len(grads_in) > len(edges) and all(g is None for g in grads_in[len(edges):]):
            grads_in = grads_in[:len(edges)]       # Nones for defaulted arguments never passed (as PyTorch)
        if len(grads_in) != len(edges) and not _only_options_missing(node, grads_in):
            raise RuntimeError(f"{node.name}.backward returned {len(grads_in)} gradients, expected "
                               f"{len(edges)} (one per argument of forward, None where there is none)")
        if node._hooks is not None and node.__dict__.get("_posthooks"):
            grads_in = _run_node_hooks(node.__dict__["_posthooks"], grads_in, create_graph, grads)
        if anomaly:
            _check_backward(node, _plain(grads), _plain(grads_in))
        if not retain_graph:
            node._saved = _FREED
            node._inputs = None
            node.__dict__.clear()
        for i, g in enumerate(grads_in):
            edge = edges[i]
            if edge is None or g is None:
                continue
            target, index, shape, dtype = edge
            if create_graph:
                if not isinstance(g, Tensor):
                    raise RuntimeError(f"{node.name}.backward returned an array for input {i} under "
                                       f"create_graph; a differentiable backward must return Tensors")
                if g._data.shape != shape or g._data.dtype != dtype:
                    g = _fit_gradient(node, i, g, shape, dtype)
            elif type(g) is not np.ndarray or g.shape != shape or g.dtype != dtype:
                g = _fit_gradient(node, i, g, shape, dtype)
            send(target, index, g)
        if early is not None:
            early.node_done(node, leaf_grads)

    if capture is not None:
        return [captured.get(k) if t._grad_fn is not None else leaf_grads.get(t) for k, t in enumerate(capture)]
    _deposit_leaf_grads(leaf_grads, foreign=[id(g) for g in grad_roots],
                        handed_out=None if early is None else early.handed_out)
    return None


def _plain(grads):
    """Arrays for the tracer and the anomaly checks, whatever the mode."""
    return [g._data if isinstance(g, Tensor) else g for g in grads]


def _send(leaf_grads, pending, heap, counter, needed, captured_nodes, target, index, g):
    """Add gradient ``g`` for a leaf (``index`` None) or for output ``index`` of node ``target``,
    queueing the node the first time it receives one."""
    if index is None:
        if needed is not None and id(target) not in needed:
            return
        old = leaf_grads.get(target)
        leaf_grads[target] = g if old is None else _add(old, g)
        return
    if needed is not None and target not in needed and (target, index) not in captured_nodes:
        return
    slots = pending.get(target)
    if slots is None:
        slots = pending[target] = {}
        heapq.heappush(heap, (-target._gen, next(counter), target))
    old = slots.get(index)
    slots[index] = g if old is None else _add(old, g)


def _add(a, b):
    """a + b out of place; NumPy makes a scalar of two 0-d arrays, which must stay an array."""
    total = a + b
    return np.asarray(total) if isinstance(total, np.generic) else total


def _nodes_to_run(roots, target_nodes, target_leaves):
    """The nodes from which some target (a captured node, or a captured leaf's id) can be
    reached by going backwards; the ids of the target leaves are included.  Iterative
    depth-first search, so deep graphs (long sequences) are fine."""
    reaches = {}
    stack = [r._grad_fn for r in roots if r._grad_fn is not None]
    while stack:
        node = stack[-1]
        if node in reaches:
            stack.pop()
            continue
        todo = [e[0] for e in node._next if e is not None and e[1] is not None and e[0] not in reaches]
        if todo:
            stack.extend(todo)
            continue
        stack.pop()
        found = False
        for e in node._next:
            if e is None:
                continue
            if e[1] is None:
                found = found or id(e[0]) in target_leaves
            else:
                found = found or e[0] in target_nodes or reaches[e[0]]
        reaches[node] = found
    needed = {n for n, ok in reaches.items() if ok}
    needed.update(target_leaves)
    return needed


def _tensor_backward(node, grads):
    """One node's backward under create_graph: gradients in and out are Tensors."""
    if node.composite is not None:
        return _composite_backward(node, grads)
    if node._tensors and not getattr(node.backward, "once_differentiable", False):
        try:
            return _formula_backward(node, grads)
        except (TypeError, AttributeError):
            if type(node)._tensors is not None:
                raise
            node._tensors = type(node)._tensors = False     # a user's backward written on arrays
    if node._tensors or not node.differentiable_backward:   # values right, not differentiable again
        out = _backward_on_tensors(node, _plain(grads)) if node._tensors else node.backward(node, *_plain(grads))
        out = out if type(out) is tuple else (out,)
        return tuple(g if g is None or isinstance(g, Tensor) else
                     _once_differentiable(node, np.asarray(g) if isinstance(g, np.generic) else g, grads) for g in out)
    return _formula_backward(node, grads)


def _formula_backward(node, grads):
    """``backward`` on Tensors, recording a graph, with ``ctx.saved_tensors`` as graph Tensors."""
    previous = _modes.tensor_backward, _modes.grad_enabled
    _modes.tensor_backward, _modes.grad_enabled = True, True
    try:
        return node.backward(node, *(_with_gaps(node, grads) if node._tensors else grads))
    finally:
        _modes.tensor_backward, _modes.grad_enabled = previous


def _composite_backward(node, grads):
    """Differentiate the op's composite form, rebuilt on its inputs: a nested backward (with a
    graph) from the composite's outputs to fresh aliases of the inputs."""
    arrays, kwargs, was_tensor = node._inputs
    args, aliases = [], []
    previous = _modes.grad_enabled
    _modes.grad_enabled = True
    try:
        for i, a in enumerate(arrays):
            if not was_tensor[i]:
                args.append(a)
                continue
            t = node._input_tensor(i, a)
            if t._requires_grad:
                t = _Alias.apply(t)
                aliases.append((i, t))
            args.append(t)
        outs = node.composite(*args, **kwargs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if g is not None and isinstance(o, Tensor) and o._requires_grad]
        found = run_backward([o for o, _ in pairs], [g for _, g in pairs], retain_graph=True,
                             capture=[t for _, t in aliases], create_graph=True) if pairs and aliases else []
    finally:
        _modes.grad_enabled = previous
    result = [None] * len(node._next)
    for (i, _), g in zip(aliases, found):
        result[i] = g
    return tuple(result)


def _only_options_missing(node, grads_in):
    """Trailing non-tensor arguments (options such as ``dim``) may be left out of backward's result."""
    n = len(grads_in)
    return n < len(node._next) and all(edge is None for edge in node._next[n:])


def _node_output_grads(node, slots, create_graph=False):
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
            g = grads[idx]
            if t is not None and g is not None:
                if create_graph:
                    t._grad = g if t._grad is None else t._grad + g
                else:
                    t._grad = Tensor._wrap(g if t._grad is None else t._grad._data + g)
    if node.__dict__.get("_prehooks"):
        grads = list(_run_node_hooks(node.__dict__["_prehooks"], grads, create_graph))
    if node.materialize_grads and any(g is None for g in grads):
        # zeros for float outputs nobody used; integer outputs (indices) have no gradient
        first = next(g for g in grads if g is not None)
        xp = backend.xp_of(first._data if create_graph else first)
        grads = [_zeros(xp, node._out_meta[i], create_graph) if g is None and node._out_meta[i][1].kind == "f" else g
                 for i, g in enumerate(grads)]
    return grads


def _run_node_hooks(hooks, grads, create_graph, *more):
    """A node's pre-hooks (``hook(grads)``) or post-hooks (``hook(grads_in, grads_out)``): they get
    Tensors; a tuple one returns replaces ``grads``."""
    def wrap(gs):
        return tuple(g if g is None or create_graph else Tensor._wrap(g) for g in gs)
    others = [wrap(gs) for gs in more]
    for hook in hooks:
        out = hook(wrap(grads), *others)
        if out is not None:
            out = tuple(out)
            if len(out) < len(grads) and all(g is None for g in grads[len(out):]):
                out += (None,) * (len(grads) - len(out))    # arguments PyTorch does not count (pow's exponent)
            if len(out) != len(grads):      # a short tuple would silently drop gradients
                raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has returned an incorrect number of "
                                   f"values (got {len(out)}, but expected {len(grads)})")
            grads = tuple(g._data if isinstance(g, Tensor) and not create_graph else g for g in out)
    return tuple(grads)


def _zeros(xp, meta, as_tensor):
    z = xp.zeros(*meta)
    return Tensor._wrap(z) if as_tensor else z


# ----------------------------------------------------------------------------- post-accumulate hooks
# id(leaf) -> (weak reference to the leaf, [hooks]): kept outside Tensor so that its slots, and
# the ordinary backward, pay nothing; run_backward looks at this dict only when it is non-empty.
_post_hooks = {}


def _register_post_accumulate_grad_hook(leaf, hook):
    """``Tensor.register_post_accumulate_grad_hook``: ``hook(leaf)`` runs as soon as the leaf's
    ``.grad`` is final during a backward (as PyTorch's), not when the whole backward ends."""
    if leaf._grad_fn is not None or not leaf._requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors that require grad "
                           "accumulate gradients (this one is not a leaf, or does not require grad)")
    key = id(leaf)
    entry = _post_hooks.get(key)
    if entry is None or entry[0]() is not leaf:
        entry = _post_hooks[key] = (weakref.ref(leaf, lambda _, k=key: _post_hooks.pop(k, None)), [])
    entry[1].append(hook)
    return RemovableHandle(functools.partial(_remove_post_hook, key, hook))


def _remove_post_hook(key, hook):
    entry = _post_hooks.get(key)
    if entry is not None and hook in entry[1]:
        entry[1].remove(hook)
        if not entry[1]:
            del _post_hooks[key]


def _post_hooks_of(leaf):
    entry = _post_hooks.get(id(leaf))
    return entry[1] if entry is not None and entry[0]() is leaf else None


class _PostAccumulate:
    """Deposits a hooked leaf's gradient (and calls its hooks) as soon as every graph edge that
    feeds it has been through, instead of at the end of the backward.

    Before the walk, an iterative depth-first search from the roots counts, for each hooked
    leaf, the edges into it; each node that runs takes its own edges off.  A node that never
    runs (it got no gradient) leaves its leaves to the final deposit, as before."""

    def __init__(self, roots, foreign):
        self.remaining = {}                 # hooked leaf -> edges still to come
        self.handed_out = set(foreign)      # shared with the final deposit: no two .grad alias
        seen = set()
        stack = [r._grad_fn for r in roots if r._grad_fn is not None]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for e in node._next:
                if e is None:
                    continue
                if e[1] is not None:
                    stack.append(e[0])
                elif _post_hooks_of(e[0]) is not None:
                    self.remaining[e[0]] = self.remaining.get(e[0], 0) + 1

    def node_done(self, node, leaf_grads):
        remaining = self.remaining
        for e in node._next:
            if e is None or e[1] is not None or e[0] not in remaining:
                continue
            leaf = e[0]
            remaining[leaf] -= 1
            if remaining[leaf] == 0:
                del remaining[leaf]
                g = leaf_grads.pop(leaf, None)
                if g is not None:
                    # the engine may still hold g on another path: a new .grad gets its own copy
                    self.handed_out.add(id(g._data if isinstance(g, Tensor) else g))
                    _deposit_leaf_grads({leaf: g}, handed_out=self.handed_out)


def queue_callback(fn):
    """Run ``fn()`` once the current backward has deposited every gradient, just before it
    returns (PyTorch's ``Variable._execution_engine.queue_callback``): what a hook that started
    asynchronous work (DDP's all-reduce) uses to wait for it."""
    if _modes.callbacks is None:
        _modes.callbacks = []
    _modes.callbacks.append(fn)


def _run_queued_callbacks():
    callbacks = _modes.callbacks
    while callbacks:
        callbacks.pop(0)()


def _deposit_leaf_grads(leaf_grads, foreign=(), handed_out=None):
    """Add each leaf's gradient into its ``.grad``, in place when it exists (as PyTorch).

    A new ``.grad`` never shares memory with another array: not with another leaf's (``Add``
    hands one array to both inputs), not with a view of an engine temporary, not with a
    gradient the caller passed in (``foreign``).  So in-place edits of one gradient, like
    clipping or accumulation, touch nothing else.  Under create_graph the gradients are
    Tensors with a graph: a new one is stored as it is (its array copied if shared), and an
    existing ``.grad`` is replaced by the sum, out of place (as PyTorch).
    """
    handed_out = set(foreign) if handed_out is None else handed_out
    for leaf, g in leaf_grads.items():
        if leaf._hooks:
            g = _run_tensor_hooks(leaf._hooks, g)
            handed_out.add(id(g._data if isinstance(g, Tensor) else g))     # a hook may keep it: .grad gets a copy
        acc = _accumulators.get(id(leaf)) if _accumulators else None
        if acc is not None and acc._prehooks and acc.variable is leaf:
            (g,) = _run_node_hooks(acc._prehooks, (g,), isinstance(g, Tensor))
            handed_out.add(id(g._data if isinstance(g, Tensor) else g))
        _deposit_one(leaf, g, handed_out)
        if _post_hooks:
            for hook in _post_hooks_of(leaf) or ():
                if hook(leaf) is not None:      # PyTorch's rule: such a hook acts on leaf.grad in place
                    raise RuntimeError("Tensor post accumulate grad hooks should return None.")
        if acc is not None and acc._posthooks and acc.variable is leaf:
            arrived = (g if isinstance(g, Tensor) else Tensor._wrap(g),)     # what came in, as PyTorch's
            for hook in list(acc._posthooks):
                hook((), arrived)


def _deposit_one(leaf, g, handed_out):
    grad = leaf.grad
    if isinstance(g, Tensor):
        arr = g._data
        if grad is None and (arr.base is not None or id(arr) in handed_out):
            g = Tensor._wrap(arr.copy(), g._grad_fn, g._out_index)
        handed_out.add(id(g._data))
        leaf._grad = g if grad is None else grad + g
    elif grad is None:
        if g.base is not None or id(g) in handed_out:
            g = g.copy()
        handed_out.add(id(g))
        leaf._grad = Tensor._wrap(g)
    elif grad._data.shape == g.shape and grad._data.dtype == g.dtype and getattr(grad._data.flags, "writeable", True):
        grad._data += g
    else:
        grad._data = grad._data + g


def _check_backward(node, grads_out, grads_in):
    if _no_nan(grads_out) and not _no_nan([g for g in grads_in if backend.is_array(g)]):
        where = "".join(node._stack[-4:]) if node._stack else "(forward ran outside detect_anomaly)\n"
        saved = node._saved if type(node._saved) is tuple else ()
        said = f"Function '{node.name()}' returned nan values"      # PyTorch's words, then ours
        if not _no_nan([a for a in saved if backend.is_array(a)]):
            raise AnomalyError(f"{said}. {node.name}: backward produced NaN because what its forward saved held "
                               f"NaN already: an input held NaN before this op (check the data and the ops "
                               f"before it).\nIts forward was called here:\n{where}")
        raise AnomalyError(f"{said}. {node.name}: backward produced NaN from gradients without NaN.\n"
                           f"Its forward was called here:\n{where}")


# ----------------------------------------------------------------------------- user-facing entry points
def _root_gradient(t: Tensor, g, create_graph=False):
    """The gradient a root starts with: an array, or under create_graph a Tensor (the caller's
    own, which may itself require grad, or a constant)."""
    if g is None:
        if t._data.size != 1:
            raise RuntimeError(f"backward: grad can be implicitly created only for scalar outputs (one element); "
                               f"this output has shape {tuple(t.shape)}: pass gradient=")
        ones = backend.xp_of(t._data).ones(t.shape, dtype=t.dtype)
        return Tensor._wrap(ones) if create_graph else ones
    arr = g._data if isinstance(g, Tensor) else g
    if not backend.is_array(arr):
        arr = np.asarray(arr)
    if type(arr) is not type(t._data):
        raise RuntimeError(f"backward: gradient is on {backend.device_of(arr)} but the output is on "
                           f"{t.device}")
    if arr.shape != t.shape:
        raise RuntimeError(f"backward: gradient has shape {arr.shape} but the output has shape {tuple(t.shape)}")
    if create_graph:
        if isinstance(g, Tensor):
            return g if g.dtype == t.dtype else g.to(t.dtype)
        return Tensor._wrap(arr.astype(t.dtype, copy=False))
    return arr.astype(t.dtype, copy=False)     # never stored as a .grad as is (see _deposit_leaf_grads)


def _check_roots(roots, opname="backward"):
    for k, t in enumerate(roots):
        if not t._requires_grad:
            raise RuntimeError(f"{opname}: output {k} does not require grad and has no grad_fn "
                               f"(was it computed under no_grad(), or from tensors without requires_grad=True?)")


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grad_list(grads, n, opname):
    if grads is None or isinstance(grads, Tensor) or backend.is_array(grads):
        grads = [grads] * n if grads is None else [grads]
    grads = list(grads)
    if len(grads) != n:
        raise RuntimeError(f"{opname}: got {n} tensors but {len(grads)} gradients")
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` (a Tensor or a sequence) into the leaves' ``.grad``
    (only into those of ``inputs`` when given).  ``create_graph=True`` makes the gradients
    differentiable again; ``retain_graph`` defaults to ``create_graph``."""
    tensors = _as_list(tensors)
    grad_tensors = _grad_list(grad_tensors, len(tensors), "backward")
    _check_roots(tensors)
    asked, create_graph = create_graph, create_graph and not INFERENCE_DEPTH[0]     # inference_mode records nothing
    retain = asked if retain_graph is None else retain_graph
    grads = [_root_gradient(t, g, create_graph) for t, g in zip(tensors, grad_tensors)]
    if inputs is not None:
        inputs = _as_list(inputs)
        if not inputs:
            raise RuntimeError("backward: `inputs` argument to `backward()` cannot be empty (None: every leaf)")
        for k, t in enumerate(inputs):
            if not t._requires_grad:
                raise RuntimeError(f"backward: inputs[{k}] does not require grad")
    previous, _modes.grad_enabled = _modes.grad_enabled, create_graph     # hooks see PyTorch's mode
    try:
        if inputs is None:
            run_backward(tensors, grads, retain_graph=retain, create_graph=create_graph)
        else:
            found = run_backward(tensors, grads, retain_graph=retain, capture=inputs, create_graph=create_graph)
            _deposit_leaf_grads({t: g for t, g in zip(inputs, found) if g is not None},
                                foreign=[id(g) for g in grads])
        _run_queued_callbacks()
    finally:
        _modes.grad_enabled = previous
        _modes.callbacks = None         # a failed backward (or callback) leaves nothing to the next one


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``
    (as ``torch.autograd.grad``).  Only the part of the graph between them runs.

    ``create_graph=True`` returns gradients that carry a graph of their own, so they can be
    differentiated again (``retain_graph`` then defaults to True).  An input the outputs do
    not depend on is an error unless ``allow_unused`` (then None, or zeros with
    ``materialize_grads``).  ``is_grads_batched``: the first dimension of each of ``grad_outputs``
    is a batch of cotangents, and each result gets that dimension too (one pass per row).
    ``only_inputs`` is accepted for PyTorch's sake (it is always so)."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                             materialize_grads)
    outputs = _as_list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = _as_list(inputs)
    if not inputs:
        raise RuntimeError("grad: `inputs` argument to `grad()` cannot be empty")
    grad_outputs = _grad_list(grad_outputs, len(outputs), "grad")
    _check_roots(outputs, "grad")
    asked, create_graph = create_graph, create_graph and not INFERENCE_DEPTH[0]     # inference_mode records nothing
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise RuntimeError(f"grad: all inputs have to be Tensors, but inputs[{k}] is a {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(f"grad: input {k} does not require grad")
    retain = asked if retain_graph is None else retain_graph
    grads = [_root_gradient(t, g, create_graph) for t, g in zip(outputs, grad_outputs)]
    previous, _modes.grad_enabled = _modes.grad_enabled, create_graph     # hooks see PyTorch's mode
    outer, _modes.callbacks = _modes.callbacks, None    # a grad() inside a backward keeps that one's callbacks
    try:
        found = run_backward(outputs, grads, retain_graph=retain, capture=inputs, create_graph=create_graph)
        # a leaf's own hooks see (and may replace) its gradient, as in backward()
        found = [_run_tensor_hooks(t._hooks, g) if g is not None and t._grad_fn is None and t._hooks else g
                 for t, g in zip(inputs, found)]
        _run_queued_callbacks()
    finally:
        _modes.grad_enabled = previous
        _modes.callbacks = outer
    result = []
    for k, g in enumerate(found):
        if g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(f"grad: input {k} (shape {tuple(inputs[k].shape)}) was not used to compute "
                                   f"the outputs: it appears to not have been used in the graph. Set "
                                   f"allow_unused=True if this is the desired behavior (None for it)")
            result.append(Tensor._wrap(backend.xp_of(inputs[k]._data).zeros_like(inputs[k]._data))
                          if materialize_grads else None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._wrap(g))
    return tuple(result)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """``grad(..., is_grads_batched=True)``: one ``grad`` per row of the cotangents, stacked."""
    from ..ops.shape import stack
    outs = _as_list(outputs)
    batches = _grad_list(grad_outputs, len(outs), "grad")
    if any(b is None for b in batches):
        raise RuntimeError("grad: is_grads_batched=True needs grad_outputs (a batch of cotangents per output)")
    n = batches[0].shape[0]
    rows = [grad(outs, inputs, [b[k] for b in batches], retain_graph=True if k < n - 1 else retain_graph,
                 create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
            for k in range(n)]
    return tuple(None if col[0] is None else stack(list(col)) for col in zip(*rows))


class _VariableType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableType):
    """PyTorch's pre-0.4 wrapper, kept for old code: ``Variable(t, requires_grad=True)`` is a new
    leaf Tensor on ``t``'s memory, and every Tensor is an instance of ``Variable``."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        t = Tensor._wrap(data._data) if isinstance(data, Tensor) else Tensor(data)
        t.requires_grad = requires_grad
        return t


class RemovableHandle:
    """What every ``register_*hook`` returns (tensors', nodes', modules'): ``remove()`` unregisters
    the hook; a second call does nothing.  Also a context manager that removes it on exit.
    ``unregister`` is the registry's own removal, a function of no arguments."""

    def __init__(self, unregister):
        self._unregister = unregister

    def remove(self):
        unregister, self._unregister = self._unregister, None
        if unregister is not None:
            unregister()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_graph.Node.register(Function)
_graph.Node.register(AccumulateGrad)


def _remove_from(hooks: list, hook):
    if hook in hooks:
        hooks.remove(hook)


from . import function, functional, grad_mode, graph  # noqa: E402,F401  (as torch.autograd.function, ...)
from . import gradcheck as _gradcheck_module  # noqa: E402,F401  (loaded first: the name below is the function)
from ..gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402,F401  (as torch.autograd.gradcheck)
