"""Registry entries for ops/indexing.py: gathers, scatters and rearrangements by position.

References are written with NumPy's own functions or explicit loops over the index, never
with minigrad's flat-position trick.  Scatters that overwrite draw distinct target positions
(so the result does not depend on which write wins); reductions draw tie-free values."""
from __future__ import annotations

import numpy as np

import minigrad as mg

from .registry import OpSpec, Sample, register


def _reg(name, fn, ref, sample, torch=None, **opts):
    return register(OpSpec(name, fn, ref, sample, torch, **opts))


def _ti(t, a):
    return t.as_tensor(np.asarray(a))


def _dim(d, ndim):
    return d.integers(-ndim, ndim - 1)


# ----------------------------------------------------------------------------- gather and scatter
def _gather_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = _dim(d, len(shape))
    ishape = tuple(d.integers(1, 4) if k == dim % len(shape) else d.integers(1, s) for k, s in enumerate(shape))
    idx = np.mod(d.index_array(ishape, shape[dim]), shape[dim])
    return Sample([d.floats(shape, dtype=dtype)], {"dim": dim, "index": idx})


def _np_gather(x, dim, index):
    dim %= x.ndim
    part = x[tuple(slice(None) if k == dim else slice(0, n) for k, n in enumerate(index.shape))]
    return np.take_along_axis(part, index, axis=dim)


_reg("gather", lambda x, dim, index: mg.gather(x, dim, index), _np_gather, _gather_sample,
     lambda t, x, dim, index: t.gather(x, dim, _ti(t, index)))
_reg("gather_method", lambda x, dim, index: x.gather(dim, mg.tensor(index)), _np_gather, _gather_sample,
     lambda t, x, dim, index: x.gather(dim, _ti(t, index)), covers="gather")


def _scatter_index(d, shape, dim, distinct):
    """An index for scatter into ``shape`` along ``dim``; with ``distinct``, no position twice."""
    dim %= len(shape)
    m = d.integers(1, shape[dim]) if distinct else d.integers(1, 4)
    ishape = tuple(m if k == dim else d.integers(1, s) for k, s in enumerate(shape))
    idx = np.zeros(ishape, dtype=np.int64)
    for col in np.ndindex(*(s for k, s in enumerate(ishape) if k != dim)):
        col = list(col)
        values = d.permutation(shape[dim])[:m] if distinct else [d.integers(0, shape[dim] - 1) for _ in range(m)]
        for j, v in enumerate(values):
            idx[tuple(col[:dim] + [j] + col[dim:])] = v
    return idx


def _scatter_sample(distinct, reduce=None):
    """``reduce``: None for scatter and scatter_add, else scatter_reduce's mode."""
    def sample(d, dtype):
        shape = d.shape(min_dims=1)
        dim = _dim(d, len(shape))
        idx = _scatter_index(d, shape, dim, distinct)
        sshape = tuple(s + d.integers(0, 1) for s in idx.shape)
        kw = {"dim": dim, "index": idx}
        if reduce:
            kw["reduce"] = reduce
            kw["include_self"] = d.boolean()
            n, m = int(np.prod(shape)), int(np.prod(sshape))
            if kw["reduce"] == "prod":
                both = d.floats((n + m,), "nonzero", dtype=dtype)
            else:
                both = d.floats((n + m,), unique=True, dtype=dtype)
            return Sample([both[:n].reshape(shape), both[n:].reshape(sshape)], kw)
        return Sample([d.floats(shape, dtype=dtype), d.floats(sshape, dtype=dtype)], kw)
    return sample


def _cut(src, index):
    """src cut to index's shape: PyTorch's scatter backward assumes they match."""
    return src[tuple(slice(0, n) for n in index.shape)]


def _np_scatter(x, src, dim, index, reduce="set", include_self=True):
    dim %= x.ndim
    out = x.astype(np.float64).copy()
    groups = {}
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        groups.setdefault(tuple(target), []).append(src[pos])
    for target, values in groups.items():
        own = [out[target]] if include_self else []
        if reduce == "set":
            out[target] = values[-1]
        elif reduce == "sum":
            out[target] = sum(own + values)
        elif reduce == "prod":
            out[target] = np.prod(own + values)
        elif reduce == "mean":
            out[target] = np.mean(own + values)
        elif reduce == "amax":
            out[target] = max(own + values)
        elif reduce == "amin":
            out[target] = min(own + values)
    return out


_reg("scatter", lambda x, src, dim, index: mg.scatter(x, dim, index, src),
     lambda x, src, dim, index: _np_scatter(x, src, dim, index), _scatter_sample(True),
     lambda t, x, src, dim, index: t.scatter(x, dim, _ti(t, index), _cut(src, index)))
_reg("scatter_value", lambda x, dim, index: x.scatter(dim, mg.tensor(index), value=1.5),
     lambda x, dim, index: _np_scatter(x, np.full(index.shape, 1.5), dim, index),
     lambda d, dt: (lambda s: Sample(s.args[:1], s.kwargs))(_scatter_sample(False)(d, dt)),
     lambda t, x, dim, index: x.scatter(dim, _ti(t, index), 1.5), covers="scatter")
_reg("scatter_add", lambda x, src, dim, index: x.scatter_add(dim, index, src),
     lambda x, src, dim, index: _np_scatter(x, src, dim, index, "sum"), _scatter_sample(False),
     lambda t, x, src, dim, index: x.scatter_add(dim, _ti(t, index), _cut(src, index)))
for _mode in ("sum", "prod", "mean", "amax", "amin"):     # one entry per mode: each always drawn
    _reg(f"scatter_reduce_{_mode}", lambda x, src, **kw: mg.scatter_reduce(x, kw["dim"], kw["index"], src, kw["reduce"],
                                                                          include_self=kw["include_self"]),
         lambda x, src, **kw: _np_scatter(x, src, **kw), _scatter_sample(False, reduce=_mode),
         lambda t, x, src, **kw: x.scatter_reduce(kw["dim"], _ti(t, kw["index"]), _cut(src, kw["index"]),
                                                  kw["reduce"], include_self=kw["include_self"]),
         grad_rtol=2e-3, covers="scatter_reduce")


# ----------------------------------------------------------------------------- index_* and masked_*
def _index_dim_sample(distinct, value=False):
    def sample(d, dtype):
        shape = d.shape(min_dims=1)
        dim = _dim(d, len(shape))
        n = shape[dim]
        idx = np.array(d.permutation(n)[:d.integers(1, n)] if distinct else
                       [d.integers(-n, n - 1) for _ in range(d.integers(1, 4))], dtype=np.int64)
        args = [d.floats(shape, dtype=dtype)]
        if not value:
            sshape = list(shape)
            sshape[dim] = len(idx)
            args.append(d.floats(tuple(sshape), dtype=dtype))
        return Sample(args, {"dim": dim, "index": idx})
    return sample


def _np_index_add(x, src, dim, index, alpha=1.0):
    out = np.moveaxis(x.astype(np.float64).copy(), dim, 0)
    s = np.moveaxis(src, dim, 0)
    for i, j in enumerate(index):
        out[j] += alpha * s[i]
    return np.moveaxis(out, 0, dim)


def _np_index_copy(x, src, dim, index):
    out = np.moveaxis(x.astype(np.float64).copy(), dim, 0)
    out[index] = np.moveaxis(src, dim, 0)
    return np.moveaxis(out, 0, dim)


def _np_index_fill(x, dim, index, value):
    out = np.moveaxis(x.astype(np.float64).copy(), dim, 0)
    out[index] = value
    return np.moveaxis(out, 0, dim)


_reg("index_add", lambda x, s, dim, index: x.index_add(dim, index, s, alpha=-0.5),
     lambda x, s, dim, index: _np_index_add(x, s, dim, index, -0.5), _index_dim_sample(False),
     lambda t, x, s, dim, index: x.index_add(dim, _ti(t, index % x.shape[dim]), s, alpha=-0.5))
_reg("index_copy", lambda x, s, dim, index: mg.index_copy(x, dim, index, s), _np_index_copy, _index_dim_sample(True),
     lambda t, x, s, dim, index: x.index_copy(dim, _ti(t, index), s))
_reg("index_fill", lambda x, dim, index: x.index_fill(dim, index, 0.75),
     lambda x, dim, index: _np_index_fill(x, dim, index, 0.75), _index_dim_sample(False, value=True),
     lambda t, x, dim, index: x.index_fill(dim, _ti(t, index % x.shape[dim]), 0.75))


def _masked_sample(d, dtype):
    (sm,), shape = d.broadcast_shapes(1)
    return Sample([d.floats(shape, dtype=dtype)], {"mask": d.mask(sm)})


def _masked_fill_value_sample(d, dtype):
    s = _masked_sample(d, dtype)
    return Sample(s.args + [d.floats((), dtype=dtype)], s.kwargs)


_reg("masked_fill", lambda x, mask: x.masked_fill(mg.tensor(mask), -1.25), lambda x, mask: np.where(mask, -1.25, x),
     _masked_sample, lambda t, x, mask: x.masked_fill(_ti(t, mask), -1.25))
_reg("masked_fill_tensor", lambda x, v, mask: mg.masked_fill(x, mask, v), lambda x, v, mask: np.where(mask, v, x),
     _masked_fill_value_sample, lambda t, x, v, mask: x.masked_fill(_ti(t, mask), v), covers="masked_fill")


def _masked_select_sample(d, dtype):
    (sx, sm), _ = d.broadcast_shapes(2)
    return Sample([d.floats(sx, dtype=dtype)], {"mask": d.mask(sm)})


def _np_masked_select(x, mask):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]


_reg("masked_select", lambda x, mask: mg.masked_select(x, mask), _np_masked_select, _masked_select_sample,
     lambda t, x, mask: t.masked_select(x, _ti(t, mask)))


def _masked_scatter_sample(d, dtype):
    s = _masked_sample(d, dtype)
    n = int(np.prod(s.args[0].shape))
    return Sample(s.args + [d.floats((n + d.integers(0, 2),), dtype=dtype)], s.kwargs)


def _np_masked_scatter(x, src, mask):
    out = x.astype(np.float64).copy()
    m = np.broadcast_to(mask, x.shape)
    out[m] = src[:int(m.sum())]
    return out


_reg("masked_scatter", lambda x, s, mask: x.masked_scatter(mg.tensor(mask), s), _np_masked_scatter,
     _masked_scatter_sample, lambda t, x, s, mask: x.masked_scatter(_ti(t, mask), s))


def _take_sample(d, dtype):
    shape = d.shape()
    n = int(np.prod(shape))
    return Sample([d.floats(shape, dtype=dtype)], {"index": d.index_array(d.shape(max_dims=2), n)})


_reg("take", lambda x, index: mg.take(x, index), lambda x, index: np.take(x.reshape(-1), index), _take_sample,
     lambda t, x, index: t.take(x, _ti(t, index)))


def _take_along_sample(d, dtype):
    if d.boolean():
        shape = d.shape()
        n = int(np.prod(shape))
        return Sample([d.floats(shape, dtype=dtype)], {"indices": np.mod(d.index_array(d.shape(max_dims=2), n), n),
                                                      "dim": None})
    (sx, si), _ = d.broadcast_shapes(2, min_dims=1)
    sx, si = list(sx), list(si)
    sx = [1] * (max(len(sx), len(si)) - len(sx)) + sx
    si = [1] * (len(sx) - len(si)) + si
    if not sx:
        sx, si = [2], [1]
    dim = _dim(d, len(sx))
    si[dim] = d.integers(1, 4)
    return Sample([d.floats(tuple(sx), dtype=dtype)],
                  {"indices": np.mod(d.index_array(tuple(si), sx[dim]), sx[dim]), "dim": dim})


def _np_take_along(x, indices, dim):
    if dim is None:
        return np.take(x.reshape(-1), indices.reshape(-1))
    xs, js = list(x.shape), list(indices.shape)
    xs[dim] = js[dim] = 1
    common = list(np.broadcast_shapes(tuple(xs), tuple(js)))
    xb = np.broadcast_to(x, tuple(common[:dim % x.ndim] + [x.shape[dim]] + common[dim % x.ndim + 1:]))
    ib = np.broadcast_to(indices, tuple(common[:dim % x.ndim] + [indices.shape[dim]] + common[dim % x.ndim + 1:]))
    return np.take_along_axis(xb, ib, axis=dim)


_reg("take_along_dim", lambda x, indices, dim: x.take_along_dim(mg.tensor(indices), dim), _np_take_along,
     _take_along_sample, lambda t, x, indices, dim: t.take_along_dim(x, _ti(t, indices), dim))


# ----------------------------------------------------------------------------- rearrangements
def _narrow_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = _dim(d, len(shape))
    n = shape[dim]
    start = d.integers(0, n - 1)
    length = d.integers(0, n - start)
    return Sample([d.floats(shape, dtype=dtype)], {"dim": dim, "start": start - n if d.boolean() else start,
                                                   "length": length})


def _np_narrow(x, dim, start, length):
    start %= x.shape[dim]
    return np.take(x, np.arange(start, start + length), axis=dim)


_reg("narrow", lambda x, **kw: x.narrow(**kw), _np_narrow, _narrow_sample,
     lambda t, x, **kw: x.narrow(**kw))


def _dim_sample(d, dtype):
    shape = d.shape(min_dims=1)
    return Sample([d.floats(shape, dtype=dtype)], {"dim": _dim(d, len(shape))})


_reg("unbind", lambda x, dim: x.unbind(dim), lambda x, dim: tuple(np.moveaxis(x, dim, 0)), _dim_sample,
     lambda t, x, dim: t.unbind(x, dim))


def _flip_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dims = [k - len(shape) if d.boolean() else k for k in range(len(shape)) if d.boolean()]
    return Sample([d.floats(shape, dtype=dtype)], {"dims": dims})


_reg("flip", lambda x, dims: mg.flip(x, dims), lambda x, dims: np.flip(x, tuple(dims)) if dims else x, _flip_sample,
     lambda t, x, dims: t.flip(x, dims))
_reg("flip_method", lambda x, dims: x.flip(*dims), lambda x, dims: np.flip(x, tuple(dims)) if dims else x,
     _flip_sample, lambda t, x, dims: x.flip(dims), covers="flip")
_reg("fliplr", mg.fliplr, np.fliplr, lambda d, dt: Sample([d.floats(d.shape(min_dims=2), dtype=dt)]),
     lambda t, x: t.fliplr(x))
_reg("flipud", lambda x: x.flipud(), np.flipud, lambda d, dt: Sample([d.floats(d.shape(min_dims=1), dtype=dt)]),
     lambda t, x: t.flipud(x))


def _roll_sample(d, dtype):
    shape = d.shape(min_dims=1)
    if d.boolean():
        return Sample([d.floats(shape, dtype=dtype)], {"shifts": d.integers(-5, 5), "dims": None})
    dims = tuple(sorted({_dim(d, len(shape)) % len(shape) for _ in range(d.integers(1, 2))}))
    return Sample([d.floats(shape, dtype=dtype)], {"shifts": tuple(d.integers(-5, 5) for _ in dims), "dims": dims})


_reg("roll", lambda x, shifts, dims: x.roll(shifts, dims), lambda x, shifts, dims: np.roll(x, shifts, dims),
     _roll_sample, lambda t, x, shifts, dims: t.roll(x, shifts, dims))


def _rot90_sample(d, dtype):
    shape = d.shape(min_dims=2)
    a, b = d.permutation(len(shape))[:2]
    return Sample([d.floats(shape, dtype=dtype)], {"k": d.integers(-5, 5), "dims": (a, b)})


_reg("rot90", lambda x, k, dims: mg.rot90(x, k, dims), lambda x, k, dims: np.rot90(x, k, dims), _rot90_sample,
     lambda t, x, k, dims: t.rot90(x, k, dims))


def _tile_sample(d, dtype):
    shape = d.shape()
    return Sample([d.floats(shape, dtype=dtype)], {"dims": tuple(d.integers(0, 3) for _ in range(d.integers(0, 3)))})


_reg("tile", lambda x, dims: mg.tile(x, dims), lambda x, dims: np.tile(x, dims) if dims else x, _tile_sample,
     lambda t, x, dims: t.tile(x, dims))


def _repeat_sample(d, dtype):
    shape = d.shape()
    sizes = tuple(d.integers(1, 3) for _ in range(max(1, len(shape) + d.integers(0, 1))))
    return Sample([d.floats(shape, dtype=dtype)], {"sizes": sizes})


_reg("repeat", lambda x, sizes: x.repeat(*sizes), lambda x, sizes: np.tile(x, sizes) if sizes else x, _repeat_sample,
     lambda t, x, sizes: x.repeat(*sizes))


def _repeat_interleave_sample(d, dtype):
    shape = d.shape(min_dims=1)
    if d.boolean():
        return Sample([d.floats(shape, dtype=dtype)], {"repeats": d.integers(0, 3), "dim": None})
    dim = _dim(d, len(shape))
    reps = np.array([d.integers(0, 3) for _ in range(shape[dim])], dtype=np.int64)
    return Sample([d.floats(shape, dtype=dtype)], {"repeats": reps if d.boolean() else int(reps[0]), "dim": dim})


_reg("repeat_interleave", lambda x, repeats, dim: x.repeat_interleave(repeats, dim),
     lambda x, repeats, dim: np.repeat(x, repeats, dim), _repeat_interleave_sample,
     lambda t, x, repeats, dim: t.repeat_interleave(x, _ti(t, repeats) if isinstance(repeats, np.ndarray)
                                                    else repeats, dim))


def _triangle_sample(d, dtype):
    return Sample([d.floats(d.shape(min_dims=2), dtype=dtype)], {"diagonal": d.integers(-3, 3)})


_reg("tril", lambda x, diagonal: mg.tril(x, diagonal), lambda x, diagonal: np.tril(x, diagonal), _triangle_sample,
     lambda t, x, diagonal: t.tril(x, diagonal))
_reg("triu", lambda x, diagonal: x.triu(diagonal), lambda x, diagonal: np.triu(x, diagonal), _triangle_sample,
     lambda t, x, diagonal: t.triu(x, diagonal))


def _diag_sample(d, dtype):
    return Sample([d.floats(d.shape(min_dims=1, max_dims=2), dtype=dtype)], {"diagonal": d.integers(-2, 2)})


_reg("diag", lambda x, diagonal: mg.diag(x, diagonal), lambda x, diagonal: np.diag(x, diagonal), _diag_sample,
     lambda t, x, diagonal: t.diag(x, diagonal))


def _diagonal_sample(d, dtype):
    shape = d.shape(min_dims=2)
    a, b = d.permutation(len(shape))[:2]
    return Sample([d.floats(shape, dtype=dtype)], {"offset": d.integers(-2, 2), "dim1": a - len(shape) * d.integers(0, 1),
                                                   "dim2": b})


_reg("diagonal", lambda x, **kw: x.diagonal(**kw),
     lambda x, offset, dim1, dim2: np.diagonal(x, offset, dim1 % x.ndim, dim2), _diagonal_sample,
     lambda t, x, **kw: t.diagonal(x, **kw))


def _diag_embed_sample(d, dtype):
    shape = d.shape(min_dims=1)
    a, b = d.permutation(len(shape) + 1)[:2]
    return Sample([d.floats(shape, dtype=dtype)], {"offset": d.integers(-2, 2), "dim1": a, "dim2": b})


def _np_diag_embed(x, offset, dim1, dim2):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n))
    rows = np.arange(x.shape[-1]) + max(-offset, 0)
    cols = np.arange(x.shape[-1]) + max(offset, 0)
    out[..., rows, cols] = x
    nd = out.ndim
    rest = [k for k in range(nd) if k not in (dim1, dim2)]
    perm = [None] * nd
    for k, r in zip(rest, range(nd - 2)):
        perm[k] = r
    perm[dim1], perm[dim2] = nd - 2, nd - 1
    return out.transpose(perm)


_reg("diag_embed", lambda x, **kw: mg.diag_embed(x, **kw), _np_diag_embed, _diag_embed_sample,
     lambda t, x, **kw: t.diag_embed(x, **kw))
_reg("trace", lambda x: x.trace(), np.trace, lambda d, dt: Sample([d.floats(d.shape(2, 2), dtype=dt)]),
     lambda t, x: t.trace(x))


def _two_dims_sample(d, dtype):
    shape = d.shape(min_dims=1)
    return Sample([d.floats(shape, dtype=dtype)], {"a": _dim(d, len(shape)), "b": _dim(d, len(shape))})


_reg("swapaxes", lambda x, a, b: mg.swapaxes(x, a, b), lambda x, a, b: np.swapaxes(x, a, b), _two_dims_sample,
     lambda t, x, a, b: t.swapaxes(x, a, b))
_reg("swapdims", lambda x, a, b: x.swapdims(a, b), lambda x, a, b: np.swapaxes(x, a, b), _two_dims_sample,
     lambda t, x, a, b: t.swapdims(x, a, b))
_reg("t", mg.t, lambda x: x.T, lambda d, dt: Sample([d.floats(d.shape(max_dims=2), dtype=dt)]),
     lambda t, x: t.t(x))


def _movedim_sample(d, dtype):
    shape = d.shape(min_dims=1)
    n = d.integers(1, len(shape))
    src, dst = d.permutation(len(shape))[:n], d.permutation(len(shape))[:n]
    if n == 1 and d.boolean():
        return Sample([d.floats(shape, dtype=dtype)], {"source": src[0] - len(shape), "destination": dst[0]})
    return Sample([d.floats(shape, dtype=dtype)], {"source": tuple(src), "destination": tuple(dst)})


_reg("movedim", lambda x, source, destination: x.movedim(source, destination), np.moveaxis, _movedim_sample,
     lambda t, x, source, destination: t.movedim(x, source, destination))
_reg("moveaxis", lambda x, source, destination: mg.moveaxis(x, source, destination), np.moveaxis, _movedim_sample,
     lambda t, x, source, destination: t.moveaxis(x, source, destination))


def _unflatten_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = _dim(d, len(shape))
    n = shape[dim]
    sizes = [f for f in (1, 2, 3, 4) if n % f == 0]
    a = d.choice(sizes)
    parts = [a, n // a]
    if d.boolean():
        parts[d.integers(0, 1)] = -1
    return Sample([d.floats(shape, dtype=dtype)], {"dim": dim, "sizes": tuple(parts)})


def _np_unflatten(x, dim, sizes):
    dim %= x.ndim
    sizes = tuple(x.shape[dim] // int(np.prod([s for s in sizes if s != -1])) if s == -1 else s for s in sizes)
    return x.reshape(x.shape[:dim] + sizes + x.shape[dim + 1:])


_reg("unflatten", lambda x, dim, sizes: x.unflatten(dim, sizes), _np_unflatten, _unflatten_sample,
     lambda t, x, dim, sizes: x.unflatten(dim, sizes))


# ----------------------------------------------------------------------------- stacking and grids
def _stack_sample(kind):
    def sample(d, dtype):
        n = d.integers(1, 3)
        ndim = d.integers(0, 3)
        if kind == "v":
            base = d.shape(ndim, ndim)
            if ndim <= 1:
                return Sample([d.floats(base, dtype=dtype) for _ in range(n)])
            return Sample([d.floats((d.integers(1, 3),) + base[1:], dtype=dtype) for _ in range(n)])
        if kind == "h":
            base = d.shape(ndim, ndim)
            if ndim == 0:
                return Sample([d.floats((), dtype=dtype) for _ in range(n)])
            if ndim == 1:
                return Sample([d.floats((d.integers(1, 3),), dtype=dtype) for _ in range(n)])
            return Sample([d.floats(base[:1] + (d.integers(1, 3),) + base[2:], dtype=dtype) for _ in range(n)])
        base = d.shape(ndim, ndim)
        if ndim <= 2:
            return Sample([d.floats(base, dtype=dtype) for _ in range(n)])
        return Sample([d.floats(base[:2] + (d.integers(1, 3),), dtype=dtype) for _ in range(n)])
    return sample


_reg("vstack", lambda *xs: mg.vstack(xs), lambda *xs: np.vstack(xs), _stack_sample("v"), lambda t, *xs: t.vstack(xs))
_reg("hstack", lambda *xs: mg.hstack(list(xs)), lambda *xs: np.hstack(xs), _stack_sample("h"),
     lambda t, *xs: t.hstack(xs))
_reg("dstack", lambda *xs: mg.dstack(xs), lambda *xs: np.dstack(xs), _stack_sample("d"), lambda t, *xs: t.dstack(xs))


def _meshgrid_sample(d, dtype):
    n = d.integers(1, 3)
    return Sample([d.floats((d.integers(1, 4),), dtype=dtype) for _ in range(n)], {"indexing": d.choice(["ij", "xy"])})


_reg("meshgrid", lambda *xs, indexing: mg.meshgrid(*xs, indexing=indexing),
     lambda *xs, indexing: tuple(np.meshgrid(*xs, indexing=indexing)), _meshgrid_sample,
     lambda t, *xs, indexing: t.meshgrid(*xs, indexing=indexing))


# ----------------------------------------------------------------------------- sorting (ops/sorting.py)
def _sort_sample(d, dtype):
    shape = d.shape()
    return Sample([d.floats(shape, unique=True, dtype=dtype)],
                  {"dim": _dim(d, len(shape)) if shape else 0, "descending": d.boolean()})


def _np_sort(x, dim, descending):
    if x.ndim == 0:
        return x, np.zeros((), dtype=np.int64)
    order = np.argsort(-x if descending else x, axis=dim)
    return np.take_along_axis(x, order, axis=dim), order


_reg("sort", lambda x, **kw: mg.sort(x, **kw), _np_sort, _sort_sample, lambda t, x, **kw: tuple(t.sort(x, **kw)))
_reg("sort_method", lambda x, **kw: x.sort(**kw), _np_sort, _sort_sample, lambda t, x, **kw: tuple(x.sort(**kw)),
     covers="sort")


def _topk_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = _dim(d, len(shape))
    return Sample([d.floats(shape, unique=True, dtype=dtype)],
                  {"k": d.integers(0, shape[dim]), "dim": dim, "largest": d.boolean()})


def _np_topk(x, k, dim, largest):
    order = np.argsort(-x if largest else x, axis=dim)
    order = np.take(order, np.arange(k), axis=dim)
    return np.take_along_axis(x, order, axis=dim), order


_reg("topk", lambda x, **kw: x.topk(**kw), _np_topk, _topk_sample, lambda t, x, **kw: tuple(t.topk(x, **kw)))


def _kth_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = _dim(d, len(shape))
    return Sample([d.floats(shape, unique=True, dtype=dtype)],
                  {"k": d.integers(1, shape[dim]), "dim": dim, "keepdim": d.boolean()})


def _np_kth(x, k, dim, keepdim):
    order = np.take(np.argsort(x, axis=dim), [k - 1], axis=dim)
    values = np.take_along_axis(x, order, axis=dim)
    return (values, order) if keepdim else (np.squeeze(values, dim), np.squeeze(order, dim))


_reg("kthvalue", lambda x, **kw: mg.kthvalue(x, **kw), _np_kth, _kth_sample,
     lambda t, x, **kw: tuple(t.kthvalue(x, **kw)))


# ----------------------------------------------------------------------------- PyTorch's indexing rule
def _mixed_index_sample(d, dtype):
    """Integers, slices, None, lists and integer arrays mixed, with at least one integer and
    one array: where PyTorch's dimension order differs from NumPy's."""
    shape = d.shape(min_dims=2, max_dims=4)
    ishape = d.shape(max_dims=2)
    kinds = [d.choice(["int", "slice", "array", "list"]) for _ in shape]
    list_len = d.integers(1, 3)
    a, b = d.permutation(len(shape))[:2]
    kinds[a], kinds[b] = "int", d.choice(["array", "list"])
    parts = []
    for n, kind in zip(shape, kinds):
        if kind == "int":
            parts.append(d.integers(-n, n - 1))
        elif kind == "slice":
            parts.append(slice(d.choice([None, d.integers(0, n - 1)]), d.choice([None, d.integers(0, n)]),
                               d.choice([None, 1, 2])))
        elif kind == "array":
            parts.append(d.index_array(ishape, n))
        else:
            parts.append(d.index_array(ishape[-1:] or (list_len,), n).tolist())
    if d.boolean():
        parts.insert(d.integers(0, len(parts)), None)
    if d.boolean() and len(parts) > 2 and parts[-1] is not None and not isinstance(parts[-1], (list, np.ndarray)):
        parts[-1] = Ellipsis if d.boolean() else parts[-1]
    return Sample([d.floats(shape, dtype=dtype)], {"index": tuple(parts)})


def _np_torch_index(x, index):
    """x[index] as PyTorch: apply the integers first (each removes its dim), then the rest."""
    arrays = [np.asarray(p) if isinstance(p, list) else p for p in index]
    arrays = [int(p) if isinstance(p, np.ndarray) and p.ndim == 0 else p for p in arrays]   # 0-d: an int
    n_explicit = sum(1 for p in arrays if p is not None and p is not Ellipsis)
    expanded = []
    for p in arrays:
        if p is Ellipsis:
            expanded.extend([slice(None)] * (x.ndim - n_explicit))
        else:
            expanded.append(p)
    if not any(p is Ellipsis for p in arrays):
        expanded.extend([slice(None)] * (x.ndim - n_explicit))
    dim, rest = 0, []
    for p in expanded:
        if isinstance(p, int):
            x = np.take(x, p, axis=dim)
        elif p is None:
            rest.append(p)
        else:
            rest.append(p)
            dim += 1
    return x[tuple(rest)]


def _torch_mixed(t, x, index):
    return x[tuple(t.as_tensor(p) if isinstance(p, np.ndarray) else p for p in index)]


_reg("getitem_mixed", lambda x, index: x[index], _np_torch_index, _mixed_index_sample, _torch_mixed,
     covers="getitem")
