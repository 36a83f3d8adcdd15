"""PyTorch's top-level utilities that are not ops: type tests (``is_tensor``,
``is_floating_point``), sizes (``numel``, ``broadcast_shapes``), dtype limits (``finfo``,
``iinfo``), ``inference_mode``, the random-number state (``seed``, ``get_rng_state``), and the
switches ported programs call (``use_deterministic_algorithms``, ``set_printoptions``).
"""
from __future__ import annotations

import numpy as np

from . import backend
from .autograd import no_grad
from .tensor import Tensor

__all__ = ["is_tensor", "is_floating_point", "is_complex", "is_nonzero", "numel", "clone", "broadcast_shapes",
           "finfo", "iinfo", "inference_mode", "is_inference_mode_enabled", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "set_printoptions"]


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
        raise RuntimeError(f"is_nonzero: expected a tensor of one element, got shape {tuple(t.shape)}")
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
    """``no_grad`` under PyTorch's newer name (minigrad keeps no version counters to skip);
    ``inference_mode(False)`` leaves recording as it is.  A context manager and a decorator."""

    def __init__(self, mode: bool = True):
        self._enabled = bool(mode)

    def __enter__(self):
        self._depth_before = _inference_depth[0]
        if self._enabled:
            _inference_depth[0] += 1
            return super().__enter__()
        return self

    def __exit__(self, *exc):
        _inference_depth[0] = self._depth_before
        if self._enabled:
            return super().__exit__(*exc)
        return False


_inference_depth = [0]


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
    """Tensor printing options, as NumPy's (``profile``: 'default', 'short' or 'full')."""
    presets = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
               "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
               "full": dict(precision=4, threshold=np.inf, edgeitems=3, linewidth=80)}
    options = dict(presets[profile]) if profile else {}
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            options[name] = value
    if sci_mode is not None:
        options["suppress"] = not sci_mode
    np.set_printoptions(**options)
