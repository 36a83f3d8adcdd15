"""Attention workloads: one training step of a TransformerEncoderLayer.

d_model 256, 8 heads, feed-forward 1024, batch 32, sequences of 64 (batch_first), dropout 0
(so both frameworks compute the same thing), loss mean((y - target)^2), forward + backward +
an SGD step.  The same inputs and weights (copied from the minigrad layer) for both frameworks.
"""
from __future__ import annotations

import numpy as np

from . import workload

D, HEADS, FF, BATCH, SEQ = 256, 8, 1024, 32, 64


def _weights():
    import minigrad as mg
    from minigrad import nn
    mg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True)
    return {k: v.detach().numpy().copy() for k, v in layer.state_dict().items()}


def _flops():
    """Matrix products, forward (x3 with backward): projections 4 D^2 and feed-forward 2 D FF per
    token, scores and weighted values 2 S D per token; 2 flops per multiply-add."""
    tokens = BATCH * SEQ
    return 3 * 2 * tokens * (4 * D * D + 2 * D * FF + 2 * SEQ * D)


@workload("transformer_encoder_layer", "models", f"TransformerEncoderLayer step: d_model {D}, {HEADS} heads, "
          f"ff {FF}, batch {BATCH} x seq {SEQ}, MSE, SGD", flops=_flops())
def transformer_encoder_layer(fw, device):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQ, D)).astype(np.float32)
    target = rng.standard_normal((BATCH, SEQ, D)).astype(np.float32)
    weights = _weights()
    if fw == "minigrad":
        import minigrad as lib
        from minigrad import nn
        from minigrad.optim import SGD
        layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True)
        layer.load_state_dict(weights)
        X, Y = lib.tensor(x, device=device), lib.tensor(target, device=device)
    else:
        import torch as lib
        from torch import nn
        from torch.optim import SGD
        layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True)
        layer.load_state_dict({k: lib.as_tensor(v) for k, v in weights.items()})
        X, Y = lib.as_tensor(x, device=device), lib.as_tensor(target, device=device)
    layer.to(device)
    optimizer = SGD(layer.parameters(), lr=1e-2)
    loss_fn = nn.MSELoss()

    def step():
        optimizer.zero_grad()
        loss_fn(layer(X), Y).backward()
        optimizer.step()
    return step
