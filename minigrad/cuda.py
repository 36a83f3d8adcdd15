"""``minigrad.cuda``: is a GPU usable, how many, wait for it."""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return backend.cuda_is_available()


def device_count() -> int:
    return backend.cupy().cuda.runtime.getDeviceCount() if is_available() else 0


def synchronize() -> None:
    """Wait until every queued GPU kernel has finished (for timing)."""
    if is_available():
        backend.cupy().cuda.get_current_stream().synchronize()


def manual_seed(seed: int) -> None:
    backend.default_generator(backend.device("cuda")).manual_seed(seed)
