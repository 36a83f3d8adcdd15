"""Integer and logic ops (minigrad.ops.compare): bitwise arithmetic and shifts, logical xor, any/all,
count_nonzero, isclose/allclose/equal, signbit; against NumPy or Python integers, and PyTorch."""
import numpy as np
import pytest

import minigrad as mg

from conftest import DEVICE
from helpers import host

INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]


def ints(dtype, shape=(2, 5), seed=0):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    values = rng.integers(max(info.min, -300), min(info.max, 300), shape, endpoint=True)
    values.flat[:3] = [info.min, info.max, 0][: values.size]
    return values.astype(dtype)


def tensor(values):
    return mg.tensor(values, device=DEVICE)


def check(got, expected):
    """Same values and dtype (``expected`` a NumPy array or a PyTorch tensor)."""
    expected = expected.numpy() if hasattr(expected, "numpy") else np.asarray(expected)
    assert isinstance(got, mg.Tensor)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    np.testing.assert_array_equal(host(got), expected)


# ----------------------------------------------------------------------------- & | ^ ~
BITWISE = [("bitwise_and", lambda a, b: a & b, np.bitwise_and), ("bitwise_or", lambda a, b: a | b, np.bitwise_or),
           ("bitwise_xor", lambda a, b: a ^ b, np.bitwise_xor)]


@pytest.mark.parametrize("name, operator, reference", BITWISE, ids=[b[0] for b in BITWISE])
@pytest.mark.parametrize("dtype", INT_DTYPES + ["bool"])
def test_bitwise_ops_are_bitwise_on_integers_and_logical_on_bools(name, operator, reference, dtype):
    a = ints(dtype) if dtype != "bool" else ints("int8") > 0
    b = (ints(dtype, (5,), seed=1) if dtype != "bool" else ints("int8", (5,), seed=1) > 0)
    expected = reference(a, b)
    check(getattr(mg, name)(tensor(a), tensor(b)), expected)
    check(operator(tensor(a), tensor(b)), expected)
    check(getattr(tensor(a), name)(tensor(b)), expected)


@pytest.mark.parametrize("name, operator, reference", BITWISE, ids=[b[0] for b in BITWISE])
@pytest.mark.parametrize("dtype", INT_DTYPES + ["bool"])
@pytest.mark.parametrize("scalar", [0x1337, -1, 5, True])
def test_bitwise_ops_with_scalars_match_torch(torch, name, operator, reference, dtype, scalar):
    values = ints(dtype) if dtype != "bool" else ints("int8") > 0
    ours, theirs = tensor(values), torch.from_numpy(values)
    check(operator(ours, scalar), operator(theirs, scalar))
    check(operator(scalar, ours), operator(scalar, theirs))     # reflected: 0x1337 & t


@pytest.mark.parametrize("left, right", [("uint8", "int8"), ("int16", "int64"), ("bool", "int32"), ("int32", "bool")])
def test_bitwise_ops_promote_mixed_dtypes_as_torch(torch, left, right):
    a = ints(left) if left != "bool" else ints("int8") > 0
    b = ints(right, (5,), seed=2) if right != "bool" else ints("int8", (5,), seed=2) > 0
    for _, operator, _ in BITWISE:
        check(operator(tensor(a), tensor(b)), operator(torch.from_numpy(a), torch.from_numpy(b)))


@pytest.mark.parametrize("dtype", INT_DTYPES + ["bool"])
def test_bitwise_not(torch, dtype):
    values = ints(dtype) if dtype != "bool" else ints("int8") > 0
    # ~x = -x - 1 in two's complement (255 - x for uint8); not x for bools
    expected = np.array([not v if dtype == "bool" else (~int(v)) % 256 if dtype == "uint8" else ~int(v)
                         for v in values.ravel()], dtype).reshape(values.shape)
    check(~tensor(values), expected)
    check(tensor(values).bitwise_not(), expected)
    check(mg.bitwise_not(tensor(values)), torch.bitwise_not(torch.from_numpy(values)))


def test_and_or_on_integer_tensors_are_bitwise_not_boolean():
    """The bug: ``&`` and ``|`` on integer tensors returned booleans (a logical and/or)."""
    a, b = mg.tensor([6, 5, 12]), mg.tensor([3, 4, 10])
    assert (a & b).tolist() == [2, 4, 8] and (a & b).dtype == mg.int64
    assert (a | b).tolist() == [7, 5, 14] and (a ^ b).tolist() == [5, 1, 6]
    x = mg.tensor([1.0, 2.0, 3.0])
    assert ((x >= 2) & (x < 3)).tolist() == [False, True, False]     # masks still combine


# ----------------------------------------------------------------------------- << >>
def shift_reference(x, s, left, dtype):
    """Python integers: x * 2**s (or floor division) wrapped to the dtype's width; out-of-range shifts
    give 0 (or -1 for a right shift of a negative number), as PyTorch."""
    bits = np.dtype(dtype).itemsize * 8
    if s < 0 or s >= bits:
        return -1 if (not left and x < 0) else 0
    value = x << s if left else x >> s
    value &= (1 << bits) - 1
    if np.dtype(dtype).kind == "i" and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


@pytest.mark.parametrize("left", [True, False], ids=["left", "right"])
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_shifts_follow_twos_complement_arithmetic(left, dtype):
    x = ints(dtype, (14,))
    shifts = np.array([0, 1, 3, 7, 8, 9, 15, 16, 31, 32, 63, 64, 70, -1 if dtype != "uint8" else 2]).astype(dtype)
    expected = np.array([shift_reference(int(v), int(s), left, dtype) for v, s in zip(x, shifts)], dtype=dtype)
    fn = mg.bitwise_left_shift if left else mg.bitwise_right_shift
    check(fn(tensor(x), tensor(shifts)), expected)
    check(tensor(x) << tensor(shifts) if left else tensor(x) >> tensor(shifts), expected)


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("amount", [0, 1, 5, 8, 40, 63, 64, 70])
def test_shifts_match_torch(torch, dtype, amount):
    values = ints(dtype)
    ours, theirs = tensor(values), torch.from_numpy(values)
    check(ours << amount, theirs << amount)
    check(ours >> amount, theirs >> amount)
    check(3 << tensor(values % 9), 3 << torch.from_numpy(values % 9))       # reflected
    check(1000 >> tensor(values % 9), 1000 >> torch.from_numpy(values % 9))


def test_shifting_bools_gives_int64_like_torch(torch):
    b = np.array([True, False, True])
    check(tensor(b) << 1, torch.from_numpy(b) << 1)
    with pytest.raises(TypeError, match="bitwise_right_shift: expected integer tensors, got bool"):
        tensor(b) >> tensor(b)


@pytest.mark.parametrize("call", [
    lambda x, i: x & x, lambda x, i: x | 1, lambda x, i: ~x, lambda x, i: x << 1, lambda x, i: i >> x,
    lambda x, i: i & 2.0, lambda x, i: mg.bitwise_xor(i, x),
])
def test_bitwise_ops_refuse_floats(call):
    with pytest.raises(TypeError, match=r"bitwise_\w+: expected (integer or boolean|an integer or boolean|integer) "
                                        r"tensors?, got float"):
        call(mg.tensor([1.0, 2.0]), mg.tensor([1, 2]))


def test_bitwise_functions_need_a_tensor():
    with pytest.raises(TypeError, match="bitwise_and: expected at least one tensor, got int and int"):
        mg.bitwise_and(3, 5)
    check(mg.bitwise_and(3, mg.tensor([5, 6])), np.array([1, 2]))


def test_bitwise_ops_name_unbroadcastable_shapes():
    with pytest.raises(ValueError, match=r"bitwise_and: shapes \(2,\) and \(3,\) do not broadcast together"):
        mg.tensor([1, 2]) & mg.tensor([1, 2, 3])


# ----------------------------------------------------------------------------- logic and truth reductions
def test_logical_xor(torch):
    a, b = np.array([0.0, 2.0, -1.0, 0.0]), np.array([0, 0, 3, 1])
    check(mg.logical_xor(tensor(a), tensor(b)), torch.logical_xor(torch.from_numpy(a), torch.from_numpy(b)))
    check(tensor(a).logical_xor(tensor(b)), np.logical_xor(a, b))


REDUCTION_CASES = [(None, False), (0, False), (1, True), (-1, False), ((0, 2), False), ((0, 1, 2), True), ((), False)]


@pytest.mark.parametrize("dim, keepdim", REDUCTION_CASES)
@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "uint8"])
def test_any_all_match_numpy(name, dim, keepdim, dtype):
    values = (np.random.default_rng(3).random((3, 4, 2)) > 0.3).astype(dtype)
    values[1] = 1
    axis = tuple(range(3)) if dim is None else dim
    expected = getattr(np, name)(values, axis=axis, keepdims=keepdim)
    expected = np.asarray(expected).astype(np.uint8 if dtype == "uint8" else bool)   # uint8 in, uint8 out
    check(getattr(mg, name)(tensor(values), dim, keepdim), expected)
    check(getattr(tensor(values), name)(dim=dim, keepdim=keepdim), expected)


@pytest.mark.parametrize("dim, keepdim", REDUCTION_CASES[:-1])
@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("dtype", ["float32", "uint8", "int8"])
def test_any_all_match_torch(torch, name, dim, keepdim, dtype):
    values = (np.random.default_rng(4).random((3, 4, 2)) > 0.2).astype(dtype)
    expected = getattr(torch, name)(torch.from_numpy(values)) if dim is None else \
        getattr(torch, name)(torch.from_numpy(values), dim=dim, keepdim=keepdim)
    check(getattr(mg, name)(tensor(values), dim, keepdim), expected)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_count_nonzero_matches_torch(torch, dim):
    values = np.array([[0, 1, 2], [0, 0, 3]])
    expected = np.count_nonzero(values, axis=dim)
    check(mg.count_nonzero(tensor(values), dim), np.asarray(expected, dtype=np.int64))
    check(tensor(values.astype(np.float32)).count_nonzero(dim), torch.count_nonzero(torch.from_numpy(values), dim))


@pytest.mark.parametrize("call, error, message", [
    (lambda x: mg.any(x, 2), IndexError, r"any: dim 2 is out of range for a tensor of 2 dimension"),
    (lambda x: x.all(dim=(0, 0)), ValueError, r"all: dim \(0, 0\) names a dimension twice"),
    (lambda x: mg.count_nonzero(x, -3), IndexError, r"count_nonzero: dim -3 is out of range"),
])
def test_reductions_check_their_dims(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.ones(2, 3))


@pytest.mark.parametrize("name", ["sum", "mean", "any", "all", "count_nonzero", "amax"])
def test_a_0d_tensor_has_only_dims_0_and_minus_1(name):
    """The bug: ``sum(1)`` on a 0-d tensor did not raise (PyTorch: dimension out of range)."""
    x = mg.tensor(2.0)
    for dim in (0, -1):
        assert getattr(mg, name)(x, dim).shape == ()
    for dim in (1, -2):
        with pytest.raises(IndexError, match=f"{name}: dim {dim} is out of range for a tensor of 0 dimension"):
            getattr(mg, name)(x, dim)


def test_0d_dims_match_torch(torch):
    for dim in (1, -2):
        with pytest.raises(IndexError):
            torch.tensor(2.0).sum(dim)
    assert torch.tensor(2.0).sum(-1).item() == mg.tensor(2.0).sum(-1).item()


# ----------------------------------------------------------------------------- closeness and equality
CLOSE_PAIRS = [
    ([1.0, 2.0, np.inf, -np.inf, np.nan, 1e-9], [1.0 + 1e-6, 2.1, np.inf, np.inf, np.nan, 0.0]),
    ([[0.0, 1.0]], [[1e-8, 1.00001], [2e-8, 0.99]]),       # broadcast
]


@pytest.mark.parametrize("a, b", CLOSE_PAIRS)
@pytest.mark.parametrize("rtol, atol, equal_nan", [(1e-5, 1e-8, False), (0.06, 0.0, True), (0.0, 1.5e-8, False)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_isclose_and_allclose_match_torch(torch, a, b, rtol, atol, equal_nan, dtype):
    a, b = np.array(a, dtype), np.array(b, dtype)
    expected = torch.isclose(torch.from_numpy(a), torch.from_numpy(b), rtol=rtol, atol=atol, equal_nan=equal_nan)
    check(mg.isclose(tensor(a), tensor(b), rtol=rtol, atol=atol, equal_nan=equal_nan), expected)
    check(tensor(a).isclose(tensor(b), rtol, atol, equal_nan), np.isclose(a, b, rtol, atol, equal_nan))
    assert mg.allclose(tensor(a), tensor(b), rtol, atol, equal_nan) == \
        torch.allclose(torch.from_numpy(a), torch.from_numpy(b), rtol, atol, equal_nan)
    same = a.copy()                                # infinities and (with equal_nan) NaNs match themselves
    assert mg.allclose(tensor(a), tensor(same), equal_nan=True) is True
    assert mg.allclose(tensor(a), tensor(same)) is torch.allclose(torch.from_numpy(a), torch.from_numpy(same))


def test_isclose_on_integers_bools_and_scalars(torch):
    a, b = np.array([1, 2, 100]), np.array([1, 3, 104])
    check(mg.isclose(tensor(a), tensor(b), rtol=0.05, atol=0), torch.isclose(
        torch.from_numpy(a), torch.from_numpy(b), rtol=0.05, atol=0))
    check(mg.isclose(tensor(a > 1), tensor(b > 1)), np.array([True, True, True]))
    check(mg.isclose(tensor([1.0, 2.0]), 2.0), np.array([False, True]))


@pytest.mark.parametrize("call, error, message", [
    (lambda: mg.isclose(mg.tensor([1]), mg.tensor([1.0])), TypeError,
     r"isclose: input \(int64\) and other \(float32\) must have the same dtype"),
    (lambda: mg.allclose(mg.ones(2), mg.ones(2, dtype=mg.float64)), TypeError, "isclose: input"),
    (lambda: mg.isclose(mg.ones(2), mg.ones(2), rtol=-1), ValueError,
     "isclose: rtol must be greater than or equal to zero, but got -1"),
    (lambda: mg.isclose(mg.ones(2), mg.ones(2), atol=-1e-3), ValueError, "atol must be greater than or equal"),
    (lambda: mg.isclose(mg.ones(2), mg.ones(3)), ValueError, r"isclose: shapes \(2,\) and \(3,\) do not broadcast"),
])
def test_isclose_refuses(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_equal_matches_torch(torch):
    a = np.array([5, -3, 12], np.int32)
    cases = [(a, a), (a, a.astype(np.int64)), (a, a[:2]), (a, a.astype(np.float32)), (a, a + 1),
             (np.array([1.0, np.nan]), np.array([1.0, np.nan])), (np.zeros((2, 1)), np.zeros(2))]
    for x, y in cases:
        expected = torch.equal(torch.from_numpy(x), torch.from_numpy(y))
        assert mg.equal(tensor(x), tensor(y)) is expected
        assert tensor(x).equal(tensor(y)) is expected


def test_equal_without_torch():
    assert mg.equal(mg.tensor([1, 2]), mg.tensor([1.0, 2.0])) is True
    assert mg.equal(mg.tensor([1, 2]), mg.tensor([[1, 2]])) is False
    assert mg.equal(mg.tensor([np.nan]), mg.tensor([np.nan])) is False


def test_signbit(torch):
    f = np.array([1.0, -0.0, 0.0, -2.5, np.nan, -np.nan, -np.inf], np.float32)
    check(mg.signbit(tensor(f)), torch.signbit(torch.from_numpy(f)))
    check(tensor(f).signbit(), np.signbit(f))
    for values in (np.array([3, -1, 0], np.int16), np.array([True, False])):
        check(mg.signbit(tensor(values)), torch.signbit(torch.from_numpy(values)))
