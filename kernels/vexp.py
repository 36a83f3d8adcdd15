"""exp as plain arithmetic that LLVM vectorises inside a Numba loop.

A loop that calls ``math.exp`` calls libm once per element (about 4 ns), so the softmax kernels
used to leave their exponentials to NumPy's vectorised exp, at the price of extra passes over
memory.  ``fast_exp`` is written out instead, so a fused loop can take the exponential with its
neighbouring max, sum and scale in one pass:

    x = n ln2 + r,   n = round(x / ln2),  |r| <= ln2 / 2
    exp(x) = 2^n * exp(r)

exp(r) is its Taylor series, to r^7 in float32 (truncation error below 1e-8 for |r| <= 0.35) and to
r^13 in float64 (below 1e-17); 2^n is built from its bits (exponent field n + bias), as
2^floor(n/2) * 2^(n - floor(n/2)) so that results near overflow and subnormal ones come out right.  ln2 is split
into a short ``hi`` part, so that n * hi is exact, and the rest, ``lo`` (Cody and Waite's trick).
Accuracy: within 2 ulp of the exact exponential over the normal range (tests/test_kernels.py),
subnormal results to their absolute spacing; overflow gives inf, underflow 0, NaN stays NaN.

Use it inside ``@njit`` code as ``fast_exp(x)`` on a float32 or float64 scalar; ``exp(a)`` applies
it to an array (for tests and for reading).  The loops that call it need ``fastmath={"contract"}``
(fused multiply-adds) to reach NumPy's speed.
"""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
from numba import njit, types
from numba.extending import intrinsic, overload

from ._common import check_float, contiguous, is_numpy

_LN2 = Decimal("0.69314718055994530941723212145817656807550013436")
_LOG2E = 1.4426950408889634


def _split_ln2(hi):
    return hi, float(_LN2 - Decimal(hi))


# float32: hi has 9 significant bits (355/512), so n * hi is exact for |n| < 2^15
_LN2_HI32, _LN2_LO32 = _split_ln2(0.693359375)
# float64: hi is ln2 rounded to float32 (24 bits), exact times any |n| < 2^29
_LN2_HI64, _LN2_LO64 = _split_ln2(float(np.float32(0.6931471805599453)))


# ----------------------------------------------------------------------------- NumPy reference
def exp_ref(a):
    return np.exp(a)


# ----------------------------------------------------------------------------- the scalar formula
@intrinsic
def _float_from_bits(typingctx, bits):
    """The float32 (float64) whose bits are this int32 (int64): how 2^n is made."""
    target = {types.int32: types.float32, types.int64: types.float64}.get(bits)
    if target is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(target))
    return target(bits), codegen


@njit(inline="always")
def _pow2_32(k):
    """2^k for a whole float32 k in [-126, 127]: the exponent field k + 127, a zero mantissa."""
    return _float_from_bits(np.int32((np.int32(k) + np.int32(127)) << np.int32(23)))


@njit(inline="always")
def _pow2_64(k):
    """2^k for a whole float64 k in [-1022, 1023]."""
    return _float_from_bits(np.int64((np.int64(k) + np.int64(1023)) << np.int64(52)))


@njit(inline="always")
def _exp32(x):
    f = np.float32
    n = np.floor(x * f(_LOG2E) + f(0.5))
    r = (x - n * f(_LN2_HI32)) - n * f(_LN2_LO32)
    p = f(1.0 / 5040.0)
    p = p * r + f(1.0 / 720.0)
    p = p * r + f(1.0 / 120.0)
    p = p * r + f(1.0 / 24.0)
    p = p * r + f(1.0 / 6.0)
    p = p * r + f(0.5)
    p = p * r + f(1.0)
    p = p * r + f(1.0)
    n = min(max(n, f(-150.0)), f(128.0))            # out of range: the selects below decide
    y = p * _pow2_32(np.floor(n * f(0.5))) * _pow2_32(n - np.floor(n * f(0.5)))
    y = y if x >= f(-103.97208) else f(0.0)          # exp underflows to 0 in float32
    y = y if x <= f(88.72284) else f(np.inf)
    return y if x == x else x                        # NaN in, NaN out


@njit(inline="always")
def _exp64(x):
    n = np.floor(x * _LOG2E + 0.5)
    r = (x - n * _LN2_HI64) - n * _LN2_LO64
    p = 1.0 / 6227020800.0                           # 1/13!
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    n = min(max(n, -1076.0), 1024.0)
    y = p * _pow2_64(np.floor(n * 0.5)) * _pow2_64(n - np.floor(n * 0.5))
    y = y if x >= -745.1332191019412 else 0.0
    y = y if x <= 709.782712893384 else np.inf
    return y if x == x else x


def fast_exp(x):
    """exp of one float32 or float64 number, in the input's precision (see the module docstring)."""
    return math.exp(x)


@overload(fast_exp, inline="always")
def _fast_exp_for(x):
    if x == types.float32:
        return lambda x: _exp32(x)
    if x == types.float64:
        return lambda x: _exp64(x)
    return None


@njit(cache=True, nogil=True, fastmath={"contract"})
def _exp_loop(a, out):
    for i in range(a.size):
        out[i] = fast_exp(a[i])


# ----------------------------------------------------------------------------- public entry point
def exp(a):
    """``fast_exp`` over a CPU float array, in a new array of its shape and dtype."""
    if not is_numpy(a):
        raise TypeError(f"exp: the kernel runs on NumPy arrays (CPU), got {type(a).__name__}")
    check_float("exp", a)
    flat = contiguous(a).reshape(-1)
    out = np.empty_like(flat)
    _exp_loop(flat, out)
    return out.reshape(np.shape(a))
