"""Testing tools for minigrad and its users.

* :mod:`minigrad.testing.registry`: the op registry (``REGISTRY``, ``OpSpec``, ``Sample``);
* :mod:`minigrad.testing.draw`: where test inputs come from (``RandomDrawer``);
* :mod:`minigrad.testing.strategies`: hypothesis strategies (imported on demand, since
  hypothesis is a test-only dependency);
* :func:`assert_close`: PyTorch's ``torch.testing.assert_close`` (:mod:`minigrad.testing.asserts`);
* :func:`minigrad.gradcheck` itself lives in :mod:`minigrad.gradcheck`.
"""
from .asserts import assert_close  # noqa: F401
from .draw import Drawer, RandomDrawer  # noqa: F401
from .registry import NON_DIFFERENTIABLE, REGISTRY, OpSpec, Sample, by_name, register  # noqa: F401
from .harness import build_inputs, run_op, to_numpy_outputs  # noqa: F401
