"""The tensor and top-level API as a test suite written against PyTorch calls it (``import minigrad
as torch``): each case runs the same expression on both libraries and compares values, dtypes,
shapes and exceptions; torch-free asserts pin the expected results too."""
import numpy as np
import pytest

import minigrad as mg

from helpers import assert_close


def _same(torch, expr):
    """Evaluate ``expr`` (with ``T`` the library) on PyTorch and minigrad and compare the results."""
    def run(T):
        return eval(expr, {"T": T, "np": np})

    theirs, ours = run(torch), run(mg)
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs), expr
        for a, b in zip(ours, theirs):
            _compare(a, b, expr)
    else:
        _compare(ours, theirs, expr)


def _compare(ours, theirs, expr):
    if hasattr(theirs, "detach"):
        assert str(theirs.dtype).replace("torch.", "") == ours.dtype.name.replace("bool_", "bool"), expr
        assert tuple(ours.shape) == tuple(theirs.shape), expr
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, err_msg=expr)
    else:
        assert ours == theirs, expr


# ----------------------------------------------------------------------------- creation
CREATION = [
    "T.zeros(size=(2, 3))", "T.ones(size=[2])", "T.empty(size=(2, 3)).shape", "T.rand(size=(2, 3)).shape",
    "T.randn(size=(4,), dtype=T.float64).dtype == T.float64", "T.zeros(size=(2,), dtype=T.int64)",
    "T.randint(10, (3,)).shape", "T.randint(high=10, size=(3,)).shape",
    "T.randint(3, 10, size=(2, 2)).dtype == T.int64",
    "T.arange(end=4)", "T.arange(T.tensor(5))", "T.arange(T.tensor(1.0), 3)",
    # sizes given as 0-d integer tensors (nn.CTCLoss's docstring: randint(size=(sum(target_lengths),)))
    "T.zeros(T.tensor(2), 3).shape", "T.ones((T.tensor(2), 1)).shape",
    "T.randint(1, 5, size=(T.tensor([3, 4]).sum(),)).shape",
]


@pytest.mark.parametrize("expr", CREATION)
def test_creation_matches_torch(torch, expr):
    _same(torch, expr)


def test_creation_keywords():
    assert mg.zeros(size=(2, 3)).shape == (2, 3) and mg.ones(size=[4]).dtype == mg.float32
    assert mg.rand(size=(2,)).shape == (2,) and mg.randn(size=(1, 2)).shape == (1, 2)
    with pytest.raises(TypeError, match="zeros.*not both"):
        mg.zeros(2, size=(2,))
    with pytest.raises(TypeError, match="unexpected keyword argument 'sise'"):
        mg.ones(sise=(2,))
    for bad in (mg.tensor(2.0), True, mg.tensor(-1)):
        with pytest.raises(ValueError, match="zeros: sizes must be non-negative integers"):
            mg.zeros(bad, 3)
    r = mg.randint(5, (100,))
    assert r.dtype == mg.int64 and 0 <= int(r.min()) and int(r.max()) < 5
    assert mg.arange(end=3).tolist() == [0, 1, 2] and mg.arange(mg.tensor(3)).dtype == mg.int64


def test_size():
    assert mg.zeros(2, 3).size() == mg.Size([2, 3]) and mg.zeros(2, 3).shape == mg.Size((2, 3))
    assert mg.Size([2, 3]).numel() == 6 and isinstance(mg.Size([2]), tuple)


def test_shape_is_a_size_as_torch(torch):
    """``.shape`` and ``.size()`` are Sizes; slices and sums of Sizes stay Sizes; items are ints."""
    for T in (torch, mg):
        x = T.zeros(2, 3, 4)
        assert type(x.shape).__name__ == "Size" and type(x.size()).__name__ == "Size"
        assert type(x.shape[1:]).__name__ == "Size" and x.shape[1:] == (3, 4) and type(x.shape[0]) is int
        assert type(x.shape + (5,)).__name__ == "Size" and x.shape + (5,) == (2, 3, 4, 5)
        assert x.shape.numel() == 24 and x.size(-1) == 4 and x.shape == (2, 3, 4)
    assert repr(mg.zeros(2, 3).shape) == "minigrad.Size([2, 3])"


def test_bernoulli(torch):
    p = mg.tensor([0.0, 1.0, 1.0, 0.0])
    assert mg.bernoulli(p).tolist() == [0.0, 1.0, 1.0, 0.0] and mg.bernoulli(p).dtype == mg.float32
    mg.manual_seed(0)
    draws = mg.bernoulli(mg.full((4000,), 0.25, dtype=mg.float64))
    assert draws.dtype == mg.float64 and abs(float(draws.mean()) - 0.25) < 0.03
    assert mg.bernoulli(mg.zeros(3), 1.0).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="bernoulli"):
        mg.bernoulli(mg.tensor([1.5]))
    assert torch.bernoulli(torch.tensor([0.0, 1.0])).tolist() == mg.bernoulli(mg.tensor([0.0, 1.0])).tolist()


# ----------------------------------------------------------------------------- arithmetic and reductions
ARITH = [
    "T.tensor([1., 2]).add(1, alpha=2)", "T.add(T.tensor([1., 2]), 3, alpha=2)", "T.sub(T.tensor([1, 2]), 3, alpha=2)",
    "T.tensor([1, 2]).mean(dtype=T.float32)", "T.tensor([[1, 2], [3, 5]]).mean(1, dtype=T.float64)",
    "T.where(T.tensor([[1, 0], [0, 1]]))", "T.where(T.tensor([[1., 0], [0, 1]]) > 0)",
    "T.arange(12).view(2, 6).split(split_size=4, dim=1)",
    "T.tensor([1, 2]).sum(dtype=T.int32)", "T.tensor([[1, 2]], dtype=T.int8).sum(1, dtype=T.int16)",
    "T.tensor([1, 2], dtype=T.uint8).sum()", "T.std(T.tensor([1., 5]), False)", "T.tensor([1., 5, 6]).var(True)",
    "T.tensor([1, 2]) == None", "T.tensor([1, 2]) != None", "T.tensor([1.]) == 'a'", "T.tensor([1, 2]) in [None, 'x']",
    # a Python int past a narrow integer type wraps into it, as PyTorch's (NumPy 2 would raise OverflowError)
    "T.tensor([1, -100], dtype=T.int8) + 1000", "T.tensor([1, 2], dtype=T.uint8) * -1",
    "1000 - T.tensor([3], dtype=T.int8)", "T.tensor([1, 2], dtype=T.uint8).add_(-1)",
    "T.tensor([1, 2], dtype=T.int8) > 1000", "T.tensor([1], dtype=T.int8) + 2 ** 63",
    # NumPy's axis= and keepdims= on the reductions, which PyTorch accepts
    "T.arange(6.).view(2, 3).sum(axis=1, keepdims=True)", "T.mean(T.arange(6.).view(2, 3), 1, keepdims=True)",
    "T.arange(6.).view(2, 3).std(axis=0, keepdims=True)", "T.arange(6.).view(2, 3).max(1, keepdims=True)",
    "T.amax(T.arange(6.).view(2, 3), axis=1)", "T.arange(6.).view(2, 3).argmin(axis=1, keepdims=True)",
    "T.logsumexp(T.arange(6.).view(2, 3), axis=1, keepdims=True)", "T.argmax(T.arange(6.).view(2, 3), axis=0)",
]


@pytest.mark.parametrize("expr", ARITH)
def test_arithmetic_matches_torch(torch, expr):
    _same(torch, expr)


def test_arithmetic_expected_values():
    assert mg.tensor([1.0, 2.0]).add(1, alpha=2).tolist() == [3.0, 4.0]
    assert mg.tensor([1, 2]).sub(1, alpha=2).tolist() == [-1, 0]
    assert mg.tensor([1, 2]).mean(dtype=mg.float64).dtype == mg.float64
    with pytest.raises(TypeError, match="mean"):
        mg.tensor([1, 2]).mean()
    assert mg.tensor([1, 2]).sum(dtype=mg.int32).dtype == mg.int32
    assert mg.tensor([1.0, 5.0]).std(False).item() == 2.0 and mg.var(mg.tensor([1.0, 5.0]), True).item() == 8.0
    rows, cols = mg.where(mg.tensor([[0, 3], [4, 0]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert (mg.tensor([1]) == None) is False and (mg.tensor([1]) != None) is True  # noqa: E711


# ----------------------------------------------------------------------------- shapes and views
def test_view_of_a_non_contiguous_tensor_raises(torch):
    for T in (torch, mg):
        t = T.arange(6).view(3, 2).t()
        with pytest.raises(RuntimeError, match="view"):
            t.view(-1)
        assert t.reshape(-1).tolist() == [0, 2, 4, 1, 3, 5]
        assert t.contiguous().view(6).tolist() == [0, 2, 4, 1, 3, 5]
        with pytest.raises(RuntimeError):
            T.arange(3).view(3, 1).expand(3, 2).view(6)
        assert T.arange(6).view(2, 3)[:, 1:].view(2, 2, 1).shape == (2, 2, 1)
    base = mg.arange(6)
    base.view(2, 3)[0].fill_(9)                  # a view shares memory with its base
    assert base.tolist() == [9, 9, 9, 3, 4, 5]


def test_cat_skips_empty_1d_tensors(torch):
    _same(torch, "T.cat([T.tensor([]), T.ones(2, 2), T.zeros(0)])")
    _same(torch, "T.cat([T.zeros(2, 1), T.zeros(0, dtype=T.int64)], 1)")
    x = mg.ones(2, 2, requires_grad=True)
    mg.cat([mg.tensor([]), x, x]).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.raises(ValueError, match="cat"):
        mg.cat([mg.zeros(2, 1), mg.zeros(3)], 1)


def test_cat_and_stack_take_numpys_axis_as_pytorch(torch):
    _same(torch, "T.cat([T.ones(2, 1), T.zeros(2, 2)], axis=1)")
    _same(torch, "T.concatenate([T.ones(2, 1), T.zeros(2, 1)], axis=-1)")
    _same(torch, "T.stack([T.ones(2), T.zeros(2)], axis=1)")
    with pytest.raises(TypeError, match="stack: pass dim or axis"):
        mg.stack([mg.ones(2)], 0, axis=0)


# ----------------------------------------------------------------------------- out=
OUT = [
    ("T.matmul", "T.ones(2, 3), T.arange(6.).view(3, 2)", (2, 2)),            # the Tensors tutorial's two calls
    ("T.mul", "T.arange(4.).view(2, 2), T.arange(4.).view(2, 2)", (2, 2)),
    ("T.add", "T.ones(3), T.arange(3.), alpha=2", (3,)),
    ("T.div", "T.arange(3), 2", (3,)),
    ("T.exp", "T.arange(3.)", (3,)),
    ("T.sum", "T.arange(6.).view(2, 3), 1", (2,)),
    ("T.cat", "[T.ones(2), T.zeros(1)]", (0,)),                               # an empty out is resized
    ("T.stack", "[T.ones(2), T.zeros(2)], 1", (2, 2)),
    ("T.clamp", "T.arange(4.), 1, 2", (4,)),
    ("T.where", "T.arange(3) > 0, T.ones(3), T.zeros(3)", (3,)),
]


@pytest.mark.parametrize("fn, args, shape", OUT, ids=[o[0][2:] for o in OUT])
def test_out_keyword_writes_into_the_given_tensor_as_pytorch(torch, fn, args, shape):
    results = []
    for T in (torch, mg):
        out = T.full(shape, -1.0)
        memory = out.numpy() if shape != (0,) else None     # the numpy bridge sees what out= wrote
        got = eval(f"{fn}({args}, out=out)", {"T": T, "out": out})
        assert got is out
        results.append((out.numpy().copy(), out.numpy().copy() if memory is None else memory.copy()))
    (theirs, t_mem), (ours, o_mem) = results
    np.testing.assert_allclose(ours, theirs)
    np.testing.assert_allclose(o_mem, t_mem)


def test_functions_taking_out_still_pickle_by_name():
    import pickle
    for fn in (mg.stack, mg.add, mg.concat, mg.sum):      # a collate_fn sent to a worker process is pickled
        assert pickle.loads(pickle.dumps(fn)) is fn


def test_out_keyword_follows_pytorchs_rules(torch):
    for T in (torch, mg):
        x = T.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
            T.exp(x, out=T.empty(3))
        with T.no_grad():
            assert T.exp(x, out=T.empty(3)).requires_grad is False
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            T.add(T.ones(2), 0.5, out=T.zeros(2, dtype=T.int64))
        assert T.add(T.ones(2, dtype=T.int64), 1, out=T.zeros(2)).dtype == T.float32
        with pytest.warns(UserWarning, match="resized"):
            assert T.mul(T.ones(2, 2), 3, out=T.zeros(3)).shape == (2, 2)


# ----------------------------------------------------------------------------- printing
@pytest.mark.parametrize("expr", [
    "repr(T.tensor(1.5))", "repr(T.tensor([1.5, 200.25]))", "repr(T.tensor([1., 2.]))", "repr(T.tensor([1e-5, 1.]))",
    "repr(T.tensor([float('nan'), 1.5]))", "repr(T.tensor([[0.25, 1.], [2., 3.]]))",
    "f'{T.tensor(3.5)}'", "f'{T.tensor(2.0) / 3:.3f}'", "f'{T.tensor(7):>4}'", "'{:.2e}'.format(T.tensor(1234.5))",
    # PyTorch's number formats: whole floats over 1e8 or spanning 1000x go scientific with 4 digits,
    # nan/inf pad nothing, bools and integers pad to the widest, one format for the whole tensor
    "repr(T.tensor([1e10, 1.]))", "repr(T.tensor([1., 1e4]))", "repr(T.tensor(1e20))", "repr(T.tensor([12345678.]))",
    "repr(T.tensor([True]))", "repr(T.tensor([[True], [False]]))", "repr(T.tensor([1., float('nan')]))",
    "repr(T.tensor([float('inf'), -float('inf')]))", "repr(T.tensor([-0., 0.]))", "repr(T.tensor([1, -2 ** 40]))",
    "repr(T.tensor([1., 2., 3.5e5]))", "repr(T.tensor([[1e-3, 1.], [2., 3.]]))",
    # layout: blank lines between blocks, rows wrapped at 80 columns, summaries of over 1000 elements
    "repr(T.arange(24.).view(2, 3, 4))", "repr(T.arange(100.).view(1, 100) * 1.5)", "repr(T.arange(1200.))",
    "repr(T.arange(3000.).view(3, 1000))", "repr(T.arange(3000).view(3, 10, 100))",
    "repr(T.zeros(2, 0))", "repr(T.tensor([]))", "repr(T.ones(2, 1, 1, 2))",
])
def test_printing_matches_torch(torch, expr):
    _same(torch, expr)


def test_format_of_a_scalar_tensor():
    assert f"{mg.tensor(2.0) / 3:.4f}" == "0.6667" and f"{mg.tensor(5)}" == "5"
    assert repr(mg.tensor(1.5)) == "tensor(1.5000)" and repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    with pytest.raises(TypeError):
        f"{mg.tensor([1.0, 2.0]):.2f}"


# ----------------------------------------------------------------------------- testing.assert_close
ASSERT_CLOSE = [
    "ac(T.tensor([1., 2, 3]), T.tensor([1., 2, 3.1]))", "ac(T.tensor([1, 2, 3]), T.tensor([1, 2, 4]))",
    "ac(T.tensor([True]), T.tensor([False]))", "ac(T.tensor([1., 2]), T.tensor([1., 2, 3]))",
    "ac(T.tensor([1., 2]), T.tensor([1., 2], dtype=T.float64))",
    "ac(T.tensor([1., 2]), T.tensor([1., 2.00001], dtype=T.float64), check_dtype=False)",
    "ac(1.0, 1.1)", "ac(1, 2)", "ac(1.0, 1)", "ac(True, False)", "ac([1.0, 2.0], [1.0, 2.1])", "ac((1, 2), [1, 2])",
    "ac([1, 2], [1, 2, 3])", "ac([T.tensor(1.0), T.tensor(2.0)], [T.tensor(1.0), T.tensor(2.5)])",
    "ac({'a': T.tensor(1.0)}, {'a': T.tensor(2.0)})", "ac({'a': T.tensor(1.0)}, {'b': T.tensor(2.0)})",
    "ac(T.tensor([1., 2]), T.tensor([1., 2.5]), msg='custom')",
    "ac(T.tensor([1., 2]), T.tensor([1., 2.5]), msg=lambda m: 'X' + m[:10])",
    "ac(T.tensor([1., 2]), T.tensor([1., 2.5]), rtol=0)",
    "ac(T.tensor([1., 2]), T.tensor([1., 2.5]), rtol=0, atol=0.6)",
    "ac(T.tensor([1., 2]), T.tensor([1., 2.5]), rtol=0, atol=0)",
    "ac(T.tensor([1., float('nan')]), T.tensor([1., float('nan')]))",
    "ac(T.tensor([1., float('nan')]), T.tensor([1., float('nan')]), equal_nan=True)",
    "ac(T.tensor([[1., 2], [3, 4]]), T.tensor([[1., 2], [3, 5]]))", "ac(T.tensor(1), T.tensor(2))",
    "ac(T.tensor([1., 2], requires_grad=True), T.tensor([1., 2]))", "ac(np.array([1., 2]), np.array([1., 3.]))",
    "ac(T.tensor([0., 2]), T.tensor([1e-6, 2.]))", "ac(T.tensor([float('inf')]), T.tensor([float('-inf')]))",
    "ac(T.tensor([1., 2]), T.tensor([float('inf'), 2.]))", "ac(T.tensor([float('inf')]), T.tensor([float('inf')]))",
    "ac(T.tensor([1, 2], dtype=T.int32), T.tensor([1, 2]), check_dtype=False)",
    "ac(T.tensor([1.0, 2], dtype=T.float16), T.tensor([1.0, 2.001], dtype=T.float16))",
    "ac(T.tensor([1.0, 2], dtype=T.float16), T.tensor([1.0, 2.01], dtype=T.float16))",
    "ac(T.zeros(0), T.zeros(0))", "ac(None, None)", "ac(T.tensor([1., 2]), None)",
    "ac(T.tensor([1, 200], dtype=T.uint8), T.tensor([3, 100], dtype=T.uint8))",
]


def _outcome(T, expr):
    try:
        eval(expr, {"T": T, "ac": T.testing.assert_close, "np": np})
        return "passed"
    except (AssertionError, ValueError, TypeError) as e:
        return f"{type(e).__name__}: {e}".replace("torch.Size", "minigrad.Size").replace("torch.", "")


@pytest.mark.parametrize("expr", ASSERT_CLOSE)
def test_assert_close_matches_torch(torch, expr):
    assert _outcome(mg, expr) == _outcome(torch, expr)


def test_assert_close():
    ac = mg.testing.assert_close
    ac(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0 + 1e-6]))            # float32: rtol 1.3e-6, atol 1e-5
    ac(mg.tensor([1.0], dtype=mg.float64), mg.tensor([1.0 + 5e-8], dtype=mg.float64))
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 2 \(50.0%\)\nGreatest absolute difference: "
                                             r"0.5 at index \(1,\) \(up to 1e-05 allowed\)"):
        ac(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.5]))
    with pytest.raises(AssertionError, match="attribute 'dtype' do not match: float32 != float64"):
        ac(mg.tensor([1.0]), mg.tensor([1.0], dtype=mg.float64))
    with pytest.raises(AssertionError, match=r"not equal!"):
        ac(mg.tensor([1, 2]), mg.tensor([1, 3]))
    with pytest.raises(AssertionError, match=r"for item \[1\]\['w'\]"):
        ac([1.0, {"w": mg.tensor(1.0)}], [1.0, {"w": mg.tensor(2.0)}])
    with pytest.raises(TypeError, match="No comparison pair"):
        ac(mg.tensor([1.0]), [1.0])
    with pytest.raises(ValueError, match="no atol"):
        ac(mg.tensor([1.0]), mg.tensor([1.0]), rtol=0.1)


# ----------------------------------------------------------------------------- grad mode, gradcheck, generators
def test_set_grad_enabled_called_alone_switches_at_once(torch):
    for T in (torch, mg):
        x = T.ones(2, requires_grad=True)
        try:
            T.set_grad_enabled(False)
            assert not T.is_grad_enabled() and not (x * 2).requires_grad
        finally:
            T.set_grad_enabled(True)
        assert T.is_grad_enabled() and (x * 2).requires_grad
        with T.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert T.is_grad_enabled()
        with T.no_grad():
            with T.set_grad_enabled(True):
                assert (x * 2).requires_grad
            assert not T.is_grad_enabled()
        assert T.is_grad_enabled()

        @T.set_grad_enabled(False)
        def f(t):
            return (t * 2).requires_grad

        assert T.is_grad_enabled() and f(x) is False and T.is_grad_enabled()


def test_autograd_gradcheck_names():
    x = mg.ones(3, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
    assert mg.autograd.gradgradcheck(lambda t: (t * t * t).sum(), (x,))
    with pytest.raises(AttributeError):
        mg.autograd.no_such_name


def test_default_generator_is_the_one_manual_seed_reseeds():
    mg.manual_seed(11)
    assert mg.default_generator.initial_seed() == 11
    state = mg.default_generator.get_state()
    a = mg.rand(3)
    mg.default_generator.set_state(state)
    assert mg.rand(3).tolist() == a.tolist()


def test_fork_rng_restores_the_stream_as_torch(torch):
    """torch.random.fork_rng: draws inside the block leave the draws after it as they were
    (also when the block raises); enabled=False forks nothing."""
    def after(T, enabled=True, raise_inside=False):
        T.manual_seed(3)
        first = T.rand(2).tolist()
        try:
            with T.random.fork_rng(enabled=enabled):
                T.rand(5)
                if raise_inside:
                    raise KeyError
        except KeyError:
            pass
        return first, T.rand(2).tolist()
    for T in (torch, mg):
        T.manual_seed(3)
        reference = T.rand(4).tolist()
        assert after(T) == (reference[:2], reference[2:]) == after(T, raise_inside=True)
        assert after(T, enabled=False)[1] != reference[2:]
    mg.random.manual_seed(5)
    assert mg.random.initial_seed() == 5 and mg.random.get_rng_state()["seed"] == 5


def test_seed_everything_idiom_runs_without_a_gpu(torch):
    """The lines a seeding helper and a device pick run on any machine: torch.cuda's seeding is
    ignored without a GPU, torch.backends' switches are set and read back, there is no MPS."""
    for T in (torch, mg):
        T.manual_seed(0)
        T.cuda.manual_seed(0)
        T.cuda.manual_seed_all(0)
        T.cuda.empty_cache()
        T.backends.cudnn.deterministic, T.backends.cudnn.benchmark = True, False
        T.backends.cuda.matmul.allow_tf32 = False
        assert T.backends.cudnn.deterministic and not T.backends.cudnn.benchmark
        T.backends.cudnn.deterministic = False
        device = "cuda" if T.cuda.is_available() else "mps" if T.backends.mps.is_available() else "cpu"
        assert device == ("cuda" if T.cuda.is_available() else "cpu")
        acc = T.accelerator.current_accelerator().type if T.accelerator.is_available() else "cpu"
        assert acc == ("cuda" if T.cuda.is_available() else "cpu")
    import minigrad.backends.cudnn as cudnn
    assert cudnn is mg.backends.cudnn and not cudnn.is_available()


@pytest.mark.parametrize("expr", [
    "T.FloatTensor([1, 2])", "T.LongTensor([1.0, 2.0])", "T.DoubleTensor([[1, 2]])", "T.IntTensor([1])",
    "T.ByteTensor([1, 2])", "T.BoolTensor([1, 0])", "T.FloatTensor(2, 3).shape", "T.LongTensor().shape",
    "T.FloatTensor(T.Size([2, 3])).shape", "isinstance(T.zeros(1), T.FloatTensor)",
    "isinstance(T.zeros(1), T.LongTensor)", "isinstance(T.tensor([1]), T.LongTensor)", "T.ones(2).type(T.LongTensor)",
])
def test_legacy_tensor_types_match_torch(torch, expr):
    _same(torch, expr)


def test_legacy_tensor_types():
    assert mg.FloatTensor([1, 2]).dtype == mg.float32 and mg.LongTensor(2, 3).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert isinstance(mg.tensor([True]), mg.BoolTensor) and not isinstance(mg.tensor([1.0]), mg.DoubleTensor)
    with pytest.raises(TypeError, match="FloatTensor"):
        mg.FloatTensor([1], [2])


@pytest.mark.parametrize("expr", [
    "T.Tensor([1, 2])", "T.Tensor([[1.5, 2]])", "T.Tensor(2, 3).shape", "T.Tensor(2, 3).dtype == T.float32",
    "T.Tensor().shape", "T.Tensor([True, False])", "T.Tensor([3.5]).dtype == T.float32",
    "T.tensor([1, 2])", "T.zeros(2).new_tensor([1, 2])",
])
def test_legacy_tensor_constructor_matches_torch(torch, expr):
    _same(torch, expr)


def test_legacy_tensor_constructor():
    assert mg.Tensor([1, 2]).dtype == mg.float32 and mg.Tensor(2, 3).tolist() == [[0.0] * 3] * 2
    assert mg.Tensor().shape == (0,) and mg.Tensor([1, 2], dtype=mg.int64).dtype == mg.int64
    assert mg.Tensor(np.arange(3)).dtype == mg.int64           # arrays keep their dtype (PyTorch: float32)
    assert mg.tensor([1, 2]).dtype == mg.int64 and mg.add(mg.ones(2), [1, 2]).dtype == mg.float32
    with pytest.raises(TypeError, match="Tensor"):
        mg.Tensor([1], [2])


@pytest.mark.parametrize("expr", [
    "T.ones(2, 3) + T.ones(3, 2)", "T.ones(2, 3) * T.ones(4)", "T.ones(2, 3) @ T.ones(2, 3)",
    "T.mm(T.ones(2, 3), T.ones(2, 3))",
    "T.ones(2).dot(T.ones(3))", "T.ones(2, 3).view(4)", "T.ones(2, 3).reshape(5)", "T.ones(2, 3).view(-1, -1)",
    "T.arange(6).view(3, 2).t().view(-1)", "T.cat([T.ones(2, 3), T.ones(3, 2)])", "T.stack([T.ones(2), T.ones(3)])",
    "T.ones(2, 3).expand(3, 3)", "T.ones(3).expand(3, 2)", "T.arange(10).split([2, 3])", "T.ones(2, 3).permute(0, 0)",
    "T.nn.functional.linear(T.ones(2, 3), T.ones(4, 2))", "T.nn.Linear(3, 4)(T.ones(2, 5))",
    # argument checks that PyTorch makes in C++ (RuntimeError), minigrad's ArgumentError
    "T.nn.Conv2d(3, 4, 3)(T.ones(1, 2, 8, 8))", "T.nn.functional.mse_loss(T.ones(2, 3), T.ones(3, 2))",
    "T.ones(4).split(0)", "T.ones(4).chunk(0)", "T.ones(2, 3).flatten(1, 0)", "T.zeros(-1)", "T.randn(-2)",
    "T.arange(0, 5, 0)", "T.nn.LayerNorm(4)(T.ones(2, 3))", "T.nn.BatchNorm1d(4)(T.ones(2, 3))",
    "T.nn.functional.pad(T.ones(2, 3), (1,))", "T.nn.functional.max_pool2d(T.ones(1, 1, 2, 2), 5)",
    "T.ones(3).topk(5)", "T.ones(2, 3).repeat(2)", "T.nn.functional.one_hot(T.tensor([-1]))",
    "T.multinomial(T.tensor([-1.0, 1.0]), 1)", "T.ones(2, 3).__setitem__(0, T.ones(4))", "T.dot(T.ones(2, 2), T.ones(2))",
])
def test_shape_errors_are_runtime_errors_as_in_torch(torch, expr):
    _raises_as_torch(torch, expr, ValueError)           # and still ValueErrors, as minigrad's tests expect


def _raises_as_torch(torch, expr, python_class):
    """Both libraries raise RuntimeError on ``expr``; minigrad's is also ``python_class``."""
    for T in (torch, mg):
        with pytest.raises(RuntimeError):
            eval(expr, {"T": T})
    with pytest.raises(python_class):
        eval(expr, {"T": mg})


@pytest.mark.parametrize("expr", [
    "T.tensor([1, 2]).mean()", "T.tensor([1, 2]).std()", "T.ones(2, 2) @ T.ones(2, 2, dtype=T.int64)",
    "T.ones(2, 3).masked_fill(T.ones(2, 3), 0)", "T.where(T.ones(2), T.ones(2), T.ones(2))",
    "T.ones(3).gather(0, T.tensor([0.0]))", "T.tensor([2, 3]) ** -1", "T.pow(T.tensor([2], dtype=T.short), -2)",
    "T.tensor([True]) - T.tensor([False])", "T.tensor([True]) - 1", "True - T.tensor([True])", "-T.tensor([True])",
    "T.sub(T.tensor([True]), T.tensor([True]))", "T.nn.functional.nll_loss(T.ones(2, 3), T.ones(2))",
])
def test_dtype_errors_are_runtime_errors_as_in_torch(torch, expr):
    _raises_as_torch(torch, expr, TypeError)


@pytest.mark.parametrize("expr", [
    "T.ones(2, 3).gather(1, T.tensor([[0, 7, 1], [0, 0, 0]]))", "T.ones(3).scatter(0, T.tensor([5]), 1.0)",
    "T.ones(3).scatter_add(0, T.tensor([5]), T.ones(1))",
])
def test_index_range_errors_of_gathers_are_runtime_errors_as_in_torch(torch, expr):
    _raises_as_torch(torch, expr, IndexError)


def test_set_printoptions_changes_repr(torch):
    exprs = ["repr(T.tensor([1.2345, 2.0]))", "repr(T.tensor(1.23456))", "repr(T.tensor([1e-6, 1.]))",
             "'...' in repr(T.arange(10.))"]
    exprs += ["repr(T.tensor([1e10, 1.]))", "repr(T.tensor([1.5, 2.]))", "repr(T.arange(12.).view(3, 4) * 1.5)"]
    settings = [dict(precision=2), dict(threshold=5), dict(sci_mode=False), dict(sci_mode=True),
                dict(profile="default"), dict(edgeitems=1, threshold=3, linewidth=20), dict(edgeitems=0),
                dict(profile="default")]
    try:
        for options in settings:
            torch.set_printoptions(**options)
            mg.set_printoptions(**options)
            for expr in exprs:
                _same(torch, expr)
    finally:
        torch.set_printoptions(profile="default")
        mg.set_printoptions(profile="default")
    assert repr(mg.tensor([1.2345, 2.0])) == "tensor([1.2345, 2.0000])"


def test_grad_mode_switches_as_bare_decorators(torch):
    for T in (torch, mg):
        @T.no_grad
        def f(x):
            return (x * 2).requires_grad

        @T.enable_grad
        def g():
            return T.is_grad_enabled()

        @T.inference_mode
        def h():
            return T.is_inference_mode_enabled()

        assert f(T.ones(2, requires_grad=True)) is False and f.__name__ == "f"
        with T.no_grad():
            assert g() is True
        assert h() is True and T.is_grad_enabled() and not T.is_inference_mode_enabled()


@pytest.mark.parametrize("expr", [
    "T.zeros(3, 3).fill_diagonal_(2)", "T.zeros(5, 2).fill_diagonal_(1, wrap=True)",
    "T.zeros(2, 2, 2).fill_diagonal_(4)",
    "T.zeros(3).index_put_((T.tensor([0, 0, 2]),), T.tensor(1.), accumulate=True)",
    "T.zeros(2, 2).index_put_((T.tensor([0, 1]), T.tensor([1, 0])), T.tensor([5., 6.]))",
    "T.zeros(3).index_put((T.tensor([1]),), T.tensor(2.))", "T.zeros(3).get_device()",
    "T.tensor([2., 3]).multiply(2)", "T.tensor([2., 3]).subtract(1, alpha=2)", "T.zeros(3).bernoulli()",
    "T.tensor([[0., 1.], [1., 0.]]).multinomial(1)", "isinstance(T.zeros(1).dtype, T.dtype)",
])
def test_tensor_methods_match_torch(torch, expr):
    _same(torch, expr)


def test_index_put_accumulate_is_differentiable():
    x = mg.zeros(3, requires_grad=True)
    v = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone().index_put_((mg.tensor([0, 0, 2]),), v, accumulate=True)
    assert y.tolist() == [3.0, 0.0, 3.0]
    (y * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0] and v.grad.tolist() == [1.0, 1.0, 3.0]
    w = mg.ones(2, 2, requires_grad=True)
    w.clone().fill_diagonal_(5.0).sum().backward()
    assert w.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]


# ----------------------------------------------------------------------------- device selection and seeding
DEVICE_PICKS = [
    "T.accelerator.current_accelerator().type if T.accelerator.is_available() else 'cpu'",   # PyTorch's tutorials
    "'cuda' if T.cuda.is_available() else 'mps' if T.backends.mps.is_available() else 'cpu'",
]


@pytest.mark.parametrize("expr", DEVICE_PICKS)
def test_tutorial_device_picks_run(torch, expr):
    for T in (torch, mg):
        device = eval(expr, {"T": T})
        assert T.ones(2).to(device).sum().item() == 2.0
    if not mg.cuda.is_available():
        assert eval(expr, {"T": mg}) == "cpu"


def test_accelerator_without_a_gpu():
    """Beside the seeding idiom above: torch.accelerator's answers and cuda.current_device's error."""
    assert mg.accelerator.device_count() == mg.cuda.device_count()
    if not mg.cuda.is_available():
        assert mg.accelerator.current_accelerator() is None
        with pytest.raises(RuntimeError, match="CuPy"):
            mg.cuda.current_device()


# ----------------------------------------------------------------------------- return types
RETURN_TYPES = ["x.max(1)", "x.min(1)", "T.max(x, 0, keepdim=True)", "x.median(1)", "x.cummax(1)", "x.sort(1)",
                "x.topk(1)", "x.kthvalue(1, 1)", "x.mode(1)", "x.nanmedian(1)", "x.aminmax()", "T.tensor(3.).max(0)"]


@pytest.mark.parametrize("expr", RETURN_TYPES)
def test_values_and_indices_print_and_pickle_as_pytorchs_return_types(torch, expr):
    import pickle
    results = []
    for T in (torch, mg):
        r = eval(expr, {"T": T, "x": T.arange(6.0).view(2, 3)})
        again = pickle.loads(pickle.dumps(r))
        assert type(again) is type(r) and len(r) == 2
        results.append((repr(r).replace("torch.", "").replace("minigrad.", ""), type(r).__name__))
    assert results[0] == results[1]


# ----------------------------------------------------------------------------- PyTorch's documentation examples
# Cases from the ``>>>`` examples of torch.* and Tensor docstrings where minigrad differed (run side by side).
DOC_EXAMPLES = [
    # the math constants and newaxis
    "T.pi", "T.e", "T.inf", "bool(np.isnan(T.nan))", "T.newaxis is None", "T.aminmax(T.tensor([1, -3, 5, T.nan]))",
    "T.equal(T.tensor([3, T.nan]), T.tensor([3, T.nan]))", "T.zeros(2)[T.newaxis].shape == (1, 2)",
    # kron, outer and inner with a 0-d operand promote dtypes as * does
    "T.kron(T.ones(2, 2), T.tensor([[1, 2], [3, 4]]))", "T.outer(T.ones(2, dtype=T.int32), T.tensor([1.5, 2.]))",
    "T.inner(T.tensor([1., 2.]), T.tensor(2))", "T.ger(T.tensor([1, 2]), T.tensor([0.5]))",
    # out= on the comparisons, the logical ops and the rest of the one-result elementwise functions
    "T.logical_and(T.tensor([1, 0, 1]), T.tensor([1., 1., 0.]), out=T.empty(3, dtype=T.bool))",
    "T.logical_xor(T.tensor([True, False]), T.tensor([True, True]), out=T.empty(2, dtype=T.bool))",
    "T.logical_not(T.tensor([0., 1., -10.], dtype=T.double), out=T.empty(3, dtype=T.bool))",
    "T.greater(T.tensor([1., 3.]), 2, out=T.empty(2, dtype=T.bool))",
    "T.eq(T.tensor([1, 2]), T.tensor([1, 3]), out=T.empty(0, dtype=T.bool))",
    "T.log1p(T.tensor([0., 1.]), out=T.empty(2))", "T.tril(T.ones(3, 3), out=T.empty(3, 3))",
    "T.vstack([T.ones(2), T.zeros(2)], out=T.empty(2, 2))",
    "T.gather(T.tensor([[1, 2], [3, 4]]), 1, T.tensor([[0, 0], [1, 0]]), out=T.empty(2, 2, dtype=T.long))",
    # repeat_interleave's one-argument form
    "T.repeat_interleave(T.tensor([1, 2, 3]))", "T.repeat_interleave(T.tensor([0, 2]))",
    # masked_scatter broadcasts input and mask
    "T.tensor([0, 0, 0, 0, 0]).masked_scatter(T.tensor([[0, 0, 0, 1, 1], [1, 1, 0, 1, 1]], dtype=T.bool), "
    "T.tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]))",
    "T.masked_scatter(T.zeros(2, 1), T.tensor([True, False, True]), T.arange(1., 7.))",
    # scatter_ of a number with reduce=
    "T.full((2, 4), 2.).scatter_(1, T.tensor([[2], [3]]), 1.23, reduce='multiply')",
    "T.full((2, 4), 2.).scatter(1, T.tensor([[2], [3]]), 1.23, reduce='add')",
    "T.zeros(3, dtype=T.long).scatter(0, T.tensor([1, 1, 2]), 3, reduce='add')",
    # view(dtype): the same bytes read as another dtype
    "T.tensor([[1., 2., 3.], [4., 5., 6.]]).view(T.int32)", "T.tensor([1., -2.]).view(T.int16)",
    "T.arange(4, dtype=T.int32).view(T.float32)", "T.ones(2, 4).view(T.float64)", "T.ones(4).view(T.uint8)",
    "T.ones(3, requires_grad=True).view(T.float32).requires_grad", "T.tensor([1., 2.]).view(dtype=T.int32)",
    "T.tensor([1., 2.]).to_dense()", "T.tensor([1., 2.]).to_dense(T.float64)", "T.tensor([1., 2.]).to_dense(dtype=T.int64)",
    # einsum's sublist form
    "T.einsum(T.arange(24.).reshape(3, 2, 4), [..., 0, 1], T.arange(60.).reshape(3, 4, 5), [..., 1, 2], [..., 0, 2])",
    "T.einsum(T.arange(6.).reshape(2, 3), [0, 1], T.arange(3.), [1])",
    "T.einsum(T.arange(6.).reshape(2, 3), [0, 1], [1, 0])",
]


@pytest.mark.parametrize("expr", DOC_EXAMPLES)
def test_doc_examples_match_torch(torch, expr):
    _same(torch, expr)


@pytest.mark.parametrize("expr", [
    "T.inner(T.ones(2, 2), T.ones(2, 2, dtype=T.long))",         # a contraction wants one dtype
    "T.repeat_interleave(T.tensor(3))", "T.repeat_interleave(T.tensor([1., 2.]))",
    "T.zeros(3).scatter(0, T.tensor([1]), 3., reduce='sum')",
    "T.ones(3).view(T.float64)", "T.ones(4, 2).t().view(T.int16)", "T.tensor(1.).view(T.int16)",
    "T.zeros(5).masked_scatter_(T.ones(2, 5, dtype=T.bool), T.arange(10.))",
    "T.einsum(T.ones(2), [52])",
])
def test_doc_example_errors_match_torch(torch, expr):
    for T in (torch, mg):
        with pytest.raises(Exception):
            eval(expr, {"T": T, "np": np})


def test_view_dtype_shares_memory_and_has_no_gradient():
    a = mg.zeros(2, requires_grad=True)
    with mg.no_grad():
        b = a.view(mg.int32)
        b[0] = 1065353216                                    # the bits of 1.0f
    assert a.tolist() == [1.0, 0.0] and not b.requires_grad


def test_masked_scatter_broadcast_gradients_match_torch(torch):
    def run(T):
        x = T.tensor([0., 0., 0., 0., 0.], requires_grad=True)
        src = T.arange(10.).reshape(2, 5).requires_grad_()
        mask = T.tensor([[0, 0, 0, 1, 1], [1, 1, 0, 1, 1]], dtype=T.bool)
        (x.masked_scatter(mask, src) * T.arange(10.).reshape(2, 5)).sum().backward()
        return x.grad.numpy(), src.grad.numpy()
    for ours, theirs in zip(run(mg), run(torch)):
        np.testing.assert_allclose(ours, theirs)


# Results on 0-d inputs that came back as NumPy scalars inside a Tensor (repr and .numpy() failed), and
# dtype slips found by running the same examples: each compared with torch.
ZERO_D_AND_DTYPES = [
    "T.linalg.matrix_rank(T.eye(10))", "T.frexp(T.tensor(8.))", "T.normal(T.tensor(2.), 0.)",
    "T.tensor(3).sign()", "T.tensor(-3).sgn()", "T.tensor(0.5).bernoulli(1.0)", "T.bernoulli(T.tensor(1.))",
    "T.searchsorted(T.tensor([1., 2., 3.]), T.tensor(2.))", "T.searchsorted(T.tensor([1., 2., 3.]), 2.5)",
    "T.searchsorted(T.tensor([1., 2., 3.]), 2.5, out_int32=True)",
    "T.xlogy(T.tensor([0., 2., 3.]), 4)", "T.special.xlogy(T.tensor([1., 2.]), 4)",
    "T.special.xlog1py(T.tensor([0., 2.]), 3)", "T.xlogy(T.tensor([1, 2]), 2)",
    "T.xlogy(T.tensor([1., 2.]), T.tensor(2., dtype=T.float64))", "T.xlogy(0., T.tensor([1., 2.]))",
    "T.i0(T.arange(5, dtype=T.float32))", "T.i0(T.arange(3.), out=T.empty(3))",
    "T.special.erf(T.tensor([0.5, 1.]), out=T.empty(2))", "T.special.i0(T.tensor([1.]), out=T.empty(1))",
]


@pytest.mark.parametrize("expr", ZERO_D_AND_DTYPES)
def test_zero_d_results_and_dtypes_match_torch(torch, expr):
    _same(torch, expr)
    out = eval(expr, {"T": mg, "np": np})
    for t in (out if isinstance(out, tuple) else (out,)):
        assert isinstance(t._data, np.ndarray) and repr(t)          # a 0-d array, never a NumPy scalar


# Found by running torch.* and minigrad.* side by side on small float, integer, bool and 0-d inputs.
SIDE_BY_SIDE = [
    "T.nansum(T.tensor(2.5))", "T.nansum(T.tensor(2.5), 0)", "T.nanmean(T.tensor(2.5))", "T.tensor(2.5).nanmean(-1)",
    "T.relu(T.tensor([-1, 2]))", "T.relu(T.tensor(-3))", "T.tensor([-1, 2]).relu()", "T.tensor([-1, 2]).relu_()",
    "T.nn.functional.relu(T.tensor([-1, 2], dtype=T.int32))", "T.relu(T.tensor([1., -2.]))",
    "T.sign(T.tensor([True, False]))", "T.sgn(T.tensor([True, False]))", "T.tensor(True).sign()",
    "T.argwhere(T.tensor(2.5))", "T.argwhere(T.tensor(0.))", "T.nonzero(T.tensor(2.5))",
    "T.zeros(T.tensor(3))", "T.zeros(T.tensor(3), 2)", "T.ones((T.tensor(2), 3))", "T.eye(T.tensor(2))",
    "T.full((T.tensor(2),), 1.)", "T.randn(T.tensor(2)).shape", "T.empty(T.tensor(2)).shape",
    "T.nanmedian(T.tensor([1, 2, 3]))", "T.nanmedian(T.tensor([[1, 2], [3, 4]]), 0)",
    "T.tensor([[1., float('nan')], [3., 4.]]).nanmedian(1)",
    "T.matrix_power(T.tensor([[1, 2], [3, 4]]), 3)", "T.matrix_power(T.tensor([[1, 2], [3, 4]]), 0)",
    "T.linalg.matrix_power(T.tensor([[1., 2.], [3., 4.]]), -1)",
    "T.ones(3).broadcast_to(-1)", "T.broadcast_to(T.ones(3), (2, -1))", "T.ones(3, 1).broadcast_to((-1, 4))",
    # integers to integer tensor powers, some negative
    "T.tensor([0, 1, -1, 2, -2, 0]) ** T.tensor([-1, -3, -3, -1, -2, 0])", "T.pow(T.tensor([[1, -2], [3, 4]]), "
    "T.tensor([[1, -2], [3, 4]]))", "T.tensor([1, -1, 2]) ** T.tensor(-1)", "2 ** T.tensor([-1, 2])",
    "T.tensor([0, 1, -1, 2], dtype=T.int8) ** T.tensor([-1, -1, -2, -2], dtype=T.int8)",
    # ldexp promotes with the exponent's dtype; std_mean/var_mean(x, bool) is the unbiased overload
    "T.ldexp(T.tensor([1.]), T.tensor([2.], dtype=T.float64))", "T.ldexp(T.tensor([1.]), T.tensor(2., dtype=T.float64))",
    "T.ldexp(T.tensor([1], dtype=T.int32), T.tensor([2.], dtype=T.float64))", "T.ldexp(T.tensor([1]), T.tensor([2]))",
    "T.tensor([1., 3.]).ldexp_(T.tensor([2.], dtype=T.float64))",
    "T.std_mean(T.tensor([1., 2., 4.]), True)", "T.var_mean(T.tensor([1., 2., 4.]), False)",
    # an empty dim tuple reduces every dim for sum, mean, var, std, amax, amin, norm, count_nonzero (not all/any)
    "T.arange(6.).reshape(2, 3).sum(())", "T.arange(6.).reshape(2, 3).mean([], keepdim=True)",
    "T.var(T.arange(6.).reshape(2, 3), dim=())", "T.std(T.arange(6.).reshape(2, 3), dim=())",
    "T.amax(T.arange(6.).reshape(2, 3), dim=())", "T.amin(T.arange(6.).reshape(2, 3), ())",
    "T.nansum(T.arange(6.).reshape(2, 3), dim=())", "T.count_nonzero(T.arange(6.).reshape(2, 3), dim=())",
    "T.norm(T.arange(6.).reshape(2, 3), dim=())", "T.linalg.vector_norm(T.arange(6.).reshape(2, 3), dim=())",
    "T.std_mean(T.arange(6.).reshape(2, 3), dim=())", "T.all(T.tensor([[True, False]]), dim=())",
    "T.any(T.tensor([[True, False]]), dim=())",
    # out= on the reductions PyTorch gives it
    "T.nansum(T.tensor([[1., float('nan')], [3., -4.]]), 0, out=T.empty(0))",
    "T.argmax(T.tensor([1, 3, 2]), out=T.empty(0, dtype=T.long))",
    "T.all(T.tensor([True, False]), out=T.empty(0, dtype=T.bool))", "T.nonzero(T.tensor([0, 1, 1]), out=T.empty(0, dtype=T.long))",
    "T.norm(T.tensor([3., 4.]), out=T.empty(0))", "T.var(T.tensor([1., 2., 4.]), out=T.empty(0))",
    "T.std(T.tensor([1., 2., 4.]), out=T.empty(0))", "T.nan_to_num(T.tensor([float('nan'), 1.]), out=T.empty(2))",
    "T.msort(T.tensor([[3., 1.], [2., 4.]]), out=T.empty(2, 2))",
    # a Python bool index is a 0-d mask
    "T.arange(6.).reshape(2, 3)[True]", "T.arange(6.).reshape(2, 3)[False]", "T.arange(6.).reshape(2, 3)[0, True]",
    # diff of a bool tensor is xor
    "T.diff(T.tensor([True, False, True, True]))", "T.diff(T.tensor([True, False, True, True]), n=2)",
    "T.diff(T.tensor([True]), prepend=T.tensor([False]))",
]


@pytest.mark.parametrize("expr", SIDE_BY_SIDE)
def test_side_by_side_cases_match_torch(torch, expr):
    _same(torch, expr)


@pytest.mark.parametrize("expr", [
    "T.relu(T.tensor([True, False]))", "T.zeros(T.tensor(2.))", "T.matrix_power(T.tensor([[1, 2], [3, 4]]), -1)",
    "T.matrix_power(T.tensor([1, 2]), 2)", "T.ones(3).broadcast_to((-1, 3))", "T.tensor([1, 2]) ** T.tensor([-1, 2, 3])",
    "T.tensor([2, 3]) ** -1",
])
def test_side_by_side_errors_match_torch(torch, expr):
    for T in (torch, mg):
        with pytest.raises(Exception):
            eval(expr, {"T": T, "np": np})
