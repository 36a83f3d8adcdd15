"""Scatter-add: the backward of every gather (indexing, index_select, embedding lookups).

    out[index[i], :] += src[i, :]      for i in range(N)

``out`` is (R, C), ``index`` is (N,) integers in [0, R), ``src`` is (N, C).  Repeated
indices accumulate, which is exactly why this cannot be ``out[index] += src`` in NumPy
(that keeps only the last write).  Callers flatten their problem to this 2-D form.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import (PARALLEL_MIN_ELEMENTS, check_contiguous, check_float, check_index, check_same_device,
                      contiguous, is_numpy)

_COLUMN_BLOCK = 64


def index_add_rows_ref(out, index, src):
    """The NumPy reference (``np.add.at``), in place on ``out``."""
    np.add.at(out, index, src)
    return out


@njit(cache=True, nogil=True)
def _index_add_rows_serial(out, index, src):
    n_cols = out.shape[1]
    for i in range(index.shape[0]):
        row = index[i]
        for j in range(n_cols):
            out[row, j] += src[i, j]


@njit(cache=True, nogil=True, parallel=True)
def _index_add_rows_parallel(out, index, src):
    # Threads own disjoint column blocks, so repeated rows never race.
    n_cols = out.shape[1]
    n_blocks = (n_cols + 63) // 64
    for b in prange(n_blocks):
        start = b * 64
        stop = min(start + 64, n_cols)
        for i in range(index.shape[0]):
            row = index[i]
            for j in range(start, stop):
                out[row, j] += src[i, j]


def index_add_rows(out, index, src):
    """``out[index[i]] += src[i]`` for every i, in place; returns ``out``.

    ``out`` (R, C) and ``src`` (N, C) share a float dtype and a device; ``index`` is (N,).
    """
    check_float("index_add_rows", out, src)
    check_same_device("index_add_rows", out, index, src)
    if out.ndim != 2 or src.ndim != 2 or index.ndim != 1:
        raise ValueError(f"index_add_rows: expected out (R, C), index (N,), src (N, C); got "
                         f"{out.shape}, {index.shape}, {src.shape}")
    if src.shape != (index.shape[0], out.shape[1]):
        raise ValueError(f"index_add_rows: src has shape {src.shape}, expected {(index.shape[0], out.shape[1])}")
    check_index("index_add_rows", index, out.shape[0])
    if not is_numpy(out):
        import cupyx
        cupyx.scatter_add(out, index, src)
        return out
    check_contiguous("index_add_rows", out)
    src = contiguous(src)
    index = np.ascontiguousarray(index, dtype=np.int64)
    if src.size >= PARALLEL_MIN_ELEMENTS and out.shape[1] >= 2 * _COLUMN_BLOCK:
        _index_add_rows_parallel(out, index, src)
    else:
        _index_add_rows_serial(out, index, src)
    return out
