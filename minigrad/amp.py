"""``minigrad.amp`` (as ``torch.amp``, and ``torch.cuda.amp``'s old names): ``autocast`` and
``GradScaler``.

Loss scaling guards float16 gradients against underflow: backward runs on ``loss * S``, the
gradients are divided by ``S`` again before the step, and a step whose gradients hold an inf or
a NaN (the scale was too large) is skipped while ``S`` is halved; after ``growth_interval`` clean
steps ``S`` doubles.  minigrad trains in the tensors' own dtypes (``autocast`` casts nothing), so
with float32 the scaler changes no step that does not overflow; it is here so that mixed-precision
training loops run unchanged, with PyTorch's state, schedule and skipping rule.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import backend
from .tensor import Tensor
from .utilities import autocast

__all__ = ["GradScaler", "autocast"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


_F32_MAX = float(np.finfo(np.float32).max)


def _f32(value) -> float:
    return float(np.float32(value))


class GradScaler:
    """PyTorch's ``GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)``.  As in PyTorch, a scaler for
    "cuda" on a machine without a usable GPU warns and disables itself (every method then passes
    through: ``scale`` returns its input, ``step`` just steps)."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if enabled and str(device).startswith("cuda") and not backend.cuda_is_available():
            warnings.warn("GradScaler is enabled, but CUDA is not available.  Disabling.", stacklevel=2)
            enabled = False
        if enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
            if not 0.0 < backoff_factor < 1.0:
                raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
            if int(growth_interval) <= 0:
                raise ValueError(f"GradScaler: growth_interval must be a positive integer, got {growth_interval}")
        self._device, self._enabled = str(device), bool(enabled)
        self._scale = _f32(init_scale)             # a float32 number, as PyTorch's scale tensor
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval, self._growth_tracker = int(growth_interval), 0
        self._per_optimizer = {}          # id(optimizer) -> {"stage": ..., "found_inf": bool}

    # -- scaling
    def scale(self, outputs):
        """``outputs * scale``: a Tensor, or (nested) lists and tuples of them."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * outputs._data.dtype.type(self._scale)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of Tensors, got "
                         f"{type(outputs).__name__}")

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})

    def unscale_(self, optimizer):
        """Divide the gradients of ``optimizer``'s parameters by the scale, in place, and note
        whether any holds an inf or a NaN (then ``step`` skips this optimizer)."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = _f32(1.0 / self._scale)
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                xp = backend.xp_of(g)
                if not bool(xp.isfinite(g).all()):
                    found = True
                g *= g.dtype.type(inv)
        state["found_inf"], state["stage"] = found, _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless ``unscale_`` already did) and step, unless the gradients overflowed;
        returns what ``optimizer.step`` returns (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None):
        """The next scale: ``new_scale`` if given; else times ``backoff_factor`` if any optimizer's
        gradients overflowed since the last update, times ``growth_factor`` after
        ``growth_interval`` clean updates in a row (unless that overflows float32)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = _f32(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        else:
            if not self._per_optimizer:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in self._per_optimizer.values()):
                self._scale = _f32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = self._scale * self._growth_factor
                    if grown <= _F32_MAX:              # PyTorch grows only to a finite scale
                        self._scale = _f32(grown)
                    self._growth_tracker = 0
        self._per_optimizer = {}

    # -- settings and state
    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict:
        """PyTorch's keys (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = _f32(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict.get("_growth_tracker", 0))
