"""``torch.autograd.grad_mode``'s names: the switches of graph recording."""
from . import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from ..utilities import inference_mode  # noqa: F401

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]
