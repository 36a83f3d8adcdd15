"""Weight initialisation, in place under no_grad, as ``torch.nn.init``.

Fans: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel).  Gains: ``calculate_gain``.
"""
from __future__ import annotations

import math
import warnings

from .. import backend
from ..autograd import no_grad
from ..errors import ArgumentError

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_",
           "orthogonal_", "dirac_", "sparse_"]


def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is not None and (isinstance(param, bool) or not isinstance(param, (int, float))):
            raise ArgumentError(f"negative_slope {param} not a valid number")
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"Unsupported nonlinearity {nonlinearity}")


def _fans(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ArgumentError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                            f"(shape {tuple(shape)})")
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


# PyTorch's private names, which custom ``reset_parameters`` methods often call
_calculate_fan_in_and_fan_out = _fans


def _calculate_correct_fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, array):
    with no_grad():
        tensor._data[...] = array
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _fill(tensor, backend.random_uniform(tensor.shape, tensor.dtype, tensor.device, generator, a, b))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _fill(tensor, backend.random_normal(tensor.shape, tensor.dtype, tensor.device, generator, mean, std))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal samples redrawn until they fall in [a, b]."""
    xp = backend.xp_of(tensor._data)
    out = backend.random_normal(tensor.shape, tensor.dtype, tensor.device, generator, mean, std)
    bad = (out < a) | (out > b)
    while bool(bad.any()):
        redraw = backend.random_normal(tensor.shape, tensor.dtype, tensor.device, generator, mean, std)
        out = xp.where(bad, redraw, out)
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor, val):
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1)


def zeros_(tensor):
    return _fill(tensor, 0)


def eye_(tensor):
    if tensor.ndim != 2:
        raise ArgumentError(f"Only tensors with 2 dimensions are supported (eye_: shape {tuple(tensor.shape)})")
    return _fill(tensor, backend.xp_of(tensor._data).eye(*tensor.shape, dtype=tensor.dtype))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def _zero_elements(tensor):
    """PyTorch's kaiming initialisers warn and leave a tensor with no elements as it is."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op")
        return True
    return False


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He initialisation, uniform; PyTorch's Linear and Conv use a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    if _zero_elements(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if _zero_elements(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal sample."""
    import numpy as np
    if tensor.ndim < 2:
        raise ArgumentError(f"Only tensors with 2 or more dimensions are supported (orthogonal_: shape "
                            f"{tuple(tensor.shape)})")
    if tensor.numel() == 0:                 # nothing to fill
        return tensor
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = backend.random_normal((rows, cols), np.float64, backend.CPU, None if generator is None or
                                 generator.device.type != "cpu" else generator)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, backend.to_device((gain * q).reshape(tensor.shape).astype(tensor.dtype), tensor.device))


def dirac_(tensor, groups=1):
    """A 3-, 4- or 5-D conv weight that passes its input through: in each of ``groups``, output
    channel d copies input channel d at the kernel's centre (for d < min(out/groups, in))."""
    if tensor.ndim not in (3, 4, 5):
        raise ArgumentError(f"Only tensors with 3, 4, or 5 dimensions are supported (dirac_: shape "
                            f"{tuple(tensor.shape)})")
    out_ch = tensor.shape[0]
    if out_ch % groups != 0:
        raise ArgumentError(f"dim 0 must be divisible by groups (dirac_: dim 0 is {out_ch}, groups {groups})")
    per_group = out_ch // groups
    array = backend.xp_of(tensor._data).zeros(tensor.shape, dtype=tensor.dtype)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            array[(g * per_group + d, d) + centre] = 1
    return _fill(tensor, array)


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D normal(0, std) matrix with ``ceil(sparsity * rows)`` entries of each column set to zero."""
    import numpy as np
    if tensor.ndim != 2:
        raise ArgumentError(f"Only tensors with 2 dimensions are supported (sparse_: shape {tuple(tensor.shape)})")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    values = backend.to_device(backend.random_normal(tensor.shape, tensor.dtype, tensor.device, generator, 0.0, std),
                               backend.CPU)
    rng = (backend.default_generator() if generator is None or generator.device.type != "cpu" else generator).impl
    for col in range(cols):
        values[rng.permutation(rows)[:num_zeros], col] = 0
    return _fill(tensor, backend.to_device(np.ascontiguousarray(values), tensor.device))


def _deprecated(new):
    """PyTorch's pre-0.4 names without the trailing underscore: the same, with a warning."""
    def old(*args, **kwargs):
        warnings.warn(f"`nn.init.{new.__name__[:-1]}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = old.__qualname__ = new.__name__[:-1]
    old.__doc__ = f"Deprecated: use ``{new.__name__}``."
    return old


uniform, normal, constant = _deprecated(uniform_), _deprecated(normal_), _deprecated(constant_)
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, sparse = _deprecated(orthogonal_), _deprecated(sparse_)
