"""Embedding: a table of ``num_embeddings`` vectors of ``embedding_dim`` features looked up by
integer index (PyTorch's ``nn.Embedding``: ``weight`` (V, E), initialised N(0, 1), the
``padding_idx`` row zero and never updated by gradients)."""
from __future__ import annotations

from .. import backend
from ..autograd import no_grad
from ..errors import ArgumentError, CheckError
from ..ops.embedding import embedding
from ..tensor import Tensor
from . import init
from .layers import _param
from .module import Module
from .parameter import Parameter


def embedding_weight(owner, given, shape, device, dtype, freeze):
    """An embedding table's Parameter: a copy of ``given`` (checked against ``shape``), or an
    uninitialised one for ``reset_parameters`` to fill.  Shared by Embedding and EmbeddingBag."""
    if given is None:
        return _param(shape, device, dtype)
    w = given._data if isinstance(given, Tensor) else backend.xp_of(given).asarray(given)
    if w.shape != shape:
        raise ArgumentError(f"{owner}: _weight has shape {tuple(w.shape)}, expected {shape}")
    return Parameter(Tensor._wrap(w.copy()), requires_grad=not freeze)

__all__ = ["Embedding"]


class Embedding(Module):
    """``forward(indices (*))`` -> (*, embedding_dim); the backward scatter-adds into the rows used."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        for what, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ArgumentError(f"Embedding: {what} must be a non-negative integer, got {v!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise CheckError(f"Padding_idx must be within num_embeddings (Embedding: padding_idx {padding_idx}, "
                                 f"num_embeddings {num_embeddings})")
            padding_idx = padding_idx % num_embeddings
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported (sparse=False fills a dense "
                                      "gradient through a scatter-add of the used rows)")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.sparse = False
        self.weight = embedding_weight("Embedding", _weight, (num_embeddings, embedding_dim), device, dtype, _freeze)
        if _weight is None:
            self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding a copy of ``embeddings`` (V, E), frozen unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ArgumentError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)
