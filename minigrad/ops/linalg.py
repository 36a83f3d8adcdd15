"""Matrix products.  Large products go to BLAS (NumPy) or cuBLAS (CuPy) through ``@``.

Shapes: A (..., n, k) @ B (..., k, m) -> C (..., n, m), batch dims broadcast.
A 1-D A is a row (1, k) and a 1-D B a column (k, 1), whose added dim is dropped again.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._args import as_tensor

__all__ = ["matmul"]


class MatMul(Function):
    """C = A B;  dA = g B^T,  dB = A^T g  (summed over broadcast batch dims by the engine)"""

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
    sa, sb = a.data.shape, b.data.shape
    if not sa or not sb:
        raise ValueError(f"matmul: both operands must have at least one dimension, got shapes {sa} and {sb}")
    if a.data.dtype != b.data.dtype:
        raise TypeError(f"matmul: operands must have the same dtype, got {a.data.dtype} and {b.data.dtype}")
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} cannot be multiplied ({k_a} != {k_b})")
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dims of shapes {sa} and {sb} do not broadcast") from None
    return MatMul.apply(a, b)
