"""Tensor methods and top-level functions a PyTorch program reaches for: predicates and no-op
properties of real dense tensors, aliases, in-place variants, scatters, random draws, frexp and
histogram, thread settings.  Each is checked against PyTorch and against values worked out by hand."""
import numpy as np
import pytest

import minigrad as mg
from helpers import assert_close


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# ----------------------------------------------------------------------------- predicates
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_predicates_match_pytorch(dtype, torch):
    values = [1, 0, 1] if dtype != "bool" else [True, False, True]
    m, t = mg.tensor(values, dtype=getattr(mg, dtype)), torch.tensor(values, dtype=getattr(torch, dtype))
    for name in ("is_cpu", "is_meta", "is_quantized", "is_sparse_csr", "is_mps", "is_xpu", "is_sparse", "is_cuda"):
        assert getattr(m, name) == getattr(t, name) and getattr(m, name) is (name == "is_cpu"), name
    for name in ("is_signed", "is_conj", "is_neg", "is_pinned", "get_device"):
        assert getattr(m, name)() == getattr(t, name)(), name
    assert m.is_signed() is (dtype in ("float32", "float64", "int64", "int32"))
    assert m.get_device() == -1
    assert mg.is_signed(m) == torch.is_signed(t)
    assert mg.is_conj(m) is False and mg.is_neg(m) is False
    assert mg.get_device(m) == torch.get_device(t) == -1
    assert mg.real(m) is m and torch.real(t) is t


def test_layout_is_strided(torch):
    x = mg.ones(2, 3)
    assert x.layout is mg.strided and isinstance(mg.strided, mg.layout)
    assert repr(x.layout) == repr(torch.ones(2).layout).replace("torch", "minigrad") == "minigrad.strided"


def test_real_tensor_conjugates_are_the_tensor_itself(torch):
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    t = torch.tensor([1.0, -2.0], requires_grad=True)
    for name in ("conj", "resolve_conj", "resolve_neg", "conj_physical", "to_dense"):
        assert getattr(x, name)() is x
        assert getattr(t, name)() is t, name
    for name in ("conj", "resolve_conj", "resolve_neg", "conj_physical"):
        assert getattr(mg, name)(x) is x
        assert getattr(torch, name)(t) is t


def test_is_nonzero_and_is_same_size(torch):
    assert mg.tensor([2.0]).is_nonzero() is True and mg.tensor(0).is_nonzero() is False
    assert torch.tensor([2.0]).is_nonzero() is True and torch.tensor(0).is_nonzero() is False
    for values in ([], [1.0, 2.0]):
        with pytest.raises(RuntimeError, match="Boolean value of Tensor"):
            torch.tensor(values).is_nonzero()
        with pytest.raises(RuntimeError, match="Boolean value of Tensor with (no values|more than one value)"):
            mg.tensor(values).is_nonzero()
    a, b, c = mg.zeros(2, 3), mg.ones(2, 3, dtype=mg.int64), mg.zeros(3, 2)
    assert a.is_same_size(b) and not a.is_same_size(c)
    assert torch.zeros(2, 3).is_same_size(torch.ones(2, 3)) and not torch.zeros(2, 3).is_same_size(torch.zeros(3, 2))


def test_memory_placement_methods(torch):
    x = mg.ones(3)
    assert x.share_memory_() is x and x.is_shared() is False and x.is_pinned() is False
    assert torch.ones(3).is_pinned() is False
    if not mg.cuda.is_available():          # PyTorch without an accelerator refuses likewise
        with pytest.raises(RuntimeError, match="accelerator"):
            x.pin_memory()
        if not torch.cuda.is_available():
            with pytest.raises(RuntimeError):
                torch.ones(3).pin_memory()
    else:
        p = x.pin_memory()
        assert p is not x and np.array_equal(p.numpy(), x.numpy())


def test_legacy_new_constructor(torch):
    for lib in (mg, torch):
        x = lib.ones(3, dtype=lib.float64)
        assert tuple(x.new(2, 3).shape) == (2, 3) and x.new(2, 3).dtype == x.dtype
        assert tuple(x.new().shape) == (0,)
        assert tuple(x.new(size=(4,)).shape) == (4,)
        assert x.new([1, 2]).tolist() == [1.0, 2.0] and x.new([1, 2]).dtype == lib.float64
        assert x.new((2, 3)).tolist() == [2.0, 3.0]                 # a tuple is data, as in PyTorch
        src = lib.tensor([5.0], dtype=lib.float64)
        alias = x.new(src)
        alias[0] = 9.0
        assert src.tolist() == [9.0]                                 # a tensor of the same dtype: shared
        with pytest.raises(TypeError):
            x.new(lib.tensor([5]))
    assert mg.tensor([1, 2]).new(2).dtype == mg.int64


# ----------------------------------------------------------------------------- aliases
def test_aliases(torch):
    a, b = np.array([1.5, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    m, n = mg.tensor(a), mg.tensor(b)
    t, u = torch.tensor(a), torch.tensor(b)
    assert_close(m.multiply(n), (t.multiply(u)).numpy())
    assert_close(m.subtract(n, alpha=2), (t.subtract(u, alpha=2)).numpy())
    assert_close(m.subtract(n, alpha=2), a - 2 * b)
    assert_close(mg.rsub(m, n, alpha=3), torch.rsub(t, u, alpha=3).numpy())
    assert_close(mg.rsub(m, 2.0), 2.0 - a)
    assert_close(m.ger(n), t.ger(u).numpy())
    assert_close(mg.ger(m, n), np.outer(a, b))
    assert_close(m.hardshrink(1.6), t.hardshrink(1.6).numpy())
    assert_close(m.hardshrink(), np.where(np.abs(a) > 0.5, a, 0))
    d = mg.detach(mg.tensor(a, requires_grad=True) * 2)
    assert not d.requires_grad and d.grad_fn is None


def test_pytorch_keyword_names(torch):
    x = mg.arange(6)
    assert [p.tolist() for p in mg.split(tensor=x, split_size_or_sections=4)] == [[0, 1, 2, 3], [4, 5]]
    assert [p.tolist() for p in torch.split(tensor=torch.arange(6), split_size_or_sections=4)] == [[0, 1, 2, 3], [4, 5]]
    before = mg.get_default_dtype()
    try:
        mg.set_default_dtype(d=mg.float64)
        assert mg.tensor([1.0]).dtype == mg.float64
    finally:
        mg.set_default_dtype(before)


def test_vmap_and_compile():
    out = mg.vmap(lambda row, w: (row * w).sum(), in_dims=(0, None))(mg.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                                                     mg.tensor([10.0, 1.0]))
    assert out.tolist() == [12.0, 34.0]
    model = mg.nn.Linear(2, 3)

    def f(x):
        return x * 2
    assert mg.compile(model) is model and mg.compile(f, mode="max-autotune") is f
    assert mg.compile(mode="reduce-overhead")(f) is f
    before = model(mg.ones(1, 2))
    assert model.compile(mode="max-autotune") is None                 # PyTorch's in-place Module.compile()
    assert mg.equal(model(mg.ones(1, 2)), before)
    with pytest.raises(TypeError, match="compile"):
        mg.compile(3)


# ----------------------------------------------------------------------------- in-place, no gradient
@pytest.mark.parametrize("name", ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "less_", "greater_equal_",
                                  "less_equal_", "not_equal_", "logical_and_", "logical_or_", "logical_xor_"])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_inplace_comparisons_keep_the_dtype(name, dtype, torch):
    a, b = [1, 0, 3, 2], [1, 2, 0, 2]
    m, t = mg.tensor(a, dtype=getattr(mg, dtype)), torch.tensor(a, dtype=getattr(torch, dtype))
    out = getattr(m, name)(mg.tensor(b, dtype=getattr(mg, dtype)))
    expected = getattr(t, name)(torch.tensor(b, dtype=getattr(torch, dtype)))
    assert out is m and m.dtype == getattr(mg, dtype)
    assert m.tolist() == expected.tolist()
    op = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
          "ge": np.greater_equal, "greater": np.greater, "less": np.less, "greater_equal": np.greater_equal,
          "less_equal": np.less_equal, "not_equal": np.not_equal, "logical_and": np.logical_and,
          "logical_or": np.logical_or, "logical_xor": np.logical_xor}[name[:-1]]
    assert m.tolist() == op(np.array(a), np.array(b)).astype(int).tolist()


def test_inplace_comparison_of_a_graph_tensor_has_zero_gradient(torch):
    x = mg.tensor([0.2, 0.8], requires_grad=True)
    y = x * 2
    y.gt_(1.0)
    (y * mg.tensor([3.0, 5.0])).sum().backward()
    assert y.tolist() == [0.0, 1.0] and x.grad.tolist() == [0.0, 0.0]
    s = torch.tensor([0.2, 0.8], requires_grad=True) * 2
    assert s.gt_(1.0).tolist() == [0.0, 1.0]


def test_inplace_logic_of_a_graph_tensor_has_zero_gradient():
    """PyTorch 2.13 records no node for logical_*_ on a graph tensor (the gradient flows to the
    old value as if it were unchanged); minigrad treats them as eq_ & co.: a zero gradient."""
    x = mg.tensor([0.2, 0.0], requires_grad=True)
    y = x * 2
    y.logical_or_(mg.tensor([0.0, 0.0]))
    (y * 3).sum().backward()
    assert y.tolist() == [1.0, 0.0] and x.grad.tolist() == [0.0, 0.0]


def test_logical_not_(torch):
    for values, dt in (([1.0, 0.0, -2.0], "float32"), ([True, False, True], "bool")):
        m, t = mg.tensor(values, dtype=getattr(mg, dt)), torch.tensor(values, dtype=getattr(torch, dt))
        assert m.logical_not_().tolist() == t.logical_not_().tolist()
    assert mg.tensor([1.0, 0.0]).logical_not_().tolist() == [0.0, 1.0]


def test_fill_diagonal_(torch):
    cases = [((3, 4), 2.0, False), ((7, 3), 1.0, True), ((7, 3), 1.0, False), ((3, 7), 5.0, True),
             ((2, 2, 2), 4.0, False)]
    for shape, value, wrap in cases:
        m = mg.zeros(*shape).fill_diagonal_(value, wrap=wrap)
        t = torch.zeros(*shape).fill_diagonal_(value, wrap=wrap)
        assert m.tolist() == t.tolist(), (shape, wrap)
    assert mg.zeros(7, 3).fill_diagonal_(1, wrap=True).numpy()[:, 0].tolist() == [1, 0, 0, 0, 1, 0, 0]
    assert mg.zeros(7, 3).fill_diagonal_(1).numpy().sum() == 3
    for shape, match in (((3,), "larger than 1"), ((2, 3, 2), "equal length")):
        with pytest.raises(RuntimeError, match=match):
            mg.zeros(*shape).fill_diagonal_(1)
        with pytest.raises(RuntimeError):
            torch.zeros(*shape).fill_diagonal_(1)


def test_apply_and_map_(torch):
    m, t = mg.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0])
    assert m.apply_(lambda v: v * v + 1) is m
    assert m.tolist() == t.apply_(lambda v: v * v + 1).tolist() == [2.0, 5.0, 10.0]
    mi, ti = mg.arange(3), torch.arange(3)
    assert mi.map_(mg.tensor([10, 20, 30]), lambda a, b: a * b).tolist() == \
        ti.map_(torch.tensor([10, 20, 30]), lambda a, b: a * b).tolist() == [0, 20, 60]
    assert mg.ones(2, 2).map_(mg.tensor([1.0, 2.0]), lambda a, b: a + b).tolist() == [[2.0, 3.0], [2.0, 3.0]]
    with pytest.raises(RuntimeError, match="requires grad"):
        mg.ones(2, requires_grad=True).apply_(lambda v: v)
    with pytest.raises(RuntimeError):
        torch.ones(2, requires_grad=True).apply_(lambda v: v)


@pytest.mark.parametrize("name", ["relu_", "sigmoid_", "tanh_", "exp_", "sqrt_", "abs_", "neg_", "floor_", "zero_"])
def test_top_level_inplace_functions(name, torch):
    a = np.array([0.25, -1.5, 2.0])
    if name == "sqrt_":
        a = np.abs(a)
    m, t = mg.tensor(a), torch.tensor(a)
    assert getattr(mg, name)(m) is m
    getattr(torch, name)(t)
    assert_close(m, t.numpy())
    m, t = mg.tensor(a), torch.tensor(a)
    assert mg.fill_(m, 7.0) is m and m.tolist() == torch.fill_(t, 7.0).tolist() == [7.0] * 3
    assert mg.clamp_(mg.tensor(a), 0, 1).tolist() == torch.clamp_(torch.tensor(a), 0, 1).tolist()
    with pytest.raises(TypeError, match=name):
        getattr(mg, name)([1.0])


def test_resize_(torch):
    for lib in (mg, torch):
        x = lib.arange(6.0)
        v = x.view(2, 3)
        assert x.resize_(2, 2) is x and x.tolist() == [[0.0, 1.0], [2.0, 3.0]]
        x[0, 0] = 9.0                                   # shrinking keeps the memory
        assert v.tolist() == [[9.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
        x.resize_((3, 3))
        assert tuple(x.shape) == (3, 3) and x.reshape(-1)[:6].tolist() == [9.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        assert tuple(lib.zeros(2).resize_as_(lib.ones(1, 2)).shape) == (1, 2)
        part = lib.arange(8.0)[2:5]                     # the memory runs on to the end of its base
        assert part.resize_(2, 3).tolist() == [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]
        t = lib.arange(6.0).view(2, 3).t()
        assert t.resize_(3, 2) is t and t.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]   # same shape: no-op
        with pytest.raises(RuntimeError, match="require grad"):
            lib.ones(2, requires_grad=True).resize_(3)
        with pytest.raises(RuntimeError, match="require grad"):
            (lib.ones(2, requires_grad=True) * 2).resize_(3)
    with pytest.raises(RuntimeError, match="contiguous"):
        mg.arange(6.0).view(2, 3).t().resize_(6)


# ----------------------------------------------------------------------------- in-place, differentiable
# name -> (shape of the edited tensor, shapes of the float arguments, other arguments)
DIFFERENTIABLE = {
    "cumsum_": ((3, 4), [], [1], {}),
    "cumprod_": ((3, 4), [], [0], {}),
    "addmm_": ((3, 4), [(3, 2), (2, 4)], [], {"beta": 0.5, "alpha": 2.0}),
    "addbmm_": ((3, 4), [(2, 3, 2), (2, 2, 4)], [], {"alpha": 1.5}),
    "baddbmm_": ((2, 3, 4), [(2, 3, 2), (2, 2, 4)], [], {"beta": -1.0}),
    "addmv_": ((3,), [(3, 2), (2,)], [], {"alpha": 0.5}),
    "addr_": ((3, 4), [(3,), (4,)], [], {}),
}


def _diff_setup(lib, name, seed):
    shape, arg_shapes, extra, kwargs = DIFFERENTIABLE[name]
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.uniform(0.2, 0.9, shape), dtype=lib.float64, requires_grad=True)
    args = [lib.tensor(rng.uniform(0.2, 0.9, s), dtype=lib.float64, requires_grad=True) for s in arg_shapes]
    w = lib.tensor(rng.uniform(-1, 1, shape), dtype=lib.float64)
    y = x * 1.5
    assert getattr(y, name)(*args, *extra, **kwargs) is y
    return y, [x] + args, (y * w).sum() + (y * y).sum()


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_differentiable_inplace_matches_pytorch(name, torch):
    ym, lm, loss_m = _diff_setup(mg, name, 0)
    yt, lt, loss_t = _diff_setup(torch, name, 0)
    assert_close(ym, yt.detach().numpy(), atol=1e-12, rtol=1e-10)
    gm = mg.autograd.grad(loss_m, lm, create_graph=True)
    gt = torch.autograd.grad(loss_t, lt, create_graph=True)
    for a, b in zip(gm, gt):
        assert_close(a, b.detach().numpy(), atol=1e-10, rtol=1e-9)
    sm = mg.autograd.grad(sum((g * g).sum() for g in gm), lm, allow_unused=True)
    st = torch.autograd.grad(sum((g * g).sum() for g in gt), lt, allow_unused=True)
    for a, b in zip(sm, st):
        assert_close(0 * _np(lm[0]) if a is None else a, 0 * _np(lm[0]) if b is None else b.numpy(), atol=1e-9,
                     rtol=1e-8)


def test_out_of_place_addmv_addr_addbmm_match_pytorch(torch):
    rng = np.random.default_rng(3)
    arrays = {k: rng.normal(size=s) for k, s in
              {"v3": (3,), "m32": (3, 2), "v2": (2,), "v4": (4,), "m34": (3, 4), "b": (2, 3, 2),
               "c": (2, 2, 4)}.items()}
    m = {k: mg.tensor(v) for k, v in arrays.items()}
    t = {k: torch.tensor(v) for k, v in arrays.items()}
    assert_close(mg.addmv(m["v3"], m["m32"], m["v2"], beta=2), torch.addmv(t["v3"], t["m32"], t["v2"], beta=2).numpy())
    assert_close(m["v3"].addmv(m["m32"], m["v2"]), arrays["v3"] + arrays["m32"] @ arrays["v2"])
    assert_close(mg.addr(m["m34"], m["v3"], m["v4"], alpha=2), torch.addr(t["m34"], t["v3"], t["v4"], alpha=2).numpy())
    assert_close(mg.addbmm(m["m34"], m["b"], m["c"]), torch.addbmm(t["m34"], t["b"], t["c"]).numpy())
    assert_close(m["m34"].addbmm(m["b"], m["c"]), arrays["m34"] + np.einsum("bij,bjk->ik", arrays["b"], arrays["c"]))


def test_index_put_and_put_in_place(torch):
    for lib in (mg, torch):
        x = lib.zeros(3, 4)
        assert x.index_put_((lib.tensor([0, 0, 2]), lib.tensor([1, 1, 3])), lib.tensor([1.0, 2.0, 5.0]),
                            accumulate=True) is x
        assert x.tolist() == [[0, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 5]]
        x.index_put_((lib.tensor([True, False, True]),), lib.tensor(-1.0))
        assert x.tolist() == [[-1] * 4, [0] * 4, [-1] * 4]
        assert x.put_(lib.tensor([0, -1]), lib.tensor([7.0, 8.0])) is x
        assert x.tolist() == [[7, -1, -1, -1], [0] * 4, [-1, -1, -1, 8]]
        y = lib.zeros(2, 2).put(lib.tensor([[1, 1]]), lib.tensor([1.0, 2.0]), accumulate=True)
        assert y.tolist() == [[0, 3], [0, 0]]
        z = lib.index_put(lib.zeros(2, 3), [lib.tensor([1])], lib.tensor([4.0]))
        assert z.tolist() == [[0, 0, 0], [4, 4, 4]]
    # gradient through an in-place put on a graph tensor
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = mg.tensor([10.0], requires_grad=True)
    y = x * 1
    y.put_(mg.tensor([1]), s)
    (y * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0] and s.grad.tolist() == [2.0]


def test_scatter_family_errors(torch):
    x = mg.zeros(3, 4)
    with pytest.raises(ValueError, match=r"select_scatter.*\(1, 4\)"):
        mg.select_scatter(x, mg.ones(1, 4), 0, 1)
    with pytest.raises(RuntimeError):
        torch.select_scatter(torch.zeros(3, 4), torch.ones(1, 4), 0, 1)
    with pytest.raises(IndexError, match="select_scatter"):
        mg.select_scatter(x, mg.ones(3), 1, 5)
    with pytest.raises(ValueError, match="slice_scatter"):
        mg.slice_scatter(x, mg.ones(3, 1), dim=1, start=-2)
    with pytest.raises(ValueError, match="diagonal_scatter"):
        mg.diagonal_scatter(x, mg.ones(4), -1)
    with pytest.raises(TypeError, match="index_put.*dtypes"):
        mg.index_put(x, (mg.tensor([0]),), mg.tensor(5.0, dtype=mg.float64))
    with pytest.raises(RuntimeError):
        torch.index_put(torch.zeros(3, 4), (torch.tensor([0]),), torch.tensor(5.0, dtype=torch.float64))
    with pytest.raises(IndexError, match="put"):
        x.put(mg.tensor([0, 5]), mg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(IndexError, match="put"):
        x.put(mg.tensor([0, 12]), mg.tensor([1.0, 2.0]))
    with pytest.raises(IndexError):
        torch.zeros(3, 4).put(torch.tensor([0, 12]), torch.tensor([1.0, 2.0]))


def test_scatter_family_values(torch):
    x = np.arange(12.0).reshape(3, 4)
    m, t = mg.tensor(x), torch.tensor(x)
    assert_close(m.select_scatter(mg.ones(3), 1, -1),
                 t.select_scatter(torch.ones(3, dtype=torch.float64), 1, -1).numpy())
    assert_close(m.slice_scatter(mg.zeros(3, 2), 1, 0, None, 2), np.where(np.arange(4) % 2 == 0, 0, x))
    assert_close(m.diagonal_scatter(mg.tensor([-1.0, -2.0]), -1),
                 t.diagonal_scatter(torch.tensor([-1.0, -2.0], dtype=torch.float64), -1).numpy())
    # a float64 source into float32 is cast, as PyTorch
    out = mg.select_scatter(mg.zeros(2, 2), mg.ones(2, dtype=mg.float64), 0, 0)
    assert out.dtype == mg.float32 and out.tolist() == [[1, 1], [0, 0]]


# ----------------------------------------------------------------------------- random
def test_bernoulli(torch):
    g = mg.Generator().manual_seed(0)
    p = mg.tensor([0.0, 1.0, 0.5, 0.5] * 2500)
    draw = mg.bernoulli(p, generator=g)
    assert draw.dtype == mg.float32 and draw.shape == p.shape and not draw.requires_grad
    assert set(np.unique(draw.numpy())) <= {0.0, 1.0}
    values = draw.numpy().reshape(-1, 4)
    assert (values[:, 0] == 0).all() and (values[:, 1] == 1).all()
    assert abs(values[:, 2:].mean() - 0.5) < 0.03
    again = mg.bernoulli(p, generator=mg.Generator().manual_seed(0))
    assert np.array_equal(again.numpy(), draw.numpy())
    assert abs(p.bernoulli(0.2).mean().item() - 0.2) < 0.02                  # p overrides the tensor's values
    assert mg.zeros(5, dtype=mg.float64).bernoulli(1.0).tolist() == [1.0] * 5
    assert torch.zeros(5, dtype=torch.float64).bernoulli(1.0).tolist() == [1.0] * 5
    for bad in ([1.5], [-0.1]):
        with pytest.raises(RuntimeError, match="bernoulli"):
            mg.bernoulli(mg.tensor(bad))
        with pytest.raises(RuntimeError):
            torch.bernoulli(torch.tensor(bad))
    with pytest.raises(RuntimeError, match="floating"):
        mg.bernoulli(mg.tensor([1, 0]))
    with pytest.raises(RuntimeError):
        torch.bernoulli(torch.tensor([1, 0]))


def test_poisson(torch):
    rates = mg.tensor([0.0, 3.0] * 5000, dtype=mg.float64)
    draw = mg.poisson(rates, mg.Generator().manual_seed(1))
    assert draw.dtype == mg.float64 and draw.shape == rates.shape
    values = draw.numpy().reshape(-1, 2)
    assert (values[:, 0] == 0).all() and abs(values[:, 1].mean() - 3.0) < 0.1
    assert (values == np.round(values)).all()
    assert np.array_equal(mg.poisson(rates, mg.Generator().manual_seed(1)).numpy(), draw.numpy())
    assert torch.poisson(torch.tensor([0.0])).tolist() == [0.0]
    with pytest.raises(RuntimeError, match="non-negative"):
        mg.poisson(mg.tensor([-1.0]))
    with pytest.raises(RuntimeError):
        torch.poisson(torch.tensor([-1.0]))


def test_binomial(torch):
    count = mg.tensor([[0.0], [10.0], [7.0]] * 3000)
    prob = mg.tensor([0.3, 1.0, 0.5])
    draw = mg.binomial(count, prob, mg.Generator().manual_seed(2))
    assert draw.shape == (9000, 3) and draw.dtype == mg.float32
    values = draw.numpy().reshape(3000, 3, 3)
    assert (values[:, 0] == 0).all() and (values[:, 1, 1] == 10).all() and (values[:, 2, 1] == 7).all()
    assert abs(values[:, 1, 0].mean() - 3.0) < 0.1 and abs(values[:, 2, 2].mean() - 3.5) < 0.1
    assert (values <= count.numpy()[:3].reshape(1, 3, 1)).all()
    assert torch.binomial(torch.tensor([10.0, 0.0]), torch.tensor([1.0, 0.3])).tolist() == [10.0, 0.0]
    with pytest.raises(RuntimeError, match="binomial"):
        mg.binomial(mg.tensor([1.0]), mg.tensor([1.5]))
    with pytest.raises(RuntimeError, match="floating"):
        mg.binomial(mg.tensor([1]), mg.tensor([0.5]))
    with pytest.raises(ValueError):
        torch.binomial(torch.tensor([1]), torch.tensor([0.5]))


def test_multinomial_method(torch):
    w = mg.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert w.multinomial(1).tolist() == [[1], [2]]
    assert torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]).multinomial(1).tolist() == [[1], [2]]
    out = mg.tensor([1.0, 1.0, 1.0]).multinomial(3, generator=mg.Generator().manual_seed(0))
    assert sorted(out.tolist()) == [0, 1, 2]


# ----------------------------------------------------------------------------- frexp, histogram
def test_frexp(torch):
    a = np.array([0.0, 1.0, -3.5, 1e-40, 6.0, np.inf, 1e30], dtype=np.float32)
    mantissa, exponent = mg.frexp(mg.tensor(a))
    tm, te = torch.frexp(torch.tensor(a))
    assert exponent.dtype == mg.int32 and te.dtype == torch.int32
    assert mantissa.tolist() == tm.tolist() and exponent.tolist() == te.tolist()
    assert mantissa.tolist()[:3] == [0.0, 0.5, -0.875] and exponent.tolist()[:3] == [0, 1, 2]
    finite = np.isfinite(a)
    assert np.array_equal(np.ldexp(mantissa.numpy(), exponent.numpy())[finite], a[finite])
    assert mg.tensor([6.0]).frexp().exponent.tolist() == [3]
    with pytest.raises(TypeError, match="frexp"):
        mg.frexp(mg.tensor([1, 2]))


def test_histogram(torch):
    x = [1.0, 2.0, 1.0, 5.0]
    cases = [((3,), {}), ((2,), {"range": (0.0, 4.0)}),
             ((None,), {"weight": [1.0, 2.0, 3.0, 4.0], "density": True}), ((4,), {"density": True})]
    for (bins,), kw in cases:
        m_kw = {k: mg.tensor(v) if k == "weight" else v for k, v in kw.items()}
        t_kw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
        mb = mg.tensor([0.0, 1.0, 2.0, 5.0]) if bins is None else bins
        tb = torch.tensor([0.0, 1.0, 2.0, 5.0]) if bins is None else bins
        hist, edges = mg.histogram(mg.tensor(x), mb, **m_kw)
        th, te = torch.histogram(torch.tensor(x), tb, **t_kw)
        assert_close(hist, th.numpy(), rtol=1e-6)
        assert_close(edges, te.numpy(), rtol=1e-6)
        assert hist.dtype == mg.float32
    hist, edges = mg.tensor([1.0, 1.0, 1.0]).histogram(3)         # equal min and max: widened by 0.5
    assert hist.tolist() == [0.0, 3.0, 0.0] and edges.tolist()[0] == 0.5 and edges.tolist()[-1] == 1.5
    hist, _ = mg.histogram(mg.tensor([1.0, 2.0, 1.0, 5.0]), mg.tensor([0.0, 1.0, 2.0, 5.0]))
    assert hist.tolist() == [0.0, 2.0, 2.0]                           # the last bin includes its right edge
    with pytest.raises(TypeError, match="histogram"):
        mg.histogram(mg.tensor([1, 2]), 2)


# ----------------------------------------------------------------------------- threads
def test_num_threads(torch):
    from threadpoolctl import threadpool_info
    assert isinstance(torch.get_num_threads(), int)
    import os
    from threadpoolctl import threadpool_limits
    before, env = mg.get_num_threads(), os.environ.get("MINIGRAD_NUM_THREADS")
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    assert before >= 1
    try:
        mg.set_num_threads(1)
        assert mg.get_num_threads() == 1
        from minigrad import runtime
        assert runtime.worker_count(np) == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
        y = mg.nn.functional.conv2d(mg.ones(2, 1, 5, 5), mg.ones(1, 1, 3, 3))      # ops still run
        assert y.numpy().max() == 9.0
    finally:
        mg.set_num_threads(before)
        assert mg.get_num_threads() == before
        if env is None:
            os.environ.pop("MINIGRAD_NUM_THREADS")
        else:
            os.environ["MINIGRAD_NUM_THREADS"] = env
        if blas:
            threadpool_limits(limits=max(blas), user_api="blas")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="set_num_threads"):
            mg.set_num_threads(bad)


# ----------------------------------------------------------------------------- torch.backends
def test_backends_switches_hold_what_a_program_sets(torch):
    """``torch.backends.cudnn.benchmark = True`` and friends: PyTorch's defaults, kept as set,
    importable as submodules (``import torch.backends.cudnn as cudnn``)."""
    import minigrad.backends.cudnn as cudnn
    assert cudnn is mg.backends.cudnn
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert mg.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    saved = cudnn.benchmark, cudnn.deterministic
    try:
        mg.backends.cudnn.benchmark, mg.backends.cudnn.deterministic = True, True
        assert cudnn.benchmark is True and cudnn.deterministic is True
    finally:
        cudnn.benchmark, cudnn.deterministic = saved
    assert mg.backends.mps.is_available() is False and mg.backends.cudnn.is_available() is False
    assert mg.backends.cuda.is_built() == mg.cuda.is_available()


# ----------------------------------------------------------------------------- windows, range, Buffer
@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
@pytest.mark.parametrize("periodic", [True, False])
def test_window_functions_match_pytorch(name, periodic, torch):
    for length in (0, 1, 2, 5, 12):
        for dtype in ("float32", "float64"):
            got = getattr(mg, name)(length, periodic, dtype=getattr(mg, dtype)).numpy()
            want = getattr(torch, name)(length, periodic, dtype=getattr(torch, dtype)).numpy()
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 if dtype == "float32" else 1e-13)
    assert mg.hann_window(4).dtype == mg.get_default_dtype()
    with pytest.raises(ValueError, match="window_length must be a non-negative integer"):
        getattr(mg, name)(-1)
    with pytest.raises(TypeError, match="floating point dtype"):
        getattr(mg, name)(4, dtype=mg.int64)


def test_window_arguments_match_pytorch(torch):
    np.testing.assert_allclose(mg.hamming_window(7, False, 0.5, 0.5).numpy(),
                               torch.hamming_window(7, False, 0.5, 0.5).numpy(), atol=1e-7)
    np.testing.assert_allclose(mg.kaiser_window(9, True, 5.0, dtype=mg.float64).numpy(),
                               torch.kaiser_window(9, True, 5.0, dtype=torch.float64).numpy(), atol=1e-13)


def test_range_includes_its_end_as_pytorch(torch):
    import warnings
    for args in [(1, 4), (0, 1, 0.25), (3, 1, -0.5), (0, 0.3, 0.1), (2, 2)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")             # PyTorch warns that torch.range is deprecated
            want = torch.range(*args)
        got = mg.range(*args)
        assert got.dtype == mg.float32 and got.numpy().tolist() == want.numpy().tolist()
    with pytest.raises(ValueError, match="inconsistent with step sign"):
        mg.range(3, 1)


def test_buffer_assigned_as_an_attribute_is_registered(torch):
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = lib.nn.Buffer(lib.ones(2))
                self.cache = lib.nn.Buffer(lib.zeros(3), persistent=False)
                self.scale = lib.nn.Buffer(lib.full((2,), 3.0))        # assigning again replaces it
        return Net()
    net, tnet = build(mg), build(torch)
    assert list(net.state_dict()) == list(tnet.state_dict()) == ["scale"]
    assert [k for k, _ in net.named_buffers()] == [k for k, _ in tnet.named_buffers()] == ["scale", "cache"]
    assert net.scale.numpy().tolist() == [3.0, 3.0] and not list(net.parameters())
    assert isinstance(net.scale, mg.nn.Buffer) and not net.scale.requires_grad
