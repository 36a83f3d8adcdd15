"""``nn.DataParallel``: PyTorch's single-process wrapper, kept so that ported programs (and their
checkpoints, whose keys start with ``module.``) run unchanged.

PyTorch's DataParallel splits each batch across the GPUs of one process; with no GPU (or one) it
only calls the module, and that is what this does: minigrad runs a model on one device.  Data
parallelism over processes is :class:`DistributedDataParallel`.
"""
from __future__ import annotations

from ..module import Module


class DataParallel(Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``: ``forward`` is
    ``module.forward``; the state dict holds the module's entries under ``module.``."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected a Module to wrap, got {type(module).__name__}")
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
