"""Pictures of backprop: computation graphs (Graphviz DOT), gradient flow, gradients through time,
training curves.

    g = viz.graph(loss, model)                 # DOT text of the graph behind ``loss``
    g.render("mlp.svg")                        # .svg, .png, .pdf with Graphviz's dot; .dot always
    viz.grad_flow(model, "flow.png")           # mean and max |grad| per parameter, after backward

The graph is drawn in the forward direction, inputs at the top, the output at the bottom;
backpropagation runs against the arrows.  Op nodes carry the Function's name, parameters their
name in ``model``, every edge the shape of the tensor flowing along it.  Under
``minigrad.trace(model)`` ops also know their module, so the picture groups them in boxes per
module and can fold modules into one node each (``collapse="BasicBlock"`` or ``depth=2``); with
``trace=t`` after ``backward()`` each edge also shows the norm of the gradient that flowed back
along it.

Nothing here is needed for training: the DOT text needs nothing, rendering needs Graphviz's ``dot``
program, the plots need matplotlib (``pip install 'minigrad[viz]'``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping

from ._files import atomic_write
from .autograd import AccumulateGrad

__all__ = ["graph", "Graph", "GraphvizNotFoundError", "grad_stats", "grad_flow", "plot_grad_through_time",
           "plot_curves"]


# ----------------------------------------------------------------------------- files and matplotlib
def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'minigrad[viz]'") from exc
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")          # files, no windows; a notebook's own backend is left alone
    import matplotlib.pyplot as plt
    return plt


def _save_figure(fig, path):
    plt = _pyplot()
    ext = os.path.splitext(path)[1] or ".png"
    try:
        return atomic_write(path, lambda f: fig.savefig(f, format=ext[1:], dpi=100))
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------------- training curves
def plot_curves(history, path):
    """Loss and accuracy per epoch, train and test, side by side; written atomically to ``path``."""
    plt = _pyplot()
    epochs = history["epoch"]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, history["train_loss"], label="train")
    ax_loss.plot(epochs, history["test_loss"], label="test")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.plot(epochs, history["train_accuracy"], label="train")
    ax_acc.plot(epochs, history["test_accuracy"], label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _save_figure(fig, path)


# ----------------------------------------------------------------------------- gradient flow
def _grad_array(p):
    from . import backend
    return backend.to_device(p.grad._data, backend.CPU)


def grad_stats(model):
    """``[(name, mean |grad|, max |grad|)]`` for every parameter of ``model`` that has a gradient."""
    import numpy as np
    stats = []
    for name, p in _named_tensors(model):
        if p.grad is not None:
            g = np.abs(np.asarray(_grad_array(p), dtype=np.float64))
            stats.append((name, float(g.mean()) if g.size else 0.0, float(g.max()) if g.size else 0.0))
    return stats


def grad_flow(model, path=None, ax=None, title="gradient flow"):
    """Bars of the mean and max absolute gradient of each parameter, input side first (log scale).

    Call after ``loss.backward()``.  Gradients that shrink layer by layer towards the input are
    vanishing; bars that tower are exploding; names in red got no gradient at all.  Draws on ``ax``
    if given, saves to ``path`` if given; returns the figure.
    """
    stats = grad_stats(model)
    if not stats:
        raise ValueError("grad_flow: no parameter has a gradient yet; call loss.backward() first")
    plt = _pyplot()
    fig = ax.figure if ax is not None else plt.subplots(figsize=(min(16, max(6, 0.22 * len(stats) + 2)), 5))[0]
    ax = ax if ax is not None else fig.axes[0]
    names = [s[0] for s in stats]
    x = range(len(stats))
    floor = min([v for s in stats for v in s[1:] if v > 0] or [1e-12]) / 10   # the axis starts here
    ax.bar(x, [max(s[2], floor) for s in stats], color="#9ecae1", label="max |grad|")
    ax.bar(x, [max(s[1], floor) for s in stats], color="#08519c", width=0.5, label="mean |grad|")
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.set_xticks(list(x))
    ax.set_xticklabels(names, rotation=90, fontsize=8)
    for label, s in zip(ax.get_xticklabels(), stats):
        if s[2] == 0:
            label.set_color("#cb181d")                 # no gradient at all: a dead or detached parameter
    ax.set(xlim=(-0.6, len(stats) - 0.4), ylabel="|gradient|", title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if path:
        _save_figure(fig, path)
    return fig


def plot_grad_through_time(norms, path=None, ax=None, title="gradient of the loss through time"):
    """Lines of the gradient norm of each time step's hidden state, ``{label: [norm at t=0, 1, ...]}``
    (log scale): with a loss on the last step, a curve falling towards t=0 is a vanishing gradient."""
    plt = _pyplot()
    fig = ax.figure if ax is not None else plt.subplots(figsize=(7, 4))[0]
    ax = ax if ax is not None else fig.axes[0]
    for label, values in norms.items():
        ax.plot(range(len(values)), values, marker=".", label=label)
    ax.set_yscale("log")
    ax.set(xlabel="time step t", ylabel="||dL/dh_t||", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if path:
        _save_figure(fig, path)
    return fig


# ----------------------------------------------------------------------------- the graph
class GraphvizNotFoundError(RuntimeError):
    """Rendering needs Graphviz's ``dot`` program, which is not on PATH."""


_INSTALL_DOT = ("install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
                "conda: conda install graphviz; others: https://graphviz.org/download/)")
_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps")

_STYLE = {                      # DOT attributes of each kind of vertex
    "op": 'shape=box, style="rounded,filled", fillcolor="#e8e8e8"',
    "param": 'shape=box, style=filled, fillcolor="#c6dbef", fontsize=9',
    "input": 'shape=box, style=filled, fillcolor="#fff3b0", fontsize=9',
    "output": 'shape=box, style=filled, fillcolor="#c7e9c0", fontsize=9',
    "module": 'shape=box3d, style=filled, fillcolor="#e5d8f0", margin="0.15,0.1"',
}


class Graph:
    """A computation graph as Graphviz DOT text (``source``), with ways to draw it.

    ``counts`` says how many vertices of each kind it has (op, param, input, output, module).
    """

    def __init__(self, source: str, counts: dict):
        self.source = source
        self.counts = counts

    def __str__(self):
        return self.source

    def __repr__(self):
        parts = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in self.counts.items() if n)
        return f"<Graph: {parts}; .source is its DOT text, .render('graph.svg') draws it>"

    def save(self, path):
        """Write the DOT text to ``path``; returns the path."""
        source = self.source.encode()
        atomic_write(path, lambda f: f.write(source))
        return path

    def pipe(self, format="svg") -> bytes:
        """The picture as bytes in ``format`` (svg, png, pdf, ...), drawn by Graphviz's ``dot``."""
        if format not in _FORMATS:
            raise ValueError(f"graph: unknown picture format {format!r}; use one of {', '.join(_FORMATS)}")
        dot = shutil.which("dot")
        if dot is None:
            raise GraphvizNotFoundError(f"drawing a graph needs Graphviz's dot program, which is not on PATH: "
                                        f"{_INSTALL_DOT}; Graph.save('g.dot') writes the DOT text without it")
        done = subprocess.run([dot, f"-T{format}"], input=self.source.encode(), capture_output=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"graph: dot failed ({done.returncode}): {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def render(self, path, format=None):
        """Draw into ``path``; the format comes from its extension (.svg, .png, .pdf, ...; .dot or .gv
        write the DOT text).  Written atomically; returns the path."""
        format = (format or os.path.splitext(path)[1].lstrip(".")).lower()
        if format in ("dot", "gv"):
            return self.save(path)
        if format not in _FORMATS:
            raise ValueError(f"graph: cannot tell the picture format of {path!r}; use .svg, .png, .pdf or .dot "
                             f"(or pass format=)")
        picture = self.pipe(format)
        atomic_write(path, lambda f: f.write(picture))
        return path

    def _repr_svg_(self):
        """Jupyter shows the picture inline when Graphviz is installed (the text repr otherwise)."""
        if shutil.which("dot") is None:
            return None
        return self.pipe("svg").decode()

    def to_graphviz(self):
        """The same graph as a ``graphviz.Source`` (needs the graphviz Python package)."""
        try:
            import graphviz
        except ImportError as exc:
            raise ImportError("to_graphviz needs the graphviz package: pip install 'minigrad[viz]'") from exc
        return graphviz.Source(self.source)


def graph(output, model=None, trace=None, collapse=None, depth=None, clusters=True, grads=None,
          title=None) -> Graph:
    """The graph behind ``output`` (a Tensor or a list of them) as a :class:`Graph`.

    - ``model``: a Module (or a ``{name: tensor}`` mapping) naming the parameters;
    - ``trace``: the :class:`~minigrad.tracing.Trace` the step ran under: it tells each op's module
      and, after backward, the gradient norm of each tensor (before backward, the ops of a traced
      forward pass know their module even without it);
    - ``clusters``: group ops and parameters in a box per module (when modules are known);
    - ``collapse``: module type name(s) or classes to draw as one node each, e.g. ``"BasicBlock"``;
    - ``depth``: draw every module nested deeper than ``depth`` as one node at that depth;
    - ``grads``: show gradient norms (default: when ``trace`` recorded a backward pass);
    - ``title``: a caption.
    """
    outputs = [output] if not isinstance(output, (list, tuple)) else list(output)
    walk = _walk(outputs)
    names = dict((id(t), name) for name, t in _named_tensors(model)) if model is not None else {}
    types = {path: type(m).__name__ for path, m in model.named_modules()} if hasattr(model, "named_modules") else {}
    scopes, norms = _from_trace(walk.ops, trace)
    grads = bool(norms) if grads is None else grads
    folded = _Folding(scopes, types, collapse, depth, walk.ops)
    builder = _Builder(walk, names, scopes, norms if grads else {}, folded, clusters and bool(scopes), grads)
    return builder.build(title)


def _named_tensors(model):
    if model is None:
        return []
    if hasattr(model, "named_parameters"):
        return list(model.named_parameters())
    if isinstance(model, Mapping):
        return list(model.items())
    return list(model)


class _Walk:
    """The graph behind some outputs: op nodes, leaves and edges, in forward order."""

    def __init__(self):
        self.ops = {}              # id(node) -> node
        self.leaves = {}           # id(tensor) -> tensor
        self.edges = []            # (src key, src output index, dst key, arg index, shape, dtype)
        self.outputs = []          # (key, tensor)


def _walk(outputs) -> _Walk:
    """Collect every node reachable from ``outputs`` without recursion."""
    from .tensor import Tensor
    walk, stack = _Walk(), []
    for k, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"graph: expected a Tensor (or a list of them), got {type(t).__name__}")
        if not t.requires_grad:
            raise ValueError(f"graph: output {k} has no graph behind it (shape {tuple(t.shape)}): it was computed "
                             f"under no_grad() or from tensors that do not require grad")
        key = ("output", k)
        walk.outputs.append((key, t))
        node = t.grad_fn
        if node is None:
            walk.leaves[id(t)] = t
            walk.edges.append((("leaf", id(t)), None, key, 0, t.shape, t.dtype))
            continue
        walk.edges.append((("op", id(node)), t.output_nr, key, 0, t.shape, t.dtype))
        if id(node) not in walk.ops:
            walk.ops[id(node)] = node
            stack.append(node)
    groups = []                    # each node's in-edges, in argument order
    while stack:
        node = stack.pop()
        group = []
        groups.append(group)
        for i, ((target, index), meta) in enumerate(zip(node.next_functions, node.input_metadata)):
            if meta is None:
                continue
            shape, dtype = meta
            if isinstance(target, AccumulateGrad):          # a leaf tensor
                target, index = target.variable, None
                walk.leaves.setdefault(id(target), target)
                src = ("leaf", id(target))
            else:
                src = ("op", id(target))
                if id(target) not in walk.ops:
                    walk.ops[id(target)] = target
                    stack.append(target)
            group.append((src, index, ("op", id(node)), i, shape, dtype))
    order = sorted(walk.ops.values(), key=lambda n: n.generation)          # a forward order
    walk.ops = {id(n): n for n in order}
    walk.edges = [e for group in reversed(groups) for e in group] + walk.edges
    return walk


def _from_trace(ops, trace):
    """Each op's module path (from the trace, else from the node) and its backward gradient norms."""
    scopes, norms = {}, {}
    if trace is not None:
        for r in trace.records:
            if r.node in ops:
                if r.phase == "forward":
                    scopes[r.node] = r.scope
                else:
                    norms[r.node] = r.out_grad_norms
    for key, node in ops.items():
        if key not in scopes and "_trace_scope" in node.__dict__:
            scopes[key] = node.__dict__["_trace_scope"]
    return scopes, norms


def _ancestors(path):
    """``"a.b.c"`` -> ``["a", "a.b", "a.b.c"]``; ``""`` -> ``[]``."""
    parts = path.split(".") if path else []
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def _module_of(param_name):
    return param_name.rsplit(".", 1)[0] if "." in param_name else ""


class _Folding:
    """Which module, if any, each module path is folded into (``collapse`` / ``depth``)."""

    def __init__(self, scopes, types, collapse, depth, ops):
        if collapse is not None or depth is not None:
            if not scopes:
                raise ValueError("graph: collapse= and depth= need the ops' modules: run the step under "
                                 "minigrad.trace(model) and pass trace=")
            if depth is not None and (not isinstance(depth, int) or depth < 1):
                raise ValueError(f"graph: depth must be a positive integer, got {depth!r}")
        if isinstance(collapse, (str, type)):
            collapse = [collapse]
        self.kinds = {c if isinstance(c, str) else c.__name__ for c in (collapse or ())}
        self.depth = depth
        self.types = types
        self.op_counts = {}                            # module path -> ops inside it
        for key in ops:
            for prefix in _ancestors(scopes.get(key, "")):
                self.op_counts[prefix] = self.op_counts.get(prefix, 0) + 1
        self._cache = {}

    def type_of(self, path):
        return self.types.get(path) or path.rsplit(".", 1)[-1]

    def root(self, path):
        """The outermost folded module holding ``path`` (or None): folded modules hold two ops or more."""
        if path not in self._cache:
            self._cache[path] = next((p for p in _ancestors(path) if self._folds(p)), None)
        return self._cache[path]

    def _folds(self, path):
        if self.op_counts.get(path, 0) < 2:
            return False
        at_depth = self.depth is not None and path.count(".") + 1 == self.depth
        return at_depth or self.type_of(path) in self.kinds


def _shape_text(shape):
    return "×".join(str(d) for d in shape) if len(shape) else "scalar"


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _leaf_grad_norm(t):
    from .tracing import _norm
    return _norm(t.grad._data) if t.grad is not None else None


def _norm_text(value):
    return "-" if value is None else f"{value:.3g}"


class _Builder:
    """Turns a :class:`_Walk` into DOT text: vertices, clusters, edges."""

    def __init__(self, walk, names, scopes, norms, folding, clusters, grads):
        self.walk, self.names, self.scopes = walk, names, scopes
        self.norms, self.folding, self.clusters, self.grads = norms, folding, clusters, grads
        self.vertices = {}          # display key -> (dot id, kind, label, cluster path or None)
        self.counts = {"op": 0, "param": 0, "input": 0, "output": 0, "module": 0}
        self.outputs_used = {}      # id(node) -> the output indices that something consumes
        for src, index, *_ in walk.edges:
            if src[0] == "op":
                self.outputs_used.setdefault(src[1], set()).add(index)

    # -- vertices
    def display(self, key):
        """The vertex a node of the walk is drawn as (its folded module's, when folded)."""
        kind, ident = key
        if kind == "op":
            path = self.scopes.get(ident)
            root = self.folding.root(path) if path else None
            return ("module", root) if root is not None else key
        if kind == "leaf" and ident in self.names:
            root = self.folding.root(_module_of(self.names[ident]))
            return ("module", root) if root is not None else key
        return key

    def vertex(self, dkey):
        """Create (once) the vertex for display key ``dkey``; returns its DOT id."""
        if dkey in self.vertices:
            return self.vertices[dkey][0]
        kind, ident = dkey
        if kind == "op":
            kind_, label, cluster = "op", self.walk.ops[ident].name, self.scopes.get(ident)
        elif kind == "module":
            kind_, label, cluster = "module", self.module_label(ident), _module_of(ident)
        elif kind == "output":
            t = self.walk.outputs[ident][1]
            kind_, label, cluster = "output", f"output\n{_shape_text(t.shape)} {t.dtype}", None
        else:
            kind_, label, cluster = self.leaf_vertex(ident)
        dot_id = f"{kind_}{self.counts[kind_]}"
        self.counts[kind_] += 1
        self.vertices[dkey] = (dot_id, kind_, label, cluster if self.clusters else None)
        return dot_id

    def leaf_vertex(self, ident):
        t = self.walk.leaves[ident]
        name = self.names.get(ident)
        label = f"{name or 'input'}\n{_shape_text(t.shape)} {t.dtype}"
        if self.grads and t.grad is not None:
            label += f"\n|grad| {_norm_text(_leaf_grad_norm(t))}"
        if name is None:
            return "input", label, None
        return "param", label, _module_of(name)

    def module_label(self, path):
        n_ops = self.folding.op_counts.get(path, 0)
        n_params = sum(t._data.size for i, t in self.walk.leaves.items()
                       if i in self.names and (_module_of(self.names[i]) + ".").startswith(path + "."))
        return f"{path}\n{self.folding.type_of(path)}\n{n_ops} ops, {n_params:,} params"

    # -- edges
    def edges(self):
        """Drawn edges ``(src id, dst id, label)``: one per tensor and consumer vertex."""
        drawn = {}
        for src, index, dst, arg, shape, dtype in self.walk.edges:
            s, d = self.display(src), self.display(dst)
            if s == d:
                continue                                   # inside a folded module
            key = (src, index, d, arg if d[0] == "op" else None)     # into a folded module: once per tensor
            if key not in drawn:
                text = self.edge_text(src, index, shape, dtype)
                norm = self.tensor_grad_norm(src, index) if self.grads else None
                if norm is not None:
                    text += f"\n∇ {_norm_text(norm)}"
                drawn[key] = (self.vertex(s), self.vertex(d), text)
        return list(drawn.values())

    def tensor_grad_norm(self, src, index):
        """Norm of the loss's gradient with respect to the tensor that ``src`` (output ``index``) made."""
        if src[0] == "leaf":
            t = self.walk.leaves[src[1]]
            return _leaf_grad_norm(t)
        found = self.norms.get(src[1])
        return found[index] if found is not None and index < len(found) else None

    def edge_text(self, src, index, shape, dtype):
        text = _shape_text(shape)
        if str(dtype) != "float32":
            text += f" {dtype}"
        node = self.walk.ops[src[1]] if src[0] == "op" else None
        if node is not None and node.num_outputs > 1 and (index or len(self.outputs_used[src[1]]) > 1):
            text = f"out {index}: {text}"                    # which of several outputs
        return text

    # -- text
    def build(self, title):
        for ident in self.walk.ops:                         # ops numbered in forward order
            self.vertex(self.display(("op", ident)))
        edges = self.edges()
        lines = ["digraph minigrad {",
                 '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.3, '
                 f'labelloc=b, label={_quote(self.caption(title))}];',
                 '  node [fontname="Helvetica", fontsize=10, height=0.3, margin="0.08,0.03"];',
                 '  edge [fontname="Helvetica", fontsize=8, color="#555555", fontcolor="#333333", arrowsize=0.6];']
        lines += self.cluster_lines()
        lines += [f"  {s} -> {d} [label={_quote(text)}];" for s, d, text in edges]
        lines.append("}")
        return Graph("\n".join(lines) + "\n", dict(self.counts))

    def caption(self, title):
        note = "data flows down the arrows; backward runs against them"
        if self.grads:
            note += "; ∇ = norm of the output's gradient with respect to the tensor on an edge"
        return f"{title}\n{note}" if title else note

    def cluster_lines(self):
        """Vertices, nested in one subgraph cluster per module path."""
        members, children = self.clusters_of_vertices()
        lines, pending = [], [("", 0, False)]
        while pending:                                      # depth first, without recursion
            path, indent, closing = pending.pop()
            pad = "  " * indent
            if closing:
                lines.append(pad + "}")
                continue
            if path:
                name, kind = path.rsplit(".", 1)[-1], self.folding.type_of(path)
                lines.append(f"{pad}subgraph {_quote('cluster_' + path)} {{")
                lines.append(f'{pad}  label={_quote(f"{name}: {kind}" if kind != name else name)}; labelloc=t; '
                             f'labeljust=l; style="rounded,dashed"; color="#999999"; fontsize=9;')
                pending.append((path, indent, True))
            lines.extend("  " * (indent + 1) + m for m in members.get(path, []))
            pending.extend((child, indent + 1, False) for child in reversed(children.get(path, [])))
        return lines

    def clusters_of_vertices(self):
        """``({module path: vertex lines}, {module path: child paths})``; ``""`` is the top level.
        Stateless modules (ReLU, pooling, a loss) get no box: their ops join their parent's."""
        members, paths, weighty = {}, set(), set()
        order = ("input", "param", "op", "module", "output")
        for dot_id, kind, label, cluster in sorted(self.vertices.values(), key=lambda v: order.index(v[1])):
            members.setdefault(cluster or "", []).append(f"{dot_id} [label={_quote(label)}, {_STYLE[kind]}];")
            if kind in ("param", "module"):
                weighty.add(cluster or "")
        for cluster in list(members):
            paths.update(_ancestors(cluster))
        for path in sorted(paths, key=lambda p: -p.count(".")):          # innermost first
            if path not in weighty and not any(q.startswith(path + ".") for q in paths):
                paths.discard(path)
                members.setdefault(_module_of(path), []).extend(members.pop(path, []))
        children = {}
        for path in sorted(paths):
            children.setdefault(_module_of(path), []).append(path)
        return members, children
