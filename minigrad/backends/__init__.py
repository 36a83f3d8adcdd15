"""``minigrad.backends``: the switches ported programs set through ``torch.backends``.

Training scripts commonly write ``torch.backends.cudnn.benchmark = True`` (or ``import
torch.backends.cudnn as cudnn``) and ``cudnn.deterministic = True`` next to their seeding, test
``torch.backends.mps.is_available()`` or set ``torch.backends.cuda.matmul.allow_tf32`` when
choosing a device.  minigrad has no cuDNN, MPS or TF32 paths, so these modules only hold the values
a program sets (PyTorch's defaults until then) and change nothing it computes: minigrad's CPU and
CuPy ops are deterministic already, and its GPU products are plain float32.  ``is_available()``
says whether minigrad itself can use the thing (never, but for ``cuda.is_built()``: CuPy).
"""
from . import cuda, cudnn, mkldnn, mps, openmp  # noqa: F401

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp"]
