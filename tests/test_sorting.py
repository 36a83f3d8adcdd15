"""The non-differentiable sorting and searching ops (argsort, unique, searchsorted, bincount,
nonzero) against PyTorch: their results are integers or sets, so the op registry's checks do
not apply; these cases do (ties, duplicates, batched sequences, empty results)."""
import numpy as np
import pytest

import minigrad as mg

X = np.array([[3.0, 1.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0]])

CASES = [
    ("argsort", lambda m, x: m.argsort(x), [X]),
    ("argsort_desc_dim0", lambda m, x: m.argsort(x, dim=0, descending=True, stable=True), [X]),
    ("argsort_desc_ties", lambda m, x: m.argsort(x, descending=True, stable=True), [X]),
    ("unique", lambda m, x: m.unique(x), [X]),
    ("unique_inverse_counts", lambda m, x: m.unique(x, return_inverse=True, return_counts=True), [X]),
    ("unique_dim", lambda m, x: m.unique(x, dim=1, return_inverse=True, return_counts=True),
     [np.array([[1.0, 0.0, 1.0], [2.0, 5.0, 2.0]])]),
    ("searchsorted", lambda m, s, v: m.searchsorted(s, v), [np.array([0.0, 1.0, 1.0, 3.0]), X]),
    ("searchsorted_right", lambda m, s, v: m.searchsorted(s, v, right=True), [np.array([0.0, 1.0, 1.0, 3.0]), X]),
    ("searchsorted_side", lambda m, s, v: m.searchsorted(s, v, side="right"), [np.array([0.0, 1.0, 1.0, 3.0]), X]),
    ("searchsorted_batched", lambda m, s, v: m.searchsorted(s, v),
     [np.array([[0.0, 1.0, 2.0], [-1.0, 2.0, 2.0]]), np.array([[1.5, 2.0], [2.0, -3.0]])]),
    ("bincount", lambda m, i: m.bincount(i), [np.array([0, 3, 3, 1])]),
    ("bincount_minlength", lambda m, i: m.bincount(i, minlength=7), [np.array([0, 3, 3, 1])]),
    ("bincount_weights", lambda m, i, w: m.bincount(i, w), [np.array([0, 3, 3, 1]), np.array([0.5, 1.0, 2.0, -1.0])]),
    ("nonzero", lambda m, x: m.nonzero(x), [X]),
    ("nonzero_tuple", lambda m, x: m.nonzero(x, as_tuple=True), [X]),
    ("nonzero_empty", lambda m, x: m.nonzero(x), [np.zeros((2, 3))]),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_matches_pytorch(name, fn, args, torch):
    ours = fn(mg, *[mg.tensor(a) for a in args])
    theirs = fn(torch, *[torch.as_tensor(a) for a in args])
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape), name
        assert str(o.dtype).replace("torch.", "") == str(t.dtype).replace("torch.", ""), name
        np.testing.assert_array_equal(o.numpy(), t.numpy(), err_msg=name)


def test_errors_name_the_op():
    with pytest.raises(ValueError, match="bincount"):
        mg.bincount(mg.tensor([1, -1]))
    with pytest.raises(ValueError, match="topk"):
        mg.topk(mg.tensor([1.0, 2.0]), 3)
    with pytest.raises(ValueError, match="kthvalue"):
        mg.kthvalue(mg.tensor([1.0, 2.0]), 0)
