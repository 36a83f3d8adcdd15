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
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "get_worker_info"]


def get_worker_info():
    """``None``: minigrad loads every batch in the calling process, where PyTorch also answers None."""
    return None


# ----------------------------------------------------------------------------- collate
def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors and NumPy arrays are stacked along a new dim 0; Python ints become an int64
    tensor, floats a float64 tensor, bools a bool tensor; strings stay as given (a dict's a
    list, a tuple sample's field a tuple, as PyTorch's); dicts, tuples,
    namedtuples and lists are collated field by field.  As PyTorch's, the fields of a plain
    tuple come back as a list (``batch[0] = batch[0].to(device)`` works), a namedtuple's as
    that namedtuple.
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)) or not batch:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, (str, bytes)):                 # before numpy: numpy.str_ is a str
        return batch                                    # as PyTorch: a tuple inside tuple samples
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
    columns = [default_collate(field) for field in zip(*batch)]
    elem = batch[0]
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):       # a namedtuple
        return type(elem)(*columns)
    return columns


# ----------------------------------------------------------------------------- the loader
class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    ``shuffle=True`` draws a fresh permutation from ``generator`` (a CPU
    :class:`minigrad.Generator`; default: minigrad's default generator) at the start of each
    epoch, so the same seed gives the same batches.  ``sampler`` (an iterable of indices)
    replaces the order; ``batch_sampler`` (an iterable of index lists) replaces the batching
    too; ``batch_size=None`` turns batching off (each sample goes through ``collate_fn``
    alone, unstacked, as PyTorch's ``default_convert``).  ``drop_last`` drops a final, smaller
    batch.  An :class:`IterableDataset` is read in its own order and grouped into batches.
    Loading runs in the calling process whatever ``num_workers`` says: a ported program's
    ``num_workers=4`` gives the same batches in the same order as PyTorch's workers would, loaded
    one after another (``get_worker_info()`` is None, ``worker_init_fn`` is not called: there is
    no worker to initialise; ``pin_memory`` and the prefetch options change nothing).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
        if not isinstance(num_workers, numbers.Integral) or isinstance(num_workers, bool) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, got {num_workers!r}")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            which, value = ("shuffle", shuffle) if shuffle else ("sampler", sampler) if sampler is not None \
                else ("batch_sampler", batch_sampler)
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {which} option, "
                             f"but got {which}={value}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.num_workers, self.pin_memory, self.timeout = int(num_workers), pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers = persistent_workers
        self._auto_collation = batch_sampler is not None or self.batch_size is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        if batch_sampler is None and self.batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, self.batch_size, self.drop_last)
        self.batch_sampler = batch_sampler

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)                  # TypeError when the dataset has no length, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        return _DataLoaderIter(self)

    def _batches(self):
        if self._iterable:
            yield from self._iter_iterable()
        elif self.batch_sampler is None:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])
        else:
            for indices in self.batch_sampler:
                yield self._fetch(list(indices))

    def _iter_iterable(self):
        samples = iter(self.dataset)
        if self.batch_size is None:
            for sample in samples:
                yield self.collate_fn(sample)
            return
        while True:
            batch = list(itertools.islice(samples, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

    def _fetch(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None and self.collate_fn is default_collate:
            batch = getitems(indices)
            # a list is PyTorch's convention (one sample per index); anything else is collated,
            # a plain tuple of fields given as the list default_collate would build
            if isinstance(batch, list):
                return default_collate(batch)
            return list(batch) if type(batch) is tuple else batch
        return self.collate_fn([self.dataset[i] for i in indices])


def default_convert(data):
    """A sample without batching: NumPy arrays become Tensors (not scalars), containers are
    converted field by field (a tuple into a list, as PyTorch's), everything else stays as it is
    (PyTorch's ``default_convert``)."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSU":
        return Tensor._wrap(data.astype(backend.as_dtype(data.dtype), copy=False))
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]
    return data


class _DataLoaderIter:
    """What ``iter(loader)`` gives: the batches one by one, and ``len()`` (the loader's), as
    PyTorch's DataLoader iterators have."""

    def __init__(self, loader):
        self._loader, self._batches = loader, loader._batches()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self):
        return len(self._loader)
