"""Running a registry entry: turning a :class:`Sample` into tensors, calling the op, reading
its outputs back.  Shared by the test suite and ``python -m minigrad gradcheck``."""
from __future__ import annotations

import numpy as np

import minigrad as mg

from .. import backend


def build_inputs(sample, device="cpu", dtype=None):
    """Tensors for the array arguments of ``sample`` (float ones require grad unless
    constant); other arguments pass through, arrays among keyword arguments moved to ``device``."""
    args = []
    for k, a in enumerate(sample.args):
        if isinstance(a, np.ndarray):
            if dtype is not None and a.dtype.kind == "f":
                a = a.astype(dtype)
            grad = a.dtype.kind == "f" and k not in sample.constant
            args.append(mg.tensor(a, device=device, requires_grad=grad))
        else:
            args.append(a)
    kwargs = {}
    for key, v in sample.kwargs.items():
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            v = backend.to_device(v if dtype is None else v.astype(dtype), backend.device(device))
        kwargs[key] = v
    return args, kwargs


def as_outputs(result) -> tuple:
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def run_op(spec, args, kwargs) -> tuple:
    return as_outputs(spec.fn(*args, **kwargs))


def differentiable(outputs) -> list:
    return [o for o in outputs if isinstance(o, mg.Tensor) and o.dtype.kind == "f" and o.requires_grad]


def grad_inputs(args) -> list:
    return [a for a in args if isinstance(a, mg.Tensor) and a.requires_grad]


def to_numpy_outputs(outputs) -> tuple:
    return tuple(backend.to_device(o._data, backend.CPU) if isinstance(o, mg.Tensor) else np.asarray(o)
                 for o in outputs)


def numpy_args(sample, dtype=None):
    """The sample's arguments for the NumPy reference."""
    args = [a.astype(dtype) if dtype is not None and isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in sample.args]
    return args, dict(sample.kwargs)


def op_function(spec, args, kwargs):
    """``fn(*differentiable inputs)`` with everything else fixed: what gradcheck takes."""
    positions = [k for k, a in enumerate(args) if isinstance(a, mg.Tensor) and a.requires_grad]

    def call(*tensors):
        full = list(args)
        for k, t in zip(positions, tensors):
            full[k] = t
        return as_outputs(spec.fn(*full, **kwargs))
    return call, [args[k] for k in positions]
