"""Parameter: a leaf Tensor that a Module registers as one of its weights."""
from __future__ import annotations

from ..creation import as_array
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and is collected by ``Module.parameters()``.

    ``Parameter(t)`` shares ``t``'s array (as in PyTorch), so weights can be wrapped without a copy.
    """

    # no __slots__: as in PyTorch, code may tag a parameter with attributes (``p.no_decay = True``)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        self._init_leaf(data._data if isinstance(data, Tensor) else as_array(data, copy=False), requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        # PyTorch's Parameter copies its data and requires_grad only: no .grad (so a deep-copied
        # model starts with none), unlike a plain Tensor's deepcopy
        if id(self) not in memo:
            memo[id(self)] = type(self)(self._data.copy(), requires_grad=self._requires_grad)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach().numpy(), self._requires_grad, dict(self.__dict__)))


def _rebuild_parameter(array, requires_grad, attributes=None):
    param = Parameter(array, requires_grad=requires_grad)
    param.__dict__.update(attributes or {})
    return param


class Buffer(Tensor):
    """``nn.Buffer(data, persistent=True)`` (PyTorch 2.5): a Tensor that a Module registers as a
    buffer when assigned as an attribute (``self.mask = nn.Buffer(t)``, the same as
    ``register_buffer("mask", t, persistent)``).  It shares ``data``'s array, detached."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        requires_grad = data.requires_grad if isinstance(data, Tensor) else False
        self._init_leaf(data._data if isinstance(data, Tensor) else as_array(data, copy=False), requires_grad)
        self.persistent = bool(persistent)
