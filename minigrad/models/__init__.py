"""The classic models: the MNIST MLP (and, as they land, the CNNs, ResNets and the text LSTM)."""
from .mlp import mlp  # noqa: F401
