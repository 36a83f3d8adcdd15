"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from __future__ import annotations

from collections import OrderedDict

from ..errors import ArgumentError
from .module import Module
from .parameter import Parameter


class Sequential(Module):
    """Modules applied in order; ``Sequential(a, b)`` or ``Sequential(OrderedDict(name=a, ...))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for k, m in enumerate(modules):
                self.add_module(str(k), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[_index(index, len(items))][1]

    def __setitem__(self, index, module):
        """``seq[i] = m`` replaces the i-th layer in its place (its name is kept)."""
        name = list(self._modules)[_index(index, len(self))]
        setattr(self, name, module)

    def __delitem__(self, index):
        """``del seq[i]`` (or a slice), then renumber ``0..n-1`` as PyTorch does."""
        names = list(self._modules)
        for name in (names[index] if isinstance(index, slice) else [names[_index(index, len(names))]]):
            del self._modules[name]
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        if not hasattr(modules, "__iter__") or isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (negative counts from the end), renumbering."""
        if not isinstance(module, Module):
            raise AssertionError(f"Sequential.insert: expected a Module, got {type(module).__name__}")
        _insert(self, index, module)
        return self

    def pop(self, index):
        """Remove and return the layer at ``index``, renumbering the rest."""
        module = self[index]
        del self[index]
        return module

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ArgumentError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other):
        if not isinstance(other, Sequential):
            raise ArgumentError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return self.extend(list(other))

    def __mul__(self, other):
        if not isinstance(other, int) or other <= 0:
            raise ArgumentError(f"Non-positive multiplication factor {other!r} for Sequential")
        return Sequential(*(list(self) * other))

    __rmul__ = __mul__


class ModuleList(Module):
    """A list of modules whose parameters are registered (a Python list's would not be)."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[_index(index, len(items))]

    def __setitem__(self, index, module):
        self.add_module(str(_index(index, len(self))), module)

    def __delitem__(self, index):
        names = list(self._modules)
        for name in (names[index] if isinstance(index, slice) else [names[_index(index, len(names))]]):
            del self._modules[name]
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (negative counts from the end), renumbering."""
        _insert(self, index, module)

    def pop(self, index):
        """Remove and return the module at ``index``, renumbering the rest."""
        module = self[index]
        del self[index]
        return module

    def __add__(self, other):
        return ModuleList([*self, *other])

    def __iadd__(self, other):
        return self.extend(other)

    def _child_repr_lines(self):
        """PyTorch's compact listing: consecutive equal children as ``(0-2): 3 x Linear(...)``."""
        lines, runs = [], []
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            if runs and runs[-1][2] == text:
                runs[-1][1] = name
                runs[-1][3] += 1
            else:
                runs.append([name, name, text, 1])
        for first, last, text, count in runs:
            lines.append(f"({first}): {text}" if count == 1 else f"({first}-{last}): {count} x {text}")
        return lines

    def forward(self, *args):
        raise NotImplementedError("ModuleList is a container: iterate over it in your forward()")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        for name, m in (modules or {}).items():
            self.add_module(name, m)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __contains__(self, key):
        return key in self._modules

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        """Add (or replace) modules from a mapping or an iterable of ``(name, module)`` pairs."""
        for name, m in (modules.items() if hasattr(modules, "items") else modules):
            self[name] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def forward(self, *args):
        raise NotImplementedError("ModuleDict is a container: index it in your forward()")


def _insert(container, index, module):
    """Insert ``module`` before ``index`` as ``list.insert`` does, then renumber ``0..n-1``."""
    items = list(container._modules.values())
    n = len(items)
    if not -n <= index <= n:
        raise IndexError(f"index {index} is out of range for a container of {n} modules")
    items.insert(index, module)
    container._modules.clear()
    for k, m in enumerate(items):
        container.add_module(str(k), m)


def _renumber(container):
    """Name the children ``0..n-1`` in their order (after a deletion), as PyTorch does."""
    modules = list(container._modules.values())
    container._modules.clear()
    for k, m in enumerate(modules):
        container._modules[str(k)] = m


def _as_parameter(value):
    """Tensors become Parameters, which require grad (as PyTorch's parameter containers make
    them); Parameters stay themselves."""
    if value is None or isinstance(value, Parameter):
        return value
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        return Parameter(value.detach())
    raise TypeError(f"parameter containers hold Parameters or Tensors, got {type(value).__name__}")


def _set_parameter(container, key, value):
    """Register (or replace in place, keeping the order) one parameter of a container."""
    if key in container._parameters:
        container._parameters[key] = _as_parameter(value)
    else:
        container.register_parameter(key, _as_parameter(value))


class ParameterList(Module):
    """A list of parameters, registered under the names "0", "1", ... (PyTorch's state-dict keys)."""

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def __getitem__(self, index):
        items = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(items[index])
        return items[_index(index, len(items))]

    def __setitem__(self, index, value):
        _set_parameter(self, str(_index(index, len(self))), value)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        self.register_parameter(str(len(self._parameters)), _as_parameter(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(f"({k}): Parameter containing: [{type(p).__name__} of size {'x'.join(map(str, p.shape))}]"
                         for k, p in self._parameters.items() if p is not None)

    def forward(self, *args):
        raise NotImplementedError("ParameterList is a container: index it in your forward()")


class ParameterDict(Module):
    """A dict of parameters, registered under their keys."""

    def __init__(self, parameters=None):
        super().__init__()
        self.update(parameters or {})

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        _set_parameter(self, key, value)

    def __delitem__(self, key):
        del self._parameters[key]

    def __contains__(self, key):
        return key in self._parameters

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        return self._parameters.pop(key)

    def setdefault(self, key, default=None):
        if key not in self._parameters:
            self[key] = default
        return self._parameters[key]

    def update(self, parameters):
        """Add (or replace) entries from a mapping or ``(key, value)`` pairs.  As in PyTorch, a plain
        dict's entries are added in sorted key order (an OrderedDict's or pairs' in their own)."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = parameters.items()
        elif hasattr(parameters, "items"):
            pairs = sorted(parameters.items())
        else:
            pairs = parameters
        for key, value in pairs:
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({k}): Parameter containing: [{type(p).__name__} of size {'x'.join(map(str, p.shape))}]"
                         for k, p in self._parameters.items() if p is not None)

    def forward(self, *args):
        raise NotImplementedError("ParameterDict is a container: index it in your forward()")


def _index(index, n):
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of range for a container of {n} modules")
    return index % n
