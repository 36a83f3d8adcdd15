"""Tensor construction, dtypes and promotion, conversions, printing, and error messages."""
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend

from helpers import assert_close


# ----------------------------------------------------------------------------- constructors and defaults
@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], mg.float32), ([1, 2], mg.int64), ([True, False], mg.bool), (3.5, mg.float32), (7, mg.int64),
    (np.zeros(2, np.float64), mg.float64), (np.zeros(2, np.int32), mg.int32), (np.float64(1.0), mg.float64),
])
def test_default_dtypes(data, dtype):
    assert mg.tensor(data).dtype == dtype


def test_tensor_copies_its_data():
    a = np.ones(3, np.float32)
    t = mg.tensor(a)
    a[0] = 5
    assert t._data[0] == 1
    shared = mg.from_numpy(a)
    a[1] = 7
    assert shared._data[1] == 7


def test_factories():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).dtype == mg.float32
    assert mg.ones(2, dtype=mg.float64).dtype == mg.float64
    assert mg.full((2,), 3).dtype == mg.int64 and mg.full((2,), 1.5).dtype == mg.float32
    assert mg.arange(5).dtype == mg.int64 and mg.arange(0, 1, 0.25).dtype == mg.float32
    assert_close(mg.arange(2, 8, 2), [2, 4, 6])
    assert mg.eye(3).shape == (3, 3)
    assert mg.zeros_like(mg.ones(2, 2, dtype=mg.float64)).dtype == mg.float64
    assert mg.ones_like(mg.zeros(4)).shape == (4,)
    assert mg.linspace(0, 1, 5).shape == (5,)
    assert mg.randn(3, 4, requires_grad=True).requires_grad


def test_manual_seed_makes_random_draws_reproducible():
    mg.manual_seed(123)
    a, b = mg.rand(5), mg.randn(2, 3)
    mg.manual_seed(123)
    assert np.array_equal(a._data, mg.rand(5)._data) and np.array_equal(b._data, mg.randn(2, 3)._data)
    gen = mg.Generator().manual_seed(7)
    assert np.array_equal(mg.rand(3, generator=gen)._data, mg.rand(3, generator=mg.Generator().manual_seed(7))._data)
    assert mg.rand(1000)._data.dtype == np.float32 and 0 <= mg.rand(1000)._data.min()


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="rectangular"):
        mg.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="complex128 is not supported"):
        mg.tensor(np.ones(2, np.complex128))
    with pytest.raises(ValueError, match="sizes must be non-negative integers"):
        mg.zeros(2, -1)
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        mg.zeros(2, device="tpu")


# ----------------------------------------------------------------------------- promotion
PROMOTION = [   # (a, b, expected) in PyTorch's rules
    (mg.ones(2), 2.0, mg.float32),
    (mg.ones(2), np.float64(2.0), mg.float32),
    (mg.ones(2, dtype=mg.int64), 2.5, mg.float32),
    (mg.ones(2, dtype=mg.int32), 2, mg.int32),
    (mg.ones(2, dtype=mg.int64), mg.ones(2), mg.float32),
    (mg.ones(2), mg.ones(2, dtype=mg.float64), mg.float64),
    (mg.ones(2), mg.tensor(2.0, dtype=mg.float64), mg.float32),            # 0-d tensors rank below
    (mg.ones(2, dtype=mg.int64), mg.tensor(2.5, dtype=mg.float64), mg.float64),
    (mg.ones(2, dtype=mg.uint8), mg.ones(2, dtype=mg.int8), mg.int16),
    (mg.ones(2, dtype=mg.bool), 1, mg.int64),
    (mg.ones(2, dtype=mg.bool), 1.5, mg.float32),
    (mg.ones(2, dtype=mg.float16), mg.ones(2, dtype=mg.int64), mg.float16),
]


@pytest.mark.parametrize("a, b, expected", PROMOTION)
def test_promotion_follows_pytorch(a, b, expected):
    assert (a + b).dtype == expected
    assert (b + a).dtype == expected


@pytest.mark.parametrize("a, b, expected", PROMOTION)
def test_promotion_table_agrees_with_pytorch(a, b, expected, torch):
    def to_torch(x):
        return torch.as_tensor(x._data) if isinstance(x, mg.Tensor) else x
    assert str((to_torch(a) + to_torch(b)).dtype).replace("torch.", "") == np.dtype(expected).name


def test_integer_division_gives_float():
    assert (mg.arange(4) / 2).dtype == mg.float32
    assert_close(mg.arange(4) / mg.tensor([2, 2, 2, 2]), [0, 0.5, 1, 1.5])


def test_float_ops_on_integers_give_default_float():
    assert mg.arange(3).exp().dtype == mg.float32
    assert mg.arange(3).abs().dtype == mg.int64


# ----------------------------------------------------------------------------- attributes and conversion
def test_attributes():
    t = mg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.size() == (2, 3, 4) and t.size(-1) == 4
    assert t.numel() == 24 and t.dim() == 3 and len(t) == 2
    assert t.device == "cpu" and str(t.device) == "cpu" and t.device == mg.device("cpu")
    assert t.is_leaf and t.grad_fn is None


def test_item_numpy_tolist():
    t = mg.tensor([[1.5]])
    assert t.item() == 1.5 and float(t) == 1.5
    assert mg.tensor([1, 2]).tolist() == [1, 2]
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        mg.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        mg.ones(2, requires_grad=True).numpy()


def test_to_dtype_is_differentiable():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x.float()
    assert y.dtype == mg.float32 and y.requires_grad
    (y * 2).sum().backward()
    assert x.grad.dtype == mg.float64
    assert_close(x.grad, [2.0, 2.0])
    assert x.to(mg.float64) is x
    assert x.to("cpu") is x


def test_to_integer_detaches():
    x = mg.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad and x.long().dtype == mg.int64


def test_repr():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=float64" in repr(mg.tensor([1.0], dtype=mg.float64))
    assert "requires_grad=True" in repr(mg.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward0>" in repr(mg.tensor([1.0], requires_grad=True) * 2)


def test_pickle_round_trip():
    t = mg.tensor([[1.0, 2.0]], requires_grad=True)
    u = pickle.loads(pickle.dumps(t))
    assert np.array_equal(u._data, t._data) and u.requires_grad and u.dtype == t.dtype


def test_numpy_array_on_the_left_defers_to_tensor():
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    out = np.array([1.0, 1.0], dtype=np.float32) + t
    assert isinstance(out, mg.Tensor) and out.requires_grad
    assert isinstance(np.ones((2, 2), np.float32) @ t, mg.Tensor)
    assert np.asarray(t.detach()).dtype == np.float32


# ----------------------------------------------------------------------------- in-place edits
def test_in_place_on_leaf_requiring_grad_needs_no_grad():
    w = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="zero_: a leaf Variable that requires grad is being used in an in-place operation"):
        w.zero_()
    with mg.no_grad():
        w.mul_(2).add_(1)
        w[0] = 10
    assert_close(w, [10, 3, 3])


def test_setitem_and_fill():
    t = mg.zeros(2, 3)
    t[0, 1:] = 5
    t[mg.tensor([1])] = 2
    assert_close(t, [[0, 5, 5], [2, 2, 2]])
    t.fill_(1)
    assert_close(t, np.ones((2, 3)))


# ----------------------------------------------------------------------------- comparisons and logic
def test_comparisons_give_bool_tensors_without_graph():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == mg.bool and not m.requires_grad
    assert m.tolist() == [False, True, True]
    assert ((x >= 2) & (x < 3)).tolist() == [False, True, False]
    assert (~m).tolist() == [True, False, False]
    assert (x == 2).tolist() == [False, True, False]
    assert {x: 1}[x] == 1                    # tensors hash by identity


def test_argmax_and_argmin():
    x = mg.tensor([[1.0, 5.0, 3.0], [7.0, 0.0, 2.0]])
    assert x.argmax().item() == 3
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(dim=0, keepdim=True).tolist() == [[0, 1, 1]]


# ----------------------------------------------------------------------------- errors name the op and shapes
@pytest.mark.parametrize("call, message", [
    (lambda: mg.ones(2, 3) + mg.ones(4), r"add: shapes \(2, 3\) and \(4,\) do not broadcast together"),
    (lambda: mg.ones(2, 3) * mg.ones(3, 2), r"mul: shapes \(2, 3\) and \(3, 2\) do not broadcast"),
    (lambda: mg.ones(2, 3) @ mg.ones(4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"),
    (lambda: mg.ones(2, 3) @ mg.ones(3, dtype=mg.float64), r"matmul: operands must have the same dtype, got float32 and float64"),
    (lambda: mg.ones(2, 2, 3) @ mg.ones(3, 3, 1), r"matmul: batch dims of shapes"),
    (lambda: mg.ones(()) @ mg.ones(3), r"matmul: both operands must have at least one dimension"),
    (lambda: mg.ones(2, 3).reshape(4), r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into shape \(4,\)"),
    (lambda: mg.ones(2, 3).sum(dim=2), r"sum: dim 2 is out of range for a tensor of 2 dimension"),
    (lambda: mg.ones(2, 3).transpose(0, 5), r"transpose: dim 5 is out of range"),
    (lambda: mg.ones(2, 3).permute(0, 0), r"permute: \(0, 0\) is not a permutation"),
    (lambda: mg.cat([mg.ones(2, 3), mg.ones(2, 4)], 0), r"cat: tensor 1 has shape \(2, 4\)"),
    (lambda: mg.stack([mg.ones(2), mg.ones(3)]), r"stack: tensor 1 has shape \(3,\)"),
    (lambda: mg.ones(3)[5], r"index: .*out of bounds.*\(tensor of shape \(3,\)\)"),
    (lambda: mg.ones(3)[mg.tensor([0, 7])], r"index: .*\(tensor of shape \(3,\)\)"),
    (lambda: mg.ones(3).index_select(0, mg.tensor([3])), r"index_select: index out of range for dim 0 of size 3"),
    (lambda: mg.ones(2).expand(3), r"broadcast_to: a tensor of shape \(2,\) cannot be broadcast to \(3,\)"),
    (lambda: mg.ones(2).split([1, 2]), r"split: sections \[1, 2\] do not add up to dim 0's size 2"),
    (lambda: mg.pad(mg.ones(2, 2), (1,)), r"pad: expected an even number of amounts"),
    (lambda: mg.pad(mg.ones(2, 2), (2, 2), mode="reflect"), r"pad: reflect padding \(2, 2\) must be smaller"),
    (lambda: mg.ones(2).mean() if False else mg.arange(3).mean(), r"mean: expected a floating-point tensor, got dtype int64"),
    (lambda: mg.where(mg.ones(2), mg.ones(2), mg.ones(2)), r"where: condition must be a bool tensor"),
    (lambda: mg.softmax(mg.ones(2)), r"softmax: dim is required"),
    (lambda: mg.clamp(mg.ones(2)), r"clamp: at least one of min and max"),
])
def test_errors_name_the_op_and_the_shapes(call, message):
    with pytest.raises((ValueError, TypeError, IndexError, RuntimeError), match=message):
        call()


def test_cuda_request_without_cupy_or_gpu_is_clear():
    if mg.cuda.is_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(RuntimeError, match="CUDA device was requested"):
        mg.zeros(2, device="cuda")
    assert backend.cuda_is_available() is False


def test_clamp_with_tensor_bounds_follows_pytorch_at_ties(torch):
    """x on a bound, lo == hi, and crossed bounds: the gradients go where PyTorch sends them."""
    x = np.array([0.5, 1.0, 2.0, 0.0, 3.0, 1.5])
    lo = np.array([0.5, 1.0, 1.0, 1.0, 2.0, 2.0])
    hi = np.array([1.0, 1.0, 2.0, 1.0, 1.0, 1.0])
    g = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    for bounds in ((lo, hi), (lo, None), (None, hi)):
        ours = [mg.tensor(x, requires_grad=True)] + [None if b is None else mg.tensor(b, requires_grad=True)
                                                      for b in bounds]
        theirs = [torch.tensor(x, requires_grad=True)] + [None if b is None else torch.tensor(b, requires_grad=True)
                                                          for b in bounds]
        y, yt = mg.clamp(*ours), torch.clamp(*theirs)
        y.backward(mg.tensor(g)), yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
        for a, b in zip(ours, theirs):
            if a is not None:
                np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
