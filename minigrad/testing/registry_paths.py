"""Path samples: inputs sized so that an entry takes each implementation path (see
:mod:`minigrad.testing.paths`): the Winograd and im2col convolutions and every Numba kernel
above ``PARALLEL_MIN_ELEMENTS`` (2^17 elements; batch norm's kernels from 2^14).

Each is a fixed, seeded sample (hypothesis would shrink away from the sizes that matter); the
suite runs every check on it in float64, its float32 gradients against the float64 ones, and
asserts the paths were taken.  Sizes are the smallest that reach a path, so the checks stay in
seconds.
"""
from __future__ import annotations

import numpy as np

from .draw import RandomDrawer
from .paths import PARALLEL_MIN_ELEMENTS
from .registry import Sample, by_name

_BIG = PARALLEL_MIN_ELEMENTS            # 131072 = 512 x 256


def add(entry, label, takes):
    """Decorator: ``sample(drawer, dtype)`` becomes a path sample of ``entry`` that must take ``takes``."""
    def register(make):
        def sample(dtype):
            return make(RandomDrawer(len(label) * 7919 + len(entry)), dtype)
        by_name(entry).paths[label] = (sample, tuple(takes))
        return make
    return register


def _parallel(*names):
    return [f"parallel:{name}" for name in names]


# ----------------------------------------------------------------------------- convolution
def _conv(d, dtype, n, c, o, hw, transposed=False):
    x = d.floats((n, c, hw, hw), dtype=dtype)
    w = d.floats((c, o, 3, 3) if transposed else (o, c, 3, 3), dtype=dtype)
    kw = {"stride": (1, 1), "padding": (1, 1), "dilation": (1, 1), "groups": 1}
    if transposed:
        kw["output_padding"] = (0, 0)
    return Sample([x, w, d.floats((o,), dtype=dtype)], kw)


@add("conv2d", "winograd", ["conv:winograd"])           # 3x3 stride 1, 16 channels, 6x6 images
def _conv_winograd(d, dtype):
    return _conv(d, dtype, 2, 16, 16, 6)


@add("conv_transpose2d", "winograd", ["conv:winograd"])
def _conv_t_winograd(d, dtype):
    return _conv(d, dtype, 2, 16, 16, 6, transposed=True)


@add("conv2d", "im2col per image", ["conv:im2col per image"])  # 16x16 = 256 output positions
def _conv_per_image(d, dtype):
    return _conv(d, dtype, 2, 3, 4, 16)


@add("conv2d", "im2col per chunk", ["conv:im2col per chunk"])  # 8x8: the batch shares one product
def _conv_per_chunk(d, dtype):
    return _conv(d, dtype, 3, 3, 4, 8)


# ----------------------------------------------------------------------------- Numba kernels on threads
@add("gelu", "parallel", _parallel("activation._gelu_forward_parallel", "activation._gelu_backward_parallel"))
def _gelu(d, dtype):
    return Sample([d.floats((_BIG // 256, 256), dtype=dtype)], {"approximate": "none"})


@add("relu", "parallel", _parallel("activation._relu_forward_parallel", "activation._relu_backward_parallel"))
def _relu(d, dtype):
    return Sample([d.floats((_BIG // 256, 256), "nonzero", dtype=dtype)])


@add("erf", "parallel", _parallel("activation._erf_parallel"))
def _erf(d, dtype):
    return Sample([d.floats((_BIG // 256, 256), dtype=dtype)])


@add("cross_entropy", "parallel", _parallel("loss._forward_parallel", "loss._backward_parallel"))
def _cross_entropy(d, dtype):
    n, c = _BIG // 128, 128
    target = np.random.default_rng(1).integers(0, c, n)
    return Sample([d.floats((n, c), dtype=dtype), target],
                  {"weight": d.floats((c,), "positive", dtype=dtype), "ignore_index": 3, "reduction": "mean",
                   "label_smoothing": 0.1})


@add("batch_norm", "parallel", _parallel("norm._stats", "norm._apply", "norm._backward"))
def _batch_norm(d, dtype):
    shape = (4, 16, 16, 16)            # 16384 elements: batch norm's kernels thread from 2^17 / 8
    return Sample([d.floats(shape, dtype=dtype), d.floats((16,), dtype=dtype), d.floats((16,), dtype=dtype)],
                  {"training": True, "running": (d.floats((16,)), d.floats((16,), "positive"))})


@add("max_pool2d", "parallel", _parallel("pool._max_forward", "pool._max_backward"))
def _max_pool(d, dtype):
    return Sample([d.floats((32, 16, 16, 16), unique=True, dtype=dtype)],
                  {"kernel_size": (2, 2), "stride": (2, 2), "padding": (0, 0), "ceil_mode": False,
                   "dilation": (1, 1)})


@add("avg_pool2d", "parallel", _parallel("pool._avg_forward", "pool._avg_backward"))   # always threaded
def _avg_pool(d, dtype):
    return Sample([d.floats((2, 3, 9, 9), dtype=dtype)],
                  {"kernel_size": (3, 3), "stride": (2, 2), "padding": (1, 1), "ceil_mode": True,
                   "count_include_pad": False})


@add("embedding", "parallel", _parallel("scatter._index_add_rows_parallel"))   # 1024 rows of 128 columns
def _embedding(d, dtype):
    weight = d.floats((64, 128), dtype=dtype)
    indices = np.random.default_rng(2).integers(0, 64, _BIG // 128)
    return Sample([indices, weight], {"padding_idx": None, "frozen": weight.copy()})


def _cell(d, dtype, gates, batch, hidden, n_states):
    inputs = 4
    args = [d.floats((batch, inputs), "unit", dtype=dtype)]
    args += [d.floats((batch, hidden), "unit", dtype=dtype) for _ in range(n_states)]
    args += [d.floats((gates * hidden, inputs), "unit", dtype=dtype) * 0.5,
             d.floats((gates * hidden, hidden), "unit", dtype=dtype) * (0.5 / np.sqrt(hidden)).astype(dtype),
             d.floats((gates * hidden,), "unit", dtype=dtype), d.floats((gates * hidden,), "unit", dtype=dtype)]
    return Sample(args)


@add("lstm_cell", "parallel", _parallel("recurrent._lstm_pre_parallel", "recurrent._lstm_state_parallel",
                                        "recurrent._lstm_backward_parallel"))
def _lstm_cell(d, dtype):
    return _cell(d, dtype, 4, _BIG // 512, 128, 2)           # gates (256, 512)


@add("gru_cell", "parallel", _parallel("recurrent._gru_pre_parallel", "recurrent._gru_candidate_parallel",
                                       "recurrent._gru_output_parallel", "recurrent._gru_backward_parallel"))
def _gru_cell(d, dtype):
    return _cell(d, dtype, 3, _BIG // 256, 256, 1)           # gates (512, 768); (n, H) = (512, 256)


@add("rnn_tanh_cell", "parallel", _parallel("recurrent._rnn_backward_parallel"))
def _rnn_cell(d, dtype):
    return _cell(d, dtype, 1, _BIG // 256, 256, 1)           # h (512, 256)
