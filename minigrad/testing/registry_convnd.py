"""Registry entries for the 1-D and 3-D convolutions and pools (ops/conv_nd.py, ops/pool_nd.py),
with NumPy references written from the definitions: loops over kernel offsets and output
positions, independent of the strided windows and scatters the ops use."""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..ops import conv_nd as _conv
from ..ops import pool_nd as _pool
from .registry import OpSpec, Sample, register


def _spatial(d, nd, lo=1, hi=4):
    return tuple(d.integers(lo, hi) for _ in range(nd))


# ----------------------------------------------------------------------------- convolution
def _conv_sample(nd):
    def sample(d, dtype):
        groups = d.integers(1, 2)
        n, cin, cout = d.integers(1, 2), groups * d.integers(1, 2), groups * d.integers(1, 2)
        sizes = _spatial(d, nd, 1, 4)
        kernel = tuple(d.integers(1, min(2, s + 1)) for s in sizes)
        stride = tuple(d.integers(1, 2) for _ in range(nd))
        dilation = tuple(d.integers(1, 2) for _ in range(nd))
        padding = d.choice(["ints", "ints", "same", "valid"])
        if padding == "same":
            stride = (1,) * nd
        if padding == "ints":
            padding = tuple(d.integers(0, 1) for _ in range(nd))
        pads = padding if isinstance(padding, tuple) else (0,) * nd
        dilation = tuple(1 if s + 2 * p < dl * (k - 1) + 1 else dl
                         for s, p, dl, k in zip(sizes, pads, dilation, kernel))
        kernel = tuple(k if s + 2 * p >= k or padding == "same" else 1 for s, p, k in zip(sizes, pads, kernel))
        x = d.floats((n, cin, *sizes), dtype=dtype)
        if d.integers(0, 3) == 0:          # unbatched
            x = x[0]
        args = [x, d.floats((cout, cin // groups, *kernel), dtype=dtype)]
        if d.boolean():
            args.append(d.floats((cout,), dtype=dtype))
        return Sample(args, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups})
    return sample


def np_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, pos] = sum_{c, k} w[o, c, k] xpad[n, c, pos s + k d], one kernel offset at a time."""
    unbatched = x.ndim == w.ndim - 1
    x = x[None] if unbatched else x
    nd = x.ndim - 2
    kernel = w.shape[2:]
    stride, dilation = _as_tuple(stride, nd), _as_tuple(dilation, nd)
    if padding == "same":
        pads = [(dl * (k - 1) // 2, dl * (k - 1) - dl * (k - 1) // 2) for dl, k in zip(dilation, kernel)]
    elif padding == "valid":
        pads = [(0, 0)] * nd
    else:
        pads = [(p, p) for p in _as_tuple(padding, nd)]
    xpad = np.pad(x, [(0, 0), (0, 0), *pads])
    out = [(s - dl * (k - 1) - 1) // st + 1 for s, dl, k, st in zip(xpad.shape[2:], dilation, kernel, stride)]
    o, cg = w.shape[:2]
    og = o // groups
    y = np.zeros((x.shape[0], o, *out))
    for k in itertools.product(*(range(kk) for kk in kernel)):
        part = xpad[(slice(None), slice(None), *(slice(ki * dl, ki * dl + st * (oo - 1) + 1, st)
                                                 for ki, dl, st, oo in zip(k, dilation, stride, out)))]
        for g in range(groups):
            y[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", part[:, g * cg:(g + 1) * cg],
                                                   w[(slice(g * og, (g + 1) * og), slice(None), *k)])
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nd)
    y = y.astype(x.dtype)
    return y[0] if unbatched else y


def _as_tuple(v, nd):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd


register(OpSpec("conv3d", lambda *a, **kw: _conv.conv3d(*a, **kw), np_conv, _conv_sample(3),
                lambda t, *a, **kw: t.nn.functional.conv3d(*a, **kw), rtol32=1e-3))


def _conv_t_sample(nd):
    def sample(d, dtype):
        groups = d.integers(1, 2)
        n, cin, cout = d.integers(1, 2), groups * d.integers(1, 2), groups * d.integers(1, 2)
        sizes = _spatial(d, nd, 1, 3)
        kernel = tuple(d.integers(1, 3) for _ in range(nd))
        stride = tuple(d.integers(1, 2) for _ in range(nd))
        dilation = tuple(d.integers(1, 2) for _ in range(nd))
        padding = tuple(d.integers(0, (dl * (k - 1)) // 2) for dl, k in zip(dilation, kernel))
        output_padding = tuple(d.integers(0, max(s, dl) - 1) for s, dl in zip(stride, dilation))
        x = d.floats((n, cin, *sizes), dtype=dtype)
        if d.integers(0, 3) == 0:
            x = x[0]
        args = [x, d.floats((cin, cout // groups, *kernel), dtype=dtype)]
        if d.boolean():
            args.append(d.floats((cout,), dtype=dtype))
        return Sample(args, {"stride": stride, "padding": padding, "output_padding": output_padding,
                             "groups": groups, "dilation": dilation})
    return sample


def np_conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Scatter every input element times the kernel into the output, then crop the padding."""
    unbatched = x.ndim == w.ndim - 1
    x = x[None] if unbatched else x
    nd = x.ndim - 2
    kernel = w.shape[2:]
    stride, dilation = _as_tuple(stride, nd), _as_tuple(dilation, nd)
    padding, output_padding = _as_tuple(padding, nd), _as_tuple(output_padding, nd)
    sizes = x.shape[2:]
    out = [(i - 1) * s - 2 * p + dl * (k - 1) + op + 1
           for i, s, p, dl, k, op in zip(sizes, stride, padding, dilation, kernel, output_padding)]
    cg, og = w.shape[0] // groups, w.shape[1]
    full = np.zeros((x.shape[0], og * groups, *(o + 2 * p for o, p in zip(out, padding))))
    for k in itertools.product(*(range(kk) for kk in kernel)):
        place = (slice(None), slice(None), *(slice(ki * dl, ki * dl + s * (i - 1) + 1, s)
                                             for ki, dl, s, i in zip(k, dilation, stride, sizes)))
        for g in range(groups):
            full[place][:, g * og:(g + 1) * og] += np.einsum("nc...,co->no...", x[:, g * cg:(g + 1) * cg],
                                                             w[(slice(g * cg, (g + 1) * cg), slice(None), *k)])
    y = full[(slice(None), slice(None), *(slice(p, p + o) for p, o in zip(padding, out)))]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    y = y.astype(x.dtype)
    return y[0] if unbatched else y


register(OpSpec("conv_transpose1d", lambda *a, **kw: _conv.conv_transpose1d(*a, **kw), np_conv_transpose,
                _conv_t_sample(1), lambda t, *a, **kw: t.nn.functional.conv_transpose1d(*a, **kw), rtol32=1e-3))
register(OpSpec("conv_transpose3d", lambda *a, **kw: _conv.conv_transpose3d(*a, **kw), np_conv_transpose,
                _conv_t_sample(3), lambda t, *a, **kw: t.nn.functional.conv_transpose3d(*a, **kw), rtol32=1e-3))


# ----------------------------------------------------------------------------- pooling
def _pool_input(d, nd, dtype, unique, domain="real", lo=1, hi=5):
    sizes = _spatial(d, nd, lo, hi if nd == 1 else 4)
    x = d.floats((d.integers(1, 2), d.integers(1, 2), *sizes), domain, unique=unique, dtype=dtype)
    return (x[0] if d.integers(0, 3) == 0 else x), sizes


def _pool_sample(kind, nd):
    def sample(d, dtype):
        x, sizes = _pool_input(d, nd, dtype, unique=(kind == "max"))
        kernel = tuple(d.integers(1, min(3, s)) for s in sizes)
        kw = {"kernel_size": kernel, "stride": tuple(d.integers(1, 2) for _ in range(nd)),
              "padding": tuple(d.integers(0, k // 2) for k in kernel), "ceil_mode": d.boolean()}
        if kind == "max":
            dil = tuple(d.integers(1, 2) for _ in range(nd))
            # a dilated window must reach the input (one wholly in the padding is -inf, no gradient)
            kw["dilation"] = tuple(1 if s < dl * (k - 1) + 1 else dl for s, dl, k in zip(sizes, dil, kernel))
        else:
            kw["count_include_pad"] = d.boolean()
            if nd == 3 and d.integers(0, 2) == 0:
                kw["divisor_override"] = d.integers(1, 5)
        return Sample([x], kw)
    return sample


def _out_len(size, k, s, p, dl, ceil_mode):
    span = size + 2 * p - dl * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= size + p else out


def _np_pool(kind):
    def ref(x, kernel_size, stride, padding, ceil_mode, dilation=None, count_include_pad=True, divisor_override=None):
        unbatched = x.ndim == len(kernel_size) + 1
        x = x[None] if unbatched else x
        nd = len(kernel_size)
        dilation = dilation or (1,) * nd
        sizes = x.shape[2:]
        out = [_out_len(*a, ceil_mode) for a in zip(sizes, kernel_size, stride, padding, dilation)]
        y = np.empty(x.shape[:2] + tuple(out), dtype=x.dtype)
        for pos in itertools.product(*(range(o) for o in out)):
            starts = [o * s - p for o, s, p in zip(pos, stride, padding)]
            axes = [[st + j * dl for j in range(k) if 0 <= st + j * dl < size]
                    for st, k, dl, size in zip(starts, kernel_size, dilation, sizes)]
            window = x[(slice(None), slice(None), *np.ix_(*axes))].reshape(x.shape[:2] + (-1,))
            if kind == "max":
                y[(Ellipsis, *pos)] = window.max(axis=-1)
                continue
            if divisor_override:
                div = divisor_override
            elif count_include_pad:
                div = math.prod(min(st + k, size + p) - st
                                for st, k, size, p in zip(starts, kernel_size, sizes, padding))
            else:
                div = math.prod(len(a) for a in axes)
            y[(Ellipsis, *pos)] = window.sum(axis=-1) / div
        return y[0] if unbatched else y
    return ref


for _nd in (1, 3):
    register(OpSpec(f"max_pool{_nd}d", getattr(_pool, f"max_pool{_nd}d"), _np_pool("max"), _pool_sample("max", _nd),
                    (lambda name: lambda t, x, **kw: getattr(t.nn.functional, name)(x, **kw))(f"max_pool{_nd}d")))
    register(OpSpec(f"avg_pool{_nd}d", getattr(_pool, f"avg_pool{_nd}d"), _np_pool("avg"), _pool_sample("avg", _nd),
                    (lambda name: lambda t, x, **kw: getattr(t.nn.functional, name)(x, **kw))(f"avg_pool{_nd}d")))


def _adaptive_sample(nd, unique):
    def sample(d, dtype):
        x, sizes = _pool_input(d, nd, dtype, unique, hi=6)
        size = tuple(d.integers(1, s) for s in sizes)
        if nd == 1:
            size = size[0]
        elif d.boolean():
            size = (None, *size[1:])
        return Sample([x], {"output_size": size})
    return sample


def _np_adaptive(kind, nd):
    def ref(x, output_size):
        unbatched = x.ndim == nd + 1
        x = x[None] if unbatched else x
        sizes = x.shape[2:]
        out = output_size if isinstance(output_size, tuple) else (output_size,) * nd
        out = [s if o is None else o for s, o in zip(sizes, out)]
        y = np.empty(x.shape[:2] + tuple(out), dtype=x.dtype)
        for pos in itertools.product(*(range(o) for o in out)):
            axes = [np.arange(math.floor(i * s / o), math.ceil((i + 1) * s / o)) for i, s, o in zip(pos, sizes, out)]
            window = x[(slice(None), slice(None), *np.ix_(*axes))].reshape(x.shape[:2] + (-1,))
            y[(Ellipsis, *pos)] = window.max(axis=-1) if kind == "max" else window.mean(axis=-1)
        return y[0] if unbatched else y
    return ref


for _nd in (1, 3):
    for _kind in ("avg", "max"):
        _name = f"adaptive_{_kind}_pool{_nd}d"
        register(OpSpec(_name, (lambda f: lambda x, output_size: f(x, output_size))(getattr(_pool, _name)),
                        _np_adaptive(_kind, _nd), _adaptive_sample(_nd, _kind == "max"),
                        (lambda name: lambda t, x, output_size: getattr(t.nn.functional, name)(x, output_size))(_name)))


def _lp_sample(nd):
    def sample(d, dtype):
        x, sizes = _pool_input(d, nd, dtype, unique=False, domain="positive")
        kernel = tuple(d.integers(1, min(3, s)) for s in sizes)
        kw = {"norm_type": d.choice([1.5, 2.0, 3.0]), "kernel_size": kernel, "ceil_mode": d.boolean()}
        if d.boolean():
            kw["stride"] = tuple(d.integers(1, 2) for _ in range(nd))
        if nd == 1:             # PyTorch's lp_pool1d takes ints only (it multiplies by kernel_size)
            kw = {k: v[0] if isinstance(v, tuple) else v for k, v in kw.items()}
        return Sample([x], kw)
    return sample


def _np_lp(nd):
    def ref(x, norm_type, kernel_size, stride=None, ceil_mode=False):
        """PyTorch's definition: (avg_pool(x^p) * kernel size)^(1/p) (a last ceil_mode window that is
        cut short is averaged over what it covers, then scaled by the full kernel size)."""
        kernel_size = kernel_size if isinstance(kernel_size, tuple) else (kernel_size,)
        stride = kernel_size if stride is None else stride if isinstance(stride, tuple) else (stride,)
        avg = _np_pool("avg")(x ** norm_type, kernel_size, stride, (0,) * nd, ceil_mode)
        return (avg * math.prod(kernel_size)) ** (1 / norm_type)
    return ref


for _nd in (1, 2, 3):
    register(OpSpec(f"lp_pool{_nd}d", getattr(_pool, f"lp_pool{_nd}d"), _np_lp(_nd), _lp_sample(_nd),
                    (lambda name: lambda t, x, **kw: getattr(t.nn.functional, name)(x, **kw))(f"lp_pool{_nd}d")))


def _unpool_sample(nd):
    def sample(d, dtype):
        sizes = _spatial(d, nd, 1, 3)
        kernel = tuple(d.integers(1, 3) for _ in range(nd))
        stride = tuple(d.integers(1, 2) for _ in range(nd))
        out = [(i - 1) * s + k for i, s, k in zip(sizes, stride, kernel)]
        n, c = d.integers(1, 2), d.integers(1, 2)
        x = d.floats((n, c, *sizes), dtype=dtype)
        # distinct places, as max pooling's argmax: along each dim input i goes to i s + j, j < min(k, s)
        idx = np.zeros((n, c, *sizes), dtype=np.int64)
        for plane in itertools.product(range(n), range(c)):
            flat = 0
            for dim, (i, s, k, o) in enumerate(zip(sizes, stride, kernel, out)):
                along = np.array([a * s + d.integers(0, min(k, s) - 1) for a in range(i)])
                shape = [1] * nd
                shape[dim] = i
                flat = flat * o + along.reshape(shape)
            idx[plane] = flat
        return Sample([x, idx], {"kernel_size": kernel, "stride": stride})
    return sample


def _np_unpool(nd):
    def ref(x, idx, kernel_size, stride):
        out = [(i - 1) * s + k for i, s, k in zip(x.shape[2:], stride, kernel_size)]
        y = np.zeros(x.shape[:2] + (math.prod(out),), dtype=x.dtype)
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                y[n, c, idx[n, c].ravel()] = x[n, c].ravel()
        return y.reshape(x.shape[:2] + tuple(out))
    return ref


for _nd in (1, 2, 3):
    register(OpSpec(f"max_unpool{_nd}d", getattr(_pool, f"max_unpool{_nd}d"), _np_unpool(_nd), _unpool_sample(_nd),
                    (lambda name: lambda t, x, i, **kw: getattr(t.nn.functional, name)(x, i, **kw))(
                        f"max_unpool{_nd}d")))
