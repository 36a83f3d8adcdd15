"""Shape ops: views and rearrangements (reshape, squeeze, transpose, permute, expand),
indexing (``x[...]``, index_select), joining and splitting (cat, stack, split, chunk) and pad.

None of these does arithmetic: each backward moves the gradient back to where the input's
elements were.  Views (reshape, transpose, basic slicing) return NumPy/CuPy views, no copy.
Gathers (integer-array indexing, index_select) scatter-add their gradient, because an index
may repeat: that loop is ``kernels/scatter.py``.

Every op here is linear, so each backward is another op of this file applied to the gradient
(a gather's backward is a scatter-add and the scatter-add's backward the gather; cat's is
split and split's cat; pad's is the opposite pad).  Called through ``run``, that op works on
arrays in the first-order pass and records a graph under ``create_graph``
(``differentiable_backward``).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _formula as f
from ._args import ShapeError, as_tensor, dim_alias, normalize_dim, shape_arg
from ._kernels import kernels

__all__ = ["reshape", "view", "flatten", "squeeze", "unsqueeze", "transpose", "permute", "expand",
           "broadcast_to", "getitem", "index_select", "cat", "stack", "split", "chunk", "pad"]


# ----------------------------------------------------------------------------- views
class Reshape(Function):
    """d reshape(x) = g reshaped back to x's shape"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Transpose(Function):
    """d permute(x, p) = permute(g, inverse of p)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, perm):
        ctx.inverse = tuple(int(i) for i in np.argsort(perm))
        return x.transpose(perm)

    @staticmethod
    def backward(ctx, g):
        return f.permute(g, ctx.inverse)


class Expand(Function):
    """d broadcast_to(x) = g; the engine sums the broadcast dims back (unbroadcast)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        return backend.xp_of(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g


def reshape(input, *shape) -> Tensor:
    """Same elements, new shape; one size may be -1 (inferred)."""
    x = as_tensor(input, "reshape")
    shape = shape_arg(shape, "reshape")
    if shape == x._data.shape:
        return Reshape.apply(x, shape)      # a new view even so, as PyTorch: hooks and requires_grad_ stay its own
    if builtins.sum(1 for s in shape if s == -1) > 1 or builtins.any(s < -1 for s in shape):
        raise ShapeError(f"reshape: invalid shape {shape} (sizes must be >= 0, with at most one -1)")
    known = int(np.prod([s for s in shape if s != -1]))
    size = x._data.size
    if (-1 in shape and (known == 0 or size % known)) or (-1 not in shape and known != size):
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x._data.shape} ({size} elements) "
                         f"into shape {shape}")
    return Reshape.apply(x, shape)


def view(input, *shape) -> Tensor:
    """:func:`reshape` that shares memory, or raises where the strides of ``input`` cannot give
    ``shape`` without a copy (a transposed tensor flattened, ...), as PyTorch's ``view``.
    ``view(dtype)`` reinterprets the bytes instead (:func:`view_dtype`)."""
    x = as_tensor(input, "view")
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        return view_dtype(x, shape[0])
    out = reshape(x, *shape)
    if x._data.size and out is not x and not backend.xp_of(x._data).may_share_memory(out._data, x._data):
        raise ShapeError(f"view: a tensor of shape {x._data.shape} and strides {x.stride()} cannot be viewed "
                           f"as shape {out._data.shape} without a copy (at least one dimension spans across "
                           f"two contiguous subspaces); use .reshape(...) instead")
    return out


def view_dtype(input, dtype) -> Tensor:
    """``x.view(dtype)``: the same memory read as ``dtype`` (a bit cast, not a conversion).  With
    another element size the last dim scales by the ratio of the sizes; it must then have stride 1
    and, going to a wider type, a size the ratio divides (PyTorch's rules).  The result takes no
    part in autograd, as PyTorch's (bits have no derivative), even for the same dtype."""
    x = as_tensor(input, "view")
    new = backend.as_dtype(dtype)
    old_size, new_size = x._data.dtype.itemsize, new.itemsize
    if old_size != new_size:
        if x._data.ndim == 0:
            raise RuntimeError(f"view: a 0-dim {x._data.dtype} tensor cannot be viewed as {new} "
                               f"(element sizes {old_size} and {new_size} differ)")
        if x._data.shape[-1] != 1 and x._data.strides[-1] != old_size:
            raise RuntimeError(f"view: viewing {x._data.dtype} as {new} (element sizes {old_size} and {new_size}) "
                               f"needs a last dim of stride 1, got strides {x.stride()}")
        if new_size > old_size and x._data.shape[-1] % (new_size // old_size):
            raise RuntimeError(f"view: the last dim of shape {x._data.shape} is not divisible by "
                               f"{new_size // old_size}, the ratio of the element sizes of {new} and {x._data.dtype}")
    data = x._data
    if old_size != new_size and data.shape[-1] == 1 and data.strides[-1] != old_size:
        data = data.reshape(data.shape)         # a size-1 last dim's stride is arbitrary: NumPy wants it to match
    return Tensor._wrap(data.view(new))


def flatten(input, start_dim=0, end_dim=-1) -> Tensor:
    x = as_tensor(input, "flatten")
    if x._data.ndim == 0:
        return reshape(x, 1)
    start = normalize_dim(start_dim, x._data.ndim, "flatten")
    end = normalize_dim(end_dim, x._data.ndim, "flatten")
    if start > end:
        raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if start == end:
        return x                            # nothing to flatten: the input itself, as PyTorch documents
    shape = x._data.shape
    return reshape(x, shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:])


def squeeze(input, dim=None) -> Tensor:
    """Drop dims of size 1 (all of them, or those in ``dim`` that have size 1)."""
    x = as_tensor(input, "squeeze")
    shape = x._data.shape
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {d for d in (normalize_dim(d, x._data.ndim, "squeeze") for d in dims)
                if x._data.ndim and shape[d] == 1}
    return reshape(x, tuple(s for i, s in enumerate(shape) if i not in dims))


def unsqueeze(input, dim) -> Tensor:
    """Insert a dim of size 1 at ``dim`` (in ``[-ndim-1, ndim]``)."""
    x = as_tensor(input, "unsqueeze")
    d = normalize_dim(dim, x._data.ndim + 1, "unsqueeze")
    shape = x._data.shape
    return reshape(x, shape[:d] + (1,) + shape[d:])


def permute(input, *dims) -> Tensor:
    x = as_tensor(input, "permute")
    dims = shape_arg(dims, "permute")
    n = x._data.ndim
    perm = tuple(normalize_dim(d, n, "permute") for d in dims)
    if sorted(perm) != list(range(n)):
        raise ShapeError(f"permute: {dims} is not a permutation of the {n} dims of shape {x._data.shape}")
    if perm == tuple(range(n)):
        return Reshape.apply(x, x._data.shape)      # a new view, as PyTorch's
    return Transpose.apply(x, perm)


def transpose(input, dim0, dim1) -> Tensor:
    """Swap two dims."""
    x = as_tensor(input, "transpose")
    n = x._data.ndim
    a, b = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    perm = list(range(n))
    perm[a], perm[b] = perm[b], perm[a]
    return permute(x, tuple(perm))


def broadcast_to(input, shape) -> Tensor:
    """``input`` seen with ``shape`` without copying (PyTorch's ``expand``: -1 keeps a dim's size)."""
    x = as_tensor(input, "broadcast_to")
    shape = shape_arg((shape,), "broadcast_to")
    if shape == x._data.shape:
        return Reshape.apply(x, shape)      # a new view (a writable one, unlike NumPy's broadcast_to)
    if -1 in shape:
        lead = len(shape) - x._data.ndim
        if lead < 0 or builtins.any(s == -1 for s in shape[:lead]):
            raise ShapeError(f"broadcast_to: -1 keeps an existing dim's size, and {shape} puts it on a new leading "
                             f"dim of a tensor of shape {x._data.shape}")
        shape = tuple(x._data.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    try:
        if np.broadcast_shapes(x._data.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"broadcast_to: a tensor of shape {x._data.shape} cannot be broadcast to {shape}") from None
    return Expand.apply(x, shape)


def expand(input, *sizes) -> Tensor:
    """Broadcast to ``sizes`` without copying; -1 keeps a dim's size."""
    x = as_tensor(input, "expand")
    sizes = shape_arg(sizes, "expand")
    lead = len(sizes) - x._data.ndim
    if lead < 0:
        raise ShapeError(f"expand: {sizes} has fewer dims than the tensor's shape {x._data.shape}")
    shape = tuple(x._data.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    if builtins.any(s < 0 for s in shape):
        raise ShapeError(f"expand: -1 is not allowed for new leading dims, got {sizes}")
    return broadcast_to(x, shape)


# ----------------------------------------------------------------------------- indexing
def normalize_index(index, data):
    """Turn a user's index into one NumPy/CuPy understand: Tensors and lists become arrays
    on ``data``'s device; basic parts (ints, slices, None, Ellipsis) pass through."""
    xp = backend.xp_of(data)
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, Tensor):
            p = p._data
        elif isinstance(p, (bool, np.bool_)):       # x[True]: a 0-d mask (a new dim of 1, or 0 when False)
            p = np.asarray(p)
        elif isinstance(p, (list, tuple, range, np.ndarray)) or backend.is_array(p):
            p = _sequence_index(p) if isinstance(p, (list, tuple, range)) else p
        else:
            if isinstance(p, np.integer):
                p = int(p)
            if not (p is None or p is Ellipsis or isinstance(p, (int, slice))) or isinstance(p, bool):
                raise IndexError(f"index: unsupported index {p!r} (use ints, slices, None, ..., "
                                 f"integer arrays or boolean masks)")
            out.append(p)
            continue
        if p.dtype.kind not in "iub":
            raise IndexError(f"index: arrays used as indices must be integers or booleans, got {p.dtype}")
        if p.ndim == 0 and p.dtype.kind in "iu" and p.dtype != np.uint8:
            out.append(int(p))                 # PyTorch reads a 0-d integer tensor as an int
            continue
        if type(p) is not type(data):
            p = xp.asarray(p) if not isinstance(p, np.ndarray) or xp is not np else p
            if type(p) is not type(data):
                p = backend.to_device(p, backend.device_of(data))
        out.append(p)
    return tuple(out)


def _sequence_index(p):
    """A Python list, tuple or range used as one index part: an integer (or bool) array, as
    PyTorch reads it (Tensors inside are unwrapped)."""
    items = [backend.to_device(q._data, backend.CPU) if isinstance(q, Tensor) else q for q in p]
    try:
        return np.asarray(items) if items else np.zeros(0, dtype=np.int64)
    except ValueError:
        raise IndexError(f"index: the sequence {p!r} is not a valid integer or boolean index") from None


def split_integers(index):
    """PyTorch's rule for integers beside advanced indices: integers index as basic indexing
    (like ``select``), before the arrays, so ``x[1, :, idx]`` is ``x[1][:, idx]`` (NumPy would
    count the 1 as an advanced index and move the result's dims).  Returns ``(first, then)``:
    a basic index applying the integers, slices and Nones, and the index to apply after it;
    or None when the index has no integers or no arrays (NumPy and PyTorch agree)."""
    arrays = [p for p in index if backend.is_array(p)]
    if not arrays or not builtins.any(isinstance(p, int) for p in index):
        return None
    first, then = [], []
    for p in index:
        if backend.is_array(p):
            width = p.ndim if p.dtype == np.bool_ else 1
            first.extend([slice(None)] * width)
            then.append(p)
        elif isinstance(p, int):
            first.append(p)
        elif p is Ellipsis:
            first.append(p)
            then.append(p)
        else:                                  # a slice or None: applied first, kept whole after
            first.append(p)
            then.append(slice(None))
    return tuple(first), tuple(then)


def _is_basic(index) -> bool:
    return builtins.all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in index)


def _row_index(index):
    """The integer array ``i`` when the index is ``x[i]`` or ``x[i, :, ...]`` (a row gather)."""
    first = index[0] if index else None
    if not backend.is_array(first) or first.dtype.kind not in "iu":
        return None
    if builtins.all((isinstance(p, slice) and p == slice(None)) or p is Ellipsis for p in index[1:]):
        return first
    return None


class GetItem(Function):
    """d x[index] = g placed back at the indexed positions of a zero tensor; positions that
    were selected several times accumulate (scatter-add)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        out = x[index]
        if isinstance(out, np.generic):      # one element: a 0-d view of x, not a copy (as PyTorch)
            out = x[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return out

    @staticmethod
    def backward(ctx, g):
        return IndexPut.run(g, ctx.shape, ctx.index)


class IndexPut(Function):
    """The adjoint of ``x[index]``: zeros of ``shape`` with g added at the indexed positions
    (scatter-add);  d = gg[index], a GetItem."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.index = index
        xp = backend.xp_of(g)
        dx = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):                       # a view: every element at most once
            dx[index] = g
            return dx
        rows = _row_index(index)
        if rows is not None and len(shape) >= 1:    # x[i]: scatter whole rows
            rows = rows.reshape(-1) % builtins.max(shape[0], 1)
            dx_rows = dx.reshape(shape[0], int(np.prod(shape[1:])))      # -1 is ambiguous for 0 rows
            kernels("scatter").index_add_rows(dx_rows, rows, xp.ascontiguousarray(g).reshape(rows.shape[0], dx_rows.shape[1]))
            return dx
        # general advanced index: scatter into the flat positions the index selected
        positions = xp.arange(dx.size).reshape(shape)[index].reshape(-1)
        kernels("scatter").index_add_rows(dx.reshape(-1, 1), positions, xp.ascontiguousarray(g).reshape(-1, 1))
        return dx

    @staticmethod
    def backward(ctx, gg):
        return GetItem.run(gg, ctx.index)


def getitem(input, index) -> Tensor:
    """``x[index]`` with ints, slices, None, Ellipsis, integer arrays, lists and boolean masks,
    with PyTorch's dimension order when integers and arrays mix (:func:`split_integers`)."""
    x = as_tensor(input, "index")
    idx = normalize_index(index, x._data)
    split = split_integers(idx)
    try:
        if split is not None:
            return GetItem.apply(GetItem.apply(x, split[0]), split[1])
        return GetItem.apply(x, idx)
    except IndexError as exc:
        raise IndexError(f"index: {exc} (tensor of shape {x._data.shape})") from None


class IndexSelect(Function):
    """out = x.take(index, dim);  dx = zeros, then dx[index[i]] += g[i] along dim (scatter-add)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x.shape, dim, index
        return backend.xp_of(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return IndexAdd.run(g, ctx.shape, ctx.dim, ctx.index), None, None


class IndexAdd(Function):
    """The adjoint of index_select: zeros of ``shape``, then dx[index[i]] += g[i] along dim
    (scatter-add);  d = index_select(gg, dim, index)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, g, shape, dim, index):
        ctx.dim, ctx.index = dim, index
        xp = backend.xp_of(g)
        moved_shape = (shape[dim],) + shape[:dim] + shape[dim + 1:]
        dx = xp.zeros(moved_shape, dtype=g.dtype)
        dx_rows = dx.reshape(moved_shape[0], -1)
        g_rows = xp.ascontiguousarray(xp.moveaxis(g, dim, 0)).reshape(index.shape[0], dx_rows.shape[1])
        kernels("scatter").index_add_rows(dx_rows, index, g_rows)
        return xp.moveaxis(dx, 0, dim)

    @staticmethod
    def backward(ctx, gg):
        return IndexSelect.run(gg, ctx.dim, ctx.index)


def index_select(input, dim, index) -> Tensor:
    """Entries of ``input`` along ``dim`` at the positions in the 1-D integer ``index``."""
    x = as_tensor(input, "index_select")
    d = normalize_dim(dim, x._data.ndim, "index_select")
    idx = index._data if isinstance(index, Tensor) else index
    idx = backend.to_device(np.asarray(idx) if not backend.is_array(idx) else idx, x.device)
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise IndexError(f"index_select: index must be a 1-D integer tensor, got shape {tuple(idx.shape)} "
                         f"dtype {idx.dtype}")
    size = x._data.shape[d] if x._data.ndim else 1
    if idx.size and (int(idx.min()) < -size or int(idx.max()) >= size):
        raise IndexError(f"index_select: index out of range for dim {d} of size {size} "
                         f"(min {int(idx.min())}, max {int(idx.max())})")
    idx = (idx % builtins.max(size, 1)).astype(np.int64, copy=False)
    if x._data.ndim == 0:
        return reshape(x, 1)[idx]
    return IndexSelect.apply(x, d, idx)


# ----------------------------------------------------------------------------- joining and splitting
def _common_operands(tensors, opname):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{opname}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ArgumentError(f"{opname}: expected a non-empty list of tensors")
    ts = [as_tensor(t, opname) for t in tensors]
    dtype = ts[0]._data.dtype
    for t in ts[1:]:
        if t._data.dtype != dtype:
            dtype = backend.promote_types(dtype, t._data.dtype)
    return [t if t._data.dtype == dtype else t.to(dtype) for t in ts]


class Cat(Function):
    """d cat(xs, dim) = g split at the inputs' boundaries along dim"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.bounds = np.cumsum([a.shape[dim] for a in arrays])[:-1].tolist()
        return backend.xp_of(arrays[0]).concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        pieces = Split.run(g, ctx.bounds, ctx.dim)
        return pieces if isinstance(pieces, tuple) else (pieces,)


def cat(tensors, dim=None, *, axis=None) -> Tensor:
    """Join tensors along an existing dim (0 by default, ``axis=`` NumPy's name for it); all other
    sizes must agree.  Empty 1-D tensors (shape ``(0,)``) join anything, as in PyTorch:
    ``out = cat([tensor([]), x])`` starts an accumulator."""
    dim = dim_alias(dim, axis, "cat")
    dim = 0 if dim is None else dim
    ts = _common_operands(tensors, "cat")
    if builtins.any(t._data.ndim != 1 for t in ts):
        ts = [t for t in ts if t._data.shape != (0,)] or ts[:1]
    ndim = ts[0]._data.ndim
    if ndim == 0:
        raise ArgumentError("cat: zero-dimensional tensors cannot be concatenated (use stack)")
    d = normalize_dim(dim, ndim, "cat")
    ref = ts[0]._data.shape
    for k, t in enumerate(ts):
        s = t._data.shape
        if len(s) != ndim or s[:d] + s[d + 1:] != ref[:d] + ref[d + 1:]:
            raise ShapeError(f"cat: tensor {k} has shape {s}, which does not match tensor 0's shape "
                             f"{ref} outside dim {d}")
    return Cat.apply(*ts, dim=d)


class Stack(Function):
    """d stack(xs, dim) = the slices of g along dim, one per input"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        return backend.xp_of(arrays[0]).stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        n = g.shape[ctx.dim]
        pieces = Split.run(g, list(range(1, n)), ctx.dim)
        pieces = pieces if isinstance(pieces, tuple) else (pieces,)
        return tuple(p.reshape(p.shape[:ctx.dim] + p.shape[ctx.dim + 1:]) for p in pieces)


def stack(tensors, dim=None, *, axis=None) -> Tensor:
    """Join same-shaped tensors along a new dim (0 by default, ``axis=`` NumPy's name for it)."""
    dim = dim_alias(dim, axis, "stack")
    dim = 0 if dim is None else dim
    ts = _common_operands(tensors, "stack")
    shape = ts[0]._data.shape
    for k, t in enumerate(ts):
        if t._data.shape != shape:
            raise ShapeError(f"stack: tensor {k} has shape {t._data.shape} but tensor 0 has shape {shape}")
    d = normalize_dim(dim, len(shape) + 1, "stack")
    return Stack.apply(*ts, dim=d)


class Split(Function):
    """d split(x) = the pieces' gradients joined back along dim (zeros for unused pieces)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, bounds, dim):
        ctx.dim = dim
        return tuple(backend.xp_of(x).split(x, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return Cat.run(*grads, dim=ctx.dim)


def split(tensor, split_size_or_sections, dim=0) -> tuple:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given sizes
    (the first argument is named ``tensor``, as PyTorch's)."""
    x = as_tensor(tensor, "split")
    d = normalize_dim(dim, x._data.ndim, "split")
    n = x._data.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ArgumentError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n or builtins.any(s < 0 for s in sizes):
            raise ShapeError(f"split: sections {sizes} do not add up to dim {d}'s size {n}")
    if not sizes:
        sizes = [0]
    bounds = np.cumsum(sizes)[:-1].tolist()
    out = Split.apply(x, bounds, d)
    return out if isinstance(out, tuple) else (out,)


def chunk(input, chunks, dim=0) -> tuple:
    """Split into ``chunks`` pieces of equal size (the last may be smaller), as PyTorch."""
    x = as_tensor(input, "chunk")
    if chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be positive, got {chunks}")
    d = normalize_dim(dim, x._data.ndim, "chunk")
    n = x._data.shape[d]
    return split(x, builtins.max(1, -(-n // chunks)), d)


# ----------------------------------------------------------------------------- pad
class ConstantPad(Function):
    """Pad each dim by (before, after), negative amounts cropping;  d pad = g with the padding
    cut off (and zeros where the input was cropped)."""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, widths, value):
        xp = backend.xp_of(x)
        crop = tuple(slice(-b if b < 0 else 0, s + a if a < 0 else s) for (b, a), s in zip(widths, x.shape))
        grow = [(builtins.max(b, 0), builtins.max(a, 0)) for b, a in widths]
        ctx.widths = widths
        return xp.pad(x[crop], grow, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        """The adjoint pads by the opposite amounts: it crops what was grown and puts zeros
        where the input was cropped."""
        return ConstantPad.run(g, tuple((-b, -a) for b, a in ctx.widths), 0.0)


def _pad_index(n, before, after, mode, xp):
    """The source positions of a dim padded by (before, after) in the reflect/replicate/circular
    modes: output position p reads input position src(p - before), negative amounts cropping.
    Reflect and replicate index the whole input (as PyTorch, cropping one side can read what
    was cropped, mirrored or repeated, at the other); circular wraps around what is left after
    cropping."""
    if mode == "circular":
        kept = n + builtins.min(before, 0) + builtins.min(after, 0)
        src = np.arange(-builtins.max(before, 0), kept + builtins.max(after, 0)) % builtins.max(kept, 1)
        return xp.asarray(src + builtins.max(-before, 0))
    pos = np.arange(-before, n + after)
    if mode == "replicate":
        src = np.clip(pos, 0, n - 1)
    else:   # reflect: mirror without repeating the edge
        period = 2 * (n - 1)
        src = np.abs(pos) % period if period else np.zeros_like(pos)
        src = np.where(src >= n, period - src, src)
    return xp.asarray(src)


def pad(input, pad, mode="constant", value=0.0) -> Tensor:
    """PyTorch's ``F.pad``: ``pad = (last_before, last_after, 2nd_last_before, ...)``.

    ``mode='constant'``, ``'reflect'``, ``'replicate'``, ``'circular'``; a negative amount crops,
    in every mode.  The limits are PyTorch's: reflect pads by less than the dim's size, circular
    by at most its size, and those two and replicate keep at least one entry.  Where circular
    padding exceeds what its cropping leaves, the period continues (PyTorch refuses, or reads
    memory it never wrote).
    """
    x = as_tensor(input, "pad")
    pad = [int(p) for p in pad]
    n_dims = len(pad) // 2
    if len(pad) % 2 or n_dims > x._data.ndim:
        raise ArgumentError(f"pad: expected an even number of amounts for at most {x._data.ndim} dims, got {tuple(pad)}")
    widths = [(0, 0)] * (x._data.ndim - n_dims) + [(pad[2 * k], pad[2 * k + 1]) for k in reversed(range(n_dims))]
    if mode == "constant":
        for (b, a), s in zip(widths, x._data.shape):
            if s + builtins.min(b, 0) + builtins.min(a, 0) < 0:
                raise ArgumentError(f"pad: amounts {tuple(pad)} crop more than the shape {x._data.shape} holds")
        return ConstantPad.apply(x, tuple(widths), value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ArgumentError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    xp = backend.xp_of(x._data)
    out = x
    for d, ((b, a), s) in enumerate(zip(widths, x._data.shape)):
        if b == a == 0:
            continue
        shape = f"(input shape {x._data.shape})"
        if mode == "reflect" and (b >= s or a >= s):
            raise ArgumentError(f"pad: reflect padding ({b}, {a}) must be smaller than dim {d}'s size {s} {shape}")
        if mode == "circular" and (b > s or a > s):
            raise ArgumentError(f"pad: circular padding ({b}, {a}) must not exceed dim {d}'s size {s} {shape}: it "
                             "would wrap around more than once")
        kept = s + builtins.min(b, 0) + builtins.min(a, 0)
        if s + b + a < 1 or (mode == "circular" and kept < 1):
            raise ArgumentError(f"pad: {mode} padding ({b}, {a}) crops every entry of dim {d} of size {s} {shape}")
        out = IndexSelect.apply(out, d, _pad_index(s, b, a, mode, xp))
    return out
