"""PyTorch functions that are compositions of other ops: shapes (atleast_*, ravel, select,
tensor_split, column_stack, block_diag, cartesian_prod, combinations, diagflat, vander),
differences and integrals (diff, trapezoid, cumulative_trapezoid), statistics (quantile, cov,
corrcoef, mode, nanmedian), products (vdot, addmv, addr, addbmm, chain_matmul) and pointwise
math (logit, float_power, fmax, fmin, logaddexp2, ldexp, renorm, mvlgamma).

None of these has a Function of its own: each is written with differentiable ops, so its
gradient, and its second derivative, are those ops' own (``diff`` is two slices and a
subtraction, so its backward is a scatter of g and -g; ``quantile`` is a sort, two gathers and
a lerp, so its gradient reaches the two order statistics it interpolates).
"""
from __future__ import annotations

import builtins
import itertools
import math

import numpy as np

from .. import backend, return_types
from ..errors import ArgumentError
from ..tensor import Tensor
from . import compare as _cmp
from . import elementwise as _ew
from . import indexing as _idx
from . import linalg_extra as _linx
from . import math as _math
from . import reduce as _red
from . import scan as _scan
from . import shape as _shape
from . import sorting as _sorting
from ._args import as_tensor, float_operand, normalize_dim

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_tensors", "ravel", "select", "tensor_split",
           "hsplit", "vsplit", "dsplit", "column_stack", "block_diag", "cartesian_prod", "combinations", "diagflat",
           "vander", "diff", "trapezoid", "cumulative_trapezoid", "quantile", "nanquantile", "cov", "corrcoef",
           "mode", "nanmedian", "msort", "vdot", "addmv", "addr", "addbmm", "chain_matmul", "logit", "float_power", "fmax",
           "fmin", "logaddexp2", "ldexp", "renorm", "mvlgamma", "positive", "sgn"]

#: What ``mode`` and ``nanmedian(dim=...)`` return, as PyTorch's ``return_types``.
ModeResult, NanmedianResult = return_types.mode, return_types.nanmedian


def _tensors(args, opname):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    return [as_tensor(t, opname) for t in args]


# ----------------------------------------------------------------------------- shapes
def _atleast(n, opname, args):
    ts = _tensors(args, opname)
    out = []
    for t in ts:
        s = t._data.shape
        if len(s) >= n:
            out.append(t)
        elif n == 3 and len(s) == 2:
            out.append(_shape.reshape(t, s + (1,)))        # (m, n) -> (m, n, 1), as NumPy and PyTorch
        elif n == 3 and len(s) == 1:
            out.append(_shape.reshape(t, (1,) + s + (1,)))  # (n,) -> (1, n, 1)
        else:
            out.append(_shape.reshape(t, (1,) * (n - len(s)) + s))
    return out[0] if len(args) == 1 and not isinstance(args[0], (list, tuple)) else tuple(out)


def atleast_1d(*tensors):
    """Each input viewed with at least one dim (0-d -> (1,))."""
    return _atleast(1, "atleast_1d", tensors)


def atleast_2d(*tensors):
    """Each input viewed with at least two dims ((n,) -> (1, n))."""
    return _atleast(2, "atleast_2d", tensors)


def atleast_3d(*tensors):
    """Each input viewed with at least three dims ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _atleast(3, "atleast_3d", tensors)


def broadcast_tensors(*tensors) -> tuple:
    """The inputs expanded to their common broadcast shape (views; gradients sum back)."""
    ts = _tensors(tensors, "broadcast_tensors")
    try:
        shape = np.broadcast_shapes(*(t._data.shape for t in ts))
    except ValueError:
        raise ArgumentError("broadcast_tensors: shapes " + ", ".join(str(tuple(t._data.shape)) for t in ts)
                         + " do not broadcast together") from None
    return tuple(_shape.expand(t, shape) for t in ts)


def ravel(input) -> Tensor:
    """The elements as a 1-D tensor."""
    return _shape.reshape(as_tensor(input, "ravel"), -1)


def select(input, dim, index) -> Tensor:
    """The slice at ``index`` along ``dim``, that dim removed (``x.select(1, 2)`` is ``x[:, 2]``)."""
    x = as_tensor(input, "select")
    if x._data.ndim == 0:
        raise IndexError("select: cannot select from a 0-d tensor")
    d = normalize_dim(dim, x._data.ndim, "select")
    size = x._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select: index {index} is out of range for dim {d} of size {size}")
    return _shape.squeeze(_idx.narrow(x, d, index % size, 1), d)


def tensor_split(input, indices_or_sections, dim=0) -> tuple:
    """Split into ``n`` nearly equal parts (the first ``size % n`` one longer), or at the given indices."""
    x = as_tensor(input, "tensor_split")
    d = normalize_dim(dim, x._data.ndim, "tensor_split")
    size = x._data.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise ArgumentError(f"tensor_split: number of sections must be positive, got {n}")
        q, r = divmod(size, n)
        bounds = list(itertools.accumulate([q + 1] * r + [q] * (n - r), initial=0))
    else:
        cuts = [builtins.min(builtins.max(int(i) + size if i < 0 else int(i), 0), size) for i in indices_or_sections]
        bounds = [0] + cuts + [size]
    return tuple(_idx.narrow(x, d, a, builtins.max(b - a, 0)) for a, b in zip(bounds[:-1], bounds[1:]))


def _split_along(opname, input, sections, dim, min_ndim):
    x = as_tensor(input, opname)
    if x._data.ndim < min_ndim:
        raise ArgumentError(f"{opname}: expected a tensor of at least {min_ndim} dims, got shape {x._data.shape}")
    if isinstance(sections, (int, np.integer)) and x._data.shape[dim] % sections:
        raise ArgumentError(f"{opname}: dim {dim} of size {x._data.shape[dim]} does not split into {sections} "
                         "equal sections")
    return tensor_split(x, sections, dim)


def hsplit(input, sections) -> tuple:
    """Split along dim 1 (dim 0 for 1-D inputs) into equal sections or at indices."""
    x = as_tensor(input, "hsplit")
    return _split_along("hsplit", x, sections, 0 if x._data.ndim == 1 else 1, 1)


def vsplit(input, sections) -> tuple:
    """Split along dim 0 of an at least 2-D tensor."""
    return _split_along("vsplit", input, sections, 0, 2)


def dsplit(input, sections) -> tuple:
    """Split along dim 2 of an at least 3-D tensor."""
    return _split_along("dsplit", input, sections, 2, 3)


def column_stack(tensors) -> Tensor:
    """Join as columns: 0-d and 1-d inputs become (n, 1) columns, the rest join along dim 1."""
    ts = _tensors((tensors,), "column_stack")
    cols = [_shape.reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in ts]
    return _shape.cat(cols, 1)


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix from 0-, 1- or 2-D blocks (zeros elsewhere; gradients are the blocks')."""
    ts = [t if t._data.ndim == 2 else _shape.reshape(t, (1, -1)) for t in _tensors(tensors, "block_diag")]
    for t in ts:
        if t._data.ndim > 2:
            raise ArgumentError(f"block_diag: expected 0-, 1- or 2-D tensors, got shape {t._data.shape}")
    if not ts:
        return Tensor(np.zeros((1, 0), dtype=backend.get_default_dtype()))
    dtype = backend.result_type(*ts)
    ts = [t.to(dtype) for t in ts]
    width = builtins.sum(t._data.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        w = t._data.shape[1]
        rows.append(_shape.pad(t, (left, width - left - w, 0, 0)))
        left += w
    return _shape.cat(rows, 0)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D input, as rows (1-D for a single input)."""
    ts = _tensors(tensors, "cartesian_prod")
    for t in ts:
        if t._data.ndim != 1:
            raise ArgumentError(f"cartesian_prod: expected 1-D tensors, got shape {t._data.shape}")
    if len(ts) == 1:
        return ts[0]
    grids = _idx.meshgrid(*ts, indexing="ij")
    return _shape.stack([_shape.reshape(g, -1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's elements, as rows (itertools' order)."""
    x = as_tensor(input, "combinations")
    if x._data.ndim != 1:
        raise ArgumentError(f"combinations: expected a 1-D tensor, got shape {x._data.shape}")
    if r < 0:
        raise ArgumentError(f"combinations: r must be non-negative, got {r}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(x._data.shape[0]), r))
    if r == 0 or not rows:
        return Tensor(backend.array_module(x.device).zeros((0,) if r == 0 else (0, r), x._data.dtype), device=x.device)
    index = np.asarray(rows, dtype=np.int64)
    return _shape.reshape(_shape.index_select(x, 0, Tensor(index.reshape(-1), device=x.device)), index.shape)


def diagflat(input, offset=0) -> Tensor:
    """The flattened input on diagonal ``offset`` of a square matrix."""
    return _idx.diag(_shape.reshape(as_tensor(input, "diagflat"), -1), offset)


def vander(x, N=None, increasing=False) -> Tensor:
    """Columns x^(N-1), ..., x, 1 (reversed when ``increasing``) of a 1-D tensor."""
    x = as_tensor(x, "vander")
    if x._data.ndim != 1:
        raise ArgumentError(f"vander: expected a 1-D tensor, got shape {x._data.shape}")
    n = x._data.shape[0] if N is None else int(N)
    if n < 0:
        raise ArgumentError(f"vander: N must be non-negative, got {n}")
    if n == 0:
        return Tensor(backend.array_module(x.device).zeros((x._data.shape[0], 0), x._data.dtype), device=x.device)
    col = _shape.unsqueeze(x, 1)
    powers = [_ew.pow(col, k) for k in range(n)]        # x ** 0 too: the gradient stays defined (zero)
    out = _shape.cat(powers, 1)
    return out if increasing else _idx.flip(out, (1,))


def _creation_ones_like(t):
    return Tensor(backend.array_module(t.device).ones(t._data.shape, t._data.dtype), device=t.device)


# ----------------------------------------------------------------------------- differences and integrals
def diff(input, n=1, dim=-1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference along ``dim``: out[i] = x[i+1] - x[i], applied ``n`` times
    (``x[i+1] ^ x[i]`` for bool tensors, as PyTorch's)."""
    x = as_tensor(input, "diff")
    if x._data.ndim == 0:
        raise ArgumentError("diff: expected at least a 1-D tensor, got a 0-d one")
    d = normalize_dim(dim, x._data.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        parts = [as_tensor(p, "diff") for p in parts]
        parts = [_shape.expand(p, x._data.shape[:d] + (1,) + x._data.shape[d + 1:]) if p._data.ndim == 0 else p
                 for p in parts]
        x = _shape.cat(parts, d)
    for _ in range(n):
        size = x._data.shape[d]
        if size == 0:
            break
        later, earlier = _idx.narrow(x, d, 1, size - 1), _idx.narrow(x, d, 0, size - 1)
        x = _cmp.logical_xor(later, earlier) if x._data.dtype == np.bool_ else later - earlier
    return x


def _spacing(y, x, dx, d, opname):
    if x is not None and dx is not None:
        raise TypeError(f"{opname}: give x or dx, not both")
    if x is None:
        return 1.0 if dx is None else dx
    x = as_tensor(x, opname)
    if x._data.ndim == 1:
        if x._data.shape[0] != y._data.shape[d]:
            raise ArgumentError(f"{opname}: x has {x._data.shape[0]} points but y has {y._data.shape[d]} along dim {d}")
        shape = [1] * y._data.ndim
        shape[d] = -1
        return diff(_shape.reshape(x, shape), dim=d)
    return diff(x, dim=d)


def trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """The trapezoid rule along ``dim``: sum((y[i] + y[i+1]) / 2 * dx_i)."""
    y = float_operand(y, "trapezoid")
    d = normalize_dim(dim, y._data.ndim, "trapezoid")
    size = y._data.shape[d]
    if size == 0:
        return _red.sum(y, d)
    step = _spacing(y, x, dx, d, "trapezoid")
    mid = (_idx.narrow(y, d, 1, size - 1) + _idx.narrow(y, d, 0, size - 1)) * step
    return _red.sum(mid, d) / 2


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """The running trapezoid rule along ``dim`` (one element shorter than ``y``)."""
    y = float_operand(y, "cumulative_trapezoid")
    d = normalize_dim(dim, y._data.ndim, "cumulative_trapezoid")
    size = y._data.shape[d]
    if size == 0:
        return y
    step = _spacing(y, x, dx, d, "cumulative_trapezoid")
    mid = (_idx.narrow(y, d, 1, size - 1) + _idx.narrow(y, d, 0, size - 1)) * step
    return _scan.cumsum(mid, d) / 2


# ----------------------------------------------------------------------------- statistics
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
    """The ``q``-quantiles along ``dim`` (of all elements when None), as ``numpy.quantile``'s
    default: sort, then interpolate between the two order statistics around position q (n - 1).
    A scalar ``q`` drops its dim; a 1-D ``q`` puts its dim first.  NaN in a slice gives NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
    """:func:`quantile` ignoring NaN: each slice's quantiles of its non-NaN values (NaN if none)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


def _quantile(opname, input, q, dim, keepdim, interpolation, ignore_nan):
    x = float_operand(input, opname)
    if interpolation not in _INTERPOLATIONS:
        raise ArgumentError(f"{opname}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    qs = np.asarray(q.detach().numpy() if isinstance(q, Tensor) else q, dtype=np.float64)
    if qs.ndim > 1:
        raise ArgumentError(f"{opname}: q must be a scalar or a 1-D tensor, got shape {tuple(qs.shape)}")
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        raise ArgumentError(f"{opname}: q values must lie in [0, 1], got {qs.tolist()}")
    if dim is None:
        work, d = _shape.reshape(x, -1), 0
    else:
        d = normalize_dim(dim, builtins.max(x._data.ndim, 1), opname)
        work = x if x._data.ndim else _shape.reshape(x, 1)
    n = work._data.shape[d]
    if n == 0:
        raise ArgumentError(f"{opname}: cannot compute quantiles of an empty slice (shape {x._data.shape})")
    xp = backend.array_module(x.device)
    values = _sorting.sort(work, d).values       # NaN sort last, as in PyTorch
    # positions q (n - 1) in the input's dtype, as PyTorch: in float32, 0.2 * 10 is 2, not 2.00000003
    dtype = x._data.dtype
    if ignore_nan:
        count = xp.sum(~xp.isnan(work._data), axis=d, keepdims=True).astype(dtype)
    else:
        count = xp.full(values._data.shape[:d] + (1,) + values._data.shape[d + 1:], n, dtype=dtype)
    last = xp.maximum(count - 1, 0)
    outs = []
    for qk in qs.reshape(-1).astype(dtype):
        pos = qk * last
        lo, hi = xp.floor(pos), xp.ceil(pos)
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = xp.round(pos)           # round half to even, as NumPy and PyTorch
        weight = {"linear": pos - lo, "midpoint": xp.where(hi > lo, 0.5, 0.0)}.get(interpolation, xp.zeros_like(pos))
        below = _idx.gather(values, d, Tensor(lo.astype(np.int64), device=x.device))
        above = _idx.gather(values, d, Tensor(hi.astype(np.int64), device=x.device))
        out = _math.lerp(below, above, Tensor(weight.astype(x._data.dtype), device=x.device))
        if ignore_nan:
            out = _idx.masked_fill(out, Tensor(count == 0, device=x.device), float("nan"))
        else:
            has_nan = xp.isnan(values._data).any(axis=d, keepdims=True)
            out = _idx.masked_fill(out, Tensor(has_nan, device=x.device), float("nan"))
        if not keepdim:
            out = _shape.squeeze(out, d)
        elif dim is None:
            out = _shape.reshape(out, (1,) * x._data.ndim)
        outs.append(out)
    return outs[0] if qs.ndim == 0 else _shape.stack(outs, 0)


def cov(input, *, correction=1, fweights=None, aweights=None) -> Tensor:
    """Covariance of the variables in the rows of ``input`` (columns are observations), with
    optional integer frequency and float observation weights (``numpy.cov``'s definition)."""
    x = float_operand(input, "cov")
    if x._data.ndim > 2:
        raise ArgumentError(f"cov: expected a 1-D or 2-D tensor, got shape {x._data.shape}")
    if x._data.ndim < 2:
        x = _shape.reshape(x, (1, -1))
    n_obs = x._data.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is None:
            continue
        weights = as_tensor(weights, "cov")
        if weights._data.shape != (n_obs,):
            raise ArgumentError(f"cov: {name} must be a 1-D tensor of {n_obs} observations, got shape "
                             f"{weights._data.shape}")
        if name == "fweights" and weights._data.dtype.kind not in "iu":
            raise TypeError(f"cov: fweights must be integers, got {weights._data.dtype}")
        weights = weights.to(x._data.dtype)
        w = weights if w is None else w * weights
    if w is None:
        mean = _red.mean(x, 1, keepdim=True)
        total = float(n_obs)
        norm = total - correction
    else:
        total = _red.sum(w)
        mean = _red.sum(x * w, 1, keepdim=True) / total
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = total - correction
        else:
            norm = total - correction * _red.sum(w * as_tensor(aweights, "cov").to(x._data.dtype)) / total
    centred = x - mean
    weighted = centred if w is None else centred * w
    out = _linx.mm(weighted, _shape.transpose(centred, 0, 1))
    if isinstance(norm, Tensor):
        norm = _ew.maximum(norm, _creation_zero(norm))
    else:
        norm = builtins.max(norm, 0)
    out = out / norm
    return _shape.reshape(out, ()) if out._data.shape == (1, 1) else out    # one variable: a 0-d result


def _creation_zero(t):
    return Tensor(backend.array_module(t.device).zeros((), t._data.dtype), device=t.device)


def corrcoef(input) -> Tensor:
    """Pearson correlation coefficients of the rows (clipped to [-1, 1] as NumPy)."""
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    d = _idx.diagonal(c)
    stddev = _ew.sqrt(d)
    c = c / _shape.unsqueeze(stddev, 1) / _shape.unsqueeze(stddev, 0)
    return _ew.clamp(c, -1, 1)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest on ties) and an index of it;
    the gradient reaches that one element."""
    x = as_tensor(input, "mode")
    d = normalize_dim(dim, builtins.max(x._data.ndim, 1), "mode")
    data = backend.to_device(x._data, backend.CPU) if x.device.type != "cpu" else x._data
    arr = np.moveaxis(np.asarray(data).reshape(data.shape or (1,)), d, -1)
    flat = arr.reshape(-1, arr.shape[-1]) if arr.size else arr.reshape(-1, builtins.max(arr.shape[-1], 1))
    if arr.shape[-1] == 0:
        raise IndexError(f"mode: cannot compute the mode of an empty dim {d} (shape {x._data.shape})")
    index = np.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        vals, counts = np.unique(row, return_counts=True)
        best = vals[np.argmax(counts)]                 # np.unique sorts: the smallest wins ties
        index[r] = np.nonzero(row == best)[0][-1]      # PyTorch returns the last occurrence
    index = np.moveaxis(index.reshape(arr.shape[:-1] + (1,)), -1, d)
    idx = Tensor(backend.to_device(index, x.device), device=x.device)
    work = x if x._data.ndim else _shape.reshape(x, 1)
    values = _idx.gather(work, d, idx)
    if not keepdim or x._data.ndim == 0:
        values, idx = _shape.squeeze(values, d), _shape.squeeze(idx, d)
    if x._data.ndim == 0:
        values, idx = _shape.reshape(values, ()), _shape.reshape(idx, ())
    return ModeResult(values, idx)


def nanmedian(input, dim=None, keepdim=False):
    """The median ignoring NaN (the lower of the two middle values, as :func:`median`); with ``dim``
    also an index of it.  A slice of NaN only gives NaN.  Integers (no NaN) are :func:`median`'s, in their dtype."""
    x = as_tensor(input, "nanmedian")
    if x._data.dtype.kind != "f":
        if dim is None:
            return _scan.median(x)
        result = _scan.median(x, dim, keepdim)
        return NanmedianResult(result.values, result.indices)
    xp = backend.array_module(x.device)
    if dim is None:
        flat = _shape.reshape(x, -1)
        values = _sorting.sort(flat, 0).values
        count = int(xp.sum(~xp.isnan(flat._data)))
        if count == 0:
            return _shape.reshape(_idx.narrow(values, 0, 0, 1), ()) * float("nan") if values._data.size else \
                Tensor(xp.asarray(np.nan, dtype=x._data.dtype), device=x.device)
        return _shape.reshape(_idx.narrow(values, 0, (count - 1) // 2, 1), ())
    d = normalize_dim(dim, builtins.max(x._data.ndim, 1), "nanmedian")
    work = x if x._data.ndim else _shape.reshape(x, 1)
    order = _sorting.sort(work, d)
    count = xp.sum(~xp.isnan(work._data), axis=d, keepdims=True)
    n = work._data.shape[d]
    # a slice of NaN only: PyTorch picks the middle of the (stable) sorted order
    pos = xp.where(count == 0, (n - 1) // 2, (count - 1) // 2).astype(np.int64)
    pos_t = Tensor(pos, device=x.device)
    values = _idx.gather(order.values, d, pos_t)
    index = _idx.gather(order.indices, d, pos_t)
    if not keepdim or x._data.ndim == 0:
        values, index = _shape.squeeze(values, d), _shape.squeeze(index, d)
    return NanmedianResult(values, index)


def msort(input) -> Tensor:
    """The input sorted along dim 0 (the values of ``sort(input, 0)``)."""
    return _sorting.sort(input, 0).values


# ----------------------------------------------------------------------------- products
def vdot(input, other) -> Tensor:
    """sum(conj(x) * y) of two 1-D tensors (real tensors: the dot product)."""
    return _linx.dot(input, other)


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, _linx.mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled_sum(input, _linx.outer(vec1, vec2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    return _scaled_sum(input, _red.sum(_linx.bmm(batch1, batch2), 0), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:                      # PyTorch ignores input (even NaN in it) when beta is 0
        return _shape.expand(scaled, np.broadcast_shapes(as_tensor(input, "add")._data.shape, scaled._data.shape))
    return (as_tensor(input, "add") if beta == 1 else as_tensor(input, "add") * beta) + scaled


def chain_matmul(*matrices) -> Tensor:
    """The product of 2-D matrices, multiplied in the cheapest order (as ``linalg.multi_dot``)."""
    ms = _tensors(matrices, "chain_matmul")
    if not ms:
        raise ArgumentError("chain_matmul: expected at least one matrix")
    for m in ms:
        if m._data.ndim != 2:
            raise ArgumentError(f"chain_matmul: expected 2-D tensors, got shape {m._data.shape}")
    return _multiply_in_order(ms, *_chain_order([m._data.shape for m in ms]))


def _chain_order(shapes):
    """The classic matrix-chain dynamic programme: cost[i][j] and the split of each sub-chain."""
    dims = [shapes[0][0]] + [s[1] for s in shapes]
    n = len(shapes)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = builtins.min(
                (cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k) for k in range(i, j))
    return split, 0, n - 1


def _multiply_in_order(ms, split, i, j):
    if i == j:
        return ms[i]
    k = split[i][j]
    return _linx.mm(_multiply_in_order(ms, split, i, k), _multiply_in_order(ms, split, k + 1, j))


# ----------------------------------------------------------------------------- pointwise math
def logit(input, eps=None) -> Tensor:
    """log(z / (1 - z)), z = clamp(x, eps, 1 - eps) when ``eps`` is given;  d logit = g / (z (1 - z))"""
    z = float_operand(input, "logit")
    if eps is not None:
        z = _ew.clamp(z, eps, 1 - eps)
    return _ew.log(z) - _math.log1p(-z)


def float_power(input, exponent) -> Tensor:
    """input ** exponent computed in float64 (PyTorch's float_power always returns double)."""
    base = input.to(np.float64) if isinstance(input, Tensor) else Tensor(np.asarray(input, np.float64))
    exp = exponent.to(np.float64) if isinstance(exponent, Tensor) else float(exponent)
    return _ew.pow(base, exp)


def fmax(input, other) -> Tensor:
    """The elementwise maximum, NaN ignored where one side has it; the gradient goes to the chosen
    side (``input`` on ties, as PyTorch)."""
    return _nan_ignoring_extreme("fmax", input, other, _cmp.ge)


def fmin(input, other) -> Tensor:
    """The elementwise minimum, NaN ignored where one side has it (see :func:`fmax`)."""
    return _nan_ignoring_extreme("fmin", input, other, _cmp.le)


def _nan_ignoring_extreme(opname, input, other, keeps_input):
    a, b = as_tensor(input, opname), as_tensor(other, opname)
    take_a = _cmp.logical_or(keeps_input(a, b), _cmp.isnan(b))
    return _ew.where(take_a, a, b)


def logaddexp2(input, other) -> Tensor:
    """log2(2^x + 2^y) = logaddexp(x ln 2, y ln 2) / ln 2."""
    ln2 = math.log(2.0)
    return _math.logaddexp(float_operand(input, "logaddexp2") * ln2, float_operand(other, "logaddexp2") * ln2) / ln2


def ldexp(input, other) -> Tensor:
    """input * 2 ** other, in the promoted dtype of the two (the default float for integers), as PyTorch's."""
    x, e = float_operand(input, "ldexp"), as_tensor(other, "ldexp")
    dtype = backend.result_type(x._data, e._data)
    if dtype.kind == "f" and dtype != x._data.dtype:
        x = x.to(dtype)
    return x * _math.exp2(e.to(x._data.dtype))


def renorm(input, p, dim, maxnorm) -> Tensor:
    """Each sub-tensor along ``dim`` rescaled to p-norm ``maxnorm`` where its norm exceeds it
    (scale = maxnorm / (norm + 1e-7), PyTorch's guard)."""
    x = float_operand(input, "renorm")
    if x._data.ndim < 2:
        raise ArgumentError(f"renorm: expected at least a 2-D tensor, got shape {x._data.shape}")
    d = normalize_dim(dim, x._data.ndim, "renorm")
    if p <= 0:
        raise ArgumentError(f"renorm: p must be positive, got {p}")
    others = tuple(i for i in range(x._data.ndim) if i != d)
    norms = _scan.norm(x, p, others, keepdim=True)
    scale = _ew.where(norms > maxnorm, maxnorm / (norms + 1e-7), _creation_ones_like(norms))
    return x * scale


def mvlgamma(input, p) -> Tensor:
    """The multivariate log-gamma: p(p-1)/4 log(pi) + sum_{j<p} lgamma(x - j/2) (needs x > (p-1)/2)."""
    x = float_operand(input, "mvlgamma")
    if p < 1:
        raise ArgumentError(f"mvlgamma: p must be at least 1, got {p}")
    bound = (p - 1) / 2
    if backend.array_module(x.device).any(x._data <= bound):
        raise ArgumentError(f"mvlgamma: all elements must be greater than (p-1)/2 = {bound}")
    total = _math.lgamma(x)
    for j in range(1, p):
        total = total + _math.lgamma(x - j / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


def positive(input) -> Tensor:
    """``input`` itself (PyTorch's unary plus)."""
    return as_tensor(input, "positive")


def sgn(input) -> Tensor:
    """The sign of a real tensor (:func:`sign`; for complex tensors PyTorch gives x / |x|)."""
    return _math.sign(input)
