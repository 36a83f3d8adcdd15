"""The older weight normalisation, as ``torch.nn.utils.weight_norm`` / ``remove_weight_norm``:
parameters ``<name>_g`` and ``<name>_v`` and a forward pre-hook that sets ``module.<name> =
g * v / ||v||`` before each call."""
from __future__ import annotations

from ...autograd import no_grad
from ...errors import ArgumentError
from ..parameter import Parameter
from ._norms import norm_except_dim, weight_from_g_v

__all__ = ["weight_norm", "remove_weight_norm"]


class WeightNorm:
    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        return weight_from_g_v(getattr(module, self.name + "_g"), getattr(module, self.name + "_v"), self.dim)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    fn = WeightNorm(name, dim)
    weight = getattr(module, name, None)
    if not isinstance(weight, Parameter):
        raise ArgumentError(f"weight_norm: module {type(module).__name__} has no parameter {name!r}")
    del module._parameters[name]
    with no_grad():
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name="weight"):
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            with no_grad():
                weight = hook.compute_weight(module)
            del module._forward_pre_hooks[key]
            module.__dict__.pop(name, None)
            del module._parameters[name + "_g"], module._parameters[name + "_v"]
            module.register_parameter(name, Parameter(weight.detach()))
            return module
    raise ArgumentError(f"weight_norm of '{name}' not found in {module}")
