"""The sharpest direction of a loss: the largest Hessian eigenvalue by power iteration on
Hessian-vector products.

A Hessian-vector product H v costs two backward passes (the gradient with its graph, then
the gradient of g . v), never the n x n matrix: so power iteration, v <- H v / ||H v||, finds
the largest eigenvalue of the 64-256-10 MLP's loss on the bundled digits.  On a tiny MLP the
same iteration is compared with the eigenvalues of the explicit Hessian
(``autograd.functional.hessian``).

    python examples/hessian_eigenvalue.py
"""
import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import Digits


def loss_and_params(model, x, y):
    params = list(model.parameters())
    return nn.functional.cross_entropy(model(x), y), params


def hvp(model, x, y, vs):
    """H v for the loss of ``model`` on (x, y), v given per parameter."""
    loss, params = loss_and_params(model, x, y)
    grads = mg.autograd.grad(loss, params, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vs))
    return mg.autograd.grad(dot, params)


def top_eigenvalue(model, x, y, iterations=30, seed=0):
    """Power iteration: returns (eigenvalue estimate, estimates per iteration)."""
    rng = np.random.default_rng(seed)
    vs = [mg.tensor(rng.standard_normal(p.shape), dtype=p.dtype) for p in model.parameters()]
    estimates = []
    for _ in range(iterations):
        norm = np.sqrt(sum(float((v * v).sum().item()) for v in vs))
        vs = [v / norm for v in vs]
        hv = hvp(model, x, y, vs)
        estimates.append(sum(float((a * b).sum().item()) for a, b in zip(hv, vs)))     # Rayleigh quotient
        vs = [h.detach() for h in hv]
    return estimates[-1], estimates


def explicit_top_eigenvalue(model, x, y):
    """The full Hessian of a tiny model, flattened over its parameters, and its top eigenvalue."""
    params = [p.detach() for p in model.parameters()]
    shapes = [p.shape for p in params]
    sizes = [int(np.prod(s)) for s in shapes]

    def loss_of(flat):
        chunks, start = [], 0
        for s, n in zip(shapes, sizes):
            chunks.append(flat[start:start + n].reshape(s))
            start += n
        h = (x @ chunks[0].T + chunks[1]).tanh()
        return nn.functional.cross_entropy(h @ chunks[2].T + chunks[3], y)
    flat = mg.tensor(np.concatenate([p.numpy().ravel() for p in params]), dtype=mg.float64)
    H = mg.autograd.functional.hessian(loss_of, flat).numpy()
    return float(np.linalg.eigvalsh(H)[-1]), H


def main(verbose=True):
    mg.manual_seed(0)
    data = Digits(train=True)
    x = mg.tensor(data.data[:256].reshape(256, -1) / data.scale, dtype=mg.float64)
    y = mg.tensor(data.targets[:256])
    tiny = nn.Sequential(nn.Linear(64, 4), nn.Tanh(), nn.Linear(4, 10)).double()
    by_power, _ = top_eigenvalue(tiny, x, y, iterations=100)
    exact, H = explicit_top_eigenvalue(tiny, x, y)
    if verbose:
        print(f"tiny MLP ({H.shape[0]} parameters): power iteration {by_power:.6f}, explicit Hessian {exact:.6f}")
    mlp = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10)).double()
    big, estimates = top_eigenvalue(mlp, x, y, iterations=20)
    if verbose:
        n = sum(p.numel() for p in mlp.parameters())
        print(f"64-256-10 MLP ({n} parameters): largest Hessian eigenvalue about {big:.4f} "
              f"(last estimates {', '.join(f'{e:.4f}' for e in estimates[-3:])})")
    return by_power, exact, big


if __name__ == "__main__":
    main()
