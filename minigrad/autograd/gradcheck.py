"""``torch.autograd.gradcheck`` as a module (``from torch.autograd.gradcheck import gradcheck,
GradcheckError``): minigrad's checks live in ``minigrad/gradcheck.py``.  As in PyTorch, the
package attribute ``autograd.gradcheck`` is the function; this module is reached by import."""
from ..gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]
