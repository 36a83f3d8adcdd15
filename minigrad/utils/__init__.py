"""Utilities with PyTorch's names: ``minigrad.utils.tensorboard.SummaryWriter`` (needs tensorboardX)."""
