"""Registry entries for resampling and block rearrangements: pad with negative amounts in every
mode, ``F.unfold`` / ``F.fold``, ``Tensor.unfold``, pixel and channel shuffles, ``F.interpolate``
on 3-D to 5-D inputs, ``F.affine_grid`` and ``F.grid_sample``.

All but grid_sample are linear (a gather, a scatter-add or both): any float input is kink-free,
so samples only keep the index arithmetic away from PyTorch's rounding ties.  grid_sample is
piecewise bilinear in its grid: its samples place the grid's points away from the pieces' seams.
"""
from __future__ import annotations

import warnings

import numpy as np

import minigrad as mg

from ..ops import blocks as _blocks
from .registry import OpSpec, Sample, register


# ----------------------------------------------------------------------------- pad, negative amounts
def _pad_amounts(d, mode, size):
    """(before, after) for a dim of ``size`` within PyTorch's limits for ``mode``, negatives allowed."""
    while True:
        if mode == "reflect":
            b, a = d.integers(-(size - 1), size - 1), d.integers(-(size - 1), size - 1)
        elif mode == "circular":
            b, a = d.integers(-(size - 1), size), d.integers(-(size - 1), size)
            kept = size + min(b, 0) + min(a, 0)
            if kept < 1 or max(b, a) > kept:        # PyTorch wraps around what cropping left at most once
                b, a = min(b, 0), min(a, 0)
                if size + b + a < 1:
                    b, a = 0, -(size - 1)
        elif mode == "replicate":
            b, a = d.integers(-(size - 1), 3), d.integers(-(size - 1), 3)
        else:
            b, a = d.integers(-size, 3), d.integers(-size, 3)
        fits = size + min(b, 0) + min(a, 0) >= 0 if mode == "constant" else size + b + a >= 1
        if fits:
            return b, a


def _pad_sample(d, dtype):
    mode = d.choice(["constant", "reflect", "replicate", "circular"])
    n_dims = d.integers(1, 3)
    shape = (d.integers(1, 2),) * d.integers(1, 2) + tuple(d.integers(1, 4) for _ in range(n_dims))
    if mode == "reflect":
        shape = shape[:len(shape) - n_dims] + tuple(max(s, 2) for s in shape[len(shape) - n_dims:])
    amounts = []
    for k in range(n_dims):
        amounts += _pad_amounts(d, mode, shape[-1 - k])
    return Sample([d.floats(shape, dtype=dtype)], {"pad": tuple(amounts), "mode": mode})


def _np_pad_negative(x, pad, mode):
    """Pad a margin of size+3 in NumPy's matching mode, then slice out PyTorch's window (circular:
    crop first, then wrap what is left)."""
    for k in range(len(pad) // 2):
        axis, (b, a) = x.ndim - 1 - k, (pad[2 * k], pad[2 * k + 1])
        size = x.shape[axis]
        if mode == "circular":
            x = np.moveaxis(np.moveaxis(x, axis, 0)[max(-b, 0):size - max(-a, 0)], 0, axis)
            b, a, size = max(b, 0), max(a, 0), x.shape[axis]
        margin = [(0, 0)] * x.ndim
        margin[axis] = (size + 3, size + 3)
        np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
        wide = np.pad(x, margin, mode=np_mode)
        x = np.moveaxis(np.moveaxis(wide, axis, 0)[size + 3 - b:2 * size + 3 + a], 0, axis)
    return x


register(OpSpec("pad_negative", lambda x, pad, mode: mg.nn.functional.pad(x, pad, mode), _np_pad_negative,
                _pad_sample, lambda t, x, pad, mode: t.nn.functional.pad(x, pad, mode=mode), covers="pad"))


# ----------------------------------------------------------------------------- unfold / fold
def _block_geometry(d):
    def pair(lo, hi):
        return (d.integers(lo, hi), d.integers(lo, hi)) if d.boolean() else d.integers(lo, hi)
    return {"kernel_size": pair(1, 3), "dilation": pair(1, 2), "padding": pair(0, 1), "stride": pair(1, 2)}


def _as_pair(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


def _blocks_of(spatial, geometry):
    k, dl, p, s = (_as_pair(geometry[n]) for n in ("kernel_size", "dilation", "padding", "stride"))
    return tuple((spatial[a] + 2 * p[a] - dl[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(2))


def _fitting_geometry(d, spatial):
    for _ in range(20):
        geometry = _block_geometry(d)
        if min(_blocks_of(spatial, geometry)) >= 1:
            return geometry
    return {"kernel_size": 1, "dilation": 1, "padding": 0, "stride": 1}


def _unfold_sample(d, dtype):
    spatial = (d.integers(1, 5), d.integers(1, 5))
    lead = (d.integers(1, 2),) if d.boolean() else ()
    x = d.floats(lead + (d.integers(1, 2),) + spatial, dtype=dtype)
    return Sample([x], _fitting_geometry(d, spatial))


def _np_unfold(x, kernel_size, dilation, padding, stride):
    """The blocks one by one, each flattened into a column (c, i, j)."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (_as_pair(v) for v in (kernel_size, dilation, padding, stride))
    batched = x if x.ndim == 4 else x[None]
    xp_ = np.pad(batched, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = _blocks_of(x.shape[-2:], dict(kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride))
    cols = []
    for r in range(oh):
        for c in range(ow):
            block = xp_[:, :, r * sh:r * sh + dh * (kh - 1) + 1:dh, c * sw:c * sw + dw * (kw - 1) + 1:dw]
            cols.append(block.reshape(block.shape[0], -1))
    out = np.stack(cols, axis=-1)
    return out if x.ndim == 4 else out[0]


def _fold_sample(d, dtype):
    spatial = (d.integers(1, 5), d.integers(1, 5))
    geometry = _fitting_geometry(d, spatial)
    kh, kw = _as_pair(geometry["kernel_size"])
    oh, ow = _blocks_of(spatial, geometry)
    lead = (d.integers(1, 2),) if d.boolean() else ()
    x = d.floats(lead + (d.integers(1, 2) * kh * kw, oh * ow), dtype=dtype)
    return Sample([x], {"output_size": spatial, **geometry})


def _np_fold(x, output_size, kernel_size, dilation, padding, stride):
    """The adjoint of _np_unfold, built as the transpose of its matrix on the basis vectors."""
    batched = x if x.ndim == 3 else x[None]
    n, rows, length = batched.shape
    kh, kw = _as_pair(kernel_size)
    shape = (1, rows // (kh * kw)) + tuple(output_size)
    basis = np.eye(int(np.prod(shape))).reshape((-1,) + shape)
    matrix = np.stack([_np_unfold(e, kernel_size, dilation, padding, stride).reshape(-1) for e in basis], axis=1)
    out = np.stack([(matrix.T @ batched[k].reshape(-1)).reshape(shape[1:]) for k in range(n)])
    return (out if x.ndim == 3 else out[0]).astype(x.dtype)


register(OpSpec("unfold", lambda x, **kw: mg.nn.functional.unfold(x, **kw), _np_unfold, _unfold_sample,
                lambda t, x, **kw: t.nn.functional.unfold(x, **kw)))
register(OpSpec("fold", lambda x, **kw: mg.nn.functional.fold(x, **kw), _np_fold, _fold_sample,
                lambda t, x, **kw: t.nn.functional.fold(x, **kw)))


# ----------------------------------------------------------------------------- Tensor.unfold
def _windows_sample(d, dtype):
    shape = d.shape(min_dims=0, max_dims=3)
    if not shape:
        return Sample([d.floats((), dtype=dtype)], {"dimension": 0, "size": 1, "step": d.integers(1, 2)})
    dim = d.integers(-len(shape), len(shape) - 1)
    return Sample([d.floats(shape, dtype=dtype)],
                  {"dimension": dim, "size": d.integers(0, shape[dim]), "step": d.integers(1, 3)})


def _np_windows(x, dimension, size, step):
    if x.ndim == 0:
        return x.reshape(1)
    axis = dimension % x.ndim
    count = (x.shape[axis] - size) // step + 1
    moved = np.moveaxis(x, axis, -1)
    windows = np.stack([moved[..., l * step:l * step + size] for l in range(count)], axis=-2)
    return np.moveaxis(windows, -2, axis)


register(OpSpec("Tensor.unfold", lambda x, **kw: x.unfold(**kw), _np_windows, _windows_sample,
                lambda t, x, **kw: x.unfold(**kw), covers="unfold_dim"))


# ----------------------------------------------------------------------------- shuffles
def _pixel_shuffle_sample(d, dtype):
    r = d.integers(1, 3)
    lead = tuple(d.integers(1, 2) for _ in range(d.integers(0, 2)))
    return Sample([d.floats(lead + (d.integers(1, 2) * r * r, d.integers(1, 3), d.integers(1, 3)), dtype=dtype)],
                  {"upscale_factor": r})


def _np_pixel_shuffle(x, upscale_factor):
    r = upscale_factor
    *lead, c, h, w = x.shape
    out = np.empty(tuple(lead) + (c // (r * r), h * r, w * r), dtype=x.dtype)
    for i in range(r):
        for j in range(r):
            out[..., i::r, j::r] = x[..., i * r + j::r * r, :, :]
    return out


def _pixel_unshuffle_sample(d, dtype):
    r = d.integers(1, 3)
    lead = tuple(d.integers(1, 2) for _ in range(d.integers(0, 2)))
    return Sample([d.floats(lead + (d.integers(1, 2), d.integers(1, 2) * r, d.integers(1, 3) * r), dtype=dtype)],
                  {"downscale_factor": r})


def _np_pixel_unshuffle(x, downscale_factor):
    r = downscale_factor
    *lead, c, h, w = x.shape
    out = np.empty(tuple(lead) + (c * r * r, h // r, w // r), dtype=x.dtype)
    for i in range(r):
        for j in range(r):
            out[..., i * r + j::r * r, :, :] = x[..., i::r, j::r]
    return out


def _channel_shuffle_sample(d, dtype):
    g = d.integers(1, 3)
    shape = (d.integers(1, 2), g * d.integers(1, 3)) + tuple(d.integers(1, 3) for _ in range(d.integers(1, 2)))
    return Sample([d.floats(shape, dtype=dtype)], {"groups": g})


def _np_channel_shuffle(x, groups):
    per = x.shape[1] // groups
    order = [j * per + i for i in range(per) for j in range(groups)]
    return x[:, order]


register(OpSpec("pixel_shuffle", lambda x, **kw: _blocks.pixel_shuffle(x, **kw), _np_pixel_shuffle,
                _pixel_shuffle_sample, lambda t, x, **kw: t.nn.functional.pixel_shuffle(x, **kw)))
register(OpSpec("pixel_unshuffle", lambda x, **kw: _blocks.pixel_unshuffle(x, **kw), _np_pixel_unshuffle,
                _pixel_unshuffle_sample, lambda t, x, **kw: t.nn.functional.pixel_unshuffle(x, **kw)))
register(OpSpec("channel_shuffle", lambda x, **kw: _blocks.channel_shuffle(x, **kw), _np_channel_shuffle,
                _channel_shuffle_sample, lambda t, x, **kw: t.nn.functional.channel_shuffle(x, **kw)))


# ----------------------------------------------------------------------------- interpolate, 3-D to 5-D
_LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}


def _interpolate_nd_sample(d, dtype):
    ndim = d.choice([3, 4, 5])
    mode = d.choice(["nearest", "nearest-exact", _LINEAR[ndim], "area"])
    spatial = tuple(d.integers(1, 4) for _ in range(ndim - 2))
    x = d.floats((d.integers(1, 2), d.integers(1, 2), *spatial), dtype=dtype)
    kwargs = {"mode": mode}
    if d.boolean():
        kwargs["size"] = tuple(d.integers(1, 6) for _ in spatial) if d.boolean() else d.integers(1, 6)
    else:
        # halves and whole numbers: PyTorch's float source positions never land within rounding of an integer
        kwargs["scale_factor"] = tuple(float(d.choice([0.5, 1.5, 2.0, 3.0])) for _ in spatial)
        if min(int(s * f) for s, f in zip(spatial, kwargs["scale_factor"])) < 1:
            kwargs["scale_factor"] = 2.0
        kwargs["recompute_scale_factor"] = d.boolean()
    if mode == _LINEAR[ndim]:
        kwargs["align_corners"] = d.boolean()
    return Sample([x], kwargs)


def _np_area_matrix(n_in, n_out):
    a = np.zeros((n_out, n_in))
    for o in range(n_out):
        start, stop = (o * n_in) // n_out, -(-((o + 1) * n_in) // n_out)
        a[o, start:stop] = 1.0 / (stop - start)
    return a


def _np_interpolate_nd(x, mode, size=None, scale_factor=None, align_corners=None, recompute_scale_factor=None):
    """One dense (out, in) matrix per spatial axis (registry_conv's, from PyTorch's index rules), applied in turn."""
    from .registry_conv import _np_resample_matrix
    spatial = x.shape[2:]
    n = len(spatial)
    if size is not None:
        sizes, scales = (tuple(size) if isinstance(size, tuple) else (size,) * n), (None,) * n
    else:
        factors = scale_factor if isinstance(scale_factor, tuple) else (scale_factor,) * n
        sizes = tuple(int(np.floor(s * f)) for s, f in zip(spatial, factors))
        scales = (None,) * n if recompute_scale_factor else factors
    y = x.astype(np.float64)
    for k, (n_in, n_out, s) in enumerate(zip(spatial, sizes, scales)):
        if mode == "area":
            m = _np_area_matrix(n_in, n_out)
        else:
            kind = mode if mode.startswith("nearest") else "linear"
            m = _np_resample_matrix(kind, n_in, n_out, s, align_corners, x.dtype)
        y = np.moveaxis(np.tensordot(m, np.moveaxis(y, 2 + k, 0), axes=(1, 0)), 0, 2 + k)
    return y.astype(x.dtype)


register(OpSpec("interpolate_nd", lambda x, **kw: mg.nn.functional.interpolate(x, **kw), _np_interpolate_nd,
                _interpolate_nd_sample, lambda t, x, **kw: t.nn.functional.interpolate(x, **kw),
                covers="interpolate"))


def _upsample_sample(d, dtype):
    sample = _interpolate_nd_sample(d, dtype)
    sample.kwargs.pop("recompute_scale_factor", None)
    return sample


def _torch_upsample(t, x, **kw):
    # F.upsample is F.interpolate under its deprecated name (PyTorch warns on every call)
    return t.nn.functional.interpolate(x, **kw)


register(OpSpec("upsample", lambda x, **kw: mg.nn.functional.upsample(x, **kw), _np_interpolate_nd,
                _upsample_sample, _torch_upsample))


# ----------------------------------------------------------------------------- affine_grid / grid_sample
def _affine_grid_sample(d, dtype):
    n = d.integers(1, 2)
    size = (n, d.integers(1, 2), d.integers(1, 4), d.integers(1, 4))
    return Sample([d.floats((n, 2, 3), dtype=dtype)], {"size": size, "align_corners": d.boolean()})


def _np_affine_grid(theta, size, align_corners):
    n, _, h, w = size

    def centres(k):
        if k == 1:
            return np.zeros(1)
        return np.array([-1 + 2 * i / (k - 1) if align_corners else (2 * i + 1) / k - 1 for i in range(k)])
    ys, xs = np.meshgrid(centres(h), centres(w), indexing="ij")
    points = np.stack([xs, ys, np.ones_like(xs)], axis=-1)                    # (H, W, 3)
    return np.einsum("hwk,njk->nhwj", points, theta).astype(theta.dtype)


def _torch_affine_grid(t, theta, **kw):
    with warnings.catch_warnings():      # PyTorch warns on every unit-size grid with align_corners
        warnings.simplefilter("ignore")
        return t.nn.functional.affine_grid(theta, **kw)


register(OpSpec("affine_grid", lambda t, **kw: mg.nn.functional.affine_grid(t, **kw), _np_affine_grid,
                _affine_grid_sample, _torch_affine_grid))


def _grid_sample_sample(d, dtype):
    n, c = d.integers(1, 2), d.integers(1, 2)
    h, w = d.integers(1, 4), d.integers(1, 4)
    out_h, out_w = d.integers(1, 3), d.integers(1, 3)
    mode = d.choice(["bilinear", "nearest"])
    padding_mode = d.choice(["zeros", "border", "reflection"])
    align_corners = d.boolean()
    # source positions a fraction in [0.2, 0.4] or [0.6, 0.8] past an integer: away from the
    # bilinear kinks (integers), the rounding ties of nearest and the mirrors of reflection
    # (integers and halves), also after mirroring and clamping
    grid = np.empty((n, out_h, out_w, 2))
    for idx in np.ndindex(n, out_h, out_w):
        for k, size in ((0, w), (1, h)):
            src = d.integers(-2, size + 1) + d.choice([0.2, 0.3, 0.4, 0.6, 0.7, 0.8])
            if align_corners:
                grid[idx + (k,)] = 2 * src / (size - 1) - 1 if size > 1 else src / 4
            else:
                grid[idx + (k,)] = (2 * src + 1) / size - 1
    return Sample([d.floats((n, c, h, w), dtype=dtype), grid.astype(dtype)],
                  {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners})


def _np_grid_sample(x, grid, mode, padding_mode, align_corners):
    """Point by point: unnormalise, mirror step by step / clamp, then read one or four pixels."""
    n, c, h, w = x.shape

    def source(v, size):
        s = (v + 1) * (size - 1) / 2 if align_corners else ((v + 1) * size - 1) / 2
        if padding_mode == "reflection":
            lo, hi = (0.0, size - 1.0) if align_corners else (-0.5, size - 0.5)
            if hi <= lo:
                s = 0.0
            while not lo <= s <= hi:
                s = 2 * lo - s if s < lo else 2 * hi - s
        if padding_mode in ("border", "reflection"):
            s = min(max(s, 0.0), size - 1.0)
        return s

    def pixel(b, yy, xx):
        return x[b, :, yy, xx] if 0 <= yy < h and 0 <= xx < w else np.zeros(c)

    out = np.zeros((n, c) + grid.shape[1:3])
    for b, i, j in np.ndindex(n, *grid.shape[1:3]):
        sx, sy = source(float(grid[b, i, j, 0]), w), source(float(grid[b, i, j, 1]), h)
        if mode == "nearest":
            out[b, :, i, j] = pixel(b, int(np.rint(sy)), int(np.rint(sx)))
            continue
        x0, y0 = int(np.floor(sx)), int(np.floor(sy))
        fx, fy = sx - x0, sy - y0
        out[b, :, i, j] = ((1 - fx) * (1 - fy) * pixel(b, y0, x0) + fx * (1 - fy) * pixel(b, y0, x0 + 1)
                           + (1 - fx) * fy * pixel(b, y0 + 1, x0) + fx * fy * pixel(b, y0 + 1, x0 + 1))
    return out.astype(x.dtype)


register(OpSpec("grid_sample", lambda x, g, **kw: mg.nn.functional.grid_sample(x, g, **kw), _np_grid_sample,
                _grid_sample_sample, lambda t, x, g, **kw: t.nn.functional.grid_sample(x, g, **kw)))
