"""ONNX export from one traced forward pass (needs the ``onnx`` package: ``pip install 'minigrad[interop]'``).

    import minigrad.onnx
    minigrad.onnx.export(model, x, "model.onnx", input_names=["x"], output_names=["logits"],
                         dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})

As ``torch.onnx.export``: the model runs once in evaluation mode on the example inputs
(:func:`minigrad.capture.capture` records every op with the values it read and wrote), each op becomes
one or a few ONNX nodes (opset 17), parameters become initializers named by their state-dict names,
and the model is checked with ``onnx.checker``.  An op without an exporter is an error naming it.
"""
from __future__ import annotations

import math
import os

import numpy as np

from .capture import Value, capture, numpy_of

__all__ = ["export", "OPSET", "supported_ops"]

OPSET = 17
_CONVERTERS = {}


def _onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ModuleNotFoundError("ONNX export needs the onnx package: pip install 'minigrad[interop]'",
                                  name=exc.name) from exc
    return onnx


def _converts(*ops):
    def register(fn):
        for op in ops:
            _CONVERTERS[op] = fn
        return fn
    return register


def supported_ops():
    """The names of the ops (Function classes) that :func:`export` can translate."""
    return sorted(_CONVERTERS)


class _Emitter:
    """Builds the ONNX nodes and initializers of one graph."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes = []
        self.initializers = {}            # name -> array
        self.unexported = {}              # value name -> why no node makes it
        self._count = 0

    def name(self, v):
        """The ONNX name of a captured value (parameters and constants become initializers)."""
        if v.name in self.unexported:
            raise NotImplementedError(f"onnx.export: {self.unexported[v.name]}")
        if v.kind in ("parameter", "constant") and v.name not in self.initializers:
            self.initializers[v.name] = numpy_of(v)
        return v.name

    def const(self, array, hint="const"):
        name = self.fresh(hint)
        self.initializers[name] = np.asarray(array)
        return name

    def fresh(self, hint):
        self._count += 1
        return f"{hint}__{self._count}"

    def add(self, op_type, inputs, outputs=None, **attrs):
        """Append a node; returns its output names (fresh ones when not given)."""
        outputs = outputs or [self.fresh(op_type)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), list(outputs), **attrs))
        return outputs

    def one(self, op_type, inputs, output=None, **attrs):
        return self.add(op_type, inputs, [output] if output else None, **attrs)[0]


def export(model, example_inputs, path, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=OPSET, check=True):
    """Trace ``model(*example_inputs)`` in evaluation mode and write it to ``path`` as an ONNX model
    (``path`` may also be a writable binary file).  ``dynamic_axes``: ``{name: {axis: "label"}}`` or
    ``{name: [axes]}`` for inputs and outputs whose sizes may change (e.g. the batch); a reshape keeps
    the input's leading dims that it leaves unchanged, but sizes an op computed from a shape (an expand's
    target, a reshape that merges the batch) stay the example's.  Returns the ``onnx.ModelProto``."""
    onnx = _onnx()
    if opset_version != OPSET:      # the converters write opset 17's forms (e.g. ReduceMean's axes attribute)
        raise ValueError(f"onnx.export: only opset_version={OPSET} is written, got {opset_version}")
    was_training = model.training
    model.eval()
    try:
        graph = capture(model, example_inputs, input_names)
    finally:
        model.train(was_training)
    out_names = list(output_names or [])
    if len(out_names) > len(graph.outputs):
        raise ValueError(f"onnx.export: {len(out_names)} output names for {len(graph.outputs)} outputs")
    out_names += [f"output_{i}" for i in range(len(out_names), len(graph.outputs))]
    axes = _dynamic_axes(dynamic_axes, [v.name for v in graph.inputs] + out_names)
    e = _Emitter(onnx)
    for node in graph.nodes:
        convert = _CONVERTERS.get(node.op)
        if convert is None:
            where = f" (in module {node.scope})" if node.scope else ""
            raise NotImplementedError(f"onnx.export: no exporter for op {node.op}{where}; the ops with one are: "
                                      + ", ".join(supported_ops()))
        convert(e, node)
    for value, name in zip(graph.outputs, out_names):
        e.one("Identity", [e.name(value)], name)
    helper = onnx.helper
    model_proto = helper.make_model(
        helper.make_graph(e.nodes, type(model).__name__,
                          [_value_info(onnx, v.name, v.array, axes) for v in graph.inputs],
                          [_value_info(onnx, n, v.array, axes) for v, n in zip(graph.outputs, out_names)],
                          [onnx.numpy_helper.from_array(np.array(a, order="C"), n) for n, a in e.initializers.items()]),
        opset_imports=[helper.make_opsetid("", opset_version)], producer_name="minigrad")
    model_proto.ir_version = min(model_proto.ir_version, 9)      # readable by onnxruntime releases of 2023 on
    if check:
        onnx.checker.check_model(model_proto, full_check=True)
    data = model_proto.SerializeToString()
    if isinstance(path, (str, os.PathLike)):
        from ._files import atomic_write
        atomic_write(path, lambda out: out.write(data))
    else:
        path.write(data)
    return model_proto


def _dynamic_axes(spec, names):
    out = {}
    for name, dims in (spec or {}).items():
        if name not in names:
            raise ValueError(f"onnx.export: dynamic_axes names {name!r}, which is not an input or output "
                             f"(they are {names})")
        out[name] = dict(dims) if isinstance(dims, dict) else {d: f"{name}_dim{d}" for d in dims}
    return out


def _value_info(onnx, name, array, axes):
    dims = [axes.get(name, {}).get(i, n) for i, n in enumerate(array.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(array.dtype), dims)


def _arrays(node):
    return [a for a in node.args if isinstance(a, Value)]


def _out(node, i=0):
    return node.outputs[i].name


# ----------------------------------------------------------------------------- elementwise and activations
_UNARY = {"Neg": "Neg", "Abs": "Abs", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Tanh": "Tanh",
          "Sigmoid": "Sigmoid", "ReLU": "Relu", "Clone": "Identity", "Transfer": "Identity"}
_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max",
           "Minimum": "Min", "MatMul": "MatMul"}


@_converts(*_UNARY)
def _unary(e, node):
    e.one(_UNARY[node.op], [e.name(node.args[0])], _out(node))


@_converts(*_BINARY)
def _binary(e, node):
    e.one(_BINARY[node.op], [e.name(a) for a in node.args[:2]], _out(node))


@_converts("Where")
def _where(e, node):
    e.one("Where", [e.name(a) for a in node.args[:3]], _out(node))


@_converts("_HookIdentity")
def _identity(e, node):
    for v, out in zip(_arrays(node), node.outputs):
        e.one("Identity", [e.name(v)], out.name)


@_converts("Clamp")
def _clamp(e, node):
    x = node.args[0]
    bounds = [e.const(np.asarray(b, dtype=x.dtype), "clip") if b is not None else ""
              for b in (list(node.args[1:3]) + [None, None])[:2]]
    e.one("Clip", [e.name(x)] + bounds, _out(node))


@_converts("ClampTensor")
def _clamp_tensor(e, node):
    x, lo, hi = node.args[:3]
    y = e.one("Max", [e.name(x), e.name(lo)]) if lo is not None else e.name(x)
    e.one("Min", [y, e.name(hi)], _out(node)) if hi is not None else e.one("Identity", [y], _out(node))


@_converts("LeakyReLU")
def _leaky_relu(e, node):
    slope = getattr(node.ctx, "slope", None)
    if slope is None:
        slope = node.args[1] if len(node.args) > 1 else _slope_from_values(node)
    e.one("LeakyRelu", [e.name(node.args[0])], _out(node), alpha=float(slope))


def _slope_from_values(node):
    """The negative slope, read off the input and output (an attribute the op's caller passed by name)."""
    x, y = numpy_of(node.args[0]), numpy_of(node.outputs[0])
    neg = x < 0
    return float((y[neg] / x[neg]).flat[0]) if neg.any() else 0.01


@_converts("GELU")
def _gelu(e, node):
    """Opset 17 has no Gelu: exact 0.5 x (1 + erf(x / sqrt 2)); tanh form 0.5 x (1 + tanh(c (x + 0.044715 x^3)))."""
    x = node.args[0]
    dtype = x.dtype
    c = lambda v: e.const(np.asarray(v, dtype=dtype), "gelu")       # noqa: E731
    approximate = getattr(node.ctx, "approximate", None) or (node.args[1] if len(node.args) > 1 else _gelu_form(node))
    xn = e.name(x)
    if approximate == "tanh":
        cube = e.one("Mul", [e.one("Mul", [xn, xn]), xn])
        inner = e.one("Mul", [e.one("Add", [xn, e.one("Mul", [cube, c(0.044715)])]), c(math.sqrt(2 / math.pi))])
        t = e.one("Tanh", [inner])
    else:
        t = e.one("Erf", [e.one("Div", [xn, c(math.sqrt(2.0))])])
    e.one("Mul", [e.one("Mul", [xn, e.one("Add", [t, c(1.0)])]), c(0.5)], _out(node))


def _gelu_form(node):
    """"tanh" or "none", whichever formula gives the output from the input (the caller passed it by name)."""
    x = numpy_of(node.args[0]).astype(np.float64).reshape(-1)
    y = numpy_of(node.outputs[0]).astype(np.float64).reshape(-1)
    erf = np.vectorize(math.erf)
    exact = 0.5 * x * (1 + erf(x / math.sqrt(2)))
    tanh = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return "tanh" if np.abs(tanh - y).sum() < np.abs(exact - y).sum() else "none"


@_converts("Softplus")
def _softplus(e, node):
    """softplus(beta x) / beta (ONNX's Softplus has no beta; the linear region past the threshold
    equals it to float precision)."""
    x = node.args[0]
    beta = node.args[1] if len(node.args) > 1 else _softplus_beta(node)
    if beta == 1.0:
        e.one("Softplus", [e.name(x)], _out(node))
        return
    b = e.const(np.asarray(beta, dtype=x.dtype), "beta")
    e.one("Div", [e.one("Softplus", [e.one("Mul", [e.name(x), b])]), b], _out(node))


def _softplus_beta(node):
    """beta, read off the input and output (the caller passes it by name): softplus(beta x) / beta falls
    towards relu(x) as beta grows, so bisect on the element farthest from relu."""
    x = numpy_of(node.args[0]).astype(np.float64).reshape(-1)
    y = numpy_of(node.outputs[0]).astype(np.float64).reshape(-1)
    if not x.size:
        return 1.0
    k = int(np.argmax(y - np.maximum(x, 0)))
    lo, hi = math.log(1e-4), math.log(1e4)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        beta = math.exp(mid)
        if np.logaddexp(0, beta * x[k]) / beta > y[k]:
            lo = mid
        else:
            hi = mid
    beta = math.exp(0.5 * (lo + hi))
    return float(f"{beta:.4g}")           # the value the caller wrote, not float32 noise around it


@_converts("Softmax", "LogSoftmax")
def _softmax(e, node):
    dim = node.args[1] if len(node.args) > 1 else node.ctx.dim
    e.one(node.op, [e.name(node.args[0])], _out(node), axis=int(dim))


# ----------------------------------------------------------------------------- linear, conv, pooling, norms
@_converts("Linear")
def _linear(e, node):
    x, w = node.args[:2]
    b = node.args[2] if len(node.args) > 2 else None
    if len(x.shape) == 2:
        e.one("Gemm", [e.name(x), e.name(w)] + ([e.name(b)] if b is not None else []), _out(node), transB=1)
        return
    y = e.one("MatMul", [e.name(x), e.one("Transpose", [e.name(w)], perm=[1, 0])])
    e.one("Add", [y, e.name(b)], _out(node)) if b is not None else e.one("Identity", [y], _out(node))


def _pads(p):
    return [int(p[0]), int(p[1]), int(p[0]), int(p[1])]


@_converts("Conv2d")
def _conv2d(e, node):
    x, w, b, stride, padding, dilation, groups = node.args[:7]
    inputs = [e.name(x), e.name(w)] + ([e.name(b)] if b is not None else [])
    e.one("Conv", inputs, _out(node), kernel_shape=list(w.shape[2:]), strides=list(stride), pads=_pads(padding),
          dilations=list(dilation), group=int(groups))


@_converts("ConvTranspose2d")
def _conv_transpose2d(e, node):
    x, w, b, stride, padding, dilation, groups, out_hw = node.args[:8]
    k = w.shape[2:]
    extra = [o - ((i - 1) * s - 2 * p + d * (kk - 1) + 1)
             for o, i, s, p, d, kk in zip(out_hw, x.shape[2:], stride, padding, dilation, k)]
    inputs = [e.name(x), e.name(w)] + ([e.name(b)] if b is not None else [])
    e.one("ConvTranspose", inputs, _out(node), kernel_shape=list(k), strides=list(stride), pads=_pads(padding),
          dilations=list(dilation), group=int(groups), output_padding=extra)


def _ceil_mode(in_hw, k, s, p, d, out_hw):
    floor = [(i + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for i, kk, ss, pp, dd in zip(in_hw, k, s, p, d)]
    return int(list(out_hw) != floor)


@_converts("MaxPool2d")
def _max_pool2d(e, node):
    x, k, s, p, d, out_hw = node.args[:6]
    e.one("MaxPool", [e.name(x)], _out(node), kernel_shape=list(k), strides=list(s), pads=_pads(p),
          dilations=list(d), ceil_mode=_ceil_mode(x.shape[2:], k, s, p, d, out_hw))
    _indices_unsupported(e, node, 1)


def _indices_unsupported(e, node, i):
    """Pooling's argmax output is left out of the graph: an op (or output) that reads it is an error."""
    e.unexported[node.outputs[i].name] = f"the indices that {node.op} returns (return_indices=True) are not exported"


@_converts("AvgPool2d")
def _avg_pool2d(e, node):
    x, k, s, p, out_hw, count_include_pad, divisor = node.args[:7]
    if divisor:
        raise NotImplementedError("onnx.export: avg_pool2d with divisor_override has no ONNX equivalent")
    e.one("AveragePool", [e.name(x)], _out(node), kernel_shape=list(k), strides=list(s), pads=_pads(p),
          ceil_mode=_ceil_mode(x.shape[2:], k, s, p, (1, 1), out_hw), count_include_pad=int(count_include_pad))


@_converts("AdaptivePool2d")
def _adaptive_pool2d(e, node):
    x, out_hw, kind = node.args[:3]
    h, w = x.shape[2:]
    if tuple(out_hw) == (1, 1):
        e.one("GlobalAveragePool" if kind == "avg" else "GlobalMaxPool", [e.name(x)], _out(node))
    elif h % out_hw[0] == 0 and w % out_hw[1] == 0:
        k = [h // out_hw[0], w // out_hw[1]]
        e.one("AveragePool" if kind == "avg" else "MaxPool", [e.name(x)], _out(node), kernel_shape=k, strides=k)
    else:
        raise NotImplementedError(f"onnx.export: AdaptivePool2d from {h}x{w} to {out_hw[0]}x{out_hw[1]} "
                                  f"(windows of unequal size) has no ONNX equivalent")
    if len(node.outputs) > 1:
        _indices_unsupported(e, node, 1)


@_converts("BatchNorm")
def _batch_norm(e, node):
    x, weight, bias, mean, var, eps = node.args[:6]
    if mean is None:
        raise NotImplementedError("onnx.export: BatchNorm with batch statistics (training mode) cannot be "
                                  "exported; call model.eval() or give running statistics")
    c = x.shape[1]
    w = e.name(weight) if weight is not None else e.const(np.ones(c, x.dtype), "bn_weight")
    b = e.name(bias) if bias is not None else e.const(np.zeros(c, x.dtype), "bn_bias")
    m, v = e.name(mean), e.name(var)
    if mean.dtype != x.dtype:
        to = e.onnx.helper.np_dtype_to_tensor_dtype(x.dtype)
        m, v = e.one("Cast", [m], to=to), e.one("Cast", [v], to=to)
    e.one("BatchNormalization", [e.name(x), w, b, m, v], _out(node), epsilon=float(eps))


@_converts("LayerNorm")
def _layer_norm(e, node):
    x, weight, bias, k, eps = node.args[:5]
    shape = x.shape[len(x.shape) - k:]
    w = e.name(weight) if weight is not None else e.const(np.ones(shape, x.dtype), "ln_weight")
    inputs = [e.name(x), w] + ([e.name(bias)] if bias is not None else [])
    e.one("LayerNormalization", inputs, _out(node), axis=-int(k), epsilon=float(eps))


@_converts("Embedding")
def _embedding(e, node):
    weight, indices = node.args[:2]
    e.one("Gather", [e.name(weight), e.name(indices)], _out(node), axis=0)


@_converts("Cast")
def _cast(e, node):
    e.one("Cast", [e.name(node.args[0])], _out(node),
          to=e.onnx.helper.np_dtype_to_tensor_dtype(node.outputs[0].dtype))


# ----------------------------------------------------------------------------- shapes
@_converts("Reshape")
def _reshape(e, node):
    """The target shape, with 0 ("keep the input's size") for a leading run of unchanged dims, so that
    a dynamic batch dimension stays dynamic."""
    x = node.args[0]
    target = list(node.outputs[0].shape)
    for i, (a, b) in enumerate(zip(x.shape, target)):
        if a != b or a == 0:
            break
        target[i] = 0
    e.one("Reshape", [e.name(x), e.const(np.asarray(target, np.int64), "shape")], _out(node))


@_converts("Transpose")
def _transpose(e, node):
    e.one("Transpose", [e.name(node.args[0])], _out(node), perm=[int(p) for p in node.args[1]])


@_converts("Expand")
def _expand(e, node):
    e.one("Expand", [e.name(node.args[0]), e.const(np.asarray(node.outputs[0].shape, np.int64), "shape")], _out(node))


@_converts("Cat")
def _cat(e, node):
    arrays = _arrays(node)
    dim = getattr(node.ctx, "dim", None)
    if dim is None:
        dim = _joined_dim([a.shape for a in arrays], node.outputs[0].shape)
    e.one("Concat", [e.name(a) for a in arrays], _out(node), axis=int(dim))


def _joined_dim(shapes, out):
    for d in range(len(out)):
        if sum(s[d] for s in shapes) == out[d] and all(s[:d] + s[d + 1:] == out[:d] + out[d + 1:] for s in shapes):
            return d
    raise NotImplementedError(f"onnx.export: cannot tell the dim of a cat of {shapes} into {out}")


@_converts("Stack")
def _stack(e, node):
    arrays = _arrays(node)
    dim = getattr(node.ctx, "dim", None)
    out = node.outputs[0].shape
    if dim is None:
        dim = next(d for d in range(len(out)) if out[d] == len(arrays) and out[:d] + out[d + 1:] == arrays[0].shape)
    axis = e.const(np.asarray([dim], np.int64), "axes")
    e.one("Concat", [e.one("Unsqueeze", [e.name(a), axis]) for a in arrays], _out(node), axis=int(dim))


@_converts("Split")
def _split(e, node):
    x, _, dim = node.args[:3]
    sizes = e.const(np.asarray([o.shape[dim] for o in node.outputs], np.int64), "split")
    e.add("Split", [e.name(x), sizes], [o.name for o in node.outputs], axis=int(dim))


@_converts("IndexSelect")
def _index_select(e, node):
    x, dim, index = node.args[:3]
    idx = e.name(index) if isinstance(index, Value) else e.const(np.asarray(index, np.int64), "index")
    e.one("Gather", [e.name(x), idx], _out(node), axis=int(dim))


@_converts("ConstantPad")
def _constant_pad(e, node):
    x, widths, value = node.args[:3]
    if any(b < 0 or a < 0 for b, a in widths):
        raise NotImplementedError("onnx.export: pad with negative widths (cropping) is not exported")
    pads = [int(b) for b, _ in widths] + [int(a) for _, a in widths]
    e.one("Pad", [e.name(x), e.const(np.asarray(pads, np.int64), "pads"), e.const(np.asarray(value, x.dtype), "value")],
          _out(node), mode="constant")


@_converts("GetItem")
def _get_item(e, node):
    """Basic indexing (ints, slices, None, Ellipsis): Slice for the slices, Gather for the ints
    (each removes its dim), Unsqueeze for the Nones."""
    x, index = node.args[:2]
    index = index if isinstance(index, tuple) else (index,)
    if any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) or isinstance(i, bool) for i in index):
        raise NotImplementedError("onnx.export: GetItem with integer-array or boolean-mask indices is not exported")
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    if Ellipsis in index:
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (len(x.shape) - used) + index[k + 1:]
    index = index + (slice(None),) * (len(x.shape) - used)
    starts, ends, axes, steps, gathers, news = [], [], [], [], [], []
    src = dst = 0                      # the axis in x, the axis in the output
    big = np.iinfo(np.int64).max
    for i in index:
        if i is None:
            news.append(dst)
            dst += 1
        elif isinstance(i, slice):
            if i != slice(None):
                step = i.step or 1
                starts.append(i.start if i.start is not None else (0 if step > 0 else -1))
                ends.append(i.stop if i.stop is not None else (big if step > 0 else -big))
                axes.append(src)
                steps.append(step)
            src, dst = src + 1, dst + 1
        else:
            gathers.append((src, i))
            src += 1
    cur = e.name(x)
    if axes:
        c = lambda v: e.const(np.asarray(v, np.int64), "slice")       # noqa: E731
        cur = e.one("Slice", [cur, c(starts), c(ends), c(axes), c(steps)])
    for a, i in reversed(gathers):                                    # the last first: earlier axes keep their place
        cur = e.one("Gather", [cur, e.const(np.asarray(i, np.int64), "index")], axis=a)
    if news:
        cur = e.one("Unsqueeze", [cur, e.const(np.asarray(news, np.int64), "axes")])
    e.one("Identity", [cur], _out(node))


# ----------------------------------------------------------------------------- reductions
def _axes(x, dims):
    if dims is None:
        return list(range(len(x.shape)))
    return [int(d) for d in (dims if isinstance(dims, (tuple, list)) else (dims,))]


@_converts("Sum")
def _sum(e, node):
    x, dims, keepdim = node.args[:3]
    axes = e.const(np.asarray(_axes(x, dims), np.int64), "axes")
    e.one("ReduceSum", [e.name(x), axes], _out(node), keepdims=int(keepdim))


@_converts("Mean", "LogSumExp")
def _mean(e, node):
    x, dims, keepdim = node.args[:3]
    op = "ReduceMean" if node.op == "Mean" else "ReduceLogSumExp"
    e.one(op, [e.name(x)], _out(node), axes=_axes(x, dims), keepdims=int(keepdim))


@_converts("AmaxAmin")
def _amax(e, node):
    x, dims, keepdim, largest = node.args[:4]
    e.one("ReduceMax" if largest else "ReduceMin", [e.name(x)], _out(node), axes=_axes(x, dims), keepdims=int(keepdim))


@_converts("MaxMinDim")
def _max_dim(e, node):
    x, dim, keepdim, largest = node.args[:4]
    e.one("ReduceMax" if largest else "ReduceMin", [e.name(x)], _out(node), axes=[int(dim)], keepdims=int(keepdim))
    e.one("ArgMax" if largest else "ArgMin", [e.name(x)], _out(node, 1), axis=int(dim), keepdims=int(keepdim))


# ----------------------------------------------------------------------------- recurrent layers
# ONNX's gate orders, as indices into PyTorch's: LSTM i f g o -> i o f c;  GRU r z n -> z r h.
_GATE_ORDER = {"LSTMLayer": [0, 3, 1, 2], "GRULayer": [1, 0, 2], "RNNLayer": [0]}


@_converts("LSTMLayer", "GRULayer", "RNNLayer")
def _recurrent(e, node):
    """One layer, one direction: x (T, B, I) -> y (T, B, H), h_n (, c_n) (B, H), as ONNX's LSTM / GRU / RNN
    with Y (T, 1, B, H) and Y_h (1, B, H) squeezed; weights re-ordered into ONNX's gate order."""
    lstm = node.op == "LSTMLayer"
    args = list(node.args)
    x, h0 = args[0], args[1]
    c0 = args[2] if lstm else None
    w_ih, w_hh, b_ih, b_hh, lengths, reverse = args[3:9] if lstm else args[2:8]
    if lengths is not None:
        raise NotImplementedError(f"onnx.export: {node.op} with per-sequence lengths is not exported "
                                  f"(export with full-length sequences)")
    H = w_hh.shape[1]
    k = len(_GATE_ORDER[node.op])
    order = _GATE_ORDER[node.op]

    def regate(v):
        a = numpy_of(v).reshape(k, H, *v.shape[1:])[order].reshape(1, k * H, *v.shape[1:])
        return e.const(a, v.name.replace(".", "_"))

    bias = np.concatenate([numpy_of(b).reshape(k, H)[order].reshape(-1) if b is not None
                           else np.zeros(k * H, w_ih.dtype) for b in (b_ih, b_hh)])[None]
    inputs = [e.name(x), regate(w_ih), regate(w_hh), e.const(bias.astype(w_ih.dtype), "bias"), ""]
    for state in ((h0, c0) if lstm else (h0,)):
        inputs.append(e.one("Unsqueeze", [e.name(state), e.const(np.asarray([0], np.int64), "axes")])
                      if state is not None else "")
    while inputs and inputs[-1] == "":
        inputs.pop()
    attrs = {"hidden_size": int(H), "direction": "reverse" if reverse else "forward"}
    if node.op == "GRULayer":
        attrs["linear_before_reset"] = 1
    if node.op == "RNNLayer":
        attrs["activations"] = ["Relu" if args[8] == "relu" else "Tanh"]
    op = {"LSTMLayer": "LSTM", "GRULayer": "GRU", "RNNLayer": "RNN"}[node.op]
    outs = e.add(op, inputs, [e.fresh(f"{op}_Y"), e.fresh(f"{op}_Y_h")] + ([e.fresh(f"{op}_Y_c")] if lstm else []),
                 **attrs)
    e.one("Squeeze", [outs[0], e.const(np.asarray([1], np.int64), "axes")], _out(node, 0))
    for i in range(1, len(outs)):
        e.one("Squeeze", [outs[i], e.const(np.asarray([0], np.int64), "axes")], _out(node, i))
