"""``torch.nn.modules.utils``: the tuple helpers layers use to read their arguments, and
``consume_prefix_in_state_dict_if_present`` (loading a DataParallel/DDP checkpoint, whose keys
start with ``module.``, into the bare model)."""
from collections.abc import Iterable


def _ntuple(n, name="parse"):
    """A parser: an iterable becomes a tuple as it is, anything else is repeated ``n`` times."""
    def parse(x):
        return tuple(x) if isinstance(x, Iterable) else (x,) * n
    parse.__name__ = name
    return parse


_single, _pair, _triple, _quadruple = (_ntuple(n, name) for n, name in
                                       ((1, "_single"), (2, "_pair"), (3, "_triple"), (4, "_quadruple")))


def _reverse_repeat_tuple(t, n):
    """Each entry of ``t``, last first, ``n`` times (a conv's padding as F.pad's amounts)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """An adaptive pool's output size, its None entries taken from the input's trailing ``defaults``."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [d if v is None else v for v, d in zip(out_size, defaults[-len(out_size):])]


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip ``prefix`` from every key of ``state_dict`` (and of its ``_metadata``) in place."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in [k for k in metadata if k and (k == prefix.replace(".", "") or k.startswith(prefix))]:
            metadata[key[len(prefix):]] = metadata.pop(key)
