"""``functional_call``: run a module with some of its parameters and buffers replaced by given
tensors, for one call.  Gradients of the result flow to the given tensors, not to the module's own."""
from __future__ import annotations

from contextlib import contextmanager

from ...errors import ArgumentError
from ...tensor import Tensor

__all__ = ["functional_call"]


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the entries of ``parameter_and_buffer_dicts`` (a dict, or a
    tuple of dicts, keyed by ``named_parameters`` / ``named_buffers`` names) in place of the
    module's own.  With ``tie_weights`` a tensor shared under several names is replaced under
    all of them; with ``strict`` the dict must name every parameter and buffer exactly once."""
    values = _merge(parameter_and_buffer_dicts)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _reparametrize(module, values, tie_weights, strict):
        return module(*args, **(kwargs or {}))


def _merge(dicts):
    if isinstance(dicts, dict):
        dicts = (dicts,)
    merged = {}
    for d in dicts:
        for key, value in d.items():
            if key in merged:
                raise ArgumentError(f"functional_call: {key!r} appeared in multiple dictionaries; behavior of "
                                 f"functional call is ambiguous")
            merged[key] = value
    return merged


def _slots(module):
    """(name, owning module, store, attribute) of every parameter and buffer, duplicates kept."""
    out = []
    for prefix, m in module.named_modules(remove_duplicate=False):
        for store in (m._parameters, m._buffers):
            for key, value in store.items():
                if value is not None:
                    out.append((f"{prefix}.{key}" if prefix else key, m, store, key))
    return out


@contextmanager
def _reparametrize(module, values, tie_weights, strict):
    slots = _slots(module)
    names = {name for name, *_ in slots}
    unexpected = [k for k in values if k not in names]
    if strict:
        missing = sorted(names - set(values))
        if missing or unexpected:
            raise RuntimeError(f"functional_call: strict=True needs every parameter and buffer exactly once; "
                               f"missing keys {missing}, unexpected keys {unexpected}")
    if unexpected:
        raise AttributeError(f"functional_call: {type(module).__name__} has no parameter or buffer named "
                             f"{unexpected[0]!r}")
    for key, value in values.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"functional_call: the value for {key!r} must be a Tensor, got {type(value).__name__}")
    by_identity = {}
    if tie_weights:
        for name, m, store, key in slots:
            if name in values:
                by_identity[id(store[key])] = values[name]
    swaps = []                                # (store, key, the module's own tensor, the substitute)
    for name, m, store, key in slots:
        new = values.get(name, by_identity.get(id(store[key])))
        if new is not None:
            swaps.append((store, key, store[key], new))
    try:
        for store, key, _, new in swaps:
            store[key] = new
        yield
    finally:
        for store, key, old, _ in reversed(swaps):
            store[key] = old
