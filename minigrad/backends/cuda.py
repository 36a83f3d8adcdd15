"""torch.backends.cuda's switches (``matmul.allow_tf32``, ...): set and read back, they change
nothing (minigrad's GPU matmuls run in the tensors' own dtype)."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    from .. import cuda
    return cuda.is_available()
