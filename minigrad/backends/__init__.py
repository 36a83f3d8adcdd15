"""``minigrad.backends`` (PyTorch's ``torch.backends``): the switches scripts set or ask about while
choosing a device and making runs repeatable (``torch.backends.cudnn.deterministic = True``,
``torch.backends.mps.is_available()``).  minigrad has no cuDNN and no Metal backend: the flags are
kept and read back and change nothing; ``mps`` is never available."""
from . import cuda, cudnn, mps  # noqa: F401
