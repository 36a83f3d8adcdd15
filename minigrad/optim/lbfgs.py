"""L-BFGS: quasi-Newton steps from a short history of gradient differences, with an optional
strong-Wolfe line search.

All the algebra is on one flat vector holding every parameter (``x``), its gradient (``g``) and the
search direction (``d``): the two-loop recursion and the line search below are plain functions on
arrays, and :class:`LBFGS` only moves values between that vector and the parameters.
"""
from __future__ import annotations

from .. import backend
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor
from .optimizer import Optimizer, check_lr


def lbfgs_direction(grad, old_dirs, old_stps, ro, H_diag):
    """The L-BFGS direction d = -H g by the two-loop recursion (Nocedal & Wright, algorithm 7.4),
    where H is the inverse-Hessian estimate built from the pairs y_i (``old_dirs``, gradient
    differences) and s_i (``old_stps``, steps), oldest first, with rho_i = 1 / (y_i . s_i) and the
    initial scaling H_0 = ``H_diag`` * I.  Returns ``(d, alphas)``::

        q = -g
        for i newest to oldest:  a_i = rho_i s_i . q;   q = q - a_i y_i
        r = H_diag q
        for i oldest to newest:  b = rho_i y_i . r;     r = r + (a_i - b) s_i
        d = r
    """
    q = -grad
    alphas = [0.0] * len(old_dirs)
    for i in range(len(old_dirs) - 1, -1, -1):
        alphas[i] = float(old_stps[i].dot(q)) * ro[i]
        q -= alphas[i] * old_dirs[i]
    r = q * H_diag
    for i in range(len(old_dirs)):
        beta = float(old_dirs[i].dot(r)) * ro[i]
        r += (alphas[i] - beta) * old_stps[i]
    return r, alphas


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2 (Nocedal &
    Wright, equation 3.59), clipped to ``bounds`` (default: the interval between x1 and x2); the
    middle of the bounds when the cubic has no minimiser::

        d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2),   d2 = sqrt(d1^2 - g1 g2)
        x = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)       (x1 <= x2; symmetric otherwise)
    """
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = d2_square ** 0.5
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, low), high)


class _Point:
    """A trial step ``t`` along the search direction: the loss, flat gradient and slope there."""
    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t, f, g, gtd):
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step size along ``d`` satisfying the strong Wolfe conditions (Nocedal & Wright,
    algorithms 3.5 and 3.6: bracket, then zoom with cubic interpolation)::

        f(t) <= f(0) + c1 t f'(0)          sufficient decrease
        |f'(t)| <= -c2 f'(0)               curvature

    ``evaluate(t)`` returns the loss and flat gradient at step ``t``; ``f``, ``g``, ``gtd`` are the
    loss, gradient and slope g . d at 0, ``t`` the first trial.  Returns ``(f, g, t, evaluations)``
    at the chosen step (after ``max_ls`` evaluations, the best bracket end so far).
    """
    d_norm = float(abs(d).max())
    start = _Point(0.0, f, g, gtd)
    f_new, g_new = evaluate(t)
    evaluations = 1
    new = _Point(t, f_new, g_new, float(g_new.dot(d)))
    prev = start
    bracket, done, ls_iter = None, False, 0

    # 1. bracketing: grow the step until an interval must contain a point satisfying both conditions
    while ls_iter < max_ls:
        if new.f > f + c1 * new.t * gtd or (ls_iter > 1 and new.f >= prev.f):
            bracket = [prev, new]
            break
        if abs(new.gtd) <= -c2 * gtd:
            bracket, done = [new], True
            break
        if new.gtd >= 0:
            bracket = [prev, new]
            break
        # extrapolate: the cubic's minimiser, at least 1% beyond t and at most 10 t
        t_next = cubic_interpolate(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd,
                                   bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev = new
        f_new, g_new = evaluate(t_next)
        evaluations += 1
        new = _Point(t_next, f_new, g_new, float(g_new.dot(d)))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [start, new]

    # 2. zoom: shrink the bracket, keeping at `low` the end with the lower loss
    insufficient_progress = False
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change:
            break
        a, b = bracket
        t = cubic_interpolate(a.t, a.f, a.gtd, b.t, b.f, b.gtd)
        # a trial too close to an end (within 10% of the interval) twice in a row, or outside it,
        # is moved 10% inside, so that the interval keeps shrinking
        lo, hi = min(a.t, b.t), max(a.t, b.t)
        margin = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < margin:
            if insufficient_progress or t >= hi or t <= lo:
                t = hi - margin if abs(t - hi) < abs(t - lo) else lo + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, g_new = evaluate(t)
        evaluations += 1
        new = _Point(t, f_new, g_new, float(g_new.dot(d)))
        ls_iter += 1
        if new.f > f + c1 * t * gtd or new.f >= bracket[low].f:
            bracket[high] = new          # not enough decrease: the new point closes the interval
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if abs(new.gtd) <= -c2 * gtd:
                done = True
            elif new.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]     # the minimum lies on the other side of the new point
            bracket[low] = new

    best = bracket[low]
    return best.f, best.g, best.t, evaluations


class LBFGS(Optimizer):
    """L-BFGS (PyTorch's ``torch.optim.LBFGS``, same arguments and defaults).

    ``step(closure)`` needs a closure that clears the gradients, computes the loss, calls
    ``backward()`` and returns the loss; one step runs up to ``max_iter`` iterations and
    ``max_eval`` closure calls (default ``max_iter * 5 // 4``), stopping early when the largest
    gradient entry is at most ``tolerance_grad`` or the loss or step changes by less than
    ``tolerance_change``.  ``history_size`` pairs are kept; ``line_search_fn`` is None (fixed steps
    of ``lr``, the first one scaled down to at most ``lr / |g|_1``) or ``"strong_wolfe"``.
    Only one parameter group; its state (PyTorch's keys: ``d``, ``t``, ``old_dirs``, ...) is kept
    under the first parameter.  This is a full-batch method: memory grows with ``history_size``
    times the number of parameters.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        # the groups are counted once built, as PyTorch counts them, so that their own errors come first
        self._building = True
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        self._building = False
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    def add_param_group(self, param_group):
        if self.param_groups and not self._building:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ the flat vector
    @property
    def _params(self):
        return self.param_groups[0]["params"]

    def _flat_grad(self):
        xp = backend.xp_of(self._params[0]._data)
        return xp.concatenate([(p.grad._data if p.grad is not None else xp.zeros_like(p._data)).reshape(-1)
                               for p in self._params])

    def _add_step(self, t, d):
        """x = x + t d, parameter by parameter."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += t * d[offset:offset + n].reshape(p.shape)
            offset += n

    def _evaluate(self, closure):
        with enable_grad():
            return float(closure())

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at x + t d; the parameters are put back to x afterwards."""
        self._add_step(t, d)
        loss = self._evaluate(closure)
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p._data[...] = saved
        return loss, flat_grad

    # ------------------------------------------------------------------ the step
    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss the first closure call gave.
        ``closure`` is required, as in PyTorch (a TypeError without it)."""
        if closure is None:
            raise TypeError("LBFGS: step() needs a closure that re-evaluates the model and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        with no_grad():
            flat_grad = self._flat_grad()
            if float(abs(flat_grad).max()) <= tolerance_grad:
                return orig_loss           # already optimal

            d, t = _array(state.get("d")), state.get("t")
            old_dirs = [_array(v) for v in state.get("old_dirs", [])]
            old_stps = [_array(v) for v in state.get("old_stps", [])]
            ro, H_diag = [_number(v) for v in state.get("ro", [])], _number(state.get("H_diag"))
            prev_flat_grad, prev_loss = _array(state.get("prev_flat_grad")), state.get("prev_loss")

            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1

                # the direction: steepest descent first, then the two-loop recursion
                if state["n_iter"] == 1:
                    d = -flat_grad
                    old_dirs, old_stps, ro, H_diag = [], [], [], 1
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = float(y.dot(s))
                    if ys > 1e-10:            # keep the pair only if the curvature is positive
                        if len(old_dirs) == history_size:      # forget the oldest pair
                            for history in (old_dirs, old_stps, ro):
                                history.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        ro.append(1.0 / ys)
                        H_diag = ys / float(y.dot(y))
                    d, alphas = lbfgs_direction(flat_grad, old_dirs, old_stps, ro, H_diag)
                    state["al"] = [_scalar_like(a, flat_grad) for a in alphas] + [None] * (history_size - len(alphas))

                prev_flat_grad = flat_grad.copy()
                prev_loss = loss

                # the step size
                t = min(1.0, 1.0 / float(abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
                gtd = float(flat_grad.dot(d))
                if gtd > -tolerance_change:      # not a descent direction (any more)
                    break

                if group["line_search_fn"] == "strong_wolfe":
                    x = [p._data.copy() for p in self._params]
                    loss, flat_grad, t, evaluations = strong_wolfe(
                        lambda step: self._directional_evaluate(closure, x, step, d), t, d, loss, flat_grad, gtd)
                    self._add_step(t, d)
                    optimal = float(abs(flat_grad).max()) <= tolerance_grad
                else:
                    self._add_step(t, d)
                    evaluations = 0
                    optimal = False
                    if n_iter != max_iter:      # the last iteration's loss is left to the next step
                        loss = self._evaluate(closure)
                        flat_grad = self._flat_grad()
                        optimal = float(abs(flat_grad).max()) <= tolerance_grad
                        evaluations = 1
                current_evals += evaluations
                state["func_evals"] += evaluations

                if n_iter == max_iter or current_evals >= max_eval or optimal:
                    break
                if float(abs(d * t).max()) <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                    break

            # numbers PyTorch computes as 0-d tensors (the curvature pairs' 1 / y.s, H_diag) are kept as such
            state.update(d=_tensor(d), t=t, old_dirs=[_tensor(v) for v in old_dirs],
                         old_stps=[_tensor(v) for v in old_stps], ro=[_scalar_like(v, flat_grad) for v in ro],
                         H_diag=H_diag if isinstance(H_diag, int) else _scalar_like(H_diag, flat_grad),
                         prev_flat_grad=_tensor(prev_flat_grad), prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------------ checkpoints
    def _load_state_value(self, key, value, param, what):
        """LBFGS's state holds flat vectors (the size of all parameters together), lists of them and
        numbers, which PyTorch may save as 0-d tensors."""
        if isinstance(value, (list, tuple)):
            return [self._load_state_value(key, v, param, what) for v in value]
        if isinstance(value, Tensor):
            value = value._data
        if backend.is_array(value):
            return Tensor._wrap(backend.to_device(value, param.device).astype(param.dtype, copy=True))
        return value


def _number(value):
    """A number kept in the state as a 0-d tensor (or, from an older dict, as a number)."""
    if isinstance(value, Tensor):
        return float(value._data)
    return value


def _scalar_like(value, array) -> Tensor:
    return Tensor._wrap(backend.xp_of(array).asarray(value, dtype=array.dtype))


def _array(value):
    return value._data if isinstance(value, Tensor) else value


def _tensor(array):
    return None if array is None else Tensor._wrap(array)
