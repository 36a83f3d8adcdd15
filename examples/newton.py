"""Newton's method with minigrad's second derivatives: minimise the Rosenbrock function.

    x <- x - H(x)^-1 grad f(x)

The gradient comes from ``autograd.grad(..., create_graph=True)`` and the Hessian from
differentiating it again (``autograd.functional.hessian`` does the same in one call).  From
(-1.2, 1), the classic start, Newton's method reaches the minimum (1, 1) in a handful of
steps, where gradient descent needs thousands.

    python examples/newton.py
"""
import numpy as np

import minigrad as mg
from minigrad.autograd.functional import hessian


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def newton(f, start, steps=20, tol=1e-10, verbose=True):
    p = mg.tensor(start, dtype=mg.float64, requires_grad=True)
    for step in range(steps):
        (g,) = mg.autograd.grad(f(p), p, create_graph=True)          # the gradient, with its own graph
        rows = [mg.autograd.grad(g[k], p, retain_graph=True)[0].numpy() for k in range(p.shape[0])]
        H = np.stack(rows)                                            # d(grad_k)/dp: the Hessian, row by row
        assert np.allclose(H, hessian(f, p).numpy())                  # the same, from the functional API
        delta = np.linalg.solve(H, g.detach().numpy())
        p = mg.tensor(p.detach().numpy() - delta, requires_grad=True)
        if verbose:
            print(f"step {step + 1}: x = {p.detach().numpy()}, f = {f(p).item():.3e}")
        if np.abs(delta).max() < tol:
            break
    return p.detach().numpy(), step + 1


if __name__ == "__main__":
    x, steps = newton(rosenbrock, [-1.2, 1.0])
    print(f"minimum {x} after {steps} Newton steps")
