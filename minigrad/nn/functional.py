"""``minigrad.nn.functional`` (PyTorch's ``F``): the stateless forms of the layers and losses.

Everything here is a thin name over an op in ``minigrad.ops``; the Functions with their
forward and backward live there.
"""
import warnings

from ..ops import activation as _activation, activation_extra as _activation_extra
from ..ops.activation import gelu, leaky_relu, relu, sigmoid, softplus, tanh  # noqa: F401
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
from ..ops.activation_extra import (  # noqa: F401
    celu, elu, glu, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, prelu, relu6, selu, silu, softsign,
    tanhshrink, threshold)
from ..ops.blocks import channel_shuffle, fold, pixel_shuffle, pixel_unshuffle, unfold  # noqa: F401
from ..ops.conv import conv1d, conv2d, conv_transpose2d  # noqa: F401
from ..ops.conv_nd import conv3d, conv_transpose1d, conv_transpose3d  # noqa: F401
from ..ops.distance import cosine_similarity, normalize, one_hot, pairwise_distance  # noqa: F401
from ..ops.dropout import dropout, dropout1d  # noqa: F401
from ..ops.embedding import embedding  # noqa: F401
from ..ops.interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest  # noqa: F401
from ..ops.linalg import linear  # noqa: F401
from ..ops.linalg_extra import pdist  # noqa: F401
from ..ops.loss import (  # noqa: F401
    binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss, nll_loss)
from ..ops.loss_extra import (  # noqa: F401
    binary_cross_entropy, huber_loss, kl_div, margin_ranking_loss, poisson_nll_loss, smooth_l1_loss,
    triplet_margin_loss)
from ..ops.norm import batch_norm, layer_norm  # noqa: F401
from ..ops.norm_extra import group_norm, instance_norm, local_response_norm, rms_norm  # noqa: F401
from ..ops.activation_misc import bilinear, gumbel_softmax, hardshrink, rrelu, softshrink  # noqa: F401
from ..ops.ctc import ctc_loss  # noqa: F401
from ..ops.dropout_extra import alpha_dropout, dropout3d, feature_alpha_dropout  # noqa: F401
from ..ops.embedding_bag import embedding_bag  # noqa: F401
from ..ops.loss_misc import (  # noqa: F401
    cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, multi_margin_loss, multilabel_margin_loss,
    multilabel_soft_margin_loss, soft_margin_loss, triplet_margin_with_distance_loss)
from ..ops.sampling import affine_grid, grid_sample  # noqa: F401
from ..ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, dropout2d, max_pool2d  # noqa: F401
from ..ops.pool_nd import (  # noqa: F401
    adaptive_avg_pool1d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool3d, avg_pool1d, avg_pool3d,
    lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d, max_pool3d, max_unpool1d, max_unpool2d, max_unpool3d)
from ..ops.shape import pad  # noqa: F401

native_channel_shuffle = channel_shuffle


# F.softmax, F.log_softmax and F.softmin keep PyTorch's deprecated implicit dim (torch.softmax and
# Tensor.softmax require one, as PyTorch's do).
def _implicit_dim(name, input, stacklevel):
    """PyTorch's choice when no dim is given: 0 for a 0-, 1- or 3-D input, else 1, with its warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if input.dim() in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along ``dim`` (see :func:`minigrad.ops.activation.softmax`)."""
    if dim is None:
        dim = _implicit_dim("softmax", input, _stacklevel)
    return _activation.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Log-softmax along ``dim`` (see :func:`minigrad.ops.activation.log_softmax`)."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input, _stacklevel)
    return _activation.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim`` (see :func:`minigrad.ops.activation_extra.softmin`)."""
    if dim is None:
        dim = _implicit_dim("softmin", input, _stacklevel)
    return _activation_extra.softmin(input, dim, dtype)


# PyTorch's functions behind ``return_indices``: always (output, indices)
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, return_indices=True)


__all__ = ["linear", "relu", "leaky_relu", "gelu", "tanh", "sigmoid", "softplus", "softmax", "log_softmax",
           "dropout", "layer_norm", "batch_norm", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "binary_cross_entropy_with_logits", "pad", "conv1d", "conv2d", "conv_transpose2d", "max_pool2d",
           "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "dropout2d", "embedding", "interpolate",
           "silu", "mish", "elu", "selu", "celu", "relu6", "hardtanh", "hardswish", "hardsigmoid", "logsigmoid",
           "softsign", "softmin", "glu", "prelu", "threshold", "tanhshrink",
           "group_norm", "instance_norm", "rms_norm", "local_response_norm",
           "normalize", "cosine_similarity", "pairwise_distance", "one_hot",
           "binary_cross_entropy", "kl_div", "huber_loss", "smooth_l1_loss", "margin_ranking_loss",
           "triplet_margin_loss", "poisson_nll_loss", "dropout1d",
           "upsample", "affine_grid", "grid_sample", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "conv3d", "conv_transpose1d", "conv_transpose3d", "max_pool1d", "max_pool3d", "avg_pool1d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool3d",
           "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "hardshrink", "softshrink", "rrelu", "gumbel_softmax", "bilinear", "alpha_dropout", "feature_alpha_dropout",
           "dropout3d", "embedding_bag", "ctc_loss", "cosine_embedding_loss", "hinge_embedding_loss",
           "soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
           "gaussian_nll_loss", "triplet_margin_with_distance_loss",
           "scaled_dot_product_attention", "multi_head_attention_forward",
           "relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "celu_", "selu_", "rrelu_",
           "pdist", "upsample_nearest", "upsample_bilinear", "native_channel_shuffle",
           "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices"]


# The in-place forms (PyTorch's F.relu_ ...): the activation written into its input.
_threshold = threshold      # threshold_'s argument of that name hides the function


def relu_(input):
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)
