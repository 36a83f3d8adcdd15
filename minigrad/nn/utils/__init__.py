"""``minigrad.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``), ``rnn``
(variable-length batches: ``pad_sequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ...),
``parameters_to_vector`` / ``vector_to_parameters`` and ``stateless.functional_call``."""
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import rnn, stateless  # noqa: F401  (pad_sequence, ...; functional_call)
