"""Transforms for dataset samples, torchvision-style: callables from a sample to a Tensor.

    transform = Compose([Normalize(0.5, 0.5), Flatten()])     # (1, 8, 8) image -> (64,) vector
    Digits(transform=transform, target_transform=OneHot(10))

They take Tensors (and NumPy arrays or numbers where that is natural) and return Tensors.
Images are CHW (or a batch, NCHW), as PyTorch lays them out.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..creation import as_tensor
from ..tensor import Tensor

__all__ = ["Compose", "Normalize", "Flatten", "OneHot", "ToTensor", "Lambda", "RandomCrop", "RandomHorizontalFlip"]


def _to_tensor(x, who: str) -> Tensor:
    try:
        return as_tensor(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{who}: expected a Tensor or an array, got {type(x).__name__} ({exc})") from None


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for k, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {k} ({t!r}) is not callable")

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        body = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{body}\n])"


class Normalize:
    """``(x - mean) / std``, with one value for everything or one per channel (dim -3: C of CHW
    or NCHW).  Computed in the input's dtype with minigrad ops, so gradients flow through."""

    def __init__(self, mean, std):
        self.mean = self._values(mean, "mean")
        self.std = self._values(std, "std")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std {self.std.tolist()} contains a zero (division by zero)")
        self.channels = max(self.mean.size, self.std.size)
        if {self.mean.size, self.std.size} - {1, self.channels}:
            raise ValueError(f"Normalize: mean has {self.mean.size} values and std {self.std.size}; "
                             f"expected the same number (or one for all channels)")

    @staticmethod
    def _values(values, name):
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.size == 0:
            raise ValueError(f"Normalize: {name} is empty")
        return arr

    def __call__(self, x):
        x = _to_tensor(x, "Normalize")
        if not x.is_floating_point():
            raise TypeError(f"Normalize: expected a floating-point tensor, got {x.dtype} "
                            f"(convert images with ToTensor or .float() first)")
        return (x - self._shaped(self.mean, x)) / self._shaped(self.std, x)

    def _shaped(self, values, x) -> Tensor:
        """``values`` in x's dtype and device, shaped (C, 1, 1) to broadcast over CHW/NCHW."""
        if self.channels > 1:
            if x.ndim < 3 or x.shape[-3] != self.channels:
                raise ValueError(f"Normalize: {self.channels} per-channel values need an input of shape "
                                 f"(..., {self.channels}, H, W), got {tuple(x.shape)}")
            values = values.reshape(-1, 1, 1)
        else:
            values = values.reshape(())
        return Tensor._wrap(backend.to_device(values.astype(x.dtype), x.device))

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Flatten:
    """Flatten dims ``start_dim`` .. ``end_dim`` into one (a (1, 8, 8) image -> (64,))."""

    def __init__(self, start_dim=0, end_dim=-1):
        self.start_dim = start_dim
        self.end_dim = end_dim

    def __call__(self, x):
        return _to_tensor(x, "Flatten").flatten(self.start_dim, self.end_dim)

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"


class OneHot:
    """An integer label (or a tensor of them) -> a one-hot vector of ``num_classes``, float32 by
    default (ready for a regression loss; ``torch.nn.functional.one_hot`` gives int64)."""

    def __init__(self, num_classes, dtype=backend.float32):
        if not isinstance(num_classes, (int, np.integer)) or isinstance(num_classes, bool) or num_classes < 1:
            raise ValueError(f"OneHot: num_classes must be a positive integer, got {num_classes!r}")
        self.num_classes = int(num_classes)
        self.dtype = backend.as_dtype(dtype)

    def __call__(self, label):
        labels = label._data if isinstance(label, Tensor) else np.asarray(label)
        if labels.dtype.kind not in "iu":
            raise TypeError(f"OneHot: labels must be integers, got dtype {labels.dtype}")
        if labels.size and not (0 <= int(labels.min()) and int(labels.max()) < self.num_classes):
            bad = int(labels.min()) if int(labels.min()) < 0 else int(labels.max())
            raise ValueError(f"OneHot: label {bad} is out of range for {self.num_classes} classes")
        xp = backend.xp_of(labels)
        return Tensor._wrap((labels[..., None] == xp.arange(self.num_classes)).astype(self.dtype))

    def __repr__(self):
        return f"OneHot(num_classes={self.num_classes})"


class ToTensor:
    """An HxW or HxWxC image array -> a CHW Tensor; uint8 pixels become float32 in [0, 1]
    (divided by 255), other dtypes keep their values and dtype, as torchvision's ToTensor."""

    def __call__(self, pic):
        arr = pic.numpy() if isinstance(pic, Tensor) else np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            raise ValueError(f"ToTensor: expected an HxW or HxWxC image, got shape {arr.shape}")
        chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            return Tensor._wrap(chw.astype(np.float32) / np.float32(255))
        return Tensor._wrap(chw.astype(backend.as_dtype(chw.dtype), copy=False))

    def __repr__(self):
        return "ToTensor()"


class Lambda:
    """Wrap a function as a transform."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self):
        return f"Lambda({getattr(self.fn, '__name__', self.fn)!r})"


# ----------------------------------------------------------------------------- augmentation
def _generator(generator):
    return (generator or backend.default_generator(backend.CPU)).impl


class RandomCrop:
    """Pad by ``padding`` (zeros) and cut a random ``size`` window: a CHW image, or each image
    of an NCHW batch independently.  Seeded by ``generator`` (a minigrad.Generator)."""

    def __init__(self, size, padding=0, generator=None):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = padding
        self.generator = generator

    def __call__(self, x):
        t = _to_tensor(x, "RandomCrop")
        arr = backend.to_device(t._data, backend.CPU)
        batch = arr if arr.ndim == 4 else arr[None]
        if batch.ndim != 4:
            raise ValueError(f"RandomCrop: expected a CHW image or an NCHW batch, got shape {arr.shape}")
        p = self.padding
        padded = np.pad(batch, ((0, 0), (0, 0), (p, p), (p, p))) if p else batch
        h, w = self.size
        if padded.shape[2] < h or padded.shape[3] < w:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded image {padded.shape[2:]}")
        rng = _generator(self.generator)
        top = rng.integers(0, padded.shape[2] - h + 1, size=len(batch))
        left = rng.integers(0, padded.shape[3] - w + 1, size=len(batch))
        rows = top[:, None] + np.arange(h)
        cols = left[:, None] + np.arange(w)
        n = np.arange(len(batch))[:, None, None, None]
        c = np.arange(batch.shape[1])[None, :, None, None]
        out = padded[n, c, rows[:, None, :, None], cols[:, None, None, :]]
        return Tensor._wrap(out if arr.ndim == 4 else out[0])


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``: a CHW image, or each image of an NCHW batch."""

    def __init__(self, p=0.5, generator=None):
        self.p = p
        self.generator = generator

    def __call__(self, x):
        t = _to_tensor(x, "RandomHorizontalFlip")
        arr = backend.to_device(t._data, backend.CPU)
        batch = arr if arr.ndim == 4 else arr[None]
        flip = _generator(self.generator).random(len(batch)) < self.p
        out = np.where(flip[:, None, None, None], batch[..., ::-1], batch)
        return Tensor._wrap(out if arr.ndim == 4 else out[0])
