"""Recurrent workloads: one training step of PyTorch's IMDB text classifier and its variants.

Embedding(20000, 100) -> RNN(100, 256) -> Linear(256 * directions, 2) on the last hidden state,
cross-entropy, Adam (lr 2e-3), batch 64 of token ids (time-major, as the model embeds them).
The same tokens, labels and weights (copied from the minigrad model) for both frameworks.
The ``packed`` variant draws a length per review in [T/2, T] and packs the batch
(``pack_padded_sequence`` in PyTorch, the equivalent ``lengths=`` in minigrad).
"""
from __future__ import annotations

import numpy as np

from . import workload

VOCAB, EMBED, HIDDEN, BATCH = 20000, 100, 256, 64


def _weights(kind, layers, directions):
    """The minigrad model's initial weights, by PyTorch's state-dict names."""
    import minigrad as mg
    from minigrad import nn
    mg.manual_seed(0)
    rnn = (nn.GRU if kind == "gru" else nn.LSTM)(EMBED, HIDDEN, num_layers=layers, bidirectional=directions == 2)
    state = {"embedding.weight": nn.Embedding(VOCAB, EMBED).weight}
    state.update({f"rnn.{k}": v for k, v in rnn.state_dict().items()})
    fc = nn.Linear(HIDDEN * directions, 2)
    state.update({"fc.weight": fc.weight, "fc.bias": fc.bias})
    return {k: v.detach().numpy().copy() for k, v in state.items()}


def _text_step(fw, device, T, kind="lstm", layers=1, directions=1, packed=False):
    model, optimizer, loss_fn, X, Y = text_setup(fw, device, T, kind, layers, directions, packed)

    def step():
        optimizer.zero_grad()
        loss_fn(model(X), Y).backward()
        optimizer.step()
    return step


def text_setup(fw, device, T, kind="lstm", layers=1, directions=1, packed=False, batch=BATCH, seed=0):
    """The classifier, Adam, the loss and a fixed random batch of tokens and labels (drawn with
    ``seed``): ``(model, optimizer, loss_fn, X, Y)``.  The data-parallel benchmark wraps the model."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, VOCAB, (T, batch))
    labels = rng.integers(0, 2, batch)
    lengths = np.sort(rng.integers(T // 2, T + 1, batch))[::-1].copy() if packed else None
    weights = _weights(kind, layers, directions)
    bidirectional = directions == 2
    if fw == "minigrad":
        import minigrad as lib
        from minigrad import nn
        from minigrad.optim import Adam
    else:
        import torch as lib
        from torch import nn
        from torch.optim import Adam

    class TextClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, EMBED)
            rnn = nn.GRU if kind == "gru" else nn.LSTM
            self.rnn = rnn(EMBED, HIDDEN, num_layers=layers, bidirectional=bidirectional)
            self.fc = nn.Linear(HIDDEN * directions, 2)

        def forward(self, text):
            emb = self.embedding(text)
            if packed and fw == "torch":
                emb = nn.utils.rnn.pack_padded_sequence(emb, lib.as_tensor(lengths))
                _, h = self.rnn(emb)
            elif packed:
                _, h = self.rnn(emb, lengths=lengths)
            else:
                _, h = self.rnn(emb)
            h_n = h if kind == "gru" else h[0]
            last = lib.cat([h_n[-2], h_n[-1]], 1) if bidirectional else h_n[-1]
            return self.fc(last)

    model = TextClassifier()
    if fw == "minigrad":
        model.load_state_dict(weights)
        model.to(device)
        X, Y = lib.tensor(tokens, device=device), lib.tensor(labels, device=device)
    else:
        model.load_state_dict({k: lib.as_tensor(v) for k, v in weights.items()})
        model.to(device)
        X, Y = lib.as_tensor(tokens, device=device), lib.as_tensor(labels, device=device)
    return model, Adam(model.parameters(), lr=2e-3), nn.CrossEntropyLoss(), X, Y


def _flops(T, gates=4, layers=1, directions=1):
    """Forward + backward matrix products: 3 x 2 x T B (gates H)(input + H) per layer and direction."""
    total, in_size = 0, EMBED
    for _ in range(layers):
        total += directions * 3 * 2 * T * BATCH * gates * HIDDEN * (in_size + HIDDEN)
        in_size = directions * HIDDEN
    return total


@workload("text_lstm_t200", "models", "IMDB LSTM step: Embedding(20k, 100) -> LSTM(100, 256) -> Linear, T 200, "
          "batch 64, Adam", flops=_flops(200))
def text_lstm_t200(fw, device):
    return _text_step(fw, device, 200)


@workload("text_lstm_t50", "models", "the IMDB LSTM step with sequences of 50", flops=_flops(50))
def text_lstm_t50(fw, device):
    return _text_step(fw, device, 50)


@workload("text_lstm_packed_t200", "models", "the IMDB LSTM step, lengths in [100, 200], packed",
          flops=None)
def text_lstm_packed_t200(fw, device):
    return _text_step(fw, device, 200, packed=True)


@workload("text_bilstm2_t200", "models", "the IMDB step with a 2-layer bidirectional LSTM, T 200",
          flops=_flops(200, layers=2, directions=2))
def text_bilstm2_t200(fw, device):
    return _text_step(fw, device, 200, layers=2, directions=2)


@workload("text_gru_t200", "models", "the IMDB step with a GRU(100, 256), T 200", flops=_flops(200, gates=3))
def text_gru_t200(fw, device):
    return _text_step(fw, device, 200, kind="gru")
