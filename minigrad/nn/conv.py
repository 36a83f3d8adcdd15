"""Convolution and pooling layers, thin over ``nn.functional`` (PyTorch's names, weight
layouts and default initialisation)."""
from __future__ import annotations

import math

from ..errors import ArgumentError
from . import functional as F
from . import init
from .layers import _BatchNorm, _param
from .module import Module


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _check_conv_args(in_channels, out_channels, groups, padding=0, stride=1):
    """PyTorch's constructor checks (ValueError), run before the weight's shape divides by groups."""
    if not isinstance(groups, int) or groups <= 0:
        raise ArgumentError("groups must be a positive integer")
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ArgumentError(f"{name} must be divisible by groups ({name}={channels}, groups={groups})")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ArgumentError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
        if padding == "same" and any(s != 1 for s in (stride if isinstance(stride, (tuple, list)) else (stride,))):
            raise ArgumentError("padding='same' is not supported for strided convolutions")


def _reversed_padding(padding, kernel_size, dilation):
    """PyTorch's ``_reversed_padding_repeated_twice``: F.pad's amounts, last dim first ('same' splits
    each dim's total padding with the extra one on the right; a list, as PyTorch keeps it then)."""
    if not isinstance(padding, str):
        return tuple(p for p in reversed(padding) for _ in range(2))
    amounts = []
    for k, d in zip(reversed(kernel_size), reversed(dilation)):
        total = d * (k - 1) if padding == "same" else 0
        amounts += [total // 2, total - total // 2]
    return amounts


class _ConvNd(Module):
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 weight_shape, device, dtype):
        super().__init__()
        _check_conv_args(in_channels, out_channels, groups, padding, stride)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.transposed = self._transposed
        self.output_padding = (0,) * len(kernel_size)          # a transposed convolution sets its own
        self._reversed_padding_repeated_twice = _reversed_padding(padding, kernel_size, dilation)
        self.padding_mode = "zeros"
        self.weight = _param(weight_shape, device, dtype)
        if bias:
            self.bias = _param((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))        # U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.weight.shape[2:])
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in (0, (0,), (0, 0)):
            s += f", padding={self.padding}"
        if any(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.dilation not in (1, (1,), (1, 1)):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _set_padding_mode(self, padding_mode):
        modes = ("zeros", "reflect", "replicate", "circular")
        if padding_mode not in modes:
            raise ArgumentError(f"{type(self).__name__}: padding_mode must be one of {modes}, got {padding_mode!r}")
        self.padding_mode = padding_mode

    def _mode_padded(self, x):
        """``x`` padded by F.pad in ``padding_mode`` (then the convolution pads nothing)."""
        if self.padding == "valid":
            return x
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        return F.pad(x, tuple(a for pair in reversed(pairs) for a in pair), mode=self.padding_mode)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W); weight (out_channels, in_channels/groups, kh, kw)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        _check_conv_args(in_channels, out_channels, groups)
        k = _pair(kernel_size)
        super().__init__(in_channels, out_channels, k, _pair(stride),
                         padding if isinstance(padding, str) else _pair(padding), _pair(dilation), groups, bias,
                         (out_channels, in_channels // groups, *k), device, dtype)
        self._set_padding_mode(padding_mode)

    def forward(self, input):
        if self.padding_mode != "zeros":
            return F.conv2d(self._mode_padded(input), self.weight, self.bias, self.stride, 0, self.dilation,
                            self.groups)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L); weight (out_channels, in_channels/groups, k)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        _check_conv_args(in_channels, out_channels, groups)
        k = kernel_size[0] if isinstance(kernel_size, (tuple, list)) else kernel_size
        one = (lambda v: (v[0] if isinstance(v, (tuple, list)) else v,))
        super().__init__(in_channels, out_channels, (k,), one(stride), padding if isinstance(padding, str) else one(padding),
                         one(dilation), groups, bias, (out_channels, in_channels // groups, k), device, dtype)
        self._set_padding_mode(padding_mode)

    def forward(self, input):
        if self.padding_mode != "zeros":
            return F.conv1d(self._mode_padded(input), self.weight, self.bias, self.stride[0], 0, self.dilation[0],
                            self.groups)
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(input, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)


def transposed_output_padding(layer, input, output_size):
    """The output_padding of a transposed convolution ``layer`` called with ``output_size``
    (PyTorch's rule: a size between the smallest output and that plus stride - 1 sets
    output_padding to the difference; None keeps the layer's own)."""
    if output_size is None:
        return layer.output_padding
    n = len(layer.kernel_size)
    size = tuple(int(v) for v in output_size)
    if len(size) == n + 2 or (len(size) == n + 1 and input.ndim == n + 1):
        size = size[-n:]
    if len(size) != n:
        raise ArgumentError(f"{type(layer).__name__}: output_size must have {n} or {n + 2} elements, got "
                         f"{tuple(output_size)}")
    spatial = input.shape[-n:]
    smallest = [(i - 1) * s - 2 * p + d * (k - 1) + 1
                for i, s, p, d, k in zip(spatial, layer.stride, layer.padding, layer.dilation, layer.kernel_size)]
    for want, lo, s in zip(size, smallest, layer.stride):
        if not lo <= want <= lo + s - 1:
            raise ArgumentError(f"{type(layer).__name__}: requested an output size of {size}, but valid sizes range "
                             f"from {tuple(smallest)} to {tuple(a + s - 1 for a, s in zip(smallest, layer.stride))} "
                             f"(for an input of {tuple(spatial)})")
    return tuple(want - lo for want, lo in zip(size, smallest))


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution; weight (in_channels, out_channels/groups, kh, kw)."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ArgumentError(f"ConvTranspose2d: only padding_mode='zeros' is supported (as in PyTorch), "
                             f"got {padding_mode!r}")
        _check_conv_args(in_channels, out_channels, groups)
        k = _pair(kernel_size)
        super().__init__(in_channels, out_channels, k, _pair(stride), _pair(padding), _pair(dilation), groups, bias,
                         (in_channels, out_channels // groups, *k), device, dtype)
        self.output_padding = _pair(output_padding)

    def forward(self, input, output_size=None):
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  transposed_output_padding(self, input, output_size), self.groups, self.dilation)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel over N, H and W."""
    _expected_dims = (4,)


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class Dropout2d(Module):
    """Zero whole channels with probability p in training."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ArgumentError(f"Dropout2d: probability must be between 0 and 1, got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Upsample(Module):
    """``F.interpolate`` as a layer (PyTorch's ``nn.Upsample``)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        shape = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{shape}, mode={self.mode!r}"
