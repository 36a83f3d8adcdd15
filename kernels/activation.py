"""GELU (exact, with erf), and erf itself: what NumPy cannot express without a slow erf; and
ReLU's two passes on large arrays, on every core (NumPy's run on one).

    relu(x)  = x where x > 0, else 0 (NaN stays NaN);   d relu = 0 where y <= 0, else g

    gelu(x)  = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
    gelu'(x) = Phi(x) + x * phi(x),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)

Arrays of any shape; forward returns ``gelu(x)``, backward returns ``g * gelu'(x)``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_MIN_ELEMENTS, check_contiguous, check_float, check_same_device, contiguous, is_numpy

_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


# ----------------------------------------------------------------------------- NumPy references
def gelu_forward_ref(x):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return (0.5 * x * (1.0 + erf(x * _INV_SQRT2))).astype(x.dtype)


def gelu_backward_ref(x, g):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    cdf = 0.5 * (1.0 + erf(x * _INV_SQRT2))
    pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (g * (cdf + x * pdf)).astype(x.dtype)


def relu_forward_ref(x):
    return np.maximum(x, 0)


def relu_backward_ref(y, g):
    return np.where(y <= 0, 0, g).astype(g.dtype)


def erf_ref(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)


# ----------------------------------------------------------------------------- Numba (CPU)
@njit(cache=True, nogil=True)
def _erf_serial(x, out):
    for i in range(x.size):
        out[i] = math.erf(x[i])


@njit(cache=True, nogil=True, parallel=True)
def _erf_parallel(x, out):
    for i in prange(x.size):
        out[i] = math.erf(x[i])


@njit(cache=True, nogil=True)
def _gelu_forward_serial(x, out):
    T = x.dtype.type
    half, k = T(0.5), T(_INV_SQRT2)
    for i in range(x.size):
        v = x[i]
        out[i] = half * v * (T(1.0) + math.erf(v * k))


@njit(cache=True, nogil=True, parallel=True)
def _gelu_forward_parallel(x, out):
    T = x.dtype.type
    half, k = T(0.5), T(_INV_SQRT2)
    for i in prange(x.size):
        v = x[i]
        out[i] = half * v * (T(1.0) + math.erf(v * k))


@njit(cache=True, nogil=True)
def _gelu_backward_serial(x, g, out):
    T = x.dtype.type
    half, k, c = T(0.5), T(_INV_SQRT2), T(_INV_SQRT_2PI)
    for i in range(x.size):
        v = x[i]
        cdf = half * (T(1.0) + math.erf(v * k))
        out[i] = g[i] * (cdf + v * c * math.exp(-half * v * v))


@njit(cache=True, nogil=True, parallel=True)
def _gelu_backward_parallel(x, g, out):
    T = x.dtype.type
    half, k, c = T(0.5), T(_INV_SQRT2), T(_INV_SQRT_2PI)
    for i in prange(x.size):
        v = x[i]
        cdf = half * (T(1.0) + math.erf(v * k))
        out[i] = g[i] * (cdf + v * c * math.exp(-half * v * v))


@njit(cache=True, nogil=True, parallel=True)
def _relu_forward_parallel(x, out):
    zero = x.dtype.type(0)
    for i in prange(x.size):
        out[i] = zero if x[i] < zero else x[i]        # not max(x, 0): NaN passes through


@njit(cache=True, nogil=True, parallel=True)
def _relu_backward_parallel(y, g, out):
    zero = g.dtype.type(0)
    for i in prange(y.size):
        out[i] = zero if y[i] <= zero else g[i]


# ----------------------------------------------------------------------------- CuPy (GPU)
_cuda_kernels = {}


def _cuda(name):
    if not _cuda_kernels:
        import cupy as cp
        _cuda_kernels["forward"] = cp.ElementwiseKernel(
            "T x", "T y", "y = (T)0.5 * x * ((T)1 + erf(x * (T)0.7071067811865476))", "minigrad_gelu_fwd")
        _cuda_kernels["backward"] = cp.ElementwiseKernel(
            "T x, T g", "T dx",
            "T cdf = (T)0.5 * ((T)1 + erf(x * (T)0.7071067811865476));"
            "dx = g * (cdf + x * (T)0.3989422804014327 * exp((T)-0.5 * x * x))", "minigrad_gelu_bwd")
        _cuda_kernels["erf"] = cp.ElementwiseKernel("T x", "T y", "y = erf(x)", "minigrad_erf")
    return _cuda_kernels[name]


# ----------------------------------------------------------------------------- public entry points
def gelu_forward(x):
    """``gelu(x)`` for a float32/float64 array on CPU or GPU."""
    check_float("gelu_forward", x)
    if not is_numpy(x):
        return _cuda("forward")(x)
    x = contiguous(x)
    out = np.empty_like(x)
    kernel = _gelu_forward_parallel if x.size >= PARALLEL_MIN_ELEMENTS else _gelu_forward_serial
    kernel(x.reshape(-1), out.reshape(-1))
    return out


def gelu_backward(x, g):
    """``g * gelu'(x)``; ``g`` has the shape of ``x``."""
    check_float("gelu_backward", x, g)
    check_same_device("gelu_backward", x, g)
    if x.shape != g.shape:
        raise ValueError(f"gelu_backward: x has shape {x.shape} but g has shape {g.shape}")
    if not is_numpy(x):
        return _cuda("backward")(x, g)
    x, g = contiguous(x), contiguous(g)
    check_contiguous("gelu_backward", x, g)
    out = np.empty_like(x)
    kernel = _gelu_backward_parallel if x.size >= PARALLEL_MIN_ELEMENTS else _gelu_backward_serial
    kernel(x.reshape(-1), g.reshape(-1), out.reshape(-1))
    return out


def erf(x):
    """The error function of a float32/float64 array on CPU or GPU."""
    check_float("erf", x)
    if not is_numpy(x):
        return _cuda("erf")(x)
    x = contiguous(x)
    out = np.empty_like(x)
    kernel = _erf_parallel if x.size >= PARALLEL_MIN_ELEMENTS else _erf_serial
    kernel(x.reshape(-1), out.reshape(-1))
    return out


def relu_forward(x):
    """``relu(x)`` of a large CPU float array, split across Numba's threads."""
    x = _large_cpu_float("relu_forward", x)
    out = np.empty_like(x)
    _relu_forward_parallel(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward(y, g):
    """``g`` where ``y = relu(x)`` is positive, else 0; ``g`` has the shape and dtype of ``y``."""
    y, g = _large_cpu_float("relu_backward", y, g)
    out = np.empty_like(g)
    _relu_backward_parallel(y.reshape(-1), g.reshape(-1), out.reshape(-1))
    return out


def _large_cpu_float(name, *arrays):
    """Contiguous CPU float arrays of one shape (the threaded loops serve only these)."""
    check_float(name, *arrays)
    if not all(is_numpy(a) for a in arrays):
        raise TypeError(f"{name}: the threaded kernel runs on NumPy arrays (CPU)")
    for a in arrays[1:]:
        if a.shape != arrays[0].shape:
            raise ValueError(f"{name}: arrays must share one shape, got {arrays[0].shape} and {a.shape}")
    arrays = [contiguous(a) for a in arrays]
    check_contiguous(name, *arrays)
    return arrays[0] if len(arrays) == 1 else arrays
