"""``minigrad.return_types`` (PyTorch's ``torch.return_types``): the named tuples of the ops that
return values and indices (``values, indices = x.max(1)``; ``x.max(1).indices``), one per op, so
that each prints as PyTorch prints it and pickles by its name::

    minigrad.return_types.max(
    values=tensor([2., 5.]),
    indices=tensor([2, 2]))
"""
from __future__ import annotations

import collections


def _result(name, fields=("values", "indices")):
    def __repr__(self):
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
        return f"minigrad.return_types.{name}(\n{body})"
    return type(name, (collections.namedtuple(name, fields),),
                {"__slots__": (), "__repr__": __repr__, "__module__": __name__, "__qualname__": name})


max = _result("max")            # noqa: A001
min = _result("min")            # noqa: A001
median = _result("median")
nanmedian = _result("nanmedian")
mode = _result("mode")
kthvalue = _result("kthvalue")
cummax = _result("cummax")
cummin = _result("cummin")
sort = _result("sort")
topk = _result("topk")
aminmax = _result("aminmax", ("min", "max"))
