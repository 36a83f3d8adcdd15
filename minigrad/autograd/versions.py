"""Version counters of array memory: how the engine notices that an array saved for backward
was modified in place afterwards (PyTorch's "modified by an inplace operation" error).

Every in-place Tensor method calls :func:`bump` on the array it wrote; views share their root
array's counter (a write through ``x[0]`` bumps ``x`` too).  The table is empty until the first
in-place edit, and an array not in it is at version 0, so graphs built without in-place edits
record nothing: a node notes the versions of what it saved only while the table is non-empty
(:func:`versions_of`), and backward compares them with the current ones (:func:`check`).
"""
from __future__ import annotations

import weakref

from .. import backend

# id(root array) -> [version, weak (or, for arrays without weak references, strong) reference]
_counts = {}


def root(array):
    """The array that owns the memory ``array`` looks at (itself when it owns it); through
    NumPy's wrappers too (``as_strided`` keeps its source as ``.base.base``)."""
    base = array.base
    while base is not None:
        if backend.is_array(base):
            array = base
        base = getattr(base, "base", None)
    return array


def _forget(key):
    return lambda _ref: _counts.pop(key, None)


def bump(array) -> None:
    """Note an in-place write into ``array`` (and so into every view of its memory)."""
    r = root(array)
    key = id(r)
    entry = _counts.get(key)
    if entry is None or _target(entry) is not r:
        try:
            ref = weakref.ref(r, _forget(key))
        except TypeError:
            ref = r
        entry = _counts[key] = [0, ref]
    entry[0] += 1


def _target(entry):
    ref = entry[1]
    return ref() if isinstance(ref, weakref.ref) else ref


def version(array) -> int:
    if not _counts:
        return 0
    r = root(array)
    entry = _counts.get(id(r))
    return 0 if entry is None or _target(entry) is not r else entry[0]


def watched(node):
    """The arrays a node's backward will read: what forward saved and a composite's inputs."""
    saved = node._saved
    arrays = [a for a in saved if backend.is_array(a)] if type(saved) is tuple else []
    inputs = getattr(node, "_inputs", None)
    if inputs:
        arrays += [a for a in inputs[0] if backend.is_array(a)]
    return arrays


def versions_of(node):
    """Versions of the node's watched arrays now, or None when nothing was ever edited in place."""
    if not _counts:
        return None
    return tuple(version(a) for a in watched(node))


def check(node, recorded) -> None:
    """Raise when an array the node saved was modified in place since it was saved."""
    arrays = watched(node)
    for k, a in enumerate(arrays):
        expected = recorded[k] if recorded else 0
        now = version(a)
        if now != expected:
            raise RuntimeError(
                f"{node.name}: one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: an array of shape {tuple(a.shape)} and dtype {a.dtype} is at version {now}; "
                f"expected version {expected} instead (clone() it before the in-place edit, or do the edit "
                f"out of place)")
