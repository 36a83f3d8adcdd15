"""``minigrad.linalg``, as ``torch.linalg``: norms, products, the cross product, inverses,
determinants, solves, the Cholesky, symmetric eigen, SVD, QR and LU decompositions, the
pseudo-inverse, least squares and the matrix exponential.

The ops live in :mod:`minigrad.ops.linalg_extra`, ``linalg_decomp`` and ``linalg_more``; this module
gives them PyTorch's ``torch.linalg`` names and defaults (``linalg.cross`` works along the last dim) and
adds the non-differentiable ``matrix_rank``, the ``*_ex`` variants and a few thin compositions."""
from __future__ import annotations

import numpy as np

from . import backend
from .errors import ArgumentError
from .ops.linalg import matmul
from .tensor import Tensor
from .ops.linalg_extra import cross as _cross
from .ops.linalg_decomp import cholesky, det, eigh, eigvalsh, inv, matrix_power, slogdet, solve
from .ops.linalg_extra import matrix_norm, norm, vector_norm
from .ops.linalg_more import (cond, lstsq, lu, lu_factor, lu_solve, matrix_exp, pinv, qr, solve_triangular, svd,
                              svdvals, tensorinv, tensorsolve)

__all__ = ["norm", "vector_norm", "matrix_norm", "cross", "matmul", "vecdot", "inv", "det", "slogdet", "solve",
           "cholesky", "eigh", "eigvalsh", "matrix_power", "multi_dot", "svd", "svdvals", "qr", "pinv", "lstsq",
           "matrix_exp", "solve_triangular", "lu_factor", "lu", "lu_solve", "cond", "tensorinv", "tensorsolve",
           "matrix_rank", "vander", "diagonal", "inv_ex", "cholesky_ex", "solve_ex"]


def multi_dot(tensors):
    """The product of a chain of matrices, multiplied in the cheapest order (1-D ends as vectors)."""
    from .ops.composite import chain_matmul
    ts = list(tensors)
    if len(ts) < 2:
        raise ArgumentError(f"linalg.multi_dot: expected at least two tensors, got {len(ts)}")
    first_vector, last_vector = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vector:
        ts[0] = ts[0].unsqueeze(0)
    if last_vector:
        ts[-1] = ts[-1].unsqueeze(1)
    out = chain_matmul(*ts)
    if first_vector:
        out = out.squeeze(0)
    if last_vector:
        out = out.squeeze(-1)
    return out


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (the last by default)."""
    return _cross(input, other, dim)


def vecdot(x, y, *, dim=-1):
    """sum(x * y) along ``dim`` (real tensors), broadcasting the other dims."""
    return (x * y).sum(dim)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """How many singular values (|eigenvalues| when ``hermitian``) exceed max(atol, rtol * s_max),
    rtol's default eps * max(m, n) when atol is not given (int64, no gradient), as PyTorch."""
    from .ops.linalg_more import _default_rtol, _matrix
    a = _matrix("linalg.matrix_rank", A)._data
    xp = backend.xp_of(a)
    s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else xp.linalg.svd(a, compute_uv=False)
    if not s.shape[-1]:
        return Tensor._wrap(xp.zeros(a.shape[:-2], dtype=np.int64))
    cutoff = xp.maximum(atol or 0.0, _default_rtol(a, atol, rtol) * s.max(-1, keepdims=True))
    return Tensor._wrap(xp.asarray((s > cutoff).sum(-1), dtype=np.int64))     # 0-d for one matrix, not a NumPy scalar


def vander(x, *, N=None):
    """The Vandermonde matrix of the last dim: (..., n) -> (..., n, N), columns x^0, x^1, ..., x^(N-1)."""
    from .ops._args import as_tensor
    from .ops.shape import stack
    x = as_tensor(x, "linalg.vander")
    if x.ndim < 1:
        raise ArgumentError(f"linalg.vander: expected a tensor with at least one dim, got shape {tuple(x.shape)}")
    n = x.shape[-1] if N is None else N
    if n < 1:
        raise ArgumentError(f"linalg.vander: N must be at least 1, got {n}")
    columns = [x * 0 + 1]
    for _ in range(n - 1):
        columns.append(columns[-1] * x)
    return stack(columns, -1)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """``torch.diagonal`` with the last two dims as default (batched matrices)."""
    from .ops.indexing import diagonal as _diagonal
    return _diagonal(A, offset, dim1, dim2)


def _singular_info(a):
    """LAPACK getrf's info per matrix: the 1-based index of the first zero pivot, 0 if none."""
    from .ops.linalg_more import _lu_array
    packed, _, _ = _lu_array(a)
    d = backend.xp_of(a).diagonal(packed, 0, -2, -1) == 0
    return np.where(d.any(-1), d.argmax(-1) + 1, 0).astype(np.int32)


def _cholesky_info(a):
    """LAPACK potrf's info per matrix: the order of the first leading minor that is not
    positive-definite, 0 if none."""
    xp = backend.xp_of(a)
    flat = a.reshape((-1,) + a.shape[-2:])
    info = np.zeros(len(flat), dtype=np.int32)
    for i, m in enumerate(flat):
        if _fails(xp, m):
            info[i] = next(k for k in range(1, m.shape[-1] + 1) if _fails(xp, m[:k, :k]))
    return info.reshape(a.shape[:-2])


def _fails(xp, m):
    try:
        xp.linalg.cholesky(m)
        return False
    except np.linalg.LinAlgError:
        return True


def _guarded(opname, a, info, check_errors, what, compute, result_dims):
    """compute(A) with the failed matrices (info > 0) replaced by the identity and their results
    set to NaN (PyTorch leaves LAPACK's partial results there); ``check_errors`` raises instead."""
    xp = backend.xp_of(a._data)
    info_t = Tensor._wrap(xp.asarray(info, dtype=np.int32))
    if not info.any():
        return compute(a), info_t
    if check_errors:
        raise RuntimeError(f"{opname}: the input of shape {tuple(a.shape)} is {what} (info {info.tolist()})")
    from .ops.elementwise import where
    bad = xp.asarray(info > 0)
    eye = Tensor._wrap(xp.eye(a.shape[-1], dtype=a.dtype))
    out = compute(where(Tensor._wrap(bad[..., None, None]), eye, a))
    nan = xp.where(bad, xp.nan, 0.0).astype(a.dtype).reshape(bad.shape + (1,) * result_dims)
    return out + Tensor._wrap(nan), info_t


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info 0 where A is invertible, else the index of its LU's first zero pivot
    (the inverse is then NaN); ``check_errors`` raises instead."""
    from .ops.linalg_decomp import _square
    a = _square("linalg.inv_ex", A)
    return _guarded("linalg.inv_ex", a, _singular_info(a._data), check_errors, "singular", inv, 2)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): info 0 where A is positive-definite, else the order of its first leading minor that
    is not (L is then NaN); ``check_errors`` raises instead."""
    from .ops.linalg_decomp import _square
    a = _square("linalg.cholesky_ex", A)
    return _guarded("linalg.cholesky_ex", a, _cholesky_info(a._data), check_errors, "not positive-definite",
                    lambda m: cholesky(m, upper=upper), 2)


def solve_ex(A, B, *, left=True, check_errors=False):
    """(solution, info) with info as :func:`inv_ex`'s (the solution is NaN where A is singular)."""
    from .ops.linalg_decomp import _square
    a = _square("linalg.solve_ex", A)
    b_shape = tuple(B.shape)
    vector = left and (len(b_shape) == 1 or (len(b_shape) == a.ndim - 1 and b_shape == tuple(a.shape[:-1])))
    return _guarded("linalg.solve_ex", a, _singular_info(a._data), check_errors, "singular",
                    lambda m: solve(m, B, left=left), 1 if vector else 2)
