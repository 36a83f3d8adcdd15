"""``torch.backends.cuda``: ``matmul``'s precision switches, held without effect (minigrad's GPU
products are plain float32 through CuPy); ``is_built()``: whether CuPy can run on a GPU here."""
from types import SimpleNamespace

from .. import backend as _backend

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    return _backend.cuda_is_available()
