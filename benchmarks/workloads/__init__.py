"""Workloads: each builds, for one framework and device, a ``step`` callable to time."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class Workload:
    name: str
    group: str
    description: str
    setup: dict                 # framework name -> setup(device) -> step callable
    flops: float | None = None  # floating-point operations per step, when meaningful


WORKLOADS: dict[str, Workload] = {}


def workload(name, group, description, flops=None):
    """Register a workload; decorate a function ``(framework, device) -> step``."""
    def wrap(fn: Callable):
        WORKLOADS[name] = Workload(name, group, description, {"minigrad": lambda d: fn("minigrad", d),
                                                              "torch": lambda d: fn("torch", d)}, flops)
        return fn
    return wrap


def load_all():
    from . import conv, models, ops  # noqa: F401  (importing registers the workloads)
    from . import recurrent  # noqa: F401
    from . import attention  # noqa: F401
    return WORKLOADS
