"""A small character-level Transformer: token and position embeddings, a TransformerEncoder
(pre-norm, batch_first) and a linear read-out per position.  ``causal=True`` makes it a language
model (position i sees 0..i); otherwise every position sees the whole input (sequence-to-sequence
tasks of one length, such as reversing a string).

``forward(ids (B, L) int64)`` returns logits (B, vocab, L): the class dim second, as
``nn.CrossEntropyLoss`` wants for per-position targets (B, L).
"""
from __future__ import annotations

from .. import nn
from ..creation import arange

__all__ = ["CharTransformer"]


class CharTransformer(nn.Module):
    def __init__(self, vocab_size, max_len, d_model=64, nhead=4, num_layers=2, dim_feedforward=128, dropout=0.0,
                 causal=False):
        super().__init__()
        self.max_len, self.causal = max_len, causal
        self.tokens = nn.Embedding(vocab_size, d_model)
        self.positions = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids):
        length = ids.shape[1]
        if length > self.max_len:
            raise ValueError(f"CharTransformer: sequences of {length} exceed max_len {self.max_len}")
        x = self.tokens(ids) + self.positions(arange(length, device=ids.device))
        mask = None
        if self.causal:
            mask = nn.Transformer.generate_square_subsequent_mask(length, device=ids.device, dtype=x.dtype)
        x = self.encoder(x, mask=mask, is_causal=self.causal if self.causal else None)
        return self.head(x).permute(0, 2, 1)
