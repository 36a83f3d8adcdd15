"""The vocabulary derivative formulas are written in, once, for arrays and Tensors alike.

A ``backward`` runs twice in minigrad's life: on arrays for ordinary gradients (fast, no
graph), and on Tensors under ``create_graph`` (each op recording a node, so the gradient can
be differentiated again).  Operators (``+ - * / ** @``, comparisons, indexing) and the
methods arrays and Tensors share (``reshape``, ``sum(axis=, keepdims=)``, ``swapaxes``, ``T``)
already work on both; the few functions NumPy spells differently from minigrad are here,
each dispatching on its first operand.  Constants (masks, shares, indices) are computed on the
raw values (:func:`value`): their derivative is zero, so they need no graph.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from ._kernels import kernels


def is_tensor(a) -> bool:
    return isinstance(a, Tensor)


def value(a):
    """The raw array of a Tensor (or the array itself): for constants such as masks."""
    return a._data if isinstance(a, Tensor) else a


def like(array, ref):
    """A constant ``array`` in ``ref``'s mode: wrapped as a Tensor (no graph) when ``ref`` is one."""
    if isinstance(ref, Tensor) and not isinstance(array, Tensor):
        return Tensor._wrap(np.asarray(array) if isinstance(array, np.generic) else array)
    return array


def xp(a):
    """NumPy or CuPy, whichever holds ``a``'s values."""
    return backend.xp_of(value(a))


def exp(a):
    return a.exp() if isinstance(a, Tensor) else backend.xp_of(a).exp(a)


def log(a):
    return a.log() if isinstance(a, Tensor) else backend.xp_of(a).log(a)


def tanh(a):
    return a.tanh() if isinstance(a, Tensor) else backend.xp_of(a).tanh(a)


def sqrt(a):
    return a.sqrt() if isinstance(a, Tensor) else backend.xp_of(a).sqrt(a)


def sin(a):
    return a.sin() if isinstance(a, Tensor) else backend.xp_of(a).sin(a)


def cos(a):
    return a.cos() if isinstance(a, Tensor) else backend.xp_of(a).cos(a)


def sinh(a):
    return a.sinh() if isinstance(a, Tensor) else backend.xp_of(a).sinh(a)


def cosh(a):
    return a.cosh() if isinstance(a, Tensor) else backend.xp_of(a).cosh(a)


def polygamma(n, a):
    """The n-th derivative of digamma (n = 0: digamma itself); kernels/special.py on arrays."""
    if isinstance(a, Tensor):
        from .math import polygamma as tensor_polygamma
        return tensor_polygamma(n, a)
    special = kernels("special")
    return special.digamma(a) if n == 0 else special.polygamma(n, a)


def sigmoid(a):
    """0.5 + 0.5 tanh(a / 2): never overflows."""
    return a.sigmoid() if isinstance(a, Tensor) else 0.5 + 0.5 * backend.xp_of(a).tanh(0.5 * a)


def softplus(a):
    """log(1 + exp(a)), stable."""
    if isinstance(a, Tensor):
        from .activation import softplus as tensor_softplus
        return tensor_softplus(a, 1.0, 30.0)
    return backend.xp_of(a).logaddexp(0, a)


def where(condition, a, b):
    """``a`` where the (constant) condition holds, else ``b``; a, b arrays, Tensors or numbers,
    the result in ``a``'s (or ``b``'s) dtype."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from .elementwise import where as tensor_where
        return tensor_where(like(value(condition), a if isinstance(a, Tensor) else b), a, b)
    ref = a if backend.is_array(a) else b
    out = backend.xp_of(condition).where(condition, a, b)
    return out.astype(ref.dtype, copy=False) if backend.is_array(ref) else out


def sum(a, dims, keepdims=False):
    """Sum over ``dims`` (a tuple)."""
    if isinstance(a, Tensor):
        return a.sum(dims, keepdim=keepdims) if dims else a
    return a.sum(axis=dims, keepdims=keepdims) if dims else a


def permute(a, perm):
    return a.permute(perm) if isinstance(a, Tensor) else a.transpose(perm)


def moveaxis(a, source, destination):
    if isinstance(a, Tensor):
        perm = [d for d in range(a.ndim) if d != source]
        perm.insert(destination % a.ndim, source)
        return a.permute(perm)
    return backend.xp_of(a).moveaxis(a, source, destination)


def broadcast_to(a, shape):
    """``a`` broadcast to ``shape`` (a view on arrays)."""
    if tuple(a.shape) == tuple(shape):
        return a
    return a.broadcast_to(shape) if isinstance(a, Tensor) else backend.xp_of(a).broadcast_to(a, shape)


def cast(a, dtype):
    if isinstance(a, Tensor):
        return a.to(dtype)
    return a.astype(dtype, copy=False)


def concatenate(parts, axis):
    if any(isinstance(p, Tensor) for p in parts):
        from .shape import cat
        return cat(list(parts), axis)
    return backend.xp_of(parts[0]).concatenate(parts, axis=axis)


def zeros(shape, dtype, ref):
    """Constant zeros in ``ref``'s mode and on its device."""
    return like(xp(ref).zeros(shape, dtype=dtype), ref)
