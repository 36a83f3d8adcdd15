"""``minigrad.special``, as ``torch.special``: PyTorch's names for the special functions.

Most are minigrad ops under another name (``expit`` is ``sigmoid``, ``gammaln`` is ``lgamma``,
``psi`` is ``digamma``, ``multigammaln`` is ``mvlgamma``, ...); the ops ``torch.special`` adds
(``ndtr``, ``log_ndtr``, ``ndtri``, ``erfcx``, ``i0``, ``i0e``, ``i1``, ``i1e``, ``entr``,
``xlog1py``, ``zeta``, ``gammainc``, ``gammaincc``) live in :mod:`minigrad.ops.special`.  Integer inputs become the default float dtype.
"""
from __future__ import annotations

from .ops.activation import log_softmax as _log_softmax
from .ops.activation import sigmoid as expit
from .ops.activation import softmax as _softmax
from .ops.composite import logit
from .ops.composite import mvlgamma as multigammaln
from .ops.elementwise import erf
from .ops.math import digamma, erfc, erfinv, exp2, expm1, log1p, polygamma, sinc, xlogy
from .ops.math import lgamma as gammaln
from .ops.math import round as _round
from .ops.reduce import logsumexp
from .ops.special import (entr, erfcx, gammainc, gammaincc, i0, i0e, i1, i1e, log_ndtr, ndtr, ndtri, xlog1py,
                          zeta)

__all__ = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi", "polygamma",
           "multigammaln", "xlogy", "xlog1py", "entr", "sinc", "round", "log1p", "expm1", "exp2", "logsumexp",
           "softmax", "log_softmax", "ndtr", "log_ndtr", "ndtri", "i0", "i0e", "i1", "i1e",
           "modified_bessel_i0", "modified_bessel_i1", "zeta", "gammainc", "gammaincc"]

psi = digamma
#: torch.special's other names for I_0 and I_1 (differentiable here; PyTorch gives them no gradient)
modified_bessel_i0 = i0
modified_bessel_i1 = i1


def round(input, *, decimals=0):  # noqa: A001  (torch.special.round)
    """Round half to even, to ``decimals`` decimal places."""
    return _round(input, decimals=decimals)


def softmax(input, dim, *, dtype=None):
    """Softmax along ``dim`` (required here, as in torch.special)."""
    return _softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax along ``dim`` (required here, as in torch.special)."""
    return _log_softmax(input, dim, dtype)
