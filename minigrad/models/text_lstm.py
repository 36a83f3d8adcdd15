"""Recurrent classifiers: PyTorch's IMDB LSTM program and a sequence LSTM for the bundled digits.

``TextLSTM``: Embedding(vocab, 100) -> LSTM(100, 256) -> Linear(256, 2) on the last hidden state
(of each review at its own length).  Its vocabulary, when given, is saved with its weights:
``state_dict()`` holds it under ``"vocab"`` (UTF-8 JSON bytes as a uint8 tensor) and
``load_state_dict`` restores it, so a checkpoint is the whole trained program.

``SequenceLSTM``: LSTM(input_size, hidden) -> Linear(hidden, classes) on the last hidden state,
for (B, T, features) sequences such as the digits read row by row.
"""
from __future__ import annotations

import numpy as np

from .. import backend, nn
from ..data.text import Vocab
from ..ops.shape import cat
from ..tensor import Tensor

__all__ = ["TextLSTM", "SequenceLSTM", "text_lstm"]


def _last_hidden(h_n, bidirectional):
    """The top layer's final state (B, H), both directions concatenated when bidirectional."""
    return cat([h_n[-2], h_n[-1]], 1) if bidirectional else h_n[-1]


class TextLSTM(nn.Module):
    """``forward(tokens (B, T) int64[, lengths (B,)])`` -> logits (B, num_classes); also accepts
    the ``(tokens, lengths)`` pair that :class:`~minigrad.data.text.PadCollate` makes."""

    def __init__(self, vocab_size, embedding_dim=100, hidden_size=256, num_classes=2, pad_index=0, num_layers=1,
                 bidirectional=False, dropout=0.0, vocab=None):
        super().__init__()
        if vocab is not None and len(vocab) != vocab_size:
            raise ValueError(f"TextLSTM: vocab has {len(vocab)} tokens but vocab_size is {vocab_size}")
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_index)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)
        self.bidirectional = bidirectional
        self.vocab = vocab

    def forward(self, text, lengths=None):
        if isinstance(text, (tuple, list)):
            text, lengths = text
        tokens = text.T                                    # time-major: the embedding lands as (T, B, E)
        if lengths is not None:
            lens = np.asarray(backend.to_device(lengths._data, backend.CPU) if isinstance(lengths, Tensor) else lengths)
            lengths = None if np.all(lens == tokens.shape[0]) else lens     # nothing padded: nothing to skip
        _, (h_n, _) = self.lstm(self.embedding(tokens), lengths=lengths)
        return self.fc(_last_hidden(h_n, self.bidirectional))

    # -- the vocabulary travels with the weights
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        out = super().state_dict(destination, prefix, keep_vars)
        if self.vocab is not None and not keep_vars:
            out[prefix + "vocab"] = Tensor._wrap(np.frombuffer(self.vocab.to_bytes(), dtype=np.uint8).copy())
        return out

    def load_state_dict(self, state_dict, strict=True):
        state = dict(state_dict)
        raw = state.pop("vocab", None)
        if raw is not None:
            data = raw._data if isinstance(raw, Tensor) else raw
            self.vocab = Vocab.from_bytes(np.asarray(backend.to_device(data, backend.CPU) if backend.is_array(data)
                                                     else data, dtype=np.uint8).tobytes())
        return super().load_state_dict(state, strict)


def text_lstm(vocab, embedding_dim=100, hidden_size=256, num_classes=2) -> TextLSTM:
    """PyTorch's IMDB classifier for ``vocab`` (its size and ``<pad>`` index)."""
    return TextLSTM(len(vocab), embedding_dim, hidden_size, num_classes,
                    pad_index=vocab.pad_index if vocab.pad_index is not None else 0, vocab=vocab)


class SequenceLSTM(nn.Module):
    """``forward(x (B, T, input_size))`` -> logits (B, num_classes) from the last hidden state.
    Image batches (B, 1, H, W) are read as H steps of W pixels."""

    def __init__(self, input_size=8, hidden_size=128, num_classes=10, num_layers=1, bidirectional=False):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                            bidirectional=bidirectional)
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)
        self.bidirectional = bidirectional

    def forward(self, x):
        if x.ndim == 4 and x.shape[1] == 1:
            x = x.reshape(x.shape[0], x.shape[2], x.shape[3])
        _, (h_n, _) = self.lstm(x)
        return self.fc(_last_hidden(h_n, self.bidirectional))
