"""More of ``torch.linalg``: SVD, QR, pseudo-inverse, least squares, the matrix exponential,
triangular solves and the LU factorisation, with their backwards written out.

Shape legend: A is (..., m, n), batched over the leading dims; k = min(m, n).  The forwards use
NumPy's LAPACK wrappers (SVD, QR, eigh); the triangular solve and the LU factorisation, which
NumPy lacks, are substitution and Gaussian elimination loops over the rows, vectorised over the
batch.  Every backward is written once for arrays and Tensors (``@``, ``swapaxes``, masks and
the Functions of this file called through ``run``), so second derivatives need no extra code.

    svd:    A = U diag(S) Vh,  J = U^T gU, K = V^T gV, E_ij = s_j^2 - s_i^2 (i != j)
            gA = U [((J - J^T) / E) S + S ((K - K^T) / E) + diag(gS)] Vh
                 + (I - U U^T) gU S^-1 Vh + U S^-1 gV^T (I - V V^T)
    qr:     A = Q R (m >= n),  M = R gR^T - gQ^T Q,  gA = (gQ + Q copyltu(M)) R^-T,
            copyltu(M) = tril(M) + tril(M, -1)^T
    pinv:   P = A^+,  gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)
    expm:   Y = exp(A),  gA = the upper-right block of exp([[A^T, g], [0, A^T]])
    trsv:   X = T^-1 B,  gB = T^-T g,  gA = the triangle of -gB X^T
    lu:     A = P L U,  gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T   (square A; rectangular
            ones split off the extra rows of L or columns of U, see :class:`Lu`)
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor
from .linalg_decomp import Inv, _diag_embed, _lapack, _mT, _square, inv, solve

__all__ = ["svd", "svdvals", "qr", "pinv", "lstsq", "matrix_exp", "solve_triangular", "lu_factor", "lu",
           "lu_solve", "cond", "tensorinv", "tensorsolve"]

SVDResult = namedtuple("svd", ["U", "S", "Vh"])
TorchSVDResult = namedtuple("svd", ["U", "S", "V"])
QRResult = namedtuple("qr", ["Q", "R"])
LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
LUFactorResult = namedtuple("lu_factor", ["LU", "pivots"])
LUResult = namedtuple("lu", ["P", "L", "U"])


def _matrix(opname, input):
    a = as_tensor(input, opname)
    if a._data.dtype.kind != "f":
        raise TypeError(f"{opname}: expected a floating-point tensor, got {a._data.dtype}")
    if a._data.ndim < 2:
        raise ArgumentError(f"{opname}: expected a matrix or a batch of them (..., m, n), got shape {a._data.shape}")
    return a


def _const(array, ref):
    """A constant array in ``ref``'s mode (a Tensor without graph under create_graph)."""
    return f.like(array, ref)


def _eye(n, ref):
    v = f.value(ref)
    return _const(backend.xp_of(v).eye(n, dtype=v.dtype), ref)


def _tri_mask(n, upper, strict, ref):
    """The 0/1 mask of the upper (or lower) triangle, without the diagonal when ``strict``."""
    v = f.value(ref)
    ones = np.ones((n, n))
    mask = np.triu(ones, 1 if strict else 0) if upper else np.tril(ones, -1 if strict else 0)
    return _const(backend.xp_of(v).asarray(mask, dtype=v.dtype), ref)


# ----------------------------------------------------------------------------- SVD
class Svd(Function):
    """A = U diag(S) Vh, reduced or full.  With J = U^T gU, K = V^T gV, E_ij = s_j^2 - s_i^2:
    gA = U [((J - J^T) / E) S + S ((K - K^T) / E) + diag(gS)] Vh
         + (I - U U^T) gU S^-1 Vh + U S^-1 gV^T (I - V V^T)
    (full matrices: the gradients of the columns of U, rows of Vh past k are ignored, as PyTorch)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, full_matrices):
        xp = backend.xp_of(a)
        u, s, vh = _lapack("linalg.svd", lambda x: xp.linalg.svd(x, full_matrices=full_matrices), a)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        m, n, k = f.value(u).shape[-2], f.value(vh).shape[-1], f.value(s).shape[-1]
        if f.value(u).shape[-1] != k:                      # full_matrices: the first k singular vectors
            u, gu = u[..., :k], gu[..., :k]
        if f.value(vh).shape[-2] != k:
            vh, gvh = vh[..., :k, :], gvh[..., :k, :]
        s_col, s_row = s[..., :, None], s[..., None, :]
        eye = _eye(k, s)
        gap = s_row * s_row - s_col * s_col + eye          # E, with 1 on the diagonal (skew parts are 0 there)
        j = _mT(u) @ gu
        kk = vh @ _mT(gvh)
        inner = (j - _mT(j)) / gap * s_row + s_col * ((kk - _mT(kk)) / gap) + _diag_embed(gs)
        ga = u @ inner @ vh
        if m > k:
            ga = ga + ((gu - u @ j) / s_row) @ vh
        if n > k:
            ga = ga + u @ ((gvh - _mT(kk) @ vh) / s_col)
        return ga


def svd(A, full_matrices=True, *, driver=None):
    """U, S, Vh with A = U diag(S) Vh (S descending); U (..., m, m) and Vh (..., n, n) with
    ``full_matrices``, else (..., m, k) and (..., k, n).  Gradients need distinct singular values
    (and, for U and Vh, a loss that does not depend on their signs)."""
    if driver is not None:
        raise ArgumentError(f"linalg.svd: driver is for CUDA inputs only, got {driver!r}")
    u, s, vh = Svd.apply(_matrix("linalg.svd", A), full_matrices=bool(full_matrices))
    return SVDResult(u, s, vh)


def svdvals(A, *, driver=None) -> Tensor:
    """The singular values of A, descending (the reduced SVD's S, with its gradient U diag(g) Vh)."""
    return svd(_matrix("linalg.svdvals", A), full_matrices=False, driver=driver).S


def torch_svd(input, some=True, compute_uv=True):
    """``torch.svd``: U, S, V (not Vh) with A = U diag(S) V^T; ``some=False``: full U and V;
    ``compute_uv=False``: U and V are zero-filled (m, m) and (n, n), as PyTorch."""
    a = _matrix("svd", input)
    if not compute_uv:
        s = svdvals(a)
        xp = backend.xp_of(a._data)
        m, n = a._data.shape[-2:]
        batch = a._data.shape[:-2]
        return TorchSVDResult(Tensor._wrap(xp.zeros(batch + (m, m), a._data.dtype)), s,
                              Tensor._wrap(xp.zeros(batch + (n, n), a._data.dtype)))
    u, s, vh = svd(a, full_matrices=not some)
    return TorchSVDResult(u, s, vh.mT)


# ----------------------------------------------------------------------------- QR
def _qr_square_grad(q, r, gq, gr):
    """gA for A = Q R with R (k, k) upper: (gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T."""
    k = f.value(r).shape[-1]
    mm = r @ _mT(gr) - _mT(gq) @ q
    low = mm * _tri_mask(k, False, False, r)
    strict = mm * _tri_mask(k, False, True, r)
    b = gq + q @ (low + _mT(strict))
    return _mT(SolveTriangular.run(r, _mT(b), True, False))        # B R^-T, as (R^-1 B^T)^T


class Qr(Function):
    """A = Q R (Householder, LAPACK's signs).  m >= n: M = R gR^T - gQ^T Q,
    gA = (gQ + Q copyltu(M)) R^-T with copyltu(M) = tril(M) + tril(M, -1)^T;
    m < n: A = [X | Y], R = [U | V]: gY = Q gV, gX the square case with gQ + Y gV^T and gU."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, mode):
        xp = backend.xp_of(a)
        q, r = _lapack("linalg.qr", lambda x: xp.linalg.qr(x, mode="complete" if mode == "complete" else "reduced"), a)
        ctx.mode = mode
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        a, q, r = ctx.saved_tensors
        m, n = f.value(a).shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("linalg.qr: the derivative depends on Q, which is not computed when mode='r'; "
                               "use mode='reduced' to differentiate through linalg.qr")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(f"linalg.qr: not differentiable when mode='complete' and rows > columns "
                               f"(input shape {tuple(f.value(a).shape)})")
        if m >= n:
            return _qr_square_grad(q, r, gq, gr)
        y, gu, gv = a[..., m:], gr[..., :m], gr[..., m:]
        gx = _qr_square_grad(q, r[..., :m], gq + y @ _mT(gv), gu)
        return f.concatenate([gx, q @ gv], -1)


def qr(A, mode="reduced"):
    """Q, R with A = Q R, R upper triangular: ``'reduced'`` Q (m, k), R (k, n); ``'complete'`` Q (m, m),
    R (m, n); ``'r'`` R only (Q is an empty tensor)."""
    if mode not in ("reduced", "complete", "r"):
        raise ArgumentError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    q, r = Qr.apply(_matrix("linalg.qr", A), mode=mode)
    if mode == "r":
        q = Tensor._wrap(backend.xp_of(r._data).zeros((0,), dtype=r._data.dtype))
    return QRResult(q, r)


def torch_qr(input, some=True):
    """``torch.qr``: the reduced QR (``some=False``: the complete one)."""
    return qr(_matrix("qr", input), "reduced" if some else "complete")


# ----------------------------------------------------------------------------- pseudo-inverse, least squares
def _default_rtol(a, atol, rtol):
    if rtol is None:
        return 0.0 if atol is not None and atol > 0 else np.finfo(a.dtype).eps * max(a.shape[-2:])
    return rtol


def _pinv_array(a, atol, rtol, hermitian):
    xp = backend.xp_of(a)
    if hermitian:
        w, v = _lapack("linalg.pinv", xp.linalg.eigh, a)
        scale = xp.abs(w)
        u_, vh_ = v, _mT(v)
    else:
        u_, w, vh_ = _lapack("linalg.pinv", lambda x: xp.linalg.svd(x, full_matrices=False), a)
        scale = w
    top = scale.max(-1, keepdims=True) if scale.shape[-1] else scale
    cutoff = xp.maximum(atol or 0.0, rtol * top)
    keep = scale > cutoff
    inv_w = xp.where(keep, 1 / xp.where(keep, w, 1), 0).astype(a.dtype)
    return (_mT(vh_) * inv_w[..., None, :]) @ _mT(u_)


class Pinv(Function):
    """P = A^+ (Moore-Penrose; singular values at or below the cutoff count as zero);
    gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)  (where the rank is locally constant)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        p = _pinv_array(a, atol, rtol, hermitian)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved_tensors
        pT, gT = _mT(p), _mT(g)
        ga = -(pT @ g @ pT)
        ga = ga + (gT @ p @ pT - a @ (p @ (gT @ (p @ pT))))           # (I - A P) g^T P P^T
        ga = ga + (pT @ p @ gT - ((pT @ p) @ (gT @ p)) @ a)           # P^T P g^T (I - P A)
        return ga


def pinv(A, *, atol=None, rtol=None, hermitian=False) -> Tensor:
    """The pseudo-inverse A^+ (..., n, m): singular values at or below max(atol, rtol * s_max)
    count as zero (rtol's default eps * max(m, n) when atol is not given, as PyTorch);
    ``hermitian``: A is symmetric and only its eigendecomposition is computed."""
    a = _matrix("linalg.pinv", A)
    if hermitian and a._data.shape[-1] != a._data.shape[-2]:
        raise ArgumentError(f"linalg.pinv: hermitian=True needs square matrices, got shape {a._data.shape}")
    return Pinv.apply(a, atol=atol, rtol=_default_rtol(a._data, atol, rtol), hermitian=bool(hermitian))


def pinverse(input, rcond=1e-15) -> Tensor:
    """``torch.pinverse``: the pseudo-inverse with relative cutoff ``rcond``."""
    return pinv(_matrix("pinverse", input), rtol=rcond)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (the minimum-norm one when A is rank-deficient),
    as PyTorch on the CPU: ``driver`` 'gelsy' (default) gives (X, empty residuals, rank, empty
    singular values); 'gelsd' and 'gelss' add the singular values, and every driver but 'gelsy' gives
    the squared residuals ||A X - B||^2 per column when m > n and A is full-rank.  X = pinv(A, rtol=rcond) B,
    so gradients flow through :class:`Pinv`.  The rank counts singular values above rcond * s_max
    (LAPACK's gelsy estimates it from a pivoted QR instead: the same for any well-conditioned A)."""
    driver = driver or "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise ArgumentError(f"linalg.lstsq: driver must be one of gels, gelsy, gelsd, gelss, got {driver!r}")
    a = _matrix("linalg.lstsq", A)
    b = as_tensor(B, "linalg.lstsq")
    vector = b._data.ndim == a._data.ndim - 1
    if vector:
        b = b.unsqueeze(-1)
    if b._data.ndim < 2 or b._data.shape[-2] != a._data.shape[-2]:
        raise ArgumentError(f"linalg.lstsq: A of shape {a._data.shape} and B of shape {tuple(B.shape)} do not match "
                         f"(A and B need the same number of rows)")
    m, n = a._data.shape[-2:]
    rtol = np.finfo(a._data.dtype).eps * max(m, n) if rcond is None else rcond
    x = pinv(a, rtol=rtol) @ b
    xp = backend.xp_of(a._data)
    s = xp.linalg.svd(a._data, compute_uv=False)
    rank = (s > rtol * s[..., :1]).sum(-1) if s.shape[-1] else xp.zeros(a._data.shape[:-2], dtype=np.int64)
    empty = Tensor._wrap(xp.zeros((0,), dtype=a._data.dtype))
    residuals = x.reshape(-1)[:0]           # empty, in the graph (a zero gradient), as PyTorch's
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        residuals = ((a @ x - b) ** 2).sum(-2)  # (..., k): (..., 1) for a vector B, as PyTorch
    values = Tensor._wrap(s) if driver in ("gelsd", "gelss") else empty
    rank = Tensor._wrap(xp.asarray(rank, dtype=np.int64)) if driver != "gels" else \
        Tensor._wrap(xp.zeros((0,), dtype=np.int64))
    return LstsqResult(x.squeeze(-1) if vector else x, residuals, rank, values)


# ----------------------------------------------------------------------------- matrix exponential
def _expm_array(a):
    """exp(A) by scaling and squaring: A / 2^s with ||A / 2^s||_1 <= 1/2 (s from the largest norm
    of the batch), Taylor to degree 18 (remainder below 1e-23 there), then s squarings."""
    xp = backend.xp_of(a)
    n = a.shape[-1]
    norm = float(xp.abs(a).sum(-2).max()) if a.size else 0.0
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    x = a / (2.0 ** s)
    eye = xp.eye(n, dtype=a.dtype)
    result = eye + x / 18
    for k in range(17, 0, -1):                             # Horner: I + x (I + x/2 (I + ... (I + x/18)))
        result = eye + (x @ result) / k
    for _ in range(s):
        result = result @ result
    return result


class MatrixExp(Function):
    """Y = exp(A) = sum A^k / k!;  gA = the upper-right block of exp([[A^T, g], [0, A^T]])
    (the block-triangular identity for the Frechet derivative's adjoint)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm_array(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        n = f.value(a).shape[-1]
        aT = _mT(a)
        zeros = f.zeros(f.value(a).shape, f.value(a).dtype, a)
        block = f.concatenate([f.concatenate([aT, g], -1), f.concatenate([zeros, aT], -1)], -2)
        return MatrixExp.run(block)[..., :n, n:]


def matrix_exp(A) -> Tensor:
    """The matrix exponential exp(A) of a square matrix (batched)."""
    return MatrixExp.apply(_square("linalg.matrix_exp", A))


# ----------------------------------------------------------------------------- triangular solves
def _substitute(a, b, upper, unit):
    """X = T^-1 B by forward (lower) or back (upper) substitution; T the triangle of A."""
    xp = backend.xp_of(a)
    n = a.shape[-1]
    x = xp.zeros(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=a.dtype)
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        row = b[..., i, :]
        if upper and i + 1 < n:
            row = row - (a[..., i:i + 1, i + 1:] @ x[..., i + 1:, :])[..., 0, :]
        elif not upper and i:
            row = row - (a[..., i:i + 1, :i] @ x[..., :i, :])[..., 0, :]
        x[..., i, :] = row if unit else row / a[..., i, i][..., None]
    return x


class SolveTriangular(Function):
    """X = T^-1 B, T the upper or lower triangle of A (its diagonal taken as ones when unitriangular);
    gB = T^-T g (the transposed system, the other triangle),  gA = that triangle of -gB X^T"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b, upper, unitriangular):
        x = _substitute(a, b, upper, unitriangular)
        ctx.upper, ctx.unit = upper, unitriangular
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = SolveTriangular.run(_mT(a), g, not ctx.upper, ctx.unit)
        ga = -(gb @ _mT(x)) * _tri_mask(f.value(a).shape[-1], ctx.upper, ctx.unit, gb)
        return ga, gb


def solve_triangular(A, B, *, upper, left=True, unitriangular=False) -> Tensor:
    """X with T X = B (``left``) or X T = B, T the upper (``upper``) or lower triangle of A, with a unit
    diagonal when ``unitriangular`` (A's diagonal is then not read); batch dims broadcast."""
    a = _square("linalg.solve_triangular", A)
    b = _matrix("linalg.solve_triangular", B)
    if not left:
        return _mT(solve_triangular(_mT(a), _mT(b), upper=not upper, unitriangular=unitriangular))
    if b._data.shape[-2] != a._data.shape[-1]:
        raise ArgumentError(f"linalg.solve_triangular: A of shape {a._data.shape} and B of shape {b._data.shape} do "
                         f"not match (A's columns must equal B's rows)")
    try:
        batch = np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
    except ValueError:
        raise ArgumentError(f"linalg.solve_triangular: the batch dims of A {a._data.shape} and B {b._data.shape} do "
                         f"not broadcast") from None
    a = a.expand(batch + a._data.shape[-2:]) if a._data.shape[:-2] != batch else a
    b = b.expand(batch + b._data.shape[-2:]) if b._data.shape[:-2] != batch else b
    return SolveTriangular.apply(a, b, upper=bool(upper), unitriangular=bool(unitriangular))


# ----------------------------------------------------------------------------- LU
def _lu_array(a):
    """Gaussian elimination with partial pivoting (LAPACK getrf's choices): the packed factors
    (..., m, n), the 1-based pivots (..., k) and the row permutation perm with A[perm] = L U."""
    xp = backend.xp_of(a)
    lu_ = a.astype(a.dtype, copy=True)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    pivots = xp.zeros(batch + (k,), dtype=np.int32)
    perm = xp.broadcast_to(xp.arange(m), batch + (m,)).copy()
    for j in range(k):
        p = j + xp.abs(lu_[..., j:, j]).argmax(-1)                       # (batch)
        pivots[..., j] = p + 1
        rows = p[..., None, None]
        pivot_row = xp.take_along_axis(lu_, xp.broadcast_to(rows, batch + (1, n)), -2)
        current = lu_[..., j:j + 1, :].copy()
        xp.put_along_axis(lu_, xp.broadcast_to(rows, batch + (1, n)), current, -2)
        lu_[..., j:j + 1, :] = pivot_row
        pj, pp = perm[..., j].copy(), xp.take_along_axis(perm, p[..., None], -1)[..., 0]
        xp.put_along_axis(perm, p[..., None], pj[..., None], -1)
        perm[..., j] = pp
        if j + 1 < m:
            d = lu_[..., j, j]
            lu_[..., j + 1:, j] /= xp.where(d == 0, 1, d)[..., None]     # a zero pivot: no scaling, as getrf
            lu_[..., j + 1:, j + 1:] -= lu_[..., j + 1:, j:j + 1] * lu_[..., j:j + 1, j + 1:]
    return lu_, pivots, perm


def _perm_matrix(perm, dtype):
    """P with A = P L U from A[perm] = L U: P[perm[j], j] = 1."""
    xp = backend.xp_of(perm)
    m = perm.shape[-1]
    return (xp.arange(m)[:, None] == perm[..., None, :]).astype(dtype)


def _lu_core(low, up, gl, gu):
    """The gradient of P^T A = L U (square): L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T."""
    n = f.value(up).shape[-1]
    mm = (_mT(low) @ gl) * _tri_mask(n, False, True, gl) + (gu @ _mT(up)) * _tri_mask(n, True, False, gu)
    y = SolveTriangular.run(_mT(low), mm, True, True)                      # L^-T M
    return _mT(SolveTriangular.run(up, _mT(y), True, False))               # Y U^-T


class Lu(Function):
    """A = P L U (L unit lower (m, k), U upper (k, n), P from partial pivoting, constant);
    square: gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T;
    tall, L = [L1; L2]: L2 = A2 U^-1, so gA2 = gL2 U^-T and L1 U takes gU - L2^T gA2;
    wide, U = [U1 | U2]: U2 = L^-1 A2, so gA2 = L^-T gU2 and L U1 takes gL - gA2 U2^T"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        packed, pivots, perm = _lu_array(a)
        m, n = a.shape[-2:]
        k = min(m, n)
        xp = backend.xp_of(a)
        low = xp.tril(packed[..., :, :k], -1) + xp.eye(m, k, dtype=a.dtype)
        up = xp.triu(packed[..., :k, :])
        ctx.p = _perm_matrix(perm, a.dtype)
        ctx.save_for_backward(low, up)
        return low, up, pivots

    @staticmethod
    def backward(ctx, gl, gu, _gpivots):
        low, up = ctx.saved_tensors
        m, n = f.value(low).shape[-2], f.value(up).shape[-1]
        if m == n:
            core = _lu_core(low, up, gl, gu)
        elif m > n:
            ga2 = _mT(SolveTriangular.run(up, _mT(gl[..., n:, :]), True, False))
            core = f.concatenate([_lu_core(low[..., :n, :], up, gl[..., :n, :], gu - _mT(low[..., n:, :]) @ ga2),
                                  ga2], -2)
        else:
            ga2 = SolveTriangular.run(_mT(low), gu[..., m:], True, True)
            core = f.concatenate([_lu_core(low, up[..., :m], gl - ga2 @ _mT(up[..., m:]), gu[..., :m]), ga2], -1)
        return _const(ctx.p, core) @ core


def lu(A, *, pivot=True):
    """P, L, U with A = P L U: P a permutation (partial pivoting), L unit lower (m, k), U upper (k, n)."""
    if not pivot:
        raise NotImplementedError("linalg.lu: pivot=False is for CUDA inputs only in PyTorch")
    a = _matrix("linalg.lu", A)
    low, up, pivots = Lu.apply(a)
    perm = _pivots_to_perm(pivots._data, a._data.shape[-2])
    return LUResult(Tensor._wrap(_perm_matrix(perm, a._data.dtype)), low, up)


def lu_factor(A, *, pivot=True):
    """The packed LU factors (L's strict lower triangle and U in one (m, n) matrix) and LAPACK's
    1-based int32 pivots (row i was swapped with row pivots[i] - 1)."""
    if not pivot:
        raise NotImplementedError("linalg.lu_factor: pivot=False is for CUDA inputs only in PyTorch")
    a = _matrix("linalg.lu_factor", A)
    low, up, pivots = Lu.apply(a)
    m, n = a._data.shape[-2:]
    from .shape import cat
    from .indexing import tril
    strict = tril(low, -1)
    if m > n:
        up = cat([up, Tensor._wrap(backend.xp_of(a._data).zeros(a._data.shape[:-2] + (m - n, n), a._data.dtype))], -2)
    elif m < n:
        strict = cat([strict, Tensor._wrap(backend.xp_of(a._data).zeros(a._data.shape[:-2] + (m, n - m),
                                                                        a._data.dtype))], -1)
    return LUFactorResult(strict + up, pivots)


def _pivots_to_perm(pivots, m):
    """LAPACK's sequential row swaps as a permutation: A[perm] = L U."""
    xp = backend.xp_of(pivots)
    batch = pivots.shape[:-1]
    perm = xp.broadcast_to(xp.arange(m), batch + (m,)).copy()
    for j in range(pivots.shape[-1]):
        p = pivots[..., j:j + 1].astype(np.int64) - 1
        pj, pp = perm[..., j].copy(), xp.take_along_axis(perm, p, -1)[..., 0]
        xp.put_along_axis(perm, p, pj[..., None], -1)
        perm[..., j] = pp
    return perm


def lu_solve(LU, pivots, B, *, left=True, adjoint=False) -> Tensor:
    """X with A X = B from A's :func:`lu_factor` (``adjoint``: A^T X = B; ``left=False``: X A = B),
    written with :func:`solve_triangular`, so gradients flow to LU and B."""
    lu_ = _square("linalg.lu_solve", LU)
    b = _matrix("linalg.lu_solve", B)
    piv = as_tensor(pivots, "linalg.lu_solve")
    n = lu_._data.shape[-1]
    if piv._data.shape[-1] != n or piv._data.dtype.kind not in "iu":
        raise ArgumentError(f"linalg.lu_solve: pivots must be integers of shape (..., {n}), got {piv._data.dtype} "
                         f"{piv._data.shape}")
    if not left:
        return _mT(lu_solve(lu_, piv, _mT(b), adjoint=not adjoint))
    if b._data.shape[-2] != n:
        raise ArgumentError(f"linalg.lu_solve: LU of shape {lu_._data.shape} and B of shape {b._data.shape} do not "
                         f"match (LU's columns must equal B's rows)")
    p = Tensor._wrap(_perm_matrix(_pivots_to_perm(piv._data, n), lu_._data.dtype))
    if adjoint:          # A^T = U^T L^T P^T:  X = P L^-T U^-T B
        y = solve_triangular(lu_.mT, b, upper=False)
        return p @ solve_triangular(lu_.mT, y, upper=True, unitriangular=True)
    y = solve_triangular(lu_, p.mT @ b, upper=False, unitriangular=True)
    return solve_triangular(lu_, y, upper=True)


# ----------------------------------------------------------------------------- compositions
def cond(A, p=None) -> Tensor:
    """The condition number of A in the norm ``p``: s_max / s_min for None or 2 (s_min / s_max for -2),
    ||A||_p ||A^-1||_p for 'fro', 'nuc', inf, -inf, 1, -1 (square invertible A)."""
    a = _matrix("linalg.cond", A)
    if p is None or p in (2, -2):
        s = svdvals(a)
        ratio = s[..., 0] / s[..., -1]
        return 1 / ratio if p == -2 else ratio
    from .linalg_extra import matrix_norm
    sq = _square("linalg.cond", a)
    if p == "nuc":
        return svdvals(sq).sum(-1) * svdvals(inv(sq)).sum(-1)
    return matrix_norm(sq, p) * matrix_norm(inv(sq), p)


def tensorinv(A, ind=2) -> Tensor:
    """The inverse of A for the tensor product over ``ind`` dims: A reshaped to
    (prod(shape[:ind]), prod(shape[ind:])), inverted, reshaped to shape[ind:] + shape[:ind]."""
    a = as_tensor(A, "linalg.tensorinv")
    if ind <= 0:
        raise ArgumentError(f"linalg.tensorinv: ind must be positive, got {ind}")
    head, tail = a._data.shape[:ind], a._data.shape[ind:]
    rows, cols = math.prod(head), math.prod(tail)
    if rows != cols:
        raise ArgumentError(f"linalg.tensorinv: prod(shape[:ind]) = {rows} must equal prod(shape[ind:]) = {cols} "
                         f"(shape {a._data.shape}, ind={ind})")
    return inv(a.reshape(rows, cols)).reshape(tail + head)


def tensorsolve(A, B, dims=None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B: A's ``dims`` moved to the end, A reshaped to
    (B.numel(), rest), solved, X of shape A.shape[B.ndim:]."""
    a = as_tensor(A, "linalg.tensorsolve")
    b = as_tensor(B, "linalg.tensorsolve")
    if dims is not None:
        dims = [d % a.ndim for d in dims]
        rest = [d for d in range(a.ndim) if d not in dims]
        a = a.permute(rest + dims)
    out_shape = a._data.shape[b.ndim:]
    rows, cols = b._data.size, math.prod(out_shape)
    if a._data.shape[:b.ndim] != b._data.shape or rows != cols:
        raise ArgumentError(f"linalg.tensorsolve: A of shape {a._data.shape} and B of shape {b._data.shape} do not "
                         f"match (A's leading dims must be B's shape and the rest hold as many elements)")
    return solve(a.reshape(rows, cols), b.reshape(rows)).reshape(out_shape)
