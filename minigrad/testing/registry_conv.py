"""Registry entries for convolution and pooling (valid combinations of stride, padding,
dilation and groups only), with NumPy references built on ``kernels/conv.py``'s references."""
from __future__ import annotations

import numpy as np

from ..kernels import conv as _conv_kernels
from ..kernels import pool as _pool_kernels
from ..ops import conv as _conv_ops
from ..ops import interpolate as _interpolate_ops
from ..ops import pool as _pool_ops
from .registry import OpSpec, Sample, _dropout_call, _dropout_sample, _np_dropout, register


def _conv_geometry(d, h, w, allow_stride=True):
    """Kernel, stride, padding, dilation that fit an h x w input."""
    kh, kw = d.integers(1, min(3, h + 2)), d.integers(1, min(3, w + 2))
    sh, sw = (d.integers(1, 2), d.integers(1, 2)) if allow_stride else (1, 1)
    dh, dw = d.integers(1, 2), d.integers(1, 2)
    ph, pw = d.integers(0, 1), d.integers(0, 1)
    while h + 2 * ph < dh * (kh - 1) + 1:
        dh, kh = 1, max(1, kh - 1)
    while w + 2 * pw < dw * (kw - 1) + 1:
        dw, kw = 1, max(1, kw - 1)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw)


def _conv_sample(d, dtype):
    groups = d.integers(1, 2)
    n, cin, cout = d.integers(1, 2), groups * d.integers(1, 2), groups * d.integers(1, 2)
    h, w = d.integers(1, 5), d.integers(1, 5)
    (kh, kw), stride, padding, dilation = _conv_geometry(d, h, w)
    args = [d.floats((n, cin, h, w), dtype=dtype), d.floats((cout, cin // groups, kh, kw), dtype=dtype)]
    if d.boolean():
        args.append(d.floats((cout,), dtype=dtype))
    return Sample(args, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups})


def np_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    cols = _conv_kernels.im2col_ref(x, kh, kw, *stride, *padding, *dilation)         # (C kh kw, N L)
    oh = _conv_kernels.output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = _conv_kernels.output_size(wd, kw, stride[1], padding[1], dilation[1])
    k, og = cg * kh * kw, o // groups
    out = np.concatenate([w[g * og:(g + 1) * og].reshape(og, k) @ cols[g * k:(g + 1) * k] for g in range(groups)])
    out = out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)
    return out + (0 if b is None else b.reshape(1, -1, 1, 1))


register(OpSpec("conv2d", lambda *a, **kw: _conv_ops.conv2d(*a, **kw), np_conv2d, _conv_sample,
                lambda t, *a, **kw: t.nn.functional.conv2d(*a, **kw), rtol32=1e-3))


def _conv_same_sample(d, dtype):
    n, c, o = d.integers(1, 2), d.integers(1, 2), d.integers(1, 2)
    h, w = d.integers(2, 5), d.integers(2, 5)
    return Sample([d.floats((n, c, h, w), dtype=dtype), d.floats((o, c, d.integers(1, 3), d.integers(1, 3)), dtype=dtype)])


def _np_conv_same(x, w):
    kh, kw = w.shape[2:]
    th, tw = kh - 1, kw - 1
    padded = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    return np_conv2d(padded, w)


register(OpSpec("conv2d_same", lambda x, w: _conv_ops.conv2d(x, w, padding="same"), _np_conv_same, _conv_same_sample,
                lambda t, x, w: t.nn.functional.conv2d(x, w, padding="same"), covers="conv2d", rtol32=1e-3))


def _conv1d_sample(d, dtype):
    n, c, o, length = d.integers(1, 2), d.integers(1, 3), d.integers(1, 3), d.integers(2, 6)
    k = d.integers(1, min(3, length))
    return Sample([d.floats((n, c, length), dtype=dtype), d.floats((o, c, k), dtype=dtype)],
                  {"stride": d.integers(1, 2), "padding": d.integers(0, 1)})


register(OpSpec("conv1d", lambda x, w, **kw: _conv_ops.conv1d(x, w, **kw),
                lambda x, w, stride, padding: np_conv2d(x[:, :, None], w[:, :, None], None, (1, stride), (0, padding))[:, :, 0],
                _conv1d_sample, lambda t, x, w, **kw: t.nn.functional.conv1d(x, w, **kw), rtol32=1e-3))


def _conv_t_sample(d, dtype):
    groups = d.integers(1, 2)
    n, cin, cout = d.integers(1, 2), groups * d.integers(1, 2), groups * d.integers(1, 2)
    h, w = d.integers(1, 4), d.integers(1, 4)
    kh, kw = d.integers(1, 3), d.integers(1, 3)
    stride = (d.integers(1, 2), d.integers(1, 2))
    dilation = (d.integers(1, 2), d.integers(1, 2))
    padding = (d.integers(0, (dilation[0] * (kh - 1)) // 2), d.integers(0, (dilation[1] * (kw - 1)) // 2))
    output_padding = tuple(d.integers(0, s - 1) for s in stride)
    args = [d.floats((n, cin, h, w), dtype=dtype), d.floats((cin, cout // groups, kh, kw), dtype=dtype)]
    if d.boolean():
        args.append(d.floats((cout,), dtype=dtype))
    return Sample(args, {"stride": stride, "padding": padding, "output_padding": output_padding,
                         "groups": groups, "dilation": dilation})


def _np_conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1,
                         dilation=(1, 1)):
    """Scatter each input pixel times the kernel into the (cropped) output: the definition."""
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    ow = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    full = np.zeros((n, og * groups, oh + 2 * padding[0] + kh * dilation[0], ow + 2 * padding[1] + kw * dilation[1]))
    cg = c // groups
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nchw,co->nohw", x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg, :, i, j])
                r0, c0 = i * dilation[0], j * dilation[1]
                full[:, g * og:(g + 1) * og, r0:r0 + (h - 1) * stride[0] + 1:stride[0],
                     c0:c0 + (wd - 1) * stride[1] + 1:stride[1]] += contrib
    out = full[:, :, padding[0]:padding[0] + oh, padding[1]:padding[1] + ow]
    return out + (0 if b is None else b.reshape(1, -1, 1, 1))


register(OpSpec("conv_transpose2d", lambda *a, **kw: _conv_ops.conv_transpose2d(*a, **kw), _np_conv_transpose2d,
                _conv_t_sample, lambda t, *a, **kw: t.nn.functional.conv_transpose2d(*a, **kw), rtol32=1e-3))


# ----------------------------------------------------------------------------- pooling
def _pool_sample(kind):
    def sample(d, dtype):
        n, c, h, w = d.integers(1, 2), d.integers(1, 2), d.integers(1, 5), d.integers(1, 5)
        kh, kw = d.integers(1, min(3, h)), d.integers(1, min(3, w))
        kw_ = {"kernel_size": (kh, kw), "stride": (d.integers(1, 2), d.integers(1, 2)),
               "padding": (d.integers(0, kh // 2), d.integers(0, kw // 2)), "ceil_mode": d.boolean()}
        if kind == "max":
            kw_["dilation"] = (1, 1) if d.boolean() else (d.integers(1, 2), d.integers(1, 2))
            eh = kw_["dilation"][0] * (kh - 1) + 1
            ew = kw_["dilation"][1] * (kw - 1) + 1
            if h + 2 * kw_["padding"][0] < eh or w + 2 * kw_["padding"][1] < ew:
                kw_["dilation"] = (1, 1)
        else:
            kw_["count_include_pad"] = d.boolean()
        return Sample([d.floats((n, c, h, w), unique=(kind == "max"), dtype=dtype)], kw_)
    return sample


def _np_pool(kind):
    def ref(x, kernel_size, stride, padding, ceil_mode, dilation=(1, 1), count_include_pad=True):
        out = tuple(_pool_ops.pool_output_size(s, k, st, p, dl, ceil_mode)
                    for s, k, st, p, dl in zip(x.shape[2:], kernel_size, stride, padding, dilation))
        if kind == "max":
            return _pool_kernels.max_pool2d_ref(x, *kernel_size, *stride, *padding, *dilation, *out)[0]
        return _pool_kernels.avg_pool2d_ref(x, *kernel_size, *stride, *padding, *out, count_include_pad, 0)
    return ref


register(OpSpec("max_pool2d", lambda x, **kw: _pool_ops.max_pool2d(x, **kw), _np_pool("max"), _pool_sample("max"),
                lambda t, x, **kw: t.nn.functional.max_pool2d(x, **kw)))
register(OpSpec("avg_pool2d", lambda x, **kw: _pool_ops.avg_pool2d(x, **kw), _np_pool("avg"), _pool_sample("avg"),
                lambda t, x, **kw: t.nn.functional.avg_pool2d(x, **kw)))


def _adaptive_sample(unique):
    def sample(d, dtype):
        n, c, h, w = d.integers(1, 2), d.integers(1, 2), d.integers(1, 6), d.integers(1, 6)
        return Sample([d.floats((n, c, h, w), unique=unique, dtype=dtype)],
                      {"output_size": (d.integers(1, h), d.integers(1, w))})
    return sample


def _np_adaptive(kind):
    def ref(x, output_size):
        n, c, h, w = x.shape
        oh, ow = output_size
        out = np.empty((n, c, oh, ow), dtype=x.dtype)
        for a in range(oh):
            h0, h1 = (a * h) // oh, -((-(a + 1) * h) // oh)
            for b in range(ow):
                w0, w1 = (b * w) // ow, -((-(b + 1) * w) // ow)
                window = x[:, :, h0:h1, w0:w1]
                out[:, :, a, b] = window.mean(axis=(2, 3)) if kind == "avg" else window.max(axis=(2, 3))
        return out
    return ref


register(OpSpec("adaptive_avg_pool2d", lambda x, output_size: _pool_ops.adaptive_avg_pool2d(x, output_size),
                _np_adaptive("avg"), _adaptive_sample(False),
                lambda t, x, output_size: t.nn.functional.adaptive_avg_pool2d(x, output_size)))
register(OpSpec("adaptive_max_pool2d", lambda x, output_size: _pool_ops.adaptive_max_pool2d(x, output_size),
                _np_adaptive("max"), _adaptive_sample(True),
                lambda t, x, output_size: t.nn.functional.adaptive_max_pool2d(x, output_size)))


register(OpSpec("dropout2d", _dropout_call(lambda *a, **kw: _pool_ops.dropout2d(*a, **kw)), _np_dropout(True),
                _dropout_sample(True)))


# ----------------------------------------------------------------------------- resampling
def _interpolate_sample(d, dtype):
    ndim = d.choice([3, 4])
    mode = d.choice(["nearest", "nearest-exact", "linear" if ndim == 3 else "bilinear", "area"]
                    + (["bicubic"] if ndim == 4 else []))
    spatial = tuple(d.integers(1, 5) for _ in range(ndim - 2))
    x = d.floats((d.integers(1, 2), d.integers(1, 2), *spatial), dtype=dtype)
    kwargs = {"mode": mode}
    if d.boolean():
        kwargs["size"] = tuple(d.integers(1, 7) for _ in spatial)
    else:
        kwargs["scale_factor"] = tuple(float(d.choice([0.5, 0.75, 1.5, 2.0, 3.0])) for _ in spatial)
        if min(int(s * f) for s, f in zip(spatial, kwargs["scale_factor"])) < 1:
            kwargs["scale_factor"] = (2.0,) * len(spatial)
        kwargs["recompute_scale_factor"] = d.boolean()
    if mode in ("linear", "bilinear", "bicubic"):
        kwargs["align_corners"] = d.boolean()
    return Sample([x], kwargs)


def _keys_cubic(distance, a=-0.75):
    """Keys' cubic convolution kernel at a distance (0 from 2 on)."""
    d = abs(distance)
    if d <= 1:
        return (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1
    return a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a if d < 2 else 0.0


def _np_resample_matrix(mode, n_in, n_out, scale_factor, align_corners, dtype):
    """The dense (n_out, n_in) matrix of one axis' resampling, entry by entry from PyTorch's rules."""
    a = np.zeros((n_out, n_in))
    for o in range(n_out):
        if mode in ("nearest", "nearest-exact"):
            scale = np.float32(1.0 / scale_factor) if scale_factor else np.float32(n_in) / np.float32(n_out)
            centre = np.float32(o) + (np.float32(0.5) if mode == "nearest-exact" else np.float32(0))
            a[o, min(int(np.floor(centre * scale)), n_in - 1)] = 1.0
            continue
        acc = np.float32 if dtype == np.float32 else np.float64
        if align_corners:
            src = acc(o) * (acc((n_in - 1) / (n_out - 1)) if n_out > 1 else acc(0))
        else:
            src = (acc(o) + acc(0.5)) * acc(1.0 / scale_factor if scale_factor else n_in / n_out) - acc(0.5)
        if mode == "bicubic":                       # four neighbours, clamped into the input
            base = int(np.floor(src))
            for k in range(base - 1, base + 3):
                a[o, min(max(k, 0), n_in - 1)] += _keys_cubic(float(src) - k)
            continue
        src = max(src, 0.0)
        lo = min(int(src), n_in - 1)
        hi = min(lo + 1, n_in - 1)
        a[o, lo] += 1.0 - (src - lo)
        a[o, hi] += src - lo
    return a


def _np_interpolate(x, mode, size=None, scale_factor=None, align_corners=None, recompute_scale_factor=None):
    spatial = x.shape[2:]
    if size is not None:
        sizes, scales = size, (None,) * len(spatial)
    else:
        sizes = tuple(int(np.floor(s * f)) for s, f in zip(spatial, scale_factor))
        scales = (None,) * len(spatial) if recompute_scale_factor else scale_factor
    if mode == "area":
        if x.ndim == 3:
            return _np_adaptive("avg")(x[:, :, None], (1, sizes[0]))[:, :, 0]
        return _np_adaptive("avg")(x, sizes)
    y = x.astype(np.float64)
    for k, (n_in, n_out, s) in enumerate(zip(spatial, sizes, scales)):
        m = _np_resample_matrix(mode, n_in, n_out, s, align_corners, x.dtype)
        y = np.moveaxis(np.tensordot(m, np.moveaxis(y, 2 + k, 0), axes=(1, 0)), 0, 2 + k)
    return y.astype(x.dtype)


register(OpSpec("interpolate", lambda x, **kw: _interpolate_ops.interpolate(x, **kw), _np_interpolate,
                _interpolate_sample, lambda t, x, **kw: t.nn.functional.interpolate(x, **kw)))
