"""Character sequences for the transformer example: a synthetic task that needs no download
(reverse a string) and next-character prediction on any text file.

Both give ``ds[i] = (input ids (L,) int64, target ids (L,) int64)``, a batch (B, L) and (B, L),
with the alphabet in ``ds.alphabet`` (``ds.decode(ids)`` spells ids back as text).
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset

__all__ = ["CharSequences", "reversal", "text_chunks"]


class CharSequences(Dataset):
    """Pairs of equally long id sequences over ``alphabet``."""

    def __init__(self, inputs, targets, alphabet):
        self.inputs, self.targets = np.asarray(inputs, dtype=np.int64), np.asarray(targets, dtype=np.int64)
        if self.inputs.shape != self.targets.shape or self.inputs.ndim != 2:
            raise ValueError(f"CharSequences: inputs {tuple(self.inputs.shape)} and targets {tuple(self.targets.shape)} must be "
                             f"two (N, L) arrays of one shape")
        self.alphabet = alphabet

    def decode(self, ids) -> str:
        return "".join(self.alphabet[int(i)] for i in np.asarray(ids).reshape(-1))

    def __getitem__(self, index):
        return Tensor._wrap(self.inputs[index]), Tensor._wrap(self.targets[index])

    def __getitems__(self, indices):
        index = np.asarray(indices, dtype=np.int64)
        return Tensor._wrap(self.inputs[index]), Tensor._wrap(self.targets[index])

    def __len__(self):
        return len(self.inputs)


def reversal(n_train=4000, n_test=500, length=10, alphabet="abcdefghij", seed=0):
    """(train, test): random strings over ``alphabet`` and the same strings reversed.  Position i
    of the answer is character length-1-i of the question, so a model must attend by position;
    chance is 1/len(alphabet) per character."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, len(alphabet), (n_train + n_test, length))
    return (CharSequences(ids[:n_train], ids[:n_train, ::-1], alphabet),
            CharSequences(ids[n_train:], ids[n_train:, ::-1], alphabet))


def text_chunks(text, seq_len=64, test_fraction=0.1):
    """(train, test) for next-character prediction on ``text``: consecutive chunks of seq_len + 1
    characters, input the first seq_len and target the last seq_len; the last ``test_fraction``
    of the chunks (the end of the text) is the test set.  The alphabet is the text's characters,
    sorted."""
    alphabet = "".join(sorted(set(text)))
    n_chunks = (len(text) - 1) // seq_len
    n_test = max(1, int(round(n_chunks * test_fraction)))
    if n_chunks < 2 or n_chunks - n_test < 1:
        raise ValueError(f"text_chunks: a text of {len(text)} characters is too short for sequences of {seq_len} "
                         f"(need at least {2 * seq_len + 1})")
    index = {c: i for i, c in enumerate(alphabet)}
    ids = np.fromiter((index[c] for c in text[:n_chunks * seq_len + 1]), dtype=np.int64)
    starts = np.arange(n_chunks) * seq_len
    windows = starts[:, None] + np.arange(seq_len + 1)
    chunks = ids[windows]
    cut = n_chunks - n_test
    return (CharSequences(chunks[:cut, :-1], chunks[:cut, 1:], alphabet),
            CharSequences(chunks[cut:, :-1], chunks[cut:, 1:], alphabet))
