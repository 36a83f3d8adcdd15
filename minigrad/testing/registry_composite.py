"""Registry entries for ops/composite.py: functions written with other differentiable ops.

Their gradients are those ops' own, so the entries test the composition (the right pieces,
in the right order, with PyTorch's conventions) through the same checks as any primitive.
Order statistics (quantile, mode, nanmedian, msort) draw distinct values: no ties.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

import minigrad as mg

from .registry import OpSpec, Sample, register


def _reg(name, fn, ref, sample, torch=None, **opts):
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _dim(d, ndim):
    return d.integers(-ndim, ndim - 1)


# ----------------------------------------------------------------------------- shapes
def _atleast_sample(d, dtype):
    return Sample([d.floats(d.shape(0, 4), dtype=dtype)])


for _n in (1, 2, 3):
    _reg(f"atleast_{_n}d", getattr(mg, f"atleast_{_n}d"), getattr(np, f"atleast_{_n}d"), _atleast_sample,
         (lambda n: lambda t, x: getattr(t, f"atleast_{n}d")(x))(_n))


def _broadcast_sample(d, dtype):
    shapes, _ = d.broadcast_shapes(d.integers(1, 3))
    return Sample([d.floats(s, dtype=dtype) for s in shapes])


_reg("broadcast_tensors", mg.broadcast_tensors, lambda *xs: tuple(np.broadcast_arrays(*xs)), _broadcast_sample,
     lambda t, *xs: t.broadcast_tensors(*xs))
_reg("ravel", mg.ravel, np.ravel, _atleast_sample, lambda t, x: t.ravel(x))


def _select_sample(d, dtype):
    shape = d.shape(1, 3)
    dim = _dim(d, len(shape))
    size = shape[dim]
    return Sample([d.floats(shape, dtype=dtype)], {"dim": dim, "index": d.integers(-size, size - 1)})


_reg("select", lambda x, dim, index: mg.select(x, dim, index), lambda x, dim, index: np.take(x, index, axis=dim),
     _select_sample, lambda t, x, dim, index: t.select(x, dim, index))


def _tensor_split_sample(d, dtype):
    shape = d.shape(1, 3, max_side=6)
    dim = _dim(d, len(shape))
    if d.boolean():
        sections = d.integers(1, 4)
    else:
        sections = sorted(d.integers(-shape[dim] - 1, shape[dim] + 1) for _ in range(d.integers(1, 3)))
    return Sample([d.floats(shape, dtype=dtype)], {"sections": sections, "dim": dim})


def _np_tensor_split(x, sections, dim):
    if isinstance(sections, int):
        return tuple(np.array_split(x, sections, axis=dim))
    size = x.shape[dim]
    cuts = [min(max(i + size if i < 0 else i, 0), size) for i in sections]
    bounds = [0] + cuts + [size]
    return tuple(np.take(x, range(a, max(a, b)), axis=dim) for a, b in zip(bounds[:-1], bounds[1:]))


_reg("tensor_split", lambda x, sections, dim: mg.tensor_split(x, sections, dim), _np_tensor_split,
     _tensor_split_sample, lambda t, x, sections, dim: t.tensor_split(x, sections, dim))


def _equal_split_sample(min_ndim, axis):
    def sample(d, dtype):
        shape = list(d.shape(min_ndim, 3))
        dim = axis(len(shape))
        n = d.integers(1, 3)
        shape[dim] = n * d.integers(1, 2)
        return Sample([d.floats(tuple(shape), dtype=dtype)], {"sections": n})
    return sample


_reg("hsplit", lambda x, sections: mg.hsplit(x, sections), lambda x, sections: tuple(np.hsplit(x, sections)),
     _equal_split_sample(1, lambda n: 0 if n == 1 else 1), lambda t, x, sections: t.hsplit(x, sections))
_reg("vsplit", lambda x, sections: mg.vsplit(x, sections), lambda x, sections: tuple(np.vsplit(x, sections)),
     _equal_split_sample(2, lambda n: 0), lambda t, x, sections: t.vsplit(x, sections))
_reg("dsplit", lambda x, sections: mg.dsplit(x, sections), lambda x, sections: tuple(np.dsplit(x, sections)),
     _equal_split_sample(3, lambda n: 2), lambda t, x, sections: t.dsplit(x, sections))


def _column_stack_sample(d, dtype):
    rows = d.integers(1, 3)
    shapes = [d.choice([(rows,), (rows, d.integers(1, 3))]) for _ in range(d.integers(1, 3))]
    return Sample([d.floats(s, dtype=dtype) for s in shapes])


_reg("column_stack", lambda *xs: mg.column_stack(xs), lambda *xs: np.column_stack(xs), _column_stack_sample,
     lambda t, *xs: t.column_stack(xs))


def _block_diag_sample(d, dtype):
    return Sample([d.floats(d.shape(0, 2, max_side=3), dtype=dtype) for _ in range(d.integers(1, 3))])


def _np_block_diag(*xs):
    blocks = [x.reshape(1, -1) if x.ndim < 2 else x for x in xs]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)), dtype=xs[0].dtype)
    r = c = 0
    for b in blocks:
        out[r:r + b.shape[0], c:c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


_reg("block_diag", mg.block_diag, _np_block_diag, _block_diag_sample, lambda t, *xs: t.block_diag(*xs))


def _vectors_sample(d, dtype):
    return Sample([d.floats((d.integers(1, 3),), dtype=dtype) for _ in range(d.integers(1, 3))])


def _np_cartesian(*xs):
    if len(xs) == 1:
        return xs[0]
    return np.array(list(itertools.product(*xs)), dtype=xs[0].dtype).reshape(-1, len(xs))


_reg("cartesian_prod", mg.cartesian_prod, _np_cartesian, _vectors_sample, lambda t, *xs: t.cartesian_prod(*xs))


def _combinations_sample(d, dtype):
    n = d.integers(1, 4)
    return Sample([d.floats((n,), dtype=dtype)], {"r": d.integers(1, min(n, 3)), "with_replacement": d.boolean()})


def _np_combinations(x, r, with_replacement):
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = [[x[i] for i in c] for c in pick(range(len(x)), r)]
    return np.array(rows, dtype=x.dtype).reshape(-1, r)


_reg("combinations", lambda x, r, with_replacement: mg.combinations(x, r, with_replacement), _np_combinations,
     _combinations_sample, lambda t, x, r, with_replacement: t.combinations(x, r, with_replacement))


def _diagflat_sample(d, dtype):
    return Sample([d.floats(d.shape(0, 2, max_side=3), dtype=dtype)], {"offset": d.integers(-2, 2)})


_reg("diagflat", lambda x, offset: mg.diagflat(x, offset), lambda x, offset: np.diagflat(x, offset),
     _diagflat_sample, lambda t, x, offset: t.diagflat(x, offset))


def _vander_sample(d, dtype):
    return Sample([d.floats((d.integers(1, 4),), dtype=dtype)], {"N": d.choice([None, 1, 2, 4]),
                                                                "increasing": d.boolean()})


_reg("vander", lambda x, N, increasing: mg.vander(x, N, increasing),
     lambda x, N, increasing: np.vander(x, N, increasing), _vander_sample,
     lambda t, x, N, increasing: _torch_vander(t, x, N, increasing))


def _torch_vander(t, x, N, increasing):
    """torch.vander's own backward trips over an in-place cumprod (torch 2.13): the same powers,
    written as a stack (tests/test_composite.py compares the forward with torch.vander itself)."""
    n = x.shape[0] if N is None else N
    out = t.stack([x ** k for k in range(n)], 1) if n else x.new_zeros((x.shape[0], 0))
    return out if increasing else out.flip(1)


# ----------------------------------------------------------------------------- differences and integrals
def _diff_sample(d, dtype):
    shape = d.shape(1, 3)
    dim = _dim(d, len(shape))
    edge = list(shape)
    edge[dim] = d.integers(1, 2)
    args = [d.floats(shape, dtype=dtype)]
    kwargs = {"n": d.integers(1, 2), "dim": dim, "prepend": None, "append": None}
    if d.boolean():
        kwargs["prepend"] = d.floats(tuple(edge), dtype=dtype)
    if d.boolean():
        kwargs["append"] = d.floats(tuple(edge), dtype=dtype)
    return Sample(args, kwargs)


def _as(t, v):
    return None if v is None else t.as_tensor(v)


_reg("diff", lambda x, n, dim, prepend, append: mg.diff(x, n, dim, _maybe(prepend), _maybe(append)),
     lambda x, n, dim, prepend, append: np.diff(x, n, dim, **{k: v for k, v in
                                                              (("prepend", prepend), ("append", append)) if v is not None}),
     _diff_sample, lambda t, x, n, dim, prepend, append: t.diff(x, n, dim, _as(t, prepend), _as(t, append)))


def _maybe(v):
    return None if v is None else mg.tensor(v)


def _trapezoid_sample(d, dtype):
    shape = d.shape(1, 3)
    dim = _dim(d, len(shape))
    kind = d.choice(["none", "dx", "x"])
    kwargs = {"dim": dim, "dx": None, "x": None}
    if kind == "dx":
        kwargs["dx"] = d.choice([0.5, 2.0])
    elif kind == "x":
        kwargs["x"] = np.cumsum(d.floats((shape[dim],), "positive", dtype=dtype))
    return Sample([d.floats(shape, dtype=dtype)], kwargs)


def _np_trapezoid(y, dim, dx, x, cumulative=False):
    y = np.moveaxis(y, dim, -1)
    step = np.diff(x) if x is not None else (1.0 if dx is None else dx)
    mid = (y[..., 1:] + y[..., :-1]) * step / 2
    out = np.cumsum(mid, -1) if cumulative else mid.sum(-1)
    return np.moveaxis(out, -1, dim) if cumulative else out


def _integral(fn):
    def call(y, dim, dx, x):
        return fn(y, _maybe(x), dx=dx, dim=dim) if x is not None else fn(y, dx=dx, dim=dim)
    return call


def _torch_integral(name):
    def call(t, y, dim, dx, x):
        fn = getattr(t, name)
        return fn(y, t.as_tensor(x), dim=dim) if x is not None else (fn(y, dx=dx, dim=dim) if dx else fn(y, dim=dim))
    return call


_reg("trapezoid", _integral(mg.trapezoid), _np_trapezoid, _trapezoid_sample, _torch_integral("trapezoid"))
_reg("cumulative_trapezoid", _integral(mg.cumulative_trapezoid),
     lambda y, dim, dx, x: _np_trapezoid(y, dim, dx, x, cumulative=True), _trapezoid_sample,
     _torch_integral("cumulative_trapezoid"))


# ----------------------------------------------------------------------------- statistics
def _quantile_sample(nan=False):
    def sample(d, dtype):
        shape = d.shape(0, 3)
        x = d.floats(shape, unique=True, dtype=dtype)
        # binary fractions: q (n - 1) is exact in float32 too, so the float64 reference picks the same ranks
        q = d.choice([0.0, 0.375, 0.5, 1.0, [0.125, 0.75]])
        # linear interpolation weights 0 and 1 are kinks of lerp's gradient in q only, not in x
        dim = None if not shape or d.boolean() else _dim(d, len(shape))
        if nan and x.size > 1 and (dim is None or shape[dim] > 1):
            # one NaN, never a whole slice of them (an all-NaN slice's value is NaN, its gradient a convention;
            # tests/test_composite.py checks that value)
            moved = np.moveaxis(x, 0 if dim is None else dim, -1).reshape(-1) if dim is not None else x.reshape(-1)
            at = d.integers(0, x.size - 1)
            if dim is not None:
                at -= at % shape[dim]            # the first entry of some slice along dim
                moved[at] = np.nan
                x = np.ascontiguousarray(np.moveaxis(moved.reshape(np.moveaxis(x, dim, -1).shape), -1, dim))
            else:
                moved[at] = np.nan
        return Sample([x], {"q": q, "dim": dim, "keepdim": d.boolean(),
                            "interpolation": d.choice(["linear", "lower", "higher", "midpoint", "nearest"])})
    return sample


def _np_quantile(fn):
    def ref(x, q, dim, keepdim, interpolation):
        return np.asarray(fn(x, q, axis=dim, keepdims=keepdim, method=interpolation)).astype(x.dtype)
    return ref


def _mg_quantile(fn):
    return lambda x, q, dim, keepdim, interpolation: fn(x, mg.tensor(q, dtype=x.dtype) if isinstance(q, list) else q,
                                                        dim, keepdim, interpolation=interpolation)


def _torch_quantile(name):
    def call(t, x, q, dim, keepdim, interpolation):
        q = t.tensor(q, dtype=x.dtype) if isinstance(q, list) else q
        return getattr(t, name)(x, q, dim, keepdim, interpolation=interpolation)
    return call


_reg("quantile", _mg_quantile(mg.quantile), _np_quantile(np.quantile), _quantile_sample(),
     _torch_quantile("quantile"))
_reg("nanquantile", _mg_quantile(mg.nanquantile), _np_quantile(np.nanquantile), _quantile_sample(nan=True),
     _torch_quantile("nanquantile"), allow_nonfinite=True)


def _cov_sample(d, dtype):
    shape = d.choice([(d.integers(2, 4),), (d.integers(1, 3), d.integers(2, 4))])
    n = shape[-1]
    kwargs = {"correction": d.choice([0, 1]), "fweights": None, "aweights": None}
    if d.boolean():
        kwargs["fweights"] = np.array([d.integers(1, 3) for _ in range(n)], dtype=np.int64)
    if d.boolean():
        kwargs["aweights"] = d.floats((n,), "positive", dtype=np.float64)
    return Sample([d.floats(shape, dtype=dtype)], kwargs)


def _np_cov(x, correction, fweights, aweights):
    return np.asarray(np.cov(x, ddof=correction, fweights=fweights, aweights=aweights)).astype(x.dtype)


_reg("cov", lambda x, correction, fweights, aweights: mg.cov(x, correction=correction, fweights=_maybe(fweights),
                                                            aweights=_maybe(aweights)),
     _np_cov, _cov_sample,
     lambda t, x, correction, fweights, aweights: t.cov(x, correction=correction, fweights=_as(t, fweights),
                                                       aweights=_as(t, aweights)))


def _corrcoef_sample(d, dtype):
    # distinct values: no row is constant (its correlation would be 0 / 0)
    return Sample([d.floats((d.integers(2, 3), d.integers(3, 5)), unique=True, dtype=dtype)])


_reg("corrcoef", mg.corrcoef, lambda x: np.corrcoef(x).astype(x.dtype), _corrcoef_sample, lambda t, x: t.corrcoef(x))


def _mode_sample(d, dtype):
    # distinct values: the mode is then the smallest, and finite differences see no ties
    # (repeated values, the mode's point, are compared with PyTorch in tests/test_composite.py)
    shape = d.shape(1, 3)
    return Sample([d.floats(shape, unique=True, dtype=dtype)], {"dim": _dim(d, len(shape)), "keepdim": d.boolean()})


def _np_mode(x, dim, keepdim):
    moved = np.moveaxis(x, dim, -1)
    values = np.empty(moved.shape[:-1], x.dtype)
    index = np.empty(moved.shape[:-1], np.int64)
    for pos in np.ndindex(*moved.shape[:-1]):
        row = moved[pos]
        vals, counts = np.unique(row, return_counts=True)
        values[pos] = vals[np.argmax(counts)]
        index[pos] = np.nonzero(row == values[pos])[0][-1]
    if keepdim:
        values, index = np.expand_dims(values, dim), np.expand_dims(index, dim)
    return values, index


_reg("mode", lambda x, dim, keepdim: tuple(mg.mode(x, dim, keepdim)), _np_mode, _mode_sample,
     lambda t, x, dim, keepdim: tuple(t.mode(x, dim, keepdim)))


def _nanmedian_sample(d, dtype):
    shape = d.shape(1, 3)
    x = d.floats(shape, unique=True, dtype=dtype)
    if x.size > 1 and d.boolean():
        x.reshape(-1)[d.integers(0, x.size - 1)] = np.nan
    return Sample([x], {"dim": _dim(d, len(shape)), "keepdim": d.boolean()})


def _np_nanmedian(x, dim, keepdim):
    moved = np.moveaxis(x, dim, -1)
    order = np.argsort(moved, axis=-1, kind="stable")
    count = (~np.isnan(moved)).sum(-1, keepdims=True)
    pos = np.where(count == 0, (moved.shape[-1] - 1) // 2, (count - 1) // 2)
    index = np.take_along_axis(order, pos, -1)
    values = np.take_along_axis(moved, index, -1)
    values, index = np.moveaxis(values, -1, dim), np.moveaxis(index, -1, dim)
    if not keepdim:
        values, index = values.squeeze(dim), index.squeeze(dim)
    return values, index


_reg("nanmedian", lambda x, dim, keepdim: tuple(mg.nanmedian(x, dim, keepdim)), _np_nanmedian, _nanmedian_sample,
     lambda t, x, dim, keepdim: tuple(t.nanmedian(x, dim, keepdim)), allow_nonfinite=True)
_reg("msort", mg.msort, lambda x: np.sort(x, axis=0),
     lambda d, dt: Sample([d.floats(d.shape(1, 3), unique=True, dtype=dt)]), lambda t, x: t.msort(x))


# ----------------------------------------------------------------------------- products
def _side(d):
    return d.integers(1, 4)


def _scales(d):
    return {"beta": d.choice([1, 0.5, 0]), "alpha": d.choice([1, -2.0])}


def _np_scaled(input, product, beta, alpha):
    return (product * alpha if beta == 0 else beta * input + alpha * product).astype(input.dtype)


_reg("vdot", mg.vdot, np.vdot, lambda d, dt: (lambda n: Sample([d.floats((n,), dtype=dt), d.floats((n,), dtype=dt)]))(
    _side(d)), lambda t, a, b: t.vdot(a, b))


def _addmv_sample(d, dtype):
    n, k = _side(d), _side(d)
    return Sample([d.floats(d.choice([(n,), (1,), ()]), dtype=dtype), d.floats((n, k), dtype=dtype),
                   d.floats((k,), dtype=dtype)], _scales(d))


_reg("addmv", lambda i, m, v, beta, alpha: mg.addmv(i, m, v, beta=beta, alpha=alpha),
     lambda i, m, v, beta, alpha: np.broadcast_to(_np_scaled(i, m @ v, beta, alpha), np.broadcast_shapes(i.shape, (m.shape[0],))),
     _addmv_sample, lambda t, i, m, v, beta, alpha: t.addmv(i, m, v, beta=beta, alpha=alpha))


def _addr_sample(d, dtype):
    n, m = _side(d), _side(d)
    return Sample([d.floats(d.choice([(n, m), (m,), ()]), dtype=dtype), d.floats((n,), dtype=dtype),
                   d.floats((m,), dtype=dtype)], _scales(d))


_reg("addr", lambda i, a, b, beta, alpha: mg.addr(i, a, b, beta=beta, alpha=alpha),
     lambda i, a, b, beta, alpha: np.broadcast_to(_np_scaled(i, np.outer(a, b), beta, alpha), (a.size, b.size)),
     _addr_sample, lambda t, i, a, b, beta, alpha: t.addr(i, a, b, beta=beta, alpha=alpha))


def _addbmm_sample(d, dtype):
    b, n, k, m = _side(d), _side(d), _side(d), _side(d)
    return Sample([d.floats(d.choice([(n, m), (m,)]), dtype=dtype), d.floats((b, n, k), dtype=dtype),
                   d.floats((b, k, m), dtype=dtype)], _scales(d))


_reg("addbmm", lambda i, x, y, beta, alpha: mg.addbmm(i, x, y, beta=beta, alpha=alpha),
     lambda i, x, y, beta, alpha: np.broadcast_to(_np_scaled(i, (x @ y).sum(0), beta, alpha),
                                                  (x.shape[1], y.shape[2])),
     _addbmm_sample, lambda t, i, x, y, beta, alpha: t.addbmm(i, x, y, beta=beta, alpha=alpha))


def _chain_sample(d, dtype):
    dims = [_side(d) for _ in range(d.integers(2, 5))]
    return Sample([d.floats((a, b), dtype=dtype) for a, b in zip(dims[:-1], dims[1:])])


_reg("chain_matmul", mg.chain_matmul, lambda *ms: np.linalg.multi_dot(ms) if len(ms) > 1 else ms[0], _chain_sample,
     lambda t, *ms: t.linalg.multi_dot(ms) if len(ms) > 1 else ms[0])


# ----------------------------------------------------------------------------- pointwise math
def _logit_sample(d, dtype):
    eps = d.choice([None, 0.05])
    x = np.asarray(d.floats(d.shape(), "unit", dtype=dtype) * 0.45 + 0.5, dtype)   # in (0.095, 0.905): off eps's clamp
    return Sample([x], {"eps": eps})


_reg("logit", lambda x, eps: mg.logit(x, eps), lambda x, eps: np.log(x / (1 - x)), _logit_sample,
     lambda t, x, eps: t.logit(x, eps))


def _float_power_sample(d, dtype):
    shapes, _ = d.broadcast_shapes(2)
    if d.boolean():
        return Sample([d.floats(shapes[0], "positive", dtype=dtype), d.choice([2, 0.5, -1.5])])
    # exponents off 0: PyTorch masks d/dx at exponent 0 exactly, which zeroes its d2/dx dy there
    return Sample([d.floats(shapes[0], "positive", dtype=dtype), d.floats(shapes[1], "nonzero", dtype=dtype)])


_reg("float_power", mg.float_power, lambda x, y: np.float_power(x, y), _float_power_sample,
     lambda t, x, y: t.float_power(x, y), out_dtype=np.float64)


def _fminmax_sample(d, dtype):
    shapes, _ = d.broadcast_shapes(2)
    return Sample([d.floats(shapes[0], "offgrid", dtype=dtype), d.floats(shapes[1], "grid", dtype=dtype)])


_reg("fmax", mg.fmax, np.fmax, _fminmax_sample, lambda t, a, b: t.fmax(a, b))
_reg("fmin", mg.fmin, np.fmin, _fminmax_sample, lambda t, a, b: t.fmin(a, b))


def _binary_sample(d, dtype):
    shapes, _ = d.broadcast_shapes(2)
    return Sample([d.floats(shapes[0], dtype=dtype), d.floats(shapes[1], dtype=dtype)])


_reg("logaddexp2", mg.logaddexp2, np.logaddexp2, _binary_sample, lambda t, a, b: t.logaddexp2(a, b))


def _ldexp_sample(d, dtype):
    # the exponent broadcasts to x's shape (PyTorch's ldexp mis-handles an x that broadcasts up)
    shape = d.shape()
    other = tuple(1 if d.boolean() else s for s in shape[d.integers(0, len(shape)):])
    exponents = np.array([d.integers(-3, 3) for _ in range(int(np.prod(other)))], np.int64).reshape(other)
    return Sample([d.floats(shape, dtype=dtype), exponents])


# torch.ldexp's backward raises 2 to an integer power in integer arithmetic (torch 2.13): 0 for
# negative exponents.  The reference is its forward's formula; tests/test_composite.py compares
# the forward with torch.ldexp itself.
_reg("ldexp", mg.ldexp, lambda x, e: (x * np.exp2(e)).astype(x.dtype), _ldexp_sample,
     lambda t, x, e: x * t.pow(2.0, e))


def _renorm_sample(d, dtype):
    shape = d.shape(2, 3)
    return Sample([d.floats(shape, "nonzero", dtype=dtype)], {"p": d.choice([1, 2, 3]), "dim": _dim(d, len(shape)),
                                                              "maxnorm": d.choice([0.3, 1.5])})


def _np_renorm(x, p, dim, maxnorm):
    others = tuple(i for i in range(x.ndim) if i != dim % x.ndim)
    norms = (np.abs(x) ** p).sum(axis=others, keepdims=True) ** (1 / p)
    return np.where(norms > maxnorm, x * (maxnorm / (norms + 1e-7)), x)


_reg("renorm", lambda x, p, dim, maxnorm: mg.renorm(x, p, dim, maxnorm), _np_renorm, _renorm_sample,
     lambda t, x, p, dim, maxnorm: t.renorm(x, p, dim, maxnorm))


def _mvlgamma_sample(d, dtype):
    p = d.integers(1, 3)
    return Sample([np.asarray(d.floats(d.shape(), "positive", dtype=dtype) + (p - 1) / 2, dtype)], {"p": p})


def _np_mvlgamma(x, p):
    lg = np.vectorize(math.lgamma)
    return (sum(lg(x - j / 2) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi)).astype(x.dtype)


_reg("mvlgamma", lambda x, p: mg.mvlgamma(x, p), _np_mvlgamma, _mvlgamma_sample, lambda t, x, p: t.mvlgamma(x, p))
_reg("positive", mg.positive, np.positive, _atleast_sample, lambda t, x: t.positive(x))
_reg("sgn", mg.sgn, np.sign, lambda d, dt: Sample([d.floats(d.shape(), "nonzero", dtype=dt)]), lambda t, x: t.sign(x))   # torch's sgn backward gives a ZeroTensor
