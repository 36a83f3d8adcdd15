"""Optimizer: the base class that holds parameter groups and per-parameter state.

A subclass validates its hyperparameters, passes them to ``Optimizer.__init__`` as defaults and
implements ``_update_group(group)``, which calls the optimizer's update rule (a plain function on
arrays, in the subclass's module) for every parameter of the group that has a gradient.
"""
from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from typing import Iterable, Union

import numpy as np

from .. import backend
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor


class _RequiredParameter:
    """The default of an option that each parameter group must set (PyTorch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


#: ``defaults={"lr": required}``: a custom optimizer whose groups must each give an ``lr``
required = _RequiredParameter()

#: the type of ``params`` (for annotations in custom optimizers, as PyTorch's ``ParamsT``)
ParamsT = Union[Iterable[Tensor], Iterable[dict], Iterable[tuple[str, Tensor]]]


class Optimizer:
    """Base class of the optimizers (PyTorch's ``torch.optim.Optimizer``).

    ``params`` is an iterable of Tensors (or of ``(name, Tensor)`` pairs, as ``named_parameters()``
    gives, whose names the groups keep as ``"param_names"``), or of dicts (parameter groups) that
    each hold a ``"params"`` list and options overriding ``defaults`` for that group.  ``param_groups`` is
    the list of groups (each a dict of hyperparameters plus ``"params"``); ``state`` maps each
    parameter to a dict of its running buffers and counters (0-d), all Tensors as in PyTorch.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got a single Tensor (wrap it in a list)")
        groups = list(params)          # a set is taken here, as PyTorch takes it; only a group's may not be one
        if not groups:
            raise ValueError(f"{self._name}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, wrap in _HOOKED.items():
            if name in cls.__dict__:
                setattr(cls, name, wrap(cls.__dict__[name]))

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _step_hooks(self, kind: str) -> OrderedDict:
        if kind not in self.__dict__:
            self.__dict__[kind] = OrderedDict()
        return self.__dict__[kind]

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each ``step``; it may return ``(args, kwargs)``
        to replace step's arguments.  Returns a handle whose ``remove()`` unregisters it."""
        return _add_hook(self._step_hooks("_step_pre_hooks"), hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each ``step``.  Returns a removable handle."""
        return _add_hook(self._step_hooks("_step_post_hooks"), hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False):
        """``hook(optimizer)`` before ``state_dict`` builds its dict.  Returns a removable handle."""
        return _add_hook(self._step_hooks("_state_dict_pre_hooks"), hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False):
        """``hook(optimizer, state_dict)`` on the dict ``state_dict`` built; a dict it returns is
        returned instead.  Returns a removable handle."""
        return _add_hook(self._step_hooks("_state_dict_post_hooks"), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False):
        """``hook(optimizer, state_dict)`` before ``load_state_dict`` loads; a dict it returns is
        loaded instead.  Returns a removable handle."""
        return _add_hook(self._step_hooks("_load_state_dict_pre_hooks"), hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False):
        """``hook(optimizer)`` after ``load_state_dict`` has loaded.  Returns a removable handle."""
        return _add_hook(self._step_hooks("_load_state_dict_post_hooks"), hook, prepend)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options; options it leaves out come from
        ``defaults``.  Useful to train newly unfrozen layers, with their own learning rate."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}: a parameter group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        else:
            self._check_ordered(params)
            params = list(params)
        names, params = self._split_names(params)

        group_index = len(self.param_groups)
        in_group = set()
        for i, p in enumerate(params):
            where = f"parameter {i} of group {group_index}"
            self._check_param(p, where)
            if id(p) in in_group:
                # PyTorch's rule: a warning, and the parameter is updated once per appearance (a
                # weight tied between two modules whose parameter lists were concatenated)
                warnings.warn(f"{self._name}: optimizer contains a parameter group with duplicate parameters; "
                              f"{where} was given more than once in its group; it is updated once per appearance, "
                              f"as PyTorch does (which warns that this will become an error)",
                              UserWarning, stacklevel=3)
            in_group.add(id(p))
        self._check_new_group(group_index, in_group, names is not None)

        group = {**param_group, "params": params}
        if names is not None:
            group["param_names"] = names
        for key, value in self.defaults.items():
            if value is required and key not in group:
                raise ValueError(f"{self._name}: parameter group didn't specify a value of required optimization "
                                 f"parameter {key}")
            group.setdefault(key, value)
        self.param_groups.append(group)

    def _split_names(self, params):
        """(names or None, tensors) of a group's params, given as tensors or as the (name, tensor)
        pairs of ``model.named_parameters()``, not a mix of both."""
        named = [isinstance(p, tuple) for p in params]
        if not any(named):
            return None, params
        if not all(named):
            raise ValueError(f"{self._name}: all optimizer params should be with/without names. "
                             f"Some param names are missing")
        return [p[0] for p in params], [p[1] for p in params]

    def _check_new_group(self, group_index, ids, named) -> None:
        """PyTorch's rules across groups: all named or none, and no parameter in two groups."""
        for group in self.param_groups:
            if ("param_names" in group) != named:
                raise ValueError(f"{self._name}: all optimizer param groups should be with/without names. "
                                 f"cannot add param group {'with' if named else 'without'} names to the optimizer")
            if any(id(p) in ids for p in group["params"]):
                raise ValueError(f"{self._name}: some parameters appear in more than one parameter group "
                                 f"(group {group_index} repeats a parameter of an earlier group)")

    def _check_ordered(self, params) -> None:
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: optimizer parameters need to be organized in ordered collections, but "
                            f"the ordering of tensors in sets will change between runs. Please use a list instead.")

    def _check_param(self, p, where: str) -> None:
        if not isinstance(p, Tensor):
            raise TypeError(f"{self._name}: optimizer can only optimize Tensors, but one of the params is "
                            f"{type(p).__name__} ({where})")
        if not p.is_leaf:
            raise ValueError(f"{self._name}: can't optimize a non-leaf Tensor ({where} was computed by "
                             f"{p.grad_fn.name}); pass leaves such as nn.Parameter or x.detach().requires_grad_()")
        if p.dtype.kind != "f":
            raise TypeError(f"{self._name}: can only optimize floating-point Tensors, but {where} has dtype {p.dtype}")

    # ------------------------------------------------------------------ the update
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: drop them (``set_to_none=True``, the default, which frees memory
        and lets ``step`` skip parameters no loss reached) or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient (others are skipped).

        ``closure``, if given, re-evaluates the model and returns the loss (it runs with gradients
        enabled, before the update); ``step`` returns that loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict) -> None:
        raise NotImplementedError(f"{self._name} does not implement _update_group")

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's layout::

            {"state": {index: {"exp_avg": Tensor, "step": tensor(10.), ...}, ...},
             "param_groups": [{"lr": 0.01, ..., "params": [0, 1]}, {..., "params": [2]}]}

        Parameters are numbered in order over all groups (as PyTorch's: a parameter repeated in its
        group takes the number of its last appearance there, one in several groups that of its first
        group).  As in PyTorch, the Tensors share memory
        with the optimizer's buffers: save (pickle) or deep-copy the dict to keep a snapshot.
        """
        index_of: dict[int, int] = {}
        groups, start = [], 0
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            # within the group the last appearance numbers a parameter, across groups the first, as PyTorch's
            index_of.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index_of})
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(group["params"])
            groups.append(packed)
        state = {index_of[id(p)]: dict(values) for p, values in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` of an optimizer of the same
        kind whose groups hold as many parameters.  Arrays are copied onto each parameter's device
        and dtype; the optimizer is left unchanged if the dict does not fit."""
        name = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups' entries "
                             f"(as state_dict() returns)")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}, the optimizer has {len(self.param_groups)})")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}: loaded state dict contains a parameter group that doesn't match the "
                                 f"size of optimizer's group (group {i} has {len(saved['params'])} parameter(s) in "
                                 f"the state dict, {len(group['params'])} in the optimizer)")

        param_of = {index: p for saved, group in zip(saved_groups, self.param_groups)
                    for index, p in zip(saved["params"], group["params"])}
        state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(f"{name}: the state dict has state for parameter {index!r}, "
                                 f"which none of its parameter groups lists")
            p = param_of[index]
            state[p] = {key: self._load_state_value(key, value, p, f"{name}: state {key!r} of parameter {index}")
                        for key, value in values.items()}

        self.state = state
        self.param_groups = [{**self._missing_options(saved),
                              **copy.deepcopy({k: v for k, v in saved.items() if k != "params"}),
                              "params": group["params"]}
                             for saved, group in zip(saved_groups, self.param_groups)]

    #: what PyTorch fills in for the flags that older state dicts lack (not the optimizer's own values)
    _legacy_options = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                       "fused": None, "amsgrad": False, "nesterov": False, "decoupled_weight_decay": False}

    def _missing_options(self, saved: dict) -> dict:
        """Options of ``defaults`` that a saved group lacks (a dict from an older PyTorch)."""
        return {key: self._legacy_options.get(key, value) for key, value in self.defaults.items() if key not in saved}

    #: counters that a built-in optimizer keeps as 0-d tensors of PyTorch's scalar dtype (an older
    #: dict's plain numbers become such tensors there); a custom optimizer's numbers load as they are
    _scalar_state = frozenset()

    def _load_state_value(self, key, value, param, what):
        """A state value from a state dict, made to fit ``param`` as PyTorch makes it: ``step`` keeps
        a tensor's dtype (on the host), other 0-d tensors take the parameter's dtype and device, arrays
        are copied onto them (checked to have the parameter's shape), numbers are kept (but see
        ``_scalar_state``)."""
        if isinstance(value, Tensor) or backend.is_array(value):
            array = value._data if isinstance(value, Tensor) else value
            if key == "step":
                host = backend.to_device(array, backend.device("cpu"))
                return Tensor._wrap(np.array(host, dtype=host.dtype).reshape(()))
            if key in self._scalar_state or array.ndim == 0:
                dtype = param.dtype if param.dtype.kind == "f" else array.dtype
                return Tensor._wrap(backend.to_device(array, param.device).astype(dtype, copy=True).reshape(()))
            return _loaded_value(value, param, what)
        if key in self._scalar_state:
            return scalar_state(value)
        return copy.deepcopy(value)

    def __repr__(self):
        text = f"{self._name} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"


def _add_hook(store, hook, prepend=False):
    from ..autograd import RemovableHandle
    key = max(store, default=0) + 1
    store[key] = hook
    if prepend:
        store.move_to_end(key, last=False)
    return RemovableHandle(functools.partial(store.pop, key, None))


#: hooks every optimizer's step runs (``register_optimizer_step_pre_hook`` and ``..._post_hook``)
_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs)`` before every optimizer's ``step`` (before the optimizer's
    own pre-hooks); it may return ``(args, kwargs)``.  Returns a removable handle."""
    return _add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` after every optimizer's ``step`` (after its own post-hooks)."""
    return _add_hook(_global_step_post_hooks, hook)


def _hooks(optimizer, kind):
    return list(optimizer.__dict__.get(kind, {}).values())


def _outermost(method):
    """Runs ``hooked(self, ...)`` for the outermost call of ``method`` and plain ``method`` for the
    calls a subclass's override makes through ``super()``, so hooks run once per call."""
    def decorate(hooked):
        flag = f"_in_{method.__name__}"

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if self.__dict__.get(flag):
                return method(self, *args, **kwargs)
            self.__dict__[flag] = True
            try:
                return hooked(self, *args, **kwargs)
            finally:
                self.__dict__[flag] = False
        return wrapper
    return decorate


def _with_state_dict_hooks(state_dict):
    @_outermost(state_dict)
    def hooked(self):
        for hook in _hooks(self, "_state_dict_pre_hooks"):
            hook(self)
        out = state_dict(self)
        for hook in _hooks(self, "_state_dict_post_hooks"):
            result = hook(self, out)
            out = out if result is None else result
        return out
    return hooked


def _with_load_state_dict_hooks(load_state_dict):
    @_outermost(load_state_dict)
    def hooked(self, state_dict):
        state_dict = dict(state_dict)        # a shallow copy, as PyTorch's, that pre-hooks may edit
        for hook in _hooks(self, "_load_state_dict_pre_hooks"):
            result = hook(self, state_dict)
            state_dict = state_dict if result is None else result
        load_state_dict(self, state_dict)
        for hook in _hooks(self, "_load_state_dict_post_hooks"):
            hook(self)
    return hooked


def _with_step_hooks(step):
    """``step`` that first calls the global and the optimizer's step pre-hooks and then its and
    the global post-hooks (once, even when a subclass's step calls ``super().step()``)."""
    @functools.wraps(step)
    def hooked(self, *args, **kwargs):
        if self.__dict__.get("_in_step"):
            return step(self, *args, **kwargs)
        self.__dict__["_opt_called"] = True      # for the schedulers' check that the optimizer stepped first
        args = (self, *args)                     # as in PyTorch, the hooks' args start with the optimizer
        for hook in [*_global_step_pre_hooks.values(), *_hooks(self, "_step_pre_hooks")]:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{type(self).__name__}: a step pre-hook must return None or (args, kwargs), "
                                       f"got {result!r}")
                args, kwargs = result
        self.__dict__["_in_step"] = True
        try:
            out = step(*args, **kwargs)
        finally:
            self.__dict__["_in_step"] = False
        for hook in [*_hooks(self, "_step_post_hooks"), *_global_step_post_hooks.values()]:
            hook(self, args, kwargs)
        return out
    return hooked


def _loaded_value(value, param, what, shape=None):
    """An array-valued state entry copied onto ``param``'s device and dtype (checked to have its
    shape, or ``shape`` where the entry has another)."""
    if isinstance(value, Tensor):
        value = value._data
    if not backend.is_array(value):
        return copy.deepcopy(value)
    shape = tuple(param.shape) if shape is None else tuple(shape)
    if tuple(value.shape) != shape:
        raise ValueError(f"{what} has shape {tuple(value.shape)} but should have shape {shape}")
    return Tensor._wrap(backend.to_device(value, param.device).astype(param.dtype, copy=True))


def refuse_unsupported(name, **flags):
    """PyTorch's CUDA-graph (``capturable``) and autograd-through-the-step (``differentiable``)
    modes have no meaning here: the update is plain array code outside the graph."""
    for flag, value in flags.items():
        if value:
            raise ValueError(f"{name}: {flag}=True is not supported by minigrad (the update is plain array code)")


def check_fused(fused, foreach, differentiable=False) -> None:
    """PyTorch's refusals of ``fused`` combined with the other implementation switches."""
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def scalar_state(value=0.0) -> Tensor:
    """A 0-d host tensor of PyTorch's scalar dtype (float64 when that is the default dtype, else
    float32), in which PyTorch keeps counters such as ``step`` (and NAdam's ``mu_product``)."""
    dtype = np.float64 if backend.get_default_dtype() == np.float64 else np.float32
    return Tensor._wrap(np.array(value, dtype=dtype))


def count_step(state: dict) -> float:
    """Add one to ``state["step"]`` in place (a 0-d tensor, as in PyTorch; made one if a number
    was put there) and return the new count."""
    step = state["step"]
    if not isinstance(step, Tensor):
        step = state["step"] = scalar_state(float(step))
    step._data += 1
    return float(step._data)


def zeros_like_param(p: Tensor) -> Tensor:
    """A zero buffer of ``p``'s shape, dtype and device (optimizer state)."""
    return Tensor._wrap(backend.xp_of(p._data).zeros_like(p._data))


# ----------------------------------------------------------------------------- the Adam family's shared steps
def check_lr(lr, message="Invalid learning rate: {}") -> None:
    """Every optimizer's check of its learning rate (a number, or a one-element Tensor)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(message.format(lr))


def check_adam_hyperparameters(lr, betas, eps, weight_decay):
    """The checks (and PyTorch's messages) that Adam, AdamW, Adamax, NAdam and RAdam share."""
    check_lr(lr)
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def decayed_gradient(param, grad, *, lr, weight_decay, maximize, decoupled=False):
    """The gradient a step uses: g = -grad if maximize else grad; with ``weight_decay`` either the
    weights shrink in place, param *= 1 - lr * weight_decay (``decoupled``: AdamW and kin), or
    g = g + weight_decay * param (an L2 penalty's gradient).  Returns g."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled:
            param *= 1.0 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    return grad


def tensor_lr_decay(group: dict, options: dict):
    """PyTorch computes the decoupled decay factor 1 - lr * weight_decay in the dtype of a Tensor
    lr (float32, say, beside float64 parameters).  For such a group this returns that factor, for
    the caller to apply before the update, and sets ``options``' weight_decay to 0; else None."""
    lr = group["lr"]
    if not isinstance(lr, Tensor) or not options.get("decoupled_weight_decay") or options["weight_decay"] == 0:
        return None
    factor = 1 - lr._data.reshape(()) * options["weight_decay"]       # NumPy keeps the lr's dtype here
    options["weight_decay"] = 0.0
    return float(factor)


def update_first_moment(grad, exp_avg, beta1):
    """m += (1 - beta1)(g - m), in place (PyTorch's form, a lerp); returns a scratch array of g's shape."""
    scratch = backend.xp_of(grad).subtract(grad, exp_avg)
    scratch *= 1.0 - beta1
    exp_avg += scratch
    return scratch


def update_second_moment(grad, exp_avg_sq, beta2, scratch):
    """v = beta2 v + (1 - beta2) g^2, in place, through ``scratch``."""
    backend.xp_of(grad).multiply(grad, grad, out=scratch)
    scratch *= 1.0 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch


_HOOKED = {"step": _with_step_hooks, "state_dict": _with_state_dict_hooks,
           "load_state_dict": _with_load_state_dict_hooks}
for _name, _wrap in _HOOKED.items():
    setattr(Optimizer, _name, _wrap(getattr(Optimizer, _name)))
