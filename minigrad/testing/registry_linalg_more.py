"""Registry entries for ops/linalg_more.py: SVD, QR, pseudo-inverse, least squares, matrix
exponential, triangular solves, LU, condition numbers, tensor inverses and solves.

Samples are well conditioned: SVD samples are built as U diag(s) V^T with singular values at
least 1 and 1/2 apart (plus a 1% drawn perturbation), so every perturbation gradcheck makes keeps
them distinct; square matrices for solves are diagonally dominant (LU samples permute their rows,
so that partial pivoting swaps rows and keeps its choices under perturbation).  Singular vectors
are defined up to sign: the SVD entries return U * U, Vh * Vh and the rank-one term u_1 v_1^T,
which are not.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg

from .registry import OpSpec, Sample, register


def _reg(name, fn, ref, sample, torch=None, **opts):
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _batch(d):
    return d.choice([(), (d.integers(1, 2),), (2, 1)])


def _orthogonal(d, batch, n):
    q, _ = np.linalg.qr(d.floats(batch + (n, n), "nonzero", dtype=np.float64) + 2 * np.eye(n))
    return q


def _distinct_sv(d, dtype, m=None, n=None, batch=None):
    """(..., m, n) with singular values >= 1, at least 1/2 apart."""
    m, n = m or d.integers(1, 4), n or d.integers(1, 4)
    batch = _batch(d) if batch is None else batch
    k = min(m, n)
    u, v = _orthogonal(d, batch, m)[..., :k], _orthogonal(d, batch, n)[..., :k]
    s = np.cumsum(d.floats(batch + (k,), "positive", dtype=np.float64) + 0.5, axis=-1)[..., ::-1] + 0.5
    a = (u * s[..., None, :]) @ np.swapaxes(v, -1, -2) + 0.01 * d.floats(batch + (m, n), dtype=np.float64)
    return a.astype(dtype)


def _dominant(d, dtype, n=None, batch=None):
    n = n or d.integers(1, 3)
    batch = _batch(d) if batch is None else batch
    return d.floats(batch + (n, n), dtype=dtype) + 3 * n * np.eye(n, dtype=dtype)


# ----------------------------------------------------------------------------- SVD
def _svd_sample(d, dtype):
    full = d.boolean()
    return Sample([_distinct_sv(d, dtype)], {"full_matrices": full})


def _invariants(u, s, vh, k):
    """Sign-invariant functions of the SVD: U*U, S, Vh*Vh (first k vectors) and u_1 v_1^T."""
    u, vh = u[..., :k], vh[..., :k, :]
    return u * u, s, vh * vh, u[..., :1] @ vh[..., :1, :]


def _mg_svd(a, full_matrices):
    u, s, vh = mg.linalg.svd(a, full_matrices=full_matrices)
    return _invariants(u, s, vh, s.shape[-1])


def _np_svd(a, full_matrices):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return _invariants(u, s, vh, s.shape[-1])


_reg("svd", _mg_svd, _np_svd, _svd_sample,
     lambda t, a, full_matrices: _invariants(*t.linalg.svd(a, full_matrices=full_matrices), min(a.shape[-2:])))
_reg("svd_reconstruct", lambda a: (lambda r: r.U @ (r.S[..., None] * r.Vh))(mg.linalg.svd(a, False)),
     lambda a: a, lambda d, dt: Sample([_distinct_sv(d, dt)]),
     lambda t, a: (lambda r: r.U @ (r.S[..., None] * r.Vh))(t.linalg.svd(a, full_matrices=False)), covers="svd")
_reg("svdvals", mg.linalg.svdvals, lambda a: np.linalg.svd(a, compute_uv=False),
     lambda d, dt: Sample([_distinct_sv(d, dt)]), lambda t, a: t.linalg.svdvals(a))


def _torch_svd_sample(d, dtype):
    return Sample([_distinct_sv(d, dtype)], {"some": d.boolean()})


def _mg_torch_svd(a, some):
    u, s, v = mg.svd(a, some=some)
    k = s.shape[-1]
    return u[..., :k] * u[..., :k], s, v[..., :k] * v[..., :k]


def _np_torch_svd(a, some):
    u, s, vh = np.linalg.svd(a, full_matrices=not some)
    v = np.swapaxes(vh, -1, -2)
    k = s.shape[-1]
    return u[..., :k] * u[..., :k], s, v[..., :k] * v[..., :k]


def _t_torch_svd(t, a, some):
    u, s, v = t.svd(a, some=some)
    k = s.shape[-1]
    return u[..., :k] * u[..., :k], s, v[..., :k] * v[..., :k]


_reg("torch_svd", _mg_torch_svd, _np_torch_svd, _torch_svd_sample, _t_torch_svd, covers="svd")


# ----------------------------------------------------------------------------- QR
def _qr_sample(d, dtype):
    m, n = d.integers(1, 4), d.integers(1, 4)
    # nonzero entries: where a column is already zero below the diagonal, LAPACK's Householder step is the
    # identity and the signs of Q's column and R's row flip as soon as it is perturbed
    a = d.floats(_batch(d) + (m, n), "nonzero", dtype=dtype) + 3 * max(m, n) * np.eye(m, n, dtype=dtype)
    return Sample([a], {"mode": "reduced" if m > n else d.choice(["reduced", "complete"])})


_reg("qr", lambda a, mode: tuple(mg.linalg.qr(a, mode)), lambda a, mode: tuple(np.linalg.qr(a, mode)), _qr_sample,
     lambda t, a, mode: tuple(t.linalg.qr(a, mode)))
_reg("qr_r", lambda a: mg.linalg.qr(a, "r").R, lambda a: np.linalg.qr(a, "r"),
     lambda d, dt: Sample([_qr_sample(d, dt).args[0]], constant={0}),
     lambda t, a: t.linalg.qr(a, "r").R, covers="qr")
# torch.qr is torch.linalg.qr's deprecated spelling: the cross-check calls the latter
_reg("torch_qr", lambda a: tuple(mg.qr(a)), lambda a: tuple(np.linalg.qr(a)),
     lambda d, dt: Sample([_qr_sample(d, dt).args[0]]), lambda t, a: tuple(t.linalg.qr(a)), covers="qr")


# ----------------------------------------------------------------------------- pinv, lstsq
def _np_pinv(a, atol=None, rtol=None, hermitian=False):
    if hermitian:
        a = a + np.swapaxes(a, -1, -2)
    if rtol is None:
        rtol = 0.0 if atol else np.finfo(a.dtype).eps * max(a.shape[-2:])
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    cutoff = np.maximum(atol or 0.0, rtol * s[..., :1])
    inv_s = np.where(s > cutoff, 1 / s, 0)
    return np.swapaxes(vh, -1, -2) @ (inv_s[..., :, None] * np.swapaxes(u, -1, -2))


def _pinv_sample(d, dtype):
    tol = d.choice([{}, {"rtol": 1e-10}, {"atol": 1e-8}])
    if d.boolean():
        return Sample([_dominant(d, dtype)], {"hermitian": True, **tol})
    return Sample([_distinct_sv(d, dtype)], {"hermitian": False, **tol})


def _mg_pinv(a, hermitian, **tol):
    return mg.linalg.pinv(a + a.mT if hermitian else a, hermitian=hermitian, **tol)


_reg("pinv", _mg_pinv, _np_pinv, _pinv_sample,
     lambda t, a, hermitian, **tol: t.linalg.pinv(a + a.mT if hermitian else a, hermitian=hermitian, **tol))
_reg("pinverse", lambda a: mg.pinverse(a), lambda a: _np_pinv(a, rtol=1e-15),
     lambda d, dt: Sample([_distinct_sv(d, dt)]), lambda t, a: t.pinverse(a), covers="pinv")


def _lstsq_sample(d, dtype):
    a = _distinct_sv(d, dtype)
    m = a.shape[-2]
    b = d.floats((m,) if d.boolean() else a.shape[:-2] + (m, d.integers(1, 2)), dtype=dtype)
    if b.ndim == 1 and a.ndim > 2:
        b = d.floats(a.shape[:-1], dtype=dtype)
    return Sample([a, b], {"driver": d.choice(["gelsy", "gelsd", "gels"])})


def _np_lstsq(a, b, driver):
    vector = b.ndim == a.ndim - 1
    bb = b[..., None] if vector else b
    batch = np.broadcast_shapes(a.shape[:-2], bb.shape[:-2])
    a_, b_ = np.broadcast_to(a, batch + a.shape[-2:]), np.broadcast_to(bb, batch + bb.shape[-2:])
    sols, res = [], []
    for i in np.ndindex(*batch):
        x, r, _, _ = np.linalg.lstsq(a_[i], b_[i], rcond=np.finfo(a.dtype).eps * max(a.shape[-2:]))
        sols.append(x)
        res.append(r)
    x = np.stack(sols).reshape(batch + sols[0].shape)
    m, n = a.shape[-2:]
    if driver != "gelsy" and m > n:
        r = np.stack(res).reshape(batch + res[0].shape)
    else:
        r = np.zeros((0,), a.dtype)
    return (x[..., 0] if vector else x), r.astype(a.dtype)


_reg("lstsq", lambda a, b, driver: tuple(mg.linalg.lstsq(a, b, driver=driver))[:2], _np_lstsq, _lstsq_sample,
     lambda t, a, b, driver: tuple(t.linalg.lstsq(a, b, driver=driver))[:2])


# ----------------------------------------------------------------------------- matrix_exp
def _np_expm(a):
    """exp(A) by its power series on A / 2^s (||A / 2^s||_1 <= 1/8, summed until the terms vanish in
    float64), squared s times: no eigenvectors, so as accurate for nearly defective samples."""
    a64 = a.astype(np.float64)
    norm = np.abs(a64).sum(-2).max() if a64.size else 0.0
    s = int(max(0, np.ceil(np.log2(norm * 8)))) if norm > 0.125 else 0
    x = a64 / 2.0 ** s
    term = np.broadcast_to(np.eye(a.shape[-1]), a.shape).copy()
    total = term.copy()
    for k in range(1, 40):
        term = term @ x / k
        total = total + term
    for _ in range(s):
        total = total @ total
    return total.astype(a.dtype)


def _expm_sample(d, dtype):
    n = d.integers(1, 3)
    a = _distinct_sv(d, np.float64, n, n) / 4
    return Sample([(a * d.choice([1.0, 3.0])).astype(dtype)])


# tolerances: the reference squares up to 6 times, minigrad's with another scaling, each squaring
# doubling the rounding error of the entries that cancel; the gradients' finite differences of entries
# near 4 (exp of norm ~1.5) carry relative errors near 1e-7 (a draw missed 1e-7 by 4%); the second
# derivatives' differences of first-order gradients missed an absolute 3.3e-8 by 3.4e-8 and 3.9e-8 on
# entries near 5e-3 (seed 3023853298), hence an absolute 1e-7 beside the relative 1e-6
_reg("matrix_exp", mg.linalg.matrix_exp, _np_expm, _expm_sample, lambda t, a: t.linalg.matrix_exp(a),
     atol=1e-10, rtol=1e-8, grad_rtol=1e-6, grad_atol=1e-7)
_reg("torch_matrix_exp", lambda a: a.matrix_exp(), _np_expm, _expm_sample, lambda t, a: t.matrix_exp(a),
     covers="matrix_exp", atol=1e-10, rtol=1e-8, grad_rtol=1e-6, grad_atol=1e-7)


# ----------------------------------------------------------------------------- triangular solves, LU
def _triangular_sample(d, dtype):
    a = _dominant(d, dtype)
    n = a.shape[-1]
    left = d.boolean()
    k = d.integers(1, 3)
    batch = d.choice([a.shape[:-2], (), (2,) + a.shape[:-2]])
    b = d.floats(batch + ((n, k) if left else (k, n)), dtype=dtype)
    return Sample([a, b], {"upper": d.boolean(), "left": left, "unitriangular": d.boolean()})


def _np_solve_triangular(a, b, upper, left, unitriangular):
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        n = a.shape[-1]
        t = t * (1 - np.eye(n)) + np.eye(n)
    if left:
        return np.linalg.solve(t, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


_reg("solve_triangular", mg.linalg.solve_triangular, _np_solve_triangular, _triangular_sample,
     lambda t, a, b, **kw: t.linalg.solve_triangular(a, b, **kw))


def _pivoted(d, dtype):
    """A diagonally dominant matrix with its rows permuted: partial pivoting swaps them back."""
    a = _dominant(d, dtype, d.integers(1, 4))
    return a[..., d.permutation(a.shape[-1]), :].copy()


def _np_lu(a):
    """P, L, U by Doolittle on A's rows in the order partial pivoting picks (the dominant entry)."""
    out_p, out_l, out_u = [], [], []
    flat = a.reshape((-1,) + a.shape[-2:])
    n = a.shape[-1]
    for m in flat:
        perm = list(np.argmax(np.abs(m), axis=0))           # the dominant entry of each column
        l_, u_ = np.eye(n), np.zeros((n, n))
        pa = m[perm]
        for i in range(n):
            u_[i, i:] = pa[i, i:] - l_[i, :i] @ u_[:i, i:]
            l_[i + 1:, i] = (pa[i + 1:, i] - l_[i + 1:, :i] @ u_[:i, i]) / u_[i, i]
        p = np.zeros((n, n))
        p[perm, np.arange(n)] = 1
        out_p.append(p)
        out_l.append(l_)
        out_u.append(u_)
    shape = a.shape
    return tuple(np.stack(x).reshape(shape).astype(a.dtype) for x in (out_p, out_l, out_u))


_reg("lu", lambda a: tuple(mg.linalg.lu(a)), _np_lu, lambda d, dt: Sample([_pivoted(d, dt)]),
     lambda t, a: tuple(t.linalg.lu(a)))
_reg("lu_factor", lambda a: mg.linalg.lu_factor(a).LU,
     lambda a: (lambda p, l_, u_: l_ - np.eye(a.shape[-1]) + u_)(*_np_lu(a)),
     lambda d, dt: Sample([_pivoted(d, dt)]), lambda t, a: t.linalg.lu_factor(a).LU)


def _lu_solve_sample(d, dtype):
    a = _pivoted(d, dtype)
    n = a.shape[-1]
    left = d.boolean()
    b = d.floats(a.shape[:-2] + ((n, 2) if left else (2, n)), dtype=dtype)
    return Sample([a, b], {"left": left, "adjoint": d.boolean()})


def _mg_lu_solve(a, b, left, adjoint):
    lu_, piv = mg.linalg.lu_factor(a)
    return mg.linalg.lu_solve(lu_, piv, b, left=left, adjoint=adjoint)


def _np_lu_solve(a, b, left, adjoint):
    a = np.swapaxes(a, -1, -2) if adjoint else a
    if left:
        return np.linalg.solve(a, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


def _t_lu_solve(t, a, b, left, adjoint):
    lu_, piv = t.linalg.lu_factor(a)
    return t.linalg.lu_solve(lu_, piv, b, left=left, adjoint=adjoint)


_reg("lu_solve", _mg_lu_solve, _np_lu_solve, _lu_solve_sample, _t_lu_solve)


# ----------------------------------------------------------------------------- compositions
def _cond_sample(d, dtype):
    n = d.integers(1, 3)
    return Sample([_distinct_sv(d, dtype, n, n)], {"p": d.choice([None, 2, -2, "fro", "nuc"])})


def _np_cond(a, p):
    if p in (None, 2, -2):
        s = np.linalg.svd(a, compute_uv=False)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    return np.linalg.norm(a, p, axis=(-2, -1)) * np.linalg.norm(np.linalg.inv(a), p, axis=(-2, -1))


def _t_cond(t, a, p):
    if p in (None, 2, -2):
        return t.linalg.cond(a, p)
    # PyTorch's cond edits its inv_ex result in place for these norms, which its backward then refuses
    return t.linalg.matrix_norm(a, p) * t.linalg.matrix_norm(t.linalg.inv(a), p)


_reg("cond", mg.linalg.cond, _np_cond, _cond_sample, _t_cond)


def _tensorinv_sample(d, dtype):
    shape, ind = d.choice([((2, 3, 6), 2), ((4, 2, 2), 1), ((2, 2, 2, 2), 2), ((3, 3), 1)])
    n = int(np.prod(shape[:ind]))
    return Sample([_dominant(d, dtype, n, ()).reshape(shape)], {"ind": ind})


_reg("tensorinv", mg.linalg.tensorinv, lambda a, ind: np.linalg.tensorinv(a, ind), _tensorinv_sample,
     lambda t, a, ind: t.linalg.tensorinv(a, ind))


def _tensorsolve_sample(d, dtype):
    shape, b_shape, dims = d.choice([((2, 3, 6), (2, 3), None), ((6, 2, 3), (2, 3), (0,)),
                                     ((4, 2, 2), (4,), None), ((2, 2, 4), (4,), (0, 1))])
    n = int(np.prod(b_shape))
    a = _dominant(d, dtype, n, ())
    if dims is None:
        a = a.reshape(shape)
    else:        # A's dims listed in ``dims`` come last in the dominant layout
        rest = [k for k in range(len(shape)) if k not in dims]
        order = rest + list(dims)
        a = np.moveaxis(a.reshape(tuple(shape[k] for k in order)), list(range(len(shape))), order)
    return Sample([a, d.floats(b_shape, dtype=dtype)], {"dims": dims})


_reg("tensorsolve", mg.linalg.tensorsolve, lambda a, b, dims: np.linalg.tensorsolve(a, b, dims),
     _tensorsolve_sample, lambda t, a, b, dims: t.linalg.tensorsolve(a, b, dims))
