"""``minigrad.accelerator``: torch.accelerator's device-agnostic questions.  minigrad's one kind
of accelerator is a CUDA GPU through CuPy, so these answer from :mod:`minigrad.cuda`; the
idiom ``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else
"cpu"`` then picks "cuda" or "cpu"."""
from __future__ import annotations

from . import backend, cuda

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "synchronize"]


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """The accelerator's device type as a device (``device(type='cuda')``), or None without one."""
    return backend.device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def current_device_index() -> int:
    return 0 if cuda.is_available() else -1


def synchronize(device=None) -> None:
    cuda.synchronize()
