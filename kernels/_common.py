"""What every kernel module shares: Numba's thread pool and the checks run before a call.

Kernels validate in Python, then call compiled code that assumes valid input: a bad
argument must raise here, never crash inside a loop.
"""
from __future__ import annotations

import os

import numba
import numpy as np

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


#: Below this many elements a kernel runs on one thread: waking a pool costs more than it
#: saves, and right after a matrix product BLAS's threads still spin on the cores.  Where waking
#: threads is slow (a virtual machine can take 0.2 ms), ``MINIGRAD_PARALLEL_MIN_ELEMENTS`` raises it.
def _parallel_min_elements():
    value = os.environ.get("MINIGRAD_PARALLEL_MIN_ELEMENTS") or str(1 << 17)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MINIGRAD_PARALLEL_MIN_ELEMENTS must be a positive integer, got {value!r}")
    return int(value)


PARALLEL_MIN_ELEMENTS = _parallel_min_elements()


def _configure_threads():
    # Numba's 'workqueue' pool sleeps between kernels; OpenMP's spins, and would fight
    # BLAS's spinning threads for the cores after every matrix product.
    if "NUMBA_THREADING_LAYER" not in os.environ:
        numba.config.THREADING_LAYER = "workqueue"
    wanted = os.environ.get("MINIGRAD_NUM_THREADS")
    if wanted:
        numba.set_num_threads(max(1, min(int(wanted), numba.config.NUMBA_NUM_THREADS)))


_configure_threads()


def is_numpy(a) -> bool:
    """CPU data: a NumPy array, or a NumPy scalar (what NumPy makes of 0-d results)."""
    return isinstance(a, (np.ndarray, np.generic))


def check_float(name: str, *arrays):
    """Kernels are compiled for float32 and float64; all float arrays of a call share one dtype."""
    dtype = arrays[0].dtype
    if dtype not in FLOATS:
        raise TypeError(f"{name}: expected float32 or float64 arrays, got {dtype}")
    for a in arrays[1:]:
        if a.dtype != dtype:
            raise TypeError(f"{name}: arrays must share one dtype, got {dtype} and {a.dtype}")


def contiguous(a):
    """``a`` as a C-contiguous array of the same shape (``np.ascontiguousarray`` would turn a
    0-d array into a 1-d one)."""
    if isinstance(a, np.generic):
        return np.asarray(a)
    return a if a.flags.c_contiguous else a.copy(order="C")


def check_contiguous(name: str, *arrays):
    for a in arrays:
        if not a.flags.c_contiguous:
            raise ValueError(f"{name}: expected C-contiguous arrays, got strides {a.strides} for shape {a.shape}")


def check_same_device(name: str, *arrays):
    kind = type(arrays[0])
    for a in arrays[1:]:
        if type(a) is not kind:
            raise TypeError(f"{name}: arrays on different devices: {kind.__module__}.ndarray and "
                            f"{type(a).__module__}.ndarray")


def check_index(name: str, index, size: int):
    """Integer indices, all in ``[0, size)`` (negative ones are normalised by the caller)."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got {index.dtype}")
    if index.size and (int(index.min()) < 0 or int(index.max()) >= size):
        raise IndexError(f"{name}: index out of range [0, {size}): min {int(index.min())}, "
                         f"max {int(index.max())}")
