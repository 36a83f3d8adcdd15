"""Activation modules of issue 12 (PyTorch's names and arguments), thin over ``nn.functional``."""
from __future__ import annotations

from .. import backend
from ..creation import full
from . import functional as F
from .module import Module
from .parameter import Parameter


class _Pointwise(Module):
    """An activation without parameters: ``_fn`` applied to the input with the stored options."""
    _options = ()
    _inplace_ok = False     # the function takes inplace= (PyTorch's module then has an inplace flag)

    def __init__(self, *args, **kwargs):
        super().__init__()
        names = [n for n, _ in self._options]
        values = dict(self._options)
        values.update(zip(names, args))
        unknown = set(kwargs) - set(names) - {"inplace"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(unknown)}")
        values.update({k: v for k, v in kwargs.items() if k != "inplace"})
        for name in names:
            setattr(self, name, values[name])
        if self._inplace_ok:
            self.inplace = bool(kwargs.get("inplace", args[len(names)] if len(args) > len(names) else False))

    def forward(self, input):
        options = (getattr(self, n) for n, _ in self._options)
        if self._inplace_ok and self.inplace:
            return type(self)._fn(input, *options, inplace=True)
        return type(self)._fn(input, *options)

    def extra_repr(self):
        parts = [f"{n}={getattr(self, n)}" for n, _ in self._options]
        if self._inplace_ok and self.inplace:
            parts.append("inplace=True")
        return ", ".join(parts)


def _module(name, fn, options=(), doc=None):
    import inspect
    cls = type(name, (_Pointwise,), {"_fn": staticmethod(fn), "_options": tuple(options),
                                    "_inplace_ok": "inplace" in inspect.signature(fn).parameters,
                                    "__doc__": doc or f"Applies ``F.{fn.__name__}`` elementwise."})
    cls.__module__ = __name__
    return cls


SiLU = _module("SiLU", F.silu)
Mish = _module("Mish", F.mish)
ELU = _module("ELU", F.elu, [("alpha", 1.0)])
SELU = _module("SELU", F.selu)
CELU = _module("CELU", F.celu, [("alpha", 1.0)])
ReLU6 = _module("ReLU6", F.relu6)
Hardtanh = _module("Hardtanh", F.hardtanh, [("min_val", -1.0), ("max_val", 1.0)])
Hardswish = _module("Hardswish", F.hardswish)
Hardsigmoid = _module("Hardsigmoid", F.hardsigmoid)
LogSigmoid = _module("LogSigmoid", F.logsigmoid)
Softsign = _module("Softsign", F.softsign)
Softmin = _module("Softmin", F.softmin, [("dim", None)])
GLU = _module("GLU", F.glu, [("dim", -1)])
Threshold = _module("Threshold", F.threshold, [("threshold", None), ("value", None)])
Tanhshrink = _module("Tanhshrink", F.tanhshrink)


class PReLU(Module):
    """x where x > 0, else weight * x; ``weight`` holds ``num_parameters`` slopes (1, or one per
    channel of dim 1), initialised to ``init`` (0.25), as PyTorch."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(full((num_parameters,), init, dtype=dtype or backend.get_default_dtype(),
                                     device=device))

    def reset_parameters(self):
        self.weight._data[...] = self.init

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
