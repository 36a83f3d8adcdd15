"""Recurrent layers: RNN, LSTM, GRU and their one-step cells, with PyTorch's parameter names,
shapes, gate order (LSTM i, f, g, o; GRU r, z, n) and initialisation U(-1/sqrt(H), 1/sqrt(H)),
so that state dicts move between the two both ways.

Shapes: input (T, B, I) (``batch_first``: (B, T, I); unbatched: (T, I)) or a
:class:`~minigrad.nn.utils.rnn.PackedSequence`; h_0, c_0 (num_layers * num_directions, B, H).
The layers are thin over ``minigrad.ops.recurrent``, where each layer-direction is one
Function with its backward through time.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..ops import recurrent as R
from ..tensor import Tensor
from . import init
from .layers import _param
from .module import Module
from .utils.rnn import PackedSequence, gather_packed, lengths_of, scatter_packed

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_FUNCTIONS = {"RNN_TANH": R.rnn_tanh, "RNN_RELU": R.rnn_relu, "LSTM": R.lstm, "GRU": R.gru}


def _check_sizes(name, input_size, hidden_size):
    for what, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(v, int) or isinstance(v, bool) or v < (1 if what == "hidden_size" else 0):
            raise ArgumentError(f"{name}: {what} must be a {'positive' if what == 'hidden_size' else 'non-negative'} "
                             f"integer, got {v!r}")


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the stack of layers and directions and their parameters
    (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``, each with a
    ``_reverse`` twin when bidirectional)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ArgumentError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ArgumentError(f"{name}: dropout must be a number in [0, 1] (the probability of zeroing an element), "
                             f"got {dropout!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ArgumentError(f"{name}: proj_size should be a non-negative integer, got {proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ArgumentError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ArgumentError(f"{name}: proj_size has to be smaller than hidden_size, got proj_size {proj_size} "
                             f"and hidden_size {hidden_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} and num_layers=1: dropout applies between layers, "
                          f"so it does nothing here", stacklevel=3)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = R.GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size          # the width of h (and of each layer's output)
        directions = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []      # all: one list of names per layer and direction
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for prefix, shape in shapes:
                    setattr(self, prefix + suffix, _param(shape, device, dtype))
                    self._flat_weights_names.append(prefix + suffix)
                self._all_weights.append([prefix + suffix for prefix, _ in shapes])
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        """The parameters in PyTorch's flat order (per layer, per direction: w_ih, w_hh, b_ih, b_hh)."""
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        w = self._flat_weights
        return [w[k:k + per] for k in range(0, len(w), per)]

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """PyTorch packs the weights into one cuDNN buffer here; minigrad's layers use them as they
        are, so this does nothing (programs that call it run unchanged)."""

    def forward(self, input, hx=None, lengths=None):
        """``input`` a padded batch or a PackedSequence; ``lengths`` (B,) (minigrad's shortcut for
        a padded batch, equivalent to packing it: outputs past each length are zero and the final
        states are taken at each sequence's own length)."""
        fn = _FUNCTIONS[self.mode]
        args = dict(num_layers=self.num_layers, bidirectional=self.bidirectional, dropout=self.dropout,
                    training=self.training)
        if self.proj_size:
            args["proj_size"] = self.proj_size
        if not isinstance(input, PackedSequence):
            return fn(input, hx, self._flat_weights, batch_first=self.batch_first, lengths=lengths, **args)
        if lengths is not None:
            raise ArgumentError(f"{type(self).__name__}: lengths= is for padded input; a PackedSequence carries its own")
        # Packed: pad to (T, B, I) in the packed (longest-first) order, run with the lengths,
        # pack the output again; states come in and go out in the caller's batch order.
        data, batch_sizes, sorted_indices, unsorted_indices = input
        bs = backend.to_device(batch_sizes._data, backend.CPU).astype(np.int64)
        T, B = len(bs), int(bs[0])
        order = np.arange(B)
        padded = scatter_packed(data, bs, order, T, B)
        if hx is not None and sorted_indices is not None:
            hx = _permute_states(hx, sorted_indices)
        out, states = fn(padded, hx, self._flat_weights, lengths=lengths_of(bs), **args)
        if unsorted_indices is not None:
            states = _permute_states(states, unsorted_indices)
        return PackedSequence(gather_packed(out, bs, order), batch_sizes, sorted_indices, unsorted_indices), states

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _permute_states(states, index):
    if isinstance(states, Tensor):
        return states.index_select(1, index)
    return type(states)(_permute_states(s, index) for s in states)


def _no_projection(name, proj_size):
    """PyTorch's RNN and GRU refuse ``proj_size`` as a ValueError (any value, 0 included)."""
    if proj_size is not None:
        raise ArgumentError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).
    Returns ``(output, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, proj_size=None):
        _no_projection("RNN", proj_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'.")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
    Returns ``(output, (h_n, c_n))``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n; n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));
    h_t = (1 - z) n + z h_{t-1}.  Returns ``(output, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, proj_size=None):
        _no_projection("GRU", proj_size)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


# ----------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One time step: ``weight_ih`` (k H, I), ``weight_hh`` (k H, H), ``bias_ih``, ``bias_hh`` (k H,)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = _param((num_chunks * hidden_size, input_size), device, dtype)
        self.weight_hh = _param((num_chunks * hidden_size, hidden_size), device, dtype)
        if bias:
            self.bias_ih = _param((num_chunks * hidden_size,), device, dtype)
            self.bias_hh = _param((num_chunks * hidden_size,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); ``hx`` None means zeros."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        fn = R.rnn_tanh_cell if self.nonlinearity == "tanh" else R.rnn_relu_cell
        return fn(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``hx`` None or ``(h, c)``; returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        return R.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(RNNCellBase):
    """One GRU step; returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return R.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
