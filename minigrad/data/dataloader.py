"""DataLoader: batches from a dataset, in order or reshuffled each epoch, and default_collate.

With the default collate, a dataset that answers ``__getitems__(indices)`` with an
already-collated batch (as :class:`~minigrad.data.TensorDataset` does) is fetched with one
fancy-index per tensor instead of one ``ds[i]`` per sample plus a stack; the batches are the same.
"""
from __future__ import annotations

import collections.abc
import itertools
import numbers

import numpy as np

from .. import backend
from ..creation import tensor as _tensor
from ..ops.shape import stack
from ..tensor import Tensor
from .dataset import _cpu_generator

__all__ = ["DataLoader", "default_collate", "SequentialSampler", "RandomSampler"]


# ----------------------------------------------------------------------------- samplers
class SequentialSampler:
    """Indices 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler:
    """A fresh random permutation of the indices on every ``iter()`` (every epoch).

    ``generator`` is a CPU :class:`minigrad.Generator`; ``None`` uses the default generator
    at iteration time, so ``minigrad.manual_seed`` fixes the order of later epochs too.
    """

    def __init__(self, data_source, generator=None):
        self.data_source = data_source
        self.generator = generator
        _cpu_generator(generator, "RandomSampler")       # fail now, not at the first epoch

    def __iter__(self):
        gen = _cpu_generator(self.generator, "RandomSampler")
        return iter(gen.impl.permutation(len(self.data_source)).tolist())

    def __len__(self):
        return len(self.data_source)


# ----------------------------------------------------------------------------- collate
def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors and NumPy arrays are stacked along a new dim 0; Python ints become an int64
    tensor, floats a float64 tensor, bools a bool tensor; strings stay a list; dicts, tuples,
    namedtuples and lists are collated field by field.  Unlike PyTorch, a tuple of fields
    stays a tuple (PyTorch returns a list), so that it matches the fast batched fetch.
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)) or not batch:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, (str, bytes)):                 # before numpy: numpy.str_ is a str
        return list(batch)
    if isinstance(elem, (np.ndarray, np.generic)):
        return _collate_numpy(batch)
    if isinstance(elem, numbers.Number):
        return _collate_numbers(batch)
    if isinstance(elem, collections.abc.Mapping):
        return type(elem)({key: default_collate([sample[key] for sample in batch]) for key in elem})
    if isinstance(elem, collections.abc.Sequence):
        return _collate_fields(batch)
    raise TypeError(f"default_collate: samples must be tensors, numpy arrays, numbers, strings, dicts, "
                    f"tuples or lists; found {type(elem).__name__}")


def _collate_numpy(batch):
    if batch[0].dtype.kind in "OSU":
        raise TypeError(f"default_collate: cannot make a tensor from numpy data of dtype {batch[0].dtype}")
    arrays = [np.asarray(b) for b in batch]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"default_collate: numpy arrays in a batch must have one shape, got {sorted(shapes)}")
    return Tensor._wrap(np.stack(arrays).astype(backend.as_dtype(arrays[0].dtype), copy=False))


def _collate_numbers(batch):
    elem = batch[0]
    if isinstance(elem, bool):
        dtype = backend.bool_
    elif isinstance(elem, numbers.Integral):
        dtype = backend.int64
    elif isinstance(elem, numbers.Real):
        dtype = backend.float64                    # PyTorch collates Python floats to float64
    else:
        raise TypeError(f"default_collate: cannot collate numbers of type {type(elem).__name__}")
    return _tensor(list(batch), dtype=dtype)


def _collate_fields(batch):
    size = len(batch[0])
    if any(len(sample) != size for sample in batch):
        raise ValueError(f"default_collate: every sample in a batch must have the same number of fields, "
                         f"got {sorted({len(sample) for sample in batch})}")
    columns = [default_collate(list(field)) for field in zip(*batch)]
    elem = batch[0]
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):       # a namedtuple
        return type(elem)(*columns)
    return tuple(columns) if isinstance(elem, tuple) else columns


# ----------------------------------------------------------------------------- the loader
class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    ``shuffle=True`` draws a fresh permutation from ``generator`` (a CPU
    :class:`minigrad.Generator`; default: minigrad's default generator) at the start of each
    epoch, so the same seed gives the same batches.  ``sampler`` (an iterable of indices with
    a length) replaces the order entirely.  ``drop_last`` drops a final, smaller batch.
    Loading runs in the calling process: ``num_workers`` must be 0.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None, sampler=None, num_workers=0):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive (the sampler sets the order)")
        if num_workers != 0:
            raise ValueError(f"DataLoader: num_workers={num_workers} is not supported; minigrad loads batches "
                             f"in the calling process (use num_workers=0)")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        if sampler is None:
            sampler = RandomSampler(dataset, generator) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        for indices in self._index_batches():
            yield self._fetch(indices)

    def _index_batches(self):
        """Lists of ``batch_size`` indices from one pass over the sampler."""
        order = iter(self.sampler)
        while True:
            indices = list(itertools.islice(order, self.batch_size))
            if not indices or (self.drop_last and len(indices) < self.batch_size):
                return
            yield indices

    def _fetch(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None and self.collate_fn is default_collate:
            batch = getitems(indices)
            # a list is PyTorch's convention (one sample per index); anything else is collated
            return default_collate(batch) if isinstance(batch, list) else batch
        return self.collate_fn([self.dataset[i] for i in indices])
