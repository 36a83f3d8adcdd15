"""How parallel ops use the CPU: one pool of worker threads, chunks of the batch sized for the
cache, and BLAS held to one thread while the workers run.  The math lives in the op files; this
is the policy they share (Numba's own thread pool for the compiled kernels is configured in
``kernels/_common.py``).

An op splits its batch with :func:`chunks`, then hands a ``work(a, b, worker)`` function to
:func:`run_chunks`: on the CPU the chunks are shared among one Python thread per core, each
running its gathers and a single-threaded BLAS, so that no thread pool spins against another
(measured on the 64->64 3x3 convolution, batch 32: 78 ms against 107 ms with one thread and a
two-threaded BLAS).  ``MINIGRAD_NUM_THREADS`` sets the number of workers.
"""
from __future__ import annotations

import os

import numpy as np

# bytes of temporaries (im2col columns, Winograd tiles) per chunk of the batch.  On the CPU about
# the size of a core's L2 cache (measured on ResNet-18's 64->64 layer, batch 32: 38 ms at 2 MB,
# 44 ms at 4 MB, 47 ms at 8 MB); on the GPU larger chunks mean fewer launches.
CPU_CHUNK_BYTES = 2 << 20
GPU_CHUNK_BYTES = 4 << 20

_workers = None


def _threads():
    """(pool, BLAS controller, size): one worker per core, created on first use."""
    global _workers
    if _workers is None:
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import ThreadpoolController
        n = int(os.environ.get("MINIGRAD_NUM_THREADS") or os.cpu_count() or 1)
        _workers = (ThreadPoolExecutor(max_workers=n, thread_name_prefix="minigrad-conv"), ThreadpoolController(), n)
    return _workers


def get_num_threads() -> int:
    """The number of threads minigrad's CPU ops use (``torch.get_num_threads``): the workers of
    the pool above, ``MINIGRAD_NUM_THREADS`` or one per core."""
    return _workers[2] if _workers is not None else int(os.environ.get("MINIGRAD_NUM_THREADS") or os.cpu_count() or 1)


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for CPU work (``torch.set_num_threads``): the pool of workers above is
    remade with ``n`` workers, BLAS is limited to ``n`` threads (threadpoolctl, for the whole
    process), and Numba's pool to ``n`` (at most its ``NUMBA_NUM_THREADS``; Numba applies it to
    the calling thread, and to kernels first loaded later through ``MINIGRAD_NUM_THREADS``,
    which is set to ``n`` too)."""
    global _workers
    import sys
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    n = int(n)
    os.environ["MINIGRAD_NUM_THREADS"] = str(n)
    if _workers is not None:
        _workers[0].shutdown(wait=True)
        _workers = None
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=n, user_api="blas")
    if __package__ + ".kernels._common" in sys.modules:
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def worker_count(xp) -> int:
    """How many workers share a batch: one per core on the CPU, 1 on the GPU (its own parallelism)."""
    return _threads()[2] if xp is np else 1


def one_blas_thread():
    """A context in which BLAS runs on the calling thread only: a threaded BLAS call just before
    the workers start leaves its pool spinning on the cores the workers need (OpenBLAS's idle
    threads spin for a while after a call: a 2-thread filter transform before each Winograd layer
    made a ResNet-18 step 45% slower)."""
    return _threads()[1].limit(limits=1, user_api="blas")


def chunks(n, bytes_per_sample, xp):
    """Sample ranges ``(a, b)`` whose temporaries fit the device's chunk budget, as few and as large
    as that permits; on the CPU in a multiple of the workers, of near-equal sizes so that every
    worker gets the same amount of work."""
    if n == 0:                      # an empty batch: nothing to compute (and no division by zero)
        return []
    parts = worker_count(xp)
    budget = CPU_CHUNK_BYTES if xp is np else GPU_CHUNK_BYTES
    per_chunk = max(1, budget // max(bytes_per_sample, 1))
    count = -(-n // per_chunk)
    count = min(n, -(-count // parts) * parts)
    bounds = [round(k * n / count) for k in range(count + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def run_chunks(ranges, work, on_cpu):
    """Call ``work(a, b, worker)`` for every chunk; on the CPU spread over the worker threads
    (BLAS held to one thread each).  Returns the number of workers used: ``worker`` is below it,
    so per-worker partial sums ``parts[:used]`` hold every contribution."""
    if not on_cpu or len(ranges) < 2:
        for a, b in ranges:
            work(a, b, 0)
        return 1
    pool, blas, n = _threads()
    n = min(n, len(ranges))
    if n == 1:
        for a, b in ranges:
            work(a, b, 0)
        return 1

    def run(k):
        for a, b in ranges[k::n]:
            work(a, b, k)
    with blas.limit(limits=1, user_api="blas"):
        for future in [pool.submit(run, k) for k in range(n)]:
            future.result()
    return n
