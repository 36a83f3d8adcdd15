"""Winograd F(2x2, 3x3): a 3x3 stride-1 convolution with 16 multiplies per 2x2 output tile
instead of 36 (Lavin and Gray, 2015).  The CPU path for 3x3 stride-1 convolutions.

For one 4x4 input tile d (overlapping by 2) and one 3x3 filter g, the 2x2 output tile is

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* elementwise, 4x4)

    B^T = [1  0 -1  0]     G = [ 1    0    0 ]     A^T = [1  1  1  0]
          [0  1  1  0]         [1/2  1/2  1/2]           [0  1 -1 -1]
          [0 -1  1  0]         [1/2 -1/2  1/2]
          [0  1  0 -1]         [ 0    0    1 ]

so a whole convolution is: transform every input tile (``input_transform``), 16 independent
matrix products over channels M[k] = U[k] (O, C) @ V[k] (C, T) with U = G g G^T per filter,
and transform every product tile back (``output_transform``).  The transforms are additions
only; the products go to BLAS.  The algorithm is linear in U, so the weight gradient follows by
the chain rule through it: P = A dY A^T per output tile (``grad_transform``), dU[k] = P[k] V[k]^T
(16 products summed over tiles), dW = G^T dU G (``filter_gradient``).

Shapes: x (N, C, Hp, Wp), already padded so that Hp = 2 th + 2 and Wp = 2 tw + 2 for th x tw
tiles; V (16, C, N th tw); M (16, O, N th tw); y (N, O, OH, OW) with OH <= 2 th, OW <= 2 tw.
Float32 and float64 on NumPy arrays (GPU convolutions use im2col and cuBLAS).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._common import check_float, contiguous, is_numpy

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
_BT = np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, -1.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0]])
_AT = np.array([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]])


_A = _AT.T


# ----------------------------------------------------------------------------- NumPy references
def filter_transform_ref(w):
    u = np.einsum("ai,ocij,bj->aboc", _G, w.astype(np.float64), _G)
    return u.reshape(16, w.shape[0], w.shape[1]).astype(w.dtype)


def filter_gradient_ref(du):
    d = du.astype(np.float64).reshape(4, 4, du.shape[1], du.shape[2])
    return np.einsum("ai,aboc,bj->ocij", _G, d, _G).astype(du.dtype)


def input_transform_ref(x, th, tw):
    n, c = x.shape[:2]
    tiles = np.empty((n, c, th, tw, 4, 4), dtype=np.float64)
    for i in range(th):
        for j in range(tw):
            tiles[:, :, i, j] = x[:, :, 2 * i:2 * i + 4, 2 * j:2 * j + 4]
    v = np.einsum("ai,ncxyij,bj->abcnxy", _BT, tiles, _BT)
    return v.reshape(16, c, n * th * tw).astype(x.dtype)


def output_transform_ref(m, n, th, tw, oh, ow):
    o = m.shape[1]
    tiles = m.astype(np.float64).reshape(4, 4, o, n, th, tw)
    y = np.einsum("ai,ijonxy,bj->noxayb", _AT, tiles, _AT).reshape(n, o, 2 * th, 2 * tw)
    return y[:, :, :oh, :ow].astype(m.dtype)


def grad_transform_ref(dy, th, tw):
    n, o, oh, ow = dy.shape
    full = np.zeros((n, o, 2 * th, 2 * tw))
    full[:, :, :oh, :ow] = dy
    tiles = full.reshape(n, o, th, 2, tw, 2).transpose(0, 1, 2, 4, 3, 5)
    p = np.einsum("ai,noxyij,bj->abonxy", _A, tiles, _A)
    return p.reshape(16, o, n * th * tw).astype(dy.dtype)


# ----------------------------------------------------------------------------- Numba (CPU)
@njit(cache=True, nogil=True)
def _input_transform(x, th, tw, v):
    width = x.shape[3]
    t = np.empty((4, width), dtype=x.dtype)
    for c in range(x.shape[1]):             # channel outermost: each of V's 16 planes is then
        for n in range(x.shape[0]):         # written as one sequential stream per channel
            for i in range(th):
                r = 2 * i
                for q in range(width):                # t = B^T d for a whole band of 4 rows
                    d0, d1, d2, d3 = x[n, c, r, q], x[n, c, r + 1, q], x[n, c, r + 2, q], x[n, c, r + 3, q]
                    t[0, q] = d0 - d2
                    t[1, q] = d1 + d2
                    t[2, q] = d2 - d1
                    t[3, q] = d1 - d3
                base = (n * th + i) * tw
                for a in range(4):                    # v = t B, tile by tile along the band
                    row = t[a]
                    for j in range(tw):
                        q = 2 * j
                        col = base + j
                        v[4 * a, c, col] = row[q] - row[q + 2]
                        v[4 * a + 1, c, col] = row[q + 1] + row[q + 2]
                        v[4 * a + 2, c, col] = row[q + 2] - row[q + 1]
                        v[4 * a + 3, c, col] = row[q + 1] - row[q + 3]


@njit(cache=True, nogil=True)
def _output_transform(m, n_img, th, tw, y):
    n_out = m.shape[1]
    oh, ow = y.shape[2], y.shape[3]
    tiles = np.empty((4, 4 * tw), dtype=m.dtype)    # a band of tiles: tiles[r, 4 j + b] = m[4 r + b, o, tile j]
    s = np.empty((2, 4), dtype=m.dtype)
    for o in range(n_out):                  # channel outermost: M's planes read sequentially
        for n in range(n_img):
            for i in range(th):
                base = (n * th + i) * tw
                for r in range(4):          # four planes at a time: 16 streams 1 MB apart thrash the cache
                    for j in range(tw):
                        for b in range(4):
                            tiles[r, 4 * j + b] = m[4 * r + b, o, base + j]
                for j in range(tw):
                    for b in range(4):               # s = A^T m (rows)
                        m0, m1, m2, m3 = tiles[0, 4 * j + b], tiles[1, 4 * j + b], tiles[2, 4 * j + b], tiles[3, 4 * j + b]
                        s[0, b] = m0 + m1 + m2
                        s[1, b] = m1 - m2 - m3
                    for a in range(2):               # y = s A (columns), clipped at the edges
                        r = 2 * i + a
                        if r >= oh:
                            continue
                        if 2 * j < ow:
                            y[n, o, r, 2 * j] = s[a, 0] + s[a, 1] + s[a, 2]
                        if 2 * j + 1 < ow:
                            y[n, o, r, 2 * j + 1] = s[a, 1] - s[a, 2] - s[a, 3]


@njit(cache=True, nogil=True)
def _grad_transform(dy, th, tw, p):
    # P = A dY A^T for each 2x2 tile of dy (zero past its edges): the gradient flowing back
    # through the output transform, which the weight gradient pairs with the input's V
    oh, ow = dy.shape[2], dy.shape[3]
    zero = dy.dtype.type(0)
    t = np.zeros((4, 2 * tw), dtype=dy.dtype)      # A dY for a band of tiles, zero past dy's edges
    for o in range(dy.shape[1]):            # channel outermost: P's planes written sequentially
        for n in range(dy.shape[0]):
            for i in range(th):
                r = 2 * i
                for q in range(ow):         # rows of A dY: [y0, y0 + y1, y0 - y1, -y1]
                    y0 = dy[n, o, r, q]
                    y1 = dy[n, o, r + 1, q] if r + 1 < oh else zero
                    t[0, q] = y0
                    t[1, q] = y0 + y1
                    t[2, q] = y0 - y1
                    t[3, q] = -y1
                base = (n * th + i) * tw
                for a in range(4):          # then the same on columns, four planes at a time
                    row = t[a]
                    for j in range(tw):
                        q = 2 * j
                        col = base + j
                        p[4 * a, o, col] = row[q]
                        p[4 * a + 1, o, col] = row[q] + row[q + 1]
                        p[4 * a + 2, o, col] = row[q] - row[q + 1]
                        p[4 * a + 3, o, col] = -row[q + 1]


# ----------------------------------------------------------------------------- entry points
def filter_transform(w):
    """U (16, O, C) = G g G^T for every 3x3 filter g of w (O, C, 3, 3): as U[4 a + b] =
    sum_ij G[a, i] G[b, j] g[i, j], one matrix product (G kron G) @ w.reshape(O C, 9)^T (BLAS;
    a batched product of O C tiny matrices would loop over 262k of them on a 512-channel layer)."""
    check_float("filter_transform", w)
    if not is_numpy(w):
        raise TypeError("filter_transform: Winograd kernels run on the CPU (GPU convolutions use im2col)")
    if w.ndim != 4 or w.shape[2:] != (3, 3):
        raise ValueError(f"filter_transform: expected 3x3 filters (O, C, 3, 3), got {w.shape}")
    o, c = w.shape[:2]
    return (np.kron(_G, _G).astype(w.dtype) @ contiguous(w).reshape(o * c, 9).T).reshape(16, o, c)


def filter_gradient(du):
    """dW (O, C, 3, 3) = G^T dU G from the gradient dU (16, O, C) of the transformed filters: the
    adjoint of :func:`filter_transform`, dW.reshape(O C, 9) = dU.reshape(16, O C)^T @ (G kron G)."""
    check_float("filter_gradient", du)
    if not is_numpy(du):
        raise TypeError("filter_gradient: Winograd kernels run on the CPU (GPU convolutions use im2col)")
    if du.ndim != 3 or du.shape[0] != 16:
        raise ValueError(f"filter_gradient: expected dU of shape (16, O, C), got {du.shape}")
    return (contiguous(du).reshape(16, -1).T @ np.kron(_G, _G).astype(du.dtype)).reshape(du.shape[1], du.shape[2], 3, 3)


#: The input gradient's filters are the forward's transposed and flipped, and G flip(g) G^T
#: = S (G g G^T) S^T with S swapping rows 0 and 3 (G's columns reversed are S G), so their
#: transform is a permutation of U's planes, each transposed: U_adjoint[k] = U[ADJOINT_PLANES[k]]^T.
ADJOINT_PLANES = np.array([4 * a + b for a in (3, 1, 2, 0) for b in (3, 1, 2, 0)])


def grad_transform(dy, th, tw):
    """P (16, O, N th tw) = A dY A^T for every 2x2 tile of dy (N, O, OH, OW), OH <= 2 th, OW <= 2 tw."""
    check_float("grad_transform", dy)
    if not is_numpy(dy):
        raise TypeError("grad_transform: Winograd kernels run on the CPU (GPU convolutions use im2col)")
    if dy.ndim != 4 or dy.shape[2] > 2 * th or dy.shape[3] > 2 * tw:
        raise ValueError(f"grad_transform: dy of shape {dy.shape} does not fit {th}x{tw} tiles of 2x2")
    p = np.empty((16, dy.shape[1], dy.shape[0] * th * tw), dtype=dy.dtype)
    _grad_transform(contiguous(dy), th, tw, p)
    return p


def input_transform(x, th, tw):
    """V (16, C, N th tw) from a padded x (N, C, 2 th + 2, 2 tw + 2)."""
    check_float("input_transform", x)
    if not is_numpy(x):
        raise TypeError("input_transform: Winograd kernels run on the CPU (GPU convolutions use im2col)")
    if x.ndim != 4 or x.shape[2] < 2 * th + 2 or x.shape[3] < 2 * tw + 2 or th < 1 or tw < 1:
        raise ValueError(f"input_transform: x of shape {x.shape} does not hold {th}x{tw} tiles of 4x4")
    x = contiguous(x)
    v = np.empty((16, x.shape[1], x.shape[0] * th * tw), dtype=x.dtype)
    _input_transform(x, th, tw, v)
    return v


def output_transform(m, n, th, tw, oh, ow):
    """y (N, O, oh, ow) from the 16 products M (16, O, N th tw)."""
    check_float("output_transform", m)
    if not is_numpy(m):
        raise TypeError("output_transform: Winograd kernels run on the CPU (GPU convolutions use im2col)")
    if m.ndim != 3 or m.shape[0] != 16 or m.shape[2] != n * th * tw or oh > 2 * th or ow > 2 * tw:
        raise ValueError(f"output_transform: products of shape {m.shape} do not fit N={n}, {th}x{tw} tiles, "
                         f"output {oh}x{ow}")
    y = np.empty((n, m.shape[1], oh, ow), dtype=m.dtype)
    _output_transform(contiguous(m), n, th, tw, y)
    return y
