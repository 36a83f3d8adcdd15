"""Digits: 1797 handwritten digits as 8x8 images, bundled with minigrad (see DIGITS.md).

The split is fixed, with no randomness: within each class, in file order, every 5th sample
(the 5th, 10th, 15th, ...) is a test sample and the others train: 355 test, 1442 train.
The file's sha256 is checked when it is first read; the parsed arrays are then cached.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os

import numpy as np

from ._images import ImageClassification

__all__ = ["Digits", "DIGITS_PATH", "DIGITS_SHA256", "TEST_EVERY"]

DIGITS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.csv.gz")
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
TEST_EVERY = 5          # the 5th, 10th, ... sample of each class is a test sample

_cache: dict = {}       # path -> (images uint8 N x 8 x 8, labels int64 N, is_test bool N)


class Digits(ImageClassification):
    """The bundled 8x8 digits, as torchvision's MNIST: ``ds[i]`` is ``(image, label)`` with
    ``image`` a float32 Tensor (1, 8, 8) in [0, 1] (pixel counts 0..16 divided by 16).

    ``train=True`` gives the 1442 training samples, ``False`` the 355 test samples;
    ``.data`` (uint8, N x 8 x 8, values 0..16) and ``.targets`` (int64) are this split's arrays.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    scale = 16.0

    def __init__(self, train=True, transform=None, target_transform=None):
        images, labels, is_test = _load(DIGITS_PATH)
        keep = ~is_test if train else is_test
        self.train = train
        super().__init__(images[keep], labels[keep], transform, target_transform)   # copies


def _load(path: str):
    """Read, verify and parse the digits file once per path."""
    if path not in _cache:
        _cache[path] = _parse(path, _read_verified(path))
    return _cache[path]


def _read_verified(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"Digits: the bundled data file {path} is missing; "
                                f"reinstall minigrad (the file ships inside the package)") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != DIGITS_SHA256:
        raise RuntimeError(f"Digits: {path} is corrupt: its sha256 is {digest}, expected {DIGITS_SHA256}; "
                           f"reinstall minigrad")
    return raw


def _parse(path: str, raw: bytes):
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 65:
        raise ValueError(f"Digits: {path} has {table.shape[1]} columns, expected 65 (64 pixels and a label)")
    images = table[:, :64].astype(np.uint8).reshape(-1, 8, 8)
    labels = table[:, 64].copy()
    for array in (images, labels):
        array.flags.writeable = False       # shared by every Digits; each split takes a copy
    return images, labels, _test_mask(labels)


def _test_mask(labels: np.ndarray) -> np.ndarray:
    """True for the 5th, 10th, ... sample of each class, counting in file order."""
    rank = np.empty(len(labels), dtype=np.int64)        # a sample's position within its class
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rank[members] = np.arange(len(members))
    return rank % TEST_EVERY == TEST_EVERY - 1
