"""torch.backends.cudnn's flags: set and read back, they change nothing (minigrad has no cuDNN)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: minigrad's GPU ops are CuPy kernels and BLAS, not cuDNN."""
    return False


def version():
    return None
