"""``minigrad.cuda``: is a GPU usable, how many, wait for it, seed it.  As PyTorch's, the seeding
and cache calls are safe without a GPU (they do nothing), so a seeding helper runs anywhere."""
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
    """Seed the current GPU's generator; ignored without a GPU, as PyTorch's."""
    if is_available():
        backend.default_generator(backend.device("cuda")).manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator; ignored without a GPU, as PyTorch's."""
    for index in range(device_count()):
        backend.default_generator(backend.device(f"cuda:{index}")).manual_seed(seed)


def current_device() -> int:
    """The index of the current GPU (raises without one, as PyTorch's)."""
    if not is_available():
        backend.cupy()                  # raises the message that says what to install
    return backend.cupy().cuda.Device().id


def empty_cache() -> None:
    """Give CuPy's cached, unused GPU memory back to the driver; nothing to do without a GPU."""
    if is_available():
        backend.cupy().get_default_memory_pool().free_all_blocks()
