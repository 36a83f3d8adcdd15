"""Registry entries for the scatters that embed a tensor into another (ops/indexing.py):
select_scatter, slice_scatter, diagonal_scatter, index_put and put.

References write with NumPy's own indexing.  Overwriting samples draw distinct target positions
(the result must not depend on which write wins); the ``accumulate`` ones draw repeats on purpose.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg

from .registry import NON_DIFFERENTIABLE, OpSpec, Sample, register

NON_DIFFERENTIABLE.update({"frexp": "an exponent and a mantissa (PyTorch has no gradient for it)",
                           "histogram": "returns counts"})


def _ti(t, a):
    return t.as_tensor(np.asarray(a))


def _dim(d, ndim):
    return d.integers(-ndim, ndim - 1)


def _select_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = _dim(d, len(shape))
    n = shape[dim]
    index = d.integers(-n, n - 1)
    src_shape = shape[:dim % len(shape)] + shape[dim % len(shape) + 1:]
    return Sample([d.floats(shape, dtype=dtype), d.floats(src_shape, dtype=dtype)], {"dim": dim, "index": index})


def _np_select_scatter(x, src, dim, index):
    out = x.copy()
    out[(slice(None),) * (dim % x.ndim) + (index,)] = src
    return out


register(OpSpec("select_scatter", lambda x, s, dim, index: mg.select_scatter(x, s, dim, index), _np_select_scatter,
                _select_sample, lambda t, x, s, dim, index: t.select_scatter(x, s, dim, index)))


def _slice_sample(d, dtype):
    shape = d.shape(min_dims=1)
    dim = _dim(d, len(shape))
    n = shape[dim]
    start, end, step = d.choice([None, d.integers(-n, n - 1)]), d.choice([None, d.integers(-n, n)]), d.integers(1, 3)
    if len(range(n)[slice(start, end, step)]) == 0:
        start = end = None
    src_shape = np.zeros(shape)[(slice(None),) * (dim % len(shape)) + (slice(start, end, step),)].shape
    return Sample([d.floats(shape, dtype=dtype), d.floats(src_shape, dtype=dtype)],
                  {"dim": dim, "start": start, "end": end, "step": step})


def _np_slice_scatter(x, src, dim, start, end, step):
    out = x.copy()
    out[(slice(None),) * (dim % x.ndim) + (slice(start, end, step),)] = src
    return out


register(OpSpec("slice_scatter", lambda x, s, **kw: mg.slice_scatter(x, s, **kw), _np_slice_scatter, _slice_sample,
                lambda t, x, s, **kw: t.slice_scatter(x, s, **kw)))


def _diagonal_sample(d, dtype):
    shape = d.shape(min_dims=2)
    a = _dim(d, len(shape))
    b = d.choice([k for k in range(len(shape)) if k != a % len(shape)])
    offset = d.integers(-(shape[a] - 1), shape[b] - 1)
    src_shape = np.diagonal(np.zeros(shape), offset, a, b).shape
    return Sample([d.floats(shape, dtype=dtype), d.floats(src_shape, dtype=dtype)],
                  {"offset": offset, "dim1": a, "dim2": b})


def _np_diagonal_scatter(x, src, offset, dim1, dim2):
    out = x.copy()
    pos = np.diagonal(np.arange(x.size).reshape(x.shape), offset, dim1, dim2)
    out.reshape(-1)[pos] = src
    return out


register(OpSpec("diagonal_scatter", lambda x, s, **kw: mg.diagonal_scatter(x, s, **kw), _np_diagonal_scatter,
                _diagonal_sample, lambda t, x, s, **kw: t.diagonal_scatter(x, s, **kw)))


def _index_put_sample(accumulate):
    def sample(d, dtype):
        shape = d.shape(min_dims=1)
        k = min(len(shape), d.integers(1, 2))            # index the first k dims with k integer arrays
        lead = int(np.prod(shape[:k]))
        count = d.integers(1, 4) if accumulate else d.integers(1, lead)
        flat = [d.integers(0, lead - 1) for _ in range(count)] if accumulate else d.permutation(lead)[:count]
        indices = np.unravel_index(np.asarray(flat, dtype=np.int64), shape[:k])
        indices = tuple(np.where(d.boolean(), i - n, i).astype(np.int64) for i, n in zip(indices, shape[:k]))
        vshape = d.choice([(count,) + shape[k:], shape[k:]])
        return Sample([d.floats(shape, dtype=dtype), d.floats(vshape, dtype=dtype)], {"indices": indices})
    return sample


def _np_index_put(accumulate):
    def ref(x, v, indices):
        out = x.copy()
        if accumulate:
            np.add.at(out, indices, np.broadcast_to(v, x[indices].shape))
        else:
            out[indices] = v
        return out
    return ref


for _acc in (False, True):
    register(OpSpec("index_put" + ("_accumulate" if _acc else ""),
                    lambda x, v, indices, _acc=_acc: mg.index_put(x, tuple(mg.tensor(i) for i in indices), v, _acc),
                    _np_index_put(_acc), _index_put_sample(_acc),
                    lambda t, x, v, indices, _acc=_acc: t.index_put(x, tuple(_ti(t, i) for i in indices), v, _acc),
                    covers="index_put"))


def _put_sample(accumulate):
    def sample(d, dtype):
        shape = d.shape()
        n = int(np.prod(shape))
        count = d.integers(1, 4) if accumulate else d.integers(1, n)
        flat = [d.integers(-n, n - 1) for _ in range(count)] if accumulate else \
            [p - n if d.boolean() else p for p in d.permutation(n)[:count]]
        ishape = d.choice([(count,), (1, count)])
        return Sample([d.floats(shape, dtype=dtype), d.floats(ishape, dtype=dtype)],
                      {"index": np.asarray(flat, dtype=np.int64).reshape(ishape)})
    return sample


def _np_put(accumulate):
    def ref(x, s, index):
        out = x.copy().reshape(-1)
        if accumulate:
            np.add.at(out, index.reshape(-1), s.reshape(-1))
        else:
            out[index.reshape(-1)] = s.reshape(-1)
        return out.reshape(x.shape)
    return ref


for _acc in (False, True):
    register(OpSpec("put" + ("_accumulate" if _acc else ""),
                    lambda x, s, index, _acc=_acc: x.put(mg.tensor(index), s, accumulate=_acc),
                    _np_put(_acc), _put_sample(_acc),
                    lambda t, x, s, index, _acc=_acc: t.put(x, _ti(t, index), s, accumulate=_acc),
                    covers="put"))
del _acc
