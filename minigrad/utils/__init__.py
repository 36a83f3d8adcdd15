"""Utilities with PyTorch's names: ``minigrad.utils.data`` (the same module as
``minigrad.data``, so ``from minigrad.utils.data import DataLoader`` works as in PyTorch) and
``minigrad.utils.tensorboard.SummaryWriter`` (needs tensorboardX, loaded on first use)."""
import sys as _sys

from .. import data  # noqa: F401

# one module under both names (and its submodules, as torch.utils.data.dataloader, ...)
_sys.modules[__name__ + ".data"] = data
for _sub in ("dataloader", "dataset", "sampler", "distributed"):
    _sys.modules[f"{__name__}.data.{_sub}"] = _sys.modules[f"{data.__name__}.{_sub}"]

from . import checkpoint  # noqa: E402,F401  (torch.utils.checkpoint)
