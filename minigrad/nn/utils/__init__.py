"""``minigrad.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``), ``rnn``
(variable-length batches: ``pad_sequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ...),
``parameters_to_vector`` / ``vector_to_parameters``, ``stateless.functional_call``,
``parametrize`` and ``parametrizations`` (weight_norm, spectral_norm), and the older hook-based
``weight_norm`` / ``remove_weight_norm`` / ``spectral_norm`` / ``remove_spectral_norm``."""
from .clip_grad import (  # noqa: F401
    clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401
from . import parametrizations, parametrize, rnn, stateless  # noqa: F401
