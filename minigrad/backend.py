"""Array backends: devices, dtypes, type promotion and random numbers.

Everything that depends on *where* an array lives is decided here, once:
``"cpu"`` arrays are ``numpy.ndarray`` and ``"cuda"`` arrays are ``cupy.ndarray``.
Ops ask :func:`xp_of` for the array module of their inputs and then run one code
path for both.  CuPy is imported only when a CUDA device is first asked for.
"""
from __future__ import annotations

import os
import threading

import numpy as np

# ----------------------------------------------------------------------------- dtypes
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

SUPPORTED_DTYPES = (float16, float32, float64, uint8, int8, int16, int32, int64, bool_)
_SUPPORTED = frozenset(SUPPORTED_DTYPES)
_default_float = float32


def get_default_dtype() -> np.dtype:
    """The dtype given to Python floats and float lists (float32 unless changed)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Change the default floating dtype (``float32`` or ``float64``), like PyTorch's."""
    global _default_float
    dtype = as_dtype(d)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_float = dtype


def as_dtype(dtype) -> np.dtype:
    """Normalise ``dtype`` (a NumPy dtype, type or name) and check that minigrad supports it."""
    try:
        out = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None
    if out not in _SUPPORTED:
        names = ", ".join(d.name for d in SUPPORTED_DTYPES)
        raise TypeError(f"dtype {out} is not supported by minigrad (supported: {names})")
    return out


# PyTorch's legacy type names (``x.type()``), by dtype
_TYPE_NAMES = {float16: "HalfTensor", float32: "FloatTensor", float64: "DoubleTensor", uint8: "ByteTensor",
               int8: "CharTensor", int16: "ShortTensor", int32: "IntTensor", int64: "LongTensor", bool_: "BoolTensor"}


def type_name(dtype, dev) -> str:
    """``'minigrad.FloatTensor'``, ``'minigrad.cuda.LongTensor'``, ... (PyTorch's ``Tensor.type()``)."""
    return f"minigrad.{'cuda.' if dev.type == 'cuda' else ''}{_TYPE_NAMES[np.dtype(dtype)]}"


def dtype_of_type_name(name: str) -> np.dtype:
    """The dtype of a legacy type name, with or without a ``minigrad.``/``torch.`` (and ``cuda.``) prefix."""
    base = name.rsplit(".", 1)[-1]
    for dtype, type_name_ in _TYPE_NAMES.items():
        if type_name_ == base:
            return dtype
    raise TypeError(f"type: unknown tensor type {name!r} (expected one of {sorted(_TYPE_NAMES.values())})")


def is_floating(dtype) -> bool:
    return dtype.kind == "f"


# PyTorch's three categories: bool < integer < floating.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's pairwise promotion: across categories the higher category's dtype wins
    (``int64 + float16 -> float16``); within a category the wider type wins."""
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher, lower):
    """PyTorch's ``combine_categories``: dimensioned operands outrank zero-dim ones, which
    outrank Python scalars, unless the lower-priority operand is of a higher category."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value) -> np.dtype:
    """The dtype a Python (or NumPy) scalar takes part in promotion with."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return _default_float
    raise TypeError(f"expected a number, got {type(value).__name__}")


def result_type(*operands) -> np.dtype:
    """The dtype of an elementwise op on ``operands`` under PyTorch's promotion rules.

    Operands are arrays (anything with ``dtype`` and ``ndim``) or Python/NumPy scalars.
    A Python scalar never widens a tensor of its own category: ``float32 * 2.0`` stays float32.
    """
    dim = zero = wrapped = None
    for op in operands:
        dtype = getattr(op, "dtype", None)
        if dtype is None or isinstance(op, np.generic):
            d = scalar_dtype(op)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
        elif op.ndim == 0:
            zero = dtype if zero is None else promote_types(zero, dtype)
        else:
            dim = dtype if dim is None else promote_types(dim, dtype)
    return _combine(dim, _combine(zero, wrapped))


# ----------------------------------------------------------------------------- layouts
class layout:  # noqa: N801  (PyTorch's name)
    """How a tensor's elements are stored (``torch.layout``).  minigrad has one layout,
    :data:`strided` (a dense array with strides); PyTorch's sparse ones are not implemented."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"minigrad.{self.name}"


strided = layout("strided")


# ----------------------------------------------------------------------------- devices
class Device:
    """A device, ``cpu`` or ``cuda:N``; compares equal to its string form."""

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None):
        self.type = type
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, TypeError):
                return False
        return isinstance(other, Device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


CPU = Device("cpu")
_cuda_devices: dict[int, Device] = {}


def device(spec=None) -> Device:
    """Parse ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a :class:`Device`."""
    if spec is None or isinstance(spec, Device):
        return spec or CPU
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
    kind, _, index = spec.partition(":")
    if kind == "cpu" and not index:
        return CPU
    if kind == "cuda":
        if index and not index.isdigit():
            raise ValueError(f"invalid device {spec!r}: expected 'cuda' or 'cuda:N'")
        return _cuda_device(int(index) if index else 0)
    raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")


parse_device = device  # an alias for code whose arguments are named ``device``


def _cuda_device(index: int) -> Device:
    if index not in _cuda_devices:
        cp = cupy()
        count = cp.cuda.runtime.getDeviceCount()
        if index >= count:
            raise RuntimeError(f"device 'cuda:{index}' requested but only {count} CUDA device(s) are visible")
        _cuda_devices[index] = Device("cuda", index)
    return _cuda_devices[index]


_cupy = None


def cupy():
    """Import CuPy on first use, with a clear error when it or a GPU is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp
        except ImportError as exc:
            raise RuntimeError(
                "a CUDA device was requested but CuPy is not installed; "
                "install minigrad's GPU extra: pip install 'minigrad[gpu]' (CUDA 12) "
                "or pip install cupy-cuda13x (CUDA 13)") from exc
        try:
            count = cp.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDA driver missing or broken
            raise RuntimeError(f"a CUDA device was requested but CUDA is not usable: {exc}") from exc
        if count == 0:
            raise RuntimeError("a CUDA device was requested but no GPU is visible")
        _cupy = cp
    return _cupy


def cuda_is_available() -> bool:
    try:
        cupy()
    except RuntimeError:
        return False
    return True


def device_of(array) -> Device:
    """The device an array lives on."""
    if isinstance(array, np.ndarray):
        return CPU
    return _cuda_devices.get(array.device.id) or _cuda_device(array.device.id)


def xp_of(array):
    """The array module (numpy or cupy) that operates on ``array``."""
    return np if isinstance(array, (np.ndarray, np.generic)) or _cupy is None else _cupy


def array_module(dev: Device):
    return np if dev.type == "cpu" else cupy()


def is_array(obj) -> bool:
    return isinstance(obj, np.ndarray) or (_cupy is not None and isinstance(obj, _cupy.ndarray))


def to_device(array, dev: Device):
    """Copy ``array`` to ``dev`` (no copy when it is already there)."""
    if dev.type == "cpu":
        return array if isinstance(array, np.ndarray) else array.get()
    cp = cupy()
    with cp.cuda.Device(dev.index):
        return cp.asarray(array)


# ----------------------------------------------------------------------------- random numbers
class Generator:
    """A seeded source of random numbers for one device (PCG64 on CPU, CuPy's on CUDA).

    ``manual_seed(n)`` makes every draw after it reproducible.
    """

    def __init__(self, device="cpu"):
        self.device = parse_device(device)
        self._seed = None
        self._impl = None
        self.seed()

    def manual_seed(self, seed: int) -> "Generator":
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"manual_seed: expected a non-negative integer, got {seed!r}")
        self._seed = int(seed)
        self._impl = None
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        self.manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    @property
    def impl(self):
        """The underlying NumPy or CuPy generator, created lazily from the seed."""
        if self._impl is None:
            if self.device.type == "cpu":
                self._impl = np.random.default_rng(self._seed)
            else:
                self._impl = cupy().random.default_rng(self._seed)
        return self._impl

    def get_state(self):
        return {"seed": self._seed, "state": self.impl.bit_generator.state if self.device.type == "cpu" else None}

    def set_state(self, state):
        self.manual_seed(state["seed"])
        if state.get("state") is not None:
            self.impl.bit_generator.state = state["state"]


_default_generators: dict[Device, Generator] = {}
_generator_lock = threading.Lock()


def default_generator(dev: Device = CPU) -> Generator:
    with _generator_lock:
        gen = _default_generators.get(dev)
        if gen is None:
            gen = _default_generators[dev] = Generator(dev)
            if dev != CPU and CPU in _default_generators:
                gen.manual_seed(_default_generators[CPU].initial_seed())
        return gen


def default_generators(device_type: str) -> list[Generator]:
    """The default generators made so far for the devices of one type ("cpu", "cuda")."""
    with _generator_lock:
        return [gen for dev, gen in _default_generators.items() if dev.type == device_type]


def manual_seed(seed: int) -> Generator:
    """Seed the default generators of every device (as ``torch.manual_seed``)."""
    cpu = default_generator(CPU).manual_seed(seed)
    for dev, gen in _default_generators.items():
        if dev != CPU:
            gen.manual_seed(seed)
    return cpu


def random_uniform(shape, dtype, dev: Device, generator: Generator | None = None, low=0.0, high=1.0):
    """Uniform samples in ``[low, high)`` of ``dtype`` on ``dev``."""
    gen = (generator or default_generator(dev)).impl
    out = gen.random(shape, dtype=dtype if dtype in (float32, float64) else float64)
    if low != 0.0 or high != 1.0:
        out = out * (high - low) + low
    return out.astype(dtype, copy=False)


def random_normal(shape, dtype, dev: Device, generator: Generator | None = None, mean=0.0, std=1.0):
    """Normal samples of ``dtype`` on ``dev``."""
    gen = (generator or default_generator(dev)).impl
    out = gen.standard_normal(shape, dtype=dtype if dtype in (float32, float64) else float64)
    if mean != 0.0 or std != 1.0:
        out = out * std + mean
    return out.astype(dtype, copy=False)


def random_integers(low, high, shape, dev: Device, generator: Generator | None = None):
    """Integers in ``[low, high)`` as int64 on ``dev``."""
    gen = (generator or default_generator(dev)).impl
    return gen.integers(low, high, size=shape, dtype=np.int64)


def random_permutation(n, dev: Device, generator: Generator | None = None):
    """A random permutation of ``0 .. n-1`` as int64 on ``dev``."""
    gen = (generator or default_generator(dev)).impl
    if hasattr(gen, "permutation"):
        return gen.permutation(n).astype(np.int64, copy=False)
    return array_module(dev).argsort(gen.random(n)).astype(np.int64, copy=False)   # CuPy's generator has none


# ----------------------------------------------------------------------------- floating-point warnings
# PyTorch computes with IEEE special values silently (1/0 = inf, log(0) = -inf, an overflow = inf,
# sqrt(-1) = nan); NumPy warns at each, and where warnings are errors (``-W error``, pytest's
# ``filterwarnings = error``) a warning is an exception.  minigrad's ops run with NumPy's
# floating-point warnings off, for the op only: NumPy's error state lives in a context variable
# (NumPy 2), set here directly (0.3 us an op; ``np.errstate`` costs 2 us, and is the fallback).
# ``MINIGRAD_FP_WARNINGS=1`` keeps NumPy's warnings, to find where an inf or a NaN first appears.
_FP_WARNINGS = os.environ.get("MINIGRAD_FP_WARNINGS", "0") == "1"


def _fp_quiet_switch():
    try:
        from numpy._core import _ufunc_config
        var = _ufunc_config._extobj_contextvar
        with np.errstate(all="ignore"):
            quiet = var.get()
    except (ImportError, AttributeError):
        return None, None
    return var, quiet


_fp_var, _fp_quiet = _fp_quiet_switch()


def fp_quiet():
    """Turn NumPy's floating-point warnings off; returns what :func:`fp_restore` needs."""
    if _FP_WARNINGS:
        return None
    if _fp_var is not None:
        return _fp_var.set(_fp_quiet)
    state = np.errstate(all="ignore")
    state.__enter__()
    return state


def fp_restore(token) -> None:
    if token is None:
        return
    if _fp_var is not None:
        _fp_var.reset(token)
    else:
        token.__exit__(None, None, None)
