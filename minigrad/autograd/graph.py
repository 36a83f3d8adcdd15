"""``minigrad.autograd.graph`` (PyTorch's ``torch.autograd.graph``): hooks on the values a graph
node saves for its backward.

Inside ``saved_tensors_hooks(pack_hook, unpack_hook)``, each node made keeps
``pack_hook(tensor)`` for every array its forward saved, instead of the array (the innermost
region's hooks win); its backward reads ``unpack_hook(packed)``, a Tensor of the saved value,
each time it asks for its saved tensors.  ``save_on_cpu`` is the pair that keeps GPU values in
host memory until backward.  As in PyTorch, only what ``ctx.save_for_backward`` saved passes
through the hooks (not plain attributes of ``ctx``), and a node made outside the region keeps its
values as they are.
"""
from __future__ import annotations

import abc

from .. import backend
from ..tensor import Tensor


class saved_tensors_hooks:
    """Context manager: the nodes made inside save ``pack_hook(tensor)`` and give their backward
    ``unpack_hook(packed)``, which must return a Tensor of the saved value's shape and dtype."""

    def __init__(self, pack_hook, unpack_hook):
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks: pack_hook and unpack_hook must be callables")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        from . import _modes
        if _modes.saved_hooks_disabled is not None:
            raise RuntimeError(_modes.saved_hooks_disabled)
        _modes.saved_hooks = _modes.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        return self

    def __exit__(self, *exc):
        from . import _modes
        _modes.saved_hooks = _modes.saved_hooks[:-1]
        return False


class save_on_cpu(saved_tensors_hooks):
    """Keep what the nodes save in host memory and move it back to its device for backward
    (``pin_memory`` is PyTorch's; minigrad copies without page-locking)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return t.device, t.cpu()

        def unpack(packed):
            device, t = packed
            return t.to(device)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Context manager in which entering ``saved_tensors_hooks`` raises ``error_message``."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        from . import _modes
        self._before = _modes.saved_hooks_disabled
        _modes.saved_hooks_disabled = self.error_message
        return self

    def __exit__(self, *exc):
        from . import _modes
        _modes.saved_hooks_disabled = self._before
        return False


class PackedSaved:
    """What a node made under ``saved_tensors_hooks`` keeps in place of its saved arrays: each
    array's packed form (other saved values, such as None, as they are) and the unpack hook."""

    __slots__ = ("unpack_hook", "items")

    def __init__(self, saved, pack_hook, unpack_hook):
        self.unpack_hook = unpack_hook
        self.items = tuple((True, pack_hook(Tensor._wrap(s))) if backend.is_array(s) else (False, s) for s in saved)

    def unpacked(self, name):
        """The saved arrays again, through the unpack hook."""
        out = []
        for packed, item in self.items:
            if not packed:
                out.append(item)
                continue
            t = self.unpack_hook(item)
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: the unpack hook of saved_tensors_hooks must return a Tensor, got "
                                f"{type(t).__name__}")
            out.append(t._data)
        return tuple(out)


class Node(abc.ABC):
    """What ``grad_fn`` and ``next_functions`` hold (PyTorch's ``torch.autograd.graph.Node``), for
    ``isinstance`` checks: every op's Function and a leaf's AccumulateGrad are registered as one."""


def increment_version(tensor):
    """Count an in-place edit made behind autograd's back (a kernel writing into ``tensor``), so a
    backward that saved the old value raises, as after an ordinary in-place op."""
    from . import versions
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        versions.bump(t._data)


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call ``fn`` once per backward that reaches any of ``tensors``: with all their gradients
    (a tuple, None for those it did not reach) at its end (``mode="all"``), or with the first
    one as it is computed (``mode="any"``).  Returns a handle whose ``remove()`` unregisters it."""
    from . import RemovableHandle, queue_callback
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    state = {"pending": False, "grads": [None] * len(tensors)}

    def finish():
        grads, state["grads"], state["pending"] = state["grads"], [None] * len(tensors), False
        if mode == "all":
            fn(tuple(grads))

    def hook_for(i):
        def hook(grad):
            if not state["pending"]:
                state["pending"] = True
                queue_callback(finish)      # the end of this backward resets (and, for "all", calls fn)
                if mode == "any":
                    fn(grad)
            state["grads"][i] = grad
        return hook
    handles = [t.register_hook(hook_for(i)) for i, t in enumerate(tensors) if t.requires_grad]
    return RemovableHandle(lambda: [h.remove() for h in handles])
