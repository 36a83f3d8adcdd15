"""Shared pieces of weight and spectral normalisation (both the parametrization and the
older forward-pre-hook versions)."""
from __future__ import annotations

from ...ops.distance import normalize


def norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every dim but ``dim``, keepdim (over everything when dim == -1)."""
    if dim == -1:
        return (v ** 2).sum().sqrt()
    others = tuple(d for d in range(v.ndim) if d != dim)
    return (v ** 2).sum(others, keepdim=True).sqrt()


def weight_from_g_v(g, v, dim):
    """PyTorch's ``_weight_norm``: v * (g / ||v|| over the dims but ``dim``)."""
    return v * (g / norm_except_dim(v, dim))


def to_matrix(weight, dim):
    """``weight`` with ``dim`` moved to the front and the rest flattened: (size of dim, -1)."""
    if dim != 0:
        weight = weight.movedim(dim, 0)
    return weight.reshape(weight.shape[0], -1)


def conv_transpose_dim(module):
    """Spectral norm's default dim: 1 for ConvTranspose layers (their weight is (in, out, ...)), else 0."""
    return 1 if any(c.__name__.startswith("ConvTranspose") for c in type(module).__mro__) else 0


def power_iteration(W, u, v, n, eps, v_first):
    """``n`` rounds of u <- normalize(W v), v <- normalize(W^T u) on arrays of data (no graph),
    in the order PyTorch uses: the parametrization updates u first, the older hook v first."""
    for _ in range(n):
        if v_first:
            v = normalize(W.T @ u, dim=0, eps=eps)
            u = normalize(W @ v, dim=0, eps=eps)
        else:
            u = normalize(W @ v, dim=0, eps=eps)
            v = normalize(W.T @ u, dim=0, eps=eps)
    return u, v
