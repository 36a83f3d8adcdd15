"""The older spectral normalisation, as ``torch.nn.utils.spectral_norm`` / ``remove_spectral_norm``:
parameter ``<name>_orig``, buffers ``<name>_u`` and ``<name>_v``, and a forward pre-hook that sets
``module.<name> = orig / sigma`` (with one power-iteration step per call in training mode)."""
from __future__ import annotations

from ... import backend
from ...autograd import no_grad
from ...creation import as_tensor
from ...errors import ArgumentError
from ...ops.distance import normalize
from ...tensor import Tensor
from ..parameter import Parameter
from ._norms import conv_transpose_dim, power_iteration, to_matrix

__all__ = ["spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ArgumentError(f"spectral_norm: expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        W = to_matrix(weight, self.dim)
        if do_power_iteration:
            with no_grad():
                nu, nv = power_iteration(W.detach(), u, v, self.n_power_iterations, self.eps, v_first=True)
                u._data, v._data = nu._data, nv._data
        u, v = u.detach().clone(), v.detach().clone()
        sigma = (u * (W @ v)).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


class _StateDictHook:
    """Records ``{"<name>.version": 1}`` under ``spectral_norm`` in the module's state_dict metadata."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        versions = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = 1


class _LoadStateDictPreHook:
    """Reads a checkpoint saved before version 1 (``<name>`` saved, ``<name>_v`` not): solves for the
    ``v`` that gives the saved weight, as PyTorch does.  A recent checkpoint without metadata passes."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        version = local_metadata.get("spectral_norm", {}).get(self.fn.name + ".version")
        if version is not None and version >= 1:
            return
        key = prefix + self.fn.name
        if version is None and key not in state_dict and all(key + s in state_dict for s in ("_orig", "_u", "_v")):
            return
        missing = [key + s for s in ("_orig", "", "_u") if key + s not in state_dict]
        if missing:
            if strict:
                missing_keys.extend(missing)
            return
        with no_grad():
            orig, weight, u = (_as_tensor(state_dict[k]) for k in (key + "_orig", key, key + "_u"))
            state_dict.pop(key)
            sigma = (orig / weight).mean()
            W = to_matrix(orig, self.fn.dim)
            v = (W.T @ W).pinverse() @ W.T @ u                 # least squares: W v = u
            state_dict[key + "_v"] = v * (sigma / (u * (W @ v)).sum())


def _as_tensor(value):
    return value if isinstance(value, Tensor) else as_tensor(value)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ArgumentError(f"spectral_norm: module {type(module).__name__} has no parameter {name!r}")
    fn = SpectralNorm(name, n_power_iterations, conv_transpose_dim(module) if dim is None else dim, eps)
    with no_grad():
        h, w = to_matrix(weight.detach(), fn.dim).shape
        u = normalize(Tensor._wrap(backend.random_normal((h,), weight.dtype, weight.device)), dim=0, eps=eps)
        v = normalize(Tensor._wrap(backend.random_normal((w,), weight.dtype, weight.device)), dim=0, eps=eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    object.__setattr__(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    module._register_state_dict_hook(_StateDictHook(fn))
    module._register_load_state_dict_pre_hook(_LoadStateDictPreHook(fn))
    return module


def remove_spectral_norm(module, name="weight"):
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            with no_grad():
                weight = hook.compute_weight(module, do_power_iteration=False)
            del module._forward_pre_hooks[key]
            module.__dict__.pop(name, None)
            del module._parameters[name + "_orig"], module._buffers[name + "_u"], module._buffers[name + "_v"]
            module.register_parameter(name, Parameter(weight.detach()))
            for store in (module._state_dict_hooks, module._load_state_dict_pre_hooks):
                for k, h in list(store.items()):
                    if isinstance(h, (_StateDictHook, _LoadStateDictPreHook)) and h.fn.name == name:
                        del store[k]
            return module
    raise ArgumentError(f"spectral_norm of '{name}' not found in {module}")
