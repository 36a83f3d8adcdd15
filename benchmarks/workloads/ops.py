"""Op-level workloads: per-op overhead, elementwise chains, reductions, matmul, indexing.

Each function returns a ``step`` that runs forward *and* backward.  Inputs are float32 and
drawn from the same seed for both frameworks.
"""
from __future__ import annotations

import numpy as np

from . import workload


def _framework(name, device):
    """(module, make_tensor, sync) for minigrad or PyTorch on ``device``."""
    if name == "minigrad":
        import minigrad as mg

        def make(a, grad=False):
            return mg.tensor(a, device=device, requires_grad=grad)
        return mg, make
    import torch

    def make(a, grad=False):
        return torch.tensor(a, device=device, requires_grad=grad)
    return torch, make


def _arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


@workload("mul_32x32", "ops", "one elementwise op + backward on 32x32 (per-op overhead)")
def mul_small(fw, device):
    lib, make = _framework(fw, device)
    a, b, g = _arrays((32, 32), (32, 32), (32, 32))
    x, w, grad = make(a, True), make(b, True), make(g)

    def step():
        y = x * w
        y.backward(grad)
    return step


@workload("chain_32x32", "ops", "tanh(a*b + c) * d, sum, backward on 32x32 (overhead of a small graph)")
def chain_small(fw, device):
    lib, make = _framework(fw, device)
    a, b, c, d = (make(v, True) for v in _arrays((32, 32), (32, 32), (32,), (32, 32)))

    def step():
        ((a * b + c).tanh() * d).sum().backward()
    return step


@workload("chain_1024x1024", "ops", "the same chain on 1024x1024 (memory-bound elementwise)",
          flops=1024 * 1024 * 14)
def chain_large(fw, device):
    lib, make = _framework(fw, device)
    a, b, c, d = (make(v, True) for v in _arrays((1024, 1024), (1024, 1024), (1024,), (1024, 1024)))

    def step():
        ((a * b + c).tanh() * d).sum().backward()
    return step


@workload("reductions_1024x1024", "ops", "sum + mean(dim=0) + max(dim=1) + logsumexp(dim=1), backward")
def reductions(fw, device):
    lib, make = _framework(fw, device)
    (a,) = (make(v, True) for v in _arrays((1024, 1024)))

    def step():
        out = a.sum() + a.mean(0).sum() + a.max(1)[0].sum() + a.logsumexp(1).sum()
        out.backward()
    return step


@workload("log_softmax_256x1000", "ops", "log_softmax over 1000 classes, batch 256, backward")
def log_softmax(fw, device):
    lib, make = _framework(fw, device)
    a, g = _arrays((256, 1000), (256, 1000))
    x, grad = make(a, True), make(g)

    def step():
        x.log_softmax(1).backward(grad)
    return step


@workload("matmul_512", "ops", "512x512 @ 512x512 forward + backward (3 matrix products)",
          flops=3 * 2 * 512 ** 3)
def matmul_512(fw, device):
    lib, make = _framework(fw, device)
    a, b, g = _arrays((512, 512), (512, 512), (512, 512))
    x, w, grad = make(a, True), make(b, True), make(g)

    def step():
        (x @ w).backward(grad)
    return step


@workload("gather_rows_backward", "ops", "x[idx] with 50k repeated row indices into 10k x 64, backward "
          "(scatter-add)")
def gather_rows(fw, device):
    lib, make = _framework(fw, device)
    (a,) = _arrays((10000, 64))
    idx = np.random.default_rng(1).integers(0, 10000, size=50000)
    g = _arrays((50000, 64), seed=2)[0]
    x, grad = make(a, True), make(g)
    index = make(idx)

    def step():
        x[index].backward(grad)
    return step
