"""What the op registry does not cover for ops/indexing.py and getitem: PyTorch's dimension
order when integers mix with index arrays in assignments, integer dtypes kept, and errors
that name the op and the offending shapes."""
import numpy as np
import pytest

import minigrad as mg

X = np.arange(2 * 3 * 5 * 4, dtype=np.float64).reshape(2, 3, 5, 4)
IDX = np.array([[0, 2], [1, 3]])


@pytest.mark.parametrize("index", [(1, slice(None), IDX), (0, slice(None), slice(1, 4, 2), IDX),
                                   (IDX % 2, 1), (slice(None), [0, 2], 1), (1, ..., [3, 0]),
                                   (0, slice(None), [0], None, np.array(1)),
                                   (range(2), [2, 0]), (1, range(1, 3), slice(None), range(2))],
                         ids=["int_slice_array", "slices_between", "array_int", "list_int", "ellipsis",
                              "zero_dim_array_is_an_int", "range_list", "int_range_slice_range"])
def test_setitem_and_getitem_follow_pytorch(index, torch):
    t_index = tuple(torch.as_tensor(p) if isinstance(p, np.ndarray) else p for p in index)
    ours, theirs = mg.tensor(X.copy()), torch.tensor(X.copy())
    np.testing.assert_array_equal(ours[index].numpy(), theirs[t_index].numpy())
    ours[index] = -1.0
    theirs[t_index] = -1.0
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_range_indexes_as_a_list_and_carries_gradient():
    """``logp[range(n), target]`` (the "What is torch.nn really?" tutorial's nll)."""
    logp = mg.tensor(X[0, 0], requires_grad=True)
    target = mg.tensor([1, 0, 3, 2, 2])
    picked = logp[range(target.shape[0]), target]
    np.testing.assert_array_equal(picked.detach().numpy(), X[0, 0][np.arange(5), [1, 0, 3, 2, 2]])
    (-picked.mean()).backward()
    expected = np.zeros((5, 4))
    expected[np.arange(5), [1, 0, 3, 2, 2]] = -0.2
    np.testing.assert_allclose(logp.grad.numpy(), expected)
    assert mg.tensor(X)[range(0)].shape == (0, 3, 5, 4)


def test_zero_dim_integer_index_is_an_int():
    # PyTorch selects with a 0-d integer tensor as with an int, so the list stays the only
    # advanced index and keeps its place (NumPy would pair it with the 0-d array and move it).
    x = mg.tensor(X)
    assert x[0, :, [0], None, mg.tensor(1)].shape == (3, 1, 1)
    assert x[mg.tensor(1)].shape == (3, 5, 4)
    np.testing.assert_array_equal(x[0, :, [0], None, np.array(1)].numpy(), X[0][:, [0]][:, :, None, 1])


def test_integer_tensors_keep_their_dtype():
    n = mg.tensor([[1, 2], [3, 4]])
    assert n.index_fill(0, [0], 7.5).dtype == np.int64
    assert n.scatter(1, mg.tensor([[1], [0]]), value=2.5).dtype == np.int64
    assert mg.scatter_add(n, 0, mg.tensor([[1, 1]]), mg.tensor([[5, 6]])).numpy().tolist() == [[1, 2], [8, 10]]
    assert n.flip(0).numpy().tolist() == [[3, 4], [1, 2]]


@pytest.mark.parametrize("dtype", ["bool", "int32", "uint8", "int64", "float32", "float64"])
@pytest.mark.parametrize("op", ["tril", "triu"])
def test_triangles_keep_the_dtype_as_torch(torch, op, dtype):
    """torch.tril(torch.ones(T, T, dtype=torch.bool)) is the causal-mask idiom: it stays bool
    (an int 0 filled in had promoted it to int64, which SDPA then refused)."""
    a = np.arange(12).reshape(3, 4) % 3 != 0 if dtype == "bool" else (np.arange(12).reshape(3, 4) + 1).astype(dtype)
    for diagonal in (-1, 0, 2):
        ours = getattr(mg, op)(mg.tensor(a), diagonal)
        theirs = getattr(torch, op)(torch.tensor(a), diagonal)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    causal = mg.tril(mg.ones(4, 4, dtype=mg.bool))
    q = mg.randn(2, 4, 8)
    out = mg.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=causal)
    ref = mg.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize("call,match", [
    (lambda: mg.gather(mg.ones(2, 3), 1, mg.tensor([[0, 3]])), "gather: index out of range"),
    (lambda: mg.gather(mg.ones(2, 3), 1, mg.tensor([0, 1])), "gather: index has 1 dims"),
    (lambda: mg.scatter_add(mg.ones(2, 3), 0, mg.tensor([[0, 1]]), mg.ones(1, 1)), "scatter_add: index of shape"),
    (lambda: mg.masked_fill(mg.ones(2, 3), mg.tensor([True, False]), 0.0), "masked_fill: mask of shape"),
    (lambda: mg.index_add(mg.ones(2, 3), 0, mg.tensor([0]), mg.ones(2, 3)), "index_add: source has shape"),
    (lambda: mg.diagonal(mg.ones(3)), "diagonal: expected at least 2 dims"),
    (lambda: mg.mm(mg.ones(2, 3), mg.ones(3)), "mm: mat2 must be 2-D"),
    (lambda: mg.einsum("ij,jk->ik", mg.ones(2, 3), mg.ones(2, 3)), "einsum: label 'j'"),
    (lambda: mg.cross(mg.ones(2, 2), mg.ones(2, 2)), "cross: no dimension of size 3"),
    (lambda: mg.scatter_reduce(mg.ones(2), 0, mg.tensor([0]), mg.ones(1), "median"), "scatter_reduce: reduce"),
])
def test_errors_name_the_op(call, match):
    with pytest.raises((ValueError, IndexError, TypeError), match=match):
        call()
