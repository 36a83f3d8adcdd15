"""Traces of forward and backward passes: every op in execution order, with shapes, gradient
norms and wall time; summarised per op type as a profile.

    with minigrad.trace(model) as t:           # model (optional) names the module scopes
        loss = loss_fn(model(x), y)
        loss.backward()
    print(t.table())                           # one line per op, forward then backward
    print(t.profile())                         # per op type: calls, time, share of the step
    t.to_json("trace.json")

The engine looks up one thread-local attribute per op to see whether a trace is active, so
tracing costs nothing measurable when it is not in use.  On a GPU, ``trace(sync=True)``
(the default there) synchronises the device around every op so that times are real.
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np

from . import backend

__all__ = ["trace", "Trace", "Record", "current"]


@dataclass
class Record:
    phase: str                    # "forward", "backward", or "comm" (a collective: DDP's all-reduce)
    op: str                       # the Function's name
    index: int                    # position in execution order
    node: int                     # id of the graph node (links a backward record to its forward)
    input_shapes: list
    output_shapes: list
    seconds: float
    scope: str = ""               # the module path the op ran in (forward)
    grad_norms: list = field(default_factory=list)   # backward: norms of the gradients it produced
    out_grad_norms: list = field(default_factory=list)   # backward: norms of its outputs' gradients (received)


def _norm(a):
    """The 2-norm, as one BLAS dot in the array's precision (cheap next to the op that made it);
    float64 only when that overflows."""
    if a is None or not backend.is_array(a) or a.dtype.kind != "f":
        return None
    xp = backend.xp_of(a)
    flat = a.reshape(-1) if a.dtype.itemsize >= 4 else a.reshape(-1).astype(xp.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        squares = float(xp.dot(flat, flat))
    if not math.isfinite(squares):
        squares = float((a.astype(xp.float64) ** 2).sum())
    return math.sqrt(squares)


def _fitted(g, meta):
    """The gradient as the engine delivers it to the input (``meta``: its (shape, dtype)):
    broadcast dimensions summed away."""
    if meta is None or not backend.is_array(g) or g.shape == meta[0]:
        return g
    from .autograd import unbroadcast
    try:
        return unbroadcast(g, meta[0])
    except RuntimeError:        # a wrong shape: the engine reports it right after
        return g


def _shape(a):
    return list(a.shape) if hasattr(a, "shape") else None


class Trace:
    """What a :func:`trace` block recorded (``records``), with views of it."""

    def __init__(self, model=None, sync=None):
        self.records = []
        self.sync = sync
        self._names = {id(m): name for name, m in model.named_modules()} if model is not None else {}
        self._scope = []
        self._sync_fn = None
        self.started = self.stopped = None
        self.paused_seconds = 0.0

    # -- called by the engine and by Module.__call__
    def clock(self, arrays=()):
        if self.sync is None and any(backend.is_array(a) and not isinstance(a, np.ndarray) for a in arrays):
            self.sync = True                  # the first GPU array turns synchronised timing on
        if self.sync:
            from . import cuda
            cuda.synchronize()
        return time.perf_counter()

    def enter(self, module):
        """Push the module's path: its name in the model, else its parent's path + its type."""
        name = self._names.get(id(module))
        if name is None:
            parent = self.scope
            name = f"{parent}.{type(module).__name__}" if parent else type(module).__name__
        self._scope.append(name)

    def exit(self):
        self._scope.pop()

    @property
    def scope(self):
        return self._scope[-1] if self._scope else ""

    def forward(self, op, node, inputs, outputs, start):
        end = self.clock(outputs)
        self.records.append(Record("forward", op, len(self.records), id(node) if node is not None else 0,
                                   [_shape(a) for a in inputs if backend.is_array(a)],
                                   [_shape(o) for o in outputs], end - start, self.scope))
        if node is not None:
            node.__dict__["_trace_scope"] = self.scope

    def communication(self, op, scope, shapes, seconds):
        """A collective (phase "comm"): DDP records each bucket's all-reduce where it starts
        (between the backward ops it overlaps) and where backward waits for it."""
        self.records.append(Record("comm", op, len(self.records), 0, shapes, shapes, seconds, scope))

    def backward(self, node, grads_out, grads_in, start):
        end = self.clock(grads_in)
        meta = node.input_metadata
        grads_in = [_fitted(g, meta[i] if i < len(meta) else None) for i, g in enumerate(grads_in)]
        self.records.append(Record("backward", node.name, len(self.records), id(node),
                                   [_shape(g) for g in grads_out], [_shape(g) for g in grads_in], end - start,
                                   node.__dict__.get("_trace_scope", ""), [_norm(g) for g in grads_in],
                                   [_norm(g) for g in grads_out]))

    # -- views
    def forward_records(self):
        return [r for r in self.records if r.phase == "forward"]

    def backward_records(self):
        return [r for r in self.records if r.phase == "backward"]

    @property
    def total_seconds(self):
        """Wall time of the traced block, less the time spent in :meth:`paused` regions."""
        return (self.stopped or time.perf_counter()) - self.started - self.paused_seconds

    @contextlib.contextmanager
    def paused(self):
        """Record nothing inside and leave its time out of the step (e.g. an optimizer update)."""
        from .autograd import set_tracer
        start = self.clock()
        set_tracer(None)
        try:
            yield self
        finally:
            set_tracer(self)
            self.paused_seconds += self.clock() - start

    def table(self, limit=None) -> str:
        """One line per op in execution order: phase, op, module scope, shapes, gradient norms, time."""
        lines = [f"{'#':>4} {'phase':<8} {'op':<16} {'scope':<24} {'inputs':<28} {'outputs':<28} {'grad norms':<18} {'ms':>8}"]
        for r in self.records[:limit]:
            norms = ", ".join("-" if n is None else f"{n:.3g}" for n in r.grad_norms)
            lines.append(f"{r.index:>4} {r.phase:<8} {r.op:<16} {r.scope[-24:]:<24} {_shapes(r.input_shapes):<28} "
                         f"{_shapes(r.output_shapes):<28} {norms[:18]:<18} {1e3 * r.seconds:>8.3f}")
        return "\n".join(lines)

    def profile(self) -> "Profile":
        """The records summarised per op type."""
        return Profile(self)

    def to_json(self, path=None):
        """The records as JSON (written to ``path`` when given); returns the JSON text."""
        text = json.dumps({"total_seconds": self.total_seconds, "records": [asdict(r) for r in self.records]}, indent=1)
        if path:
            with open(path, "w") as f:
                f.write(text)
        return text


def _shapes(shapes):
    text = " ".join(("x".join(str(d) for d in s) or "()") if s is not None else "-" for s in shapes)
    return text if len(text) <= 28 else text[:25] + "..."


class Profile:
    """Per op type: calls, total and mean time in forward and in backward, share of the step."""

    def __init__(self, trace: Trace):
        self.total_seconds = trace.total_seconds
        rows = OrderedDict()
        for r in trace.records:
            if r.phase not in ("forward", "backward"):
                continue
            row = rows.setdefault(r.op, {"op": r.op, "forward_calls": 0, "forward_s": 0.0, "backward_calls": 0,
                                         "backward_s": 0.0})
            row[f"{r.phase}_calls"] += 1
            row[f"{r.phase}_s"] += r.seconds
        self.rows = sorted(rows.values(), key=lambda row: -(row["forward_s"] + row["backward_s"]))

    @property
    def ops_seconds(self):
        """Time inside ops (the rest of the step is Python between them)."""
        return sum(r["forward_s"] + r["backward_s"] for r in self.rows)

    def __str__(self):
        total = max(self.total_seconds, 1e-12)
        lines = [f"{'op':<18} {'fwd calls':>9} {'fwd ms':>9} {'fwd mean':>9} {'bwd calls':>9} {'bwd ms':>9} "
                 f"{'bwd mean':>9} {'share':>7}"]
        for r in self.rows:
            fm = 1e3 * r["forward_s"] / r["forward_calls"] if r["forward_calls"] else 0.0
            bm = 1e3 * r["backward_s"] / r["backward_calls"] if r["backward_calls"] else 0.0
            share = (r["forward_s"] + r["backward_s"]) / total
            lines.append(f"{r['op']:<18} {r['forward_calls']:>9} {1e3 * r['forward_s']:>9.3f} {fm:>9.3f} "
                         f"{r['backward_calls']:>9} {1e3 * r['backward_s']:>9.3f} {bm:>9.3f} {100 * share:>6.1f}%")
        lines.append(f"ops {1e3 * self.ops_seconds:.2f} ms of a {1e3 * self.total_seconds:.2f} ms step "
                     f"({100 * self.ops_seconds / total:.1f}%; the rest is Python between ops)")
        return "\n".join(lines)

    __repr__ = __str__


def current():
    """The Trace being recorded in this thread, or None."""
    from .autograd import get_tracer
    return get_tracer()


class trace:
    """Record every op run inside the block (see the module docstring)."""

    def __init__(self, model=None, sync=None):
        self.result = Trace(model, sync)

    def __enter__(self) -> Trace:
        from .autograd import get_tracer, set_tracer
        if get_tracer() is not None:
            raise RuntimeError("trace: a trace is already active in this thread")
        self.result.started = self.result.clock()
        set_tracer(self.result)
        return self.result

    def __exit__(self, *exc):
        from .autograd import set_tracer
        set_tracer(None)
        self.result.stopped = self.result.clock()
        return False
