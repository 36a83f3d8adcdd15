"""Layers that pad, resample or rearrange blocks: the padding family (``ZeroPad1d`` ...
``CircularPad3d``), ``Unfold`` / ``Fold``, ``PixelShuffle`` / ``PixelUnshuffle``, ``ChannelShuffle``
and the fixed-mode upsamplers.  Each is a thin layer over its function in ``nn.functional``."""
from __future__ import annotations

from ..errors import ArgumentError
from . import functional as F
from .conv import Upsample
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "Unfold", "Fold", "PixelShuffle",
           "PixelUnshuffle", "ChannelShuffle", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


# ----------------------------------------------------------------------------- padding
class _PadNd(Module):
    """Pad the last ``dims`` dims by ``padding``: an int for every side, or 2 dims amounts
    (last_before, last_after, 2nd_last_before, ...), negative amounts cropping."""
    dims = 0
    mode = "constant"
    value = 0.0

    def __init__(self, padding):
        super().__init__()
        n = 2 * self.dims
        self.padding = (int(padding),) * n if isinstance(padding, int) else tuple(int(p) for p in padding)
        if len(self.padding) != n:
            raise ArgumentError(f"{type(self).__name__}: padding must be an int or {n} ints, got {padding!r}")

    def forward(self, input):
        if self.mode != "constant" and input.ndim not in (self.dims + 1, self.dims + 2):
            raise ArgumentError(f"{type(self).__name__}: expected a {self.dims + 1}-D or {self.dims + 2}-D input, "
                             f"got shape {tuple(input.shape)}")
        return F.pad(input, self.padding, self.mode, self.value)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``."""
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``."""
    dims = 3


class ZeroPad1d(_PadNd):
    """Pad the last dim with zeros."""
    dims = 1


class ZeroPad2d(_PadNd):
    """Pad the last two dims with zeros: an int, or (left, right, top, bottom)."""
    dims = 2


class ZeroPad3d(_PadNd):
    """Pad the last three dims with zeros."""
    dims = 3


def _padding_layer(name, dims, mode, what):
    doc = f"Pad the last {('', 'two ', 'three ')[dims - 1]}dim{'s' if dims > 1 else ''} of a " \
          f"{dims + 1}-D or {dims + 2}-D input {what}."
    return type(name, (_PadNd,), {"dims": dims, "mode": mode, "__doc__": doc, "__module__": __name__})


ReflectionPad1d = _padding_layer("ReflectionPad1d", 1, "reflect", "with its reflection (the edge not repeated)")
ReflectionPad2d = _padding_layer("ReflectionPad2d", 2, "reflect", "with its reflection (the edge not repeated)")
ReflectionPad3d = _padding_layer("ReflectionPad3d", 3, "reflect", "with its reflection (the edge not repeated)")
ReplicationPad1d = _padding_layer("ReplicationPad1d", 1, "replicate", "with copies of the edge")
ReplicationPad2d = _padding_layer("ReplicationPad2d", 2, "replicate", "with copies of the edge")
ReplicationPad3d = _padding_layer("ReplicationPad3d", 3, "replicate", "with copies of the edge")
CircularPad1d = _padding_layer("CircularPad1d", 1, "circular", "periodically (wrapping around)")
CircularPad2d = _padding_layer("CircularPad2d", 2, "circular", "periodically (wrapping around)")
CircularPad3d = _padding_layer("CircularPad3d", 3, "circular", "periodically (wrapping around)")


# ----------------------------------------------------------------------------- blocks
class Unfold(Module):
    """``F.unfold``: (N, C, H, W) -> (N, C kh kw, L), the sliding blocks as columns."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """``F.fold``: (N, C kh kw, L) -> (N, C, *output_size), the columns added back where the blocks lie."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


# ----------------------------------------------------------------------------- fixed-mode upsampling
class UpsamplingNearest2d(Upsample):
    """``Upsample`` with mode 'nearest' (4-D inputs)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample`` with mode 'bilinear' and align_corners=True (4-D inputs)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
