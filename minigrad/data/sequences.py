"""Sequence data sets that need no download.

``SequentialDigits``: the bundled 8x8 digits read row by row, each image a sequence of 8 time
steps of 8 pixels (the "sequential MNIST" task at the digits' size): ``ds[i]`` is
``(sequence float32 (8, 8) in [0, 1], label)``, and a batch of the DataLoader is (B, 8, 8),
ready for ``nn.LSTM(8, hidden, batch_first=True)``.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset
from .digits import Digits

__all__ = ["SequentialDigits"]


class SequentialDigits(Dataset):
    """The bundled digits (same fixed split as :class:`~minigrad.data.Digits`) as sequences of rows."""

    def __init__(self, train=True):
        images = Digits(train=train)
        self.train = train
        self.data = images.data                 # uint8 (N, 8, 8), pixel counts 0..16
        self.targets = images.targets
        self.classes = images.classes
        self.scale = images.scale

    def _sequences(self, index):
        return Tensor._wrap(self.data[index].astype(np.float32) / np.float32(self.scale))

    def __getitem__(self, index):
        return self._sequences(index), int(self.targets[index])

    def __getitems__(self, indices):
        index = np.asarray(indices, dtype=np.int64)
        return self._sequences(index), Tensor._wrap(self.targets[index].astype(np.int64))

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        return f"SequentialDigits({'train' if self.train else 'test'}, {len(self)} sequences of 8 steps x 8 pixels)"
