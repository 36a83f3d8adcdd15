"""Module: the base class of every layer and model.

A Module holds parameters (weights that require grad), buffers (state that does not, such
as batch norm's running statistics) and child modules, each registered by assigning it as an
attribute.  Names and layouts follow PyTorch, so ``state_dict()`` keys such as
``0.weight`` or ``layer1.0.bn1.running_mean`` move between the two both ways.
"""
from __future__ import annotations

import functools
import inspect
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .. import backend
from ..autograd import Function, RemovableHandle, get_tracer, no_grad
from ..errors import ArgumentError
from ..tensor import Tensor
from .parameter import Buffer, Parameter



# Hooks for every module (PyTorch's torch.nn.modules.module.register_module_*_hook): they run
# before each module's own; "flags"/"always" hold the ids of those given kwargs / always called.
_GLOBAL = {kind: OrderedDict() for kind in ("forward_pre", "forward", "backward", "backward_pre", "parameter",
                                             "buffer", "module")}
_GLOBAL.update(flags=set(), always=set())


def _register_global(kind, hook, with_kwargs=False, always_call=False):
    Module._hook_counter += 1
    key = Module._hook_counter
    _GLOBAL[kind][key] = hook
    for flag, wanted in (("flags", with_kwargs), ("always", always_call)):
        if wanted:
            _GLOBAL[flag].add(key)

    def remove():
        _GLOBAL[kind].pop(key, None)
        _GLOBAL["flags"].discard(key)
        _GLOBAL["always"].discard(key)
    return _handle(remove, key, _GLOBAL[kind])


def _handle(remove, key, store):
    """A RemovableHandle with PyTorch's ``id`` and ``hooks_dict_ref()`` (the store the hook is in)."""
    handle = RemovableHandle(remove)
    handle.id = key
    handle.hooks_dict_ref = lambda: store
    return handle


def register_module_forward_pre_hook(hook):
    """``hook(module, args)`` before every module's forward (and before its own pre-hooks)."""
    return _register_global("forward_pre", hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """``hook(module, args, output)`` after every module's forward (and before its own hooks)."""
    return _register_global("forward", hook, with_kwargs, always_call)


def register_module_full_backward_hook(hook):
    """``hook(module, grad_input, grad_output)`` for every module, before its own backward hooks."""
    return _register_global("backward", hook)


register_module_backward_hook = register_module_full_backward_hook


def register_module_full_backward_pre_hook(hook):
    """``hook(module, grad_output)`` for every module, before its own backward pre-hooks."""
    return _register_global("backward_pre", hook)


def register_module_parameter_registration_hook(hook):
    """``hook(module, name, param)`` whenever a parameter is registered; it may return a replacement."""
    return _register_global("parameter", hook)


def register_module_buffer_registration_hook(hook):
    """``hook(module, name, buffer)`` whenever a buffer is registered; it may return a replacement."""
    return _register_global("buffer", hook)


def register_module_module_registration_hook(hook):
    """``hook(module, name, submodule)`` whenever a submodule is registered; it may return a replacement."""
    return _register_global("module", hook)


def _registration_hooks(kind, module, name, value):
    for hook in list(_GLOBAL[kind].values()):
        result = hook(module, name, value)
        if result is not None:
            value = result
    return value


def _call_old_backward_hook(hook, module, grad_inputs, grad_outputs):
    result = hook(module, grad_inputs, grad_outputs)
    return None if result is None else (result if isinstance(result, tuple) else (result,))


def _backward_hooks_of(module, kind):
    """The global then the module's own full backward hooks (``kind`` "") or pre-hooks ("pre")."""
    own = module._backward_pre_hooks if kind else module._backward_hooks
    return [*_GLOBAL["backward_" + kind if kind else "backward"].values(), *own.values()]


def _type_name(value):
    """A value's type as PyTorch's messages print it: builtins bare, others with their module."""
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _expect(value, kind, name, what, expected):
    """The TypeError for assigning to a registered name a value of the wrong kind (None always fits)."""
    if value is not None and (kind is None or not isinstance(value, kind)):
        raise TypeError(f"cannot assign '{_type_name(value)}' as {what} {name!r} ({expected} expected)")


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns (PyTorch's class name and printing)."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


IncompatibleKeys = _IncompatibleKeys


class Module:
    """Base class: subclass it, create parameters and submodules in ``__init__``, compute in
    ``forward``, call the module (not ``forward``) so that hooks run."""

    _hook_counter = 0
    call_super_init = False     # True: __init__ passes its arguments on to the next class (a mixin after Module)

    def __init__(self, *args, **kwargs):
        name = type(self).__name__
        if not self.call_super_init and kwargs:
            raise TypeError(f"{name}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if not self.call_super_init and args:
            raise TypeError(f"{name}.__init__() takes 1 positional argument but {len(args) + 1} were given")
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_non_persistent_buffers_set", self._non_persistent)   # PyTorch's name for it
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_hooks_with_kwargs", set())        # hook ids called with the kwargs too
        object.__setattr__(self, "_hooks_always_called", set())      # forward hook ids also run when forward raises
        self._alias_hook_flags()
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_state_dict_pre_hooks", OrderedDict())
        object.__setattr__(self, "_load_state_dict_pre_hooks", OrderedDict())
        object.__setattr__(self, "_load_state_dict_post_hooks", OrderedDict())
        object.__setattr__(self, "_state_dict_hooks", OrderedDict())             # state_dict's post-hooks
        object.__setattr__(self, "_public_state_dict_hooks", set())   # ids of those that must return None
        object.__setattr__(self, "_hooks_without_module", set())      # load pre-hook ids not given the module
        object.__setattr__(self, "training", True)
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    def __setstate__(self, state):
        """Unpickling: a module pickled before the newer hook stores existed gets empty ones."""
        self.__dict__.update(state)
        self.__dict__.setdefault("_non_persistent_buffers_set", self.__dict__.get("_non_persistent", set()))
        for name in ("_backward_pre_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
                     "_load_state_dict_post_hooks", "_state_dict_hooks"):
            self.__dict__.setdefault(name, OrderedDict())
        for name in ("_hooks_with_kwargs", "_hooks_always_called", "_public_state_dict_hooks", "_hooks_without_module"):
            self.__dict__.setdefault(name, set())
        self._alias_hook_flags()

    def _alias_hook_flags(self):
        """PyTorch's names for the hook-id flags (hook ids are unique, so one set serves both kinds)."""
        for name in ("_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs"):
            object.__setattr__(self, name, self._hooks_with_kwargs)
        object.__setattr__(self, "_forward_hooks_always_called", self._hooks_always_called)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        """PyTorch's precedence: a Parameter, then a parameter's name, a Module, a child's name, then a
        Buffer or a buffer's name; a registered name takes only its own kind (or None) from then on."""
        if "_parameters" not in self.__dict__:      # before Module.__init__: plain attributes only
            for kind, what in ((Parameter, "parameters"), (Module, "module"), (Buffer, "buffer")):
                if isinstance(value, kind):
                    raise AttributeError(f"cannot assign {what} before Module.__init__() call (call "
                                         f"super().__init__() first in {type(self).__name__}.__init__)")
            return object.__setattr__(self, name, value)
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name, keep=params)
            params[name] = _registration_hooks("parameter", self, name, value)
        elif name in params:
            _expect(value, None, name, "parameter", "torch.nn.Parameter or None")
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name, keep=modules)
            modules[name] = _registration_hooks("module", self, name, value)
        elif name in modules:
            _expect(value, None, name, "child module", "torch.nn.Module or None")
            modules[name] = None
        elif isinstance(value, Buffer):
            self._register_buffer_via_override(name, value, value.persistent)
        elif name in buffers:
            _expect(value, Tensor, name, "buffer", "torch.nn.Buffer, torch.Tensor or None")
            buffers[name] = _registration_hooks("buffer", self, name, value)
        else:
            object.__setattr__(self, name, value)

    def _register_buffer_via_override(self, name, value, persistent):
        """Call ``register_buffer``, as PyTorch does, even a subclass's override that lacks the
        ``persistent`` argument (then only persistent buffers can be registered through it)."""
        method = self.register_buffer
        if getattr(method, "__func__", None) is Module.register_buffer or \
                "persistent" in inspect.signature(method).parameters:
            return method(name, value, persistent=persistent)
        if not persistent:
            raise RuntimeError("Registering a non-persistent buffer on a Module subclass that implements "
                               "register_buffer() without the persistent argument is not allowed.")
        return method(name, value)

    def _forget(self, name, keep=None):
        """Drop ``name`` from every store but ``keep``: replacing an entry there keeps its
        position, as PyTorch does (a Sequential's layer swapped in place still runs in its place)."""
        for store in (self._parameters, self._buffers, self._modules):
            if store is not keep:
                store.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if any(name in s for s in (self._parameters, self._buffers, self._modules)):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def _check_new_name(self, kind, name, store):
        """PyTorch's rules for a registered name (KeyError, as there): a non-empty string without
        dots that is not already an attribute of another kind (a plain attribute set to None, as in
        ``self.bias = None`` before ``register_parameter("bias", None)``, may be replaced)."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
        if hasattr(self, name) and name not in store and not (name in self.__dict__ and self.__dict__[name] is None):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = _registration_hooks("parameter", self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """State saved in ``state_dict`` (unless ``persistent=False``) but not trained."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = _registration_hooks("buffer", self, name, tensor)
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        self._check_new_name("module", name, self._modules)
        self._forget(name, keep=self._modules)
        self._modules[name] = _registration_hooks("module", self, name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        module = self
        for part in target.split(".") if target else []:
            if not hasattr(module, part):
                raise AttributeError(f"{module._get_name()} has no attribute `{part}`")
            module = getattr(module, part)
            if not isinstance(module, Module):
                raise AttributeError(f"`{part}` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: "Module", strict: bool = False):
        """Replace (or, unless ``strict``, add) the submodule at dotted path ``target``."""
        if target == "":
            raise ArgumentError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ArgumentError(f"set_submodule: `module` is not an nn.Module, found {type(module).__name__}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The Parameter at dotted path ``target`` (``"layer1.0.weight"``)."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target`` (``"bn.running_mean"``)."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(mod, name)

    # ------------------------------------------------------------------ the call
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{self._get_name()}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        tracer = get_tracer()
        if tracer is None:
            return self._call(args, kwargs)
        tracer.enter(self)                  # so that a trace knows which module each op ran in
        try:
            return self._call(args, kwargs)
        finally:
            tracer.exit()

    def _call_impl(self, *args, **kwargs):
        """PyTorch's private name for calling the module (with its hooks), used by some libraries."""
        return Module.__call__(self, *args, **kwargs)

    _wrapped_call_impl = _call_impl

    def _call(self, args, kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks
                or _GLOBAL["forward_pre"] or _GLOBAL["forward"] or _GLOBAL["backward"] or _GLOBAL["backward_pre"]):
            return self.forward(*args, **kwargs)        # no hook anywhere: the common case, without the lists below
        with_kwargs = self._hooks_with_kwargs | _GLOBAL["flags"] if _GLOBAL["flags"] else self._hooks_with_kwargs
        for key, hook in [*_GLOBAL["forward_pre"].items(), *self._forward_pre_hooks.items()]:
            if key in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"got {result!r}")
                    args, kwargs = result
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        old_style = self.__dict__.get("_is_full_backward_hook") is False
        full = (_backward_hooks_of(self, "") and not old_style) or _backward_hooks_of(self, "pre")
        hooks = _BackwardHookState(self) if full else None
        if hooks is not None:
            args = hooks.wrap_inputs(args)
        forward_hooks = [*_GLOBAL["forward"].items(), *self._forward_hooks.items()]
        try:
            out = self.forward(*args, **kwargs)
        except Exception:
            always = self._hooks_always_called | _GLOBAL["always"]
            for key, hook in forward_hooks:
                if key in always:
                    try:
                        hook(self, args, kwargs, None) if key in with_kwargs else hook(self, args, None)
                    except Exception:
                        pass                 # the forward's own error is the one to report
            raise
        for key, hook in forward_hooks:
            result = hook(self, args, kwargs, out) if key in with_kwargs else hook(self, args, out)
            if result is not None:
                out = result
        if hooks is not None:
            out = hooks.wrap_outputs(out)
        if old_style and self._backward_hooks:
            self._attach_old_backward_hooks(out)
        return out

    def _attach_old_backward_hooks(self, out):
        """The deprecated ``register_backward_hook``: PyTorch calls those hooks from the node that made
        the output's first Tensor (in a dict: its first Tensor value), with that node's gradients."""
        while not isinstance(out, Tensor):
            if isinstance(out, dict):
                out = next((v for v in out.values() if isinstance(v, Tensor)), None)
            elif isinstance(out, (tuple, list)) and out:
                out = out[0]
            else:
                return
        if out.grad_fn is None:
            return
        for hook in list(self._backward_hooks.values()):
            out.grad_fn.register_hook(functools.partial(_call_old_backward_hook, hook, self))

    def _add_hook(self, store, hook, prepend=False, with_kwargs=False, always_call=False):
        Module._hook_counter += 1
        key = Module._hook_counter
        store[key] = hook
        if prepend:
            store.move_to_end(key, last=False)
        if with_kwargs:
            self._hooks_with_kwargs.add(key)
        if always_call:
            self._hooks_always_called.add(key)

        def remove():
            store.pop(key, None)
            for flags in (self._hooks_with_kwargs, self._hooks_always_called, self._public_state_dict_hooks,
                          self._hooks_without_module):
                flags.discard(key)
        return _handle(remove, key, store)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` before forward; may return replacement args.  With
        ``with_kwargs``: ``hook(module, args, kwargs)``, which may return ``(args, kwargs)``.
        ``prepend`` runs it before the hooks already registered."""
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` after forward; may return a replacement output.  With
        ``with_kwargs``: ``hook(module, args, kwargs, output)``; ``always_call`` also calls it (with
        output None) when forward raises; ``prepend`` runs it before the hooks already registered."""
        return self._add_hook(self._forward_hooks, hook, prepend, with_kwargs, always_call)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's inputs are computed; may return replacement ``grad_input``."""
        self._backward_hook_kind(full=True)
        return self._add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        """PyTorch's deprecated form: ``hook(module, grad_input, grad_output)`` with the gradients of the
        node that made the output (not of the module's inputs); a module takes hooks of one form only."""
        self._backward_hook_kind(full=False)
        return self._add_hook(self._backward_hooks, hook)

    def _backward_hook_kind(self, full):
        if self.__dict__.get("_is_full_backward_hook", full) != full:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single Module. "
                               "Please use only one of them.")
        object.__setattr__(self, "_is_full_backward_hook", full)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` when the gradients with respect to the module's outputs
        are known, before those of its inputs are computed; may return replacement ``grad_output``."""
        return self._add_hook(self._backward_pre_hooks, hook, prepend)

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` before ``state_dict`` collects this module's entries."""
        return self._add_hook(self._state_dict_pre_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` before ``load_state_dict`` reads this module's entries; it may edit
        ``state_dict`` (a copy of the caller's) in place, say to rename old keys."""
        return self._add_hook(self._load_state_dict_pre_hooks, hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """The older form: ``hook(state_dict, prefix, ...)`` without the module unless ``with_module``."""
        handle = self._add_hook(self._load_state_dict_pre_hooks, hook)
        if not with_module:
            self._hooks_without_module.add(handle.id)
        return handle

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` after ``state_dict`` has collected this
        module's entries and its children's; it may edit ``state_dict`` in place and must return None."""
        handle = self._add_hook(self._state_dict_hooks, hook)
        self._public_state_dict_hooks.add(handle.id)
        return handle

    def _register_state_dict_hook(self, hook):
        """The older form of :meth:`register_state_dict_post_hook`, whose hook may return a new state_dict."""
        return self._add_hook(self._state_dict_hooks, hook)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` after ``load_state_dict``; it may edit the
        ``missing_keys`` / ``unexpected_keys`` lists in place (before ``strict`` checks them)."""
        return self._add_hook(self._load_state_dict_post_hooks, hook)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        memo = set() if memo is None else memo
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, c in self.named_children():
            yield c

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(name, parameter)`` pairs; a parameter shared by several modules comes once, under
        its first name, unless ``remove_duplicate=False``."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Set ``training`` here, then call each child's ``train`` (so a subclass's override runs)."""
        if not isinstance(mode, bool):
            raise ArgumentError(f"training mode is expected to be boolean (got {mode!r})")
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad._data[...] = 0

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, *args, **kwargs):
        """Move parameters and buffers to a device and/or cast floating ones to a dtype, in
        place (the Parameter objects stay the same, so optimizers keep working)."""
        from ..tensor import _parse_to_args
        if "copy" in kwargs:                 # a module converts in place: there is nothing to copy to
            raise RuntimeError(".to() does not accept copy argument")
        device, dtype = _parse_to_args(args, dict(kwargs))
        dev = backend.device(device) if device is not None else None
        dt = backend.as_dtype(dtype) if dtype is not None else None
        if dt is not None and dt.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dt}")

        def convert(t):
            arr = t._data
            if dt is not None and arr.dtype.kind == "f":
                arr = arr.astype(dt, copy=False)
            if dev is not None:
                arr = backend.to_device(arr, dev)
            return arr

        with no_grad():
            for m in self.modules():
                for p in m._parameters.values():
                    if p is not None:
                        p._data = convert(p)
                        if p.grad is not None:
                            p.grad._data = convert(p.grad)
                for b in m._buffers.values():
                    if b is not None:
                        b._data = convert(b)
        return self

    def _apply(self, fn, recurse=True):
        """Apply ``fn`` (Tensor -> Tensor) to every parameter, gradient and buffer, as PyTorch's
        ``_apply``: a parameter keeps its identity and takes the result's array (so optimizers keep
        working), a buffer is replaced by the result."""
        if recurse:
            for child in self.children():
                child._apply(fn)
        with no_grad():
            for p in self._parameters.values():
                if p is not None:
                    p._data = fn(p)._data
                    if p.grad is not None:
                        p.grad._data = fn(p.grad)._data
            for key, b in self._buffers.items():
                if b is not None:
                    self._buffers[key] = fn(b)
        return self

    def to_empty(self, *, device=None, recurse=True):
        """Give every parameter and buffer fresh uninitialised memory on ``device`` (same shapes and dtypes)."""
        from ..creation import empty_like
        return self._apply(lambda t: empty_like(t, device=device if device is not None else t.device), recurse)

    def float(self):
        return self.to(backend.float32)

    def half(self):
        return self.to(backend.float16)

    def type(self, dst_type):
        """Cast every parameter and buffer (floating or not) to ``dst_type``, in place."""
        if isinstance(dst_type, str) and dst_type.endswith("Tensor"):     # "torch.DoubleTensor"
            dst_type = backend.dtype_of_type_name(dst_type)
        dt = backend.as_dtype(dst_type)
        with no_grad():
            for m in self.modules():
                for store in (m._parameters, m._buffers):
                    for t in store.values():
                        if t is not None:
                            t._data = t._data.astype(dt, copy=False)
                            if t.grad is not None:
                                t.grad._data = t.grad._data.astype(dt, copy=False)
        return self

    def share_memory(self):
        """A no-op (minigrad has no worker processes to share with); returns ``self``."""
        return self

    def compile(self, *args, **kwargs):
        """``model.compile()``, PyTorch's in-place ``torch.compile``: minigrad has no compiler, so the
        module runs eagerly as before (the same results; see :func:`minigrad.compile`).  Returns None."""
        return None

    def double(self):
        return self.to(backend.float64)

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    def cpu(self):
        return self.to("cpu")

    # ------------------------------------------------------------------ state
    _version = 1         # saved in state_dict()._metadata; a subclass bumps it when its layout changes

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by PyTorch's names (detached unless ``keep_vars``), in an
        OrderedDict whose ``_metadata`` holds each module's ``version``.  A module reachable under
        several names (``Sequential(l, l)``) appears under each, as in PyTorch.  Each module saves
        its own entries in ``_save_to_state_dict``, then recurses into its children."""
        if args:                            # the old positional form: (destination, prefix, keep_vars)
            destination, prefix, keep_vars = (args + (destination, prefix, keep_vars)[len(args):])[:3]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in list(self._state_dict_pre_hooks.values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=destination, prefix=f"{prefix}{name}.", keep_vars=keep_vars)
        for key, hook in list(self._state_dict_hooks.items()):
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                if key in self._public_state_dict_hooks:
                    raise RuntimeError("state_dict post hook must return None (edit the state_dict in place)")
                destination = result
        return destination

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own entries (not its children's): override to save more or other state."""
        for key, p in self._parameters.items():
            if p is not None:
                destination[prefix + key] = p if keep_vars else p.detach()
        for key, b in self._buffers.items():
            if b is not None and key not in self._non_persistent:
                destination[prefix + key] = b if keep_vars else b.detach()
        if _has_extra_state(self, "get_extra_state"):
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def get_extra_state(self):
        """Override (with :meth:`set_extra_state`) to save any picklable state under the key
        ``"_extra_state"`` of ``state_dict``."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called.")

    def set_extra_state(self, state):
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called.")

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy arrays into the parameters and buffers (values may be minigrad Tensors, NumPy
        arrays, or array-likes such as PyTorch CPU tensors).  With ``assign``, the loaded values
        replace them instead (a Parameter's keeping its ``requires_grad``), in the checkpoint's dtype.
        Each module reads its own entries in ``_load_from_state_dict``; the errors of all of them
        are raised together at the end, after whatever loaded cleanly has been loaded."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)            # the pre-hooks may edit this copy
        missing, unexpected, errors = [], [], []
        self._load_tree(state_dict, "", metadata, assign, (missing, unexpected, errors))
        if strict:
            errors[:0] = _key_errors(missing, unexpected)
        if errors:
            self._raise_load_errors(errors)
        return _IncompatibleKeys(missing, unexpected)

    def _load_tree(self, state_dict, prefix, metadata, assign, lists):
        """Load this module's entries, then each child's from the keys under its prefix."""
        local_metadata = dict(metadata.get(prefix[:-1], {})) if metadata is not None else {}
        if assign:
            local_metadata["assign_to_params_buffers"] = True
        self._load_from_state_dict(state_dict, prefix, local_metadata, True, *lists)
        for name, child in self._modules.items():
            if child is not None:
                head = f"{prefix}{name}."
                child._load_tree({k: v for k, v in state_dict.items() if k.startswith(head)}, head, metadata,
                                 assign, lists)
        keys = _IncompatibleKeys(lists[0], lists[1])
        for hook in list(self._load_state_dict_post_hooks.values()):
            if hook(self, keys) is not None:
                raise AssertionError("load_state_dict post hooks must return None; edit the incompatible keys "
                                     "in place instead")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Read this module's own entries of ``state_dict`` (keys ``prefix + name``), appending to the
        three lists instead of raising; override to convert an older layout first."""
        for key, hook in list(self._load_state_dict_pre_hooks.items()):
            args = (state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
            hook(*args) if key in self._hooks_without_module else hook(self, *args)
        assign = local_metadata.get("assign_to_params_buffers", False)
        own = {**self._parameters, **{k: b for k, b in self._buffers.items() if k not in self._non_persistent}}
        for name, target in own.items():
            key = prefix + name
            if target is None:
                continue
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            self._load_entry(name, key, target, state_dict[key], assign, error_msgs)
        extra_key = prefix + "_extra_state"
        if _has_extra_state(self, "set_extra_state"):
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if not key.startswith(prefix) or key == extra_key:
                    continue
                head, *rest = key[len(prefix):].split(".", 1)      # a dotted rest must belong to a child
                if head not in (self._modules if rest else own):
                    unexpected_keys.append(key)

    def _load_entry(self, name, key, target, value, assign, error_msgs):
        """Copy (or with ``assign``, install) one checkpoint value, or say why not in ``error_msgs``."""
        if not (isinstance(value, Tensor) or backend.is_array(value) or hasattr(value, "__array__")):
            error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                              f"object from checkpoint but received {type(value)}")
            return
        array = _as_host_or_device_array(value, target._data)
        if target._data.ndim == 0 and array.shape == (1,):      # PyTorch's allowance for old 1-element scalars
            array = array.reshape(())
        if array.shape != target._data.shape:
            error_msgs.append(f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} from "
                              f"checkpoint, the shape in current model is {tuple(target._data.shape)}.")
            return
        if not assign:
            _copy_into(target, array)
        elif isinstance(target, Parameter):
            if isinstance(value, Parameter):
                self._parameters[name] = value.requires_grad_(target.requires_grad)
            else:
                self._parameters[name] = Parameter(array, requires_grad=target.requires_grad)
        else:
            self._buffers[name] = value if isinstance(value, Tensor) and array is value._data else Tensor._wrap(array)

    def _raise_load_errors(self, errors):
        raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def _child_repr_lines(self):
        return [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]

    def __repr__(self):
        """PyTorch's layout: ``Name(extra)`` on one line, else the extra_repr's lines then the
        children's, each on its own line, indented by two spaces."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = self._child_repr_lines()
        if len(extra_lines) == 1 and not child_lines:
            return f"{self._get_name()}({extra_lines[0]})"
        lines = extra_lines + child_lines
        if not lines:
            return f"{self._get_name()}()"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


def _key_errors(missing, unexpected):
    """PyTorch's lines for keys a strict load_state_dict found missing or unexpected."""
    def quoted(keys):
        return ", ".join('"' + k + '"' for k in keys)
    return ([f"Missing key(s) in state_dict: {quoted(missing)}. "] if missing else []) + \
           ([f"Unexpected key(s) in state_dict: {quoted(unexpected)}. "] if unexpected else [])


def _copy_into(target, array):
    """Write ``array`` into ``target``'s own memory, as PyTorch's ``copy_``: whatever shares it (a
    state_dict taken earlier, a view) sees the loaded values.  Read-only memory is replaced instead."""
    data = target._data
    if getattr(getattr(data, "flags", None), "writeable", True):
        data[...] = array
    else:
        target._data = array.astype(data.dtype, copy=True)


def _has_extra_state(module, method):
    """Whether the module's class overrides ``method``: saving asks about get_extra_state and loading
    about set_extra_state, separately, as PyTorch does."""
    return getattr(type(module), method) is not getattr(Module, method)


def _as_host_or_device_array(value, like):
    if isinstance(value, Tensor):
        arr = value._data
    elif backend.is_array(value):
        arr = value
    else:
        arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") and hasattr(value, "cpu") else value)
    return backend.to_device(arr, backend.device_of(like))


# ----------------------------------------------------------------------------- full backward hooks
class _BackwardHookState:
    """Identity Functions around a module's inputs and outputs: the output one records
    grad_output, the input one receives grad_input and calls the hooks (as PyTorch's)."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0
        self.args = ()

    def wrap_inputs(self, args):
        self.args = args
        tensors = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if not tensors:
            return args
        wrapped = iter(_HookIdentity.apply(*tensors, state=self, role="inputs") if len(tensors) > 1 else
                       (_HookIdentity.apply(tensors[0], state=self, role="inputs"),))
        self.n_inputs = len(tensors)
        return tuple(next(wrapped) if isinstance(a, Tensor) and a.requires_grad else a for a in args)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        if not single and not isinstance(out, tuple):      # a dict, a list: PyTorch calls no hook then
            warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                          f"but received {type(out)}")
            return out
        tensors = [out] if single else [o for o in out if isinstance(o, Tensor) and o.requires_grad]
        if not tensors or not tensors[0].requires_grad:
            return out
        res = _HookIdentity.apply(*tensors, state=self, role="outputs")
        if single:
            return res
        res = iter(res if isinstance(res, tuple) else (res,))
        return type(out)(next(res) if isinstance(o, Tensor) and o.requires_grad else o for o in out)

    def on_outputs(self, grads):
        graph = any(isinstance(g, Tensor) for g in grads)
        for hook in _backward_hooks_of(self.module, "pre"):
            result = hook(self.module, tuple(_wrap(g) for g in grads))
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                grads = tuple(r if graph or not isinstance(r, Tensor) else r._data for r in result)
        self.grad_output = grads
        if self.n_inputs == 0:           # no input needs a gradient: call the hooks now
            self.call_hooks((None,))
        return grads

    def call_hooks(self, grad_input):
        """The hooks see one entry per positional argument, as in PyTorch: None for non-Tensors
        (and for every argument when none needs a gradient), zeros for Tensors that need none."""
        graph = any(isinstance(g, Tensor) for g in grad_input)        # create_graph: keep Tensors
        needs = [isinstance(a, Tensor) and a.requires_grad for a in self.args]
        grads = iter(grad_input)
        full = tuple(next(grads) if need else _zeros_like(a, graph) if isinstance(a, Tensor) and self.n_inputs else None
                     for a, need in zip(self.args, needs))
        for hook in _backward_hooks_of(self.module, ""):
            result = hook(self.module, tuple(_wrap(g) for g in full), tuple(_wrap(g) for g in self.grad_output))
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                if len(result) != len(full):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(result)}, "
                                       f"but expected {len(full)} (one per positional argument of "
                                       f"{type(self.module).__name__})")
                full = tuple(r if graph or not isinstance(r, Tensor) else r._data for r in result)
        return tuple(g for g, need in zip(full, needs) if need)


def _zeros_like(tensor, graph):
    zeros = backend.xp_of(tensor._data).zeros_like(tensor._data)
    return Tensor._wrap(zeros) if graph else zeros


def _wrap(g):
    return None if g is None or isinstance(g, Tensor) else Tensor._wrap(g)


class _HookIdentity(Function):
    differentiable_backward = True          # the identity, whatever the mode
    @staticmethod
    def forward(ctx, *arrays, state, role):
        ctx.state, ctx.role = state, role
        return arrays if len(arrays) > 1 else arrays[0]

    @staticmethod
    def backward(ctx, *grads):
        if ctx.role == "outputs":
            grads = ctx.state.on_outputs(grads)
            return grads if len(grads) > 1 else grads[0]
        new = ctx.state.call_hooks(grads)
        return new if len(new) > 1 else new[0]
