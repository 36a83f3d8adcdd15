"""The ops of ops/composite.py, ops/discrete.py and ops/linalg_decomp.py where the op registry's
checks do not reach, and minigrad.utilities: integer and set-valued results (bucketize, histc,
unique_consecutive, ...), repeated values (mode), errors, and the top-level utilities, each
against PyTorch."""
import numpy as np
import pytest

import minigrad as mg

X = np.array([[3.0, 1.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0]])
INTS = np.array([[12, 18, -4], [0, 7, 9]])

CASES = [
    ("isin", lambda m, x, y: m.isin(x, y), [X, np.array([2.0, 3.0])]),
    ("isin_invert", lambda m, x, y: m.isin(x, y, invert=True), [X, np.array([2.0, 3.0])]),
    ("isneginf", lambda m, x: m.isneginf(x), [np.array([-np.inf, np.inf, 0.0, np.nan])]),
    ("isposinf", lambda m, x: m.isposinf(x), [np.array([-np.inf, np.inf, 0.0, np.nan])]),
    ("isreal", lambda m, x: m.isreal(x), [X]),
    ("heaviside", lambda m, x, v: m.heaviside(x, v), [np.array([-1.5, 0.0, 2.0]), np.array([0.5])]),
    ("bucketize", lambda m, x, b: m.bucketize(x, b), [X, np.array([0.0, 2.0, 3.0])]),
    ("bucketize_right", lambda m, x, b: m.bucketize(x, b, right=True), [X, np.array([0.0, 2.0, 3.0])]),
    ("histc", lambda m, x: m.histc(x, bins=4), [X]),
    ("histc_range", lambda m, x: m.histc(x, bins=3, min=0, max=3), [X]),
    ("gcd", lambda m, a, b: m.gcd(a, b), [INTS, np.array([8, 12, 6])]),
    ("lcm", lambda m, a, b: m.lcm(a, b), [INTS, np.array([8, 12, 6])]),
    ("nextafter", lambda m, a, b: m.nextafter(a, b), [X, np.zeros(4)]),
    ("unique_consecutive", lambda m, x: m.unique_consecutive(x, return_inverse=True, return_counts=True),
     [np.array([1, 1, 2, 2, 3, 1, 1, 2])]),
    ("unique_consecutive_dim", lambda m, x: m.unique_consecutive(x, return_counts=True, dim=0),
     [np.array([[1, 2], [1, 2], [3, 4], [1, 2]])]),
    ("argwhere", lambda m, x: m.argwhere(x), [X]),
    ("mode_repeats", lambda m, x: tuple(m.mode(x, 1)), [np.array([[1.0, 2.0, 2.0, 3.0, 3.0], [4.0, 4.0, 1.0, 1.0, 0.0]])]),
    ("mode_keepdim", lambda m, x: tuple(m.mode(x, 0, keepdim=True)), [X]),
    # (the index PyTorch returns for a row of NaN only depends on its partial sort: values only)
    ("nanmedian_all_nan_row", lambda m, x: m.nanmedian(x, 1).values,
     [np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 0.0]])]),
    ("tril_indices", lambda m: m.tril_indices(3, 4, 1), []),
    ("triu_indices", lambda m: m.triu_indices(4, 3, -1), []),
    ("logspace", lambda m: m.logspace(0, 2, 5, base=2.0, dtype=m.float64), []),
    ("select_negative", lambda m, x: m.select(x, 1, -1), [X]),
    ("tensor_split_indices", lambda m, x: m.tensor_split(x, [1, 3], dim=1), [X]),
    ("vander_default", lambda m, x: m.vander(x), [np.array([1.0, 2.0, 3.0])]),
    ("cov_rows", lambda m, x: m.cov(x), [X]),
    ("corrcoef_one_row", lambda m, x: m.corrcoef(x), [X[:1]]),
    ("nanquantile_all_nan_row", lambda m, x: m.nanquantile(x, 0.25, dim=1),
     [np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 0.0]])]),
    ("quantile_nan", lambda m, x: m.quantile(x, 0.5, dim=1), [np.array([[1.0, np.nan, 2.0], [0.0, 1.0, 2.0]])]),
    # float32 ranks: 0.2 * 10 is 2 in float32 (the third value), not the fourth (found by a hypothesis draw)
    ("nanquantile_float32_rank", lambda m, x: m.nanquantile(x, 0.2, interpolation="higher"),
     [np.append(np.nan, np.arange(1, 12) / 16).astype(np.float32)]),
    ("float_power_int", lambda m, x: m.float_power(x, 2), [np.array([1, 2, 3])]),
    ("fmin_nan", lambda m, a, b: m.fmin(a, b), [np.array([np.nan, 1.0, np.nan]), np.array([0.0, np.nan, np.nan])]),
    ("logdet_negative", lambda m, a: m.logdet(a), [np.array([[0.0, 1.0], [1.0, 0.0]])]),
    ("matrix_power_zero", lambda m, a: m.linalg.matrix_power(a, 0), [np.array([[2.0, 1.0], [0.0, 3.0]])]),
    ("multi_dot_vectors", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
     [np.array([1.0, 2.0]), np.array([[1.0, 0.5, 2.0], [0.0, 1.0, -1.0]]), np.array([2.0, 1.0, 0.0])]),
    ("sum_to_size", lambda m, x: x.sum_to_size(1, 4) if isinstance(x, mg.Tensor) else x.sum_to_size(1, 4), [X]),
    ("ldexp_negative", lambda m, x, e: m.ldexp(x, e), [X, np.array([-3, 0, 2, -1])]),
    ("gt_method", lambda m, x: x.gt(1.5), [X]),
    ("not_equal", lambda m, x: m.not_equal(x, 2.0), [X]),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_matches_pytorch(name, fn, args, torch):
    ours = fn(mg, *[mg.tensor(a) for a in args])
    theirs = fn(torch, *[torch.as_tensor(a) for a in args])
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs), name
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape), name
        assert str(o.dtype).replace("torch.", "") == str(t.dtype).replace("torch.", ""), name
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)


def test_mode_gradient_reaches_the_returned_index(torch):
    x = np.array([[1.0, 2.0, 2.0, 3.0, 3.0], [4.0, 4.0, 1.0, 1.0, 0.0]])
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mg.mode(ours, 1).values.sum().backward()
    torch.mode(theirs, 1).values.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_utilities_match_pytorch(torch):
    t = mg.tensor(X)
    assert mg.is_tensor(t) and not mg.is_tensor(X)
    assert mg.is_floating_point(t) and not mg.is_floating_point(mg.tensor([1, 2]))
    assert not mg.is_complex(t)
    assert mg.numel(t) == 8
    assert mg.is_nonzero(mg.tensor([2.0])) and not mg.is_nonzero(mg.tensor(0.0))
    assert mg.broadcast_shapes((2, 1), (3,), 1) == tuple(torch.broadcast_shapes((2, 1), (3,), 1))
    assert mg.finfo(mg.float32).eps == torch.finfo(torch.float32).eps
    assert mg.finfo().tiny == torch.finfo().tiny
    assert mg.iinfo(mg.int16).max == torch.iinfo(torch.int16).max
    c = mg.clone(t)
    assert c._data is not t._data and c.equal(t)


def test_utility_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        mg.is_nonzero(mg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="do not broadcast"):
        mg.broadcast_shapes((2,), (3,))
    with pytest.raises(TypeError, match="floating-point dtype"):
        mg.finfo(mg.int32)
    with pytest.raises(TypeError, match="expected a Tensor"):
        mg.numel([1, 2])


def test_inference_mode_records_no_graph_and_nests():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.inference_mode():
        assert mg.is_inference_mode_enabled()
        y = x * 2
        with mg.inference_mode(False):
            assert not mg.is_inference_mode_enabled()     # PyTorch's answer inside a nested inference_mode(False)
        assert mg.is_inference_mode_enabled()
    assert not mg.is_inference_mode_enabled()
    assert not y.requires_grad

    @mg.inference_mode()
    def double(v):
        return v * 2
    assert not double(x).requires_grad
    assert (x * 2).requires_grad


def test_rng_state_round_trip():
    state = mg.get_rng_state()
    a = mg.rand(3)
    mg.set_rng_state(state)
    assert mg.rand(3).equal(a)
    first = mg.seed()
    assert mg.initial_seed() == first


def test_tensor_metadata_methods(torch):
    t = mg.tensor(X)
    assert t.itemsize == 8 and t.byte().dtype == mg.uint8 and t.short().dtype == mg.int16 and t.char().dtype == mg.int8
    assert t[1].storage_offset() == torch.tensor(X)[1].storage_offset() == 4
    assert t[1].data_ptr() == t.data_ptr() + 4 * 8
    assert not t.is_sparse and t.real is t
    x = mg.tensor(X, requires_grad=True)
    y = x * 2
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    np.testing.assert_array_equal(t.H.numpy(), X.T)


@pytest.mark.parametrize("call,match", [
    (lambda: mg.linalg.inv(mg.zeros(2, 2, dtype=mg.float64)), "linalg.inv: Singular matrix"),
    (lambda: mg.linalg.inv(mg.zeros(2, 3)), r"square matrix .* got shape \(2, 3\)"),
    (lambda: mg.linalg.cholesky(-mg.eye(2)), "not positive-definite"),
    (lambda: mg.linalg.solve(mg.eye(3), mg.ones(2, 1)), r"do not match"),
    (lambda: mg.linalg.eigh(mg.eye(2), UPLO="X"), "UPLO"),
    (lambda: mg.linalg.matrix_power(mg.eye(2), 1.5), "must be an integer"),
    (lambda: mg.diff(mg.tensor(1.0)), "0-d"),
    (lambda: mg.quantile(mg.tensor([1.0, 2.0]), 1.5), r"\[0, 1\]"),
    (lambda: mg.quantile(mg.tensor([1.0, 2.0]), 0.5, interpolation="cubic"), "interpolation"),
    (lambda: mg.cov(mg.ones(2, 3), fweights=mg.tensor([1.0, 2.0, 1.0])), "fweights must be integers"),
    (lambda: mg.vsplit(mg.ones(3), 3), "at least 2 dims"),
    (lambda: mg.hsplit(mg.ones(2, 5), 2), "does not split into 2"),
    (lambda: mg.gcd(mg.tensor([1.0]), mg.tensor([2.0])), "integer tensors"),
    (lambda: mg.cartesian_prod(mg.ones(2, 2)), "1-D tensors"),
])
def test_errors_name_the_op_and_the_problem(call, match):
    with pytest.raises((ValueError, TypeError, RuntimeError, IndexError), match=match):
        call()


def test_dtype_utilities_match_pytorch(torch):
    pairs = [(mg.int32, mg.float16, torch.int32, torch.float16), (mg.uint8, mg.int8, torch.uint8, torch.int8),
             (mg.bool, mg.int64, torch.bool, torch.int64), (mg.float32, mg.float64, torch.float32, torch.float64)]
    for a, b, ta, tb in pairs:
        assert str(mg.promote_types(a, b)) == str(torch.promote_types(ta, tb)).replace("torch.", "")
        assert mg.can_cast(a, b) == torch.can_cast(ta, tb)
        assert mg.can_cast(b, a) == torch.can_cast(tb, ta)
    assert str(mg.result_type(mg.tensor([1, 2]), 1.5)) == str(torch.result_type(torch.tensor([1, 2]), 1.5)).replace(
        "torch.", "")
    assert mg.is_same_size(mg.ones(2, 3), mg.zeros(2, 3)) and not mg.is_same_size(mg.ones(2, 3), mg.ones(3, 2))
    assert mg.scalar_tensor(3).dtype == mg.float32 and mg.scalar_tensor(3).shape == ()
    assert mg.typename(mg.ones(2)) == "minigrad.FloatTensor"


def test_asarray_shares_memory_unless_asked_not_to():
    a = np.arange(3.0)
    assert np.shares_memory(mg.asarray(a)._data, a)
    assert not np.shares_memory(mg.asarray(a, copy=True)._data, a)
    with pytest.raises(ValueError, match="copy=False"):
        mg.asarray(a, dtype=mg.float32, copy=False)


def test_top_level_functional_aliases_are_the_same_functions():
    for name in ("conv2d", "max_pool2d", "dropout", "layer_norm", "pixel_shuffle"):
        assert getattr(mg, name) is getattr(mg.nn.functional, name)
    with mg.autocast("cpu", dtype=mg.float16):
        assert (mg.ones(2) * 2).dtype == mg.float32     # no automatic casting: a no-op region


@pytest.mark.parametrize("name,values,other", [("gcd_", [12, 18, -4], [8, 12, 6]), ("lcm_", [12, 18, -4], [8, 12, 6]),
                                               ("heaviside_", [-1.5, 0.0, 2.0], [0.5, 0.5, 0.5]),
                                               ("nextafter_", [1.0, 0.0, -2.0], [2.0, -1.0, 0.0])])
def test_inplace_forms_without_gradient_match_pytorch(name, values, other, torch):
    ours, theirs = mg.tensor(values), torch.tensor(values)
    assert getattr(ours, name)(mg.tensor(other)) is ours
    getattr(theirs, name)(torch.tensor(other))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
