"""``minigrad.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and ``rnn``
(variable-length batches: ``pad_sequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ...)."""
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from . import rnn  # noqa: F401  (pad_sequence, pack_padded_sequence, PackedSequence, ...)
