"""Matrix products.  Large products go to BLAS (NumPy) or cuBLAS (CuPy) through ``@``.

Shapes: A (..., n, k) @ B (..., k, m) -> C (..., n, m), batch dims broadcast.
A 1-D A is a row (1, k) and a 1-D B a column (k, 1), whose added dim is dropped again.
The backward formulas use only products, transposes and reshapes, so they run on Tensors as
well (``differentiable_backward``): the gradient of a product is a product again.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..errors import ArgumentError
from ..tensor import Tensor
from ._args import DtypeError, ShapeError, as_tensor

__all__ = ["matmul", "linear"]


class MatMul(Function):
    """C = A B;  dA = g B^T,  dB = A^T g  (summed over broadcast batch dims by the engine)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        a2 = a.reshape(1, -1) if a_vec else a
        b2 = b.reshape(-1, 1) if b_vec else b
        if a_vec:                      # g lost the row dim of A
            g = g[..., None, :] if not b_vec else g.reshape(1, 1)
        if b_vec:                      # g lost the column dim of B
            g = g[..., None] if not a_vec else g
        da = db = None
        if ctx.needs_input_grad[0]:
            da = g @ b2.swapaxes(-1, -2)
            if a_vec:
                da = da[..., 0, :]
        if ctx.needs_input_grad[1]:
            db = a2.swapaxes(-1, -2) @ g
            if b_vec:
                db = db[..., 0]
        return da, db


def matmul(input, other) -> Tensor:
    """Matrix product with NumPy's ``@`` semantics (1-D operands, broadcast batch dims)."""
    a, b = as_tensor(input, "matmul"), as_tensor(other, "matmul")
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise ShapeError(f"matmul: both operands must have at least one dimension, got shapes {sa} and {sb}")
    if a._data.dtype != b._data.dtype:
        raise DtypeError(f"matmul: operands must have the same dtype, got {a._data.dtype} and {b._data.dtype}")
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {sa} and {sb} cannot be multiplied ({k_a} != {k_b})")
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ShapeError(f"matmul: batch dims of shapes {sa} and {sb} do not broadcast") from None
    return MatMul.apply(a, b)


class Linear(Function):
    """y = x W^T + b  (x: (*, in), W: (out, in), b: (out,));
    dx = g W,  dW = g^T x,  db = sum of g over the batch dims  (one node, three BLAS calls)"""
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        if x.ndim > 2:                 # one (rows, in) product: faster than a stack of them
            out = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        else:
            out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        g2 = g.reshape(-1, weight.shape[0])
        if not needs[0]:
            dx = None
        elif x.ndim > 2:
            dx = (g2 @ weight).reshape(x.shape)
        else:
            dx = g @ weight
        dw = g2.T @ x.reshape(-1, weight.shape[1]) if needs[1] else None
        if len(needs) == 2:            # called without a bias
            return dx, dw
        return dx, dw, (_column_sums(g2) if needs[2] else None)


def _column_sums(g2):
    """The bias gradient: g2 (rows, out) summed over its rows.  On large NumPy arrays as a
    product with a row of ones: BLAS's gemv is 2-3x faster than ``sum(axis=0)``, which adds one
    row at a time on one thread, and as accurate (measured: closer to a float64 sum)."""
    if isinstance(g2, np.ndarray) and g2.size >= 1 << 12:
        return np.ones(g2.shape[0], dtype=g2.dtype) @ g2
    return g2.sum(axis=0)


def linear(input, weight, bias=None) -> Tensor:
    """``input @ weight.T + bias`` as PyTorch's ``F.linear``: weight is (out_features, in_features)."""
    x, w = as_tensor(input, "linear"), as_tensor(weight, "linear")
    if w._data.ndim != 2:
        raise ArgumentError(f"linear: weight must be 2-D (out_features, in_features), got shape {w._data.shape}")
    if x._data.ndim == 0 or x._data.shape[-1] != w._data.shape[1]:
        raise ShapeError(f"linear: input of shape {x._data.shape} does not match weight of shape "
                         f"{w._data.shape} (expected last dim {w._data.shape[1]})")
    if x._data.dtype != w._data.dtype:
        raise DtypeError(f"linear: input is {x._data.dtype} but weight is {w._data.dtype}")
    if bias is None:
        return Linear.apply(x, w)
    b = as_tensor(bias, "linear")
    if b._data.shape != (w._data.shape[0],):
        raise ArgumentError(f"linear: bias must have shape ({w._data.shape[0]},), got {b._data.shape}")
    return Linear.apply(x, w, b)
