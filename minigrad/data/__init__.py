"""Data loading, PyTorch-style: datasets, a DataLoader, transforms, and image data sets.

    from minigrad.data import DataLoader, Digits, transforms
    train = Digits(train=True, transform=transforms.Flatten())
    for images, labels in DataLoader(train, batch_size=64, shuffle=True):
        ...                                    # images: float32 (64, 64), labels: int64 (64,)

``Digits`` (8x8, 1797 images) ships with minigrad; ``MNIST`` and ``FashionMNIST`` read the
standard IDX files from disk.
"""
from . import transforms
from .dataloader import DataLoader, default_collate, default_convert, get_worker_info
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .distributed import DistributedSampler
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .cifar import CIFAR10
from .digits import Digits
from .mnist import MNIST, FashionMNIST, read_idx
from . import text  # tokenizer, Vocab, length bucketing, padding
from .imdb import IMDB
from .sequences import SequentialDigits
from .chars import CharSequences

__all__ = ["Dataset", "IterableDataset", "ChainDataset", "TensorDataset", "Subset", "ConcatDataset", "StackDataset",
           "random_split",
           "DataLoader", "default_collate", "default_convert", "get_worker_info", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "DistributedSampler",
           "transforms", "Digits", "MNIST", "FashionMNIST", "read_idx", "CIFAR10", "text", "IMDB", "SequentialDigits",
           "CharSequences"]
