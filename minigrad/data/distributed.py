"""DistributedSampler: each rank of a data-parallel job reads its own share of the data set."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """The indices of rank ``rank`` out of ``num_replicas`` (PyTorch's rule).

    Every rank gets ``ceil(len / num_replicas)`` indices: the (shuffled) index list is padded
    by repeating its beginning until it divides evenly, then rank r takes every
    ``num_replicas``-th index starting at r.  ``drop_last=True`` instead drops the tail so
    that it divides evenly.  The shuffle depends only on ``seed + epoch``, so all ranks draw
    the same permutation: call ``set_epoch(epoch)`` before each epoch for a new order.
    ``num_replicas`` and ``rank`` default to the process group's.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: pass num_replicas and rank, or call "
                                   "minigrad.distributed.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank} for num_replicas={num_replicas}; "
                             f"expected 0 <= rank < num_replicas")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples
