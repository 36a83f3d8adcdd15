"""The multilayer perceptron of the classic Keras MNIST program: Dense(256, relu) -> Dense(10).

The softmax of ``Dense(10, softmax)`` lives in the loss (``CrossEntropyLoss`` takes logits).
"""
from __future__ import annotations

from .. import nn


def mlp(in_features=784, hidden=256, num_classes=10):
    """Flatten -> Linear(in_features, hidden) -> ReLU -> Linear(hidden, num_classes)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
