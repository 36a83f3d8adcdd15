"""Matrix functions and decompositions (``torch.linalg``): inv, det, slogdet, solve, cholesky,
eigh, with their classic matrix-calculus backwards.

Shape legend: A is (..., n, n), batched over the leading dims; B is (..., n, k) or (..., n).
Every backward is written once for arrays and Tensors with ``@``, ``swapaxes`` and the ops of
this file called through ``run`` (so differentiating a gradient again differentiates those
ops), which gives second derivatives with no extra code.

    inv:       Y = A^-1                    dA = -Y^T g Y^T
    det:       d = det A                   dA = g d A^-T
    slogdet:   (s, l) = (sign det, log|det|)  dA = g_l A^-T
    solve:     X = A^-1 B                  dB = A^-T g,  dA = -dB X^T
    cholesky:  A = L L^T                   dA = sym(L^-T Phi(L^T g) L^-1),  Phi: lower triangle, diagonal halved
    eigh:      A = V diag(w) V^T           dA = V (diag(g_w) + F o (V^T g_V)) V^T, symmetrised,
                                           F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import as_tensor

__all__ = ["inv", "det", "slogdet", "logdet", "solve", "cholesky", "eigh", "eigvalsh", "matrix_power"]

SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
EighResult = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def _mT(a):
    return a.swapaxes(-1, -2)


def _square(opname, input):
    a = as_tensor(input, opname)
    if a._data.dtype.kind != "f":
        raise TypeError(f"{opname}: expected a floating-point tensor, got {a._data.dtype}")
    if a._data.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise ArgumentError(f"{opname}: expected a square matrix or a batch of them (..., n, n), got shape "
                         f"{a._data.shape}")
    return a


def _lapack(opname, fn, *arrays):
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError as e:
        raise RuntimeError(f"{opname}: {e} (input shape {tuple(arrays[0].shape)})") from None


class Inv(Function):
    """Y = A^-1;  dA = -Y^T g Y^T"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        y = _lapack("linalg.inv", backend.xp_of(a).linalg.inv, a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        yT = _mT(y)
        return -(yT @ g @ yT)


class Det(Function):
    """d = det A;  dA = g d A^-T  (A invertible)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        d = backend.xp_of(a).linalg.det(a)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        scale = (g * d)[..., None, None]
        return scale * _mT(Inv.run(a))


class Slogdet(Function):
    """(s, l) = (sign det A, log|det A|);  dA = g_l A^-T  (the sign is piecewise constant)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        sign, logabs = backend.xp_of(a).linalg.slogdet(a)
        ctx.save_for_backward(a)
        return sign.astype(a.dtype), logabs.astype(a.dtype)

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        (a,) = ctx.saved_tensors
        if g_logabs is None:
            return None
        return g_logabs[..., None, None] * _mT(Inv.run(a))


class Solve(Function):
    """X = A^-1 B (B a batch of matrices);  dB = A^-T g,  dA = -dB X^T"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        x = _lapack("linalg.solve", backend.xp_of(a).linalg.solve, a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = Solve.run(_mT(a), g)
        return -(gb @ _mT(x)), gb


def _phi(a):
    """The lower triangle with its diagonal halved (a constant mask times ``a``)."""
    n = f.value(a).shape[-1]
    mask = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)
    return a * f.like(backend.xp_of(f.value(a)).asarray(mask, dtype=f.value(a).dtype), a)


class Cholesky(Function):
    """A = L L^T (L lower);  dA = sym(L^-T Phi(L^T g) L^-1),  sym(M) = (M + M^T) / 2"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        xp = backend.xp_of(a)
        try:
            low = xp.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise RuntimeError(f"linalg.cholesky: the input is not positive-definite (shape {tuple(a.shape)})") from None
        ctx.save_for_backward(low)
        return low

    @staticmethod
    def backward(ctx, g):
        (low,) = ctx.saved_tensors
        low_inv = Inv.run(low)
        m = _mT(low_inv) @ _phi(_mT(low) @ g) @ low_inv
        return (m + _mT(m)) / 2


class Eigh(Function):
    """A = V diag(w) V^T (A symmetric, w ascending);
    dA = sym(V (diag(g_w) + F o (V^T g_V)) V^T), F_ij = 1 / (w_j - w_i) (i != j), 0 on the diagonal"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, upper):
        w, v = backend.xp_of(a).linalg.eigh(a, UPLO="U" if upper else "L")
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        inner = 0
        if gv is not None:
            gap = w[..., None, :] - w[..., :, None]                    # gap_ij = w_j - w_i
            n = f.value(w).shape[-1]
            off = f.like(backend.xp_of(f.value(w)).asarray(1 - np.eye(n), dtype=f.value(w).dtype), w)
            safe = gap + (1 - off)                                      # 1 on the diagonal: no 0/0
            inner = (_mT(v) @ gv) * off / safe
        if gw is not None:
            inner = inner + _diag_embed(gw)
        m = v @ inner @ _mT(v)
        return (m + _mT(m)) / 2


def _diag_embed(w):
    """(..., n) -> (..., n, n) with w on the diagonal."""
    n = f.value(w).shape[-1]
    eye = f.like(backend.xp_of(f.value(w)).asarray(np.eye(n), dtype=f.value(w).dtype), w)
    return w[..., None] * eye


# ----------------------------------------------------------------------------- public functions
def inv(A) -> Tensor:
    """The inverse of a square matrix (batched); a clear error for a singular one."""
    return Inv.apply(_square("linalg.inv", A))


def det(A) -> Tensor:
    """The determinant of a square matrix (batched)."""
    return Det.apply(_square("linalg.det", A))


def slogdet(A):
    """(sign, log|det|) of a square matrix (batched): the determinant without overflow."""
    sign, logabs = Slogdet.apply(_square("linalg.slogdet", A))
    return SlogdetResult(sign, logabs)     # the sign is in the graph with a zero gradient, as PyTorch


def logdet(A) -> Tensor:
    """log det A: NaN where the determinant is negative, -inf where it is zero (as PyTorch)."""
    sign, logabs = slogdet(A)
    xp = backend.xp_of(sign._data)
    return logabs + Tensor._wrap(xp.where(sign._data < 0, xp.nan, 0.0).astype(sign._data.dtype))


def solve(A, B, *, left=True) -> Tensor:
    """X with A X = B (``left``) or X A = B; B a vector or a batch of them when it has one dim
    fewer than A and matches A's batch shape, as PyTorch."""
    a = _square("linalg.solve", A)
    b = as_tensor(B, "linalg.solve")
    if not left:
        return _mT(solve(_mT(a), _mT(b)))
    vector = b._data.ndim == 1 or (b._data.ndim == a._data.ndim - 1 and b._data.shape == a._data.shape[:-1])
    if vector:
        b = b.unsqueeze(-1)
    if b._data.shape[-2] != a._data.shape[-1]:
        raise ArgumentError(f"linalg.solve: A of shape {a._data.shape} and B of shape {tuple(B.shape)} do not match "
                         f"(A's columns must equal B's rows)")
    batch = np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
    a = a.expand(batch + a._data.shape[-2:]) if a._data.shape[:-2] != batch else a
    b = b.expand(batch + b._data.shape[-2:]) if b._data.shape[:-2] != batch else b
    x = Solve.apply(a, b)
    return x.squeeze(-1) if vector else x


def cholesky(A, *, upper=False) -> Tensor:
    """The lower Cholesky factor L of a symmetric positive-definite A = L L^T (L^T when ``upper``)."""
    low = Cholesky.apply(_square("linalg.cholesky", A))
    return _mT(low) if upper else low


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, read from its
    lower (``UPLO='L'``) or upper triangle; gradients need distinct eigenvalues."""
    if UPLO not in ("L", "U"):
        raise ArgumentError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    w, v = Eigh.apply(_square("linalg.eigh", A), upper=UPLO == "U")
    return EighResult(w, v)


def eigvalsh(A, UPLO="L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix."""
    return eigh(A, UPLO).eigenvalues


def matrix_power(A, n: int) -> Tensor:
    """A^n by repeated squaring (n < 0: the inverse's power; n = 0: the identity).  Integer
    matrices take n >= 0 (products only), as PyTorch's."""
    a = as_tensor(A, "linalg.matrix_power")
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg.matrix_power: n must be an integer, got {type(n).__name__}")
    if a._data.dtype.kind not in "iu" or n < 0:
        a = _square("linalg.matrix_power", a)
    elif a._data.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        _square("linalg.matrix_power", a.float())           # the same shape error as a float matrix's
    if n == 0:       # the identity, still a function of A (its gradient is zero), as PyTorch
        eye = backend.xp_of(a._data).eye(a._data.shape[-1], dtype=a._data.dtype)
        return a * 0 + Tensor._wrap(eye)
    if n < 0:
        a, n = inv(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result
