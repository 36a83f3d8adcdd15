"""Keep freed memory for reuse instead of returning it to the system at once (Linux, glibc).

Every op allocates its result, and glibc's defaults hand large freed blocks straight back to
the kernel, so the next array of that size is faulted in again page by page: on a 4 MB
elementwise op that costs more than the arithmetic.  Like PyTorch's caching allocator on
GPUs (and the jemalloc/tcmalloc PyTorch recommends on CPUs), minigrad asks glibc to keep up
to ``TRIM_THRESHOLD`` bytes of freed memory.  Set ``MINIGRAD_MALLOC_TUNING=0``, or any of
glibc's own ``MALLOC_*_`` variables, to keep the defaults.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MMAP_THRESHOLD = 32 << 20      # glibc's maximum: blocks below it come from the reusable heap
TRIM_THRESHOLD = 512 << 20     # free memory kept at the top of the heap
TOP_PAD = 64 << 20             # grow the heap in large steps

tuned = False


def tune():
    """Apply the settings once; returns whether they are in effect."""
    global tuned
    if tuned or not sys.platform.startswith("linux"):
        return tuned
    if os.environ.get("MINIGRAD_MALLOC_TUNING", "1") == "0" or any(k.startswith("MALLOC_") and k.endswith("_")
                                                                    for k in os.environ):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):       # not glibc (musl, ...): nothing to do
        return False
    tuned = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                 and mallopt(M_TOP_PAD, TOP_PAD))
    return tuned
