"""``assert_close``: PyTorch's ``torch.testing.assert_close`` for minigrad tensors, NumPy arrays,
Python numbers and nested sequences or mappings of them.

Each pair of tensor-likes must agree in shape, device and (unless ``check_dtype=False``) dtype, and
then ``|actual - expected| <= atol + rtol * |expected|`` elementwise (NaN equals NaN only with
``equal_nan``; equal infinities are close).  Omitted tolerances come from the dtype, as PyTorch's:
float16 ``rtol=1e-3, atol=1e-5``, float32 ``1.3e-6, 1e-5``, float64 ``1e-7, 1e-7``, integers and
bool exact.  The failure message follows PyTorch's (mismatched count, greatest differences and
where); ``msg`` replaces it, or, if callable, rewrites it.
"""
from __future__ import annotations

import collections.abc

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["assert_close"]

_TOLERANCES = {backend.float16: (1e-3, 1e-5), backend.float32: (1.3e-6, 1e-5), backend.float64: (1e-7, 1e-7)}


class _Mismatch(Exception):
    """A failed comparison, with the message PyTorch would give."""

    def __init__(self, message, exc_type=AssertionError):
        super().__init__(message)
        self.exc_type = exc_type


def _tolerance(dtype):
    return _TOLERANCES.get(np.dtype(dtype), (0.0, 0.0))


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close (see the module docstring)."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {'rtol' if rtol is None else 'atol'}.")
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype)
    try:
        _compare(actual, expected, options, path=())
    except _Mismatch as failure:
        message = str(failure)
        if failure.exc_type is AssertionError and msg is not None:
            message = msg(message) if callable(msg) else msg
        raise failure.exc_type(message) from None


def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes))


def _compare(actual, expected, options, path):
    def fail(message):
        where = "".join(f"[{k!r}]" for k in path)
        raise _Mismatch(message + (f"\n\nThe failure occurred for item {where}" if path else ""))

    if actual is None or expected is None:
        if actual is not expected:
            fail(f"None mismatch: {actual} is not None")
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for k, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, options, path + (k,))
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            fail(f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                 f"{sorted(set(expected) - set(actual), key=repr)}\nAdditional keys in the actual mapping: "
                 f"{sorted(set(actual) - set(expected), key=repr)}")
        for k in expected:
            _compare(actual[k], expected[k], options, path + (k,))
        return
    numbers = (bool, int, float, np.number, np.bool_)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        if type(actual) is not type(expected):
            fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.")
        if isinstance(actual, (bool, np.bool_)):
            if actual != expected:
                fail(f"Booleans mismatch: {actual} is not {expected}")
            return
        _compare_values(np.asarray(actual), np.asarray(expected), options, fail)
        return
    tensors = isinstance(actual, Tensor) and isinstance(expected, Tensor)
    arrays = isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray)
    if not (tensors or arrays):
        raise _Mismatch(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.",
                        TypeError)
    if actual.shape != expected.shape:
        from ..utilities import Size
        fail(f"The values for attribute 'shape' do not match: {Size(actual.shape)!r} != {Size(expected.shape)!r}.")
    if tensors and options["check_device"] and actual.device != expected.device:
        fail(f"The values for attribute 'device' do not match: {actual.device} != {expected.device}.")
    if options["check_dtype"] and actual.dtype != expected.dtype:
        fail(f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.")
    if tensors:
        actual, expected = (backend.to_device(t.detach()._data, backend.CPU) for t in (actual, expected))
    _compare_values(actual, expected, options, fail)


def _compare_values(actual, expected, options, fail):
    """Elementwise closeness of two arrays of one shape; the message names the worst elements."""
    rtol, atol = options["rtol"], options["atol"]
    if rtol is None:
        (r1, a1), (r2, a2) = _tolerance(actual.dtype), _tolerance(expected.dtype)
        rtol, atol = max(r1, r2), max(a1, a2)
    exact = actual.dtype.kind in "biu" and expected.dtype.kind in "biu"
    # differences (PyTorch's figures) in int64 for integers, Python floats for scalars, else the
    # inputs' common floating dtype
    common = np.int64 if exact else np.float64 if actual.ndim == 0 else \
        np.result_type(*(d for d in (actual.dtype, expected.dtype) if d.kind == "f"))
    a, e = actual.astype(common), expected.astype(common)
    with np.errstate(invalid="ignore", over="ignore"):
        close = (a == e) | (np.isfinite(a) & np.isfinite(e) & (np.abs(a - e) <= atol + rtol * np.abs(e)))
        if options["equal_nan"] and not exact:
            close |= np.isnan(a) & np.isnan(e)
    if close.all():
        return
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(a - e)
        rel_diff = abs_diff / (np.abs(e).astype(np.float64) if exact else np.abs(e))
    header_word = "equal" if rtol == 0 and atol == 0 else "close"

    def greatest(diff, tol, name):
        worst = int(np.argmax(diff.reshape(-1))) if diff.size else 0
        value = diff.reshape(-1)[worst].item()
        allowed = f" (up to {tol} allowed)" if rtol or atol else ""
        if actual.ndim == 0:
            return f"{name} difference: {value}{allowed}"
        index = tuple(int(i) for i in np.unravel_index(worst, diff.shape))
        return f"Greatest {name.lower()} difference: {value} at index {index}{allowed}"

    if actual.ndim == 0:
        lines = [f"Scalars are not {header_word}!", "",
                 f"Expected {expected.reshape(-1)[0].item()} but got {actual.reshape(-1)[0].item()}."]
    else:
        bad = int((~close).sum())
        lines = [f"Tensor-likes are not {header_word}!", "",
                 f"Mismatched elements: {bad} / {actual.size} ({bad / actual.size:.1%})"]
    lines += [greatest(abs_diff, atol, "Absolute"), greatest(rel_diff, rtol, "Relative")]
    fail("\n".join(lines))
