"""The one way ops reach the compiled kernels: ``kernels("conv").im2col(...)``.

``minigrad.kernels.<family>`` is imported on the first call, not with minigrad, so that
``import minigrad`` never imports Numba; later calls find the module in the cache.
"""
from __future__ import annotations

import functools
import importlib


@functools.cache
def kernels(family: str):
    """The kernel module ``minigrad.kernels.<family>`` (``conv``, ``pool``, ``scatter``, ...)."""
    return importlib.import_module(f"minigrad.kernels.{family}")
