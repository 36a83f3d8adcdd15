"""What Digits, MNIST and FashionMNIST share: grayscale images and integer labels in memory.

A sample is ``(image, label)``: a float32 Tensor of shape (1, H, W) scaled to [0, 1] and a
Python int, as torchvision's MNIST after ``ToTensor``; ``transform`` and ``target_transform``
then apply to each.  Without transforms a whole batch is converted at once (``__getitems__``).
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset


class ImageClassification(Dataset):
    """``data`` (uint8, N x H x W), ``targets`` (int64, N), ``classes`` (names by label);
    pixel values are divided by ``scale`` (their maximum) to land in [0, 1]."""

    classes: list = []
    scale: float = 255.0

    def __init__(self, data: np.ndarray, targets: np.ndarray, transform=None, target_transform=None):
        self.data = data
        self.targets = targets
        self.transform = transform
        self.target_transform = target_transform

    @property
    def class_to_idx(self) -> dict:
        return {name: k for k, name in enumerate(self.classes)}

    def _images(self, index) -> Tensor:
        """Images at ``index`` (an int or an array of them) as float32 in [0, 1], channel dim added."""
        pixels = self.data[index].astype(np.float32) / np.float32(self.scale)
        return Tensor._wrap(np.expand_dims(pixels, -3))

    def __getitem__(self, index):
        image, label = self._images(index), int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __getitems__(self, indices):
        if self.transform is not None or self.target_transform is not None:
            return [self[i] for i in indices]           # samples, for the DataLoader to collate
        index = np.asarray(indices, dtype=np.int64)
        return self._images(index), Tensor._wrap(self.targets[index].astype(np.int64))

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        split = "train" if getattr(self, "train", True) else "test"
        return f"{type(self).__name__}({split}, {len(self)} images of {self.data.shape[1:]})"
