"""Derivatives of functions, as ``torch.autograd.functional``: vjp, jvp, jacobian, hessian,
hvp, vhp, with PyTorch's signatures and results.

Everything here is reverse mode on top of :func:`minigrad.autograd.grad`:

* ``vjp`` (v^T J) is one backward pass;
* ``jvp`` (J v, forward mode) uses the double-vjp trick: g(u) = J^T u is linear in a dummy
  cotangent u, so the vjp of g with respect to u, taken at v, is J v.  It costs two backward
  passes (the second through the first's graph) instead of one forward-mode pass, and needs
  every op on the way to support double backward, which all of minigrad's do;
* ``jacobian`` takes one backward per output element (``strategy='reverse-mode'``) or one
  jvp per input element (``'forward-mode'``), and ``hessian`` is the jacobian of the jacobian;
* ``vhp`` (v^T H) differentiates the gradient's dot product with v; ``hvp`` (H v) uses the
  double-vjp trick on the gradient, as PyTorch does (for twice-differentiable functions H is
  symmetric and the two agree).

Inputs are used as they are when ``create_graph`` is set and they require grad (so the
results stay differentiable with respect to them), and as fresh detached leaves otherwise.
Results are detached unless ``create_graph``.  With ``strict=True`` an output that does not
depend on an input is an error; otherwise its derivative is zeros.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from . import enable_grad, grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ----------------------------------------------------------------------------- argument plumbing
def _as_tuple(x, what, fn_name):
    """(was it a tuple, the tensors as a tuple); anything but Tensors is an error."""
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for k, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn_name}: {what} must be a Tensor or a tuple of Tensors, but item {k} is "
                            f"{type(t).__name__}")
    return is_tuple, items


def _prepare(inputs, create_graph):
    """The inputs the function is evaluated at: themselves when their graph must be kept, else
    detached leaves that require grad."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t)
        else:
            leaf = Tensor._wrap(t._data)
            leaf.requires_grad = t.dtype.kind == "f"
            out.append(leaf)
    return tuple(out)


def _finish(tensors, create_graph):
    """Detach results unless the caller wants their graph."""
    if create_graph:
        return tensors
    return tuple(None if t is None else t.detach() for t in tensors)


def _unpack(tensors, was_tuple):
    return tensors if was_tuple else tensors[0]


def _check_v(v, targets, what, fn_name):
    is_tuple, vs = _as_tuple(v, "v", fn_name)
    if len(vs) != len(targets):
        raise RuntimeError(f"{fn_name}: v has {len(vs)} tensors but the {what} has {len(targets)}")
    for k, (a, b) in enumerate(zip(vs, targets)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{fn_name}: v[{k}] has shape {tuple(a.shape)} but the {what}'s entry {k} has "
                               f"shape {tuple(b.shape)}")
    return vs


def _gradients(outputs, inputs, grad_outputs, create_graph, retain_graph=True):
    """grad of the outputs that require grad; None for every input when none does."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    wanted = [k for k, t in enumerate(inputs) if t.requires_grad]
    found = grad([o for o, _ in pairs], [inputs[k] for k in wanted], [g for _, g in pairs],
                 retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)
    result = [None] * len(inputs)
    for k, g in zip(wanted, found):
        result[k] = g
    return tuple(result)


def _fill_zeros(grads, refs, strict, fn_name, what="input"):
    out = []
    for k, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn_name}: the output of the function is independent of {what} {k}, which "
                                   f"strict=True does not allow")
            g = Tensor._wrap(backend.xp_of(ref._data).zeros_like(ref._data))
        out.append(g)
    return tuple(out)


def _scalar_output(outputs, fn_name):
    if len(outputs) != 1 or outputs[0]._data.size != 1:
        raise RuntimeError(f"{fn_name}: the function must return a single Tensor with one element, got "
                           f"{len(outputs)} output(s) of shape(s) {[tuple(o.shape) for o in outputs]}")


def _zero_cotangents(tensors):
    return tuple(Tensor(backend.xp_of(t._data).zeros_like(t._data), requires_grad=True) for t in tensors)


# ----------------------------------------------------------------------------- the API
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``; ``v`` may be omitted when func returns one element."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*inputs), "the function's output", "vjp")
        if v is None:
            _scalar_output(outputs, "vjp (without v)")
            vs = (None,)
        else:
            vs = _check_v(v, outputs, "output", "vjp")
        grads = _fill_zeros(_gradients(outputs, inputs, vs, create_graph), inputs, strict, "vjp")
    return _unpack(_finish(outputs, create_graph), out_tuple), _unpack(_finish(grads, create_graph), in_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)`` by the double-vjp trick (see the module docstring); ``v`` may be
    omitted when the input is a single element."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph)
        if v is None:
            if len(inputs) != 1 or inputs[0]._data.size != 1:
                raise RuntimeError("jvp: v can be omitted only when the input is a single Tensor with one element")
            vs = (Tensor._wrap(backend.xp_of(inputs[0]._data).ones_like(inputs[0]._data)),)
        else:
            vs = _check_v(v, inputs, "input", "jvp")
        out_tuple, outputs = _as_tuple(func(*inputs), "the function's output", "jvp")
        dummies = _zero_cotangents(outputs)
        back = _gradients(outputs, inputs, dummies, create_graph=True)          # J^T u, linear in u
        if strict and any(g is None for g in back):
            _fill_zeros(back, inputs, True, "jvp")
        pairs = [(g, w) for g, w in zip(back, vs) if g is not None and g.requires_grad]
        forward = _gradients([g for g, _ in pairs], dummies, [w for _, w in pairs], create_graph) if pairs \
            else (None,) * len(outputs)
        forward = _fill_zeros(forward, outputs, False, "jvp", "output")
    return _unpack(_finish(outputs, create_graph), out_tuple), _unpack(_finish(forward, create_graph), out_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for one output and one input a Tensor of shape
    ``output.shape + input.shape``; tuples of them as PyTorch (``[output][input]``)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    from ..ops.shape import reshape, stack
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*inputs), "the function's output", "jacobian")
        blocks = [[None] * len(inputs) for _ in outputs]
        if strategy == "reverse-mode":
            for i, out in enumerate(outputs):
                rows = [[] for _ in inputs]
                for e in range(out._data.size):
                    onehot = backend.xp_of(out._data).zeros(out.shape, dtype=out.dtype)
                    onehot.reshape(-1)[e] = 1
                    others = [None if k != i else Tensor._wrap(onehot) for k in range(len(outputs))]
                    grads = _gradients([out], inputs, [others[i]], create_graph)
                    grads = _fill_zeros(grads, inputs, strict, "jacobian")
                    for j, g in enumerate(grads):
                        rows[j].append(g)
                for j, inp in enumerate(inputs):
                    flat = stack(rows[j], 0) if rows[j] else Tensor._wrap(
                        backend.xp_of(inp._data).zeros((0,) + tuple(inp.shape), dtype=inp.dtype))
                    blocks[i][j] = reshape(flat, tuple(out.shape) + tuple(inp.shape))
        else:
            for j, inp in enumerate(inputs):
                cols = [[] for _ in outputs]
                for e in range(inp._data.size):
                    vs = []
                    for k, other in enumerate(inputs):
                        basis = backend.xp_of(other._data).zeros(other.shape, dtype=other.dtype)
                        if k == j:
                            basis.reshape(-1)[e] = 1
                        vs.append(Tensor._wrap(basis))
                    _, tangents = jvp(func, inputs, tuple(vs), create_graph=create_graph, strict=strict)
                    tangents = tangents if isinstance(tangents, tuple) else (tangents,)
                    for i, t in enumerate(tangents):
                        cols[i].append(t)
                for i, out in enumerate(outputs):
                    flat = stack(cols[i], -1) if cols[i] else Tensor._wrap(
                        backend.xp_of(out._data).zeros(tuple(out.shape) + (0,), dtype=out.dtype))
                    blocks[i][j] = reshape(flat, tuple(out.shape) + tuple(inp.shape))
    blocks = [tuple(_finish(tuple(row), create_graph)) for row in blocks]
    if out_tuple and in_tuple:
        return tuple(blocks)
    if out_tuple:
        return tuple(row[0] for row in blocks)
    return _unpack(blocks[0], in_tuple)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: shape ``input.shape + input.shape`` (``[i][j]`` blocks for
    a tuple of inputs); the jacobian of the jacobian."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar(*args):
        out_tuple, out = _as_tuple(func(*args), "the function's output", "hessian")
        _scalar_output(out, "hessian")
        return out[0]

    def gradient(*args):
        g = jacobian(scalar, args, create_graph=True, strict=strict)
        return tuple(t.reshape(a.shape) for t, a in zip(g, args))

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, strategy=outer_jacobian_strategy)
    return result if in_tuple else result[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for a scalar ``func``: the gradient of (gradient . v)."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph)
        vs = _v_for_inputs(v, inputs, "vhp")
        out_tuple, outputs = _as_tuple(func(*inputs), "the function's output", "vhp")
        _scalar_output(outputs, "vhp")
        first = _fill_zeros(_gradients(outputs, inputs, (None,), create_graph=True), inputs, strict, "vhp")
        second = _gradients(first, inputs, vs, create_graph)
        second = _fill_zeros(second, inputs, strict, "vhp")
    return _finish(outputs, create_graph)[0], _unpack(_finish(second, create_graph), in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for a scalar ``func``, by the double-vjp trick on the gradient."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph)
        vs = _v_for_inputs(v, inputs, "hvp")
        out_tuple, outputs = _as_tuple(func(*inputs), "the function's output", "hvp")
        _scalar_output(outputs, "hvp")
        first = _fill_zeros(_gradients(outputs, inputs, (None,), create_graph=True), inputs, strict, "hvp")
        dummies = _zero_cotangents(inputs)
        back = _gradients(first, inputs, dummies, create_graph=True)           # H^T u, linear in u
        pairs = [(g, w) for g, w in zip(back, vs) if g is not None and g.requires_grad]
        result = _gradients([g for g, _ in pairs], dummies, [w for _, w in pairs], create_graph) if pairs \
            else (None,) * len(inputs)
        result = _fill_zeros(result, inputs, strict, "hvp")
    return _finish(outputs, create_graph)[0], _unpack(_finish(result, create_graph), in_tuple)


def _v_for_inputs(v, inputs, fn_name):
    if v is None:
        if len(inputs) != 1 or inputs[0]._data.size != 1:
            raise RuntimeError(f"{fn_name}: v can be omitted only when the input is a single Tensor with one element")
        return (Tensor._wrap(backend.xp_of(inputs[0]._data).ones_like(inputs[0]._data)),)
    return _check_v(v, inputs, "input", fn_name)
