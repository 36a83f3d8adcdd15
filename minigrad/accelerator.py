"""``minigrad.accelerator`` (PyTorch's ``torch.accelerator``): the one accelerator minigrad knows,
a CUDA GPU through CuPy.  PyTorch's tutorials pick their device with it::

    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
"""
from __future__ import annotations

from . import backend, cuda


def is_available() -> bool:
    """True when a CUDA GPU is usable (CuPy installed and a GPU seen)."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """``device('cuda')`` when CuPy is installed and sees a GPU, else None (PyTorch's answer on a
    machine without an accelerator).  ``check_available`` is PyTorch's; the answer is the same."""
    return backend.device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def current_device_index() -> int:
    return cuda.current_device()


current_device_idx = current_device_index


def synchronize(device=None) -> None:
    """Wait for the GPU's queued kernels (nothing to wait for without one)."""
    cuda.synchronize()
