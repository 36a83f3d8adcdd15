"""PyTorch's checkpoint format, read and written without PyTorch.

    minigrad.save(model.state_dict(), "model.pt")      # torch.load("model.pt") reads it
    model.load_state_dict(minigrad.load("model.pt"))   # and files that torch.save wrote

The format (``torch.save`` since PyTorch 1.6) is an uncompressed zip archive whose entries share one
top-level folder::

    archive/data.pkl        the object, pickled (protocol 2); each tensor is a call
                            torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
                            whose storage is a persistent id ("storage", torch.FloatStorage, key, "cpu", numel)
    archive/data/<key>      the raw bytes of each storage, little-endian
    archive/byteorder       "little"
    archive/version         "3"

Loading is safe by default (``weights_only=True``): the unpickler builds tensors, storages, plain
containers, numbers and strings, and refuses any other global with an error naming it.  The whole
archive is read and checked (CRCs included) before anything is returned, so a truncated or corrupted
file raises instead of giving a partial result.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np

from . import backend
from ._files import atomic_write
from .tensor import Tensor

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "UnpicklingError", "add_safe_globals",
           "get_safe_globals", "clear_safe_globals", "safe_globals"]

UnpicklingError = pickle.UnpicklingError

# PyTorch's storage class for each dtype minigrad has (little-endian on disk).
_STORAGE_OF_DTYPE = {
    np.dtype(np.float32): "FloatStorage", np.dtype(np.float64): "DoubleStorage", np.dtype(np.float16): "HalfStorage",
    np.dtype(np.int64): "LongStorage", np.dtype(np.int32): "IntStorage", np.dtype(np.int16): "ShortStorage",
    np.dtype(np.int8): "CharStorage", np.dtype(np.uint8): "ByteStorage", np.dtype(np.bool_): "BoolStorage",
}
_DTYPE_OF_STORAGE = {name: dtype.newbyteorder("<") for dtype, name in _STORAGE_OF_DTYPE.items()}
# Storages PyTorch writes that minigrad has no dtype for: a clear error instead of wrong numbers.
_UNSUPPORTED_STORAGES = {
    "BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
    "ComplexHalfStorage": "complex32", "QInt8Storage": "qint8", "QUInt8Storage": "quint8", "QInt32Storage": "qint32",
    "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4", "UInt16Storage": "uint16", "UInt32Storage": "uint32",
    "UInt64Storage": "uint64", "Float8_e5m2Storage": "float8_e5m2", "Float8_e4m3fnStorage": "float8_e4m3fn",
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C   # the first object pickled in a pre-1.6 torch.save file
_ALIGN = 64                                # torch aligns storage records to 64 bytes (for mmap)


# ----------------------------------------------------------------------------- saving
class _Global:
    """A name that pickles as the global ``module.name`` whether or not that module can be imported
    (here: torch's rebuild functions and storage classes, written without torch)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):        # pickle requires reduce functions to be callable
        raise RuntimeError(f"{self.module}.{self.name} is a placeholder for pickling")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_STORAGE_GLOBALS = {name: _Global("torch", name) for name in _STORAGE_OF_DTYPE.values()}


class _Storage:
    """One tensor's bytes, to be written as ``data/<key>`` and referenced by persistent id."""

    def __init__(self, key, array):
        self.key, self.array = key, array


class _TorchPickler(pickle._Pickler):
    """The pure-Python pickler (it lets :class:`_Global` write its GLOBAL opcode directly), with
    Tensors reduced to torch's rebuild calls and their arrays set aside as storages."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages = []                     # in key order
        self._storage_of_array = {}            # id(array) -> _Storage: a shared array is written once

    def save_torch_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("ascii"))
        self.memoize(obj)

    dispatch[_Global] = save_torch_global

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", _STORAGE_GLOBALS[_STORAGE_OF_DTYPE[obj.array.dtype]], obj.key, "cpu", obj.array.size)
        return None

    def reducer_override(self, obj):
        if not isinstance(obj, Tensor):
            return NotImplemented
        from .nn.parameter import Parameter
        hooks = collections.OrderedDict()
        tensor = (_REBUILD_TENSOR, (self._storage(obj), 0, tuple(obj.shape), _contiguous_strides(obj.shape),
                                    False, hooks))
        if isinstance(obj, Parameter):
            return _REBUILD_PARAMETER, (_Reduced(tensor), obj.requires_grad, hooks)
        return tensor

    def _storage(self, t):
        array = t._data
        if array.dtype not in _STORAGE_OF_DTYPE:
            raise TypeError(f"minigrad.save: cannot save a tensor of dtype {array.dtype}")
        storage = self._storage_of_array.get(id(array))
        if storage is None:
            host = np.ascontiguousarray(backend.to_device(array, backend.CPU)).astype(
                array.dtype.newbyteorder("<"), copy=False)
            storage = self._storage_of_array[id(array)] = _Storage(str(len(self.storages)), host)
            self.storages.append(storage)
        return storage


class _Reduced:
    """An already-reduced object (function, args), for a reduce nested in another's arguments."""

    def __init__(self, reduced):
        self.reduced = reduced


def _reduce_nested(pickler, obj):
    pickler.save_reduce(*obj.reduced, obj=obj)


_TorchPickler.dispatch[_Reduced] = _reduce_nested


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _archive_bytes(obj, name="archive"):
    """The zip archive torch.save would write for ``obj``, as bytes."""
    pkl = io.BytesIO()
    pickler = _TorchPickler(pkl)
    pickler.dump(obj)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", pkl.getvalue())
        z.writestr(f"{name}/byteorder", "little")
        for storage in pickler.storages:
            _write_aligned(z, buffer, f"{name}/data/{storage.key}", storage.array.tobytes())
        z.writestr(f"{name}/version", "3\n")
    return buffer.getvalue()


def _write_aligned(z, buffer, entry, data):
    """Write a stored entry whose data starts on a 64-byte boundary, padding its local header's
    extra field (as torch does, so that its readers may map the storages)."""
    info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    header = 30 + len(entry.encode())
    pad = (-(buffer.tell() + header + 4)) % _ALIGN
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad    # 'FB': torch's padding field id
    z.writestr(info, data)


def save(obj, f) -> None:
    """Save ``obj`` (a tensor, a state dict, nested dicts/lists/tuples of tensors and plain values) in
    PyTorch's zip format to ``f``, a path (written atomically: a temporary file in the same folder,
    flushed to disk, then renamed over ``f``) or a writable binary file."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        data = _archive_bytes(obj, _archive_name(path))
        atomic_write(path, lambda out: out.write(data))
    else:
        f.write(_archive_bytes(obj))


def _archive_name(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem if stem.isidentifier() else "archive"


# ----------------------------------------------------------------------------- loading
class _StorageType:
    """What the global ``torch.<Name>Storage`` unpickles to: its dtype."""

    def __init__(self, name):
        self.name = name
        self.dtype = _DTYPE_OF_STORAGE.get(name)


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    """torch._utils._rebuild_tensor_v2: a view of ``storage`` (an array of its dtype), copied."""
    size, stride = tuple(size), tuple(stride)
    if any(n > 0 for n in size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if offset < 0 or last >= storage.array.size:
            raise UnpicklingError(f"a tensor of size {size} at offset {offset} does not fit its storage "
                                  f"of {storage.array.size} elements")
    itemsize = storage.array.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(storage.array[offset:] if storage.array.size else storage.array,
                                           size, [s * itemsize for s in stride], writeable=False)
    array = np.array(view, dtype=storage.array.dtype.newbyteorder("="))
    t = Tensor._wrap(backend.to_device(array, storage.device))
    return t.requires_grad_(True) if requires_grad else t


def _rebuild_parameter(data, requires_grad, hooks=None, state=None):
    from .nn.parameter import Parameter
    return Parameter(data, requires_grad=requires_grad)


class _LoadedStorage:
    """A storage read from the archive: its array and the device its tensors go to.  It is what a
    ``map_location`` function receives (with the saved location, e.g. ``"cuda:0"``); ``.cpu()``
    and ``.cuda(index)`` give one bound elsewhere, as PyTorch's storages do."""

    def __init__(self, array, device):
        self.array, self.device = array, device

    def cpu(self):
        return _LoadedStorage(self.array, backend.CPU)

    def cuda(self, device=None, non_blocking=False):
        index = device.index if isinstance(device, backend.Device) else device
        return _LoadedStorage(self.array, backend.device("cuda" if index is None else f"cuda:{int(index)}"))


# The globals a weights-only load may build; anything else is refused by name.
def _encode(text, encoding="latin1"):
    """_codecs.encode as protocol-2 pickles of bytes call it (a str and "latin1"), and only so."""
    if not isinstance(text, str) or encoding != "latin1":
        raise UnpicklingError(f"minigrad.load: _codecs.encode is allowed only as pickled bytes use it, "
                              f"got ({type(text).__name__}, {encoding!r})")
    return text.encode("latin1")


def _torch_device(type, index=None):
    return backend.Device(type, index)


def _torch_size(dims=()):
    from .utilities import Size
    return Size(dims)


# The globals a weights-only load may build; anything else is refused by name.  Beside tensors and
# parameters: PyTorch's own allowlist of plain values (sets, bytes, complex numbers, Counter,
# torch.Size, torch.device and the dtypes minigrad has).
_SAFE_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "Counter"): collections.Counter,
    ("_codecs", "encode"): _encode,
    ("torch", "device"): _torch_device,
    ("torch", "Size"): _torch_size,
    **{(module, name): value for module in ("builtins", "__builtin__")
       for name, value in (("set", set), ("bytearray", bytearray), ("complex", complex))},
    **{("torch", str(dtype)): dtype for dtype in _STORAGE_OF_DTYPE},
}


# Globals the user trusts for weights-only loads (torch.serialization.add_safe_globals): each an
# object, or (object, "module.name") for one pickled under another name.
_user_globals: dict[tuple[str, str], object] = {}


def _global_name(entry):
    if isinstance(entry, tuple):
        obj, name = entry
        module, _, attr = name.rpartition(".")
        return (module, attr), obj
    return (entry.__module__, entry.__qualname__), entry


def add_safe_globals(safe_globals) -> None:
    """Let weights-only loads build these globals too (functions, classes), as PyTorch's; e.g.
    ``[np.core.multiarray._reconstruct, np.ndarray, np.dtype, np.dtypes.Int64DType]`` for a file
    that holds NumPy arrays.  Only for objects whose unpickling you trust."""
    for entry in safe_globals:
        key, obj = _global_name(entry)
        _user_globals[key] = obj


def get_safe_globals() -> list:
    return list(_user_globals.values())


def clear_safe_globals() -> None:
    _user_globals.clear()


class safe_globals:
    """``with safe_globals([...]):`` the globals are allowed inside the block only."""

    def __init__(self, safe_globals):
        self.entries = list(safe_globals)

    def __enter__(self):
        self.saved = dict(_user_globals)
        add_safe_globals(self.entries)

    def __exit__(self, *exc):
        _user_globals.clear()
        _user_globals.update(self.saved)
        return False


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, map_location, weights_only, source):
        super().__init__(file)
        self.archive, self.map_location, self.weights_only, self.source = archive, map_location, weights_only, source
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[module, name]
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        if (module, name) in _user_globals:
            return _user_globals[module, name]
        if self.weights_only:
            raise UnpicklingError(
                f"minigrad.load: {self.source} refers to the global {module}.{name}, which a weights-only load "
                f"does not build (only tensors, storages, containers and numbers); if you trust this file, "
                f"pass weights_only=False, or allow that global with "
                f"minigrad.serialization.add_safe_globals([{module}.{name}])")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise UnpicklingError(f"minigrad.load: {self.source}: unknown persistent id {pid!r}")
        _, kind, key, location, numel = pid
        if not isinstance(kind, _StorageType):
            raise UnpicklingError(f"minigrad.load: {self.source}: storage {key!r} has no storage type")
        if kind.dtype is None:
            dtype = _UNSUPPORTED_STORAGES.get(kind.name, kind.name)
            raise TypeError(f"minigrad.load: {self.source} holds a tensor of dtype {dtype} (torch.{kind.name}), "
                            f"which minigrad does not support; convert it in PyTorch first, e.g. "
                            f"tensor.float()")
        if key not in self.storages:
            raw = self.archive(f"data/{key}")
            if len(raw) != numel * kind.dtype.itemsize:
                raise UnpicklingError(f"minigrad.load: {self.source}: storage {key} holds {len(raw)} bytes, "
                                      f"expected {numel} x {kind.dtype.itemsize}")
            array = np.frombuffer(raw, dtype=kind.dtype)
            if callable(self.map_location):
                # PyTorch's rule: the function gets the storage on the CPU and the saved location,
                # and returns the storage to use (None: restore it where it was saved)
                moved = self.map_location(_LoadedStorage(array, backend.CPU), location)
                if moved is not None and not isinstance(moved, _LoadedStorage):
                    raise TypeError(f"minigrad.load: map_location returned a {type(moved).__name__}; it must "
                                    f"return the storage it was given (or storage.cpu() / storage.cuda()) or None")
                self.storages[key] = moved if moved is not None else _LoadedStorage(array, self._device(location, None))
            else:
                self.storages[key] = _LoadedStorage(array, self._device(location, self.map_location))
        return self.storages[key]

    def _device(self, location, where):
        if isinstance(where, dict):
            where = where.get(location, location)
        spec = str(where) if where is not None else location
        if spec.startswith("cuda") and not backend.cuda_is_available():
            asked = f"map_location asks for {spec}" if where is not None else f"{self.source} holds tensors on {spec}"
            raise RuntimeError(f"minigrad.load: {asked} but CUDA is not available; pass map_location='cpu'")
        return backend.device(spec)


def load(f, map_location=None, weights_only=True):
    """Read what :func:`save` or ``torch.save`` wrote (PyTorch's zip format) from a path or a binary
    file.  ``map_location``: a device (``"cpu"``, ``"cuda:0"``) for every tensor, a dict from the
    saved location to a new one, or a function ``(storage, location) -> storage`` (the idiom
    ``lambda storage, loc: storage`` keeps everything on the CPU).  ``weights_only=True`` (the
    default) builds only tensors, containers and numbers; ``False`` unpickles anything (only for
    files you trust)."""
    source = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file>")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            data = file.read()
    else:
        data = f.read()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RuntimeError(_not_zip_message(data, source))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return _load_archive(z, map_location, weights_only, source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, struct.error, ValueError,
            OSError) as exc:
        raise RuntimeError(f"minigrad.load: {source} is truncated or corrupted ({type(exc).__name__}: {exc}); "
                           f"nothing was loaded") from None


def _load_archive(z, map_location, weights_only, source):
    names = z.namelist()
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pkl:
        kind = "a TorchScript archive (torch.jit.save); load it with torch.jit.load" \
            if any(n.endswith("constants.pkl") for n in names) else "not a PyTorch checkpoint (no data.pkl)"
        raise RuntimeError(f"minigrad.load: {source} is {kind}")
    prefix = pkl[0][: -len("data.pkl")]
    order = prefix + "byteorder"
    if order in names and z.read(order).decode().strip() != "little":
        raise RuntimeError(f"minigrad.load: {source} was written on a big-endian machine, which is not supported")

    def entry(name):
        return z.read(prefix + name)      # reading checks the entry's CRC

    unpickler = _Unpickler(io.BytesIO(entry("data.pkl")), entry, map_location, weights_only, source)
    return unpickler.load()


def _not_zip_message(data, source):
    if data[:2] in (b"\x80\x02", b"\x80\x04", b"\x80\x05"):
        try:
            if pickle.loads(_first_pickle(data)) == _LEGACY_MAGIC:
                return (f"minigrad.load: {source} is in PyTorch's legacy (pre-1.6) format, which is not supported; "
                        f"re-save it with a current torch.save")
        except Exception:   # noqa: BLE001 -- anything unreadable is reported below
            pass
    if not data:
        return f"minigrad.load: {source} is empty"
    return f"minigrad.load: {source} is not a PyTorch zip checkpoint (truncated, corrupted or another format)"


def _first_pickle(data):
    """The legacy format starts with the magic number, pickled on its own (a LONG1 opcode)."""
    return data[:2 + 1 + 1 + 10 + 1]


# ----------------------------------------------------------------------------- safetensors
# The safetensors dtypes minigrad has; others (BF16, F8_*, C64, U16, ...) are refused by name.
_SAFETENSORS_DTYPES = {"F32", "F64", "F16", "I64", "I32", "I16", "I8", "U8", "BOOL"}


def _safetensors():
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as exc:
        raise ModuleNotFoundError("safetensors files need the safetensors package: pip install 'minigrad[interop]'",
                                  name=exc.name) from exc
    return safetensors


def save_safetensors(state_dict, path, metadata=None) -> None:
    """Write a flat dict of tensors to ``path`` in the safetensors format (as
    ``safetensors.torch.save_file``), atomically; ``metadata``: a dict of strings stored in the header."""
    st = _safetensors()
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"save_safetensors: keys must be strings, got {key!r}")
        array = value._data if isinstance(value, Tensor) else value
        if not backend.is_array(array):
            raise TypeError(f"save_safetensors: {key!r} is a {type(value).__name__}, not a tensor")
        arrays[key] = np.array(backend.to_device(array, backend.CPU), order="C")   # 0-d stays 0-d
    data = st.numpy.save(arrays, metadata=metadata)
    atomic_write(path, lambda out: out.write(data))


def load_safetensors(path, device="cpu") -> dict:
    """Read every tensor of a safetensors file (written by minigrad, PyTorch or Hugging Face) onto
    ``device``; a dtype minigrad lacks (bfloat16, float8, ...) is an error naming the tensor."""
    st = _safetensors()
    target = backend.device(device)
    source = os.fspath(path)
    out = {}
    try:
        with st.safe_open(source, framework="np") as f:
            for key in f.keys():
                dtype = f.get_slice(key).get_dtype()
                if dtype not in _SAFETENSORS_DTYPES:
                    raise TypeError(f"load_safetensors: {source}: tensor {key!r} has dtype {dtype}, which minigrad "
                                    f"does not support; convert it first (e.g. to F32)")
                out[key] = Tensor._wrap(backend.to_device(np.array(f.get_tensor(key)), target))
    except TypeError:
        raise
    except Exception as exc:     # safetensors reports damage as its own SafetensorError
        if isinstance(exc, FileNotFoundError):
            raise
        raise RuntimeError(f"load_safetensors: {source} is not a readable safetensors file ({exc}); "
                           f"nothing was loaded") from None
    return out
