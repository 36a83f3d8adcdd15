"""``minigrad.backends``: torch.backends' switches, accepted so that ported programs run.

minigrad calls neither cuDNN nor MPS and has no autotuner; its CPU kernels are deterministic
already. So ``cudnn.deterministic``, ``cudnn.benchmark``, ``cuda.matmul.allow_tf32`` and the
like are plain attributes a program may set and read back, and change nothing;
``mps.is_available()`` is False (the device-picking idiom then falls through to the CPU).
"""
from . import cuda, cudnn, mps  # noqa: F401

__all__ = ["cuda", "cudnn", "mps"]
