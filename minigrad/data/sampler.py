"""Samplers with PyTorch's names: what order (and which) dataset indices a DataLoader reads.

``Sampler`` is the base class; ``BatchSampler`` groups another sampler's indices into lists;
``SubsetRandomSampler`` permutes a given index list; ``WeightedRandomSampler`` draws indices
with probabilities proportional to ``weights``, with or without replacement.  Random draws
come from ``generator`` (a CPU :class:`minigrad.Generator`) or minigrad's default generator,
taken at iteration time so that ``minigrad.manual_seed`` fixes later epochs too.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor
from .dataset import _cpu_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation of the indices on every ``iter()`` (every epoch); with
    ``replacement=True``, ``num_samples`` indices drawn uniformly with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement must be a bool, got {replacement!r}")
        if num_samples is not None and (not _is_int(num_samples) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive integer, got {num_samples!r}")
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        self.generator = generator
        _cpu_generator(generator, "RandomSampler")       # fail now, not at the first epoch

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __iter__(self):
        rng = _cpu_generator(self.generator, "RandomSampler").impl
        n = len(self.data_source)
        if self.replacement:
            return iter(rng.integers(0, n, size=self.num_samples).tolist())
        rounds = -(-self.num_samples // n) if n else 0
        order = [rng.permutation(n) for _ in range(rounds)]
        return iter(np.concatenate(order)[:self.num_samples].tolist() if order else [])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order every epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        _cpu_generator(generator, "SubsetRandomSampler")

    def __iter__(self):
        rng = _cpu_generator(self.generator, "SubsetRandomSampler").impl
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))``, index i with probability proportional
    to ``weights[i]`` (as ``torch.multinomial``); without replacement, each index at most once."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples must be a positive integer, got {num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement must be a bool, got {replacement!r}")
        w = np.asarray(weights.detach().cpu().numpy() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights must be 1-D, got shape {tuple(w.shape)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative, with a positive sum")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement "
                               f"from {np.count_nonzero(w)} non-zero weights")
        self.weights, self.num_samples, self.replacement = w, int(num_samples), replacement
        self.generator = generator
        _cpu_generator(generator, "WeightedRandomSampler")

    def __iter__(self):
        rng = _cpu_generator(self.generator, "WeightedRandomSampler").impl
        p = self.weights / self.weights.sum()
        return iter(rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p).tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; ``drop_last`` drops a short final list."""

    def __init__(self, sampler, batch_size, drop_last):
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)
