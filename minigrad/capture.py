"""One forward pass captured as a data-flow graph: the ops in execution order, each with the values it
read and wrote, for exporters (ONNX, TensorBoard's graph view).

    g = capture(model, (x,))
    for node in g.nodes:            # node.op "Conv2d", node.args (values and plain arguments), node.outputs
        ...

Values are named as PyTorch's exporter names them: the inputs (``input_0``, ... or the names given),
parameters and buffers by their state-dict name (``layer1.0.conv1.weight``), arrays an op read that no
op made (constants) ``const_N``, and op outputs ``<op>_<N>``.  It runs on :func:`minigrad.trace`'s
hook: the engine hands the active tracer every op's positional arguments and outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import backend
from .autograd import enable_grad
from .tensor import Tensor
from .tracing import Trace, trace

__all__ = ["capture", "Graph", "Node", "Value"]


@dataclass(eq=False)
class Value:
    name: str
    array: object                 # the array (kept alive, so ids stay unique during the capture)
    kind: str                     # "input", "parameter", "constant" or "op"

    @property
    def shape(self):
        return tuple(self.array.shape)

    @property
    def dtype(self):
        return self.array.dtype


@dataclass(eq=False)
class Node:
    op: str                       # the Function's class name
    args: list                    # positional arguments: a Value for each array, else the plain argument
    outputs: list                 # Values
    ctx: object = None            # the Function instance (its attributes), or None when no input needed grad
    scope: str = ""               # the module path it ran in
    name: str = ""


@dataclass(eq=False)
class Graph:
    inputs: list = field(default_factory=list)        # Values
    outputs: list = field(default_factory=list)       # Values (a model output that is an input or weight too)
    parameters: list = field(default_factory=list)    # Values, in state-dict order
    constants: list = field(default_factory=list)
    nodes: list = field(default_factory=list)
    keep: object = None                               # the recording: its arrays stay alive with the graph


class _Recorder(Trace):
    """A Trace that keeps the arrays each op read and wrote (and not timings)."""

    def __init__(self, model):
        super().__init__(model, sync=False)
        self.ops = []

    def clock(self, arrays=()):
        return 0.0

    def forward(self, op, node, inputs, outputs, start):
        self.ops.append((op, node, list(inputs), tuple(outputs), self.scope))

    def inplace(self, event, array, other):
        self.ops.append((event, None, [array, other], (), self.scope))


class _Recording(trace):
    def __init__(self, model):
        self.result = _Recorder(model)


def _as_tuple(inputs):
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def capture(model, example_inputs, input_names=None) -> Graph:
    """Run ``model(*example_inputs)`` once (gradients on, so every op keeps its attributes) and return
    its :class:`Graph`.  Float inputs are made leaves that require grad for the run; nothing else changes."""
    inputs = _as_tuple(example_inputs)
    if not all(isinstance(t, Tensor) for t in inputs):
        raise TypeError("capture: example_inputs must be a Tensor or a tuple of Tensors, got "
                        + ", ".join(type(t).__name__ for t in inputs))
    names = list(input_names or [])
    names += [f"input_{i}" for i in range(len(names), len(inputs))]
    graph = Graph()
    values = {}                                       # id(array) -> Value

    def add(array, name, kind, where):
        v = Value(name, array, kind)
        values[id(array)] = v
        where.append(v)
        return v

    runs = []
    for t, name in zip(inputs, names):
        add(t._data, name, "input", graph.inputs)
        leaf = Tensor._wrap(t._data)
        runs.append(leaf.requires_grad_(True) if t._data.dtype.kind == "f" else leaf)
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if id(t._data) not in values:
            add(t._data, name, "parameter", graph.parameters)
    with enable_grad(), _Recording(model) as rec:
        result = model(*runs)
    counts = {}
    for op, ctx, args, outs, scope in rec.ops:
        if op in ("alias", "write"):                 # an in-place edit: the array now names another value
            array, other = args
            if id(other) in values:
                values[id(array)] = values[id(other)]
            continue
        node_args = []
        for a in args:
            if backend.is_array(a):
                if id(a) not in values:
                    add(a, f"const_{len(graph.constants)}", "constant", graph.constants)
                node_args.append(values[id(a)])
            else:
                node_args.append(a)
        k = counts[op] = counts.get(op, -1) + 1
        outputs = [Value(f"{op}_{k}" + (f"_{i}" if len(outs) > 1 else ""), o, "op") for i, o in enumerate(outs)]
        for v in outputs:
            values[id(v.array)] = v
        graph.nodes.append(Node(op, node_args, outputs, ctx, scope, f"{op}_{k}"))
    for out in _flatten_outputs(result):
        if id(out._data) not in values:
            raise RuntimeError("capture: the model returned a tensor that no recorded op made")
        graph.outputs.append(values[id(out._data)])
    graph.keep = (rec, result)
    return graph


def _flatten_outputs(result):
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _flatten_outputs(r)]
    raise TypeError(f"capture: the model returned a {type(result).__name__}; expected Tensors (or tuples of them)")


def numpy_of(value: Value) -> np.ndarray:
    """The value's array on the CPU."""
    return np.asarray(backend.to_device(value.array, backend.CPU))
