"""Function transforms with ``torch.func``'s names, on top of reverse-mode autograd:
``functional_call``, ``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``,
``hessian``, ``vmap``.

They compose (``grad(grad(f))``, ``hessian``): an argument that already requires grad (because
an outer transform is differentiating through it) is used as it is and the inner derivative
keeps its graph; otherwise the argument is a fresh detached leaf and results are detached.
``vmap`` loops over the mapped dim (one call per element) and stacks the results.
"""
from __future__ import annotations

from .autograd import enable_grad
from .autograd import functional as _F
from .autograd import grad as _autograd_grad
from .nn.utils.stateless import functional_call  # noqa: F401
from .tensor import Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"]


def _leaf(t, who):
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: differentiated arguments must be Tensors, got {type(t).__name__}")
    if t.requires_grad:
        return t, True
    leaf = Tensor._wrap(t._data)
    leaf.requires_grad = True
    return leaf, False


def _argnums(argnums, n, who):
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise RuntimeError(f"{who}: argnums {argnums!r} is out of range for {n} positional arguments")
    return tuple(a % n for a in nums)


def _detach_all(x):
    """Tensors inside ``x`` (nested tuples, lists, dicts) detached, as torch.func returns aux."""
    if isinstance(x, Tensor):
        return x.detach()
    if isinstance(x, (tuple, list)):
        return type(x)(_detach_all(v) for v in x)
    if isinstance(x, dict):
        return {k: _detach_all(v) for k, v in x.items()}
    return x


def _zeros_for_none(grads, refs):
    return tuple(Tensor._wrap(r._data * 0) if g is None else g for g, r in zip(grads, refs))


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning ``(gradient of func's scalar output with respect to args[argnums],
    the output)``; with ``has_aux`` func returns ``(output, aux)`` and the value is that pair."""
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args), "grad")
        args = list(args)
        nested = False
        for a in nums:
            args[a], kept = _leaf(args[a], "grad")
            nested = nested or kept
        with enable_grad():
            out = func(*args, **kwargs)
            value, aux = out if has_aux else (out, None)
            if not isinstance(value, Tensor) or value.numel() != 1:
                raise RuntimeError(f"grad: the function must return a scalar Tensor, got "
                                   f"{getattr(value, 'shape', type(value).__name__)}")
            inputs = [args[a] for a in nums]
            grads = _autograd_grad([value], inputs, create_graph=nested, allow_unused=True) \
                if value.requires_grad else (None,) * len(inputs)
        grads = _zeros_for_none(grads, inputs)
        if not nested:
            grads, value, aux = tuple(g.detach() for g in grads), value.detach(), _detach_all(aux)
        g = grads if isinstance(argnums, tuple) else grads[0]
        return g, ((value, aux) if has_aux else value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of ``func``'s scalar output with respect to
    ``args[argnums]`` (a tuple of them for a tuple ``argnums``), plus ``aux`` with ``has_aux``."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives a tuple with v^T J for each primal."""
    leaves = [_leaf(p, "vjp") for p in primals]
    nested = any(kept for _, kept in leaves)
    inputs = [t for t, _ in leaves]
    with enable_grad():
        out = func(*inputs)
    value, aux = out if has_aux else (out, None)
    outs = value if isinstance(value, tuple) else (value,)

    def vjp_fn(cotangents):
        cts = cotangents if isinstance(cotangents, tuple) else (cotangents,)
        if len(cts) != len(outs):
            raise RuntimeError(f"vjp: expected {len(outs)} cotangents, got {len(cts)}")
        with enable_grad():
            pairs = [(o, c) for o, c in zip(outs, cts) if o.requires_grad]
            grads = _autograd_grad([o for o, _ in pairs], inputs, [c for _, c in pairs], retain_graph=True,
                                   create_graph=nested, allow_unused=True) if pairs else (None,) * len(inputs)
        grads = _zeros_for_none(grads, inputs)
        return grads if nested else tuple(g.detach() for g in grads)
    shown = value if nested else (tuple(o.detach() for o in outs) if isinstance(value, tuple) else value.detach())
    return (shown, vjp_fn, aux if nested else _detach_all(aux)) if has_aux else (shown, vjp_fn)


def jvp(func, primals, tangents, *, has_aux=False):
    """``(func(*primals), J @ tangents)``, by the double-vjp trick of :mod:`minigrad.autograd.functional`."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp: expected primals and tangents to be tuples")
    aux_box = []

    def plain(*xs):
        out = func(*xs)
        if has_aux:
            aux_box.append(out[1])
            return out[0]
        return out
    nested = any(p.requires_grad for p in primals)
    out, tangent_out = _F.jvp(plain, primals, tangents, create_graph=nested)
    return (out, tangent_out, aux_box[0]) if has_aux else (out, tangent_out)


def jacrev(func, argnums=0, has_aux=False):
    """A function returning the Jacobian of ``func`` with respect to ``args[argnums]``
    (shape ``output.shape + arg.shape``), by one backward pass per output element."""
    return _jacobian_transform(func, argnums, has_aux, "reverse-mode")


def jacfwd(func, argnums=0, has_aux=False):
    """As :func:`jacrev`, column by column: one jvp (two backward passes, see
    :mod:`minigrad.autograd.functional`) per input element."""
    return _jacobian_transform(func, argnums, has_aux, "forward-mode")


def _jacobian_transform(func, argnums, has_aux, strategy):
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args), "jacrev")
        aux_box = []

        def partial(*xs):
            full = list(args)
            for a, x in zip(nums, xs):
                full[a] = x
            out = func(*full, **kwargs)
            if has_aux:
                aux_box.append(out[1])
                return out[0]
            return out
        chosen = tuple(args[a] for a in nums)
        nested = any(isinstance(x, Tensor) and x.requires_grad for x in chosen)
        jac = _F.jacobian(partial, chosen, create_graph=nested, strategy=strategy)
        if isinstance(jac, tuple) and not isinstance(argnums, tuple):
            jac = tuple(j[0] for j in jac) if jac and isinstance(jac[0], tuple) else jac[0]
        return (jac, aux_box[0]) if has_aux else jac
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of ``func``'s scalar output with respect to ``args[argnums]`` (the Jacobian of the Jacobian)."""
    return jacrev(jacrev(func, argnums), argnums)


# ----------------------------------------------------------------------------- vmap
def _tree_map(fn, tree):
    if isinstance(tree, Tensor):
        return fn(tree)
    if isinstance(tree, (tuple, list)):
        return type(tree)(_tree_map(fn, t) for t in tree)
    if isinstance(tree, dict):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    return tree


def _tree_tensors(tree):
    if isinstance(tree, Tensor):
        return [tree]
    if isinstance(tree, (tuple, list)):
        return [t for sub in tree for t in _tree_tensors(sub)]
    if isinstance(tree, dict):
        return [t for sub in tree.values() for t in _tree_tensors(sub)]
    return []


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dim of its inputs, as ``torch.func.vmap``.  It runs ``func`` once per
    batch element (there is no batching rule per op) and stacks the results along ``out_dims``,
    so it composes with ``grad`` & co. (per-sample gradients: ``vmap(grad(loss), (None, 0, 0))``).
    ``in_dims``: an int, or one entry per positional argument (an int, None for not mapped, or a
    tree of them for a tuple/dict argument)."""
    from .ops.shape import stack

    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries but the function got {len(args)} positional "
                             f"arguments")
        sizes = set()

        def collect(arg, dim):
            if dim is None:
                return
            if isinstance(dim, int):
                for t in _tree_tensors(arg):
                    if not -t.ndim <= dim < max(t.ndim, 1) or t.ndim == 0:
                        raise ValueError(f"vmap: in_dim {dim} is out of range for a Tensor of shape {tuple(t.shape)}")
                    sizes.add(t.shape[dim])
                return
            items = zip(arg, dim) if isinstance(dim, (tuple, list)) else ((arg[k], d) for k, d in dim.items())
            for a, d in items:
                collect(a, d)
        for a, d in zip(args, dims):
            collect(a, d)
        if len(sizes) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sorted(sizes)}" if sizes else "vmap: at least one input must be mapped (in_dims)")
        (n,) = sizes

        def slice_arg(arg, dim, b):
            if dim is None:
                return arg
            if isinstance(dim, int):
                return _tree_map(lambda t: t.movedim(dim, 0)[b], arg)
            if isinstance(dim, (tuple, list)):
                return type(arg)(slice_arg(a, d, b) for a, d in zip(arg, dim))
            return {k: slice_arg(arg[k], dim.get(k), b) for k in arg}
        results = [func(*(slice_arg(a, d, b) for a, d in zip(args, dims)), **kwargs) for b in range(n)]

        def merge(outs, dim):
            first = outs[0]
            if isinstance(first, Tensor):
                return stack(outs, dim if dim >= 0 else dim + first.ndim + 1)
            if isinstance(first, (tuple, list)):
                ds = dim if isinstance(dim, (tuple, list)) else (dim,) * len(first)
                return type(first)(merge([o[k] for o in outs], ds[k]) for k in range(len(first)))
            if isinstance(first, dict):
                return {k: merge([o[k] for o in outs], dim) for k in first}
            raise ValueError(f"vmap: the function must return Tensors (or tuples/dicts of them), got "
                             f"{type(first).__name__}")
        return merge(results, out_dims)
    return wrapper
