"""Finite-difference gradient checking, for anyone's ops.

``gradcheck(fn, inputs)`` compares the gradients that backpropagation gives with central
differences ``(f(x + eps u) - f(x - eps u)) / 2 eps``.  Two modes, picked by size:

* **full** (inputs x outputs elements up to ``full_jacobian_limit``): the whole Jacobian,
  element by element (two forwards per input element, one backward per output element with a
  one-hot cotangent), then ``n_cotangents`` backwards with random Gaussian cotangents ``v``
  compared with ``v . J``: a backward that is not linear in its incoming gradient (``abs(g)``,
  ``g ** 3``, a gradient that ignores ``g``) agrees with the one-hot rows but not with these.
* **projections** (larger problems): ``n_cotangents`` backwards with Gaussian cotangents
  ``v_i`` and ``n_projections`` pairs of forwards along Rademacher directions ``u_j`` (every
  element moves by exactly ``+-eps``); every pair ``(v_i, u_j)`` compares ``v_i . J . u_j``.

What it guarantees (float64 defaults):

* every comparison passes only if ``|analytic - numeric| <= atol + rtol |numeric| + rho``,
  with ``rho`` the rounding budget of the difference quotient (below);
* full mode: a Jacobian element off by more than that tolerance fails, always: off by 0.02%,
  an element ``J`` fails once ``2e-4 |J| > 1e-8 + 1e-7 |J| + 1.8e-9 |f|``, so from
  ``|J| ~ 1e-4`` for outputs ``f`` of order 1;
* projections: if some element of the Jacobian is off by ``e`` and ``e`` exceeds twice the
  comparison tolerance, the check misses it with probability at most
  ``0.383 ** n_cotangents + 0.5 ** n_projections`` (``< 1e-4`` with the defaults 10 and 16).
  Why: ``w = E^T v`` has ``|w_k| >= e/2`` with probability ``>= 0.617`` (a Gaussian of standard
  deviation ``>= e``), and for any ``w`` a Rademacher ``u`` gives ``|w . u| >= |w_k|`` with
  probability ``>= 1/2`` (flipping ``u_k`` moves ``w . u`` by ``2 |w_k|``).  With ``|v J u|``
  about ``|J|_F`` and ``n`` outputs of order 1, a 0.02% error in one element of order 1 is
  caught while ``1e-7 |J|_F + 1.4e-9 n < 1e-4``: an elementwise op on up to about 50 000
  elements, a 16-channel convolution on small images;
* a NaN or an infinity in either Jacobian is a failure, unless ``allow_nonfinite=True``:
  then the elements where either side is not finite are skipped and the rest compared.

The finite-difference error budget (float64, ``eps = 1e-6``): truncation ``eps^2 |f'''| / 6``,
about ``1e-12 |f'''|`` (below ``1e-10`` relative to ``f'`` for the registry's stiffest
inputs: powers and reciprocals at ``x = 1/4``), is covered by ``rtol = 1e-7``; rounding, each
output carrying up to ``ROUNDING_ULPS`` = 16 units in the last place, gives
``rho = 16 u sum_i |v_i| |f_i| / eps``
(``u`` = 2^-53; ``1.8e-9 |f|`` per element): computed from the values, so large outputs do
not need a loose ``atol``; ``atol = 1e-8`` covers Jacobian elements that are zero.  In float32
(``u`` = 2^-24) the same budget needs ``eps = 1e-3`` and gives the looser defaults
``atol = 1e-4``, ``rtol = 5e-3``; a warning says the check is coarse.

``fn`` may return a Tensor or a tuple of them (outputs that are not floating point, or that do
not require grad, are left out; a gradient that is ``None`` counts as zero), so a function
that returns gradients can itself be checked: that is how a second-order check is built.  The
finite-difference evaluations run under ``no_grad`` with inputs that require grad: a function
that differentiates inside does so within ``enable_grad()``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import autograd, backend
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "gradcheck_report", "GradcheckError", "GradcheckReport", "DEFAULTS"]

FULL_JACOBIAN_LIMIT = 4096     # inputs x outputs elements up to which the whole Jacobian is compared
ROUNDING_ULPS = 16             # rounding errors an output value may carry, in units of its last place

#: Default (eps, atol, rtol) per precision: see the module docstring for the budget behind them.
DEFAULTS = {
    np.dtype(np.float64): (1e-6, 1e-8, 1e-7),
    np.dtype(np.float32): (1e-3, 1e-4, 5e-3),
    np.dtype(np.float16): (1e-2, 1e-2, 5e-2),
}


class GradcheckError(RuntimeError, AssertionError):
    """The analytic gradient disagrees with finite differences (a RuntimeError, as PyTorch's)."""


#: PyTorch's options of gradcheck/gradgradcheck for checks minigrad does not make (forward-mode
#: AD, batched grads, dtype and non-contiguity variants): accepted, so its calls run unchanged.
_TORCH_ONLY_OPTIONS = frozenset({
    "nondet_tol", "check_undefined_grad", "check_grad_dtypes", "check_batched_grad", "check_batched_forward_grad",
    "check_forward_ad", "check_backward_ad", "fast_mode", "masked", "gen_non_contig_grad_outputs",
    "check_fwd_over_rev", "check_rev_over_rev"})


@dataclass
class GradcheckReport:
    ok: bool
    worst_error: float = 0.0          # largest |analytic - numeric|
    worst_excess: float = -np.inf     # largest |analytic - numeric| - tolerance
    message: str = ""
    mode: str = "full"
    details: dict = field(default_factory=dict)


def _as_tuple(result):
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def _checked_outputs(result):
    """Positions of the outputs that are checked: floating-point Tensors that require grad."""
    return [k for k, o in enumerate(_as_tuple(result))
            if isinstance(o, Tensor) and o.dtype.kind == "f" and o.requires_grad]


def _evaluate(fn, inputs, diff_idx, arrays, out_idx):
    """fn on ``inputs`` with the differentiable ones replaced by ``arrays`` (leaves that require
    grad, as the originals, so that a function differentiating inside ``enable_grad()`` works):
    the checked outputs, flattened, as float64 host arrays."""
    args = list(inputs)
    for k, arr in zip(diff_idx, arrays):
        args[k] = Tensor._wrap(arr).requires_grad_()
    with autograd.no_grad():
        outs = _as_tuple(fn(*args))
    return [_to_host(outs[k]._data).reshape(-1) for k in out_idx]


def _to_host(a):
    return backend.to_device(a, backend.CPU).astype(np.float64)


def _precision(dtypes):
    """The least precise floating dtype among ``dtypes`` (its machine epsilon decides the defaults)."""
    return max((np.dtype(d) for d in dtypes), key=lambda d: np.finfo(d).eps)


def gradcheck_report(fn, inputs, eps=None, atol=None, rtol=None, n_projections=16, seed=0,
                     full_jacobian_limit=FULL_JACOBIAN_LIMIT, n_cotangents=None,
                     allow_nonfinite=False) -> GradcheckReport:
    """Run the check and return a :class:`GradcheckReport` instead of raising.

    ``eps``, ``atol``, ``rtol`` default from the inputs' precision (:data:`DEFAULTS`);
    ``n_cotangents`` (Gaussian cotangents) defaults to 3 in full mode and 10 in projection mode.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff_idx = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck: no input requires grad")
    for k in diff_idx:
        if inputs[k].dtype != np.float64:
            warnings.warn(f"gradcheck: input {k} is {inputs[k].dtype}, not float64; finite differences "
                          f"in low precision are coarse (looser defaults apply)", stacklevel=3)
    result = fn(*inputs)
    out_idx = _checked_outputs(result)
    if not out_idx:
        raise ValueError("gradcheck: fn returned no floating-point output that requires grad")
    outputs = [_as_tuple(result)[k] for k in out_idx]
    base = [inputs[k]._data for k in diff_idx]
    precision = _precision([a.dtype for a in base] + [o.dtype for o in outputs])
    d_eps, d_atol, d_rtol = DEFAULTS.get(precision, DEFAULTS[np.dtype(np.float16)])
    eps = d_eps if eps is None else eps
    check = _Comparison(d_atol if atol is None else atol, d_rtol if rtol is None else rtol,
                        allow_nonfinite, ROUNDING_ULPS * float(np.finfo(precision).eps) / 2)   # u = eps_machine / 2
    problem = _Problem(fn, inputs, diff_idx, out_idx, outputs, base, eps, np.random.default_rng(seed))
    n_in = sum(int(a.size) for a in base)
    n_out = sum(int(o._data.size) for o in outputs)
    if n_in * n_out <= full_jacobian_limit:
        _full_jacobian(problem, check, 3 if n_cotangents is None else n_cotangents)
        mode = "full"
    else:
        _projections(problem, check, 10 if n_cotangents is None else n_cotangents, n_projections)
        mode = "projections"
    return GradcheckReport(ok=check.ok, worst_error=check.worst_error, worst_excess=check.worst_excess,
                           message=check.message, mode=mode,
                           details={"eps": eps, "atol": check.atol, "rtol": check.rtol,
                                    "comparisons": check.count})


def gradcheck(fn, inputs, eps=None, atol=None, rtol=None, n_projections=16, seed=0, raise_exception=True,
              **options) -> bool:
    """Check ``fn``'s gradients with respect to every input that requires grad.

    ``fn`` takes ``*inputs`` and returns a Tensor or a tuple of Tensors.  Returns True, or
    raises :class:`GradcheckError` naming the input, the worst element and both values.
    Tolerances default from the precision (float64 tight, float32 looser: see the module
    docstring for what is guaranteed); ``options`` are those of :func:`gradcheck_report`
    (``n_cotangents``, ``allow_nonfinite``, ``full_jacobian_limit``).  ``raise_exception=False``
    returns False instead of raising; PyTorch's other options are accepted and ignored.
    """
    options = {k: v for k, v in options.items() if k not in _TORCH_ONLY_OPTIONS}
    report = gradcheck_report(fn, inputs, eps=eps, atol=atol, rtol=rtol, n_projections=n_projections,
                              seed=seed, **options)
    if not report.ok:
        if not raise_exception:
            return False
        raise GradcheckError(report.message)
    return True


@dataclass
class _Problem:
    fn: object
    inputs: tuple
    diff_idx: list
    out_idx: list
    outputs: list
    base: list
    eps: float
    rng: np.random.Generator

    def evaluate(self, arrays):
        return _evaluate(self.fn, self.inputs, self.diff_idx, arrays, self.out_idx)

    def backward(self, cotangents):
        """Host float64 gradients (zeros for an input the outputs do not reach)."""
        vs = [backend.to_device(c.reshape(o.shape).astype(o.dtype), o.device) for c, o in zip(cotangents, self.outputs)]
        grads = autograd.grad(self.outputs, [self.inputs[k] for k in self.diff_idx], grad_outputs=vs,
                              retain_graph=True, allow_unused=True)
        return [np.zeros(a.size) if g is None else _to_host(g._data).reshape(-1) for g, a in zip(grads, self.base)]

    def gaussian_cotangents(self):
        return [self.rng.standard_normal(o._data.size) for o in self.outputs]

    def shifted(self, j, e, sign, direction=None):
        """Copies of the inputs with input ``j``'s element ``e`` (or, given ``direction``, every
        input along it) moved by ``sign * eps``, in the inputs' own dtype."""
        arrays = [b.copy() for b in self.base]
        if direction is None:
            arrays[j].reshape(-1)[e] += sign * self.eps
        else:
            arrays = [a + (sign * self.eps * backend.xp_of(a).asarray(u.reshape(a.shape))).astype(a.dtype)
                      for a, u in zip(arrays, direction)]
        return [np.asarray(a) if isinstance(a, np.generic) else a for a in arrays]   # 0-d sums are scalars


class _Comparison:
    """Keeps the worst disagreement seen and the message that describes it."""

    def __init__(self, atol, rtol, allow_nonfinite, rounding):
        self.atol, self.rtol, self.allow_nonfinite, self.rounding = atol, rtol, allow_nonfinite, rounding
        self.ok = True
        self.worst_error = 0.0
        self.worst_excess = -np.inf
        self.message = ""
        self.count = 0

    def compare(self, analytic, numeric, describe, scale=None, what="numeric"):
        """``analytic`` and ``numeric`` float64 arrays; ``scale`` (same shape): what the rounding
        errors of ``numeric`` are relative to (``sum |v| |f| / step`` for a difference quotient),
        times ``rounding`` (ROUNDING_ULPS units in the last place); ``describe(flat)`` names an element."""
        analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
        self.count += analytic.size
        if not analytic.size:
            return
        finite = np.isfinite(analytic) & np.isfinite(numeric)
        with np.errstate(invalid="ignore"):
            diff = np.where(finite, np.abs(analytic - numeric), np.inf)
            tol = self.atol + self.rtol * np.abs(np.where(finite, numeric, 0.0))
            if scale is not None:
                tol = tol + self.rounding * np.nan_to_num(np.asarray(scale, np.float64), nan=0.0, posinf=0.0)
            if self.allow_nonfinite:        # the caller expects NaN or infinity: compare the rest
                diff = np.where(finite, diff, 0.0)
        excess = diff - tol
        self.worst_error = max(self.worst_error, float(np.max(np.where(finite, diff, 0.0))))
        k = int(np.argmax(excess))
        if excess.flat[k] > self.worst_excess:
            self.worst_excess = float(excess.flat[k])
            if excess.flat[k] > 0:
                if not finite.flat[k]:
                    why = "a non-finite value (pass allow_nonfinite=True if it is expected)"
                else:
                    why = (f"|diff| {diff.flat[k]:.3g} > tolerance {tol.flat[k]:.3g} (atol {self.atol:g} + "
                           f"rtol {self.rtol:g} * |{what}| + rounding)")
                self.message = (f"gradcheck: {describe(k)}: analytic {analytic.flat[k]:.10g} vs {what} "
                                f"{numeric.flat[k]:.10g}: {why}")
        if (excess > 0).any():
            self.ok = False


def _element(shape, flat):
    return list(map(int, np.unravel_index(flat, shape))) if shape else []


def _full_jacobian(p, check, n_cotangents):
    n_out = [o._data.size for o in p.outputs]
    offsets = np.cumsum([0] + n_out)
    rows = int(offsets[-1])
    numeric, magnitude, analytic = [], [], []
    for j, a in enumerate(p.base):
        num, mag = np.zeros((rows, a.size)), np.zeros((rows, a.size))
        for e in range(a.size):
            plus, minus = p.shifted(j, e, 1), p.shifted(j, e, -1)
            fp, fm = np.concatenate(p.evaluate(plus)), np.concatenate(p.evaluate(minus))
            with np.errstate(invalid="ignore", divide="ignore"):    # an infinite input: the comparison says so
                step = float(_to_host(plus[j].reshape(-1)[e:e + 1])[0] - _to_host(minus[j].reshape(-1)[e:e + 1])[0])
                num[:, e] = (fp - fm) / step
                mag[:, e] = (np.abs(fp) + np.abs(fm)) / step        # what this column's rounding scales with
        numeric.append(num)
        magnitude.append(mag)
        analytic.append(np.zeros_like(num))
    for r in range(rows):                   # one backward per output element (one-hot cotangent)
        onehot = np.zeros(rows)
        onehot[r] = 1.0
        for j, g in enumerate(p.backward(np.split(onehot, offsets[1:-1]))):
            analytic[j][r] = g

    def naming(j):
        k, shape = p.diff_idx[j], tuple(p.base[j].shape)

        def describe(flat):
            r, c = divmod(flat, analytic[j].shape[1])
            o = int(np.searchsorted(offsets, r, side="right") - 1)
            return (f"d output {o}{_element(p.outputs[o].shape, r - offsets[o])} / d input {k}"
                    f"{_element(shape, c)} (input shape {shape})")
        return describe
    for j in range(len(p.base)):
        check.compare(analytic[j], numeric[j], naming(j), scale=magnitude[j])
    # linearity in the cotangent: backward(v) must be v . J for Gaussian v, not only for one-hot v
    for c in range(n_cotangents):
        v = np.concatenate(p.gaussian_cotangents()) if rows else np.zeros(0)
        for j, g in enumerate(p.backward(np.split(v, offsets[1:-1]))):
            k = p.diff_idx[j]
            expected = v @ analytic[j]
            check.compare(g, expected, lambda flat, k=k, j=j: (
                f"backward of Gaussian cotangent {c}, d input {k}{_element(tuple(p.base[j].shape), flat)}: "
                f"not linear in the incoming gradient"), scale=np.abs(v) @ np.abs(analytic[j]),
                what="v . J")


def _projections(p, check, n_cotangents, n_directions):
    offsets = np.cumsum([0] + [o._data.size for o in p.outputs])
    vs = [np.concatenate(p.gaussian_cotangents()) for _ in range(n_cotangents)]
    gs = [p.backward(np.split(v, offsets[1:-1])) for v in vs]
    for d in range(n_directions):
        us = [p.rng.choice([-1.0, 1.0], size=a.size) for a in p.base]
        plus, minus = p.shifted(None, None, 1, us), p.shifted(None, None, -1, us)
        # the step each element really took, in its own dtype (exactly 2 eps u_k in float64 mostly); a NaN or
        # infinite input (allow_nonfinite) does not move: its step is 0, not inf - inf
        with np.errstate(invalid="ignore"):
            steps = [np.nan_to_num((_to_host(a).reshape(-1) - _to_host(b).reshape(-1)) / (2 * p.eps),
                                   nan=0.0, posinf=0.0, neginf=0.0) for a, b in zip(plus, minus)]
            fp, fm = np.concatenate(p.evaluate(plus)), np.concatenate(p.evaluate(minus))
            quotient = (fp - fm) / (2 * p.eps)
        size = np.abs(fp) + np.abs(fm)
        for i, (v, g) in enumerate(zip(vs, gs)):
            analytic = sum(float(gj @ sj) for gj, sj in zip(g, steps))
            check.compare(np.array([analytic]), np.array([float(v @ quotient)]),
                          lambda _, i=i, d=d: f"random projection v{i} . J . u{d} (over inputs {p.diff_idx})",
                          scale=np.array([float(np.abs(v) @ size) / (2 * p.eps)
                                          + sum(float(np.abs(gj) @ np.abs(sj)) for gj, sj in zip(g, steps))]))


# ----------------------------------------------------------------------------- second order
def gradgradcheck(fn, inputs, grad_outputs=None, eps=None, atol=None, rtol=None, seed=0, **options) -> bool:
    """Check second derivatives: the analytic gradient of the gradient against finite
    differences of the analytic gradient (as ``torch.autograd.gradgradcheck``).

    The function checked is ``(inputs, v) -> grad(fn(inputs), inputs, v, create_graph=True)``:
    its gradient is what a backward of a backward computes, with respect to the inputs (second
    derivatives proper) and to the cotangent ``v`` (the first derivative again, by linearity).
    ``grad_outputs`` (one per floating output of ``fn``) default to random normal ones; they
    are differentiated too.  Tolerances default to :func:`gradcheck`'s for the dtype; raises
    :class:`GradcheckError` like it.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradgradcheck: no input requires grad")
    outputs = _outputs_of(fn(*inputs))
    if not outputs:
        raise ValueError("gradgradcheck: fn returned no floating-point output that requires grad")
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [Tensor._wrap(backend.to_device(rng.standard_normal(o.shape).astype(o.dtype), o.device))
                        for o in outputs]
    else:
        grad_outputs = [g if isinstance(g, Tensor) else Tensor(g) for g in
                        (grad_outputs if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,))]
    cotangents = [Tensor._wrap(g._data).requires_grad_() for g in grad_outputs]
    n = len(inputs)

    def first_derivative(*args):
        xs, vs = list(args[:n]), args[n:]
        with autograd.enable_grad():
            for k in diff:           # finite differences pass plain tensors: make them leaves again
                if not xs[k].requires_grad:
                    xs[k] = _leaf(xs[k])
            vs = [v if v.requires_grad else _leaf(v) for v in vs]
            outs = _outputs_of(fn(*xs))
            grads = autograd.grad(outs, [xs[k] for k in diff], grad_outputs=list(vs), create_graph=True,
                                  allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + tuple(cotangents), eps=eps, atol=atol, rtol=rtol, seed=seed,
                     **options)


def _outputs_of(result):
    return [o for o in _as_tuple(result) if isinstance(o, Tensor) and o.dtype.kind == "f" and o.requires_grad]


def _leaf(t):
    data = np.asarray(t._data) if isinstance(t._data, np.generic) else t._data
    return Tensor._wrap(data).requires_grad_()
