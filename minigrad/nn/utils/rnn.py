"""Variable-length batches for the recurrent layers, with PyTorch's names and semantics.

Shape legend: T longest length, B batch, * the feature dims; N = sum of the lengths.

* ``pad_sequence([ (L_b, *) ... ])`` -> (T, B, *) (or (B, T, *) with ``batch_first``).
* ``pack_padded_sequence(padded, lengths)`` -> :class:`PackedSequence`: ``data`` (N, *) holds the
  steps time-major, and at step t only the ``batch_sizes[t]`` longest sequences (the batch
  sorted longest first; ``sorted_indices`` says how); the recurrent layers consume it
  directly and return one.
* ``pad_packed_sequence(packed)`` -> (padded, lengths), padding with ``padding_value``, in the
  original batch order.

Every conversion is one differentiable gather of rows (scatter-add backward), so gradients
flow through packing and padding.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import backend
from ...creation import full
from ...errors import ArgumentError
from ...ops.shape import cat, reshape
from ...tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]


class PackedSequence(NamedTuple):
    """``data`` (N, *), ``batch_sizes`` (T,) int64 on the CPU, ``sorted_indices`` and
    ``unsorted_indices`` (B,) int64 (None when the batch was already sorted by length)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> "PackedSequence":
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return PackedSequence(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(backend.float64)

    def float(self):
        return self.to(backend.float32)

    @property
    def is_cuda(self) -> bool:
        return self.data.device.type == "cuda"


# ----------------------------------------------------------------------------- index arithmetic (host)
def _host_lengths(lengths, opname):
    if isinstance(lengths, Tensor):
        lengths = backend.to_device(lengths._data, backend.CPU)
    arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise ArgumentError(f"{opname}: lengths must be 1-D (one per sequence), got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{opname}: lengths must be integers, got {arr.dtype}")
    return arr.astype(np.int64)


def batch_sizes_of(sorted_lengths) -> np.ndarray:
    """batch_sizes[t] = number of sequences longer than t (lengths sorted longest first)."""
    longest = int(sorted_lengths[0]) if len(sorted_lengths) else 0
    return (sorted_lengths[None, :] > np.arange(longest)[:, None]).sum(axis=1).astype(np.int64)


def lengths_of(batch_sizes) -> np.ndarray:
    """The sorted lengths back from batch_sizes: length[j] = number of steps with more than j rows."""
    bs = np.asarray(batch_sizes, dtype=np.int64)
    B = int(bs[0]) if bs.size else 0
    return (bs[None, :] > np.arange(B)[:, None]).sum(axis=1).astype(np.int64)


def packed_positions(batch_sizes, order, T, batch_first):
    """For each packed row (step t, j-th longest sequence), its row in the flattened padded
    tensor: t * B + order[j] (time-major) or order[j] * T + t (batch-first)."""
    bs = np.asarray(batch_sizes, dtype=np.int64)
    B = int(bs[0]) if bs.size else 0
    steps = np.repeat(np.arange(bs.size), bs)
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]]) if bs.size else np.zeros(0, np.int64)
    j = np.arange(int(bs.sum())) - np.repeat(offsets, bs)
    b = np.asarray(order, dtype=np.int64)[j]
    return b * T + steps if batch_first else steps * B + b


def _on(index, like: Tensor):
    return backend.to_device(np.ascontiguousarray(index, dtype=np.int64), like.device)


def _rows(x: Tensor, n_rows: int) -> Tensor:
    return reshape(x, (n_rows,) + tuple(x.shape[2:]))


def gather_packed(padded: Tensor, batch_sizes, order, batch_first=False) -> Tensor:
    """Packed data (N, *) from a padded tensor whose sequences are in batch order ``order``."""
    d0, d1 = padded.shape[0], padded.shape[1]
    T = d1 if batch_first else d0
    flat = _rows(padded, d0 * d1)
    return flat[_on(packed_positions(batch_sizes, order, T, batch_first), flat)]


def scatter_packed(data: Tensor, batch_sizes, order, T, B, batch_first=False, padding_value=0.0) -> Tensor:
    """The padded tensor (T, B, *) / (B, T, *) whose rows ``packed_positions`` hold ``data``."""
    n = data.shape[0]
    feature = tuple(data.shape[1:])
    source = np.full(T * B, n, dtype=np.int64)             # row n: the padding row
    source[packed_positions(batch_sizes, order, T, batch_first)] = np.arange(n)
    pad_row = full((1,) + feature, padding_value, dtype=data.dtype, device=data.device)
    rows = cat([data, pad_row], 0)[_on(source, data)]
    return reshape(rows, ((B, T) if batch_first else (T, B)) + feature)


# ----------------------------------------------------------------------------- public functions
def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right") -> Tensor:
    """Stack tensors of shapes (L_b, *) into (T, B, *) (``batch_first``: (B, T, *)), padding
    each to the longest with ``padding_value`` on the right (or ``padding_side='left'``)."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences)
    if not sequences:
        raise ArgumentError("pad_sequence: expected a non-empty list of tensors")
    if padding_side not in ("right", "left"):
        raise ArgumentError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    seqs = [s if isinstance(s, Tensor) else Tensor(s) for s in sequences]
    feature = tuple(seqs[0].shape[1:])
    for k, s in enumerate(seqs):
        if s.ndim == 0 or tuple(s.shape[1:]) != feature:
            raise ArgumentError(f"pad_sequence: every sequence must have shape (L, {', '.join(map(str, feature))}"
                             f"{',' if len(feature) == 1 else ''}); sequence {k} has shape {tuple(s.shape)}")
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    T, B = int(lengths.max()), len(seqs)
    n = int(lengths.sum())
    source = np.full((T, B), n, dtype=np.int64)
    start = 0
    for b, length in enumerate(lengths):
        t0 = 0 if padding_side == "right" else T - length
        source[t0:t0 + length, b] = np.arange(start, start + length)
        start += length
    if batch_first:
        source = source.T
    pad_row = full((1,) + feature, padding_value, dtype=seqs[0].dtype, device=seqs[0].device)
    rows = cat(seqs + [pad_row], 0)
    return reshape(rows[_on(source.reshape(-1), rows)], source.shape + feature)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) of sequences of ``lengths``.

    With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is sorted here
    and ``sorted_indices`` / ``unsorted_indices`` record the permutation.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise ArgumentError(f"pack_padded_sequence: expected input of at least 2 dims (T, B, *), got shape {tuple(x.shape)}")
    lens = _host_lengths(lengths, "pack_padded_sequence")
    T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    if lens.shape != (B,):
        raise ArgumentError(f"pack_padded_sequence: expected {B} lengths (one per sequence), got {lens.size}")
    if B and lens.min() <= 0:
        raise ArgumentError("pack_padded_sequence: every sequence must have a length greater than 0")
    if B and lens.max() > T:
        raise ArgumentError(f"pack_padded_sequence: a length of {lens.max()} exceeds the padded length {T}")
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError("pack_padded_sequence: lengths must be sorted in decreasing order when "
                               "enforce_sorted=True; pass enforce_sorted=False to sort them here")
        order, sorted_t, unsorted_t = np.arange(B), None, None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_t = Tensor._wrap(_on(order, x))
        unsorted_t = Tensor._wrap(_on(np.argsort(order, kind="stable"), x))
    bs = batch_sizes_of(lens[order])
    data = gather_packed(x, bs, order, batch_first)
    return PackedSequence(data, Tensor._wrap(bs), sorted_t, unsorted_t)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: returns ``(padded, lengths)`` in the original batch
    order, padded with ``padding_value`` to the longest length (or ``total_length``)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    data, batch_sizes, sorted_indices, _ = sequence
    bs = _host_lengths(batch_sizes, "pad_packed_sequence")
    T = int(bs.size)
    if total_length is not None:
        if total_length < T:
            raise ArgumentError(f"pad_packed_sequence: total_length={total_length} is less than the longest "
                             f"sequence's length {T}")
        T = int(total_length)
    B = int(bs[0]) if bs.size else 0
    order = np.arange(B) if sorted_indices is None else backend.to_device(sorted_indices._data, backend.CPU)
    padded = scatter_packed(data, bs, order, T, B, batch_first, padding_value)
    lengths = np.empty(B, dtype=np.int64)
    lengths[order] = lengths_of(bs)
    return padded, Tensor._wrap(lengths)


def pack_sequence(sequences, enforce_sorted=True) -> PackedSequence:
    """Pack a list of tensors (L_b, *) (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False) -> list:
    """The list of tensors (L_b, *) inside a padded batch."""
    lens = _host_lengths(lengths, "unpad_sequence")
    x = padded_sequences
    return [x[b, :int(n)] if batch_first else x[:int(n), b] for b, n in enumerate(lens)]


def unpack_sequence(packed_sequences) -> list:
    """The list of tensors (L_b, *) inside a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
