"""``parameters_to_vector`` and ``vector_to_parameters``: all parameters as one flat vector and back."""
from __future__ import annotations

from ...errors import ArgumentError
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and concatenated in order (differentiable with respect to them)."""
    from ...ops.shape import cat
    params = list(parameters.values() if isinstance(parameters, dict) else parameters)
    if not params:
        raise RuntimeError("parameters_to_vector: expected at least one parameter")
    _same_device(params, "parameters_to_vector")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (their data is replaced,
    as PyTorch's; no graph is recorded)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, but got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ArgumentError(f"vector_to_parameters: vec must be 1-D, got shape {tuple(vec.shape)}")
    params = list(parameters)
    _same_device(params, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if total != vec.shape[0]:
        raise RuntimeError(f"vector_to_parameters: vec has {vec.shape[0]} elements but the parameters hold {total}")
    start = 0
    for p in params:
        n = p.numel()
        p._data = vec._data[start:start + n].reshape(p.shape).astype(p._data.dtype, copy=True)
        start += n


def _same_device(params, who):
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise TypeError(f"{who}: found parameters on different devices {sorted(devices)}")
