"""Finite-difference gradient checking, for anyone's ops.

``gradcheck(fn, inputs)`` compares the gradients that backpropagation gives with central
differences ``(f(x + eps) - f(x - eps)) / 2 eps`` in float64:

* small problems: the whole Jacobian, element by element (one backward per output element,
  two forwards per input element);
* large ones: random projections ``v . J . u`` (one backward and two forwards each), which a
  wrong gradient fails with probability 1.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import autograd, backend
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "gradcheck_report", "GradcheckError", "GradcheckReport"]

FULL_JACOBIAN_LIMIT = 4096     # inputs x outputs elements up to which the whole Jacobian is compared


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with finite differences."""


@dataclass
class GradcheckReport:
    ok: bool
    worst_error: float = 0.0          # largest |analytic - numeric|
    worst_excess: float = -np.inf     # largest |analytic - numeric| - (atol + rtol |numeric|)
    message: str = ""
    mode: str = "full"
    details: dict = field(default_factory=dict)


def _outputs_of(result):
    outs = result if isinstance(result, tuple) else (result,)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f" and o.requires_grad]


def _evaluate(fn, inputs, diff_idx, arrays):
    """fn on copies of ``inputs`` where the differentiable ones hold ``arrays``; float64 outputs."""
    args = list(inputs)
    for k, arr in zip(diff_idx, arrays):
        args[k] = Tensor._wrap(arr)
    with autograd.no_grad():
        result = fn(*args)
    outs = result if isinstance(result, tuple) else (result,)
    return [o.data.astype(np.float64) for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck_report(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_projections=3, seed=0,
                     full_jacobian_limit=FULL_JACOBIAN_LIMIT) -> GradcheckReport:
    """Run the check and return a :class:`GradcheckReport` instead of raising."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff_idx = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck: no input requires grad")
    for k in diff_idx:
        if inputs[k].dtype != np.float64:
            warnings.warn(f"gradcheck: input {k} is {inputs[k].dtype}, not float64; finite differences "
                          f"in low precision are unreliable", stacklevel=3)
    outputs = _outputs_of(fn(*inputs))
    if not outputs:
        raise ValueError("gradcheck: fn returned no floating-point output that requires grad")
    base = [inputs[k].data for k in diff_idx]
    xp = backend.xp_of(base[0])
    n_in = sum(int(a.size) for a in base)
    n_out = sum(int(o.data.size) for o in outputs)
    check = _Comparison(atol, rtol)
    if n_in * n_out <= full_jacobian_limit:
        _full_jacobian(fn, inputs, diff_idx, outputs, base, eps, xp, check)
        mode = "full"
    else:
        rng = np.random.default_rng(seed)
        for p in range(n_projections):
            _projection(fn, inputs, diff_idx, outputs, base, eps, xp, rng, check, p)
        mode = "projections"
    return GradcheckReport(ok=check.ok, worst_error=check.worst_error, worst_excess=check.worst_excess,
                           message=check.message, mode=mode)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_projections=3, seed=0) -> bool:
    """Check ``fn``'s gradients with respect to every input that requires grad.

    ``fn`` takes ``*inputs`` and returns a Tensor or a tuple of Tensors.  Returns True, or
    raises :class:`GradcheckError` naming the input, the worst element and both values.
    Use float64 inputs: in float32 finite differences are too coarse (a warning says so).
    """
    report = gradcheck_report(fn, inputs, eps=eps, atol=atol, rtol=rtol, n_projections=n_projections, seed=seed)
    if not report.ok:
        raise GradcheckError(report.message)
    return True


class _Comparison:
    """Keeps the worst disagreement seen and the message that describes it."""

    def __init__(self, atol, rtol):
        self.atol, self.rtol = atol, rtol
        self.ok = True
        self.worst_error = 0.0
        self.worst_excess = -np.inf
        self.message = ""

    def compare(self, analytic, numeric, describe):
        """``analytic`` and ``numeric`` are float64 NumPy arrays; ``describe(flat_index)`` names an element."""
        diff = np.abs(analytic - numeric)
        bad = diff > self.atol + self.rtol * np.abs(numeric)
        if diff.size:
            self.worst_error = max(self.worst_error, float(np.nanmax(diff)) if not np.isnan(diff).all() else np.inf)
        nan = np.isnan(analytic) != np.isnan(numeric)
        bad = bad | nan
        excess = np.where(nan, np.inf, diff - self.atol - self.rtol * np.abs(numeric))
        if excess.size:
            k = int(np.nanargmax(excess)) if not np.isnan(excess).all() else 0
            if excess.flat[k] > self.worst_excess:
                self.worst_excess = float(excess.flat[k])
                if bad.flat[k]:
                    self.message = (f"gradcheck: {describe(k)}: analytic {analytic.flat[k]:.8g} vs numeric "
                                    f"{numeric.flat[k]:.8g} (|diff| {diff.flat[k]:.3g} > atol {self.atol:g} + "
                                    f"rtol {self.rtol:g} * |numeric|)")
        if bad.any():
            self.ok = False


def _to_host(a):
    return backend.to_device(a, backend.CPU).astype(np.float64)


def _full_jacobian(fn, inputs, diff_idx, outputs, base, eps, xp, check):
    # numeric: one column per input element
    n_out = [o.data.size for o in outputs]
    numeric = [np.zeros((sum(n_out), a.size)) for a in base]
    for j, a in enumerate(base):
        for e in range(a.size):
            cols = []
            for sign in (1, -1):
                arrays = [b.copy() for b in base]
                arrays[j].reshape(-1)[e] += sign * eps
                cols.append(np.concatenate([_to_host(o).reshape(-1) for o in _evaluate(fn, inputs, diff_idx, arrays)]))
            numeric[j][:, e] = (cols[0] - cols[1]) / (2 * eps)
    # analytic: one backward per output element
    analytic = [np.zeros_like(m) for m in numeric]
    row = 0
    diff_inputs = [inputs[k] for k in diff_idx]
    for o_idx, o in enumerate(outputs):
        for e in range(o.data.size):
            cotangents = [backend.xp_of(p.data).zeros(p.shape, dtype=p.dtype) for p in outputs]
            cotangents[o_idx].reshape(-1)[e] = 1
            grads = autograd.grad(outputs, diff_inputs, grad_outputs=cotangents, retain_graph=True,
                                  allow_unused=True)
            for j, g in enumerate(grads):
                if g is not None:
                    analytic[j][row] = _to_host(g.data).reshape(-1)
            row += 1
    for j, k in enumerate(diff_idx):
        shape = inputs[k].shape
        offsets = np.cumsum([0] + n_out)

        def describe(flat, j=j, k=k, shape=shape, offsets=offsets):
            r, c = divmod(flat, analytic[j].shape[1])
            o = int(np.searchsorted(offsets, r, side="right") - 1)
            out_shape = outputs[o].shape
            out_el = np.unravel_index(r - offsets[o], out_shape) if out_shape else ()
            in_el = np.unravel_index(c, shape) if shape else ()
            return (f"d output {o}{list(map(int, out_el))} / d input {k}{list(map(int, in_el))} "
                    f"(input shape {tuple(shape)})")
        check.compare(analytic[j], numeric[j], describe)


def _projection(fn, inputs, diff_idx, outputs, base, eps, xp, rng, check, p):
    us = [xp.asarray(rng.standard_normal(a.shape)).astype(a.dtype) for a in base]
    vs = [backend.to_device(rng.standard_normal(o.shape).astype(o.dtype), o.device) for o in outputs]
    grads = autograd.grad(outputs, [inputs[k] for k in diff_idx], grad_outputs=vs, retain_graph=True,
                          allow_unused=True)
    analytic = sum(float((_to_host(g.data) * _to_host(u)).sum()) for g, u in zip(grads, us) if g is not None)
    plus = _evaluate(fn, inputs, diff_idx, [a + eps * u for a, u in zip(base, us)])
    minus = _evaluate(fn, inputs, diff_idx, [a - eps * u for a, u in zip(base, us)])
    numeric = sum(float((((_to_host(fp) - _to_host(fm)) / (2 * eps)) * _to_host(v)).sum())
                  for fp, fm, v in zip(plus, minus, vs))
    check.compare(np.array([analytic]), np.array([numeric]),
                  lambda _: f"random projection {p} (v . J . u over inputs {diff_idx})")


# ----------------------------------------------------------------------------- second order
def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, **options) -> bool:
    """Check second derivatives: the analytic gradient of the gradient against finite
    differences of the analytic gradient (as ``torch.autograd.gradgradcheck``).

    The function checked is ``(inputs, v) -> grad(fn(inputs), inputs, v, create_graph=True)``:
    its gradient is what a backward of a backward computes, with respect to the inputs (second
    derivatives proper) and to the cotangent ``v`` (the first derivative again, by linearity).
    ``grad_outputs`` (one per floating output of ``fn``) default to random normal ones; they
    are differentiated too.  Raises :class:`GradcheckError` like :func:`gradcheck`.
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
    cotangents = [Tensor._wrap(g.data).requires_grad_() for g in grad_outputs]
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


def _leaf(t):
    data = np.asarray(t.data) if isinstance(t.data, np.generic) else t.data
    return Tensor._wrap(data).requires_grad_()
