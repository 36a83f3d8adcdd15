"""Tensor: one array, its gradient, and the node of the graph that produced it.

Every operator and method here delegates to a function in ``minigrad.ops``; the Tensor
itself knows nothing about derivatives.
"""
from __future__ import annotations

import functools
import warnings
import weakref

import numpy as np

from . import backend


# how tensors print (minigrad.set_printoptions changes them; sci_mode None: scientific when the values need it)
PRINT_OPTIONS = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)

# how many inference_mode regions are open (utilities.inference_mode counts them): a tensor made
# inside one is an inference tensor (Tensor.is_inference)
INFERENCE_DEPTH = [0]
# whether any inference_mode region was ever opened: until then the engine skips its inference-tensor checks
INFERENCE_SEEN = [False]


def check_not_inference(t, what):
    """PyTorch refuses to edit an inference tensor (or its view) outside inference_mode: autograd
    keeps no version counter for it, so a graph that read it could not notice the edit."""
    if INFERENCE_SEEN[0] and not INFERENCE_DEPTH[0]:
        base = getattr(t, "_base", None)
        if getattr(t, "_inference", False) or getattr(base, "_inference", False):
            raise RuntimeError(f"{what} to inference tensor outside InferenceMode is not allowed. You can make a "
                               "clone to get a normal tensor before doing inplace update.")


class Size(tuple):
    """PyTorch's ``torch.Size``: the tuple ``Tensor.shape`` and ``Tensor.size()`` return
    (``x.shape == (2, 3)``, ``x.shape == minigrad.Size([2, 3])``); slices and sums stay Sizes."""

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__

    def __repr__(self):
        return f"minigrad.Size({list(self)})"


class Tensor:
    """An n-dimensional array on a device, optionally recording the ops applied to it.

    ``_data`` is the underlying ``numpy.ndarray`` (CPU) or ``cupy.ndarray`` (CUDA); ``data`` is PyTorch's:
    a Tensor on that memory, outside autograd.
    Build tensors with :func:`minigrad.tensor`, :func:`minigrad.zeros`, ... ;
    ``Tensor(...)`` is PyTorch's legacy constructor: ``Tensor(2, 3)`` zeros of that shape (PyTorch
    leaves them uninitialised), ``Tensor()`` an empty one, ``Tensor(data)`` a copy of ``data`` with
    Python numbers and lists in the default float dtype (``Tensor([1, 2])`` is float32) and arrays
    and tensors in their own (PyTorch would convert those too); ``dtype=`` overrides.
    """

    # set only on views and their bases (autograd._note_view): _base, the Tensor whose memory a view
    # looks at; _views, a base's live views (an in-place edit moves them onto the base's new graph).
    # _untracked: set only on what .data returns (its edits bump no version counter, see ops/inplace.py)
    # _inference: set only on tensors made inside inference_mode
    __slots__ = ("_data", "_grad", "_requires_grad", "_grad_fn", "_out_index", "_hooks", "_base", "_views",
                 "_untracked", "_inference", "__weakref__")
    __array_ufunc__ = None      # make NumPy defer to our reflected operators: ndarray + Tensor -> Tensor
    __array_priority__ = 1000

    def __init__(self, *data, dtype=None, device=None, requires_grad=False):
        from .creation import legacy_array
        self._init_leaf(legacy_array(data, dtype, device), requires_grad)

    def _init_leaf(self, array, requires_grad):
        self._data = array
        self._grad = None
        self._requires_grad = False
        self._grad_fn = None
        self._out_index = 0
        self._hooks = None
        if INFERENCE_DEPTH[0]:
            self._inference = True
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array, grad_fn=None, out_index=0):
        """Wrap an array without copying or checking (for ops and the engine)."""
        t = cls.__new__(cls)
        t._data = array
        t._grad = None
        t._requires_grad = grad_fn is not None
        t._grad_fn = grad_fn
        t._out_index = out_index
        t._hooks = None
        if INFERENCE_DEPTH[0]:
            t._inference = True
        return t

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if value and INFERENCE_SEEN[0] and not INFERENCE_DEPTH[0] and getattr(self, "_inference", False):
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        if self._grad_fn is not None and not value:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; "
                               "use .detach() to get a tensor cut from the graph")
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(f"Only Tensors of floating point and complex dtype can require gradients; got "
                               f"dtype {self._data.dtype} (convert with .float() first)")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    def is_inference(self) -> bool:
        """Whether this tensor was made inside ``inference_mode`` (PyTorch's inference tensors: outside
        that mode they may not be edited in place, require grad, or be saved for a backward)."""
        return getattr(self, "_inference", False)

    @property
    def grad(self):
        """The gradient backward() accumulated here (None until then)."""
        grad = self._grad
        if grad is None and self._grad_fn is not None and not self.retains_grad:
            # PyTorch's warning: reading a non-leaf's .grad is usually a slip for the leaf's
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                          "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                          "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                          UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value):
        # checked as PyTorch does, so a wrong .grad fails here and not later inside an optimizer step
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                                   f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                                   "and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{value._data.dtype}' to a tensor "
                                   f"with dtype '{self._data.dtype}'. Please ensure that the gradient and the tensor "
                                   "have the same dtype")
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def _version(self) -> int:
        """How many in-place edits this tensor's memory has had (PyTorch's version counter)."""
        return autograd._versions.version(self._data)

    @property
    def grad_fn(self):
        """The Function node that produced this tensor (None for leaves)."""
        return self._grad_fn

    @property
    def output_nr(self) -> int:
        """Which output of :attr:`grad_fn` this tensor is (0 for leaves and single-output ops)."""
        return self._out_index

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor with respect to every leaf that requires one
        (or only ``inputs``) and add it into the leaves' ``.grad``.  ``gradient`` (a Tensor or
        array of this tensor's shape) is required unless the tensor holds a single element.
        ``create_graph=True`` records the backward's own ops, so ``.grad`` can be
        differentiated again."""
        autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a Tensor it returns
        replaces the gradient.  Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self._grad_fn
            if node._hooks is None:
                node._hooks = {}
            hooks = node._hooks.setdefault(self._out_index, [])
        hooks.append(hook)
        return autograd.RemovableHandle(functools.partial(autograd._remove_from, hooks, hook))

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` on this leaf as soon as its ``.grad`` is final during a backward,
        while the rest of the backward still runs (how DDP starts an all-reduce early).
        Returns a handle whose ``remove()`` unregisters it."""
        return autograd._register_post_accumulate_grad_hook(self, hook)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        if self._grad_fn is not None:
            node = self._grad_fn
            if node._retained is None:
                node._retained = {}
            node._retained[self._out_index] = weakref.ref(self)

    def detach(self) -> "Tensor":
        """The same memory, cut from the graph.  A new array object (a view): the engine tells a
        saved input by identity, so ``y * y.detach()`` must not hand it the same object twice."""
        t = Tensor._wrap(self._data.view())
        if getattr(self, "_inference", False):
            t._inference = True         # the same memory: an inference tensor still (PyTorch's rule)
        return t

    def detach_(self) -> "Tensor":
        if getattr(self, "_base", None) is not None:    # its base's graph would still reach it (PyTorch refuses)
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        """PyTorch's ``.data``: a plain Tensor on this tensor's memory, cut from the graph, whose
        in-place edits (``p.data.mul_(2)``) reach this tensor unseen by autograd: they raise no
        leaf error and bump no version counter (PyTorch gives ``.data`` a counter of its own), so
        a backward that saved these values uses the edited ones.  ``detach()`` is the tracked kind.
        A new array object (a view), for the engine's identity checks as in ``detach()``."""
        t = Tensor._wrap(self._data.view())
        t._untracked = True
        return t

    @data.setter
    def data(self, value):
        """``t.data = other``: ``t`` looks at ``other``'s memory from now on (shape, dtype and device
        may change, as in PyTorch); its graph node and ``.grad`` stay.  An array is accepted too."""
        if isinstance(value, Tensor):
            value = value._data
        elif not backend.is_array(value):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        if self._requires_grad and value.dtype.kind not in "fc":
            raise RuntimeError(f"data set to a tensor of dtype {value.dtype} on a tensor that requires gradients "
                               f"(only floating point tensors can)")
        self._data = value

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> backend.Device:
        return backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim, "size")]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def nelement(self) -> int:
        return int(self._data.size)

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    @property
    def is_sparse(self) -> bool:
        return False

    # Predicates of a real, dense, strided tensor on the CPU or a CUDA GPU: minigrad has no other kind
    # (no sparse, quantized, meta, MPS/XPU, complex or lazily-negated tensors), so these are constants.
    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    @property
    def layout(self):
        """Always ``minigrad.strided`` (as ``torch.strided``): minigrad's tensors are dense arrays."""
        return backend.strided

    is_meta = is_quantized = is_sparse_csr = is_mps = is_xpu = is_mkldnn = is_nested = property(lambda self: False)

    def is_signed(self) -> bool:
        """Whether the dtype holds negative values (floats and signed integers; not uint8 or bool)."""
        return self._data.dtype.kind in "fi"

    def is_nonzero(self) -> bool:
        from .utilities import is_nonzero
        return is_nonzero(self)

    def is_same_size(self, other) -> bool:
        return self._data.shape == other._data.shape

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    def conj(self) -> "Tensor":
        """The complex conjugate: on a real tensor the tensor itself, as PyTorch."""
        return self

    resolve_conj = resolve_neg = conj_physical = conj

    def to_dense(self, dtype=None, *, masked_grad=None) -> "Tensor":
        """A strided tensor is dense already: itself (or converted to ``dtype``), as PyTorch."""
        return self if dtype is None else self.to(dtype)

    def is_pinned(self, device=None) -> bool:
        """False: minigrad never page-locks host memory."""
        return False

    def pin_memory(self, device=None) -> "Tensor":
        """PyTorch copies a CPU tensor into page-locked memory, which needs a GPU; without one it
        raises, as here.  With one, minigrad returns a copy in ordinary memory (it does not
        page-lock: ``is_pinned()`` stays False)."""
        if self.device.type != "cpu":
            raise RuntimeError(f"pin_memory: cannot pin a '{self.device}' tensor, only dense CPU tensors can be pinned")
        if not backend.cuda_is_available():
            raise RuntimeError("pin_memory: Cannot access accelerator device when none is available.")
        return self.clone()

    def is_shared(self) -> bool:
        """Whether the memory may be seen by another process: CPU tensors are reported shared after
        ``share_memory_()`` in PyTorch; minigrad has no shared-memory storage, so False."""
        return False

    def share_memory_(self) -> "Tensor":
        """PyTorch moves the storage into shared memory for multiprocessing.  minigrad's worker
        processes (``data.DataLoader``) pickle tensors instead, so this changes nothing and returns
        ``self``."""
        return self

    def get_device(self) -> int:
        """The CUDA device index, or -1 for a CPU tensor (as PyTorch)."""
        return -1 if self.device.type == "cpu" else (self.device.index or 0)

    def new(self, *args, **kwargs) -> "Tensor":
        """PyTorch's legacy constructor, this tensor's dtype and device: ``new()`` is empty,
        ``new(2, 3)`` or ``new(size=(2, 3))`` uninitialised of that size, ``new(data)`` a tensor of
        that data (a sequence, a tuple included; or a tensor of this dtype, whose memory the result
        shares, as PyTorch)."""
        dtype, device = kwargs.pop("dtype", self._data.dtype), kwargs.pop("device", self.device)
        size = kwargs.pop("size", None)
        if kwargs:
            raise TypeError(f"new(): unexpected arguments {sorted(kwargs)}")
        if size is None and len(args) == 1 and not isinstance(args[0], (int, np.integer)) and not (
                isinstance(args[0], (tuple, list)) and type(args[0]).__name__ == "Size"):
            data = args[0]
            if isinstance(data, Tensor):
                if data._data.dtype != backend.as_dtype(dtype) or data.device != backend.device(device):
                    raise TypeError(f"new(): expected a tensor of dtype {backend.as_dtype(dtype)} on {device}, got "
                                    f"one of dtype {data._data.dtype} on {data.device}")
                return data.detach()
            return Tensor(data, dtype=dtype, device=device)
        size = args if size is None else (size,)
        return _creation.empty(*size, dtype=dtype, device=device) if size else _creation.empty(0, dtype=dtype,
                                                                                              device=device)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        node = self._grad_fn
        return node is not None and node._retained is not None and self._out_index in node._retained

    def data_ptr(self) -> int:
        """The address of the first element (tensors sharing memory share addresses)."""
        return int(self._data.ctypes.data if isinstance(self._data, np.ndarray) else self._data.data.ptr)

    def storage_offset(self) -> int:
        """How many elements the first element lies past the start of the memory it views."""
        base = self._data
        while getattr(base, "base", None) is not None:
            base = base.base
        if base is self._data or not hasattr(base, "ctypes") or not isinstance(base, np.ndarray):
            return 0
        return (self.data_ptr() - int(base.ctypes.data)) // self._data.itemsize

    def ndimension(self) -> int:
        return self._data.ndim

    def stride(self, dim=None):
        """Steps between consecutive elements along each dim, in elements (NumPy counts bytes)."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def type(self, dtype=None, non_blocking=False):
        """Without ``dtype``: the type name (``'minigrad.FloatTensor'``, ``'minigrad.cuda.LongTensor'``);
        with one (a dtype or such a name, ``torch.`` prefix accepted): ``self.to(dtype)``."""
        if dtype is None:
            return backend.type_name(self._data.dtype, self.device)
        if isinstance(dtype, str) and dtype.endswith("Tensor"):      # a type name also names the device
            return self.to("cuda" if ".cuda." in dtype else "cpu", backend.dtype_of_type_name(dtype))
        return self.to(dtype)

    # new_*: a new tensor with this one's dtype and device unless given
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return _creation.tensor(data, **self._new_args(dtype, device, requires_grad))

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return _creation.zeros(*size, **self._new_args(dtype, device, requires_grad))

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return _creation.ones(*size, **self._new_args(dtype, device, requires_grad))

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return _creation.empty(*size, **self._new_args(dtype, device, requires_grad))

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return _creation.full(size, fill_value, **self._new_args(dtype, device, requires_grad))

    def _new_args(self, dtype, device, requires_grad):
        return dict(dtype=self._data.dtype if dtype is None else dtype,
                    device=self.device if device is None else device, requires_grad=requires_grad)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force=False) -> np.ndarray:
        """The data as a NumPy array (shares memory on CPU; refuses tensors that require grad,
        as PyTorch does, so a gradient is never lost silently, unless ``force``: then it is
        ``detach().cpu().numpy()``)."""
        if self._requires_grad and not force:
            raise RuntimeError("numpy(): the tensor requires grad; call .detach().numpy() instead")
        return backend.to_device(self._data, backend.CPU)

    def tolist(self):
        return backend.to_device(self._data, backend.CPU).tolist()

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"item(): a tensor with {self._data.size} elements cannot be converted to a Python "
                               f"number")
        return self._data.reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors with one element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self._data.size} elements is ambiguous")
        return bool(self.item())

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_device(self._data, backend.CPU)
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def to(self, *args, **kwargs) -> "Tensor":
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other_tensor)``; differentiable.
        Returns ``self`` when nothing changes."""
        device, dtype = _parse_to_args(args, kwargs)
        out = self
        if dtype is not None and backend.as_dtype(dtype) != self._data.dtype:
            out = _conv.cast(out, dtype)
        if device is not None and backend.device(device) != self.device:
            out = _conv.transfer(out, device)
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, index=0) -> "Tensor":
        return self.to(f"cuda:{index}")

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool_)

    def byte(self):
        return self.to(backend.uint8)

    def char(self):
        return self.to(backend.int8)

    def short(self):
        return self.to(backend.int16)

    def sum_to_size(self, *size):
        """Sum broadcast dims away until the shape is ``size`` (the reverse of ``expand``)."""
        from .ops._args import shape_arg
        size = shape_arg(size, "sum_to_size")
        shape = self._data.shape
        if len(size) > len(shape) or any(t not in (1, s) for t, s in zip(size[::-1], shape[::-1])):
            raise RuntimeError(f"sum_to_size: size {size} is not expandable to the tensor's shape {shape}")
        lead = len(shape) - len(size)
        dims = tuple(range(lead)) + tuple(lead + i for i, t in enumerate(size) if t == 1 and shape[lead + i] != 1)
        out = self.sum(dims, keepdim=True) if dims else self
        return out.reshape(size)

    def type_as(self, other: "Tensor"):
        return self.to(other.dtype)

    def clone(self) -> "Tensor":
        return _conv.clone(self)

    def contiguous(self) -> "Tensor":
        return self if self._data.flags.c_contiguous else _conv.clone(self)

    def __repr__(self):
        from .printing import tensor_repr
        arr = backend.to_device(self._data, backend.CPU)
        device = f"device='{self.device}'" if self.device != backend.CPU else None
        autograd = (f"grad_fn=<{self._grad_fn.name()}>" if self._grad_fn is not None
                    else "requires_grad=True" if self._requires_grad else None)
        defaults = (backend.get_default_dtype(), backend.int64, backend.bool_)
        return tensor_repr(arr, PRINT_OPTIONS, defaults, device, autograd)

    def __format__(self, format_spec):
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``), as in PyTorch."""
        if self._data.ndim == 0:
            return format(self.item(), format_spec)
        return object.__format__(self, format_spec)

    __hash__ = object.__hash__   # identity, as in PyTorch: __eq__ is elementwise

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __deepcopy__(self, memo):
        """A copy with its own memory, ``requires_grad`` and a copy of ``.grad`` (as PyTorch's)."""
        if self._grad_fn is not None:       # the copy could be neither a leaf nor on the graph: PyTorch refuses
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment. (detach() it, or deepcopy under no_grad before the graph)")
        new = type(self).__new__(type(self))
        new._init_leaf(self._data.copy(), False)
        new._requires_grad = self._requires_grad
        memo[id(self)] = new
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        extra = getattr(self, "__dict__", None)         # a subclass's own attributes
        if extra:
            import copy
            new.__dict__.update(copy.deepcopy(extra, memo))
        return new

    def __reduce_ex__(self, protocol):
        # pickle the CPU data only: graphs and gradients are not serialised
        return (_rebuild, (backend.to_device(self._data, backend.CPU), str(self.device), self._requires_grad))

    # ------------------------------------------------------------------ in-place edits (ops/inplace.py)
    # More in-place methods (sub_, exp_, clamp_, scatter_, ...) are generated from a table at the
    # end of this file; every one follows the rules of ops/inplace.py.
    def zero_(self):
        return _inplace.fill(self, "zero_", backend.xp_of(self._data).zeros(self._data.shape, self._data.dtype))

    def fill_(self, value):
        return _inplace.apply(self, "fill_", _fill_value, value)

    def copy_(self, src, non_blocking=False):
        return _inplace.apply(self, "copy_", _copy_value, src)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Write ``fill_value`` on the main diagonal (a 2-D tensor, or one whose dims are all equal);
        ``wrap``: a tall matrix's diagonal restarts every ``cols + 1`` rows (NumPy's and PyTorch's rule)."""
        return _inplace.apply(self, "fill_diagonal_", _fill_diagonal_value, fill_value, wrap)

    def index_put_(self, indices, values, accumulate=False):
        return _inplace.apply(self, "index_put_", _idx.index_put, indices, values, accumulate)

    def put_(self, index, source, accumulate=False):
        return _inplace.apply(self, "put_", _idx.put, index, source, accumulate)

    def apply_(self, callable):
        """Replace every element ``v`` by ``callable(v)`` (a Python call per element: slow, CPU only,
        no gradient), as PyTorch."""
        _check_python_map(self, "apply_")
        fn = np.frompyfunc(callable, 1, 1)
        return _inplace.fill(self, "apply_", fn(self._data).astype(self._data.dtype))

    def map_(self, tensor, callable):
        """Replace every element ``v`` by ``callable(v, w)``, ``w`` the element of ``tensor``
        (broadcast to this tensor's shape); CPU only, no gradient, as PyTorch."""
        _check_python_map(self, "map_")
        other = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
        fn = np.frompyfunc(callable, 2, 1)
        values = fn(self._data, np.broadcast_to(other, self._data.shape))
        return _inplace.fill(self, "map_", values.astype(self._data.dtype))

    def resize_(self, *sizes, memory_format=None):
        """Give this tensor the shape ``sizes``, keeping its memory in order (PyTorch's rule for a
        contiguous tensor): the tensor views the first elements of its memory from its first element
        on (up to the end of the array it was made from, as PyTorch's storage); past that, growing
        copies them to the front of new memory whose other elements are unspecified (zeros here).  Unlike PyTorch, views made
        earlier keep the old memory after a growth.  A tensor that requires grad refuses, as in
        PyTorch; a non-contiguous one refuses a new shape (``.contiguous()`` first)."""
        from .ops._args import shape_arg
        shape = shape_arg(sizes, "resize_")
        if self._requires_grad:
            raise RuntimeError("resize_: cannot resize variables that require grad")
        if shape == self._data.shape:
            return self
        if not self._data.flags.c_contiguous:
            raise RuntimeError(f"resize_: minigrad resizes only contiguous tensors to a new shape (got one of shape "
                               f"{self._data.shape} with strides {self.stride()}); call .contiguous() first")
        flat, n = self._storage_from_here(), int(np.prod(shape))
        if n <= flat.size:
            self._data = flat[:n].reshape(shape)
        else:
            grown = backend.xp_of(flat).zeros(n, dtype=flat.dtype)
            grown[:flat.size] = flat
            self._data = grown.reshape(shape)
        return self

    def _storage_from_here(self):
        """The memory from this tensor's first element to the end of the C-contiguous array it
        views (its own elements when it views none), as a 1-D array sharing it."""
        base = self._data
        while getattr(base, "base", None) is not None and hasattr(base.base, "flags"):
            base = base.base
        if base is self._data or not isinstance(base, np.ndarray) or not base.flags.c_contiguous \
                or base.dtype != self._data.dtype:
            return self._data.reshape(-1)
        return base.reshape(-1)[self.storage_offset():]

    def resize_as_(self, the_template, memory_format=None):
        return self.resize_(the_template.shape)

    def add_(self, other, alpha=1):
        return _inplace.apply(self, "add_", Tensor.add, other, alpha=alpha)

    def mul_(self, other):
        return _inplace.apply(self, "mul_", Tensor.mul, other)

    # x += y edits x in place, as in PyTorch (so `p -= lr * p.grad` under no_grad updates the parameter)
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __iand__(self, other):
        return self.bitwise_and_(other)

    def __ior__(self, other):
        return self.bitwise_or_(other)

    def __ixor__(self, other):
        return self.bitwise_xor_(other)

    def __ilshift__(self, other):
        return self.bitwise_left_shift_(other)

    def __irshift__(self, other):
        return self.bitwise_right_shift_(other)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return _inplace.fill(self, "uniform_", backend.random_uniform(self._data.shape, self._data.dtype, self.device,
                                                                      generator, a, b))

    def bernoulli(self, p=None, *, generator=None):
        return _creation.bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return _creation.multinomial(self, num_samples, replacement, generator=generator)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return _inplace.fill(self, "normal_", backend.random_normal(self._data.shape, self._data.dtype, self.device,
                                                                    generator, mean, std))

    def __setitem__(self, index, value):
        if autograd.is_grad_enabled() and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
            _inplace.apply(self, "__setitem__", _inplace.index_put, index, value)
            return
        _inplace._check_writable(self, "__setitem__")
        value = value._data if isinstance(value, Tensor) else value
        index = _shape.normalize_index(index, self._data)
        split = _shape.split_integers(index)
        try:
            if split is not None:              # PyTorch's order: the integers first (a view), then the arrays
                self._data[split[0]][split[1]] = value
            else:
                self._data[index] = value
        except ValueError as exc:              # NumPy's broadcasting message, as PyTorch's RuntimeError
            from .errors import ShapeError
            raise ShapeError(f"__setitem__: {exc} (tensor of shape {self._data.shape})") from None
        _inplace.bump(self)

    # ------------------------------------------------------------------ arithmetic (ops/elementwise.py)
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(other, self)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(other, self)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(other, self)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(other, self)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def add(self, other, alpha=1):
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return _ew.sub(self, other, alpha=alpha)

    def mul(self, other):
        return _ew.mul(self, other)

    multiply = mul
    subtract = sub

    def div(self, other, *, rounding_mode=None):
        return _ew.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def __floordiv__(self, other):
        return _math.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _math.floor_divide(other, self)

    def __mod__(self, other):
        return _math.remainder(self, other)

    def __rmod__(self, other):
        return _math.remainder(other, self)

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def matmul(self, other):
        return _linalg.matmul(self, other)

    def neg(self):
        return _ew.neg(self)

    def abs(self):
        return _ew.abs(self)

    def exp(self):
        return _ew.exp(self)

    def log(self):
        return _ew.log(self)

    def sqrt(self):
        return _ew.sqrt(self)

    def erf(self):
        return _ew.erf(self)

    def clamp(self, min=None, max=None):
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def where(self, condition, other):
        return _ew.where(condition, self, other)

    # ------------------------------------------------------------------ more math (ops/math.py)
    def polygamma(self, n):
        return _math.polygamma(n, self)

    def round(self, decimals=0):
        return _math.round(self, decimals)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _math.nan_to_num(self, nan, posinf, neginf)

    def lerp(self, end, weight):
        return _math.lerp(self, end, weight)

    def clamp_min(self, min):
        return _math.clamp_min(self, min)

    def clamp_max(self, max):
        return _math.clamp_max(self, max)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _math.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _math.addcdiv(self, tensor1, tensor2, value=value)

    # ------------------------------------------------------------------ comparisons and logic (no gradient)
    # ``t == None`` and ``t == "a"`` are False (and ``!=`` True), by identity, as in PyTorch
    def __eq__(self, other):
        return NotImplemented if other is None or isinstance(other, str) else _cmp.eq(self, other)

    def __ne__(self, other):
        return NotImplemented if other is None or isinstance(other, str) else _cmp.ne(self, other)

    def __lt__(self, other):
        return _cmp.lt(self, other)

    def __le__(self, other):
        return _cmp.le(self, other)

    def __gt__(self, other):
        return _cmp.gt(self, other)

    def __ge__(self, other):
        return _cmp.ge(self, other)

    # & | ^ ~ << >>: bitwise on integer tensors, logical on bool tensors (PyTorch's operators)
    def __and__(self, other):
        return _cmp.bitwise_and(self, other)

    def __rand__(self, other):
        return _cmp.bitwise_and(other, self)

    def __or__(self, other):
        return _cmp.bitwise_or(self, other)

    def __ror__(self, other):
        return _cmp.bitwise_or(other, self)

    def __xor__(self, other):
        return _cmp.bitwise_xor(self, other)

    def __rxor__(self, other):
        return _cmp.bitwise_xor(other, self)

    def __invert__(self):
        return _cmp.bitwise_not(self)

    def __lshift__(self, other):
        return _cmp.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return _cmp.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return _cmp.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return _cmp.bitwise_right_shift(other, self)

    def bitwise_and(self, other):
        return _cmp.bitwise_and(self, other)

    def bitwise_or(self, other):
        return _cmp.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return _cmp.bitwise_xor(self, other)

    def bitwise_not(self):
        return _cmp.bitwise_not(self)

    def bitwise_left_shift(self, other):
        return _cmp.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other):
        return _cmp.bitwise_right_shift(self, other)

    def logical_and(self, other):
        return _cmp.logical_and(self, other)

    def logical_or(self, other):
        return _cmp.logical_or(self, other)

    def logical_xor(self, other):
        return _cmp.logical_xor(self, other)

    def logical_not(self):
        return _cmp.logical_not(self)

    def any(self, dim=None, keepdim=False):
        return _cmp.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return _cmp.all(self, dim, keepdim)

    def count_nonzero(self, dim=None):
        return _cmp.count_nonzero(self, dim)

    def isclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False):
        return _cmp.isclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return _cmp.equal(self, other)

    def signbit(self):
        return _cmp.signbit(self)

    def isinf(self):
        return _cmp.isinf(self)

    def eq(self, other):
        return _cmp.eq(self, other)

    def isfinite(self):
        return _cmp.isfinite(self)

    def isnan(self):
        return _cmp.isnan(self)

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False):
        return _cmp.allclose(self, other, rtol, atol, equal_nan)


    # ------------------------------------------------------------------ activations (ops/activation.py)
    def tanh(self):
        return _act.tanh(self)

    def sigmoid(self):
        return _act.sigmoid(self)

    def relu(self):
        return _act.relu(self)

    def hardshrink(self, lambd=0.5):
        from .ops.activation_misc import hardshrink
        return hardshrink(self, lambd)

    def prelu(self, weight):
        from .ops.activation_extra import prelu
        return prelu(self, weight)

    def softmax(self, dim):
        return _act.softmax(self, dim)

    def log_softmax(self, dim):
        return _act.log_softmax(self, dim)

    # ------------------------------------------------------------------ reductions (ops/reduce.py)
    # the reductions take NumPy's axis= and keepdims= as well, as PyTorch's do
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        return _red.sum(self, dim, keepdim, axis=axis, keepdims=keepdims, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        return _red.mean(self, dim, keepdim, axis=axis, keepdims=keepdims, dtype=dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        return _red.var(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        return _red.std(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _red.max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _red.min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _red.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _red.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _red.logsumexp(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _red.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _red.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    # ------------------------------------------------------------------ products, scans, norms (ops/scan.py)
    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return _scan.prod(self, dim, keepdim, dtype=dtype)

    def cumsum(self, dim, *, dtype=None):
        return _scan.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return _scan.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim):
        return _scan.cummax(self, dim)

    def cummin(self, dim):
        return _scan.cummin(self, dim)

    def logcumsumexp(self, dim):
        return _scan.logcumsumexp(self, dim)

    def median(self, dim=None, keepdim=False):
        return _scan.median(self, dim, keepdim)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return _scan.nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return _scan.nanmean(self, dim, keepdim, dtype=dtype)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _scan.norm(self, p, dim, keepdim, dtype)

    def dist(self, other, p=2):
        return _scan.dist(self, other, p)

    def aminmax(self, *, dim=None, keepdim=False):
        return _scan.aminmax(self, dim=dim, keepdim=keepdim)

    # ------------------------------------------------------------------ shapes (ops/shape.py)
    def reshape(self, *shape):
        return _shape.reshape(self, *shape)

    def view(self, *shape, dtype=None):
        if dtype is not None:                    # view(dtype=...): the keyword form of view(dtype)
            if shape:
                raise TypeError("view: give a shape or dtype=, not both")
            return _shape.view_dtype(self, dtype)
        return _shape.view(self, *shape)

    def view_as(self, other):
        return _shape.view(self, other.shape)

    def reshape_as(self, other):
        return _shape.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _shape.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _shape.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return _shape.transpose(self, dim0, dim1)

    def swapaxes(self, dim0, dim1):
        return _shape.transpose(self, dim0, dim1)

    def t(self):
        if self._data.ndim > 2:
            raise RuntimeError(f"t(): expected a tensor of at most 2 dimensions, got {self._data.ndim}")
        return _shape.permute(self, tuple(reversed(range(self._data.ndim))))

    def permute(self, *dims):
        return _shape.permute(self, *dims)

    @property
    def T(self):
        return _shape.permute(self, tuple(reversed(range(self._data.ndim))))

    @property
    def mT(self):
        return _shape.transpose(self, -2, -1)

    @property
    def mH(self):
        """The conjugate transpose of the last two dims (real tensors: ``mT``)."""
        return self.mT

    @property
    def H(self):
        """The conjugate transpose of a matrix (real tensors: ``T`` of a 2-D tensor)."""
        if self._data.ndim > 2:
            raise RuntimeError(f"H: expected a tensor of at most 2 dimensions, got {self._data.ndim}")
        return self.T

    @property
    def real(self):
        """The real part: the tensor itself (minigrad has no complex dtypes)."""
        return self

    def expand(self, *sizes):
        return _shape.expand(self, *sizes)

    def expand_as(self, other):
        return _shape.expand(self, other.shape)

    def broadcast_to(self, shape):
        return _shape.broadcast_to(self, shape)

    def split(self, split_size_or_sections=None, dim=0, *, split_size=None):
        return _shape.split(self, split_size if split_size is not None else split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _shape.chunk(self, chunks, dim)

    def index_select(self, dim, index):
        return _shape.index_select(self, dim, index)

    def __getitem__(self, index):
        return _shape.getitem(self, index)

    # -- gathers, scatters and rearrangements (ops/indexing.py)
    def gather(self, dim, index):
        return _idx.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _idx.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return _idx.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return _idx.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def index_add(self, dim, index, source, *, alpha=1):
        return _idx.index_add(self, dim, index, source, alpha=alpha)

    def index_fill(self, dim, index, value):
        return _idx.index_fill(self, dim, index, value)

    def index_copy(self, dim, index, source):
        return _idx.index_copy(self, dim, index, source)

    def masked_fill(self, mask, value):
        return _idx.masked_fill(self, mask, value)

    def masked_select(self, mask):
        return _idx.masked_select(self, mask)

    def masked_scatter(self, mask, source):
        return _idx.masked_scatter(self, mask, source)

    def take(self, index):
        return _idx.take(self, index)

    def take_along_dim(self, indices, dim=None):
        return _idx.take_along_dim(self, indices, dim)

    def narrow(self, dim, start, length):
        return _idx.narrow(self, dim, start, length)

    def unbind(self, dim=0):
        return _idx.unbind(self, dim)

    def unfold(self, dimension, size, step):
        from .ops.blocks import unfold_dim
        return unfold_dim(self, dimension, size, step)

    def flip(self, *dims):
        return _idx.flip(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else dims)

    def fliplr(self):
        return _idx.fliplr(self)

    def flipud(self):
        return _idx.flipud(self)

    def roll(self, shifts, dims=None):
        return _idx.roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        return _idx.rot90(self, k, dims)

    def repeat(self, *sizes):
        return _idx.repeat(self, *sizes)

    def tile(self, *dims):
        return _idx.tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _idx.repeat_interleave(self, repeats, dim)

    def tril(self, diagonal=0):
        return _idx.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _idx.triu(self, diagonal)

    def diag(self, diagonal=0):
        return _idx.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _idx.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return _idx.diag_embed(self, offset, dim1, dim2)

    def trace(self):
        return _idx.trace(self)

    def swapdims(self, dim0, dim1):
        return _shape.transpose(self, dim0, dim1)

    def movedim(self, source, destination):
        return _idx.movedim(self, source, destination)

    def moveaxis(self, source, destination):
        return _idx.movedim(self, source, destination)

    def unflatten(self, dim, sizes):
        return _idx.unflatten(self, dim, sizes)

    # -- sorting and searching (ops/sorting.py)
    def sort(self, dim=-1, descending=False, stable=False):
        return _sorting.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _sorting.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _sorting.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return _sorting.kthvalue(self, k, dim, keepdim)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _sorting.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength=0):
        return _sorting.bincount(self, weights, minlength)

    def nonzero(self, *, as_tuple=False):
        return _sorting.nonzero(self, as_tuple=as_tuple)

    # -- products and norms (ops/linalg_extra.py)
    def mm(self, mat2):
        return _linx.mm(self, mat2)

    def bmm(self, mat2):
        return _linx.bmm(self, mat2)

    def mv(self, vec):
        return _linx.mv(self, vec)

    def dot(self, other):
        return _linx.dot(self, other)

    def inner(self, other):
        return _linx.inner(self, other)

    def outer(self, vec2):
        return _linx.outer(self, vec2)

    ger = outer

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _linx.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _linx.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def kron(self, other):
        return _linx.kron(self, other)

    def cross(self, other, dim=None):
        return _linx.cross(self, other, dim)


def _dim(d, ndim, opname):
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise IndexError(f"{opname}: dimension {d} is out of range for a tensor of {ndim} dimension(s)")
    return d % max(ndim, 1)


def _parse_to_args(args, kwargs):
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("copy", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to(): unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, backend.Device)):
            device = a
        else:
            dtype = a
    return device, dtype


def _fill_value(t, value):
    """fill_'s new value: ``value`` (a number or a 0-d tensor) everywhere."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_: only supports a 0-dimension value tensor, got one of shape {value._data.shape}")
        return value.to(t._data.dtype).expand(t._data.shape)
    return Tensor._wrap(backend.xp_of(t._data).full(t._data.shape, value, dtype=t._data.dtype))


def _copy_value(t, src):
    """copy_'s new value: ``src`` broadcast to ``t``, on t's device and in t's dtype."""
    if not isinstance(src, Tensor):
        src = Tensor._wrap(backend.xp_of(t._data).asarray(src))
    if tuple(np.broadcast_shapes(src._data.shape, t._data.shape)) != t._data.shape:
        raise RuntimeError(f"copy_: source of shape {src._data.shape} does not broadcast to {t._data.shape}")
    return src.to(device=t.device, dtype=t._data.dtype).expand(t._data.shape)


def _fill_diagonal_value(t, value, wrap):
    """fill_diagonal_'s new value: ``value`` where NumPy's ``fill_diagonal`` writes."""
    shape = t._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must be larger than 1, got shape {shape}")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, got shape {shape}")
    mask = np.zeros(shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=bool(wrap))
    return t.masked_fill(Tensor._wrap(backend.to_device(mask, t.device)), value)


def _check_python_map(t, name):
    if t.device.type != "cpu":
        raise RuntimeError(f"{name}: only implemented on CPU tensors, got one on {t.device}")
    if t._requires_grad:
        raise RuntimeError(f"{name}: can't call {name}() on a tensor that requires grad; use "
                           f"tensor.detach().{name}() instead")


def _rebuild(array, device, requires_grad):
    return Tensor(array, device=device, requires_grad=requires_grad)


# The op modules import Tensor, so they are imported after it is defined.
from . import autograd  # noqa: E402
from . import creation as _creation  # noqa: E402
from .ops import activation as _act  # noqa: E402
from .ops import compare as _cmp  # noqa: E402
from .ops import conversion as _conv  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import math as _math  # noqa: E402
from .ops import reduce as _red  # noqa: E402
from .ops import scan as _scan  # noqa: E402
from .ops import shape as _shape  # noqa: E402


def _math_method(name):
    fn = getattr(_math, name)

    def method(self, *args):
        return fn(self, *args)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = fn.__doc__
    return method


# One-to-one Tensor methods of ops/math.py: x.sin() is sin(x), x.atan2(y) is atan2(x, y), ...
for _name in ("sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
              "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "square", "erfc", "erfinv",
              "lgamma", "digamma", "hypot", "logaddexp", "xlogy", "sinc", "copysign", "floor", "ceil", "trunc",
              "frac", "sign", "fmod", "remainder", "floor_divide", "deg2rad", "rad2deg"):
    setattr(Tensor, _name, _math_method(_name))
for _alias, _name in (("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arctan2", "atan2"),
                      ("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh"), ("fix", "trunc")):
    setattr(Tensor, _alias, getattr(Tensor, _name))
del _name, _alias
from .ops import indexing as _idx  # noqa: E402
from .ops import sorting as _sorting  # noqa: E402
from .ops import linalg_extra as _linx  # noqa: E402
from .ops import composite as _comp  # noqa: E402
from .ops import discrete as _disc  # noqa: E402
from .ops import linalg_decomp as _decomp  # noqa: E402


def _forwarding_method(module, name):
    fn = getattr(module, name)

    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = fn.__doc__
    return method


# Tensor methods that are the module function with self first: x.diff(), x.gt(y), x.quantile(q), ...
for _module, _names in (
        (_cmp, ("gt", "lt", "ge", "le", "ne")),
        (_comp, ("diff", "select", "ravel", "quantile", "nanquantile", "mode", "nanmedian", "msort",
                 "tensor_split", "hsplit", "vsplit", "dsplit", "vdot", "addmv", "addr", "addbmm", "logit",
                 "float_power", "fmax", "fmin", "logaddexp2", "ldexp", "renorm", "mvlgamma", "positive", "sgn",
                 "diagflat", "cov", "corrcoef")),
        (_decomp, ("det", "logdet", "slogdet", "cholesky", "matrix_power")),
        (_disc, ("isneginf", "isposinf", "isreal", "heaviside", "histc", "gcd", "lcm", "nextafter",
                 "unique_consecutive", "argwhere", "frexp", "histogram")),
        (_idx, ("select_scatter", "slice_scatter", "diagonal_scatter", "index_put", "put"))):
    for _name in _names:
        setattr(Tensor, _name, _forwarding_method(_module, _name))
for _alias, _name in (("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"), ("less_equal", "le"),
                      ("not_equal", "ne"), ("absolute", "abs"), ("negative", "neg")):
    setattr(Tensor, _alias, getattr(Tensor, _name))
Tensor.inverse = _forwarding_method(_decomp, "inv")
from .ops import linalg_more as _more  # noqa: E402
for _name, _fn in (("svd", "torch_svd"), ("qr", "torch_qr"), ("pinverse", "pinverse"), ("matrix_exp", "matrix_exp")):
    setattr(Tensor, _name, _forwarding_method(_more, _fn))
    getattr(Tensor, _name).__name__ = getattr(Tensor, _name).__qualname__ = _name
del _module, _names, _name, _alias, _fn
from .ops import inplace as _inplace  # noqa: E402


def _inplace_method(name, op):
    def method(self, *args, **kwargs):
        return _inplace.apply(self, name, op, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{op.__name__}``: the result is written into this tensor (see ops/inplace.py)."
    return method


def _reshape_method(name, op):
    def method(self, *args):
        return _inplace.reshape_in_place(self, name, op, *args)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{op.__name__}``: this tensor takes the new shape (its memory is unchanged)."
    return method


# x.<name>_(...) is x.<name>(...) written into x: one rule for all, so the gradients (first and
# second order) are the out-of-place op's.
_INPLACE = ("sub div pow neg abs exp log log1p expm1 sqrt rsqrt reciprocal square sin cos tan asin acos atan "
            "atan2 sinh cosh asinh acosh atanh tanh sigmoid relu erf erfc erfinv log2 log10 exp2 lgamma digamma "
            "polygamma hypot xlogy sinc clamp clamp_min clamp_max floor ceil round trunc frac sign fmod remainder "
            "floor_divide copysign nan_to_num deg2rad rad2deg addcmul addcdiv lerp tril triu masked_fill "
            "masked_scatter index_add index_fill index_copy scatter scatter_add scatter_reduce bitwise_and "
            "bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift "
            "logit ldexp float_power renorm mvlgamma gcd lcm heaviside nextafter "
            "eq ne lt le gt ge logical_and logical_or logical_xor logical_not cumsum cumprod "
            "addmm addbmm baddbmm addmv addr")
for _name in _INPLACE.split():
    setattr(Tensor, _name + "_", _inplace_method(_name + "_", getattr(Tensor, _name)))
for _alias, _name in (("clip_", "clamp_"), ("fix_", "trunc_"), ("absolute_", "abs_"), ("negative_", "neg_"),
                      ("subtract_", "sub_"), ("multiply_", "mul_"), ("divide_", "div_"), ("true_divide_", "div_"),
                      ("arcsin_", "asin_"), ("arccos_", "acos_"), ("arctan_", "atan_"), ("arctan2_", "atan2_"),
                      ("arcsinh_", "asinh_"), ("arccosh_", "acosh_"), ("arctanh_", "atanh_"), ("sgn_", "sign_"),
                      ("greater_", "gt_"), ("greater_equal_", "ge_"), ("less_", "lt_"), ("less_equal_", "le_"),
                      ("not_equal_", "ne_")):
    setattr(Tensor, _alias, getattr(Tensor, _name))
for _name in ("t", "transpose", "squeeze", "unsqueeze", "swapdims", "swapaxes"):
    setattr(Tensor, _name + "_", _reshape_method(_name + "_", getattr(Tensor, _name)))
for _name in ("bernoulli_", "exponential_", "geometric_", "log_normal_", "cauchy_", "random_"):
    setattr(Tensor, _name, getattr(_inplace, _name))
del _name, _alias
