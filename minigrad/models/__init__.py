"""The classic models: the MNIST MLP (and, as they land, the CNNs, ResNets and the text LSTM)."""
from .mlp import mlp  # noqa: F401
from .resnet import BasicBlock, ResNet, resnet18, resnet18_cifar, resnet34, small_cnn  # noqa: F401
from .text_lstm import SequenceLSTM, TextLSTM, text_lstm  # noqa: F401
from .char_transformer import CharTransformer  # noqa: F401
