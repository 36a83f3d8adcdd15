"""``torch.backends.cudnn``: held, without effect (minigrad's GPU convolutions are its own CuPy
kernels, not cuDNN's)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
