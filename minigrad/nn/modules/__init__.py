"""``minigrad.nn.modules``: PyTorch's ``torch.nn.modules`` paths, for code that imports layers or
their private bases from there (``from torch.nn.modules.batchnorm import _BatchNorm``,
``isinstance(m, nn.modules.conv._ConvNd)``).  Each submodule PyTorch has (``linear``, ``conv``,
``batchnorm``, ``loss``, ...) is one namespace holding every layer of ``minigrad.nn`` and those
bases, whichever file of minigrad defines them."""
import sys as _sys
import types as _types

from .. import attention as _attention, container as _container, conv as _conv, layers as _layers, loss as _loss, \
    module as _module
from ... import nn as _nn

_SUBMODULES = ("module", "linear", "conv", "activation", "batchnorm", "instancenorm", "normalization", "dropout",
               "loss", "container", "sparse", "rnn", "pooling", "flatten", "transformer", "padding", "pixelshuffle",
               "upsampling", "distance", "adaptive", "channelshuffle", "fold")
_BASES = {"_ConvNd": _conv._ConvNd, "_NormBase": _layers._NormBase, "_BatchNorm": _layers._BatchNorm,
          "_Loss": _loss._Loss, "_WeightedLoss": _loss._WeightedLoss,
          "NonDynamicallyQuantizableLinear": _attention.NonDynamicallyQuantizableLinear}


def _namespace(name):
    ns = _types.ModuleType(f"{__name__}.{name}")
    for key in dir(_nn):
        value = getattr(_nn, key)
        if isinstance(value, type) and issubclass(value, _module.Module):
            setattr(ns, key, value)
    for key, value in _BASES.items():
        setattr(ns, key, value)
    ns.Module, ns.Sequential = _module.Module, _container.Sequential
    return ns


for _name in _SUBMODULES:
    globals()[_name] = _sys.modules[f"{__name__}.{_name}"] = _namespace(_name)

for _key in dir(_module):                # the module-wide hooks, from torch.nn.modules.module
    if _key.startswith("register_module_"):
        setattr(module, _key, getattr(_module, _key))  # noqa: F821  (the "module" namespace made above)

# PyTorch's names for the module-wide hook stores; tests reset them by assignment
# (``nn.modules.module._global_forward_hooks = OrderedDict()``), which refills minigrad's in place.
_GLOBAL_NAMES = {"_global_forward_pre_hooks": "forward_pre", "_global_forward_hooks": "forward",
                 "_global_backward_hooks": "backward", "_global_backward_pre_hooks": "backward_pre",
                 "_global_parameter_registration_hooks": "parameter", "_global_buffer_registration_hooks": "buffer",
                 "_global_module_registration_hooks": "module", "_global_forward_hooks_with_kwargs": "flags",
                 "_global_forward_hooks_always_called": "always"}


class _ModuleNamespace(_types.ModuleType):
    def __getattr__(self, name):
        if name in _GLOBAL_NAMES:
            return _module._GLOBAL[_GLOBAL_NAMES[name]]
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name not in _GLOBAL_NAMES:
            return super().__setattr__(name, value)
        store = _module._GLOBAL[_GLOBAL_NAMES[name]]
        store.clear()
        store.update(value)


module.__class__ = _ModuleNamespace  # noqa: F821
from . import utils  # noqa: E402,F401  (torch.nn.modules.utils)
