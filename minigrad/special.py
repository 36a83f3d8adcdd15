"""``minigrad.special``, as ``torch.special``: PyTorch's names for the special functions.

Most are minigrad ops under another name (``expit`` is ``sigmoid``, ``gammaln`` is ``lgamma``,
``psi`` is ``digamma``, ``multigammaln`` is ``mvlgamma``, ...); the ops ``torch.special`` adds
(``ndtr``, ``log_ndtr``, ``ndtri``, ``erfcx``, ``i0``, ``i0e``, ``i1``, ``i1e``, ``entr``,
``xlog1py``, ``zeta``, ``gammainc``, ``gammaincc``) live in :mod:`minigrad.ops.special`;
``bessel_j0`` and ``bessel_j1`` have no gradient (nor in PyTorch) and are computed here.  Integer
inputs become the default float dtype.
"""
from __future__ import annotations

from .ops._args import float_operand as _float_operand
from .ops._args import refuse_float16 as _refuse_float16
from .ops._kernels import kernels as _kernels
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
from .tensor import Tensor as _Tensor
from .ops.special import (entr, erfcx, gammainc, gammaincc, i0, i0e, i1, i1e, log_ndtr, ndtr, ndtri, xlog1py,
                          zeta)

__all__ = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi", "polygamma",
           "multigammaln", "xlogy", "xlog1py", "entr", "sinc", "round", "log1p", "expm1", "exp2", "logsumexp",
           "softmax", "log_softmax", "ndtr", "log_ndtr", "ndtri", "i0", "i0e", "i1", "i1e",
           "modified_bessel_i0", "modified_bessel_i1", "zeta", "gammainc", "gammaincc", "bessel_j0", "bessel_j1"]

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


def _forward_only(kernel, opname):
    def op(input):
        x = _float_operand(input, opname)
        _refuse_float16(opname, x)
        return _Tensor._wrap(getattr(_kernels("special"), kernel)(x._data))
    op.__name__ = op.__qualname__ = opname
    op.__doc__ = (f"The Bessel function of the first kind of order {kernel[1]}; no gradient (as PyTorch's: "
                  f"the result never requires grad).")
    return op


bessel_j0 = _forward_only("j0", "bessel_j0")
bessel_j1 = _forward_only("j1", "bessel_j1")
