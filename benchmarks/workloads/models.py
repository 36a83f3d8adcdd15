"""Model workloads: one full training step (forward, backward, optimizer update)."""
from __future__ import annotations

import numpy as np

from . import workload


def _mlp_step(fw, device, batch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if fw == "minigrad":
        import minigrad as mg
        from minigrad import nn
        from minigrad.optim import Adam
        lib_nn, X, Y = nn, mg.tensor(x, device=device), mg.tensor(y, device=device)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(device)
        opt = Adam(model.parameters(), lr=1e-3)
    else:
        import torch
        lib_nn, X, Y = torch.nn, torch.tensor(x, device=device), torch.tensor(y, device=device)
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib_nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(X), Y).backward()
        opt.step()
    return step


def _mlp_flops(batch):
    return 3 * 2 * batch * (784 * 256 + 256 * 10)


@workload("mlp_step_b32", "models", "784-256-10 MLP training step (Adam, cross-entropy), batch 32",
          flops=_mlp_flops(32))
def mlp_b32(fw, device):
    return _mlp_step(fw, device, 32)


@workload("mlp_step_b256", "models", "784-256-10 MLP training step (Adam, cross-entropy), batch 256",
          flops=_mlp_flops(256))
def mlp_b256(fw, device):
    return _mlp_step(fw, device, 256)


# ----------------------------------------------------------------------------- second order
def _mlp_hvp(fw, device, batch=32):
    """H v of the 784-256-10 MLP's cross-entropy loss with respect to all its parameters: the
    gradient with create_graph, then the gradient of (gradient . v)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if fw == "minigrad":
        import minigrad as lib
        from minigrad import nn
        model = nn.Sequential(nn.Linear(784, 256), nn.Tanh(), nn.Linear(256, 10)).to(device)
        X, Y = lib.tensor(x, device=device), lib.tensor(y, device=device)
        loss_fn, grad = nn.functional.cross_entropy, lib.autograd.grad
    else:
        import torch as lib
        model = lib.nn.Sequential(lib.nn.Linear(784, 256), lib.nn.Tanh(), lib.nn.Linear(256, 10)).to(device)
        X, Y = lib.tensor(x, device=device), lib.tensor(y, device=device)
        loss_fn, grad = lib.nn.functional.cross_entropy, lib.autograd.grad
    params = list(model.parameters())
    vs = [lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32), device=device) for p in params]

    def step():
        grads = grad(loss_fn(model(X), Y), params, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(grads, vs))
        return grad(dot, params)
    return step


@workload("mlp_hvp_b32", "models", "Hessian-vector product of the 784-256-10 MLP's loss (tanh), batch 32",
          flops=2 * _mlp_flops(32))
def mlp_hvp(fw, device):
    return _mlp_hvp(fw, device)


def _gradient_penalty_step(fw, device, batch=64):
    """A WGAN-GP critic step: loss = D(fake) - D(real) + 10 (||dD/dx|| - 1)^2 at interpolates,
    backward through the gradient (second order), Adam update.  D: 784-512-256-1, LeakyReLU."""
    rng = np.random.default_rng(0)
    real = rng.standard_normal((batch, 784)).astype(np.float32)
    fake = rng.standard_normal((batch, 784)).astype(np.float32)
    alpha = rng.random((batch, 1)).astype(np.float32)
    mixed = alpha * real + (1 - alpha) * fake
    if fw == "minigrad":
        import minigrad as lib
        from minigrad import nn
        from minigrad.optim import Adam
    else:
        import torch as lib
        nn = lib.nn
        Adam = lib.optim.Adam
    D = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1)).to(device)
    opt = Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    R, Fk = lib.tensor(real, device=device), lib.tensor(fake, device=device)

    def step():
        x = lib.tensor(mixed, device=device, requires_grad=True)
        (g,) = lib.autograd.grad(D(x).sum(), x, create_graph=True)
        penalty = ((g * g).sum(1).sqrt() - 1).pow(2).mean()
        loss = D(Fk).mean() - D(R).mean() + 10 * penalty
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


@workload("gradient_penalty_step", "models",
          "WGAN-GP critic step (784-512-256-1, LeakyReLU, batch 64): backward through dD/dx, Adam",
          flops=3 * 3 * 2 * 64 * (784 * 512 + 512 * 256 + 256))
def gradient_penalty(fw, device):
    return _gradient_penalty_step(fw, device)
