"""``minigrad.random``: torch.random's names for the default generator's seed and state, and
``fork_rng``, which lets a block draw random numbers without moving the stream outside it."""
from __future__ import annotations

import contextlib

from .backend import manual_seed
from .utilities import get_rng_state, initial_seed, seed, set_rng_state

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Save the CPU default generator's state on entry and restore it on exit (also when the
    block raises), as ``torch.random.fork_rng``: draws inside the block leave the draws after
    it unchanged.  ``devices`` and ``device_type`` are accepted for PyTorch's signature; minigrad's
    GPU generators keep no state to save, so GPU draws inside the block still advance them."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
