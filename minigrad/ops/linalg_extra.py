"""More products and norms: mm, bmm, mv, dot, inner, outer, addmm, baddbmm, tensordot,
einsum, kron, cross, cdist, and the vector and matrix norms of ``minigrad.linalg``.

Most are ``matmul`` (ops/linalg.py) after checking shapes, or compositions of
differentiable ops.  ``einsum`` is its own Function, whose gradients are einsums again
(see :class:`Einsum`).
"""
from __future__ import annotations

import builtins
import string

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from . import indexing as _idx
from . import reduce as _red
from . import shape as _shape
from ._args import as_tensor, normalize_dim, normalize_dims
from .linalg import matmul
from .scan import VectorNorm

__all__ = ["mm", "bmm", "mv", "dot", "inner", "outer", "addmm", "baddbmm", "tensordot", "einsum", "kron",
           "cross", "cdist", "pdist", "vector_norm", "matrix_norm", "norm"]


def _operands(opname, *xs):
    ts = [as_tensor(x, opname) for x in xs]
    dtype = ts[0]._data.dtype
    for t in ts[1:]:
        if t._data.dtype != dtype:
            raise TypeError(f"{opname}: operands must have the same dtype, got "
                            f"{', '.join(str(u._data.dtype) for u in ts)}")
    return ts


def _need_ndim(opname, t, ndim, name):
    if t._data.ndim != ndim:
        raise ArgumentError(f"{opname}: {name} must be {ndim}-D, got shape {t._data.shape}")


# ----------------------------------------------------------------------------- products
def mm(input, mat2) -> Tensor:
    """(n, k) @ (k, m)."""
    a, b = _operands("mm", input, mat2)
    _need_ndim("mm", a, 2, "input")
    _need_ndim("mm", b, 2, "mat2")
    return matmul(a, b)


def bmm(input, mat2) -> Tensor:
    """(b, n, k) @ (b, k, m), no broadcasting."""
    a, b = _operands("bmm", input, mat2)
    _need_ndim("bmm", a, 3, "input")
    _need_ndim("bmm", b, 3, "mat2")
    if a._data.shape[0] != b._data.shape[0]:
        raise ArgumentError(f"bmm: batch sizes differ: {a._data.shape} and {b._data.shape}")
    return matmul(a, b)


def mv(input, vec) -> Tensor:
    """(n, m) @ (m,)."""
    a, v = _operands("mv", input, vec)
    _need_ndim("mv", a, 2, "input")
    _need_ndim("mv", v, 1, "vec")
    return matmul(a, v)


def dot(input, other) -> Tensor:
    """The inner product of two 1-D tensors of the same size."""
    a, b = _operands("dot", input, other)
    _need_ndim("dot", a, 1, "input")
    _need_ndim("dot", b, 1, "other")
    return matmul(a, b)


def inner(input, other) -> Tensor:
    """Sum over the last dims: out[i..., j...] = sum_k a[i..., k] b[j..., k] (a product for 0-d,
    whose dtypes promote as ``*``'s do; the contraction wants one dtype, as PyTorch's)."""
    a, b = as_tensor(input, "inner"), as_tensor(other, "inner")
    if a._data.ndim == 0 or b._data.ndim == 0:
        return a * b
    a, b = _operands("inner", a, b)
    if a._data.shape[-1] != b._data.shape[-1]:
        raise ArgumentError(f"inner: last dims differ: {a._data.shape} and {b._data.shape}")
    return tensordot(a, b, ([-1], [-1]))


def outer(input, vec2) -> Tensor:
    """out[i, j] = a[i] b[j] (dtypes promote as ``*``'s do, as PyTorch's)."""
    a, b = as_tensor(input, "outer"), as_tensor(vec2, "outer")
    _need_ndim("outer", a, 1, "input")
    _need_ndim("outer", b, 1, "vec2")
    return _shape.reshape(a, -1, 1) * _shape.reshape(b, 1, -1)


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha (mat1 @ mat2), input broadcast to the product's shape (ignored when beta is 0)."""
    product = mm(mat1, mat2)
    return _scaled_sum(input, product, beta, alpha, "addmm")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha (batch1 @ batch2) for batches of matrices."""
    product = bmm(batch1, batch2)
    return _scaled_sum(input, product, beta, alpha, "baddbmm")


def _scaled_sum(input, product, beta, alpha, opname):
    x = as_tensor(input, opname)
    try:
        if np.broadcast_shapes(x._data.shape, product._data.shape) != product._data.shape:
            raise ValueError
    except ValueError:
        raise ArgumentError(f"{opname}: input of shape {x._data.shape} does not broadcast to the product's shape "
                         f"{product._data.shape}") from None
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out
    return out + (x if beta == 1 else x * beta)


def tensordot(a, b, dims=2) -> Tensor:
    """Contract the last ``dims`` dims of ``a`` with the first of ``b``, or the dims listed in
    ``dims = (dims_a, dims_b)``."""
    a, b = _operands("tensordot", a, b)
    if isinstance(dims, (int, np.integer)):
        if dims < 0 or dims > builtins.min(a._data.ndim, b._data.ndim):
            raise ArgumentError(f"tensordot: cannot contract {dims} dims of shapes {a._data.shape} and {b._data.shape}")
        da, db = list(range(a._data.ndim - dims, a._data.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        da = [normalize_dim(d, a._data.ndim, "tensordot") for d in da]
        db = [normalize_dim(d, b._data.ndim, "tensordot") for d in db]
    if len(da) != len(db) or builtins.any(a._data.shape[i] != b._data.shape[j] for i, j in zip(da, db)):
        raise ArgumentError(f"tensordot: dims {da} of {a._data.shape} do not match dims {db} of {b._data.shape}")
    free_a = [k for k in range(a._data.ndim) if k not in da]
    free_b = [k for k in range(b._data.ndim) if k not in db]
    k = int(np.prod([a._data.shape[i] for i in da]))
    a2 = _shape.reshape(_shape.permute(a, free_a + da), -1, k)
    b2 = _shape.reshape(_shape.permute(b, db + free_b), k, -1)
    shape = tuple(a._data.shape[i] for i in free_a) + tuple(b._data.shape[j] for j in free_b)
    return _shape.reshape(matmul(a2, b2), shape)


def kron(input, other) -> Tensor:
    """Kronecker product: block (i, j) is ``a[i, j] * b`` (shapes aligned on the right; dtypes promote
    as ``*``'s do, as PyTorch's)."""
    a, b = as_tensor(input, "kron"), as_tensor(other, "kron")
    n = builtins.max(a._data.ndim, b._data.ndim)
    sa = (1,) * (n - a._data.ndim) + a._data.shape
    sb = (1,) * (n - b._data.ndim) + b._data.shape
    a2 = _shape.reshape(a, tuple(v for s in sa for v in (s, 1)))
    b2 = _shape.reshape(b, tuple(v for s in sb for v in (1, s)))
    return _shape.reshape(a2 * b2, tuple(x * y for x, y in zip(sa, sb)))


def cross(input, other, dim=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default: the first dim of size 3)."""
    a, b = _operands("cross", input, other)
    try:
        shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise ArgumentError(f"cross: shapes {a._data.shape} and {b._data.shape} do not broadcast") from None
    if dim is None:
        sizes = [k for k, s in enumerate(shape) if s == 3]
        if not sizes:
            raise ArgumentError(f"cross: no dimension of size 3 in shape {shape}")
        dim = sizes[0]
    d = normalize_dim(dim, len(shape), "cross")
    if shape[d] != 3:
        raise ArgumentError(f"cross: dim {dim} has size {shape[d]}, expected 3 (shape {shape})")
    a, b = _shape.broadcast_to(a, shape), _shape.broadcast_to(b, shape)
    pick = (lambda t, i: _shape.getitem(t, (slice(None),) * d + (slice(i, i + 1),)))
    a0, a1, a2 = (pick(a, i) for i in range(3))
    b0, b1, b2 = (pick(b, i) for i in range(3))
    return _shape.cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def cdist(x1, x2, p=2.0) -> Tensor:
    """p-norm distances between the rows: (..., P, M), (..., R, M) -> (..., P, R)."""
    a, b = _operands("cdist", x1, x2)
    if a._data.ndim < 2 or b._data.ndim < 2 or a._data.shape[-1] != b._data.shape[-1]:
        raise ArgumentError(f"cdist: expected (..., P, M) and (..., R, M), got {a._data.shape} and {b._data.shape}")
    if p < 0:
        raise ArgumentError(f"cdist: p must be non-negative, got {p}")
    diff = _shape.unsqueeze(a, -2) - _shape.unsqueeze(b, -3)
    return vector_norm(diff, p, -1)


def pdist(input, p=2.0) -> Tensor:
    """p-norm distances between every pair of rows i < j of an (N, M) input, in the order of the
    upper triangle read row by row: (N (N - 1) / 2,).  A gather of both rows of each pair, then the
    norm of their difference, so the gradient is the gather's (scatter-add) after the norm's."""
    x = as_tensor(input, "pdist")
    if x._data.ndim != 2:
        raise ArgumentError(f"pdist: expected a 2-D input (N, M), got shape {x._data.shape}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"pdist: expected a floating point input, got {x._data.dtype}")
    if p < 0:
        raise ArgumentError(f"pdist: p must be non-negative, got {p}")
    i, j = np.triu_indices(x._data.shape[0], 1)
    return vector_norm(x[i] - x[j], p, -1)


# ----------------------------------------------------------------------------- einsum
class Einsum(Function):
    """out = einsum(eq, *operands) for an explicit equation with distinct labels per operand.

    Derivation: out[o] = sum over the labels not in o of prod_j x_j[s_j].  The derivative
    with respect to x_k[s_k] is the sum, over the labels of o and of the other operands not
    in s_k, of g[o] prod_{j != k} x_j[s_j]: that is the einsum ``o, s_j (j != k) -> s_k``.
    A label of s_k found nowhere else (summed out within x_k alone) is absent from that
    einsum's inputs, so it is left out of the output and the result is broadcast along it
    (d/dx_k of a sum over it is 1 for each entry).  Each gradient is computed by Einsum
    again, so it is differentiable any number of times."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, *operands, equation):
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        out = backend.xp_of(operands[0]).einsum(equation, *operands)
        return backend.xp_of(operands[0]).asarray(out)

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved_tensors
        ins, out = ctx.equation.split("->")
        subs = ins.split(",")
        grads = []
        for k, s in enumerate(subs):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [subs[j] for j in range(len(subs)) if j != k]
            present = set(out).union(*others)
            kept = "".join(c for c in s if c in present)
            eq = ",".join([out] + others) + "->" + kept
            gk = Einsum.run(g, *[ops[j] for j in range(len(ops)) if j != k], equation=eq)
            if kept != s:
                shape = ops[k].shape
                gk = gk.reshape(tuple(n if c in present else 1 for c, n in zip(s, shape)))
                gk = f.broadcast_to(gk, tuple(shape))
            grads.append(gk)
        return tuple(grads)


def _parse_einsum(equation, shapes):
    """The equation made explicit: ellipses as letters, the output spelled out."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        ins, out = eq.split("->")
    else:
        ins, out = eq, None
    subs = ins.split(",")
    if len(subs) != len(shapes):
        raise ArgumentError(f"einsum: the equation {equation!r} names {len(subs)} operands, got {len(shapes)}")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = 0
    for s, shp in zip(subs, shapes):
        if "..." in s:
            n_ell = builtins.max(n_ell, len(shp) - (len(s) - 3))
    ell = "".join(free[:n_ell])
    expanded = []
    for s, shp in zip(subs, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if not builtins.all(c.isalpha() for c in s):
            raise ArgumentError(f"einsum: invalid subscripts {s!r} in {equation!r}")
        if len(s) != len(shp):
            raise ArgumentError(f"einsum: subscripts {s!r} do not match an operand of shape {shp}")
        expanded.append(s)
    if out is None:
        counts = {}
        for s in expanded:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return expanded, out, ell


def einsum(equation, *operands) -> Tensor:
    """Einstein summation as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)``; ellipses,
    implicit outputs and repeated labels within an operand (diagonals) are supported, and so is
    PyTorch's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (:func:`_sublist_equation`)."""
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = _operands("einsum", *operands)
    subs, out, ell = _parse_einsum(equation, [t._data.shape for t in ts])
    sizes = {}
    # ellipsis dims broadcast: expand every operand's to the common size first
    for s, t in zip(subs, ts):
        for c, n in zip(s, t._data.shape):
            if c in ell and n != 1:
                sizes[c] = n
    new_ts = []
    for s, t in zip(subs, ts):
        target = tuple(sizes.get(c, n) if c in ell else n for c, n in zip(s, t._data.shape))
        new_ts.append(_shape.broadcast_to(t, target) if target != t._data.shape else t)
    ts = new_ts
    # a label repeated within one operand reads its diagonal
    for k in range(len(ts)):
        s, t = subs[k], ts[k]
        while len(set(s)) != len(s):
            c = next(c for c in s if s.count(c) > 1)
            i = s.index(c)
            j = s.index(c, i + 1)
            t = _idx.diagonal(t, 0, i, j)
            s = s[:i] + s[i + 1:j] + s[j + 1:] + c
        subs[k], ts[k] = s, t
    for s, t in zip(subs, ts):
        for c, n in zip(s, t._data.shape):
            if sizes.setdefault(c, n) != n:
                raise ArgumentError(f"einsum: label {c!r} has sizes {sizes[c]} and {n} in {equation!r}")
    if len(set(out)) != len(out) or builtins.any(c not in sizes for c in out):
        raise ArgumentError(f"einsum: invalid output subscripts {out!r} in {equation!r}")
    return Einsum.apply(*ts, equation=",".join(subs) + "->" + out)


def _sublist_equation(args):
    """``(op1, sublist1, op2, sublist2, ..., [out_sublist])`` as an equation and its operands: a
    sublist holds labels 0..51 (read as a-z, A-Z) and ``...``."""
    def letters(sublist):
        out = []
        for v in sublist:
            if v is Ellipsis:
                out.append("...")
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v < 52:
                out.append(string.ascii_letters[v])
            else:
                raise ArgumentError(f"einsum: sublist labels must be integers in [0, 52) or ..., got {v!r}")
        return "".join(out)

    operands, subs = args[0::2], args[1::2]
    if len(subs) not in (len(operands), len(operands) - 1) or not builtins.all(
            isinstance(s, (list, tuple)) for s in subs):
        raise TypeError("einsum: the sublist form is einsum(op1, sublist1, op2, sublist2, ..., [out_sublist])")
    if len(subs) < len(operands):               # the output sublist was given: it is the last argument
        *operands, out = operands
        if not isinstance(out, (list, tuple)):
            raise TypeError(f"einsum: expected an output sublist last, got {type(out).__name__}")
        return ",".join(letters(s) for s in subs) + "->" + letters(out), tuple(operands)
    return ",".join(letters(s) for s in subs), tuple(operands)


# ----------------------------------------------------------------------------- norms
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over ``dim`` (all dims when None); ord inf/-inf: max/min |x|;
    ord 0: the number of non-zero entries."""
    t = as_tensor(x, "vector_norm")
    if dtype is not None:
        t = t.to(dtype)
    if t._data.dtype.kind != "f":
        raise TypeError(f"vector_norm: expected a floating point tensor, got {t._data.dtype}")
    dims = normalize_dims(dim, t._data.ndim, "vector_norm", empty_is_all=True)
    # scan.VectorNorm: its gradient at the zero vector is 0 (a subgradient), as PyTorch's
    return VectorNorm.apply(t, float(ord), dims, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None) -> Tensor:
    """Frobenius ('fro'), the max absolute column (ord 1) / row (ord inf) sum, min for -1/-inf, or from the
    singular values s: the spectral norm max s (ord 2), min s (ord -2), the nuclear norm sum s ('nuc')."""
    t = as_tensor(A, "matrix_norm")
    if dtype is not None:
        t = t.to(dtype)
    if t._data.ndim < 2:
        raise ArgumentError(f"matrix_norm: expected at least 2 dims, got shape {t._data.shape}")
    r, c = (normalize_dim(d, t._data.ndim, "matrix_norm") for d in dim)
    if ord == "fro":
        return vector_norm(t, 2, (r, c), keepdim)
    if ord in (1, -1, float("inf"), -float("inf")):
        inner_dim, outer_dim = (r, c) if ord in (1, -1) else (c, r)
        sums = _red.sum(t.abs(), inner_dim, keepdim=True)
        out = (_red.amax if ord > 0 else _red.amin)(sums, outer_dim, keepdim=True)
        return out if keepdim else _shape.squeeze(out, (r, c))
    if ord in (2, -2, "nuc"):
        from .linalg_more import svdvals           # (linalg_more builds on this module's neighbours)
        s = svdvals(_idx.movedim(t, (r, c), (-2, -1)))
        out = _red.sum(s, -1) if ord == "nuc" else (_red.amax if ord > 0 else _red.amin)(s, -1)
        if keepdim:
            for d in sorted((r, c)):
                out = _shape.unsqueeze(out, d)
        return out
    raise ArgumentError(f"matrix_norm: ord {ord!r} is not supported (use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf)")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """``linalg.norm``: a vector norm for ``dim`` an int (or None on a 1-D input, or ord None:
    all entries), a matrix norm for ``dim`` a pair (or None on a 2-D input with ord given)."""
    t = as_tensor(A, "norm")
    if isinstance(dim, int):
        return vector_norm(t, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and (ord is None or t._data.ndim == 1):
        return vector_norm(t, 2 if ord is None else ord, None, keepdim, dtype=dtype)
    if dim is None:
        if t._data.ndim != 2:
            raise ArgumentError(f"norm: ord {ord!r} without dim needs a 1-D or 2-D input, got shape {t._data.shape}")
        dim = (0, 1)
    if len(dim) == 1:
        return vector_norm(t, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return matrix_norm(t, "fro" if ord is None else ord, tuple(dim), keepdim, dtype=dtype)
