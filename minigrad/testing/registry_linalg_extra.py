"""Registry entries for ops/linalg_extra.py: products, einsum, kron, cross, cdist and norms."""
from __future__ import annotations

import numpy as np

import minigrad as mg

from .registry import OpSpec, Sample, register


def _reg(name, fn, ref, sample, torch=None, **opts):
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _side(d):
    return d.integers(1, 4)


_reg("mm", mg.mm, np.matmul, lambda d, dt: (lambda n, k, m: Sample([d.floats((n, k), dtype=dt),
                                                                     d.floats((k, m), dtype=dt)]))(_side(d), _side(d), _side(d)),
     lambda t, a, b: t.mm(a, b))
_reg("bmm", lambda a, b: a.bmm(b), np.matmul,
     lambda d, dt: (lambda b, n, k, m: Sample([d.floats((b, n, k), dtype=dt), d.floats((b, k, m), dtype=dt)]))(
         _side(d), _side(d), _side(d), _side(d)), lambda t, a, b: t.bmm(a, b))
_reg("mv", mg.mv, np.matmul, lambda d, dt: (lambda n, k: Sample([d.floats((n, k), dtype=dt), d.floats((k,), dtype=dt)]))(
    _side(d), _side(d)), lambda t, a, b: t.mv(a, b))
_reg("dot", lambda a, b: a.dot(b), np.dot, lambda d, dt: (lambda n: Sample([d.floats((n,), dtype=dt),
                                                                          d.floats((n,), dtype=dt)]))(_side(d)),
     lambda t, a, b: t.dot(a, b))


def _inner_sample(d, dtype):
    k = _side(d)
    sa, sb = d.shape(0, 2), d.shape(0, 2)
    if not sa or not sb or d.boolean():
        return Sample([d.floats(sa + (k,) if sa or d.boolean() else (), dtype=dtype), d.floats(sb + (k,), dtype=dtype)])
    return Sample([d.floats(sa + (k,), dtype=dtype), d.floats(sb + (k,), dtype=dtype)])


_reg("inner", mg.inner, np.inner, _inner_sample, lambda t, a, b: t.inner(a, b))
_reg("outer", lambda a, b: a.outer(b), np.outer,
     lambda d, dt: Sample([d.floats((_side(d),), dtype=dt), d.floats((_side(d),), dtype=dt)]),
     lambda t, a, b: t.outer(a, b))


def _addmm_sample(batch):
    def sample(d, dtype):
        n, k, m = _side(d), _side(d), _side(d)
        lead = (_side(d),) if batch else ()
        out = lead + (n, m)
        s = tuple(1 if d.integers(0, 3) == 0 else v for v in out[d.integers(0, len(out)):])
        return Sample([d.floats(s, dtype=dtype), d.floats(lead + (n, k), dtype=dtype), d.floats(lead + (k, m), dtype=dtype)],
                      {"beta": d.choice([1, 0.5, 0]), "alpha": d.choice([1, -2.0])})
    return sample


def _np_addmm(x, a, b, beta, alpha):
    return (beta * x if beta else 0) + alpha * (a @ b)


_reg("addmm", lambda x, a, b, **kw: mg.addmm(x, a, b, **kw), _np_addmm, _addmm_sample(False),
     lambda t, x, a, b, **kw: t.addmm(x, a, b, **kw))
_reg("baddbmm", lambda x, a, b, **kw: x.baddbmm(a, b, **kw), _np_addmm, _addmm_sample(True),
     lambda t, x, a, b, **kw: t.baddbmm(x, a, b, **kw))


def _tensordot_sample(d, dtype):
    sa = d.shape(1, 3)
    n = d.integers(0, len(sa))
    if d.boolean():
        sb = sa[len(sa) - n:] + d.shape(0, 2)
        return Sample([d.floats(sa, dtype=dtype), d.floats(sb, dtype=dtype)], {"dims": n})
    da = d.permutation(len(sa))[:n]
    sb_free = d.shape(0, 2)
    order = d.permutation(n + len(sb_free))
    sizes = [sa[i] for i in da] + list(sb_free)
    sb = tuple(sizes[o] for o in order)
    db = [order.index(j) for j in range(n)]
    return Sample([d.floats(sa, dtype=dtype), d.floats(sb, dtype=dtype)], {"dims": (da, db)})


_reg("tensordot", lambda a, b, dims: mg.tensordot(a, b, dims), lambda a, b, dims: np.tensordot(a, b, dims),
     _tensordot_sample, lambda t, a, b, dims: t.tensordot(a, b, dims))

EINSUMS = ["ij,jk->ik", "bij,bjk->bik", "ii->i", "ii", "ij->", "ij->j", "i,j", "i,i->", "ij,ij->ij",
           "...ij,...jk->...ik", "...i,i->...", "bii->b", "ijk->kji", "ij,jk,kl->il", "iij->j", "abc,cd->abd"]


def _einsum_sample(d, dtype):
    eq = d.choice(EINSUMS)
    sizes = {c: _side(d) for c in "abcdijkl"}
    ins = eq.split("->")[0].split(",")
    lead = d.shape(0, 2)
    arrays = []
    for s in ins:
        shape = tuple(sizes[c] for c in s.replace("...", ""))
        if "..." in s:
            ell = tuple(1 if d.integers(0, 3) == 0 else v for v in lead[d.integers(0, len(lead)):])
            shape = ell + shape
        arrays.append(d.floats(shape, dtype=dtype))
    return Sample(arrays, {"equation": eq})


_reg("einsum", lambda *ops, equation: mg.einsum(equation, *ops), lambda *ops, equation: np.einsum(equation, *ops),
     _einsum_sample, lambda t, *ops, equation: t.einsum(equation, *ops))


def _kron_sample(d, dtype):
    return Sample([d.floats(d.shape(0, 2, max_side=3), dtype=dtype), d.floats(d.shape(0, 2, max_side=3), dtype=dtype)])


_reg("kron", mg.kron, np.kron, _kron_sample, lambda t, a, b: t.kron(a, b))


def _cross_sample(d, dtype):
    (sa, sb), shape = d.broadcast_shapes(2, 1, 2)
    if not shape:
        shape = (3,)
    dim = d.integers(0, len(shape) - 1)
    sa = [1] * (len(shape) - len(sa)) + list(sa)
    sb = [1] * (len(shape) - len(sb)) + list(sb)
    sa[dim] = sb[dim] = 3
    return Sample([d.floats(tuple(sa), dtype=dtype), d.floats(tuple(sb), dtype=dtype)], {"dim": dim - len(shape)})


_reg("cross", lambda a, b, dim: mg.cross(a, b, dim), lambda a, b, dim: np.cross(a, b, axis=dim), _cross_sample,
     lambda t, a, b, dim: t.linalg.cross(a, b, dim=dim))
_reg("linalg_cross", lambda a, b, dim: mg.linalg.cross(a, b, dim=dim), lambda a, b, dim: np.cross(a, b, axis=dim),
     _cross_sample, lambda t, a, b, dim: t.linalg.cross(a, b, dim=dim), covers="cross")


def _cdist_sample(d, dtype):
    lead = d.shape(0, 1)
    m = _side(d)
    p = d.choice([1.0, 2.0, 3.0, np.inf])
    if p == np.inf:
        m = 1                                   # one coordinate: no ties between |differences|
    sa, sb = lead + (_side(d), m), lead + (_side(d), m)
    na = int(np.prod(sa))
    both = d.floats((na + int(np.prod(sb)),), unique=True, dtype=dtype)      # no zero distances, no ties
    return Sample([both[:na].reshape(sa), both[na:].reshape(sb)], {"p": p})


def _np_cdist(a, b, p):
    diff = np.abs(a[..., :, None, :] - b[..., None, :, :])
    return diff.max(-1) if p == np.inf else (diff ** p).sum(-1) ** (1 / p)


def _torch_cdist(t, a, b, p):
    # t.cdist itself has no second derivative in PyTorch: the same distances through vector_norm
    if p == 2.0:
        assert np.allclose(t.cdist(a, b, p).detach().numpy(), _np_cdist(a.detach().numpy(), b.detach().numpy(), p))
    return t.linalg.vector_norm(a[..., :, None, :] - b[..., None, :, :], p, -1)


_reg("cdist", lambda a, b, p: mg.cdist(a, b, p), _np_cdist, _cdist_sample, _torch_cdist)


def _vector_norm_sample(d, dtype):
    shape = d.shape(0, 3)
    ord_ = d.choice([2, 1, 3, 0.5, np.inf, -np.inf])
    dim = None if not shape or d.boolean() else (_dim_or_dims(d, len(shape)))
    x = d.floats(shape, "nonzero", dtype=dtype)
    if ord_ in (np.inf, -np.inf):               # distinct magnitudes, random signs: no ties in |x|
        u = d.floats(shape, unique=True, dtype=dtype)
        x = np.asarray((u - (u.min() if u.size else 0) + 0.25) * np.sign(x)).astype(dtype)
    return Sample([x],
                  {"ord": ord_, "dim": dim, "keepdim": d.boolean()})


def _dim_or_dims(d, n):
    if d.boolean():
        return d.integers(-n, n - 1)
    return tuple(k for k in range(n) if d.boolean()) or (0,)


def _np_vector_norm(x, ord, dim, keepdim):
    axis = dim if dim is None or isinstance(dim, tuple) else (dim,)
    a = np.abs(x)
    if ord == np.inf:
        return a.max(axis=axis, keepdims=keepdim)
    if ord == -np.inf:
        return a.min(axis=axis, keepdims=keepdim)
    return (a ** ord).sum(axis=axis, keepdims=keepdim) ** (1 / ord)


_reg("vector_norm", lambda x, **kw: mg.linalg.vector_norm(x, **kw), _np_vector_norm, _vector_norm_sample,
     lambda t, x, **kw: t.linalg.vector_norm(x, **kw))
_reg("tensor_norm", lambda x, **kw: x.norm(kw["ord"], kw["dim"], kw["keepdim"]), _np_vector_norm, _vector_norm_sample,
     lambda t, x, **kw: x.norm(kw["ord"], kw["dim"], kw["keepdim"]), covers="vector_norm")


def _matrix_norm_sample(d, dtype):
    shape = d.shape(2, 3)
    ord_ = d.choice(["fro", 1, -1, np.inf, -np.inf])
    a, b = d.permutation(len(shape))[:2]
    x = d.floats(shape, "nonzero", dtype=dtype)
    if ord_ != "fro":       # max/min over the slices' |x| sums: set the slices apart, so no two sums tie
        inner, outer = (a, b) if ord_ in (1, -1) else (b, a)
        gap = 2.0 * shape[inner] + 1                 # more than a slice's sum can vary (|x| in [0.25, 2])
        offsets = (np.arange(shape[outer]) * gap).reshape([-1 if k == outer else 1 for k in range(len(shape))])
        x = (np.sign(x) * (np.abs(x) + offsets)).astype(dtype)
    return Sample([np.asarray(x)], {"ord": ord_, "dim": (a, b), "keepdim": d.boolean()})


def _np_matrix_norm(x, ord, dim, keepdim):
    r, c = dim
    if ord == "fro":
        return np.sqrt((x * x).sum(axis=(r, c), keepdims=keepdim))
    inner_dim, outer_dim = (r, c) if ord in (1, -1) else (c, r)
    s = np.abs(x).sum(axis=inner_dim, keepdims=True)
    out = s.max(axis=outer_dim, keepdims=True) if ord > 0 else s.min(axis=outer_dim, keepdims=True)
    return out if keepdim else np.squeeze(out, (r, c))


_reg("matrix_norm", lambda x, **kw: mg.linalg.matrix_norm(x, **kw), _np_matrix_norm, _matrix_norm_sample,
     lambda t, x, **kw: t.linalg.matrix_norm(x, **kw))


def _spectral_norm_sample(d, dtype):
    """The singular-value norms (2, -2, 'nuc') on matrices whose singular values are apart, over a random pair
    of dims (ties would make max/min s non-differentiable)."""
    from .registry_linalg_more import _distinct_sv
    x = _distinct_sv(d, dtype, batch=d.choice([(), (2,)]))
    a, b = (int(k) for k in d.permutation(x.ndim)[:2])
    x = np.moveaxis(x, (-2, -1), (a, b))
    return Sample([np.ascontiguousarray(x)], {"ord": d.choice([2, -2, "nuc"]), "dim": (a, b), "keepdim": d.boolean()})


_reg("matrix_norm_svd", lambda x, **kw: mg.linalg.matrix_norm(x, **kw),
     lambda x, ord, dim, keepdim: np.linalg.norm(x, ord, axis=dim, keepdims=keepdim), _spectral_norm_sample,
     lambda t, x, **kw: t.linalg.matrix_norm(x, **kw), covers="matrix_norm")


def _norm_sample(d, dtype):
    if d.boolean():
        s = _matrix_norm_sample(d, dtype)
        return s
    s = _vector_norm_sample(d, dtype)
    if isinstance(s.kwargs["dim"], tuple) and len(s.kwargs["dim"]) != 1:
        s.kwargs["dim"] = s.kwargs["dim"][0] if s.kwargs["dim"] else None
    if s.kwargs["dim"] is None and s.args[0].ndim != 1:
        s.kwargs["ord"] = None
    return s


def _np_norm(x, ord, dim, keepdim):
    if isinstance(dim, tuple) and len(dim) == 2:
        return _np_matrix_norm(x, ord, dim, keepdim)
    return _np_vector_norm(x, 2 if ord is None else ord, dim, keepdim)


_reg("linalg_norm", lambda x, **kw: mg.linalg.norm(x, **kw), _np_norm, _norm_sample,
     lambda t, x, **kw: t.linalg.norm(x, **kw), covers="norm")
