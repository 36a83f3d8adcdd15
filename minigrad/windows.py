"""Window functions (``torch.hann_window`` and friends), for spectral work and smooth schedules.

For a window of length N, with M = N - 1 (symmetric) or M = N (``periodic=True``, the default:
the first N points of the symmetric window of length N + 1, as a DFT-even window) and n = 0..N-1:

    hann      1/2 - 1/2 cos(2 pi n / M)
    hamming   alpha - beta cos(2 pi n / M)                      (alpha 0.54, beta 0.46)
    blackman  0.42 - 0.5 cos(2 pi n / M) + 0.08 cos(4 pi n / M)
    bartlett  1 - |2 n / M - 1|
    kaiser    I0(beta sqrt(1 - (2 n / M - 1)^2)) / I0(beta)     (beta 12)

A window of length 1 is [1]; of length 0, empty.  Computed in float64, returned in ``dtype``
(the default float type unless given).  They take no gradient.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .tensor import Tensor

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def _window(opname, window_length, periodic, dtype, device, requires_grad, shape):
    """Validate, then ``shape(n / M)`` on n = 0..N-1 as a Tensor of ``dtype``."""
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)) or window_length < 0:
        raise ValueError(f"{opname}: window_length must be a non-negative integer, got {window_length!r}")
    dt = backend.as_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    if dt.kind != "f":
        raise TypeError(f"{opname}: expected a floating point dtype, got {dt}")
    n = int(window_length)
    if n <= 1:
        values = np.ones(n)
    else:
        m = n if periodic else n - 1
        values = shape(np.arange(n) / m)
    t = Tensor._wrap(backend.array_module(backend.device(device)).asarray(values.astype(dt)))
    if requires_grad:
        t.requires_grad = True
    return t


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: 0.5 - 0.5 * np.cos(2 * np.pi * x))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: alpha - beta * np.cos(2 * np.pi * x))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: 0.42 - 0.5 * np.cos(2 * np.pi * x) + 0.08 * np.cos(4 * np.pi * x))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: 1.0 - np.abs(2.0 * x - 1.0))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: np.i0(beta * np.sqrt(np.clip(1.0 - (2.0 * x - 1.0) ** 2, 0.0, None))) / np.i0(beta))
