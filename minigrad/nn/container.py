"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from __future__ import annotations

import operator
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
        """Append each module of an iterable (a list, another Sequential, a ModuleList)."""
        if not hasattr(modules, "__iter__"):
            raise TypeError(f"Sequential.extend should be called with an iterable, but got {type(modules).__name__}")
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (negative counts from the end), renumbering."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module} (Sequential.insert got {type(module).__name__})")
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
        return Sequential(*(list(self) * _repeats(self, other)))

    __rmul__ = __mul__

    def __imul__(self, other):
        """``seq *= n`` repeats the layers in place (the same module objects, renamed ``0..``)."""
        return self.extend(list(self) * (_repeats(self, other) - 1))

    def __dir__(self):
        return _without_digit_names(super().__dir__())


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

    def __dir__(self):
        return _without_digit_names(super().__dir__())

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
        if modules is not None:
            self.update(modules)

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
        """Add (or replace) modules from a mapping (in its order) or an iterable of ``(name, module)`` pairs."""
        if not hasattr(modules, "__iter__"):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value pairs, "
                            f"but got {type(modules).__name__}")
        for name, m in (modules.items() if hasattr(modules, "items") else _pairs(modules, "ModuleDict")):
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


def _pairs(items, owner):
    """Check an update's ``(key, value)`` sequence as PyTorch's dict containers do."""
    pairs = list(items)
    for j, pair in enumerate(pairs):
        if not hasattr(pair, "__iter__"):
            raise TypeError(f"{owner} update sequence element #{j} should be Iterable; is" + type(pair).__name__)
        if len(pair) != 2:
            raise ValueError(f"{owner} update sequence element #{j} has length {len(pair)}; 2 is required")
    return pairs


def _repeats(seq, other):
    """The factor of ``seq * other``: an int (TypeError otherwise, as for a list) above zero."""
    if not isinstance(other, int):
        raise TypeError(f"unsupported operand type(s) for *: {type(seq)} and {type(other)}")
    if other <= 0:
        raise ArgumentError(f"Non-positive multiplication factor {other} for {type(seq)}")
    return other


def _insert(container, index, module):
    """Insert ``module`` before ``index`` as ``list.insert`` does, then renumber ``0..n-1``."""
    items = list(container._modules.values())
    n = len(items)
    if not -n <= index <= n:
        raise IndexError(f"Index out of range: {index} (a container of {n} modules)")
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
    """Tensors become Parameters sharing their memory (which require grad, as PyTorch's parameter
    containers make them); anything else (a Parameter, None, any object) is kept as it is."""
    from ..tensor import Tensor
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value.detach())
    return value


def _entry_repr(key, value, type_name):
    """One line of a parameter container's listing, as PyTorch prints it."""
    from ..tensor import Tensor
    if not isinstance(value, Tensor):
        return f"  ({key}): Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    device = f" ({value.device})" if value.device.type != "cpu" else ""
    return f"  ({key}): {kind} containing: [{type_name(value)} of size {'x'.join(map(str, value.shape))}{device}]"


def _without_digit_names(names):
    return [n for n in names if not n.isdigit()]


class ParameterList(Module):
    """A list of parameters, registered under the names "0", "1", ... (PyTorch's state-dict keys).
    Tensors become Parameters; other objects are held too (as plain attributes, as in PyTorch)."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self)[index])
        return getattr(self, str(_index(index, len(self))))

    def __setitem__(self, index, value):
        setattr(self, str(_index(index, len(self))), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return _without_digit_names(super().__dir__())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")

    def append(self, value):
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        from ..tensor import Tensor
        if not hasattr(values, "__iter__") or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(_entry_repr(k, p, lambda t: t.dtype) for k, p in enumerate(self))


class _MissingKey(KeyError, AttributeError):
    """A missing ParameterDict key: PyTorch raises AttributeError there; a dict user expects KeyError."""


class ParameterDict(Module):
    """A dict of parameters, registered under their (string) keys; Tensors become Parameters and
    other objects are held too (as plain attributes, as in PyTorch)."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _checked(key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not a string "
                            f"(type is '{type(key).__name__}'). Open an issue on github if you need non-string keys.")
        return key

    def __getitem__(self, key):
        if self._checked(key) not in self._keys:
            raise _MissingKey(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[self._checked(key)] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __contains__(self, key):
        return key in self._keys

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last ``(key, value)`` pair."""
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def copy(self):
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, parameters):
        """Add (or replace) entries from a mapping or ``(key, value)`` pairs.  As in PyTorch, a plain
        dict's entries are added in sorted key order (an OrderedDict's or pairs' in their own)."""
        if not hasattr(parameters, "__iter__"):
            raise TypeError("ParametersDict.update should be called with an iterable of key/value pairs, "
                            f"but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = parameters.items()
        elif hasattr(parameters, "items"):
            pairs = sorted(parameters.items())
        else:
            pairs = _pairs(parameters, "ParameterDict")
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        return "\n".join(_entry_repr(k, p, lambda t: t.type()) for k, p in self.items())


def _index(index, n):
    index = operator.index(index)          # an int, or an integer 0-d Tensor (as PyTorch's containers take)
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of range for a container of {n} modules")
    return index % n
