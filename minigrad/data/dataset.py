"""Map-style datasets: the base class, tensors as a dataset, subsets, concatenation, random_split.

A dataset answers ``len(ds)`` and ``ds[i]``.  One may also answer ``ds.__getitems__(indices)``
for a whole batch at once (PyTorch 2.x's hook): a list means one sample per index, still to be
collated; anything else (a tuple of batched Tensors, ...) is already the collated batch, which
lets :class:`~minigrad.data.DataLoader` fetch a batch with one fancy-index per tensor.
"""
from __future__ import annotations

import bisect
import math
import numbers
import warnings

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "StackDataset", "random_split"]


class Dataset:
    """A sized collection of samples: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (``__len__`` is optional).  A
    DataLoader reads it in its own order and groups consecutive samples into batches."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it, it has no indexing")

    def __len__(self):
        raise TypeError(f"{type(self).__name__} is an IterableDataset without __len__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class TensorDataset(Dataset):
    """Samples are slices along dim 0 of each tensor: ``ds[i] == (t0[i], t1[i], ...)``."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for k, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {k} is a {type(t).__name__}, expected a Tensor "
                                f"(wrap arrays with minigrad.from_numpy)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {k} is 0-d and has no dim 0 to index samples along")
        sizes = tuple(t.shape[0] for t in tensors)
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: all tensors must have the same size in dim 0, got sizes {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices) -> tuple:
        """The whole batch, collated: one gather per tensor (the loader hands it on as the list
        default_collate would build)."""
        index = np.asarray(indices, dtype=np.int64)
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        inner = [self.indices[i] for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            return getitems(inner)
        return [self.dataset[i] for i in inner]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after the other (``ds1 + ds2``)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        index %= n
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][index - start]


class StackDataset(Dataset):
    """Datasets of one length side by side: sample i is the tuple of their i-th samples
    (``StackDataset(images, labels)``) or the dict of them (``StackDataset(image=..., label=...)``)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: pass the datasets either as positional arguments (tuple samples) or "
                             "as keyword arguments (dict samples), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: expected at least one dataset")
        self.datasets = args if args else kwargs
        lengths = {len(d) for d in (args if args else kwargs.values())}
        if len(lengths) != 1:
            raise ValueError(f"StackDataset: size mismatch between datasets, got lengths {sorted(lengths)}")
        self._length = lengths.pop()

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


def random_split(dataset, lengths, generator=None) -> list:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1; fractions
    are floored and the leftover samples go one each to the first subsets, as in PyTorch.
    ``generator`` (a :class:`minigrad.Generator`; default: minigrad's default CPU one) fixes the split.
    """
    n = len(dataset)
    lengths = _split_lengths(lengths, n)
    gen = _cpu_generator(generator, "random_split")
    order = gen.impl.permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets


def _split_lengths(lengths, n) -> list:
    lengths = list(lengths)
    total = sum(lengths)
    if lengths and math.isclose(total, 1) and total <= n:
        lengths = _fractions_to_sizes(lengths, n)
    for k, size in enumerate(lengths):
        if not isinstance(size, numbers.Integral) or size < 0:
            raise ValueError(f"random_split: length {k} is {size!r}; expected a non-negative integer "
                             f"(or fractions that sum to 1)")
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples")
    return [int(size) for size in lengths]


def _fractions_to_sizes(fractions, n) -> list:
    for k, frac in enumerate(fractions):
        if not 0 <= frac <= 1:
            raise ValueError(f"random_split: fraction {k} is {frac}; fractions must lie in [0, 1]")
    sizes = [int(math.floor(n * frac)) for frac in fractions]
    for k in range(n - sum(sizes)):           # the remainder, round-robin from the first
        sizes[k % len(sizes)] += 1
    for k, size in enumerate(sizes):
        if size == 0:
            warnings.warn(f"random_split: fraction {k} gives an empty subset", stacklevel=3)
    return sizes


def _cpu_generator(generator, who: str) -> backend.Generator:
    """``generator`` or the default CPU generator, checked: shuffles are drawn on the CPU."""
    if generator is None:
        return backend.default_generator()
    if not isinstance(generator, backend.Generator) or generator.device.type != "cpu":
        raise TypeError(f"{who}: generator must be a minigrad.Generator on the CPU, got {generator!r}")
    return generator
