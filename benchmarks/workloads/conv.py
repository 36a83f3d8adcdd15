"""Convolution workloads: single conv layers forward + backward, and a ResNet-18 training step."""
from __future__ import annotations

import numpy as np

from . import workload


def _conv_layer(fw, device, cin, cout, k, stride, padding, batch=32, size=32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, cin, size, size)).astype(np.float32)
    if fw == "minigrad":
        import minigrad as mg
        layer = mg.nn.Conv2d(cin, cout, k, stride=stride, padding=padding).to(device)
        X = mg.tensor(x, device=device, requires_grad=True)
    else:
        import torch
        layer = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=padding).to(device)
        X = torch.tensor(x, device=device, requires_grad=True)
    out_size = (size + 2 * padding - k) // stride + 1
    g = layer(X).detach() * 0 + 1

    def step():
        layer(X).backward(g)
    step.out_size = out_size
    return step


def _conv_flops(cin, cout, k, stride, padding, batch=32, size=32):
    out = (size + 2 * padding - k) // stride + 1
    return 3 * 2 * batch * cout * out * out * cin * k * k         # forward, input and weight gradients


for name, args, text in [
    ("conv_64_64_3x3", (64, 64, 3, 1, 1), "Conv2d 64->64 3x3 pad 1, 32x32, batch 32, forward + backward"),
    ("conv_3_64_stem", (3, 64, 3, 1, 1), "Conv2d 3->64 3x3 pad 1 (the CIFAR stem), 32x32, batch 32"),
    ("conv_64_128_1x1", (64, 128, 1, 1, 0), "Conv2d 64->128 1x1, 32x32, batch 32"),
    ("conv_64_128_3x3_s2", (64, 128, 3, 2, 1), "Conv2d 64->128 3x3 stride 2 pad 1, 32x32, batch 32"),
]:
    workload(name, "conv", text, flops=_conv_flops(*args))(lambda fw, device, a=args: _conv_layer(fw, device, *a))


def _resnet_flops(batch=32):
    """Multiply-adds of ResNet-18 (CIFAR stem) at 32x32, times 2 (FLOPs) and 3 (forward + backward)."""
    macs, size, inp = 3 * 64 * 9 * 32 * 32, 32, 64
    for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        size //= stride
        macs += inp * planes * 9 * size * size + planes * planes * 9 * size * size      # first block
        if stride != 1 or inp != planes:
            macs += inp * planes * size * size                                           # downsample
        macs += 2 * planes * planes * 9 * size * size                                    # second block
        inp = planes
    return 3 * 2 * batch * (macs + 512 * 10)


@workload("resnet18_cifar_step", "models", "ResNet-18 (CIFAR stem) training step, batch 32, SGD momentum 0.9",
          flops=_resnet_flops())
def resnet_step(fw, device):
    model, opt, loss_fn, X, Y = resnet_setup(fw, device)

    def step():
        opt.zero_grad()
        loss_fn(model(X), Y).backward()
        opt.step()
    return step


def resnet_setup(fw, device, batch=32, seed=0):
    """ResNet-18 (CIFAR stem), SGD with momentum 0.9 and a fixed random batch (drawn with ``seed``):
    ``(model, optimizer, loss_fn, X, Y)``.  The data-parallel benchmark wraps the model."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if fw == "minigrad":
        import minigrad as mg
        from minigrad.models import resnet18_cifar
        mg.manual_seed(0)
        model = resnet18_cifar().to(device)
        opt = mg.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        X, Y, loss_fn = mg.tensor(x, device=device), mg.tensor(y, device=device), mg.nn.CrossEntropyLoss()
    else:
        import torch
        import torch.nn as tnn

        class Block(tnn.Module):
            def __init__(self, inp, planes, stride):
                super().__init__()
                self.conv1 = tnn.Conv2d(inp, planes, 3, stride, 1, bias=False)
                self.bn1 = tnn.BatchNorm2d(planes)
                self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
                self.bn2 = tnn.BatchNorm2d(planes)
                self.downsample = (tnn.Sequential(tnn.Conv2d(inp, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))
                                   if stride != 1 or inp != planes else None)

            def forward(self, x):
                idt = x if self.downsample is None else self.downsample(x)
                return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + idt)

        layers, inp = [tnn.Conv2d(3, 64, 3, 1, 1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU()], 64
        for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [Block(inp, planes, stride), Block(planes, planes, 1)]
            inp = planes
        layers += [tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(512, 10)]
        torch.manual_seed(0)
        model = tnn.Sequential(*layers).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        X, Y, loss_fn = torch.tensor(x, device=device), torch.tensor(y, device=device), tnn.CrossEntropyLoss()
    return model, opt, loss_fn, X, Y
