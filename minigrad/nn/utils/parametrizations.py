"""Ready-made parametrizations, as ``torch.nn.utils.parametrizations``: ``weight_norm`` and
``spectral_norm`` and ``orthogonal`` (registered with :mod:`minigrad.nn.utils.parametrize`)."""
from __future__ import annotations

from ... import backend
from ...autograd import no_grad
from ...errors import ArgumentError
from ...ops.distance import normalize
from ...tensor import Tensor
from ..module import Module
from . import parametrize
from ._orthogonal import orthogonal  # noqa: F401
from ._norms import conv_transpose_dim, norm_except_dim, power_iteration, to_matrix, weight_from_g_v

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


class _WeightNorm(Module):
    """weight = g * v / ||v|| (the norm over every dim but ``dim``; over all when dim == -1)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_from_g_v(weight_g, weight_v, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim).detach(), weight


def weight_norm(module, name="weight", dim=0):
    """Reparameterise ``module.<name>`` as g * v / ||v||: ``parametrizations.<name>.original0``
    holds g (the norms), ``original1`` holds v (the direction)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value of the weight as a (dim, rest) matrix,
    estimated by power iteration with the buffers ``_u`` and ``_v`` (updated in training only)."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(f"spectral_norm: dim must be in [-{ndim}, {ndim - 1}] for a weight of shape "
                             f"{tuple(weight.shape)}, got {dim}")
        if n_power_iterations <= 0:
            raise ArgumentError(f"spectral_norm: expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim % ndim
        self.eps, self.n_power_iterations = eps, n_power_iterations
        if ndim > 1:
            with no_grad():
                W = to_matrix(weight.detach(), self.dim)
                h, w = W.shape
                u = Tensor._wrap(backend.random_normal((h,), weight.dtype, weight.device))
                v = Tensor._wrap(backend.random_normal((w,), weight.dtype, weight.device))
                self.register_buffer("_u", normalize(u, dim=0, eps=eps))
                self.register_buffer("_v", normalize(v, dim=0, eps=eps))
                self._power_method(W, 15)

    def _power_method(self, W, n):
        with no_grad():
            u, v = power_iteration(W.detach(), self._u, self._v, n, self.eps, v_first=False)
            self._u._data, self._v._data = u._data, v._data

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        W = to_matrix(weight, self.dim)
        if self.training:
            self._power_method(W, self.n_power_iterations)
        u, v = self._u.detach().clone(), self._v.detach().clone()
        sigma = (u * (W @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (power iteration; the state dict holds
    ``parametrizations.<name>.original`` and ``parametrizations.<name>.0._u`` / ``._v``)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ArgumentError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = conv_transpose_dim(module) if dim is None else dim
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
