"""Text pipeline: tokenize, build a vocabulary, turn tokens into ids, and batch sequences of
similar length together, padded.

    tokenize = get_tokenizer("basic_english")
    vocab = build_vocab((tokenize(t) for t, _ in train), min_freq=1, max_size=20000)
    train_ids = TokenizedDataset(train, vocab, tokenize)           # (ids int64 (L,), label)
    loader = DataLoader(train_ids, batch_size=64,
                        sampler=BucketSampler(train_ids.lengths, 64, generator=g),
                        collate_fn=PadCollate(vocab.pad_index))
    for (tokens, lengths), labels in loader:     # tokens (B, T) int64 padded with <pad>, lengths (B,)
        ...

The vocabulary is plain data (``state_dict`` / ``save`` / ``load``), so it can travel with the
model that was trained on it (see ``minigrad.models.TextLSTM``).
"""
from __future__ import annotations

import collections
import json
import re

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset, _cpu_generator

__all__ = ["basic_english", "get_tokenizer", "Vocab", "build_vocab", "numericalize", "TokenizedDataset",
           "BucketSampler", "PadCollate", "PAD", "UNK"]

PAD, UNK = "<pad>", "<unk>"

_LINE_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)      # IMDB reviews keep HTML line breaks
_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")                       # words (with inner apostrophes) or one symbol


def basic_english(text: str) -> list:
    """Lower-case ``text``, drop HTML line breaks, and split it into words (letters, digits and
    inner apostrophes: ``don't`` is one token) and single punctuation marks."""
    return _TOKEN.findall(_LINE_BREAK.sub(" ", text.lower()))


def get_tokenizer(name="basic_english"):
    """A tokenizer by name: ``"basic_english"`` or ``None`` / ``"split"`` (split on whitespace)."""
    if name == "basic_english":
        return basic_english
    if name in (None, "split"):
        return str.split
    if callable(name):
        return name
    raise ValueError(f"get_tokenizer: unknown tokenizer {name!r}; use 'basic_english', 'split' or a function")


class Vocab:
    """Tokens <-> integer ids.  ``vocab[token]`` gives its id, or the ``<unk>`` id for tokens
    it does not hold; ``vocab.itos[id]`` gives the token back."""

    def __init__(self, itos, unk_token=UNK, pad_token=PAD):
        self.itos = list(itos)
        self.stoi = {tok: k for k, tok in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dup = [t for t, c in collections.Counter(self.itos).items() if c > 1][:3]
            raise ValueError(f"Vocab: tokens must be unique, got repeats such as {dup}")
        self.unk_token, self.pad_token = unk_token, pad_token
        if unk_token is not None and unk_token not in self.stoi:
            raise ValueError(f"Vocab: the unknown token {unk_token!r} is not among the tokens")
        if pad_token is not None and pad_token not in self.stoi:
            raise ValueError(f"Vocab: the padding token {pad_token!r} is not among the tokens")

    @property
    def unk_index(self):
        return None if self.unk_token is None else self.stoi[self.unk_token]

    @property
    def pad_index(self):
        return None if self.pad_token is None else self.stoi[self.pad_token]

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token) -> int:
        k = self.stoi.get(token)
        if k is None:
            if self.unk_token is None:
                raise KeyError(f"Vocab: token {token!r} is not in the vocabulary and there is no unknown token")
            return self.stoi[self.unk_token]
        return k

    def lookup_indices(self, tokens) -> list:
        return [self[t] for t in tokens]

    def lookup_tokens(self, indices) -> list:
        return [self.itos[int(k)] for k in indices]

    def get_itos(self) -> list:
        return list(self.itos)

    def get_stoi(self) -> dict:
        return dict(self.stoi)

    # -- saving with the model
    def state_dict(self) -> dict:
        return {"itos": list(self.itos), "unk_token": self.unk_token, "pad_token": self.pad_token}

    @classmethod
    def from_state_dict(cls, state) -> "Vocab":
        try:
            return cls(state["itos"], state.get("unk_token", UNK), state.get("pad_token", PAD))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"Vocab: not a vocabulary state (expected a dict with 'itos'): {exc}") from None

    def to_bytes(self) -> bytes:
        return json.dumps(self.state_dict(), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw) -> "Vocab":
        return cls.from_state_dict(json.loads(bytes(raw).decode("utf-8")))

    def save(self, path):
        """Write the vocabulary as JSON (atomically: a temporary file renamed over ``path``)."""
        from .._files import atomic_write
        atomic_write(path, lambda f: f.write(self.to_bytes()))

    @classmethod
    def load(cls, path) -> "Vocab":
        with open(path, "rb") as f:
            return cls.from_bytes(f.read())

    def __eq__(self, other):
        return isinstance(other, Vocab) and self.state_dict() == other.state_dict()

    def __repr__(self):
        shown = ", ".join(repr(t) for t in self.itos[:6])
        return f"Vocab({len(self)} tokens: {shown}{', ...' if len(self) > 6 else ''})"


def build_vocab(token_lists, min_freq=1, max_size=None, specials=(PAD, UNK)) -> Vocab:
    """Count tokens over an iterable of token lists and keep those seen at least ``min_freq``
    times, most frequent first (ties by token, so the result never depends on input order),
    at most ``max_size`` of them, after the ``specials`` (ids 0, 1, ...).

    The returned Vocab maps unknown tokens to ``<unk>`` and pads with ``<pad>`` when those are
    among the specials."""
    if min_freq < 1:
        raise ValueError(f"build_vocab: min_freq must be at least 1, got {min_freq}")
    if max_size is not None and max_size < 0:
        raise ValueError(f"build_vocab: max_size must be non-negative, got {max_size}")
    counts = collections.Counter()
    for tokens in token_lists:
        if isinstance(tokens, str):
            raise TypeError("build_vocab: expected an iterable of token lists, got a string (tokenize it first)")
        counts.update(tokens)
    specials = list(specials)
    for s in specials:
        counts.pop(s, None)
    kept = sorted((tok for tok, c in counts.items() if c >= min_freq), key=lambda tok: (-counts[tok], tok))
    if max_size is not None:
        kept = kept[:max_size]
    return Vocab(specials + kept, UNK if UNK in specials else None, PAD if PAD in specials else None)


def numericalize(tokens, vocab: Vocab, max_len=None) -> np.ndarray:
    """Token ids as int64 (at most ``max_len`` of them, the first ones)."""
    if max_len is not None:
        tokens = tokens[:max_len]
    return np.fromiter((vocab[t] for t in tokens), dtype=np.int64, count=len(tokens))


class TokenizedDataset(Dataset):
    """``(text, label)`` samples turned into ``(ids, label)``: ids int64 (L,) at most ``max_len``
    long (an empty text becomes one ``<unk>``, so no sequence has length 0)."""

    def __init__(self, dataset, vocab: Vocab, tokenizer=basic_english, max_len=None):
        if max_len is not None and max_len < 1:
            raise ValueError(f"TokenizedDataset: max_len must be positive, got {max_len}")
        self.vocab = vocab
        self.ids, labels = [], []
        fallback = vocab.unk_index if vocab.unk_index is not None else 0
        for k in range(len(dataset)):
            text, label = dataset[k]
            ids = numericalize(tokenizer(text), vocab, max_len)
            self.ids.append(ids if ids.size else np.array([fallback], dtype=np.int64))
            labels.append(int(label))
        self.targets = np.array(labels, dtype=np.int64)
        self.lengths = np.array([len(ids) for ids in self.ids], dtype=np.int64)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        return self.ids[index], int(self.targets[index])


class BucketSampler:
    """Indices ordered so that consecutive groups of ``batch_size`` hold sequences of similar
    length (less padding, fewer wasted steps), for ``DataLoader(sampler=..., batch_size=...)``
    with the same ``batch_size``.

    Each epoch (with ``shuffle``): a seeded permutation, cut into pools of ``pool_batches``
    batches; each pool sorted by length (longest first) and cut into batches; the batches shuffled.  Every
    batch is full except possibly one, which comes last.  Without ``shuffle`` the order is
    fixed: sorted by length, longest first.
    """

    def __init__(self, lengths, batch_size, shuffle=True, generator=None, pool_batches=50, drop_last=False):
        if batch_size < 1 or pool_batches < 1:
            raise ValueError(f"BucketSampler: batch_size and pool_batches must be positive, got {batch_size} "
                             f"and {pool_batches}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size, self.shuffle, self.generator = int(batch_size), shuffle, generator
        self.pool_batches, self.drop_last = int(pool_batches), drop_last
        if shuffle:
            _cpu_generator(generator, "BucketSampler")

    def batches(self) -> list:
        """This epoch's batches, as lists of indices."""
        n, size = len(self.lengths), self.batch_size
        if not self.shuffle:
            order = np.argsort(-self.lengths, kind="stable")
            batches = [order[k:k + size] for k in range(0, n, size)]
        else:
            rng = _cpu_generator(self.generator, "BucketSampler").impl
            perm = rng.permutation(n)
            pool = size * self.pool_batches
            batches = []
            for start in range(0, n, pool):
                chunk = perm[start:start + pool]
                chunk = chunk[np.argsort(-self.lengths[chunk], kind="stable")]     # longest first, as packing wants
                batches += [chunk[k:k + size] for k in range(0, len(chunk), size)]
            full = [b for b in batches if len(b) == size]
            short = [b for b in batches if len(b) < size]
            full = [full[k] for k in rng.permutation(len(full))]
            tail = np.concatenate(short) if short else np.zeros(0, np.int64)
            batches = full + [tail[k:k + size] for k in range(0, len(tail), size)]
        if self.drop_last:
            batches = [b for b in batches if len(b) == size]
        return [b.tolist() for b in batches if len(b)]

    def __iter__(self):
        for batch in self.batches():
            yield from batch

    def __len__(self):
        n = len(self.lengths)
        return n - n % self.batch_size if self.drop_last else n


class PadCollate:
    """Collate ``(ids, label)`` samples into ``((tokens, lengths), labels)``: tokens int64
    (B, T) (``batch_first``; else (T, B)) padded with ``pad_index`` to the batch's longest,
    lengths int64 (B,), labels int64 (B,)."""

    def __init__(self, pad_index=0, batch_first=True):
        self.pad_index, self.batch_first = int(pad_index), batch_first

    def __call__(self, batch):
        if not batch:
            raise ValueError("PadCollate: empty batch")
        seqs = [np.asarray(ids._data if isinstance(ids, Tensor) else ids, dtype=np.int64) for ids, _ in batch]
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        tokens = np.full((len(seqs), int(lengths.max())), self.pad_index, dtype=np.int64)
        for b, s in enumerate(seqs):
            tokens[b, :len(s)] = s
        if not self.batch_first:
            tokens = np.ascontiguousarray(tokens.T)
        labels = np.array([int(label) for _, label in batch], dtype=np.int64)
        return (Tensor._wrap(tokens), Tensor._wrap(lengths)), Tensor._wrap(labels)
