"""``torch.backends.mkldnn``: not used by minigrad."""


def is_available() -> bool:
    return False
