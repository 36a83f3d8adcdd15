"""Gathers, scatters and rearrangements by position: gather/scatter and their variants,
masked and index_* ops, take, flip/roll/rot90, repeat/tile, triangles and diagonals, stacking
helpers and meshgrid.

Almost every op here moves elements without arithmetic.  Each one computes, once and as a
constant, the *flat position* in the input of every output element (by applying the same
rearrangement to ``arange(numel).reshape(shape)``), and then runs one of two Functions:

* ``Take``:    out = x.flat[pos]                      (a gather)
* ``PutAdd``:  out = zeros(shape); out.flat[pos] += g (a scatter-add, Take's adjoint)

Take's backward is PutAdd of the gradient (positions read several times accumulate) and
PutAdd's backward is Take again, so every op built on them is differentiable any number of
times.  Scatters that overwrite (scatter, index_copy, masked_scatter, index_fill) are a
``where`` between the input and a PutAdd of the new values, with a constant mask.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from . import shape as _shape
from ._args import DtypeError, IndexRangeError, as_tensor, normalize_dim, normalize_dims, shape_arg
from ._kernels import kernels

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_fill", "index_copy",
           "masked_fill", "masked_select", "masked_scatter", "take", "take_along_dim", "narrow", "unbind",
           "flip", "fliplr", "flipud", "roll", "rot90", "repeat", "tile", "repeat_interleave", "tril", "triu",
           "diag", "diagonal", "diag_embed", "trace", "swapaxes", "swapdims", "t", "movedim", "moveaxis",
           "unflatten", "vstack", "hstack", "dstack", "meshgrid", "select_scatter", "slice_scatter", "diagonal_scatter",
           "index_put", "put"]


# ----------------------------------------------------------------------------- the two Functions
class Take(Function):
    """out = x.flat[pos] (``pos`` has the output's shape);  dx = PutAdd(g, x.shape, pos):
    zeros with g added at the positions read (repeated positions accumulate)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, pos):
        ctx.shape, ctx.pos = x.shape, pos
        return x.reshape(-1)[pos]

    @staticmethod
    def backward(ctx, g):
        return PutAdd.run(g, ctx.shape, ctx.pos)


class PutAdd(Function):
    """The adjoint of Take: zeros of ``shape`` with ``out.flat[pos[i]] += g[i]``;
    d = Take(gg, pos)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, shape, pos):
        ctx.pos = pos
        xp = backend.xp_of(g)
        out = xp.zeros(int(np.prod(shape)), dtype=g.dtype)
        src = xp.ascontiguousarray(g).reshape(-1)
        flat = pos.reshape(-1)
        if g.dtype.kind == "f":
            kernels("scatter").index_add_rows(out.reshape(-1, 1), flat, src.reshape(-1, 1))
        else:
            _ufunc_at("add", out, flat, src)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, gg):
        return Take.run(gg, ctx.pos)


def _ufunc_at(name, flat, pos, values):
    """``np.<name>.at(flat, pos, values)`` in place; on a GPU through the host (CuPy does not
    implement ``ufunc.at`` for every ufunc)."""
    if isinstance(flat, np.ndarray):
        getattr(np, name).at(flat, pos, values)
        return
    host = backend.to_device(flat, backend.CPU)
    getattr(np, name).at(host, backend.to_device(pos, backend.CPU), backend.to_device(values, backend.CPU))
    flat[...] = backend.to_device(host, backend.device_of(flat))


def _grid(x):
    """Flat positions of ``x``'s elements, shaped like ``x`` (a constant on x's device)."""
    data = x._data if isinstance(x, Tensor) else x
    return backend.xp_of(data).arange(data.size, dtype=np.int64).reshape(data.shape)


def _take(x, pos):
    xp = backend.xp_of(x._data)
    return Take.apply(x, xp.ascontiguousarray(pos).astype(np.int64, copy=False).reshape(pos.shape))


def _put_add(src, shape, pos):
    xp = backend.xp_of(src._data)
    return PutAdd.apply(src, tuple(shape), xp.ascontiguousarray(pos).astype(np.int64, copy=False).reshape(pos.shape))


def _int_array(index, x, opname, name="index"):
    """``index`` (Tensor, array, list or int) as an int64 array on x's device."""
    idx = index._data if isinstance(index, Tensor) else index
    if not backend.is_array(idx):
        idx = np.asarray(idx)
    if idx.dtype.kind not in "iu" and not (idx.size == 0 and idx.dtype.kind == "f"):
        raise DtypeError(f"{opname}: {name} must be an integer tensor, got dtype {idx.dtype}")
    return backend.to_device(idx.astype(np.int64, copy=False), x.device)


def _check_range(idx, size, opname, allow_negative=False):
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= size or lo < (-size if allow_negative else 0):
            raise IndexRangeError(f"{opname}: index out of range for a dimension of size {size} "
                             f"(min {lo}, max {hi})")


def _where(mask, a, b):
    from .elementwise import where
    return where(Tensor._wrap(mask), a, b)


# ----------------------------------------------------------------------------- gather and scatter
def _gather_positions(shape, dim, idx, xp, opname):
    """Flat positions in a tensor of ``shape`` that gather(dim, idx) reads."""
    if len(shape) == 0:
        shape, idx = (1,), idx.reshape(1)
    if idx.ndim != len(shape):
        raise ArgumentError(f"{opname}: index has {idx.ndim} dims but the tensor has {len(shape)} (shape {shape})")
    for k, (si, s) in enumerate(zip(idx.shape, shape)):
        if k != dim and si > s:
            raise ArgumentError(f"{opname}: index of shape {tuple(idx.shape)} is larger than the tensor's shape {shape} "
                             f"in dim {k}")
    _check_range(idx, shape[dim], opname)
    grid = xp.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    grid = grid[tuple(slice(None) if k == dim else slice(0, n) for k, n in enumerate(idx.shape))]
    return xp.take_along_axis(grid, idx, axis=dim)


def gather(input, dim, index, *, sparse_grad=False) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` (for dim 0): values along ``dim`` at ``index``.

    ``index`` has input's number of dims and is no larger than ``input`` outside ``dim``."""
    x = as_tensor(input, "gather")
    d = normalize_dim(dim, x._data.ndim, "gather")
    idx = _int_array(index, x, "gather")
    pos = _gather_positions(x._data.shape, d, idx, backend.xp_of(x._data), "gather")
    return _take(x, pos.reshape(idx.shape))


def _scatter_args(input, dim, index, src, opname):
    x = as_tensor(input, opname)
    d = normalize_dim(dim, x._data.ndim, opname)
    idx = _int_array(index, x, opname)
    pos = _gather_positions(x._data.shape, d, idx, backend.xp_of(x._data), opname).reshape(idx.shape)
    if isinstance(src, (int, float, bool)) and not isinstance(src, Tensor):
        return x, d, idx, pos, src
    s = as_tensor(src, opname)
    if s._data.ndim != idx.ndim or builtins.any(a > b for a, b in zip(idx.shape, s._data.shape)):
        raise ArgumentError(f"{opname}: index of shape {tuple(idx.shape)} must be no larger than src of shape {s._data.shape}")
    if s._data.dtype != x._data.dtype:
        raise TypeError(f"{opname}: src is {s._data.dtype} but the tensor is {x._data.dtype}")
    if s._data.shape != idx.shape:
        s = _shape.getitem(s, tuple(slice(0, n) for n in idx.shape))
    return x, d, idx, pos, s


def _touched(shape, pos, xp):
    mask = xp.zeros(int(np.prod(shape)), dtype=bool)
    mask[pos.reshape(-1)] = True
    return mask.reshape(shape)


def scatter(input, dim, index, src=None, *, value=None, reduce=None) -> Tensor:
    """Out-of-place ``input.scatter_(dim, index, src)``: ``out[index[i][j]][j] = src[i][j]`` (dim 0).

    ``src`` may be a tensor or a number (``value``).  ``reduce='add'``/``'multiply'`` as PyTorch's
    (deprecated) argument.  Index positions should be distinct: PyTorch leaves the result of a
    position written twice unspecified, and here it is the sum of the values written."""
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ArgumentError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        if not isinstance(src, Tensor):             # a number: the same value sent from every index entry
            x = as_tensor(input, "scatter")
            idx = _int_array(index, x, "scatter")
            src = Tensor._wrap(backend.xp_of(x._data).full(idx.shape, src, dtype=x._data.dtype))
        return scatter_reduce(input, dim, index, src, {"add": "sum", "multiply": "prod"}[reduce])
    x, d, idx, pos, s = _scatter_args(input, dim, index, src, "scatter")
    touched = _touched(x._data.shape, pos, backend.xp_of(x._data))
    if not isinstance(s, Tensor):
        out = _where(touched, s, x)
        return out if out._data.dtype == x._data.dtype else out.to(x._data.dtype)
    return _where(touched, _put_add(s, x._data.shape, pos), x)


def scatter_add(input, dim, index, src) -> Tensor:
    """``out = input``, then ``out[index[i][j]][j] += src[i][j]`` (dim 0); repeats accumulate."""
    x, d, idx, pos, s = _scatter_args(input, dim, index, src, "scatter_add")
    if not isinstance(s, Tensor):
        raise TypeError("scatter_add: src must be a tensor")
    return x + _put_add(s, x._data.shape, pos)


class ScatterProd(Function):
    """out = x * prod of the src values sent to each position (x replaced by 1 where
    include_self is False and a value arrives).  The derivative by each factor is the product of
    the other factors of its position: g out / factor when the position has no zero factor;
    with exactly one zero z, g P at z (P the product of the nonzero factors) and g P z / factor
    at the others (0, written with z so that it differentiates again); with two or more, 0
    (as PyTorch's).  Positions no value reaches pass g through to x."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, src, pos, touched, include_self):
        ctx.pos, ctx.touched, ctx.include = pos, touched, include_self
        xp = backend.xp_of(x)
        out = x.copy() if include_self else xp.where(touched, xp.ones_like(x), x)
        flat = out.reshape(-1)
        _ufunc_at("multiply", flat, pos.reshape(-1), src.reshape(-1))
        out = flat.reshape(x.shape)
        ctx.save_for_backward(x, src, out)        # the returned object itself: a graph output under create_graph
        return out

    @staticmethod
    def backward(ctx, g):
        x, src, out = ctx.saved_tensors
        pos, touched, include = ctx.pos, ctx.touched, ctx.include
        xv, sv = f.value(x), f.value(src)
        zero_x = (xv == 0) & touched if include else backend.xp_of(xv).zeros(xv.shape, dtype=bool)
        zero_s = sv == 0
        zeros = PutAdd.run(zero_s.astype(xv.dtype), xv.shape, pos) + zero_x      # zero factors per position
        if not zeros.any():
            gx = f.where(touched, g * out / x, g) if include else f.where(touched, 0.0 * g, g)
            gs = Take.run(g * out, pos) / src
            return gx, gs
        safe_x, safe_s = f.where(zero_x, 1.0, x), f.where(zero_s, 1.0, src)
        nonzero_product = ScatterProd.run(safe_x, safe_s, pos, touched, include)
        zero_factor = PutAdd.run(f.where(zero_s, src, 0.0), xv.shape, pos)
        if include:
            zero_factor = zero_factor + f.where(zero_x, x, 0.0)

        def others(safe, is_zero, n_zeros, product, z):     # the product of a factor's co-factors
            one_zero = f.where(is_zero, product, product * z / safe)
            return f.where(n_zeros == 0, product / safe, f.where(n_zeros == 1, one_zero, 0.0))

        gx = f.where(touched, 0.0 * g, g)
        if include:
            gx = f.where(touched, g * others(safe_x, zero_x, zeros, nonzero_product, zero_factor), g)
        def at(a):                                               # a per-position value at each src entry
            return Take.run(a, pos)
        gs = at(g) * others(safe_s, zero_s, at(zeros), at(nonzero_product), at(zero_factor))
        return gx, gs


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor:
    """Reduce the src values sent to each position with ``reduce`` in ``'sum'``, ``'prod'``,
    ``'mean'``, ``'amax'``, ``'amin'`` (with the input's own value unless ``include_self=False``).

    amax/amin share the gradient evenly among tied winners; prod's gradient is the product of
    the other factors, zeros included (as PyTorch's)."""
    x, d, idx, pos, s = _scatter_args(input, dim, index, src, "scatter_reduce")
    if not isinstance(s, Tensor):
        raise TypeError("scatter_reduce: src must be a tensor")
    xp = backend.xp_of(x._data)
    shape = x._data.shape
    touched = _touched(shape, pos, xp)
    inc = 1 if include_self else 0
    if reduce == "sum":
        total = _put_add(s, shape, pos)
        return x + total if include_self else _where(touched, total, x)
    if reduce == "mean":
        count = _put_add(Tensor._wrap(xp.ones(idx.shape, dtype=x._data.dtype)), shape, pos)._data + inc
        count = xp.maximum(count, 1)
        total = _put_add(s, shape, pos) + (x if include_self else 0)
        mean = total / Tensor._wrap(count) if x._data.dtype.kind == "f" else total // Tensor._wrap(count)
        return _where(touched, mean, x)
    if reduce == "prod":
        return ScatterProd.apply(x, s, pos, touched, include_self)
    if reduce in ("amax", "amin"):
        ufunc = "maximum" if reduce == "amax" else "minimum"
        best = x._data.copy()
        if not include_self:
            fill = -np.inf if reduce == "amax" else np.inf
            if x._data.dtype.kind != "f":
                info = np.iinfo(x._data.dtype)
                fill = info.min if reduce == "amax" else info.max
            best[touched] = fill
        flat = best.reshape(-1)
        _ufunc_at(ufunc, flat, pos.reshape(-1), s._data.reshape(-1))
        src_wins = s._data == flat[pos]
        self_wins = (x._data == best) & (touched if include_self else False)
        winners = _put_add(Tensor._wrap(src_wins.astype(np.int64)), shape, pos)._data + self_wins
        winners = xp.maximum(winners, 1).astype(x._data.dtype)
        chosen = _put_add(s * Tensor._wrap(src_wins.astype(x._data.dtype)), shape, pos)
        chosen = chosen + x * Tensor._wrap(self_wins.astype(x._data.dtype))
        return _where(touched, chosen / Tensor._wrap(winners) if x._data.dtype.kind == "f"
                      else chosen // Tensor._wrap(winners), x)
    raise ArgumentError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")


# ----------------------------------------------------------------------------- index_* and masked_*
def _dim_index(x, dim, index, opname):
    d = normalize_dim(dim, x._data.ndim, opname)
    idx = _int_array(index, x, opname).reshape(-1)
    size = x._data.shape[d] if x._data.ndim else 1
    _check_range(idx, size, opname, allow_negative=True)
    return d, idx % builtins.max(size, 1)


def _dim_mask(x, d, idx):
    """A bool mask, True on the entries of dim ``d`` that ``idx`` names, broadcastable to x."""
    xp = backend.xp_of(x._data)
    n = x._data.shape[d] if x._data.ndim else 1
    m = xp.zeros(n, dtype=bool)
    m[idx] = True
    return m.reshape((n,) + (1,) * (x._data.ndim - d - 1)) if x._data.ndim else m.reshape(())


def _index_source(x, d, idx, source, opname):
    s = as_tensor(source, opname)
    expected = x._data.shape[:d] + (idx.shape[0],) + x._data.shape[d + 1:] if x._data.ndim else (idx.shape[0],)
    if s._data.shape != expected and not (x._data.ndim == 0 and s._data.size == idx.shape[0]):
        raise ArgumentError(f"{opname}: source has shape {s._data.shape}, expected {expected} "
                         f"(tensor {x._data.shape}, {idx.shape[0]} indices along dim {d})")
    if s._data.dtype != x._data.dtype:
        raise TypeError(f"{opname}: source is {s._data.dtype} but the tensor is {x._data.dtype}")
    return s


def index_add(input, dim, index, source, *, alpha=1) -> Tensor:
    """``out = input``; ``out[..., index[i], ...] += alpha * source[..., i, ...]`` along dim."""
    x = as_tensor(input, "index_add")
    d, idx = _dim_index(x, dim, index, "index_add")
    s = _index_source(x, d, idx, source, "index_add")
    if alpha != 1:
        s = s * alpha
    if x._data.ndim == 0:
        return x + _shape.reshape(s, -1).sum()
    return x + _shape.IndexAdd.apply(s, x._data.shape, d, idx)


def index_copy(input, dim, index, source) -> Tensor:
    """``out = input`` with ``out[..., index[i], ...] = source[..., i, ...]`` along dim."""
    x = as_tensor(input, "index_copy")
    d, idx = _dim_index(x, dim, index, "index_copy")
    s = _index_source(x, d, idx, source, "index_copy")
    if x._data.ndim == 0:
        return _where(_dim_mask(x, d, idx), _shape.reshape(s, ()), x)
    return _where(_dim_mask(x, d, idx), _shape.IndexAdd.apply(s, x._data.shape, d, idx), x)


def index_fill(input, dim, index, value) -> Tensor:
    """``out = input`` with the entries at ``index`` along dim set to ``value`` (a number or 0-d tensor)."""
    x = as_tensor(input, "index_fill")
    d, idx = _dim_index(x, dim, index, "index_fill")
    if isinstance(value, Tensor) and value._data.ndim:
        raise ArgumentError(f"index_fill: value must be a number or a 0-d tensor, got shape {value._data.shape}")
    out = _where(_dim_mask(x, d, idx), value, x)
    return out if out._data.dtype == x._data.dtype else out.to(x._data.dtype)      # the tensor's dtype, as PyTorch


# ----------------------------------------------------------------------------- *_scatter, index_put, put
def _write_at(x, pos, src, opname, accumulate=False):
    """``x`` with ``src`` (of ``pos``'s shape) written at the flat positions ``pos``, or added
    there (``accumulate``: repeats accumulate).  Without ``accumulate`` the last write to a
    repeated position wins."""
    xp = backend.xp_of(x._data)
    src = src.to(x._data.dtype) if src._data.dtype != x._data.dtype else src
    if tuple(src._data.shape) != tuple(pos.shape):
        src = src.broadcast_to(pos.shape)
    if accumulate:
        return x + _put_add(src, x._data.shape, pos)
    flat, src = pos.reshape(-1), src.reshape(-1)
    _, last = np.unique(backend.to_device(flat, backend.CPU)[::-1], return_index=True)
    if last.size != flat.size:
        keep = backend.to_device(np.sort(flat.size - 1 - last), x.device)
        flat, src = flat[keep], src[Tensor._wrap(keep)]
    return _where(_touched(x._data.shape, flat, xp), _put_add(src, x._data.shape, flat), x)


def _embedded(x, src, pos, opname):
    """src written over the part of ``x`` at ``pos``, which src must match in shape exactly."""
    src = as_tensor(src, opname)
    if tuple(src._data.shape) != tuple(pos.shape):
        raise ArgumentError(f"{opname}: expected src to have a size equal to the slice of self: src has shape "
                         f"{tuple(src._data.shape)}, the slice {tuple(pos.shape)}")
    return _write_at(x, pos, src, opname)


def select_scatter(input, src, dim, index) -> Tensor:
    """``input`` with ``input.select(dim, index)`` replaced by ``src`` (differentiable in both)."""
    x = as_tensor(input, "select_scatter")
    if x._data.ndim == 0:
        raise ArgumentError("select_scatter: cannot select from a 0-d tensor")
    d = normalize_dim(dim, x._data.ndim, "select_scatter")
    n = x._data.shape[d]
    if not -n <= int(index) < n:
        raise IndexError(f"select_scatter: index {index} out of range for a tensor of shape {x._data.shape} "
                         f"at dimension {d}")
    pos = _grid(x)[(slice(None),) * d + (int(index) % n,)]
    return _embedded(x, src, pos, "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1) -> Tensor:
    """``input`` with ``input[..., start:end:step, ...]`` (along dim) replaced by ``src``."""
    x = as_tensor(input, "slice_scatter")
    d = normalize_dim(dim, x._data.ndim, "slice_scatter")
    if step is None or int(step) <= 0:
        raise ArgumentError(f"slice_scatter: slice step must be positive, got {step}")
    pos = _grid(x)[(slice(None),) * d + (slice(start, end, int(step)),)]
    return _embedded(x, src, pos, "slice_scatter")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1) -> Tensor:
    """``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``."""
    x = as_tensor(input, "diagonal_scatter")
    if x._data.ndim < 2:
        raise ArgumentError(f"diagonal_scatter: expected at least 2 dims, got shape {x._data.shape}")
    a, b = normalize_dim(dim1, x._data.ndim, "diagonal_scatter"), normalize_dim(dim2, x._data.ndim, "diagonal_scatter")
    if a == b:
        raise ArgumentError(f"diagonal_scatter: dim1 and dim2 must differ, got {dim1} and {dim2}")
    pos = backend.xp_of(x._data).diagonal(_grid(x), int(offset), a, b)
    return _embedded(x, src, pos, "diagonal_scatter")


def index_put(input, indices, values, accumulate=False) -> Tensor:
    """Out-of-place ``input[indices] = values`` (``+=`` with ``accumulate``, repeated positions
    then adding up); ``indices`` is a tuple of index tensors (integer or bool, None for a whole
    dim), ``values`` broadcasts to the indexed shape and must have input's dtype."""
    x = as_tensor(input, "index_put")
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple or list of tensors, got {type(indices).__name__}")
    v = as_tensor(values, "index_put")
    if v._data.dtype != x._data.dtype:
        raise TypeError(f"index_put: requires the source and destination dtypes to match, got {x._data.dtype} for "
                        f"the destination and {v._data.dtype} for the source")
    index = tuple(slice(None) if i is None else i for i in indices)
    for i in index:
        if isinstance(i, Tensor) and i._data.dtype.kind not in "iub":
            raise TypeError(f"index_put: tensors used as indices must be long, int, byte or bool tensors, got "
                            f"dtype {i._data.dtype}")
    pos = _shape.getitem(Tensor._wrap(_grid(x)), index)._data
    try:
        np.broadcast_shapes(tuple(v._data.shape), tuple(pos.shape))
    except ValueError:
        raise ArgumentError(f"index_put: values of shape {tuple(v._data.shape)} cannot be broadcast to the indexed "
                         f"shape {tuple(pos.shape)}") from None
    return _write_at(x, pos, v, "index_put", accumulate)


def put(input, index, source, accumulate=False) -> Tensor:
    """``input`` read as 1-D with ``source[i]`` written at ``index[i]`` (added with
    ``accumulate``); negative indices count from the end."""
    x = as_tensor(input, "put")
    idx = _int_array(index, x, "put")
    s = as_tensor(source, "put")
    if s._data.size != idx.size:
        raise IndexError(f"put: expected source and index to have the same number of elements, got "
                         f"{s._data.size} and {idx.size}")
    if s._data.dtype != x._data.dtype:
        raise TypeError(f"put: expected source of the tensor's dtype {x._data.dtype}, got {s._data.dtype}")
    _check_range(idx, x._data.size, "put", allow_negative=True)
    pos = (idx % builtins.max(x._data.size, 1)).reshape(-1)
    return _write_at(x, pos, s.reshape(-1), "put", accumulate)


def _mask_array(mask, x, opname):
    m = mask._data if isinstance(mask, Tensor) else mask
    m = backend.to_device(np.asarray(m) if not backend.is_array(m) else m, x.device)
    if m.dtype != np.bool_:
        raise DtypeError(f"{opname}: mask must be a bool tensor, got dtype {m.dtype}")
    return m


def masked_fill(input, mask, value) -> Tensor:
    """``input`` with ``value`` where ``mask`` (broadcast to input's shape) is True."""
    x = as_tensor(input, "masked_fill")
    m = _mask_array(mask, x, "masked_fill")
    try:
        if np.broadcast_shapes(m.shape, x._data.shape) != x._data.shape:
            raise ValueError
    except ValueError:
        raise ArgumentError(f"masked_fill: mask of shape {tuple(m.shape)} does not broadcast to the tensor's shape "
                         f"{x._data.shape}") from None
    if isinstance(value, Tensor) and value._data.ndim:
        raise ArgumentError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value._data.shape}")
    if isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
        value = value.to(x._data.dtype)
    out = _where(m, value, x)
    return out if out._data.dtype == x._data.dtype else out.to(x._data.dtype)


def masked_select(input, mask) -> Tensor:
    """The elements of ``input`` where ``mask`` is True (both broadcast), as a 1-D tensor."""
    x = as_tensor(input, "masked_select")
    m = _mask_array(mask, x, "masked_select")
    try:
        shape = np.broadcast_shapes(m.shape, x._data.shape)
    except ValueError:
        raise ArgumentError(f"masked_select: mask of shape {tuple(m.shape)} and tensor of shape {x._data.shape} "
                         f"do not broadcast") from None
    xb = _shape.broadcast_to(x, shape)
    mb = backend.xp_of(m).broadcast_to(m, shape)
    return _take(xb, _grid(xb)[mb]) if shape else _take(xb, _grid(xb).reshape(1)[mb.reshape(1)])


def masked_scatter(input, mask, source) -> Tensor:
    """``input`` with the True positions of ``mask`` (in row-major order) filled from the
    first elements of ``source``; ``input`` and ``mask`` broadcast (the result has their common shape)."""
    x = as_tensor(input, "masked_scatter")
    m = _mask_array(mask, x, "masked_scatter")
    xp = backend.xp_of(x._data)
    try:
        shape = np.broadcast_shapes(m.shape, x._data.shape)
    except ValueError:
        raise ArgumentError(f"masked_scatter: mask of shape {tuple(m.shape)} and tensor of shape {x._data.shape} "
                         f"do not broadcast") from None
    x = _shape.broadcast_to(x, shape) if shape != x._data.shape else x
    mb = xp.broadcast_to(m, shape)
    s = as_tensor(source, "masked_scatter")
    pos = xp.flatnonzero(mb)
    if s._data.size < pos.size:
        raise ArgumentError(f"masked_scatter: source has {s._data.size} elements but the mask selects {pos.size}")
    if s._data.dtype != x._data.dtype:
        raise TypeError(f"masked_scatter: source is {s._data.dtype} but the tensor is {x._data.dtype}")
    head = _take(s, xp.arange(pos.size, dtype=np.int64))
    return _where(mb, _put_add(head, x._data.shape, pos), x)


def take(input, index) -> Tensor:
    """``input`` read as 1-D at ``index`` (negative indices count from the end); index's shape."""
    x = as_tensor(input, "take")
    idx = _int_array(index, x, "take")
    _check_range(idx, x._data.size, "take", allow_negative=True)
    return _take(x, idx % builtins.max(x._data.size, 1))


def take_along_dim(input, indices, dim=None) -> Tensor:
    """gather with broadcasting: ``input`` and ``indices`` broadcast outside ``dim``; with
    ``dim=None`` both are flattened."""
    x = as_tensor(input, "take_along_dim")
    idx = _int_array(indices, x, "take_along_dim")
    if dim is None:
        _check_range(idx, x._data.size, "take_along_dim")
        return _take(x, idx.reshape(-1))
    d = normalize_dim(dim, x._data.ndim, "take_along_dim")
    if idx.ndim != x._data.ndim:
        raise ArgumentError(f"take_along_dim: indices have {idx.ndim} dims, the tensor {x._data.ndim}")
    xs, js = list(x._data.shape), list(idx.shape)
    xs[d] = js[d] = 1
    try:
        common = list(np.broadcast_shapes(tuple(xs), tuple(js)))
    except ValueError:
        raise ArgumentError(f"take_along_dim: shapes {x._data.shape} and {tuple(idx.shape)} do not broadcast outside "
                         f"dim {d}") from None
    xp = backend.xp_of(x._data)
    xshape = tuple(common[:d] + [x._data.shape[d]] + common[d + 1:])
    ishape = tuple(common[:d] + [idx.shape[d]] + common[d + 1:])
    xb = _shape.broadcast_to(x, xshape) if xshape != x._data.shape else x
    return gather(xb, d, xp.broadcast_to(idx, ishape))


# ----------------------------------------------------------------------------- views and rearrangements
def narrow(input, dim, start, length) -> Tensor:
    """``length`` entries along ``dim`` from ``start`` (a view)."""
    x = as_tensor(input, "narrow")
    d = normalize_dim(dim, x._data.ndim, "narrow")
    n = x._data.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dim {d} of size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise ArgumentError(f"narrow: start {start} + length {length} exceeds dim {d} of size {n}")
    return _shape.getitem(x, (slice(None),) * d + (slice(start, start + length),))


def unbind(input, dim=0) -> tuple:
    """The slices along ``dim``, each without that dim."""
    x = as_tensor(input, "unbind")
    if x._data.ndim == 0:
        raise ArgumentError("unbind: a 0-d tensor has no dimension to unbind")
    d = normalize_dim(dim, x._data.ndim, "unbind")
    return tuple(_shape.getitem(x, (slice(None),) * d + (i,)) for i in range(x._data.shape[d]))


def _positions(x, fn):
    """Take ``x`` at ``fn(grid of x's flat positions)``: any rearrangement, differentiable."""
    return _take(x, fn(_grid(x)))


def flip(input, dims) -> Tensor:
    """Reverse the order of entries along ``dims``."""
    x = as_tensor(input, "flip")
    dims = normalize_dims(list(dims) if isinstance(dims, (list, tuple)) else [dims], x._data.ndim, "flip")
    if not dims:
        return _positions(x, lambda g: g)
    return _positions(x, lambda g: g[tuple(slice(None, None, -1) if k in dims else slice(None)
                                            for k in range(g.ndim))])


def fliplr(input) -> Tensor:
    x = as_tensor(input, "fliplr")
    if x._data.ndim < 2:
        raise ArgumentError(f"fliplr: expected at least 2 dims, got shape {x._data.shape}")
    return flip(x, [1])


def flipud(input) -> Tensor:
    x = as_tensor(input, "flipud")
    if x._data.ndim < 1:
        raise ArgumentError("flipud: expected at least 1 dim, got a 0-d tensor")
    return flip(x, [0])


def roll(input, shifts, dims=None) -> Tensor:
    """Shift entries cyclically by ``shifts`` along ``dims`` (the flattened tensor when None)."""
    x = as_tensor(input, "roll")
    xp = backend.xp_of(x._data)
    shifts = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
    if dims is None:
        if len(shifts) != 1:
            raise ArgumentError(f"roll: without dims, shifts must be one number, got {shifts}")
        return _positions(x, lambda g: xp.roll(g.reshape(-1), int(shifts[0])).reshape(g.shape))
    dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
    if len(dims) != len(shifts):
        raise ArgumentError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    ds = tuple(normalize_dim(d, x._data.ndim, "roll") for d in dims)
    return _positions(x, lambda g: xp.roll(g, tuple(int(s) for s in shifts), axis=ds))


def rot90(input, k=1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim toward the second."""
    x = as_tensor(input, "rot90")
    if len(dims) != 2 or x._data.ndim < 2:
        raise ArgumentError(f"rot90: expected two dims of a tensor with at least 2 dims, got dims {dims} "
                         f"and shape {x._data.shape}")
    a, b = (normalize_dim(d, x._data.ndim, "rot90") for d in dims)
    if a == b:
        raise ArgumentError(f"rot90: dims must differ, got {dims}")
    xp = backend.xp_of(x._data)
    return _positions(x, lambda g: xp.rot90(g, int(k), axes=(a, b)))


def tile(input, dims) -> Tensor:
    """Repeat the whole tensor ``dims[i]`` times along each dim (leading 1s are added to
    whichever of the shape and ``dims`` is shorter)."""
    x = as_tensor(input, "tile")
    reps = shape_arg((dims,), "tile") if not isinstance(dims, int) else (dims,)
    if builtins.any(r < 0 for r in reps):
        raise ArgumentError(f"tile: repeats must be non-negative, got {reps}")
    xp = backend.xp_of(x._data)
    return _positions(x, lambda g: xp.tile(g, reps))


def repeat(input, *sizes) -> Tensor:
    """``Tensor.repeat``: tile with at least as many sizes as dims."""
    x = as_tensor(input, "repeat")
    sizes = shape_arg(sizes, "repeat")
    if len(sizes) < x._data.ndim:
        raise ArgumentError(f"repeat: {len(sizes)} repeat sizes for a tensor of {x._data.ndim} dims "
                         f"(shape {x._data.shape}); give at least as many")
    return tile(x, sizes)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Repeat each entry along ``dim`` (of the flattened tensor when None) ``repeats`` times
    (an int, or a 1-D tensor with one count per entry).  ``repeat_interleave(repeats)`` alone is
    PyTorch's one-argument form: ``arange(len(repeats))`` repeated, entry i ``repeats[i]`` times."""
    x = as_tensor(input, "repeat_interleave")
    xp = backend.xp_of(x._data)
    if repeats is None:
        if x._data.ndim != 1 or x._data.dtype.kind not in "iu":
            raise TypeError(f"repeat_interleave: with one argument, repeats must be a 1-D integer tensor, "
                            f"got {x._data.dtype} of shape {x._data.shape}")
        x, repeats = Tensor._wrap(xp.arange(x._data.size, dtype=np.int64)), x
    if isinstance(repeats, Tensor) or isinstance(repeats, (list, tuple)) or backend.is_array(repeats):
        reps = _int_array(repeats, x, "repeat_interleave", "repeats")
        reps = reps.reshape(-1) if reps.ndim == 0 else reps
    else:
        reps = int(repeats)
    if (reps < 0).any() if backend.is_array(reps) else reps < 0:
        raise ArgumentError("repeat_interleave: repeats must be non-negative")
    if dim is None:
        return _positions(x, lambda g: xp.repeat(g.reshape(-1), reps))
    d = normalize_dim(dim, x._data.ndim, "repeat_interleave")
    if backend.is_array(reps) and reps.size not in (1, x._data.shape[d]):
        raise ArgumentError(f"repeat_interleave: {reps.size} repeats for dim {d} of size {x._data.shape[d]}")
    return _positions(x, lambda g: xp.repeat(g.reshape(g.shape or (1,)), reps, axis=d))


def _triangle(input, diagonal, opname, lower):
    x = as_tensor(input, opname)
    if x._data.ndim < 2:
        raise ArgumentError(f"{opname}: expected at least 2 dims, got shape {x._data.shape}")
    xp = backend.xp_of(x._data)
    n, m = x._data.shape[-2:]
    rows, cols = xp.arange(n)[:, None], xp.arange(m)[None, :]
    keep = cols - rows <= diagonal if lower else cols - rows >= diagonal
    zero = False if x._data.dtype == np.bool_ else 0      # a bool mask stays bool (an int 0 would promote it)
    return _where(keep, x, zero)


def tril(input, diagonal=0) -> Tensor:
    """The lower triangle of the last two dims (entries with col - row <= diagonal), zeros elsewhere."""
    return _triangle(input, diagonal, "tril", True)


def triu(input, diagonal=0) -> Tensor:
    """The upper triangle of the last two dims (entries with col - row >= diagonal), zeros elsewhere."""
    return _triangle(input, diagonal, "triu", False)


def diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes (above it for offset > 0), as a last dim."""
    x = as_tensor(input, "diagonal")
    if x._data.ndim < 2:
        raise ArgumentError(f"diagonal: expected at least 2 dims, got shape {x._data.shape}")
    a, b = normalize_dim(dim1, x._data.ndim, "diagonal"), normalize_dim(dim2, x._data.ndim, "diagonal")
    if a == b:
        raise ArgumentError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    xp = backend.xp_of(x._data)
    return _positions(x, lambda g: xp.diagonal(g, int(offset), a, b))


def diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """Tensors whose (dim1, dim2) planes have ``input``'s last dim on their diagonal, zeros elsewhere."""
    x = as_tensor(input, "diag_embed")
    nd = x._data.ndim + 1
    a, b = normalize_dim(dim1, nd, "diag_embed"), normalize_dim(dim2, nd, "diag_embed")
    if a == b:
        raise ArgumentError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    n = (x._data.shape[-1] if x._data.ndim else 1) + builtins.abs(int(offset))
    batch = list(x._data.shape[:-1])
    shape = []
    for k in range(nd):
        shape.append(n if k in (a, b) else batch.pop(0))
    xp = backend.xp_of(x._data)
    grid = xp.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    pos = xp.diagonal(grid, int(offset), a, b)
    src = x if x._data.ndim else _shape.reshape(x, 1)
    return _put_add(src, shape, pos)


def diag(input, diagonal=0) -> Tensor:
    """A 1-D input: the square matrix with it on the ``diagonal``-th diagonal; a 2-D input: that diagonal."""
    x = as_tensor(input, "diag")
    if x._data.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x._data.ndim == 2:
        return globals()["diagonal"](x, diagonal, 0, 1)
    raise ArgumentError(f"diag: expected a 1-D or 2-D tensor, got shape {x._data.shape}")


def trace(input) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor."""
    x = as_tensor(input, "trace")
    if x._data.ndim != 2:
        raise ArgumentError(f"trace: expected a 2-D tensor, got shape {x._data.shape}")
    return diagonal(x).sum()


def swapaxes(input, axis0, axis1) -> Tensor:
    return _shape.transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1) -> Tensor:
    return _shape.transpose(input, dim0, dim1)


def t(input) -> Tensor:
    """Transpose a tensor of at most 2 dims (0-d and 1-d come back unchanged)."""
    x = as_tensor(input, "t")
    if x._data.ndim > 2:
        raise ArgumentError(f"t: expected a tensor of at most 2 dims, got shape {x._data.shape}")
    return _shape.permute(x, tuple(reversed(range(x._data.ndim))))


def movedim(input, source, destination) -> Tensor:
    """Move the dims ``source`` to positions ``destination``; the others keep their order."""
    x = as_tensor(input, "movedim")
    n = x._data.ndim
    src = source if isinstance(source, (list, tuple)) else [source]
    dst = destination if isinstance(destination, (list, tuple)) else [destination]
    if len(src) != len(dst):
        raise ArgumentError(f"movedim: source {source} and destination {destination} differ in length")
    src = [normalize_dim(d, n, "movedim") for d in src]
    dst = [normalize_dim(d, n, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ArgumentError(f"movedim: repeated dims in source {source} or destination {destination}")
    perm = [None] * n
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(k for k in range(n) if k not in src)
    perm = [p if p is not None else next(rest) for p in perm]
    return _shape.permute(x, tuple(perm)) if n else x


moveaxis = movedim


def unflatten(input, dim, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    x = as_tensor(input, "unflatten")
    d = normalize_dim(dim, x._data.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    n = x._data.shape[d]
    known = int(np.prod([s for s in sizes if s != -1]))
    if -1 in sizes:
        if known == 0 or n % known:
            raise ArgumentError(f"unflatten: sizes {sizes} do not divide dim {d} of size {n}")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n:
        raise ArgumentError(f"unflatten: sizes {sizes} do not multiply to dim {d}'s size {n}")
    return _shape.reshape(x, x._data.shape[:d] + sizes + x._data.shape[d + 1:])


# ----------------------------------------------------------------------------- stacking and grids
def _atleast(t, n, opname):
    t = as_tensor(t, opname)
    s = t._data.shape
    if len(s) >= n:
        return t
    if n == 2:
        return _shape.reshape(t, (1,) * (2 - len(s)) + s)
    return _shape.reshape(t, {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def _seq(tensors, opname):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{opname}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    return tensors


def vstack(tensors) -> Tensor:
    """Join along dim 0 (1-D inputs become rows)."""
    return _shape.cat([_atleast(t, 2, "vstack") for t in _seq(tensors, "vstack")], 0)


def hstack(tensors) -> Tensor:
    """Join along dim 1 (along dim 0 for 1-D inputs)."""
    ts = [_atleast(t, 1, "hstack") if as_tensor(t, "hstack")._data.ndim else _shape.reshape(t, 1)
          for t in _seq(tensors, "hstack")]
    return _shape.cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def dstack(tensors) -> Tensor:
    """Join along dim 2 (inputs made at least 3-D: (n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _shape.cat([_atleast(t, 3, "dstack") for t in _seq(tensors, "dstack")], 2)


def meshgrid(*tensors, indexing=None) -> tuple:
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (the default) or ``'xy'`` (the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [as_tensor(t, "meshgrid") for t in tensors]
    for t in ts:
        if t._data.ndim > 1:
            raise ArgumentError(f"meshgrid: expected 0-d or 1-d tensors, got shape {t._data.shape}")
    ts = [_shape.reshape(t, -1) for t in ts]
    sizes = [t._data.shape[0] for t in ts]
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[k] for k in order)
    out = []
    for k, t in enumerate(ts):
        where = order.index(k)
        view = [1] * len(ts)
        view[where] = sizes[k]
        out.append(_shape.broadcast_to(_shape.reshape(t, tuple(view)), shape))
    return tuple(out)
