"""Drawers: where an op's test inputs come from.

The op registry describes each op's inputs once, as a function of a *drawer*.  Two drawers
implement the same small interface:

* :class:`RandomDrawer` draws from a seeded NumPy generator (``python -m minigrad gradcheck``
  and anything else that must not depend on hypothesis);
* ``HypothesisDrawer`` (in :mod:`minigrad.testing.strategies`) draws through hypothesis, so the
  same description drives property-based tests that shrink to a minimal failing case.

Float domains keep inputs where an op is smooth, so finite differences are meaningful:

========== ==================================================================
real       uniform in [-2, 2]
positive   in [0.25, 2]              (log, sqrt, pow bases)
nonzero    +-[0.25, 2]               (abs, relu, division: away from the kink/pole)
unit       in [-0.9, 0.9]
grid       multiples of 1/8 in [-2, 2]
offgrid    1/16 + multiples of 1/8   (never within 1/16 of a grid value: clamp and
                                      maximum draw one side from each, so no ties)
========== ==================================================================

``unique=True`` draws distinct values at least 1/16 apart (max, min, sort-like ops: no ties).
"""
from __future__ import annotations

import numpy as np

DOMAINS = {
    "real": (-2.0, 2.0),
    "positive": (0.25, 2.0),
    "nonzero": (0.25, 2.0),
    "unit": (-0.9, 0.9),
}
GRID = 8            # grid step 1/8
UNIQUE_STEP = 16    # unique values are multiples of 1/16


def _size(shape):
    return int(np.prod(shape)) if shape else 1


class Drawer:
    """The interface the registry draws through (see the module docstring)."""

    def integers(self, lo: int, hi: int) -> int:             # inclusive bounds
        raise NotImplementedError

    def boolean(self) -> bool:
        return bool(self.integers(0, 1))

    def choice(self, options):
        options = list(options)
        return options[self.integers(0, len(options) - 1)]

    def shape(self, min_dims=0, max_dims=3, min_side=1, max_side=4) -> tuple:
        ndim = self.integers(min_dims, max_dims)
        return tuple(self.integers(min_side, max_side) for _ in range(ndim))

    def broadcast_shapes(self, n, min_dims=0, max_dims=3, min_side=1, max_side=4):
        """``n`` shapes that broadcast together, and their result."""
        result = self.shape(min_dims, max_dims, min_side, max_side)
        shapes = []
        for _ in range(n):
            drop = self.integers(0, len(result))
            shapes.append(tuple(1 if self.integers(0, 3) == 0 else s for s in result[drop:]))
        return shapes, result

    def floats(self, shape, domain="real", unique=False, dtype=np.float64) -> np.ndarray:
        raise NotImplementedError

    def index_array(self, shape, size: int) -> np.ndarray:
        """Integer indices in ``[-size, size)`` (negative ones count from the end), repeats allowed."""
        n = _size(shape)
        return np.array([self.integers(-size, size - 1) for _ in range(n)], dtype=np.int64).reshape(shape)

    def mask(self, shape) -> np.ndarray:
        n = _size(shape)
        return np.array([self.boolean() for _ in range(n)], dtype=bool).reshape(shape)

    def permutation(self, n: int) -> list:
        items = list(range(n))
        out = []
        while items:
            out.append(items.pop(self.integers(0, len(items) - 1)))
        return out


def finish_floats(values, domain, dtype):
    """Map raw draws to a domain: signs for 'nonzero', grid scaling for the grids."""
    values = np.asarray(values, dtype=np.float64)
    if domain == "grid":
        values = values / GRID
    elif domain == "offgrid":
        values = values / GRID + 1 / (2 * GRID)
    return values.astype(dtype)


class RandomDrawer(Drawer):
    """Draws from ``numpy.random.default_rng(seed)``: reproducible, no hypothesis needed."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def integers(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def floats(self, shape, domain="real", unique=False, dtype=np.float64):
        n = _size(shape)
        if unique:
            span = max(n, 2 * UNIQUE_STEP)
            ks = self.rng.permutation(np.arange(-span, span))[:n]
            return (ks / UNIQUE_STEP).reshape(shape).astype(dtype)
        if domain in ("grid", "offgrid"):
            raw = self.rng.integers(-2 * GRID, 2 * GRID, size=n, endpoint=True)
        else:
            lo, hi = DOMAINS[domain]
            raw = self.rng.uniform(lo, hi, size=n)
            if domain == "nonzero":
                raw = raw * self.rng.choice([-1.0, 1.0], size=n)
        return finish_floats(raw, domain, dtype).reshape(shape)
