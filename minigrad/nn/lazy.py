"""Lazy modules (PyTorch's ``nn.LazyLinear``, ``LazyConv2d``, ``LazyBatchNorm2d``, ...): the input
size (in_features, in_channels or num_features) is read from the first input.

Until that call the module holds the parameters and buffers of its full version with empty arrays
(the same Parameter objects later, so an optimizer built before the first call holds the real
ones) and reports a size of 0, as PyTorch's repr does.  The first call builds the full module with
the size it sees (drawing its initial weights then, as PyTorch initialises at that point), moves
its arrays into those objects and becomes that class: after it, ``type(m) is nn.Conv2d``.
"""
from __future__ import annotations

from .. import backend
from ..autograd import no_grad
from ..errors import ArgumentError
from ..utilities import get_rng_state, set_rng_state
from .conv import BatchNorm2d, Conv1d, Conv2d, ConvTranspose2d
from .conv_nd import Conv3d, ConvTranspose1d, ConvTranspose3d
from .layers import BatchNorm1d, Linear
from .module import Module
from .normalization import BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class _LazyModule(Module):
    """``cls_to_become(size, *args, **kwargs)`` once the first input gives ``size``; until then
    a template of it with empty arrays and ``size_name`` 0.  Each lazy class also subclasses its
    full class (after this one), for its repr, class attributes and isinstance checks."""

    cls_to_become = None
    size_name = None
    #: the input's rank when batched; its size is at dim 1 then, at dim 0 when unbatched
    batched_ndim = None

    #: keyword defaults that differ from the full class's: (position in args, name, value)
    lazy_defaults = ()

    def __init__(self, *args, **kwargs):
        for position, name, value in self.lazy_defaults:
            if len(args) <= position:
                kwargs.setdefault(name, value)
        state = get_rng_state()                 # the template's initial draws are not PyTorch's: undo them
        try:
            template = self.cls_to_become(self._placeholder_size(args, kwargs), *args, **kwargs)
        finally:
            set_rng_state(state)
        self.__dict__.update(template.__dict__)
        setattr(self, self.size_name, 0)
        with no_grad():
            for p in self._parameters.values():
                if p is not None:
                    p._data = backend.xp_of(p._data).empty((0,), dtype=p._data.dtype)
            for name, b in self._buffers.items():
                if b is not None and b._data.dtype.kind == "f":
                    b._data = backend.xp_of(b._data).empty((0,), dtype=b._data.dtype)
        self._lazy_arguments = (args, kwargs)

    @staticmethod
    def _placeholder_size(args, kwargs):
        return 1

    def has_uninitialized_params(self) -> bool:
        return True

    def reset_parameters(self) -> None:
        """Nothing to reset until the first input gives the shapes (as PyTorch's)."""

    def _input_size(self, input):
        if input.ndim == 0:
            raise ArgumentError(f"{type(self).__name__}: the input must have a feature dimension, got a 0-d tensor")
        if self.batched_ndim is None:
            return input.shape[-1]
        return input.shape[0] if input.ndim == self.batched_ndim - 1 else input.shape[1]

    def initialize_parameters(self, input):
        """Build the full module for ``input`` and become it (PyTorch's name for this step)."""
        args, kwargs = self.__dict__.pop("_lazy_arguments")
        full = self.cls_to_become(self._input_size(input), *args, **kwargs)
        with no_grad():
            for name, p in full._parameters.items():
                if p is not None:
                    self._parameters[name]._data = p._data
            for name, b in full._buffers.items():
                if name in self._buffers and self._buffers[name] is not None and b is not None:
                    self._buffers[name]._data = b._data
        setattr(self, self.size_name, getattr(full, self.size_name))
        self.__class__ = self.cls_to_become

    def forward(self, *inputs, **kwargs):
        self.initialize_parameters(inputs[0])
        return self(*inputs, **kwargs)


def _conv_placeholder(args, kwargs):
    """The smallest valid in_channels: the number of groups (the 6th argument after out_channels)."""
    groups = kwargs.get("groups", args[5] if len(args) > 5 else 1)
    return groups


def _lazy(name, becomes, size_name, batched_ndim, doc, placeholder=None, defaults=()):
    attrs = {"cls_to_become": becomes, "size_name": size_name, "batched_ndim": batched_ndim, "__doc__": doc,
             "__module__": __name__, "lazy_defaults": defaults}
    if placeholder is not None:
        attrs["_placeholder_size"] = staticmethod(placeholder)
    return type(name, (_LazyModule, becomes), attrs)     # as PyTorch's: a LazyConv2d is a Conv2d


LazyLinear = _lazy("LazyLinear", Linear, "in_features", None,
                   "A Linear whose in_features is the first input's last dim.")
LazyConv1d = _lazy("LazyConv1d", Conv1d, "in_channels", 3, "A Conv1d whose in_channels is read from the first input.",
                   _conv_placeholder)
LazyConv2d = _lazy("LazyConv2d", Conv2d, "in_channels", 4, "A Conv2d whose in_channels is read from the first input.",
                   _conv_placeholder)
LazyConv3d = _lazy("LazyConv3d", Conv3d, "in_channels", 5, "A Conv3d whose in_channels is read from the first input.",
                   _conv_placeholder)
LazyConvTranspose1d = _lazy("LazyConvTranspose1d", ConvTranspose1d, "in_channels", 3,
                            "A ConvTranspose1d whose in_channels is read from the first input.", _conv_placeholder)
LazyConvTranspose2d = _lazy("LazyConvTranspose2d", ConvTranspose2d, "in_channels", 4,
                            "A ConvTranspose2d whose in_channels is read from the first input.", _conv_placeholder)
LazyConvTranspose3d = _lazy("LazyConvTranspose3d", ConvTranspose3d, "in_channels", 5,
                            "A ConvTranspose3d whose in_channels is read from the first input.", _conv_placeholder)
LazyBatchNorm1d = _lazy("LazyBatchNorm1d", BatchNorm1d, "num_features", 2,
                        "A BatchNorm1d whose num_features is the first input's dim 1.")
LazyBatchNorm2d = _lazy("LazyBatchNorm2d", BatchNorm2d, "num_features", 4,
                        "A BatchNorm2d whose num_features is the first input's dim 1.")
LazyBatchNorm3d = _lazy("LazyBatchNorm3d", BatchNorm3d, "num_features", 5,
                        "A BatchNorm3d whose num_features is the first input's dim 1.")
# PyTorch's lazy instance norms default to affine=True, track_running_stats=True (the full ones to False)
_INSTANCE_DEFAULTS = ((2, "affine", True), (3, "track_running_stats", True))
LazyInstanceNorm1d = _lazy("LazyInstanceNorm1d", InstanceNorm1d, "num_features", 3,
                           "An InstanceNorm1d whose num_features is read from the first input (dim 0 unbatched).",
                           defaults=_INSTANCE_DEFAULTS)
LazyInstanceNorm2d = _lazy("LazyInstanceNorm2d", InstanceNorm2d, "num_features", 4,
                           "An InstanceNorm2d whose num_features is read from the first input (dim 0 unbatched).",
                           defaults=_INSTANCE_DEFAULTS)
LazyInstanceNorm3d = _lazy("LazyInstanceNorm3d", InstanceNorm3d, "num_features", 5,
                           "An InstanceNorm3d whose num_features is read from the first input (dim 0 unbatched).",
                           defaults=_INSTANCE_DEFAULTS)
