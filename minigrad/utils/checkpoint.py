"""Activation checkpointing (``torch.utils.checkpoint``): trade compute for memory.

Backpropagation keeps every intermediate array of the forward pass until backward has used it,
so memory grows with depth.  ``checkpoint(fn, *args)`` keeps only ``fn``'s inputs and outputs:
the arrays computed inside ``fn`` are dropped as soon as it returns, and rebuilt when backward
reaches it by running ``fn`` again::

    forward:   y = fn(x)                 the graph inside fn is built, then let go
    backward:  y' = fn(x) again          (same random draws: the RNG state is replayed)
               dx, dθ = vjp of y' = fn(x, θ) with the incoming dy

One node stands for the whole of ``fn`` in the outer graph.  Its inputs are the Tensors passed to
``fn`` and the leaf Tensors it reads from elsewhere (its parameters, found by walking the graph
``fn`` built), so gradients reach parameters both through ``.backward()`` and ``autograd.grad``,
and under ``create_graph`` the recomputation records a graph of its own (double backward works).
The extra cost is one more forward of ``fn`` per backward.
"""
from __future__ import annotations

from ..autograd import Function, enable_grad, grad, is_grad_enabled
from ..tensor import Tensor
from ..utilities import get_rng_state, set_rng_state

__all__ = ["checkpoint", "checkpoint_sequential"]


class Checkpoint(Function):
    """The node of one checkpointed call: ``forward`` hands on the outputs computed (with a graph)
    by :func:`checkpoint`; ``backward`` runs the function again and differentiates that run."""
    differentiable_backward = True
    materialize_grads = False

    @staticmethod
    def forward(ctx, *arrays, call=None):
        ctx.call = call
        return call.outputs[0] if call.single else tuple(call.outputs)

    @staticmethod
    def backward(ctx, *grads):
        call = ctx.call
        create_graph = any(isinstance(g, Tensor) for g in grads)
        outputs, inputs = call.rerun(keep_graph=create_graph)
        roots, cotangents = [], []
        for out, g in zip(outputs, grads):
            if g is not None and isinstance(out, Tensor) and out.requires_grad:
                roots.append(out)
                cotangents.append(g if isinstance(g, Tensor) else Tensor._wrap(g))
        wanted = [t for t in inputs if t is not None]
        found = iter(grad(roots, wanted, cotangents, retain_graph=True, create_graph=create_graph,
                          allow_unused=True) if roots and wanted else [None] * len(wanted))
        result = [None if t is None else next(found) for t in inputs]
        if not create_graph:
            result = [None if g is None else g._data for g in result]
        return tuple(result)


class _Call:
    """One checkpointed call: the function, its arguments, the RNG state it started from, the
    parameters found in its graph and the outputs of the first run."""

    def __init__(self, function, args, kwargs, preserve_rng_state):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state = get_rng_state() if preserve_rng_state else None
        self.params = ()
        self.outputs = None
        self.single = True

    def run(self, args):
        out = self.function(*args, **self.kwargs)
        self.single = not isinstance(out, tuple)
        return (out,) if self.single else out

    def rerun(self, keep_graph=False):
        """Run again with gradients on; return the outputs and the Tensors to differentiate with
        respect to (None for the rest), in the order of the node's inputs: the arguments, then
        the parameters.  First order: on fresh leaves standing for the Tensor arguments (the
        graph before them is not walked).  Under create_graph: on the arguments themselves, so
        that the gradients returned hang on the outer graph and differentiate again."""
        saved = get_rng_state() if self.rng_state is not None else None
        if self.rng_state is not None:
            set_rng_state(self.rng_state)
        try:
            with enable_grad():
                args = self.args if keep_graph else _stand_ins(self.args)
                outputs = self.run(args)
        finally:
            if saved is not None:
                set_rng_state(saved)
        wanted = [t if t.requires_grad else None for t in args if isinstance(t, Tensor)]
        return outputs, wanted + [p if p.requires_grad else None for p in self.params]


def _stand_ins(args):
    """Fresh leaves on the arguments' memory, requiring grad where they do."""
    return [a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a for a in args]


def _leaves_reached(outputs, skip):
    """The leaf Tensors that require grad and feed ``outputs`` (other than those in ``skip``),
    in the order first met: the parameters a function read without being passed them."""
    found, seen, stack = {}, set(), []
    skip_ids = {id(t) for t in skip}
    for out in outputs:
        if isinstance(out, Tensor) and out._grad_fn is not None:
            stack.append(out._grad_fn)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node._next or ():
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Tensor):
                if target._requires_grad and id(target) not in skip_ids:
                    found.setdefault(id(target), target)
            elif id(target) not in seen:
                stack.append(target)
    return list(found.values())


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its intermediate arrays for backward, which
    runs it again instead (see the module docstring).  The outputs are a Tensor or a tuple, as
    ``function`` returns them.  ``use_reentrant`` and ``determinism_check`` are accepted for
    PyTorch's sake: both of PyTorch's variants give these gradients (this one works with
    ``autograd.grad`` and keyword arguments, as PyTorch's non-reentrant one); ``context_fn`` is not
    supported."""
    if context_fn is not None:
        raise NotImplementedError("checkpoint: context_fn is not supported")
    if use_reentrant and kwargs:
        raise ValueError("checkpoint: unexpected keyword arguments (only use_reentrant=False accepts them, "
                         f"as in PyTorch): {sorted(kwargs)}")
    call = _Call(function, args, kwargs, preserve_rng_state)
    if not is_grad_enabled():
        out = call.run(args)
        return out[0] if call.single else out
    with enable_grad():
        stand_ins = _stand_ins(args)
        outputs = call.run(stand_ins)
    tensors = [a for a in args if isinstance(a, Tensor)]
    call.params = tuple(_leaves_reached(outputs, [t for t in stand_ins if isinstance(t, Tensor)]))
    if not any(isinstance(o, Tensor) and o.requires_grad for o in outputs):
        return outputs[0] if call.single else tuple(outputs)
    call.outputs = [o._data if isinstance(o, Tensor) else o for o in outputs]
    result = Checkpoint.apply(*tensors, *call.params, call=call)
    call.outputs = None                   # the node holds the arrays now; the graph inside is let go
    return result


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a Sequential (or a list of modules) in ``segments`` checkpointed pieces, as PyTorch:
    each piece but the last is :func:`checkpoint`-ed, the last runs normally."""
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if segments <= 0:
        raise ValueError(f"checkpoint_sequential: segments must be positive, got {segments}")
    size = len(modules) // segments

    def run(start, end):
        def piece(x):
            for m in modules[start:end + 1]:
                x = m(x)
            return x
        return piece

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(modules) - 1)(input)
