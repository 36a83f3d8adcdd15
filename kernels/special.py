"""Special functions NumPy has no ufunc for: lgamma, digamma, polygamma (n >= 1), erfinv, erfc.

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
        return _cuda(name)(x)
    x = contiguous(x)
    out = np.empty_like(x)
    kernel = loops[1] if x.size >= PARALLEL_MIN_ELEMENTS else loops[0]
    kernel(x.reshape(-1), out.reshape(-1))
    return out


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
