"""``torch.backends.cuda``: whether minigrad can use CUDA, and the matmul precision flags (kept and
read back; CuPy's float32 matmuls use no TF32 unless CuPy is told so itself)."""
from .. import cuda as _cuda


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: settable flags with PyTorch's defaults."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built() -> bool:
    """True when CUDA can be used (CuPy installed and a GPU seen)."""
    return _cuda.is_available()
