"""minigrad: a from-scratch deep-learning engine whose backpropagation is written out by hand.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad        # tensor([2., 4., 6.])

Names follow PyTorch: ``Tensor``, ``.backward()``, ``.grad``, ``no_grad``, ``manual_seed``, ...
"""
import os as _os
import sys as _sys

import numpy as _np


def _kernels_from_checkout():
    """kernels/ sits beside minigrad/ in the source tree and setup.cfg installs it as
    minigrad.kernels.  Imported straight from a checkout (or an editable install), register that
    one folder under the same name: nothing else beside minigrad/ (tests/, benchmarks/) becomes
    part of the package.  Only kernels/__init__.py, a docstring, runs here; Numba waits for the
    first kernel."""
    import importlib.util
    import sys
    folder = _os.path.join(_os.path.dirname(_os.path.abspath(__path__[0])), "kernels")
    init = _os.path.join(folder, "__init__.py")
    if _os.path.isdir(_os.path.join(__path__[0], "kernels")) or not _os.path.isfile(init):
        return
    spec = importlib.util.spec_from_file_location(f"{__name__}.kernels", init, submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)


_kernels_from_checkout()

from . import _malloc  # noqa: E402

_malloc.tune()

from . import backend  # noqa: E402
from .backend import (  # noqa: E402,F401
    Device, Generator, layout, strided, bool_, device, float16, float32, float64, get_default_dtype, int8, int16,
    int32, int64, manual_seed, set_default_dtype, uint8)
from .tensor import Tensor  # noqa: E402

default_generator = backend.default_generator()    # the CPU one, reseeded in place by manual_seed
from . import autograd  # noqa: E402
from .autograd import (  # noqa: E402,F401
    detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad, set_grad_enabled)
from .creation import (  # noqa: E402,F401
    arange, as_tensor, bernoulli, binomial, empty, empty_like, eye, from_numpy, full, full_like, linspace, multinomial,
    normal, ones, poisson,
    ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like, logspace, tril_indices,
    triu_indices, randint_like, FloatTensor, DoubleTensor, HalfTensor, ByteTensor, CharTensor, ShortTensor,
    IntTensor, LongTensor, BoolTensor)
from .ops.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh  # noqa: E402,F401
from .ops.activation_extra import celu, prelu, selu, threshold  # noqa: E402,F401
from .ops.norm_extra import group_norm, instance_norm, rms_norm  # noqa: E402,F401
from .ops.distance import cosine_similarity, pairwise_distance  # noqa: E402,F401
from .ops.loss_extra import kl_div, margin_ranking_loss, poisson_nll_loss, triplet_margin_loss  # noqa: E402,F401
from .ops.compare import (  # noqa: E402,F401
    all, allclose, any, bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor,
    count_nonzero, eq, equal, ge, gt, isclose, isfinite, isinf, isnan, le, logical_and, logical_not, logical_or,
    logical_xor, lt, ne, signbit)
from .ops.elementwise import (  # noqa: E402,F401
    abs, add, clamp, div, erf, exp, log, maximum, minimum, mul, neg, pow, sqrt, sub, where)
from .ops.linalg import matmul  # noqa: E402,F401
from .ops.math import (  # noqa: E402,F401
    acos, acosh, addcdiv, addcmul, asin, asinh, atan, atan2, atanh, ceil, clamp_max, clamp_min, copysign, cos, cosh,
    deg2rad, digamma, erfc, erfinv, exp2, expm1, floor, floor_divide, fmod, frac, hypot, lerp, lgamma, log10, log1p,
    log2, logaddexp, nan_to_num, polygamma, rad2deg, reciprocal, remainder, round, rsqrt, sign, sin, sinc, sinh,
    square, tan, trunc, xlogy)
from .ops.reduce import amax, amin, argmax, argmin, logsumexp, max, mean, min, std, sum, var  # noqa: E402,F401
from .ops.scan import (  # noqa: E402,F401
    aminmax, cummax, cummin, cumprod, cumsum, dist, logcumsumexp, median, nanmean, nansum, norm, prod, std_mean,
    var_mean)
from .ops.shape import (  # noqa: E402,F401
    broadcast_to, cat, chunk, expand, flatten, index_select, pad, permute, reshape, split, squeeze,
    stack, transpose, unsqueeze)
from .ops.indexing import (  # noqa: E402,F401
    diag, diag_embed, diagonal, dstack, flip, fliplr, flipud, gather, hstack, index_add, index_copy, index_fill,
    masked_fill, masked_scatter, masked_select, meshgrid, movedim, moveaxis, narrow, repeat_interleave, roll, rot90,
    scatter, scatter_add, scatter_reduce, swapaxes, swapdims, t, take, take_along_dim, tile, trace, tril, triu,
    unbind, unflatten, vstack, select_scatter, slice_scatter, diagonal_scatter, index_put, put)
from .ops.sorting import argsort, bincount, kthvalue, nonzero, searchsorted, sort, topk, unique  # noqa: E402,F401
from .ops.linalg_extra import (  # noqa: E402,F401
    addmm, baddbmm, bmm, cdist, cross, dot, einsum, inner, kron, mm, mv, outer, pdist, tensordot)
from .ops.composite import (  # noqa: E402,F401
    addbmm, addmv, addr, atleast_1d, atleast_2d, atleast_3d, block_diag, broadcast_tensors, cartesian_prod,
    chain_matmul, column_stack, combinations, corrcoef, cov, cumulative_trapezoid, diagflat, diff, dsplit,
    float_power, fmax, fmin, hsplit, ldexp, logaddexp2, logit, mode, msort, mvlgamma, nanmedian, nanquantile,
    positive, quantile, ravel, renorm, select, sgn, tensor_split, trapezoid, vander, vdot, vsplit)
from .ops.discrete import (  # noqa: E402,F401
    argwhere, bucketize, frexp, gcd, heaviside, histc, histogram,
    isin, isneginf, isposinf, isreal, lcm, nextafter, unique_consecutive,
    unravel_index)
from .utilities import (  # noqa: E402,F401
    are_deterministic_algorithms_enabled, broadcast_shapes, clone, finfo, get_rng_state, iinfo, inference_mode,
    initial_seed, is_complex, is_floating_point, is_inference_mode_enabled, is_nonzero, is_tensor, numel, seed,
    set_printoptions, set_rng_state, use_deterministic_algorithms, result_type, promote_types, can_cast, is_same_size,
    typename, scalar_tensor, asarray, get_default_device, set_default_device, set_float32_matmul_precision,
    get_float32_matmul_precision, autocast, Size)
from .ops.linalg_decomp import cholesky, det, logdet, matrix_power, slogdet  # noqa: E402,F401
from .ops.linalg_decomp import inv as inverse  # noqa: E402,F401
from .runtime import get_num_threads, set_num_threads  # noqa: E402,F401
from .ops.linalg_more import matrix_exp, pinverse, torch_qr as qr, torch_svd as svd  # noqa: E402,F401
from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: E402,F401
from . import tracing as _tracing  # noqa: E402
from .ops.indexing import trace as _matrix_trace  # noqa: E402


def trace(input=None, sync=None):
    """Two things share PyTorch's and minigrad's name: ``trace(matrix)`` is the sum of the
    diagonal (``torch.trace``); ``trace(model)`` or ``trace()`` records every op of a ``with``
    block (:class:`minigrad.tracing.trace`)."""
    if isinstance(input, Tensor):
        return _matrix_trace(input)
    return _tracing.trace(input, sync)


from .serialization import load, load_safetensors, save, save_safetensors  # noqa: E402,F401
from . import cuda, accelerator, return_types  # noqa: E402,F401  (torch.cuda, torch.accelerator, torch.return_types)
from . import amp  # noqa: E402,F401  (torch.amp: GradScaler, autocast; also as torch.cuda.amp)
cuda.amp = amp
_sys.modules[__name__ + ".cuda.amp"] = amp
from . import nn, optim, data  # noqa: E402,F401  (as torch.nn, torch.optim, torch.utils.data)
from . import linalg  # noqa: E402,F401  (as torch.linalg)
from . import special  # noqa: E402,F401  (as torch.special)
from .special import i0  # noqa: E402,F401  (torch.i0, PyTorch's one top-level name of torch.special's)
from .windows import (  # noqa: E402,F401
    bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window)
from . import random  # noqa: E402,F401  (as torch.random: fork_rng, the default generator's state)
from . import backends  # noqa: E402,F401  (as torch.backends: cudnn and other switches, held without effect)

# torch.* names for the functions of torch.nn.functional that PyTorch also exports at the top level with
# the same signature (torch.embedding and torch.batch_norm take their arguments in another order, and the
# top-level losses an integer reduction: those are left to nn.functional)
from .nn.functional import (  # noqa: E402,F401
    adaptive_avg_pool1d, adaptive_max_pool1d, alpha_dropout, avg_pool1d, bilinear, channel_shuffle, conv1d, conv2d,
    conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, dropout, feature_alpha_dropout, hardshrink,
    layer_norm, max_pool1d, max_pool2d, max_pool3d, pixel_shuffle, pixel_unshuffle, rrelu)

# PyTorch's out= keyword, on the torch.* functions (not the Tensor methods) that take it in PyTorch: the
# result written into out's memory (ops/inplace.py: write_out).  Before the aliases below, which share it.
from .ops.inplace import with_out as _with_out  # noqa: E402
(abs, add, addmm, amax, amin, bmm, cat, ceil, clamp, cos, cumprod, cumsum, div, dot, exp, floor, fmod, log, logsumexp,
 matmul, maximum, mean, minimum, mm, mul, mv, neg, outer, pow, prod, remainder, round, sigmoid, sin, sqrt, stack, sub,
 sum, tanh, where) = map(_with_out, (
    abs, add, addmm, amax, amin, bmm, cat, ceil, clamp, cos, cumprod, cumsum, div, dot, exp, floor, fmod, log,
    logsumexp, matmul, maximum, mean, minimum, mm, mul, mv, neg, outer, pow, prod, remainder, round, sigmoid, sin,
    sqrt, stack, sub, sum, tanh, where))
clip = clamp
special.expit, special.logsumexp = sigmoid, logsumexp     # torch.special's take out= too
concat = concatenate = cat
divide = true_divide = div
multiply = mul
subtract = sub
negative = neg
absolute = abs
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh
fix = trunc
trapz = trapezoid
row_stack = vstack
ger = outer
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne



def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (``sub`` with its operands swapped)."""
    return sub(other, input, alpha=alpha)


def detach(input):
    return input.detach()


def is_signed(input) -> bool:
    return input.is_signed()


def get_device(input) -> int:
    """The CUDA device index of ``input``, -1 on the CPU."""
    return input.get_device()


def real(input):
    """The real part: ``input`` itself (minigrad's tensors are real)."""
    return input.real


def is_conj(input) -> bool:
    return input.is_conj()


def is_neg(input) -> bool:
    return input.is_neg()


def conj(input):
    """The complex conjugate: the tensor itself (minigrad's tensors are real), as PyTorch on real tensors."""
    return input.conj()


resolve_conj = resolve_neg = conj_physical = conj


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``torch.vmap``: :func:`minigrad.func.vmap`."""
    from .func import vmap as _vmap
    return _vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,  # noqa: A001
            disable=False):
    """``torch.compile``: minigrad has no compiler, so this returns ``model`` (a Module or a
    function) unchanged and runs it eagerly, which gives the same results PyTorch's compiled
    version computes; only its speed differs.  ``compile(mode=...)`` without a model returns a
    decorator that does the same."""
    if model is None:
        return lambda m: m
    if not callable(model):
        raise TypeError(f"compile: expected a Module or a function, got {type(model).__name__}")
    return model


def _inplace_function(name):
    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor to modify in place, got {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``{name}(input, ...)`` is ``input.{name}(...)``: edits ``input`` in place and returns it."
    return fn


# torch.<op>_(input, ...): the in-place functions PyTorch exports at the top level, as the methods
for _name in ("relu_ sigmoid_ tanh_ exp_ exp2_ expm1_ log_ log1p_ sqrt_ rsqrt_ abs_ neg_ negative_ reciprocal_ "
              "square_ sin_ cos_ ceil_ floor_ round_ trunc_ fix_ frac_ clamp_ clip_ clamp_min_ clamp_max_ zero_ "
              "fill_ detach_ index_put_ erf_ erfc_ sinh_ cosh_ tan_ asin_ acos_ atan_ asinh_ acosh_ atanh_ "
              "arcsin_ arccos_ arctan_ arcsinh_ arccosh_ arctanh_ deg2rad_ rad2deg_ logit_ nan_to_num_ log2_ log10_ "
              "sinc_ xlogy_ ldexp_ gcd_ lcm_ addmv_").split():
    globals()[_name] = _inplace_function(_name)
del _name

# PyTorch's dtype aliases; dtypes are NumPy's (isinstance(x.dtype, minigrad.dtype) holds)
dtype = _np.dtype
float = float32   # noqa: A001
double = float64
half = float16
long = int64
int = int32       # noqa: A001
short = int16
bool = bool_      # noqa: A001
uint8 = uint8

__version__ = "0.1.0"


def __getattr__(name):
    """``minigrad.onnx``, ``minigrad.utils``, ``minigrad.func``, ``minigrad.distributions`` and
    ``minigrad.testing`` load on first use (as torch.onnx, torch.utils, ...): the extras of the first
    two (onnx, tensorboardX) are never imported with minigrad."""
    if name in ("onnx", "utils", "func", "distributions", "testing"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")

from .creation import range_inclusive as range  # noqa: E402,A001  (torch.range; last: the builtin is used above)
