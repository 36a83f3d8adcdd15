"""Hypothesis strategies for property-based gradient tests (needs ``pip install hypothesis``).

For your own ops::

    from hypothesis import given
    from minigrad.testing import strategies as mst

    @given(mst.tensors(shape=mst.shapes(max_dims=2), domain="positive"))
    def test_my_log(x):
        assert minigrad.gradcheck(my_log, (x,))

``tensors`` draws float64 tensors that require grad; ``broadcastable_tensors(n)`` draws ``n``
tensors whose shapes broadcast together; ``HypothesisDrawer`` lets the op registry draw
through hypothesis, so failures shrink to a minimal example.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

from .draw import DOMAINS, GRID, UNIQUE_STEP, Drawer, finish_floats

__all__ = ["shapes", "arrays", "tensors", "broadcastable_tensors", "HypothesisDrawer", "drawer"]


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def _elements(domain):
    if domain in ("grid", "offgrid"):
        return st.integers(-2 * GRID, 2 * GRID)
    lo, hi = DOMAINS[domain]
    floats = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    if domain == "nonzero":
        return st.tuples(floats, st.booleans()).map(lambda p: -p[0] if p[1] else p[0])
    return floats


@st.composite
def arrays(draw, shape, domain="real", unique=False, dtype=np.float64):
    """Float arrays in a domain of :mod:`minigrad.testing.draw` (``unique``: no ties)."""
    if not isinstance(shape, tuple):
        shape = draw(shape)
    n = int(np.prod(shape)) if shape else 1
    if unique:
        span = max(n, 2 * UNIQUE_STEP)
        ks = draw(hnp.arrays(np.int64, n, elements=st.integers(-span, span - 1), unique=True))
        return (ks / UNIQUE_STEP).reshape(shape).astype(dtype)
    if domain in ("grid", "offgrid", "nonzero"):
        raw = draw(st.lists(_elements(domain), min_size=n, max_size=n))
        return finish_floats(np.array(raw, dtype=np.float64), domain, dtype).reshape(shape)
    return draw(hnp.arrays(np.float64, shape, elements=_elements(domain), fill=st.nothing())).astype(dtype)


@st.composite
def tensors(draw, shape=None, domain="real", unique=False, dtype=np.float64, requires_grad=True):
    """minigrad Tensors (float64 by default) that require grad."""
    shape = draw(shapes()) if shape is None else shape
    data = draw(arrays(shape, domain, unique, dtype))
    return mg.tensor(data, requires_grad=requires_grad)


@st.composite
def broadcastable_tensors(draw, n=2, domain="real", dtype=np.float64, max_dims=3, max_side=4):
    """``n`` tensors whose shapes broadcast together (``mutually_broadcastable_shapes``)."""
    shapes_ = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=max_dims, max_side=max_side))
    return tuple(mg.tensor(draw(arrays(s, domain, dtype=dtype)), requires_grad=True)
                 for s in shapes_.input_shapes)


class HypothesisDrawer(Drawer):
    """The registry's drawer interface on top of ``st.data()``."""

    def __init__(self, data):
        self.data = data

    def integers(self, lo, hi):
        return self.data.draw(st.integers(lo, hi))

    def boolean(self):
        return self.data.draw(st.booleans())

    def choice(self, options):
        return self.data.draw(st.sampled_from(list(options)))

    def shape(self, min_dims=0, max_dims=3, min_side=1, max_side=4):
        return self.data.draw(shapes(min_dims, max_dims, min_side, max_side))

    def broadcast_shapes(self, n, min_dims=0, max_dims=3, min_side=1, max_side=4):
        drawn = self.data.draw(hnp.mutually_broadcastable_shapes(
            num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side))
        return list(drawn.input_shapes), drawn.result_shape

    def floats(self, shape, domain="real", unique=False, dtype=np.float64):
        return self.data.draw(arrays(tuple(shape), domain, unique, dtype))

    def index_array(self, shape, size):
        return self.data.draw(hnp.arrays(np.int64, tuple(shape), elements=st.integers(-size, size - 1)))

    def mask(self, shape):
        return self.data.draw(hnp.arrays(np.bool_, tuple(shape), elements=st.booleans()))

    def permutation(self, n):
        return self.data.draw(st.permutations(list(range(n))))


def drawer(data) -> HypothesisDrawer:
    return HypothesisDrawer(data)
