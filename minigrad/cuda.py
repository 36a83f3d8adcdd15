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
    """Seed the current GPU's default generator; without a usable GPU this does nothing, as
    PyTorch's (a seed-everything helper calls it on any machine)."""
    if is_available():
        backend.default_generator(backend.device("cuda")).manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed the default generator of every GPU (the current one and any other used so far);
    without a usable GPU this does nothing, as PyTorch's."""
    manual_seed(seed)
    for gen in backend.default_generators("cuda"):
        gen.manual_seed(seed)


def empty_cache() -> None:
    """Give CuPy's cached, unused GPU memory back to the driver (nothing to do without a GPU)."""
    if is_available():
        backend.cupy().get_default_memory_pool().free_all_blocks()
