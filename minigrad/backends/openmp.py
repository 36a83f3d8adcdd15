"""``torch.backends.openmp``: not used by minigrad."""


def is_available() -> bool:
    return False
