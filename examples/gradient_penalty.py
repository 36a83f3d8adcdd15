"""A gradient-penalty step (WGAN-GP) on the bundled digits: the penalty is the norm of dD/dx.

For a critic D, real images x_r and generated ones x_g, WGAN-GP trains D on

    loss = D(x_g).mean() - D(x_r).mean() + lambda * E[(||dD(x)/dx|| - 1)^2],

with x random interpolates between real and generated images.  dD/dx comes from
``autograd.grad(D(x).sum(), x, create_graph=True)``: it is a Tensor with a graph of its own, so
``loss.backward()`` differentiates through it, a backward of a backward.

    python examples/gradient_penalty.py [--steps N]
"""
import argparse

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, Digits


def critic():
    return nn.Sequential(nn.Linear(64, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128), nn.LeakyReLU(0.2),
                         nn.Linear(128, 1))


def generator():
    return nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 64), nn.Tanh())


def gradient_penalty(D, real, fake):
    """E[(||dD(x)/dx|| - 1)^2] at random interpolates x of real and fake."""
    alpha = mg.rand(real.shape[0], 1)
    x = (alpha * real + (1 - alpha) * fake).detach().requires_grad_()
    (g,) = mg.autograd.grad(D(x).sum(), x, create_graph=True)
    return ((g * g).sum(1).sqrt() - 1).pow(2).mean()


def train(steps=50, batch_size=64, lam=10.0, seed=0, verbose=True):
    mg.manual_seed(seed)
    D, G = critic(), generator()
    opt_d = mg.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_g = mg.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9))
    loader = DataLoader(Digits(train=True), batch_size=batch_size, shuffle=True, drop_last=True)
    history = []
    step = 0
    while step < steps:
        for images, _ in loader:
            real = images.reshape(images.shape[0], -1) * 2 - 1          # pixels in [0, 1] -> [-1, 1]
            fake = G(mg.randn(real.shape[0], 16))
            penalty = gradient_penalty(D, real, fake.detach())
            loss_d = D(fake.detach()).mean() - D(real).mean() + lam * penalty
            opt_d.zero_grad()
            loss_d.backward()                                           # through dD/dx: second order
            opt_d.step()
            loss_g = -D(G(mg.randn(real.shape[0], 16))).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            history.append((loss_d.item(), penalty.item()))
            if verbose and step % 10 == 0:
                print(f"step {step:3d}: critic loss {loss_d.item():+.4f}, gradient penalty {penalty.item():.4f}")
            step += 1
            if step == steps:
                break
    return history


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    train(parser.parse_args().steps)
