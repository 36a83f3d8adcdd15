"""Pooling over NCHW planes: max (with the argmax it routes gradients through) and average.

Shapes: x (N, C, H, W) -> out (N, C, OH, OW).  Window (oh, ow) covers rows oh*sh - ph + i*dh
(i < kh) and columns likewise; positions outside the input are skipped (max pooling treats
them as -inf, average pooling counts them only when ``count_include_pad``).

    max:  out = max over the window,  argmax = the flat index h*W + w of the (first) maximum
          dx[argmax] += g                       (ties: the gradient goes to one element, as PyTorch)
          A dilated window can miss the input entirely: its output is -inf (as PyTorch's) and
          its argmax -1, which the backward skips (PyTorch's index there points past the plane).
    avg:  out = sum over the window / divisor,  dx[window] += g / divisor
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_MIN_ELEMENTS, check_float, check_index, contiguous, is_numpy


def _avg_bounds(a, k, s, p, size):
    """PyTorch's window bounds: the divisor counts padding inside [−p, size + p) only."""
    start = a * s - p
    end = min(start + k, size + p)
    pool = end - start
    return max(start, 0), min(end, size), pool


# ----------------------------------------------------------------------------- NumPy references
def max_pool2d_ref(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n, c, h, w = x.shape
    out = np.full((n, c, oh, ow), -np.inf, dtype=x.dtype)
    idx = np.full((n, c, oh, ow), -1, dtype=np.int64)
    for a in range(oh):
        for b in range(ow):
            for i in range(kh):
                for j in range(kw):
                    ih, iw = a * sh - ph + i * dh, b * sw - pw + j * dw
                    if 0 <= ih < h and 0 <= iw < w:
                        v = x[:, :, ih, iw]
                        better = (v > out[:, :, a, b]) | (idx[:, :, a, b] < 0)
                        out[:, :, a, b] = np.where(better, v, out[:, :, a, b])
                        idx[:, :, a, b] = np.where(better, ih * w + iw, idx[:, :, a, b])
    return out, idx


def avg_pool2d_ref(x, kh, kw, sh, sw, ph, pw, oh, ow, count_include_pad, divisor):
    n, c, h, w = x.shape
    out = np.zeros((n, c, oh, ow), dtype=np.float64)
    for a in range(oh):
        h0, h1, hp = _avg_bounds(a, kh, sh, ph, h)
        for b in range(ow):
            w0, w1, wp = _avg_bounds(b, kw, sw, pw, w)
            d = divisor if divisor else (hp * wp if count_include_pad else (h1 - h0) * (w1 - w0))
            out[:, :, a, b] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / d
    return out.astype(x.dtype)


# ----------------------------------------------------------------------------- Numba (CPU)
@njit(cache=True, nogil=True, inline="always")
def _max_plane(x, out, idx, n, c, kh, kw, sh, sw, ph, pw, dh, dw):
    h, w = x.shape[2], x.shape[3]
    for a in range(out.shape[2]):
        for b in range(out.shape[3]):
            best = x.dtype.type(0)
            where = -1
            for i in range(kh):
                ih = a * sh - ph + i * dh
                if ih < 0 or ih >= h:
                    continue
                for j in range(kw):
                    iw = b * sw - pw + j * dw
                    if 0 <= iw < w:
                        v = x[n, c, ih, iw]
                        # the first maximum wins; a NaN wins over numbers (as PyTorch)
                        if where < 0 or v > best or (v != v and best == best):
                            best = v
                            where = ih * w + iw
            out[n, c, a, b] = best if where >= 0 else x.dtype.type(-np.inf)
            idx[n, c, a, b] = where


@njit(cache=True, nogil=True, parallel=True)
def _max_forward(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    planes = x.shape[0] * x.shape[1]
    for p in prange(planes):
        _max_plane(x, out, idx, p // x.shape[1], p % x.shape[1], kh, kw, sh, sw, ph, pw, dh, dw)


@njit(cache=True, nogil=True)
def _max_forward_serial(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            _max_plane(x, out, idx, n, c, kh, kw, sh, sw, ph, pw, dh, dw)


@njit(cache=True, nogil=True, parallel=True)
def _max_backward(g, idx, dx):
    # one thread per (n, c) plane: overlapping windows that share a maximum accumulate safely
    channels = dx.shape[1]
    w = dx.shape[3]
    for p in prange(dx.shape[0] * channels):
        n, c = p // channels, p % channels
        for a in range(g.shape[2]):
            for b in range(g.shape[3]):
                k = idx[n, c, a, b]
                if k >= 0:                  # -1: a window that missed the input
                    dx[n, c, k // w, k % w] += g[n, c, a, b]


@njit(cache=True, nogil=True, inline="always")
def _avg_divisor(a, b, kh, kw, sh, sw, ph, pw, h, w, count_include_pad, divisor):
    h0 = a * sh - ph
    h1 = min(h0 + kh, h + ph)
    w0 = b * sw - pw
    w1 = min(w0 + kw, w + pw)
    pool = (h1 - h0) * (w1 - w0)
    h0, h1, w0, w1 = max(h0, 0), min(h1, h), max(w0, 0), min(w1, w)
    if divisor > 0:
        return h0, h1, w0, w1, divisor
    return h0, h1, w0, w1, pool if count_include_pad else (h1 - h0) * (w1 - w0)


@njit(cache=True, nogil=True, parallel=True)
def _avg_forward(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    h, w = x.shape[2], x.shape[3]
    channels = x.shape[1]
    for p in prange(x.shape[0] * channels):
        n, c = p // channels, p % channels
        for a in range(out.shape[2]):
            for b in range(out.shape[3]):
                h0, h1, w0, w1, d = _avg_divisor(a, b, kh, kw, sh, sw, ph, pw, h, w, count_include_pad, divisor)
                acc = x.dtype.type(0)
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        acc += x[n, c, ih, iw]
                out[n, c, a, b] = acc / d


@njit(cache=True, nogil=True, parallel=True)
def _avg_backward(g, dx, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    h, w = dx.shape[2], dx.shape[3]
    channels = dx.shape[1]
    for p in prange(dx.shape[0] * channels):
        n, c = p // channels, p % channels
        for a in range(g.shape[2]):
            for b in range(g.shape[3]):
                h0, h1, w0, w1, d = _avg_divisor(a, b, kh, kw, sh, sw, ph, pw, h, w, count_include_pad, divisor)
                share = g[n, c, a, b] / d
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        dx[n, c, ih, iw] += share


# ----------------------------------------------------------------------------- CuPy (GPU)
_cuda_cache = {}

_MAX_FWD = """
    long long a = (i / OW) % OH, b = i % OW, plane = i / (OH * OW);
    const T* xp = &x[plane * H * W];
    T best = 0; long long where = -1;
    for (long long ki = 0; ki < KH; ++ki) {
        long long ih = a * SH - PH + ki * DH;
        if (ih < 0 || ih >= H) continue;
        for (long long kj = 0; kj < KW; ++kj) {
            long long iw = b * SW - PW + kj * DW;
            if (iw < 0 || iw >= W) continue;
            T v = xp[ih * W + iw];
            if (where < 0 || v > best || (v != v && best == best)) { best = v; where = ih * W + iw; }
        }
    }
    out = best; idx = where;
"""

_AVG_BOUNDS = """
    long long h0 = a * SH - PH, h1 = min(h0 + KH, H + PH), w0 = b * SW - PW, w1 = min(w0 + KW, W + PW);
    long long pool = (h1 - h0) * (w1 - w0);
    h0 = max(h0, 0LL); h1 = min(h1, H); w0 = max(w0, 0LL); w1 = min(w1, W);
    T d = DIV > 0 ? (T)DIV : (T)(INCLUDE ? pool : (h1 - h0) * (w1 - w0));
"""

_AVG_FWD = """
    long long a = (i / OW) % OH, b = i % OW, plane = i / (OH * OW);
""" + _AVG_BOUNDS + """
    T acc = 0;
    for (long long ih = h0; ih < h1; ++ih) for (long long iw = w0; iw < w1; ++iw) acc += x[(plane * H + ih) * W + iw];
    out = acc / d;
"""

_AVG_BWD = """
    // gather: each input position sums g / divisor over the windows that contain it
    long long ih = (i / W) % H, iw = i % W, plane = i / (H * W);
    long long ta = ih + PH - KH + 1, tb = iw + PW - KW + 1;
    long long a_lo = ta <= 0 ? 0 : (ta + SH - 1) / SH, a_hi = min(OH - 1, (ih + PH) / SH);
    long long b_lo = tb <= 0 ? 0 : (tb + SW - 1) / SW, b_hi = min(OW - 1, (iw + PW) / SW);
    T acc = 0;
    for (long long a = a_lo; a <= a_hi; ++a) {
        for (long long b = b_lo; b <= b_hi; ++b) {
""" + _AVG_BOUNDS + """
            acc += g[(plane * OH + a) * OW + b] / d;
        }
    }
    dx = acc;
"""

_GEO = "int64 H, int64 W, int64 OH, int64 OW, int64 KH, int64 KW, int64 SH, int64 SW, int64 PH, int64 PW"


def _cuda(name):
    if name not in _cuda_cache:
        import cupy as cp
        if name == "max":
            _cuda_cache[name] = cp.ElementwiseKernel(f"raw T x, {_GEO}, int64 DH, int64 DW", "T out, int64 idx",
                                                     _MAX_FWD, "minigrad_max_pool")
        elif name == "avg":
            _cuda_cache[name] = cp.ElementwiseKernel(f"raw T x, {_GEO}, bool INCLUDE, int64 DIV", "T out",
                                                     _AVG_FWD, "minigrad_avg_pool")
        else:
            _cuda_cache[name] = cp.ElementwiseKernel(f"raw T g, {_GEO}, bool INCLUDE, int64 DIV", "T dx",
                                                     _AVG_BWD, "minigrad_avg_pool_bwd")
    return _cuda_cache[name]


# ----------------------------------------------------------------------------- public entry points
def _check(name, x):
    check_float(name, x)
    if x.ndim != 4:
        raise ValueError(f"{name}: expected (N, C, H, W), got {x.shape}")


def _output_sizes(size, k, s, p, d):
    """The output sizes PyTorch's floor and ceil modes give (see ops/pool.py)."""
    span = size + 2 * p - d * (k - 1) - 1
    ceil = -(-span // s) + 1
    if (ceil - 1) * s >= size + p:
        ceil -= 1
    return {span // s + 1, ceil}


def _check_geometry(name, size, out, kernel, stride, padding, dilation=(1, 1)):
    """Before the compiled loops, which trust these: sizes >= 1, padding within half the
    (dilated) window, and an output size that floor or ceil mode gives for this input (a
    window far larger than the input would otherwise loop for a very long time)."""
    for field, values, least in (("kernel size", kernel, 1), ("stride", stride, 1), ("padding", padding, 0),
                                 ("dilation", dilation, 1), ("input size", size, 1), ("output size", out, 1)):
        if any(int(v) != v or v < least for v in values):
            raise ValueError(f"{name}: {field} {tuple(values)} must be integers >= {least}")
    for axis in range(2):
        k, s, p, d = kernel[axis], stride[axis], padding[axis], dilation[axis]
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{name}: padding {tuple(padding)} must be at most half the (dilated) kernel {tuple(kernel)}")
        if out[axis] not in _output_sizes(size[axis], k, s, p, d):
            raise ValueError(f"{name}: output size {tuple(out)} does not fit a {tuple(size)} input with kernel "
                             f"{tuple(kernel)}, stride {tuple(stride)}, padding {tuple(padding)}, "
                             f"dilation {tuple(dilation)}")


def _check_divisor(name, divisor):
    if int(divisor) != divisor or divisor < 0:
        raise ValueError(f"{name}: divisor must be an integer >= 0 (0: the window's size), got {divisor}")


def max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """(out, argmax) for max pooling; argmax holds flat indices into each H*W plane."""
    _check("max_pool2d_forward", x)
    n, c, h, w = x.shape
    _check_geometry("max_pool2d_forward", (h, w), (oh, ow), (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    if not is_numpy(x):
        import cupy as cp
        out = cp.empty((n, c, oh, ow), dtype=x.dtype)
        idx = cp.empty((n, c, oh, ow), dtype=cp.int64)
        _cuda("max")(cp.ascontiguousarray(x), h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, out, idx)
        return cp.where(idx < 0, x.dtype.type(-np.inf), out), idx
    x = contiguous(x)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    idx = np.empty((n, c, oh, ow), dtype=np.int64)
    kernel = _max_forward if x.size >= PARALLEL_MIN_ELEMENTS else _max_forward_serial
    kernel(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw)
    return out, idx


def max_pool2d_backward(g, idx, h, w):
    """Route ``g`` (N, C, OH, OW) to the argmax positions of an (N, C, h, w) input."""
    check_float("max_pool2d_backward", g)
    if idx.shape != g.shape:
        raise ValueError(f"max_pool2d_backward: indices {idx.shape} and gradient {g.shape} differ")
    check_index("max_pool2d_backward", idx + 1, h * w + 1)      # -1 marks a window that missed the input
    n, c = g.shape[:2]
    if not is_numpy(g):
        import cupy as cp
        import cupyx
        dx = cp.zeros((n, c, h * w), dtype=g.dtype)
        planes = cp.arange(n * c).reshape(n, c, 1) * (h * w)
        hit = idx >= 0
        cupyx.scatter_add(dx.reshape(-1), (cp.where(hit, idx, 0).reshape(n, c, -1) + planes).reshape(-1),
                          cp.where(hit, g, 0).reshape(-1))
        return dx.reshape(n, c, h, w)
    dx = np.zeros((n, c, h, w), dtype=g.dtype)
    _max_backward(contiguous(g), contiguous(idx), dx)
    return dx


def avg_pool2d_forward(x, kh, kw, sh, sw, ph, pw, oh, ow, count_include_pad=True, divisor=0):
    _check("avg_pool2d_forward", x)
    n, c, h, w = x.shape
    _check_geometry("avg_pool2d_forward", (h, w), (oh, ow), (kh, kw), (sh, sw), (ph, pw))
    _check_divisor("avg_pool2d_forward", divisor)
    if not is_numpy(x):
        import cupy as cp
        out = cp.empty((n, c, oh, ow), dtype=x.dtype)
        return _cuda("avg")(cp.ascontiguousarray(x), h, w, oh, ow, kh, kw, sh, sw, ph, pw, bool(count_include_pad),
                            int(divisor), out)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    _avg_forward(contiguous(x), out, kh, kw, sh, sw, ph, pw, bool(count_include_pad), int(divisor))
    return out


def avg_pool2d_backward(g, h, w, kh, kw, sh, sw, ph, pw, count_include_pad=True, divisor=0):
    check_float("avg_pool2d_backward", g)
    if g.ndim != 4:
        raise ValueError(f"avg_pool2d_backward: expected a gradient (N, C, OH, OW), got {g.shape}")
    n, c, oh, ow = g.shape
    _check_geometry("avg_pool2d_backward", (h, w), (oh, ow), (kh, kw), (sh, sw), (ph, pw))
    _check_divisor("avg_pool2d_backward", divisor)
    if not is_numpy(g):
        import cupy as cp
        dx = cp.empty((n, c, h, w), dtype=g.dtype)
        return _cuda("avg_bwd")(cp.ascontiguousarray(g), h, w, oh, ow, kh, kw, sh, sw, ph, pw,
                                bool(count_include_pad), int(divisor), dx)
    dx = np.zeros((n, c, h, w), dtype=g.dtype)
    _avg_backward(contiguous(g), dx, kh, kw, sh, sw, ph, pw, bool(count_include_pad), int(divisor))
    return dx
