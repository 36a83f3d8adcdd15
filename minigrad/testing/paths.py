"""Implementation paths, and a record of which ones a computation took.

An op may compute the same result several ways: conv2d by Winograd or im2col (per image or per
chunk), every Numba kernel serially or, above ``PARALLEL_MIN_ELEMENTS`` (``kernels/_common.py``),
on threads.  The registry's path samples (``OpSpec.paths``) are sized to take each one, and
``tests/test_ops.py`` proves they do with :func:`taken`, so that a threshold that moves cannot
silently drop a path from the tests.

A *path* is a name and the probes that must all fire: a probe is a module-level function
(looked up by the caller at call time, as every dispatcher here does) and, optionally, what its
result must satisfy.  :data:`PATHS` holds the convolution algorithms and, found by inspection,
every Numba kernel compiled with ``parallel=True`` (``parallel:<module>.<function>``), so a new
threaded kernel has a path, which a test requires some registry entry to take.
"""
from __future__ import annotations

import contextlib
import importlib
from collections import Counter

from ..kernels import _common

__all__ = ["PATHS", "taken", "missing", "parallel_kernels"]

KERNEL_MODULES = ("activation", "conv", "loss", "norm", "pool", "recurrent", "scatter", "winograd")


def parallel_kernels():
    """(module, function name) of every Numba kernel compiled with ``parallel=True``."""
    found = []
    for short in KERNEL_MODULES:
        module = importlib.import_module(f"minigrad.kernels.{short}")
        for name, obj in vars(module).items():
            if getattr(obj, "targetoptions", {}).get("parallel"):
                found.append((module.__name__, name))
    return sorted(found)


_CONV = "minigrad.ops.conv"
#: path -> probes (module, function, predicate on its result or None), all of which must fire
PATHS = {
    "conv:winograd": [(_CONV, "_winograd_conv", None), (_CONV, "_winograd_weight_grad", None)],
    "conv:im2col per image": [(_CONV, "_per_image", bool)],
    "conv:im2col per chunk": [(_CONV, "_per_image", lambda result: not result)],
}
PATHS.update({f"parallel:{module.rsplit('.', 1)[-1]}.{name}": [(module, name, None)]
              for module, name in parallel_kernels()})
#: the threshold the parallel samples are sized against (recorded for the error messages)
PARALLEL_MIN_ELEMENTS = _common.PARALLEL_MIN_ELEMENTS


@contextlib.contextmanager
def taken():
    """Within the block, count the probes that fire: yields a Counter of (module, function)."""
    fired = Counter()
    originals = []
    probes = {(module, name) for probes in PATHS.values() for module, name, _ in probes}
    for module_name, name in sorted(probes):
        module = importlib.import_module(module_name)
        fn = getattr(module, name)
        originals.append((module, name, fn))
        predicates = [(path, pred) for path, ps in PATHS.items() for m, n, pred in ps if (m, n) == (module_name, name)]

        def spy(*args, _fn=fn, _key=(module_name, name), _predicates=predicates, **kwargs):
            result = _fn(*args, **kwargs)
            for path, pred in _predicates:
                if pred is None or pred(result):
                    fired[path, _key] += 1
            return result
        setattr(module, name, spy)
    try:
        yield fired
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)


def missing(path, fired) -> list:
    """The probes of ``path`` that did not fire (empty: the path was taken)."""
    return [f"{module}.{name}" for module, name, _ in PATHS[path] if not fired[path, (module, name)]]
