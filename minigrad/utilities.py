"""PyTorch's top-level utilities that are not ops: type tests (``is_tensor``,
``is_floating_point``), sizes (``numel``, ``broadcast_shapes``), dtype limits (``finfo``,
``iinfo``), ``inference_mode``, the random-number state (``seed``, ``get_rng_state``), and the
switches ported programs call (``use_deterministic_algorithms``, ``set_printoptions``).
"""
from __future__ import annotations

import numpy as np

from . import autograd, backend
from .autograd import no_grad
from .tensor import INFERENCE_DEPTH, INFERENCE_SEEN, Size, Tensor

__all__ = ["is_tensor", "is_floating_point", "is_complex", "is_nonzero", "numel", "clone", "broadcast_shapes",
           "finfo", "iinfo", "inference_mode", "is_inference_mode_enabled", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "set_printoptions", "result_type", "promote_types", "can_cast", "is_same_size", "typename", "scalar_tensor",
           "asarray", "get_default_device", "set_default_device", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "autocast", "Size"]


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def _tensor(obj, opname):
    if not isinstance(obj, Tensor):
        raise TypeError(f"{opname}: expected a Tensor, got {type(obj).__name__}")
    return obj


def is_floating_point(input) -> bool:
    return _tensor(input, "is_floating_point").is_floating_point()


def is_complex(input) -> bool:
    return _tensor(input, "is_complex").is_complex()


def is_nonzero(input) -> bool:
    """The truth of a one-element tensor (an error for any other size, as PyTorch)."""
    t = _tensor(input, "is_nonzero")
    if t.numel() != 1:
        which = "no values" if t.numel() == 0 else "more than one value"
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with {which} is ambiguous (shape {tuple(t.shape)})")
    return bool(t.item())


def numel(input) -> int:
    return _tensor(input, "numel").numel()


def clone(input, *, memory_format=None) -> Tensor:
    """A copy with its own memory, connected to the graph (the gradient passes through)."""
    return _tensor(input, "clone").clone()


def broadcast_shapes(*shapes) -> tuple:
    """The shape that tensors of ``shapes`` broadcast to (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {shapes} do not broadcast together") from None


def finfo(type=None):
    """The limits of a floating dtype (``eps``, ``max``, ``min``, ``tiny``, ``smallest_normal``,
    ``resolution``, ``bits``); the default dtype without an argument."""
    dtype = backend.get_default_dtype() if type is None else backend.as_dtype(type)
    if dtype.kind != "f":
        raise TypeError(f"finfo: expected a floating-point dtype, got {dtype}")
    return np.finfo(dtype)


def iinfo(type):
    """The limits of an integer dtype (``min``, ``max``, ``bits``)."""
    dtype = backend.as_dtype(type)
    if dtype.kind not in "iub":
        raise TypeError(f"iinfo: expected an integer dtype, got {dtype}")
    return np.iinfo(np.uint8 if dtype.kind == "b" else dtype)


class inference_mode(no_grad):
    """``no_grad`` under PyTorch's newer name (minigrad keeps no version counters to skip), whose
    tensors answer ``is_inference()`` True and that records nothing even under ``enable_grad``;
    ``inference_mode(False)`` switches recording on and makes normal tensors again (as PyTorch's).
    A context manager and a decorator."""

    def __init__(self, mode: bool = True):
        self._enabled = bool(mode)

    def __enter__(self):
        self._depth_before = _inference_depth[0]
        if self._enabled:
            _inference_depth[0] += 1
            INFERENCE_SEEN[0] = True
        else:
            _inference_depth[0] = 0         # inference_mode(False) inside one makes normal tensors again
        self._grad_before = autograd._modes.grad_enabled
        autograd._modes.grad_enabled = not self._enabled     # as PyTorch: inference_mode(False) records
        return None

    def __exit__(self, *exc):
        _inference_depth[0] = self._depth_before
        autograd._modes.grad_enabled = self._grad_before
        return False


_inference_depth = INFERENCE_DEPTH        # shared with tensor.py, which marks the tensors made meanwhile


def is_inference_mode_enabled() -> bool:
    return _inference_depth[0] > 0


def seed() -> int:
    """Reseed the default generators from the operating system's entropy; return the seed."""
    value = backend.default_generator(backend.CPU).seed()
    backend.manual_seed(value)
    return value


def initial_seed() -> int:
    return backend.default_generator(backend.CPU).initial_seed()


def get_rng_state():
    """The CPU default generator's state (pass it to :func:`set_rng_state` to replay draws)."""
    return backend.default_generator(backend.CPU).get_state()


def set_rng_state(new_state) -> None:
    backend.default_generator(backend.CPU).set_state(new_state)


_deterministic = [False]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted for ported programs: every minigrad kernel is already deterministic on CPU
    (fixed reduction orders, scatters that add in index order)."""
    _deterministic[0] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic[0]


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """How tensors print, as PyTorch's (``profile``: 'default', 'short' or 'full' resets the others;
    ``sci_mode``: True always scientific, False never, None when the values need it).  NumPy's own
    print options are left alone."""
    from .tensor import PRINT_OPTIONS
    presets = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
               "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
               "full": dict(precision=4, threshold=np.inf, edgeitems=3, linewidth=80)}
    if profile:
        PRINT_OPTIONS.update(presets[profile], sci_mode=None)
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[name] = value
    if sci_mode is not None:
        PRINT_OPTIONS["sci_mode"] = bool(sci_mode)


def result_type(tensor1, tensor2) -> np.dtype:
    """The dtype an elementwise op on the two operands (tensors or numbers) gives, by PyTorch's rules."""
    return backend.result_type(*(t._data if isinstance(t, Tensor) else t for t in (tensor1, tensor2)))


def promote_types(type1, type2) -> np.dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to without loss, by PyTorch's rules."""
    return backend.promote_types(backend.as_dtype(type1), backend.as_dtype(type2))


_KIND_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2}


def can_cast(from_, to) -> bool:
    """Whether PyTorch's type promotion allows ``from_`` -> ``to`` (no float -> int, no int -> bool)."""
    return _KIND_ORDER[backend.as_dtype(from_).kind] <= _KIND_ORDER[backend.as_dtype(to).kind]


def is_same_size(input, other) -> bool:
    return tuple(_tensor(input, "is_same_size").shape) == tuple(_tensor(other, "is_same_size").shape)


def typename(obj) -> str:
    """``'minigrad.FloatTensor'`` for a float32 CPU tensor; the class name for anything else."""
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 0-d tensor holding ``s`` (the default float dtype unless ``dtype`` says otherwise)."""
    from .creation import tensor
    return tensor(float(s), dtype=dtype or backend.get_default_dtype(), device=device, requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """A tensor from ``obj``, sharing memory with a NumPy array or tensor where dtype and device allow
    (``copy=True`` always copies, ``copy=False`` refuses to)."""
    from .creation import as_tensor, tensor
    if copy:
        out = tensor(obj.detach() if isinstance(obj, Tensor) else obj, dtype=dtype, device=device)
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        source = obj._data if isinstance(obj, Tensor) else obj
        if copy is False and isinstance(source, np.ndarray) and not np.shares_memory(out._data, source):
            raise ValueError("asarray: copy=False, but the dtype or device asked for needs a copy")
    if requires_grad:
        out.requires_grad_(True)
    return out


def get_default_device():
    return backend.device("cpu") if _default_device[0] is None else _default_device[0]


_default_device = [None]


def set_default_device(device) -> None:
    """Recorded for ported programs and returned by :func:`get_default_device`; factory functions
    take ``device=`` explicitly (minigrad keeps CPU as their default)."""
    _default_device[0] = None if device is None else backend.device(device)


_matmul_precision = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted for ported programs: float32 products always run in full float32 here."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got {precision!r}")
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision[0]


class autocast:
    """Mixed-precision regions of ported programs run in the tensors' own dtypes here (minigrad has
    no automatic casting): a context manager and decorator that changes nothing, and says so once
    when asked to cast."""

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper
