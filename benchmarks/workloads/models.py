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
