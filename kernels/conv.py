"""im2col and col2im: the gather and scatter around convolution's matrix products.

Shapes (NCHW): x (N, C, H, W); a kernel window of kh x kw with stride (sh, sw), zero
padding (ph, pw) and dilation (dh, dw) gives OH x OW outputs, with

    OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1        (likewise OW)

    cols[(c kh + i) kw + j, (n OH + oh) OW + ow] = x[n, c, oh sh - ph + i dh, ow sw - pw + j dw]   (0 outside)

so that a whole batch's convolution is one matrix product ``W.reshape(O, C kh kw) @ cols``
(O, N OH OW), large enough for BLAS to use every core.  ``col2im`` is the adjoint: it adds
every column entry back onto the input position it was read from (overlapping windows
accumulate), which is the gradient of im2col.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._common import check_contiguous, check_float, contiguous, is_numpy


def output_size(size, k, stride, pad, dilation):
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def _check_geometry(name, h, w, kh, kw, sh, sw, ph, pw, dh, dw):
    for label, v, lo in (("kernel", kh, 1), ("kernel", kw, 1), ("stride", sh, 1), ("stride", sw, 1),
                         ("dilation", dh, 1), ("dilation", dw, 1), ("padding", ph, 0), ("padding", pw, 0)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name}: {label} must be an integer >= {lo}, got {v}")
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: a {h}x{w} input with padding ({ph}, {pw}) is smaller than the dilated "
                         f"kernel {dh * (kh - 1) + 1}x{dw * (kw - 1) + 1}")
    return oh, ow


# ----------------------------------------------------------------------------- NumPy references
def im2col_ref(x, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = padded[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]
    return cols.reshape(n, c * kh * kw, oh * ow).transpose(1, 0, 2).reshape(c * kh * kw, n * oh * ow)


def col2im_ref(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw):
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    blocks = cols.reshape(c, kh, kw, n, oh, ow).transpose(3, 0, 1, 2, 4, 5)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw] += blocks[:, :, i, j]
    return padded[:, :, ph: ph + h, pw: pw + w]


def _taps(padded, kh, kw, sh, sw, dh, dw, oh, ow):
    """(i, j, window): for each kernel tap, the (N, C, OH, OW) view of the padded input it multiplies."""
    for i in range(kh):
        for j in range(kw):
            yield i, j, padded[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]


def conv2d_ref(x, weight, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1):
    """conv2d by its definition (one group, no bias), a sum over the kernel's taps:
    y[n, o, a, b] = sum_{c, i, j} weight[o, c, i, j] x[n, c, a sh - ph + i dh, b sw - pw + j dw]."""
    o, _, kh, kw = weight.shape
    oh, ow = output_size(x.shape[2], kh, sh, ph, dh), output_size(x.shape[3], kw, sw, pw, dw)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((x.shape[0], o, oh, ow), dtype=x.dtype)
    for i, j, window in _taps(padded, kh, kw, sh, sw, dh, dw, oh, ow):
        y += np.einsum("nchw,oc->nohw", window, weight[:, :, i, j])
    return y


def conv2d_backward_ref(x, weight, dy, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1):
    """(dx, dweight) of :func:`conv2d_ref`, tap by tap: each tap's product taken back.
    dweight[:, :, i, j] = sum_{n, a, b} dy window^T;  dx's window += weight[:, :, i, j]^T dy."""
    _, _, kh, kw = weight.shape
    n, c, h, w = x.shape
    oh, ow = dy.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dpadded = np.zeros_like(padded)
    dweight = np.zeros_like(weight)
    for (i, j, window), (_, _, dwindow) in zip(_taps(padded, kh, kw, sh, sw, dh, dw, oh, ow),
                                               _taps(dpadded, kh, kw, sh, sw, dh, dw, oh, ow)):
        dweight[:, :, i, j] = np.einsum("nohw,nchw->oc", dy, window)
        dwindow += np.einsum("nohw,oc->nchw", dy, weight[:, :, i, j])
    return dpadded[:, :, ph: ph + h, pw: pw + w], dweight


# ----------------------------------------------------------------------------- Numba (CPU)
@njit(cache=True, nogil=True, inline="always")
def _valid_range(j, kw_dilation, sw, pw, w, ow):
    """Output columns b whose input column b*sw - pw + j*dw lies inside [0, w)."""
    first = pw - j * kw_dilation                  # b*sw >= first
    lo = 0 if first <= 0 else (first + sw - 1) // sw
    last = w - 1 + pw - j * kw_dilation           # b*sw <= last
    hi = -1 if last < 0 else min(ow - 1, last // sw)
    return lo, hi


@njit(cache=True, nogil=True)
def _im2col_serial(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    # one row of cols (a channel and kernel offset) at a time, written front to back: going
    # image by image instead writes C kh kw rows at once, hundreds of streams that thrash the
    # cache and TLB (a 9 MB gather on 4x4 images took 17 ms that way)
    n_img, n_ch, h, w = x.shape
    zero = x.dtype.type(0)
    for c in range(n_ch):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                lo, hi = _valid_range(j, dw, sw, pw, w, ow)
                offset = j * dw - pw
                for n in range(n_img):
                    for a in range(oh):
                        ih = a * sh - ph + i * dh
                        base = (n * oh + a) * ow
                        if ih < 0 or ih >= h or hi < lo:
                            for b in range(ow):
                                cols[row, base + b] = zero
                            continue
                        for b in range(lo):                       # left padding
                            cols[row, base + b] = zero
                        for b in range(lo, hi + 1):               # the inside: a plain strided copy
                            cols[row, base + b] = x[n, c, ih, offset + b * sw]
                        for b in range(hi + 1, ow):               # right padding
                            cols[row, base + b] = zero


@njit(cache=True, nogil=True)
def _col2im_serial(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    # row by row, as im2col: each row is read front to back, its sums land in one channel
    n_img, n_ch, h, w = dx.shape
    for c in range(n_ch):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                lo, hi = _valid_range(j, dw, sw, pw, w, ow)
                offset = j * dw - pw
                for n in range(n_img):
                    for a in range(oh):
                        ih = a * sh - ph + i * dh
                        if ih < 0 or ih >= h:
                            continue
                        base = (n * oh + a) * ow
                        for b in range(lo, hi + 1):
                            dx[n, c, ih, offset + b * sw] += cols[row, base + b]


# ----------------------------------------------------------------------------- CuPy (GPU)
_cuda_cache = {}

_IM2COL = """
    long long L = OH * OW, K = KH * KW;
    long long row = i / (N * L), col = i % (N * L);
    long long n = col / L, l = col % L;
    long long c = row / K, k = row % K, ki = k / KW, kj = k % KW;
    long long ih = (l / OW) * SH - PH + ki * DH, iw = (l % OW) * SW - PW + kj * DW;
    cols = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[((n * C + c) * H + ih) * W + iw] : (T)0;
"""

_COL2IM = """
    // gather instead of scatter: each input position sums the column entries that read it
    long long L = OH * OW, K = KH * KW;
    long long n = i / (C * H * W), rem = i % (C * H * W);
    long long c = rem / (H * W), ih = (rem / W) % H, iw = rem % W;
    T acc = 0;
    for (long long ki = 0; ki < KH; ++ki) {
        long long t = ih + PH - ki * DH;
        if (t < 0 || t % SH != 0) continue;
        long long a = t / SH;
        if (a >= OH) continue;
        for (long long kj = 0; kj < KW; ++kj) {
            long long u = iw + PW - kj * DW;
            if (u < 0 || u % SW != 0) continue;
            long long b = u / SW;
            if (b >= OW) continue;
            acc += cols[((c * K + ki * KW + kj) * N + n) * L + a * OW + b];
        }
    }
    dx = acc;
"""

_GEOMETRY = "int64 N, int64 C, int64 H, int64 W, int64 KH, int64 KW, int64 SH, int64 SW, int64 PH, int64 PW, int64 DH, int64 DW, int64 OH, int64 OW"


def _cuda(name):
    if name not in _cuda_cache:
        import cupy as cp
        if name == "im2col":
            _cuda_cache[name] = cp.ElementwiseKernel(f"raw T x, {_GEOMETRY}", "T cols", _IM2COL, "minigrad_im2col")
        else:
            _cuda_cache[name] = cp.ElementwiseKernel(f"raw T cols, {_GEOMETRY}", "T dx", _COL2IM, "minigrad_col2im")
    return _cuda_cache[name]


# ----------------------------------------------------------------------------- public entry points
def im2col(x, kh, kw, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1):
    """``x`` (N, C, H, W) -> columns (C kh kw, N OH OW) for a float32/float64 array."""
    check_float("im2col", x)
    if x.ndim != 4:
        raise ValueError(f"im2col: expected x of shape (N, C, H, W), got {x.shape}")
    n, c, h, w = x.shape
    oh, ow = _check_geometry("im2col", h, w, kh, kw, sh, sw, ph, pw, dh, dw)
    geometry = (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    if not is_numpy(x):
        import cupy as cp
        cols = cp.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
        return _cuda("im2col")(cp.ascontiguousarray(x), n, c, h, w, *geometry, cols)
    x = contiguous(x)
    cols = np.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    # one thread: right after a matrix product BLAS's threads still spin on the cores, and a
    # parallel im2col fighting them measured slower (6.7 ms vs 3.7 ms per 14 MB chunk)
    _im2col_serial(x, cols, *geometry)
    return cols


def col2im(cols, n, c, h, w, kh, kw, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1):
    """The adjoint of :func:`im2col`: columns (C kh kw, N OH OW) summed back to (N, C, H, W)."""
    check_float("col2im", cols)
    oh, ow = _check_geometry("col2im", h, w, kh, kw, sh, sw, ph, pw, dh, dw)
    if cols.shape != (c * kh * kw, n * oh * ow):
        raise ValueError(f"col2im: columns of shape {cols.shape} do not fit N={n}, C={c}, {h}x{w}, kernel "
                         f"{kh}x{kw} (expected ({c * kh * kw}, {n * oh * ow}))")
    geometry = (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    if not is_numpy(cols):
        import cupy as cp
        dx = cp.empty((n, c, h, w), dtype=cols.dtype)
        return _cuda("col2im")(cp.ascontiguousarray(cols), n, c, h, w, *geometry, dx)
    cols = contiguous(cols)
    check_contiguous("col2im", cols)
    dx = np.zeros((n, c, h, w), dtype=cols.dtype)
    _col2im_serial(cols, dx, *geometry)       # one thread, as im2col (see there)
    return dx
