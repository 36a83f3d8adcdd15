"""DataParallel (PyTorch's single-process wrapper): ``module`` under the name ``module``, so that
the forward, the parameters and the state dict (``module.``-prefixed keys) are PyTorch's.

PyTorch copies the module to each listed GPU and splits the batch among them; minigrad runs the
whole batch on the module's own device, which gives the same results (use DistributedDataParallel
for several GPUs or machines).  Without a GPU PyTorch also just calls the module, as here.
"""
from __future__ import annotations

from ..module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected a Module to wrap, got {type(module).__name__}")
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
