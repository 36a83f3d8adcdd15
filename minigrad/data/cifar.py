"""CIFAR-10 from the standard python-pickle batches, like torchvision's ``CIFAR10``.

Files (in ``root`` or ``root/cifar-10-batches-py``): ``data_batch_1`` .. ``data_batch_5``,
``test_batch`` (each a pickled dict with ``data``: uint8 (10000, 3072) rows of R, G, B planes
of 32x32, and ``labels``: 10000 ints), and ``batches.meta`` (``label_names``).

The files are unpickled with a restricted unpickler that builds only plain containers and
NumPy arrays, so a tampered file cannot run code; anything malformed raises an error that
names the file and what is wrong.
"""
from __future__ import annotations

import io
import os
import pickle

import numpy as np

from ..tensor import Tensor
from ._files import read_regular_file
from ._images import ImageClassification

__all__ = ["CIFAR10"]

TRAIN_FILES = [f"data_batch_{k}" for k in range(1, 6)]
TEST_FILES = ["test_batch"]
META_FILE = "batches.meta"
#: A batch of 10,000 images is about 31 MB pickled; anything much larger is not a CIFAR-10 batch.
MAX_BATCH_BYTES = 64 << 20
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only plain data and NumPy arrays)")


def _unpickle(path):
    try:
        raw = read_regular_file(path, MAX_BATCH_BYTES)
    except OSError as exc:
        raise FileNotFoundError(f"CIFAR10: cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ValueError(f"CIFAR10: {path}: {exc}") from None
    try:
        obj = _SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:     # pickle raises many kinds of errors on bad bytes
        raise ValueError(f"CIFAR10: {path} is not a valid CIFAR-10 python batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"CIFAR10: {path} holds a {type(obj).__name__}, expected a dict")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def read_batch(path):
    """(images uint8 (n, 32, 32, 3), labels int64 (n,)) from one batch file, checked."""
    batch = _unpickle(path)
    for key in ("data", "labels"):
        if key not in batch:
            raise ValueError(f"CIFAR10: {path} has no '{key}' entry (found {sorted(batch)})")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"CIFAR10: {path}: 'data' must be uint8 of shape (n, 3072), got {data.dtype} {tuple(data.shape)}")
    if labels.size and labels.dtype.kind not in "iu":      # 3.7 must not become class 3 silently
        raise ValueError(f"CIFAR10: {path}: 'labels' must be integers, got {labels.dtype}")
    if labels.shape != (data.shape[0],):
        raise ValueError(f"CIFAR10: {path}: {data.shape[0]} images but {labels.size} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"CIFAR10: {path}: labels must be in 0..9, found {labels.min()}..{labels.max()}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.int64)


class CIFAR10(ImageClassification):
    """60,000 32x32 colour images in 10 classes; items are (float32 (3, 32, 32) in [0, 1], label)."""

    base_folder = "cifar-10-batches-py"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if download:
            raise RuntimeError("CIFAR10: downloading is not supported here; fetch cifar-10-python.tar.gz from "
                               "https://www.cs.toronto.edu/~kriz/cifar.html and unpack it into root")
        self.root, self.train = os.fspath(root), train
        folder = self._folder()
        parts = [read_batch(os.path.join(folder, name)) for name in (TRAIN_FILES if train else TEST_FILES)]
        data = np.concatenate([p[0] for p in parts])
        targets = np.concatenate([p[1] for p in parts])
        meta_path = os.path.join(folder, META_FILE)
        self.classes = self._class_names(meta_path) if os.path.exists(meta_path) else [str(k) for k in range(10)]
        super().__init__(data, targets, transform, target_transform)

    def _folder(self):
        wanted = TRAIN_FILES if self.train else TEST_FILES
        for folder in (os.path.join(self.root, self.base_folder), self.root):
            if all(os.path.exists(os.path.join(folder, name)) for name in wanted):
                return folder
        places = ", ".join((os.path.join(self.root, self.base_folder), self.root))
        missing = [n for n in wanted if not os.path.exists(os.path.join(self.root, self.base_folder, n))
                   and not os.path.exists(os.path.join(self.root, n))]
        raise FileNotFoundError(f"CIFAR10: missing {', '.join(missing)} (looked in {places}); download "
                                f"cifar-10-python.tar.gz and unpack it into {self.root}")

    @staticmethod
    def _class_names(path):
        meta = _unpickle(path)
        names = meta.get("label_names")
        if not isinstance(names, list) or len(names) != 10:
            raise ValueError(f"CIFAR10: {path}: 'label_names' must be a list of 10 names")
        return [n.decode() if isinstance(n, bytes) else str(n) for n in names]

    def _images(self, index) -> Tensor:
        pixels = self.data[index].astype(np.float32) / np.float32(255.0)
        return Tensor._wrap(np.ascontiguousarray(np.moveaxis(pixels, -1, -3)))     # HWC -> CHW
