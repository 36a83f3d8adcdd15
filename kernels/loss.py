"""Cross-entropy over class indices, fused: log-softmax and the negative log-likelihood in
one pass per row, and the gradient in one pass per row.

Shapes: logits z (M, C), targets y (M,) int64, class weights w (C,).  With smoothing e and
lse_i = log sum_c exp(z_ic):

    loss_i = (1 - e) w[y_i] (lse_i - z_iy) + (e / C) sum_c w_c (lse_i - z_ic)      (0 if y_i ignored)
    dz_ic  = s_i [ (1 - e) w[y_i] (p_ic - [c = y_i]) + (e / C) (p_ic sum_c' w_c' - w_c) ]

where p = softmax(z) = exp(z - lse) and s_i is the upstream gradient of loss_i.
Forward returns (loss (M,), lse (M,)); backward returns dz (M, C).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_MIN_ELEMENTS, check_contiguous, check_float, check_index, contiguous, is_numpy


# ----------------------------------------------------------------------------- NumPy references
def cross_entropy_forward_ref(logits, target, weight, ignore_index, smoothing):
    z = logits.astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    nll = lse - z[np.arange(len(z)), safe]
    smooth = (weight[None, :] * (lse[:, None] - z)).sum(axis=1)
    loss = (1 - smoothing) * weight[safe] * nll + smoothing / z.shape[1] * smooth
    return np.where(valid, loss, 0.0).astype(logits.dtype), lse.astype(logits.dtype)


def cross_entropy_backward_ref(logits, lse, target, weight, ignore_index, smoothing, grad_rows):
    z = logits.astype(np.float64)
    n_cls = z.shape[1]
    p = np.exp(z - lse[:, None].astype(np.float64))
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    onehot = np.zeros_like(z)
    onehot[np.arange(len(z)), safe] = 1.0
    dz = (1 - smoothing) * weight[safe][:, None] * (p - onehot) + smoothing / n_cls * (p * weight.sum() - weight[None, :])
    dz *= np.where(valid, grad_rows, 0.0)[:, None]          # an ignored row gets 0, even from a NaN scale
    return dz.astype(logits.dtype)


# ----------------------------------------------------------------------------- Numba (CPU)
@njit(cache=True, nogil=True, inline="always")
def _row_forward(z, i, y, weight, smoothing):
    T = z.dtype.type
    n_cls = z.shape[1]
    m = z[i, 0]
    for c in range(1, n_cls):
        if z[i, c] > m:
            m = z[i, c]
    s = T(0.0)
    for c in range(n_cls):
        s += np.exp(z[i, c] - m)
    lse = m + np.log(s)
    loss = (T(1.0) - smoothing) * weight[y] * (lse - z[i, y])
    if smoothing != 0:
        acc = T(0.0)
        for c in range(n_cls):
            acc += weight[c] * (lse - z[i, c])
        loss += smoothing / T(n_cls) * acc
    return loss, lse


@njit(cache=True, nogil=True, parallel=True)
def _forward_parallel(z, target, weight, ignore_index, smoothing, loss, lse):
    for i in prange(z.shape[0]):
        y = target[i]
        if y == ignore_index:
            loss[i] = 0
            lse[i] = 0
        else:
            loss[i], lse[i] = _row_forward(z, i, y, weight, smoothing)


@njit(cache=True, nogil=True)
def _forward_serial(z, target, weight, ignore_index, smoothing, loss, lse):
    for i in range(z.shape[0]):
        y = target[i]
        if y == ignore_index:
            loss[i] = 0
            lse[i] = 0
        else:
            loss[i], lse[i] = _row_forward(z, i, y, weight, smoothing)


@njit(cache=True, nogil=True, inline="always")
def _row_backward(z, lse, i, y, weight, w_sum, smoothing, s, dz):
    T = z.dtype.type
    n_cls = z.shape[1]
    main = (T(1.0) - smoothing) * weight[y] * s
    side = smoothing / T(n_cls) * s
    for c in range(n_cls):
        p = np.exp(z[i, c] - lse[i])
        dz[i, c] = main * p + side * (p * w_sum - weight[c])
    dz[i, y] -= main


@njit(cache=True, nogil=True, parallel=True)
def _backward_parallel(z, lse, target, weight, w_sum, ignore_index, smoothing, grad_rows, dz):
    for i in prange(z.shape[0]):
        y = target[i]
        if y == ignore_index:
            for c in range(z.shape[1]):
                dz[i, c] = 0
        else:
            _row_backward(z, lse, i, y, weight, w_sum, smoothing, grad_rows[i], dz)


@njit(cache=True, nogil=True)
def _backward_serial(z, lse, target, weight, w_sum, ignore_index, smoothing, grad_rows, dz):
    for i in range(z.shape[0]):
        y = target[i]
        if y == ignore_index:
            for c in range(z.shape[1]):
                dz[i, c] = 0
        else:
            _row_backward(z, lse, i, y, weight, w_sum, smoothing, grad_rows[i], dz)


# ----------------------------------------------------------------------------- CuPy (GPU)
_CUDA_SOURCE = r"""
template <typename T>
__device__ void ce_forward_row(const T* z, long long n_cls, long long y, const T* w, T smoothing,
                               T* loss, T* lse_out) {
    // one block per row: block-wide max and sum of exponentials in shared memory
    extern __shared__ unsigned char smem_raw[];
    T* smem = reinterpret_cast<T*>(smem_raw);
    T m = z[0];
    for (long long c = threadIdx.x; c < n_cls; c += blockDim.x) m = max(m, z[c]);
    smem[threadIdx.x] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) smem[threadIdx.x] = max(smem[threadIdx.x], smem[threadIdx.x + s]);
        __syncthreads();
    }
    m = smem[0];
    __syncthreads();
    T acc = 0, wacc = 0;
    for (long long c = threadIdx.x; c < n_cls; c += blockDim.x) {
        acc += exp(z[c] - m);
        wacc += w[c] * z[c];
    }
    smem[threadIdx.x] = acc;
    smem[blockDim.x + threadIdx.x] = wacc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            smem[threadIdx.x] += smem[threadIdx.x + s];
            smem[blockDim.x + threadIdx.x] += smem[blockDim.x + threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        T lse = m + log(smem[0]);
        T w_sum = 0;
        for (long long c = 0; c < n_cls; ++c) w_sum += w[c];
        T l = (1 - smoothing) * w[y] * (lse - z[y]);
        if (smoothing != 0) l += smoothing / n_cls * (w_sum * lse - smem[blockDim.x]);
        *loss = l;
        *lse_out = lse;
    }
}

#define CE_FORWARD(NAME, T)                                                                         \
extern "C" __global__ void NAME(const T* z, const long long* target, const T* w, long long n_rows,    \
                                long long n_cls, long long ignore_index, T smoothing, T* loss, T* lse) { \
    long long i = blockIdx.x;                                                                        \
    if (i >= n_rows) return;                                                                         \
    long long y = target[i];                                                                         \
    if (y == ignore_index) { if (threadIdx.x == 0) { loss[i] = 0; lse[i] = 0; } return; }          \
    ce_forward_row<T>(z + i * n_cls, n_cls, y, w, smoothing, loss + i, lse + i);                     \
}
CE_FORWARD(ce_forward_f32, float)
CE_FORWARD(ce_forward_f64, double)
"""
_cuda_cache = {}


def _cuda_forward(dtype):
    key = ("forward", dtype.char)
    if key not in _cuda_cache:
        import cupy as cp
        module = cp.RawModule(code=_CUDA_SOURCE, options=("--std=c++14",))
        _cuda_cache[("forward", "f")] = module.get_function("ce_forward_f32")
        _cuda_cache[("forward", "d")] = module.get_function("ce_forward_f64")
    return _cuda_cache[key]


def _cuda_backward():
    if "backward" not in _cuda_cache:
        import cupy as cp
        _cuda_cache["backward"] = cp.ElementwiseKernel(
            "raw T z, raw T lse, raw int64 target, raw T w, T w_sum, int64 n_cls, int64 ignore_index, "
            "T smoothing, raw T grad_rows", "T dz",
            """
            long long row = i / n_cls, c = i % n_cls;
            long long y = target[row];
            if (y == ignore_index) { dz = 0; }
            else {
                T s = grad_rows[row];
                T p = exp(z[i] - lse[row]);
                T main = (1 - smoothing) * w[y] * s;
                dz = main * (p - (c == y ? (T)1 : (T)0)) + smoothing / n_cls * s * (p * w_sum - w[c]);
            }
            """, "minigrad_ce_backward")
    return _cuda_cache["backward"]


# ----------------------------------------------------------------------------- public entry points
def _check(name, logits, target, weight):
    check_float(name, logits, weight)
    if logits.ndim != 2 or target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise ValueError(f"{name}: expected logits (M, C) and targets (M,), got {logits.shape} and {target.shape}")
    if weight.shape != (logits.shape[1],):
        raise ValueError(f"{name}: weight has shape {weight.shape}, expected ({logits.shape[1]},)")


def _valid_targets(name, target, n_cls, ignore_index):
    """Targets must be class indices or ignore_index: checked here, so the loop never reads out of bounds."""
    xp_valid = target[target != ignore_index]
    check_index(name, xp_valid, n_cls)


def cross_entropy_forward(logits, target, weight, ignore_index=-100, smoothing=0.0):
    """Per-row loss and log-sum-exp of ``logits`` (M, C) for class indices ``target`` (M,)."""
    _check("cross_entropy_forward", logits, target, weight)
    _valid_targets("cross_entropy_forward", target, logits.shape[1], ignore_index)
    n_rows, n_cls = logits.shape
    if not is_numpy(logits):
        import cupy as cp
        z, t, w = cp.ascontiguousarray(logits), cp.ascontiguousarray(target, dtype=cp.int64), cp.ascontiguousarray(weight)
        loss = cp.empty(n_rows, dtype=z.dtype)
        lse = cp.empty(n_rows, dtype=z.dtype)
        if n_rows:
            threads = 128
            _cuda_forward(z.dtype)((n_rows,), (threads,), (z, t, w, np.int64(n_rows), np.int64(n_cls),
                                                           np.int64(ignore_index), z.dtype.type(smoothing), loss, lse),
                                   shared_mem=2 * threads * z.dtype.itemsize)
        return loss, lse
    z, t, w = contiguous(logits), contiguous(target.astype(np.int64, copy=False)), contiguous(weight)
    check_contiguous("cross_entropy_forward", z, t, w)
    loss = np.empty(n_rows, dtype=z.dtype)
    lse = np.empty(n_rows, dtype=z.dtype)
    kernel = _forward_parallel if z.size >= PARALLEL_MIN_ELEMENTS else _forward_serial
    kernel(z, t, w, np.int64(ignore_index), z.dtype.type(smoothing), loss, lse)
    return loss, lse


def cross_entropy_backward(logits, lse, target, weight, grad_rows, ignore_index=-100, smoothing=0.0):
    """d loss / d logits (M, C) given the upstream gradient of each row's loss ``grad_rows`` (M,)."""
    _check("cross_entropy_backward", logits, target, weight)
    check_float("cross_entropy_backward", logits, lse, grad_rows)
    if lse.shape != (logits.shape[0],) or grad_rows.shape != (logits.shape[0],):
        raise ValueError(f"cross_entropy_backward: lse {lse.shape} and grad_rows {grad_rows.shape} must be "
                         f"({logits.shape[0]},)")
    _valid_targets("cross_entropy_backward", target, logits.shape[1], ignore_index)
    dtype = logits.dtype.type
    if not is_numpy(logits):
        import cupy as cp
        dz = cp.empty_like(logits)
        return _cuda_backward()(cp.ascontiguousarray(logits), lse, target, weight, dtype(float(weight.sum())),
                                np.int64(logits.shape[1]), np.int64(ignore_index), dtype(smoothing),
                                cp.ascontiguousarray(grad_rows), dz)
    z, t, w = contiguous(logits), contiguous(target.astype(np.int64, copy=False)), contiguous(weight)
    dz = np.empty_like(z)
    kernel = _backward_parallel if z.size >= PARALLEL_MIN_ELEMENTS else _backward_serial
    kernel(z, contiguous(lse), t, w, dtype(w.sum()), np.int64(ignore_index), dtype(smoothing), contiguous(grad_rows), dz)
    return dz
