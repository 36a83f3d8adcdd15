"""``minigrad.nn.parallel``: data-parallel training (mpi4py is imported only when it is used)."""
from .data_parallel import DataParallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401
from .sync_batchnorm import SyncBatchNorm  # noqa: F401

__all__ = ["DataParallel", "DistributedDataParallel", "SyncBatchNorm"]
