"""Parametrizations, as ``torch.nn.utils.parametrize``: ``module.weight`` becomes a function
of the stored tensor(s), recomputed on every access.

    register_parametrization(layer, "weight", Symmetric())   # layer.weight = Symmetric()(original)

The original tensor moves to ``layer.parametrizations.weight.original`` (``original0``,
``original1``, ... when the first parametrization's ``right_inverse`` returns a tuple), which is
also its state-dict key; the same Parameter object is kept where possible so optimizers keep
working.  Assigning ``layer.weight = value`` stores ``right_inverse(value)``.  The module's
class is swapped for a subclass with a property per parametrized name (as PyTorch does).
"""
from __future__ import annotations

from contextlib import contextmanager

from ...autograd import no_grad
from ...errors import ArgumentError
from ...tensor import Tensor
from ..container import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "ParametrizationList"]

_cache_enabled = 0
_cache: dict = {}


@contextmanager
def cached():
    """Within the block each parametrized tensor is computed once per module and reused."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and its ``original`` tensor(s)."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        if self.is_tensor:
            if new is not original and tuple(new.shape) == tuple(original.shape) and new.dtype == original.dtype:
                with no_grad():
                    original._data = new._data.copy()
                new = original
            self._register_original("original", new, original)
        else:
            self.ntensors = len(new)
            for i, t in enumerate(new):
                self._register_original(f"original{i}", t, original)

    def _register_original(self, name, value, like):
        if isinstance(like, Parameter):
            value = value if isinstance(value, Parameter) else Parameter(value.detach(), like.requires_grad)
            self.register_parameter(name, value)
        else:
            self.register_buffer(name, value.detach())

    def right_inverse(self, value):
        """Store ``value`` through the parametrizations' ``right_inverse``s (in reverse order)."""
        with no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):         # as PyTorch: no inverse, no assignment
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement right_inverse.")
                value = m.right_inverse(value)
            if self.is_tensor:
                _copy_into(self.original, value)
            else:
                for i, v in enumerate(value):
                    _copy_into(getattr(self, f"original{i}"), v)

    def forward(self):
        first, *rest = list(self)
        x = first(self.original) if self.is_tensor else first(*(getattr(self, f"original{i}")
                                                                for i in range(self.ntensors)))
        for m in rest:
            x = m(x)
        return x


def _copy_into(target, value):
    if tuple(value.shape) != tuple(target.shape):
        raise RuntimeError(f"parametrize: the right_inverse result has shape {tuple(value.shape)} but the stored "
                           f"original has shape {tuple(target.shape)}")
    target._data = value._data.astype(target.dtype, copy=True)


def _property(name):
    def get(self):
        plist = self.parametrizations[name]
        if _cache_enabled:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        return plist()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)
    return property(get, set_)


def _parametrized_setattr(self, name, value):
    if name in type(self)._parametrized_names:
        type(self).__dict__[name].__set__(self, value)
    else:
        Module.__setattr__(self, name, value)


def _parametrized_deepcopy(self, memo):
    """A copy with its own injected class (the class holds the properties, so copies must not share it)."""
    import copy
    cls = type(self)
    new = object.__new__(cls)
    memo[id(self)] = new
    for key, value in self.__dict__.items():
        object.__setattr__(new, key, copy.deepcopy(value, memo))
    _inject_class(new, cls._unparametrized)
    for name in cls._parametrized_names:
        _add_property(new, name)
    return new


def _inject_class(module, base=None):
    """Give ``module`` a class of its own, a subclass of its (unparametrized) class."""
    base = type(module) if base is None else base
    new = type(f"Parametrized{base.__name__}", (base,), {"_parametrized_names": set(), "_unparametrized": base,
                                                         "__setattr__": _parametrized_setattr,
                                                         "__deepcopy__": _parametrized_deepcopy})
    object.__setattr__(module, "__class__", new)


def _add_property(module, name):
    setattr(type(module), name, _property(name))
    type(module)._parametrized_names.add(name)


def is_parametrized(module, tensor_name=None) -> bool:
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if plists is None or not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` equal ``parametrization(original)``; returns ``module``."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be an nn.Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            value = plist()
            out = parametrization(value)
            if not isinstance(out, Tensor) or tuple(out.shape) != tuple(value.shape) or out.dtype != value.dtype:
                raise ArgumentError(f"register_parametrization: a parametrization added to {tensor_name!r} must keep "
                                 f"its shape {tuple(value.shape)} and dtype {value.dtype}")
        plist.append(parametrization)
        return module
    if tensor_name in module._parameters:
        original = module._parameters[tensor_name]
    elif tensor_name in module._buffers:
        original = module._buffers[tensor_name]
    else:
        raise ArgumentError(f"register_parametrization: module '{type(module).__name__}' has no parameter or buffer "
                         f"named '{tensor_name}'")
    if original is None:
        raise ArgumentError(f"register_parametrization: {tensor_name!r} of {type(module).__name__} is None")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not unsafe:
        out = plist()
        if not isinstance(out, Tensor) or tuple(out.shape) != tuple(original.shape) or out.dtype != original.dtype:
            raise ArgumentError(f"register_parametrization: the parametrization of {tensor_name!r} must return a "
                             f"Tensor of shape {tuple(original.shape)} and dtype {original.dtype}, got "
                             f"{getattr(out, 'shape', type(out).__name__)} (pass unsafe=True to allow it)")
    module._parameters.pop(tensor_name, None)
    module._buffers.pop(tensor_name, None)
    module._non_persistent.discard(tensor_name)
    if not is_parametrized(module):
        _inject_class(module)
        Module.__setattr__(module, "parametrizations", ModuleDict())
    module.parametrizations[tensor_name] = plist
    _add_property(module, tensor_name)
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization``: ``tensor_name`` becomes a plain parameter (or buffer)
    again, holding the parametrized value (``leave_parametrized``) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ArgumentError(f"remove_parametrizations: module {type(module).__name__} does not have a parametrization "
                         f"on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = plist()
            if tuple(value.shape) == tuple(original.shape) and value.dtype == original.dtype:
                original._data = value._data.copy()
            else:
                original = Parameter(value.detach(), original.requires_grad) if isinstance(original, Parameter) \
                    else value.detach()
    else:
        if not leave_parametrized:
            raise ArgumentError("remove_parametrizations: cannot leave the original when the parametrization was "
                             "registered with a right_inverse that returns several tensors")
        with no_grad():
            value = plist()
        first = plist.original0
        original = Parameter(value.detach(), first.requires_grad) if isinstance(first, Parameter) else value.detach()
    module.parametrizations._modules.pop(tensor_name)
    cls = type(module)
    delattr(cls, tensor_name)
    cls._parametrized_names.discard(tensor_name)
    if not cls._parametrized_names:
        module.__class__ = cls._unparametrized
        del module.parametrizations
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    return module
