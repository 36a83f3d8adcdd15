"""Special functions NumPy has no ufunc for: lgamma, digamma, polygamma (n >= 1), erfinv, erfc, erfcx,
log_ndtr, ndtri, the modified Bessel functions i0, i0e, i1, i1e, the Bessel functions j0, j1, the
Hurwitz zeta function and the regularised incomplete gamma functions.

    lgamma(x)        = log |Gamma(x)|                        (libm's, through Numba's math.lgamma)
    digamma(x)       = d/dx lgamma(x)
        x > 0:  psi(x) = psi(x + m) - sum_{k<m} 1/(x + k)      (recurrence up to x + m >= 10), then
                psi(y) ~ log y - 1/(2y) - sum_k B_2k / (2k y^2k)   (asymptotic series, k = 1..7)
        x < 0:  psi(x) = psi(1 - x) - pi / tan(pi x)         (reflection; nan at the poles 0, -1, ...)
    polygamma(n, x)  = d^n/dx^n digamma(x), n >= 1
        psi_n(x) = psi_n(x + m) - (-1)^n n! sum_{k<m} 1/(x + k)^(n+1)    (recurrence up to x + m >= 15), then
        psi_n(y) ~ (-1)^(n+1) [(n-1)!/y^n + n!/(2 y^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! y^(2k+n))]
    erfinv(y)        = x with erf(x) = y, |y| < 1 (+-inf at +-1, nan outside)
        Winitzki's closed form (relative error < 2e-3) as a start, then four Newton steps on
        erf(x) - y, written as (1 - |y|) - erfc(x) for |y| >= 1/2 so that the tail keeps its precision.

    erfc(x)          = 1 - erf(x), without the cancellation (libm's, through Numba's math.erfc)
    erfcx(x)         = exp(x^2) erfc(x): exp(x^2) with x^2 split exactly (x = hi + lo, hi of 26 bits) times
        libm's erfc for x < 26; above, the asymptotic series 1/(x sqrt(pi)) sum_k (-1)^k (2k-1)!! / (2x^2)^k
    log_ndtr(x)      = log Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2:  log1p(-erfc(x / sqrt 2) / 2) for x >= 0,
        log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 below (no underflow in the left tail)
    ndtri(p)         = Phi^-1(p):  sqrt(2) erfinv(2p - 1) for 1/4 <= p <= 3/4 (2p - 1 exact there); in the
        tails Abramowitz-Stegun 26.2.23 as a start, then Newton steps on log Phi(x) = log p
        (p > 3/4: -ndtri(1 - p), 1 - p exact)
    i0, i1 (and i0e, i1e = exp(-|x|) times them): modified Bessel functions of the first kind
        |x| <= 25:  I_nu(x) = (x/2)^nu sum_k (x^2/4)^k / (k! (k + nu)!)     (positive terms only)
        |x| > 25:   I_nu(x) ~ e^|x| / sqrt(2 pi |x|) sum_k (-1)^k a_k / |x|^k,
                    a_k = prod_{j<=k} (4 nu^2 - (2j - 1)^2) / (k! 8^k)   (smallest term ~ e^-2|x| < 1e-21)
        I0 is even, I1 odd.
    zeta(s, q)       = sum_k (q + k)^-s, the Hurwitz zeta function (s > 1; q <= 0 only for whole s):
        the terms up to q + N >= 10 + s, then Euler-Maclaurin:  (q+N)^(1-s) / (s-1) + (q+N)^-s / 2
        + sum_j B_2j / (2j)! s (s+1) ... (s+2j-2) (q+N)^(1-s-2j)   (j <= 7)
    j0, j1           = J_0, J_1, Bessel functions of the first kind (no derivative: forward only, as PyTorch's)
        |x| <= 2:   J_n(x) = (x/2)^n sum_k (-x^2/4)^k / (k! (k + n)!)   (terms below 1: no cancellation)
        |x| <= 25:  J_n(x) = (1 / 2pi) int_0^2pi cos(n t - x sin t) dt by the trapezoid rule on 96 points
                    (exact to ~(e |x| / 192)^96 for this periodic integrand; absolute accuracy near the zeros)
        |x| > 25:   sqrt(2 / (pi x)) (P cos chi - Q sin chi), chi = x - (2n + 1) pi / 4, with P and Q the
                    asymptotic series of I_n's a_k (alternate terms), cos and sin of chi from cos x and sin x
    gammainc(a, x)   = P(a, x) = gamma(a, x) / Gamma(a), the regularised lower incomplete gamma (a > 0, x >= 0);
    gammaincc(a, x)  = Q(a, x) = 1 - P(a, x):  the series P = x^a e^-x / Gamma(a + 1) sum_n x^n / ((a+1)...(a+n))
        for x < a + 1, else Legendre's continued fraction for Q (modified Lentz); the other as 1 minus it,
        except Q for a < 1/2, x < a + 1, where 1 - P cancels:  -expm1(a log x - lgamma(1 + a)) - (the
        alternating series of gamma(a, x) past its first term), lgamma(1 + a) by its Taylor series in a

Each computes in float64 and stores in the array's dtype (float32 stays float32).  Arrays of any
shape; every public function returns a new array of the input's shape and dtype.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_MIN_ELEMENTS, check_float, contiguous, is_numpy

#: B_2, B_4, ..., B_14 (Bernoulli numbers) for the asymptotic series.
_BERNOULLI = (1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6)
_B = np.array(_BERNOULLI)
_DIGAMMA_SHIFT = 10.0
_POLYGAMMA_SHIFT = 15.0
_WINITZKI_A = 0.147
_TWO_OVER_SQRT_PI = 1.1283791670955126
_SQRT_HALF = math.sqrt(0.5)
_BESSEL_SWITCH = 25.0
_J_POINTS = 96


# ----------------------------------------------------------------------------- NumPy references
def _lgamma_or_inf(v):
    try:
        return math.lgamma(v)
    except ValueError:              # the poles 0, -1, -2, ...
        return math.inf


def lgamma_ref(x):
    return np.vectorize(_lgamma_or_inf, otypes=[np.float64])(np.asarray(x, np.float64)).astype(x.dtype)


def erfc_ref(x):
    return np.vectorize(math.erfc, otypes=[np.float64])(np.asarray(x, np.float64)).astype(x.dtype)


def digamma_ref(x):
    """The recurrence, reflection and series of the module docstring, on whole arrays."""
    v = np.asarray(x, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        neg = v < 0
        y = np.where(neg, 1.0 - v, v)
        acc = np.zeros_like(y)
        while True:
            low = (y < _DIGAMMA_SHIFT) & (y > 0)
            if not low.any():
                break
            acc = acc - np.where(low, 1.0 / np.where(low, y, 1.0), 0.0)
            y = np.where(low, y + 1.0, y)
        inv2 = 1.0 / (y * y)
        series = sum(b / (2 * (k + 1)) * inv2 ** (k + 1) for k, b in enumerate(_BERNOULLI))
        out = acc + np.log(y) - 0.5 / y - series
        out = np.where(neg, out - np.pi / np.tan(np.pi * v), out)
        out = np.where(v == 0, -np.inf, out)
        out = np.where(neg & (v == np.floor(v)), np.nan, out)
    return out.astype(x.dtype)


def polygamma_ref(n, x):
    """psi_n by the recurrence and series of the module docstring, on whole arrays (n >= 1)."""
    v = np.asarray(x, np.float64)
    sign = 1.0 if n % 2 else -1.0                    # (-1)^(n+1)
    fact = math.factorial(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        y, acc = v.copy(), np.zeros_like(v)
        while True:
            low = y < _POLYGAMMA_SHIFT
            if not low.any():
                break
            acc = acc + np.where(low, sign * fact / np.where(low, y, 1.0) ** (n + 1), 0.0)
            y = np.where(low, y + 1.0, y)
        series = math.factorial(n - 1) / y ** n + fact / (2 * y ** (n + 1))
        for k, b in enumerate(_BERNOULLI, start=1):
            series = series + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / y ** (2 * k + n)
        out = acc + sign * series
        out = np.where((v <= 0) & (v == np.floor(v)), np.nan if n % 2 == 0 else np.inf, out)
    return out.astype(x.dtype)


def erfinv_ref(y):
    """Bisection on math.erf (independent of the kernel's Newton steps)."""
    v = np.asarray(y, np.float64)
    erf = np.vectorize(math.erf, otypes=[np.float64])
    lo, hi = np.full(v.shape, -6.0), np.full(v.shape, 6.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        below = erf(mid) < v
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    out = 0.5 * (lo + hi)
    with np.errstate(invalid="ignore"):
        out = np.where(v == 1, np.inf, np.where(v == -1, -np.inf, out))
        out = np.where((np.abs(v) > 1) | np.isnan(v), np.nan, out)
    return out.astype(y.dtype)


_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


def erfcx_ref(x):
    """exp(x^2) erfc(x) directly below 3; above, the continued fraction
    erfcx(x) = 1/sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), 300 levels from the bottom up."""
    v = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        direct = np.exp(np.minimum(v, 3.0) ** 2) * np.vectorize(math.erfc, otypes=[np.float64])(np.minimum(v, 3.0))
        z = np.maximum(v, 3.0)
        tail = z
        for k in range(300, 0, -1):
            tail = z + (k / 2) / tail
        out = np.where(v < 3.0, direct, 1 / (_SQRT_PI * tail))
        out = np.where(v < -26.7, np.inf, out)
    return out.astype(x.dtype)


def log_ndtr_ref(x):
    """log1p(-erfc(x / sqrt 2) / 2) above 0, log(erfc(-x / sqrt 2) / 2) down to -5, and
    log(erfcx_ref(-x / sqrt 2) / 2) - x^2 / 2 below."""
    v = np.asarray(x, np.float64)
    erfc = np.vectorize(math.erfc, otypes=[np.float64])
    with np.errstate(divide="ignore"):
        right = np.log1p(-0.5 * erfc(v / math.sqrt(2)))
        middle = np.log(0.5 * erfc(-v / math.sqrt(2)))
        left = np.log(0.5 * erfcx_ref(-v / math.sqrt(2))) - 0.5 * v * v
    return np.where(v >= 0, right, np.where(v >= -5, middle, left)).astype(x.dtype)


def ndtri_ref(p):
    """Bisection on Phi (through math.erfc; by symmetry from the left half)."""
    v = np.asarray(p, np.float64)
    q = np.where(v > 0.5, 1.0 - v, v)
    erfc = np.vectorize(math.erfc, otypes=[np.float64])
    lo, hi = np.full(v.shape, -40.0), np.zeros(v.shape)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        below = 0.5 * erfc(-mid / math.sqrt(2)) < q
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    out = 0.5 * (lo + hi)
    out = np.where(v > 0.5, -out, out)
    with np.errstate(invalid="ignore"):
        out = np.where(v == 0, -np.inf, np.where(v == 1, np.inf, out))
        out = np.where((v < 0) | (v > 1) | np.isnan(v), np.nan, out)
    return out.astype(p.dtype)


def _bessel_i_ref(nu, x, scaled):
    """I_nu(x) = (1/pi) int_0^pi exp(x cos t) cos(nu t) dt by the trapezoid rule (exponentially
    accurate for this periodic integrand), exp(|x| (cos t - 1)) inside when scaled."""
    v = np.asarray(x, np.float64)
    n = 2000
    t = np.linspace(0.0, math.pi, n + 1)
    w = np.full(n + 1, math.pi / n)
    w[0] = w[-1] = math.pi / (2 * n)
    a = np.abs(v)[..., None]
    with np.errstate(over="ignore"):
        inner = np.exp(a * (np.cos(t) - 1.0)) * np.cos(nu * t)
        out = (inner * w).sum(-1) / math.pi
        if not scaled:
            out = out * np.exp(np.abs(v))
    if nu == 1:
        out = np.where(v < 0, -out, out)
    return out.astype(x.dtype)


def i0_ref(x):
    return _bessel_i_ref(0, x, False)


def i0e_ref(x):
    return _bessel_i_ref(0, x, True)


def i1_ref(x):
    return _bessel_i_ref(1, x, False)


def i1e_ref(x):
    return _bessel_i_ref(1, x, True)



def _hurwitz_py(s, q, n=1000):
    """sum_k (q + k)^-s: the first n terms, then the integral of the rest with two Euler-Maclaurin
    corrections (q > 0, s > 1)."""
    w = q + n
    head = math.fsum((q + k) ** -s for k in range(n))
    return head + w ** (1 - s) / (s - 1) + 0.5 * w ** -s + s / 12 * w ** (-s - 1) \
        - s * (s + 1) * (s + 2) / 720 * w ** (-s - 3)


def zeta_ref(s, q):
    """The Hurwitz zeta function by :func:`_hurwitz_py` (q > 0 and s > 1 only; NaN elsewhere)."""
    def one(a, b):
        return _hurwitz_py(a, b) if a > 1 and b > 0 else math.nan
    return np.vectorize(one, otypes=[np.float64])(s, q).astype(np.result_type(s, q))


def gammainc_ref(a, x):
    """P(a, x) by its power series alone, 400 terms, for every x (the kernel switches to a continued
    fraction and, for Q, to another series): x^a e^-x / Gamma(a + 1) sum_n x^n / ((a+1)...(a+n))."""
    av, xv = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    term, total = np.ones(av.shape), np.ones(av.shape)
    for n in range(1, 400):
        term = term * xv / (av + n)
        total = total + term
    lg = np.vectorize(math.lgamma, otypes=[np.float64])(av + 1)
    with np.errstate(divide="ignore"):
        out = total * np.exp(av * np.log(xv) - xv - lg)
    return out.astype(np.result_type(a, x))


def gammaincc_ref(a, x):
    return (1.0 - gammainc_ref(np.asarray(a, np.float64), np.asarray(x, np.float64))).astype(np.result_type(a, x))



def _bessel_j_ref(nu, x):
    """J_nu(x) = (1 / pi) int_0^pi cos(nu t - x sin t) dt by the trapezoid rule on 4000 panels (|x| < ~1000)."""
    v = np.asarray(x, np.float64)
    n = 4000
    t = np.linspace(0.0, math.pi, n + 1)
    w = np.full(n + 1, 1.0 / n)
    w[0] = w[-1] = 0.5 / n
    return (np.cos(nu * t - v[..., None] * np.sin(t)) * w).sum(-1).astype(x.dtype)


def j0_ref(x):
    return _bessel_j_ref(0, x)


def j1_ref(x):
    return _bessel_j_ref(1, x)


#: zeta(k) for k = 2, 3, ...: the coefficients of lgamma(1 + a) = -euler a + sum_k (-1)^k zeta(k) a^k / k
_ZETA_INTEGERS = np.array([_hurwitz_py(k, 1.0) for k in range(2, 62)])
_EULER = 0.5772156649015329


# ----------------------------------------------------------------------------- scalar functions (Numba)
@njit(cache=True, nogil=True)
def _digamma_scalar(x):
    if x == 0.0:
        return -math.inf if math.copysign(1.0, x) > 0 else math.inf
    if math.isnan(x):
        return x
    reflect = 0.0
    if x < 0.0:
        if x == math.floor(x):
            return math.nan
        reflect = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    acc = 0.0
    while x < _DIGAMMA_SHIFT:
        acc -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = 0.0
    power = inv2
    for k in range(7):
        series += _BERNOULLI[k] / (2.0 * (k + 1)) * power
        power *= inv2
    return reflect + acc + math.log(x) - 0.5 / x - series


@njit(cache=True, nogil=True)
def _polygamma_scalar(n, x):
    if math.isnan(x):
        return x
    sign = 1.0 if n % 2 == 1 else -1.0
    if x <= 0.0 and x == math.floor(x):
        return math.inf if n % 2 == 1 else math.nan
    fact = math.gamma(n + 1.0)
    acc = 0.0
    while x < _POLYGAMMA_SHIFT:
        acc += sign * fact / x ** (n + 1)
        x += 1.0
    series = math.gamma(float(n)) / x ** n + fact / (2.0 * x ** (n + 1))
    for k in range(1, 8):
        series += _BERNOULLI[k - 1] * math.gamma(2.0 * k + n) / math.gamma(2.0 * k + 1.0) / x ** (2 * k + n)
    return acc + sign * series


@njit(cache=True, nogil=True)
def _erfinv_scalar(y):
    if math.isnan(y) or y < -1.0 or y > 1.0:
        return math.nan
    if y == 1.0:
        return math.inf
    if y == -1.0:
        return -math.inf
    if y == 0.0:
        return y
    s = 1.0 if y > 0 else -1.0
    a = abs(y)
    tail = 1.0 - a                                   # exact for a >= 1/2; erfc keeps the tail's digits
    ln = math.log(tail * (1.0 + a))
    c = 2.0 / (math.pi * _WINITZKI_A) + 0.5 * ln
    x = math.sqrt(math.sqrt(c * c - ln / _WINITZKI_A) - c)
    for _ in range(4):
        slope = _TWO_OVER_SQRT_PI * math.exp(-x * x)
        if slope == 0.0:
            break
        residual = math.erf(x) - a if a < 0.5 else tail - math.erfc(x)
        x -= residual / slope
    return s * x


@njit(cache=True, nogil=True)
def _lgamma_scalar(x):
    return math.lgamma(x)


@njit(cache=True, nogil=True)
def _erfc_scalar(x):
    return math.erfc(x)


@njit(cache=True, nogil=True)
def _exp_x2(x):
    """exp(x^2) without the rounding of x^2: x = hi + lo with hi of 26 bits, so that hi^2 is exact."""
    c = 134217729.0 * x                              # 2^27 + 1 (Veltkamp's split)
    hi = c - (c - x)
    lo = x - hi
    return math.exp(hi * hi) * math.exp(2.0 * hi * lo + lo * lo)


@njit(cache=True, nogil=True)
def _erfcx_scalar(x):
    if math.isnan(x):
        return x
    if x < 26.0:
        if x < -26.7:
            return math.inf
        return _exp_x2(x) * math.erfc(x)
    inv = 1.0 / (2.0 * x * x)
    term, total = 1.0, 1.0
    for k in range(1, 30):
        term *= -(2.0 * k - 1.0) * inv
        total += term
        if abs(term) < 1e-17:
            break
    return total / (x * _SQRT_PI)


@njit(cache=True, nogil=True)
def _log_ndtr_scalar(x):
    if math.isnan(x):
        return x
    if x >= 0.0:
        return math.log1p(-0.5 * math.erfc(x * _SQRT_HALF))
    return math.log(0.5 * _erfcx_scalar(-x * _SQRT_HALF)) - 0.5 * x * x


@njit(cache=True, nogil=True)
def _ndtri_tail(q):
    """Phi^-1(q) for 0 < q < 1/4: Abramowitz-Stegun 26.2.23 (error < 4.5e-4), then Newton on log Phi."""
    lq = math.log(q)
    t = math.sqrt(-2.0 * lq)
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    for _ in range(10):
        y = _log_ndtr_scalar(x)
        step = (y - lq) * _SQRT_2PI * math.exp(y + 0.5 * x * x)     # (log Phi - log q) / (phi / Phi)
        x -= step
        if abs(step) <= 1e-16 * abs(x):
            break
    return x


@njit(cache=True, nogil=True)
def _ndtri_scalar(p):
    if math.isnan(p) or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if p > 0.75:
        return -_ndtri_tail(1.0 - p)
    if p < 0.25:
        return _ndtri_tail(p)
    return math.sqrt(2.0) * _erfinv_scalar(2.0 * p - 1.0)


@njit(cache=True, nogil=True)
def _bessel_i_scalar(nu, x, scaled):
    """I_0 or I_1 (nu), times exp(-|x|) when scaled: the series or the asymptotic expansion of the docstring."""
    if math.isnan(x):
        return x
    a = abs(x)
    if a <= _BESSEL_SWITCH:
        q = 0.25 * a * a
        term, total = 1.0, 1.0
        k = 1
        while term > 1e-17 * total:
            term *= q / (k * (k + nu))
            total += term
            k += 1
        v = total if nu == 0 else 0.5 * a * total
        if scaled:
            v *= math.exp(-a)
    else:
        mu = 4.0 * nu * nu
        term, total = 1.0, 1.0
        for k in range(1, 60):
            term *= -(mu - (2.0 * k - 1.0) ** 2) / (8.0 * k * a)
            total += term
            if abs(term) < 1e-17 * abs(total):
                break
        v = total / math.sqrt(2.0 * math.pi * a)
        if not scaled:
            half = math.exp(0.5 * a)                 # in two halves: e^a alone overflows before I_nu does
            v = v * half * half
    return -v if nu == 1 and x < 0.0 else v


@njit(cache=True, nogil=True)
def _bessel_j_scalar(nu, x):
    """J_0 or J_1 (nu): the trapezoid rule or the asymptotic expansion of the docstring."""
    if math.isnan(x):
        return x
    a = abs(x)
    if math.isinf(a):
        return math.nan                              # as PyTorch's (the limit is 0)
    if a <= 2.0:
        q = -0.25 * a * a
        term, total = 1.0, 1.0
        k = 1
        while abs(term) > 1e-17 * abs(total):
            term *= q / (k * (k + nu))
            total += term
            k += 1
        v = total if nu == 0 else 0.5 * a * total
    elif a <= _BESSEL_SWITCH:
        total = 0.0
        for k in range(_J_POINTS):
            t = 2.0 * math.pi * k / _J_POINTS
            total += math.cos(nu * t - a * math.sin(t))
        v = total / _J_POINTS
    else:
        mu = 4.0 * nu * nu
        p, q = 1.0, 0.0
        term = 1.0
        for k in range(1, 80):
            term *= (mu - (2.0 * k - 1.0) ** 2) / (8.0 * k * a)
            if k % 2 == 1:
                q += term if k % 4 == 1 else -term
            else:
                p += -term if k % 4 == 2 else term
            if abs(term) < 1e-17:
                break
        c, s = math.cos(a), math.sin(a)
        if nu == 0:                                  # chi = a - pi/4
            cos_chi, sin_chi = (c + s) * _SQRT_HALF, (s - c) * _SQRT_HALF
        else:                                        # chi = a - 3 pi/4
            cos_chi, sin_chi = (s - c) * _SQRT_HALF, -(s + c) * _SQRT_HALF
        v = math.sqrt(2.0 / (math.pi * a)) * (p * cos_chi - q * sin_chi)
    return -v if nu == 1 and x < 0.0 else v


@njit(cache=True, nogil=True)
def _j0_scalar(x):
    return _bessel_j_scalar(0, x)


@njit(cache=True, nogil=True)
def _j1_scalar(x):
    return _bessel_j_scalar(1, x)


@njit(cache=True, nogil=True)
def _i0_scalar(x):
    return _bessel_i_scalar(0, x, False)


@njit(cache=True, nogil=True)
def _i0e_scalar(x):
    return _bessel_i_scalar(0, x, True)


@njit(cache=True, nogil=True)
def _i1_scalar(x):
    return _bessel_i_scalar(1, x, False)


@njit(cache=True, nogil=True)
def _i1e_scalar(x):
    return _bessel_i_scalar(1, x, True)


@njit(cache=True, nogil=True)
def _zeta_scalar(s, q):
    if math.isnan(s) or math.isnan(q) or s < 1.0:
        return math.nan
    if s == 1.0:
        return math.inf
    if q <= 0.0:
        if q == math.floor(q):
            return math.inf
        if s != math.floor(s):
            return math.nan                          # (q + k)^-s is complex
    total = 0.0
    w = q
    while w < 10.0 + s:
        term = w ** -s
        total += term
        w += 1.0
        if w > 0.0 and abs(term) < 1e-17 * abs(total):
            return total
    total += w ** (1.0 - s) / (s - 1.0) + 0.5 * w ** -s
    factor = s * w ** (-s - 1.0)                     # s (s+1) ... (s+2j-2) w^(1-s-2j) for j = 1
    fact = 2.0                                       # (2j)!
    for j in range(1, 8):
        total += _BERNOULLI[j - 1] / fact * factor
        factor *= (s + 2 * j - 1) * (s + 2 * j) / (w * w)
        fact *= (2 * j + 1) * (2 * j + 2)
    return total


@njit(cache=True, nogil=True)
def _gamma_prefactor(a, x):
    """x^a e^-x / Gamma(a), through logarithms."""
    return math.exp(a * math.log(x) - x - math.lgamma(a))


@njit(cache=True, nogil=True)
def _gammainc_series(a, x):
    """P(a, x) by its series (x < a + 1)."""
    term = 1.0 / a
    total = term
    n = 1.0
    while abs(term) > 1e-17 * abs(total) and n < 100000.0:
        term *= x / (a + n)
        total += term
        n += 1.0
    return total * _gamma_prefactor(a, x)


@njit(cache=True, nogil=True)
def _gammaincc_fraction(a, x):
    """Q(a, x) by Legendre's continued fraction 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / ...)),
    evaluated by the modified Lentz method (x >= a + 1)."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    n = 1.0
    while n < 100000.0:
        an = -n * (n - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
        n += 1.0
    return h * _gamma_prefactor(a, x)


@njit(cache=True, nogil=True)
def _lgamma1p(a):
    """lgamma(1 + a) for |a| <= 1/2, without the rounding of 1 + a: its Taylor series in a."""
    total = -_EULER * a
    power = -a
    for k in range(_ZETA_INTEGERS.size):
        power *= -a
        total += _ZETA_INTEGERS[k] * power / (k + 2)
        if abs(power) < 1e-17:
            break
    return total


@njit(cache=True, nogil=True)
def _gammaincc_small(a, x):
    """Q(a, x) for a < 1/2, x < a + 1 (where 1 - P cancels):
    Q = -expm1(a log x - lgamma(1 + a)) - a x^a / Gamma(a + 1) sum_{n>=1} (-x)^n / (n! (a + n))."""
    u = a * math.log(x) - _lgamma1p(a)
    term, total, n = 1.0, 0.0, 1.0
    while True:
        term *= -x / n
        piece = term / (a + n)
        total += piece
        if abs(piece) <= 1e-17 * abs(total):
            break
        n += 1.0
    return -math.expm1(u) - a * math.exp(u) * total


@njit(cache=True, nogil=True)
def _gammainc_pair(a, x, upper):
    """P(a, x), or Q(a, x) when upper; NaN outside a >= 0, x >= 0 (as PyTorch's)."""
    if math.isnan(a) or math.isnan(x) or a < 0.0 or x < 0.0 or (a == 0.0 and x == 0.0):
        return math.nan
    if a == 0.0:
        return 0.0 if upper else 1.0
    if x == 0.0:
        return 1.0 if upper else 0.0
    if math.isinf(a):
        return math.nan if math.isinf(x) else (1.0 if upper else 0.0)
    if math.isinf(x):
        return 0.0 if upper else 1.0
    if x < a + 1.0:
        if upper and a < 0.5:
            return _gammaincc_small(a, x)
        p = _gammainc_series(a, x)
        return 1.0 - p if upper else p
    q = _gammaincc_fraction(a, x)
    return q if upper else 1.0 - q


@njit(cache=True, nogil=True)
def _gammainc_scalar(a, x):
    return _gammainc_pair(a, x, False)


@njit(cache=True, nogil=True)
def _gammaincc_scalar(a, x):
    return _gammainc_pair(a, x, True)


# ----------------------------------------------------------------------------- loops (Numba)
def _loops(scalar):
    """A serial and a parallel loop applying ``scalar`` elementwise (flat arrays)."""
    @njit(cache=True, nogil=True)
    def serial(x, out):
        for i in range(x.size):
            out[i] = scalar(np.float64(x[i]))

    @njit(cache=True, nogil=True, parallel=True)
    def parallel(x, out):
        for i in prange(x.size):
            out[i] = scalar(np.float64(x[i]))
    return serial, parallel


_LGAMMA = _loops(_lgamma_scalar)
_DIGAMMA = _loops(_digamma_scalar)
_ERFINV = _loops(_erfinv_scalar)
_ERFC = _loops(_erfc_scalar)
_ERFCX = _loops(_erfcx_scalar)
_LOG_NDTR = _loops(_log_ndtr_scalar)
_NDTRI = _loops(_ndtri_scalar)
_I0 = _loops(_i0_scalar)
_I0E = _loops(_i0e_scalar)
_I1 = _loops(_i1_scalar)
_I1E = _loops(_i1e_scalar)
_J0 = _loops(_j0_scalar)
_J1 = _loops(_j1_scalar)


def _binary_loops(scalar):
    """Serial and parallel loops applying ``scalar(a, b)`` elementwise (flat arrays of one size)."""
    @njit(cache=True, nogil=True)
    def serial(a, b, out):
        for i in range(a.size):
            out[i] = scalar(np.float64(a[i]), np.float64(b[i]))

    @njit(cache=True, nogil=True, parallel=True)
    def parallel(a, b, out):
        for i in prange(a.size):
            out[i] = scalar(np.float64(a[i]), np.float64(b[i]))
    return serial, parallel


_ZETA = _binary_loops(_zeta_scalar)
_GAMMAINC = _binary_loops(_gammainc_scalar)
_GAMMAINCC = _binary_loops(_gammaincc_scalar)


@njit(cache=True, nogil=True)
def _polygamma_serial(n, x, out):
    for i in range(x.size):
        out[i] = _polygamma_scalar(n, np.float64(x[i]))


@njit(cache=True, nogil=True, parallel=True)
def _polygamma_parallel(n, x, out):
    for i in prange(x.size):
        out[i] = _polygamma_scalar(n, np.float64(x[i]))


# ----------------------------------------------------------------------------- CuPy (GPU)
_CUDA_PREAMBLE = r"""
__device__ double mg_digamma(double x) {
    if (x == 0.0) return signbit(x) ? CUDART_INF : -CUDART_INF;
    if (isnan(x)) return x;
    double reflect = 0.0;
    if (x < 0.0) {
        if (x == floor(x)) return CUDART_NAN;
        reflect = -CUDART_PI / tan(CUDART_PI * x);
        x = 1.0 - x;
    }
    double acc = 0.0;
    while (x < 10.0) { acc -= 1.0 / x; x += 1.0; }
    const double b[7] = {1.0/6, -1.0/30, 1.0/42, -1.0/30, 5.0/66, -691.0/2730, 7.0/6};
    double inv2 = 1.0 / (x * x), power = inv2, series = 0.0;
    for (int k = 0; k < 7; ++k) { series += b[k] / (2.0 * (k + 1)) * power; power *= inv2; }
    return reflect + acc + log(x) - 0.5 / x - series;
}
__device__ double mg_polygamma(int n, double x) {
    if (isnan(x)) return x;
    if (x <= 0.0 && x == floor(x)) return (n % 2 == 1) ? CUDART_INF : CUDART_NAN;
    double sign = (n % 2 == 1) ? 1.0 : -1.0;
    double fact = tgamma(n + 1.0), acc = 0.0;
    while (x < 15.0) { acc += sign * fact / pow(x, n + 1.0); x += 1.0; }
    const double b[7] = {1.0/6, -1.0/30, 1.0/42, -1.0/30, 5.0/66, -691.0/2730, 7.0/6};
    double series = tgamma((double)n) / pow(x, (double)n) + fact / (2.0 * pow(x, n + 1.0));
    for (int k = 1; k < 8; ++k)
        series += b[k - 1] * tgamma(2.0 * k + n) / tgamma(2.0 * k + 1.0) / pow(x, 2.0 * k + n);
    return acc + sign * series;
}
"""
_cuda_kernels = {}
#: Functions without a CUDA kernel: CuPy arrays go through the CPU loops.
_HOST_ONLY = {"erfcx", "log_ndtr", "ndtri", "i0", "i0e", "i1", "i1e", "zeta", "gammainc", "gammaincc", "j0", "j1"}


def _cuda(name):
    if not _cuda_kernels:
        import cupy as cp
        pre = "#include <cupy/math_constants.h>\n" + _CUDA_PREAMBLE
        _cuda_kernels["lgamma"] = cp.ElementwiseKernel("T x", "T y", "y = (T)lgamma((double)x)", "minigrad_lgamma")
        _cuda_kernels["erfc"] = cp.ElementwiseKernel("T x", "T y", "y = (T)erfc((double)x)", "minigrad_erfc")
        _cuda_kernels["erfinv"] = cp.ElementwiseKernel("T x", "T y", "y = (T)erfinv((double)x)", "minigrad_erfinv")
        _cuda_kernels["digamma"] = cp.ElementwiseKernel("T x", "T y", "y = (T)mg_digamma((double)x)",
                                                        "minigrad_digamma", preamble=pre)
        _cuda_kernels["polygamma"] = cp.ElementwiseKernel("int32 n, T x", "T y", "y = (T)mg_polygamma(n, (double)x)",
                                                          "minigrad_polygamma", preamble=pre)
    return _cuda_kernels[name]


# ----------------------------------------------------------------------------- public entry points
def _elementwise(name, loops, x):
    check_float(name, x)
    if not is_numpy(x):
        if name in _HOST_ONLY:                       # no CUDA kernel yet: computed on the host, sent back
            import cupy as cp
            return cp.asarray(_elementwise(name, loops, cp.asnumpy(x)))
        return _cuda(name)(x)
    x = contiguous(x)
    out = np.empty_like(x)
    kernel = loops[1] if x.size >= PARALLEL_MIN_ELEMENTS else loops[0]
    kernel(x.reshape(-1), out.reshape(-1))
    return out


def _elementwise2(name, loops, a, b):
    """``loops`` on two arrays of one float dtype, broadcast against each other."""
    check_float(name, a, b)
    if not (is_numpy(a) and is_numpy(b)):
        import cupy as cp                            # no CUDA kernels: on the host, sent back
        return cp.asarray(_elementwise2(name, loops, cp.asnumpy(a), cp.asnumpy(b)))
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = (contiguous(v) if v.shape == shape else np.broadcast_to(v, shape).copy() for v in (a, b))
    out = np.empty(a.shape, a.dtype)
    kernel = loops[1] if a.size >= PARALLEL_MIN_ELEMENTS else loops[0]
    kernel(a.reshape(-1), b.reshape(-1), out.reshape(-1))
    return out


def zeta(s, q):
    """The Hurwitz zeta function sum_k (q + k)^-s of two broadcastable arrays."""
    return _elementwise2("zeta", _ZETA, s, q)


def gammainc(a, x):
    """The regularised lower incomplete gamma function P(a, x)."""
    return _elementwise2("gammainc", _GAMMAINC, a, x)


def gammaincc(a, x):
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _elementwise2("gammaincc", _GAMMAINCC, a, x)


def lgamma(x):
    """log |Gamma(x)| of a float32/float64 array on CPU or GPU."""
    return _elementwise("lgamma", _LGAMMA, x)


def digamma(x):
    """The digamma function (derivative of lgamma); -inf at +0, nan at the negative integers."""
    return _elementwise("digamma", _DIGAMMA, x)


def erfc(x):
    """The complementary error function 1 - erf(x), accurate where erf(x) is near 1."""
    return _elementwise("erfc", _ERFC, x)


def erfinv(x):
    """The inverse error function; +-inf at +-1, nan outside [-1, 1]."""
    return _elementwise("erfinv", _ERFINV, x)


def polygamma(n, x):
    """The n-th derivative of digamma, n >= 1 (n = 0 is :func:`digamma`)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"polygamma: n must be an integer >= 1 here (0 is digamma), got {n!r}")
    check_float("polygamma", x)
    if not is_numpy(x):
        import cupy as cp
        return _cuda("polygamma")(cp.int32(n), x)
    x = contiguous(x)
    out = np.empty_like(x)
    kernel = _polygamma_parallel if x.size >= PARALLEL_MIN_ELEMENTS else _polygamma_serial
    kernel(int(n), x.reshape(-1), out.reshape(-1))
    return out


def erfcx(x):
    """The scaled complementary error function exp(x^2) erfc(x), finite for large x."""
    return _elementwise("erfcx", _ERFCX, x)


def log_ndtr(x):
    """log of the standard normal CDF, accurate far into the left tail."""
    return _elementwise("log_ndtr", _LOG_NDTR, x)


def ndtri(x):
    """The inverse of the standard normal CDF; +-inf at 1 and 0, nan outside [0, 1]."""
    return _elementwise("ndtri", _NDTRI, x)


def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    return _elementwise("i0", _I0, x)


def i0e(x):
    """exp(-|x|) i0(x)."""
    return _elementwise("i0e", _I0E, x)


def i1(x):
    """The modified Bessel function of the first kind, order 1."""
    return _elementwise("i1", _I1, x)


def i1e(x):
    """exp(-|x|) i1(x)."""
    return _elementwise("i1e", _I1E, x)


def j0(x):
    """The Bessel function of the first kind, order 0."""
    return _elementwise("j0", _J0, x)


def j1(x):
    """The Bessel function of the first kind, order 1."""
    return _elementwise("j1", _J1, x)
