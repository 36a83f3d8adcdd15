"""How a tensor prints, by PyTorch's rules: ``tensor([1.0000e-05, 1.0000e+00])``, ``tensor([1., nan])``.

One number format for all the elements of a tensor, chosen from its finite non-zero values (only
those shown, when a large tensor is summarised):

* bools and integers: as Python writes them;
* floats that are all whole numbers: ``12.`` (a point, no digits after it), or scientific when
  the largest magnitude is over 1e8 or over 1000 times the smallest;
* other floats: ``precision`` digits after the point, or scientific (``precision`` digits) when
  the largest magnitude is over 1e8 or over 1000 times the smallest, or the smallest under 1e-4.

``sci_mode`` True or False in the print options overrides that last choice.  Every element is
padded on the left to the widest one; a row wraps before ``linewidth``; a tensor of more than
``threshold`` elements shows ``edgeitems`` at both ends of each dim, with ``...`` between.
"""
from __future__ import annotations

import numpy as np


class NumberFormat:
    """The one format, and width, of a tensor's elements (see the module docstring)."""

    def __init__(self, shown: np.ndarray, precision: int, sci_mode):
        self.kind, self.precision = shown.dtype.kind, precision
        values = shown.reshape(-1)
        if self.kind != "f":
            self.style = "plain"
            self.width = max((len(str(v)) for v in values.tolist()), default=1)
            return
        values = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        whole = bool((values == np.ceil(values)).all())
        scientific = False
        if values.size:
            largest, smallest = np.abs(values).max(), np.abs(values).min()
            scientific = largest / smallest > 1000.0 or largest > 1.0e8 or (not whole and smallest < 1.0e-4)
        if sci_mode is not None:
            scientific = bool(sci_mode)
        self.style = "sci" if scientific else "whole" if whole else "fixed"
        self.width = max((len(self._number(v)) for v in values.tolist()), default=1)

    def _number(self, v) -> str:
        if self.style == "plain":
            return str(v)
        if self.style == "sci":
            return f"{v:.{self.precision}e}"
        if self.style == "fixed":
            return f"{v:.{self.precision}f}"
        return f"{v:.0f}" + ("." if np.isfinite(v) else "")

    def __call__(self, v) -> str:
        return self._number(v).rjust(self.width)


def shown_part(arr: np.ndarray, edgeitems: int) -> np.ndarray:
    """What a summarised tensor shows: ``edgeitems`` at both ends of every longer dim."""
    for axis, n in enumerate(arr.shape):
        if n > 2 * edgeitems:
            arr = np.take(arr, np.r_[0:edgeitems, n - edgeitems:n], axis=axis)
    return arr


def _layout(arr, fmt, indent, summarize, options) -> str:
    """``arr`` in nested brackets: a dim's rows one per line (blank lines between blocks of
    higher dims), a vector's elements wrapped to the line width, ``indent`` the column the
    opening bracket sits at."""
    if arr.ndim == 0:
        return fmt(arr.item())
    edge = options["edgeitems"]
    cut = summarize and arr.shape[0] > 2 * edge
    rows = list(range(edge)) + [None] + list(range(arr.shape[0] - edge, arr.shape[0])) if cut \
        else range(arr.shape[0])
    if arr.ndim == 1:
        items = [" ..." if i is None else fmt(arr[i].item()) for i in rows]
        per_line = max(1, (options["linewidth"] - indent) // (fmt.width + 2))
        lines = [", ".join(items[k:k + per_line]) for k in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = ["..." if i is None else _layout(arr[i], fmt, indent + 1, summarize, options) for i in rows]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def tensor_repr(arr: np.ndarray, options: dict, default_dtypes: tuple, device=None, autograd=None) -> str:
    """``tensor(<values>, device=..., size=..., dtype=..., grad_fn=...)`` for the host array
    ``arr``: ``device`` and ``autograd`` are given as text, size= and dtype= added by PyTorch's
    rules (``default_dtypes``: the ones not named, the default float dtype first); a suffix that
    would pass the line width starts a new line."""
    prefix = "tensor("
    indent = len(prefix)
    extras = [] if device is None else [device]
    summarize = arr.size > options["threshold"]
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            extras.append(f"size={tuple(arr.shape)}")
        if arr.dtype != default_dtypes[0]:
            extras.append(f"dtype={arr.dtype.name}")
    else:
        if not options["edgeitems"]:               # no values shown, or (not summarised) all: the size says it
            extras.append(f"size={tuple(arr.shape)}")
        if summarize and not options["edgeitems"]:
            body = "[...]"
        else:
            shown = shown_part(arr, options["edgeitems"]) if summarize else arr
            fmt = NumberFormat(shown, options["precision"], options["sci_mode"])
            body = _layout(arr, fmt, indent, summarize, options)
        if arr.dtype not in default_dtypes:
            extras.append(f"dtype={arr.dtype.name}")
    text = prefix + body
    line = len(text) - text.rfind("\n") + 1
    for suffix in extras + ([] if autograd is None else [autograd]):
        if line + len(suffix) + 2 > options["linewidth"]:
            text += ",\n" + " " * indent + suffix
            line = indent + len(suffix)
        else:
            text += ", " + suffix
            line += len(suffix) + 2
    return text + ")"
