"""``torch.backends.cudnn``'s flags.  minigrad calls no cuDNN (its GPU kernels are CuPy's and its
own), so these are kept for the scripts that set them and change nothing: results are as
deterministic with ``deterministic = False`` as with True (see ``use_deterministic_algorithms``)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: minigrad uses no cuDNN."""
    return False


def version():
    """None: no cuDNN is loaded (PyTorch's answer without one)."""
    return None
