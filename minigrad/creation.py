"""Creating tensors: from data, filled, ranges and random."""
from __future__ import annotations

import operator

import numpy as np

from . import backend
from .errors import ArgumentError
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "eye", "arange",
           "linspace", "rand", "randn", "randint", "randperm", "multinomial", "bernoulli", "poisson", "binomial",
           "normal", "zeros_like",
           "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "FloatTensor", "DoubleTensor",
           "HalfTensor", "ByteTensor", "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"]


def _default_dtype_for(arr_dtype: np.dtype) -> np.dtype:
    """Python data takes PyTorch's defaults: floats -> default float, ints -> int64."""
    if arr_dtype.kind == "f":
        return backend.get_default_dtype()
    if arr_dtype.kind in "iu":
        return backend.int64
    if arr_dtype.kind == "b":
        return backend.bool_
    raise TypeError(f"tensor: cannot make a tensor from data of dtype {arr_dtype} "
                    f"(expected numbers or booleans)")


def as_array(data, dtype=None, device=None, copy=True):
    """Turn ``data`` (a Tensor, NumPy/CuPy array, NumPy scalar, Python number or nested
    list) into a fresh array of a supported dtype on ``device``.

    Arrays and NumPy scalars keep their dtype; Python data gets PyTorch's defaults.
    """
    if isinstance(data, Tensor):
        data = data._data
    if backend.is_array(data) or isinstance(data, np.generic):
        arr = data if backend.is_array(data) else np.asarray(data)
        target = backend.as_dtype(dtype) if dtype is not None else backend.as_dtype(arr.dtype)
    else:
        try:
            arr = np.asarray(data)
        except ValueError as exc:
            raise ArgumentError(f"tensor: data is not a regular (rectangular) nested list: {exc}") from None
        if arr.dtype == object:
            raise TypeError(f"tensor: could not infer a numeric dtype from {type(data).__name__} data")
        target = backend.as_dtype(dtype) if dtype is not None else _default_dtype_for(arr.dtype)
    dev = backend.device(device) if device is not None else backend.device_of(arr) if backend.is_array(arr) else backend.CPU
    arr = backend.to_device(arr, dev)
    return arr.astype(target, copy=copy)


def legacy_array(args, dtype, device):
    """The array of ``Tensor(*args)``, PyTorch's legacy constructor (see :class:`Tensor`)."""
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args):       # Tensor(2, 3), Tensor()
        shape = _shape_arg(args or (0,), "Tensor")
        dt = backend.as_dtype(dtype) if dtype is not None else backend.get_default_dtype()
        return backend.array_module(backend.device(device)).zeros(shape, dt)
    if len(args) != 1:
        raise TypeError(f"Tensor: expected sizes (ints) or one piece of data, got {args!r}")
    data = args[0]
    if dtype is None and not (isinstance(data, (Tensor, np.generic)) or backend.is_array(data)):
        dtype = backend.get_default_dtype()
    return as_array(data, dtype, device)


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data``."""
    t = Tensor.__new__(Tensor)
    t._init_leaf(as_array(data, dtype, device), requires_grad)
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor` but returns ``data`` itself (or shares its memory) when possible."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == backend.as_dtype(dtype)) \
            and (device is None or data.device == backend.device(device)):
        return data
    return Tensor._wrap(as_array(data, dtype, device, copy=False))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    backend.as_dtype(array.dtype)
    return Tensor._wrap(array)


def _shape_arg(size, opname, keyword=None):
    """The shape from ``*size`` (ints, or one tuple/list) or the ``size=`` keyword, as PyTorch takes both."""
    if keyword is not None:
        if size:
            raise TypeError(f"{opname}: give the shape either positionally or as size=, not both")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    dims = []
    for s in size:                      # ints, or what says it is one (a 0-d integer tensor, as PyTorch takes)
        try:
            n = None if isinstance(s, bool) else operator.index(s)
        except TypeError:
            n = None
        if n is None or n < 0:
            raise ArgumentError(f"{opname}: sizes must be non-negative integers, got {tuple(size)}")
        dims.append(n)
    return tuple(dims)


def _size_kw(opname, kwargs):
    """The ``size=`` keyword of ``zeros(size=(2, 3))`` (a name that ``*size`` cannot also take)."""
    unknown = set(kwargs) - {"size"}
    if unknown:
        raise TypeError(f"{opname}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    return kwargs.get("size")


def _factory(opname, size, dtype, device, requires_grad, make, size_kw=None):
    shape = _shape_arg(size, opname, size_kw)
    dt = backend.as_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    dev = backend.device(device)
    t = Tensor._wrap(make(backend.array_module(dev), shape, dt, dev))
    if requires_grad:
        t.requires_grad = True
    return t


def zeros(*size, dtype=None, device=None, requires_grad=False, **size_kw) -> Tensor:
    return _factory("zeros", size, dtype, device, requires_grad, lambda xp, s, d, _: xp.zeros(s, d),
                    _size_kw("zeros", size_kw))


def ones(*size, dtype=None, device=None, requires_grad=False, **size_kw) -> Tensor:
    return _factory("ones", size, dtype, device, requires_grad, lambda xp, s, d, _: xp.ones(s, d),
                    _size_kw("ones", size_kw))


def empty(*size, dtype=None, device=None, requires_grad=False, **size_kw) -> Tensor:
    return _factory("empty", size, dtype, device, requires_grad, lambda xp, s, d, _: xp.empty(s, d),
                    _size_kw("empty", size_kw))


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = backend.scalar_dtype(fill_value)
    return _factory("full", (size,), dtype, device, requires_grad,
                    lambda xp, s, d, _: xp.full(s, fill_value, d))


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _factory("eye", (n, n if m is None else m), dtype, device, requires_grad,
                    lambda xp, s, d, _: xp.eye(s[0], s[1], dtype=d))


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **size_kw) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _factory("rand", size, dtype, device, requires_grad,
                    lambda xp, s, d, dev: backend.random_uniform(s, d, dev, generator),
                    _size_kw("rand", size_kw))


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **size_kw) -> Tensor:
    """Standard normal samples."""
    return _factory("randn", size, dtype, device, requires_grad,
                    lambda xp, s, d, dev: backend.random_normal(s, d, dev, generator),
                    _size_kw("randn", size_kw))


def randint(low=0, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` and ``randint(high=h, size=s)`` start at 0)."""
    if size is None and isinstance(high, (tuple, list)):     # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing the size argument")
    if high <= low:
        raise ArgumentError(f"randint: expected low < high, got [{low}, {high})")
    dev = backend.device(device)
    arr = backend.random_integers(low, high, _shape_arg((size,), "randint"), dev, generator)
    t = Tensor._wrap(arr.astype(backend.as_dtype(dtype) if dtype else backend.int64, copy=False))
    if requires_grad:
        t.requires_grad = True
    return t


def arange(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``[start, end)`` in steps; int64 for integer arguments (Python ints or integer 0-d
    tensors), the default float otherwise."""
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise ArgumentError("arange: step must be non-zero")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = backend.int64 if ints else backend.get_default_dtype()
    dt = backend.as_dtype(dtype)
    xp = backend.array_module(backend.device(device))
    t = Tensor._wrap(xp.arange(start, end, step).astype(dt))
    if requires_grad:
        t.requires_grad = True
    return t


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt = backend.as_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    if dt == backend.bool_:
        raise TypeError("linspace: dtype bool is not supported (as in PyTorch): use an integer or float dtype")
    xp = backend.array_module(backend.device(device))
    t = Tensor._wrap(xp.linspace(start, end, steps).astype(dt))
    if requires_grad:
        t.requires_grad = True
    return t


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` points from base**start to base**end, evenly spaced in the exponent."""
    dt = backend.as_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    if dt == backend.bool_:
        raise TypeError("logspace: dtype bool is not supported (as in PyTorch): use an integer or float dtype")
    xp = backend.array_module(backend.device(device))
    t = Tensor._wrap(xp.logspace(start, end, steps, base=base).astype(dt))
    if requires_grad:
        t.requires_grad = True
    return t


def _triangle_indices(opname, row, col, offset, dtype, device, upper):
    if row < 0 or col < 0:
        raise ArgumentError(f"{opname}: row and col must be non-negative, got {row} and {col}")
    r, c = np.nonzero(np.triu(np.ones((row, col), bool), offset) if upper else np.tril(np.ones((row, col), bool), offset))
    out = np.stack([r, c]).astype(backend.as_dtype(dtype) if dtype is not None else backend.int64)
    return Tensor._wrap(backend.to_device(out, backend.device(device)))


def tril_indices(row, col, offset=0, *, dtype=None, device=None) -> Tensor:
    """The (2, n) coordinates of the lower triangle (on and below diagonal ``offset``), row by row."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, upper=False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None) -> Tensor:
    """The (2, n) coordinates of the upper triangle (on and above diagonal ``offset``), row by row."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, upper=True)


def randint_like(input, low=0, high=None, *, dtype=None, device=None) -> Tensor:
    """Integers in [low, high) of ``input``'s shape (``randint_like(x, high)`` starts at 0)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype`` says otherwise)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ArgumentError(f"randperm: n must be a non-negative integer, got {n!r}")
    dt = backend.as_dtype(dtype) if dtype is not None else backend.int64
    arr = backend.random_permutation(int(n), backend.device(device), generator)
    t = Tensor._wrap(arr.astype(dt, copy=False))
    if requires_grad:
        t.requires_grad = True
    return t


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """Indices drawn from the categories of each row of ``input`` (1-D, or 2-D: one distribution
    per row) with probabilities proportional to its non-negative weights; ``num_samples`` per row,
    without replacement unless ``replacement``: then no category is drawn twice, and categories of
    weight zero only once all the others are drawn (as PyTorch 2.13; earlier versions raised).
    Returns int64 of shape ``(num_samples,)`` or ``(rows, num_samples)``.

    Without replacement the draws are an exponential race: each category gets E_i / w_i with E_i
    ~ Exp(1) and the smallest keys win, which is the same distribution as drawing one at a time and
    renormalising (Efraimidis & Spirakis, 2006).
    """
    w = input._data if isinstance(input, Tensor) else as_array(input)
    if w.ndim not in (1, 2):
        raise ArgumentError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim} dims")
    if w.dtype.kind != "f":
        raise TypeError(f"multinomial: expected a floating-point tensor of weights, got {w.dtype}")
    if not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise ArgumentError(f"multinomial: num_samples must be a positive integer, got {num_samples!r}")
    xp = backend.xp_of(w)
    rows = w.reshape(-1, w.shape[-1]).astype(backend.float64)
    categories = rows.shape[1]
    if not bool(xp.isfinite(rows).all()) or bool((rows < 0).any()):
        raise ArgumentError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if bool((rows.sum(axis=1) <= 0).any()):
        raise ArgumentError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement:
        if num_samples > categories:
            raise ArgumentError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                             f"replacement ({num_samples} > {categories})")
    dev = backend.device_of(w)
    u = backend.random_uniform((rows.shape[0], num_samples if replacement else categories), backend.float64,
                               dev, generator)
    if replacement:
        # inverse CDF: the first category whose cumulative probability exceeds u
        cdf = xp.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]
        out = xp.stack([xp.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        last = categories - 1 - xp.argmax(rows[:, ::-1] > 0, axis=1)    # rounding never picks a zero weight
        out = xp.minimum(out, last[:, None])
    else:
        with np.errstate(divide="ignore"):
            keys = -xp.log1p(-u) / rows                                 # weight 0: key inf, drawn last
        out = xp.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(backend.int64)
    return Tensor._wrap(out if w.ndim == 2 else out[0])


def _float_rates(input, name):
    x = input if isinstance(input, Tensor) else Tensor._wrap(as_array(input))
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating-point tensor, got dtype {x._data.dtype}")
    return x


def _sampler(generator, dev, name):
    """The NumPy (CPU) or CuPy (GPU) generator behind ``generator``, which must draw ``name``."""
    gen = (generator or backend.default_generator(dev)).impl
    if not hasattr(gen, name):
        raise NotImplementedError(f"{name}: the random generator of device {dev} ({type(gen).__name__}) cannot draw "
                                  f"{name} samples")
    return gen


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """0/1 samples of ``input``'s shape and dtype: 1 with probability ``input`` elementwise, or
    ``p`` (a number) everywhere when given.  The sample carries no gradient (PyTorch's is zero)."""
    x = _float_rates(input, "bernoulli")
    probs = x._data if p is None else p
    xp = backend.xp_of(x._data)
    if not bool(xp.all((xp.asarray(probs) >= 0) & (xp.asarray(probs) <= 1))):
        raise RuntimeError("bernoulli: expected every probability p to satisfy 0 <= p <= 1")
    dt = x._data.dtype if x._data.dtype in (backend.float32, backend.float64) else backend.float32
    u = backend.random_uniform(x._data.shape, dt, x.device, generator)
    return Tensor._wrap(xp.asarray(u < probs, dtype=x._data.dtype))        # 0-d stays an array, not a scalar


def poisson(input, generator=None) -> Tensor:
    """Poisson samples with the rates ``input`` (non-negative floats), in its dtype; no gradient
    (PyTorch's is zero)."""
    x = _float_rates(input, "poisson")
    xp = backend.xp_of(x._data)
    if not bool(xp.all(x._data >= 0)):
        raise RuntimeError("poisson: invalid Poisson rate, expected every rate to be non-negative")
    gen = _sampler(generator, x.device, "poisson")
    return Tensor._wrap(gen.poisson(x._data.astype(backend.float64)).astype(x._data.dtype))


def binomial(count, prob, generator=None) -> Tensor:
    """The number of successes in ``count`` trials of probability ``prob`` (float tensors,
    broadcast together), in count's dtype; no gradient.  Unlike PyTorch, which returns
    unspecified values for them, a probability outside [0, 1] or a negative count raises."""
    n, p = _float_rates(count, "binomial"), _float_rates(prob, "binomial")
    xp = backend.xp_of(n._data)
    if not bool(xp.all(n._data >= 0)) or not bool(xp.all((p._data >= 0) & (p._data <= 1))):
        raise RuntimeError("binomial: expected counts >= 0 and probabilities in [0, 1]")
    shape = np.broadcast_shapes(n._data.shape, p._data.shape)
    gen = _sampler(generator, n.device, "binomial")
    draws = gen.binomial(xp.broadcast_to(n._data, shape).astype(np.int64), xp.broadcast_to(p._data, shape))
    return Tensor._wrap(xp.asarray(draws).astype(n._data.dtype))


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Normal samples with the given means and standard deviations (PyTorch's ``normal``):
    ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean_tensor, std=1.0)``,
    ``normal(mean=0.0, std_tensor)``, or ``normal(mean, std, size)`` with numbers."""
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (mean_t or std_t):
        if size is None:
            raise TypeError("normal: with a number for both mean and std, give a size")
        if std < 0:
            raise ArgumentError(f"normal: expects std >= 0.0, but found std {std}")
        shape = _shape_arg((size,), "normal")
        dt = backend.as_dtype(dtype) if dtype is not None else backend.get_default_dtype()
        z = backend.random_normal(shape, dt, backend.device(device), generator, float(mean), float(std))
        t = Tensor._wrap(z)
    else:
        if size is not None:
            raise TypeError("normal: size is only for numbers mean and std; a tensor gives the shape")
        tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
        for x in tensors:
            if x.dtype.kind != "f":
                raise TypeError(f"normal: expected floating-point mean and std tensors, got {x.dtype}")
        m = mean._data if mean_t else mean
        s = std._data if std_t else std
        if bool((backend.xp_of(s).asarray(s) < 0).any()) if std_t else s < 0:
            raise ArgumentError("normal: expects all elements of std >= 0.0")
        try:
            shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        except ValueError:
            raise ArgumentError(f"normal: mean of shape {np.shape(m)} and std of shape {np.shape(s)} "
                             f"do not broadcast together") from None
        dt = backend.result_type(*(x._data for x in tensors))
        z = backend.random_normal(shape, dt, tensors[0].device, generator)
        t = Tensor._wrap(backend.xp_of(z).asarray(z * s + m, dtype=dt))     # 0-d stays an array, not a scalar
    if requires_grad:
        t.requires_grad = True
    return t


def _like(other, dtype, device):
    return (dtype if dtype is not None else other.dtype), (device if device is not None else other.device)


def zeros_like(other: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    d, dev = _like(other, dtype, device)
    return zeros(other.shape, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(other: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    d, dev = _like(other, dtype, device)
    return ones(other.shape, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(other: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    d, dev = _like(other, dtype, device)
    return empty(other.shape, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(other: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    d, dev = _like(other, dtype, device)
    return full(other.shape, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def rand_like(other: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    d, dev = _like(other, dtype, device)
    return rand(other.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(other: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    d, dev = _like(other, dtype, device)
    return randn(other.shape, dtype=d, device=dev, requires_grad=requires_grad)


class _LegacyTensorType(type):
    """PyTorch's legacy tensor types (``FloatTensor``, ``LongTensor``, ...): ``isinstance(x,
    LongTensor)`` holds for a CPU tensor of that dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device == backend.CPU


def _legacy_new(cls, *args):
    """``FloatTensor(2, 3)`` (or a ``Size``): a tensor of that shape (zeros, where PyTorch leaves it
    uninitialised); ``FloatTensor(data)``: a copy of ``data`` as the type's dtype."""
    from .utilities import Size
    if not args:
        return zeros(0, dtype=cls.dtype)
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        return zeros(*args, dtype=cls.dtype)
    if len(args) == 1:
        return tensor(args[0], dtype=cls.dtype)
    raise TypeError(f"{cls.__name__}: expected sizes (ints) or one piece of data, got {args!r}")


for _dtype, _name in backend._TYPE_NAMES.items():
    globals()[_name] = _LegacyTensorType(_name, (), {"dtype": _dtype, "__new__": _legacy_new,
                                                      "__doc__": f"Legacy {_dtype.name} tensor type (a constructor)."})
del _dtype, _name


def range_inclusive(start, end, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``torch.range`` (deprecated in PyTorch, kept for old programs): ``[start, end]`` with the end
    included, in the default float dtype whatever the arguments' types."""
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise ArgumentError("range: step must be non-zero")
    count = int(np.floor((end - start) / step)) + 1
    if count < 0:
        raise ArgumentError(f"range: upper bound and lower bound inconsistent with step sign (start {start}, "
                         f"end {end}, step {step})")
    dt = backend.as_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    xp = backend.array_module(backend.device(device))
    t = Tensor._wrap((start + step * xp.arange(count, dtype=np.float64)).astype(dt))
    if requires_grad:
        t.requires_grad = True
    return t
