"""The autograd API as code written against PyTorch uses it: custom Functions on Tensors, grad
modes as decorators, PyTorch's error messages, grad_fn.name(), batched grad, functional API."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function


def leaf(values=(1.0, 2.0, 3.0)):
    return mg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def close(t, expected):
    np.testing.assert_allclose(np.asarray(t._data if isinstance(t, mg.Tensor) else t), expected, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- PyTorch-style Functions
def _torch_style(lib):
    """Functions written as PyTorch's docs write them, against ``lib`` (torch or minigrad)."""
    F = lib.autograd.Function

    class Exp(F):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class Cube(F):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x.pow(3) * scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x.pow(2) * g * ctx.scale, None

    class MatMul(F):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x @ w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            gx = g @ w.t() if ctx.needs_input_grad[0] else None
            gw = x.t() @ g if ctx.needs_input_grad[1] else None
            return gx, gw

    class Scale(F):                       # the newer style: forward without ctx, then setup_context
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    class MaxIdx(F):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return x.max(), idx

        @staticmethod
        def backward(ctx, gv, gi):
            x, idx = ctx.saved_tensors
            g = lib.zeros_like(x)
            g[idx] = gv
            return g

    class Double_(F):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    return Exp, Cube, MatMul, Scale, MaxIdx, Double_


def _run_all(lib):
    Exp, Cube, MatMul, Scale, MaxIdx, Double_ = _torch_style(lib)
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]], dtype=lib.float64, requires_grad=True)
    out = {}
    y = Exp.apply(x)
    y.sum().backward()
    out["exp"] = (y.detach().numpy(), x.grad.numpy().copy())
    x.grad = None
    (g,) = lib.autograd.grad(Cube.apply(x, 2.0).sum(), x, create_graph=True)   # differentiable again
    (h,) = lib.autograd.grad(g.sum(), x)
    out["cube"] = (g.detach().numpy(), h.numpy())
    MatMul.apply(x.reshape(1, 3), w).sum().backward()
    out["matmul"] = (x.grad.numpy().copy(), w.grad.numpy())
    x.grad = None
    Scale.apply(x, 4.0).sum().backward()
    out["scale"] = x.grad.numpy().copy()
    x.grad = None
    v, i = MaxIdx.apply(x)
    v.backward()
    out["maxidx"] = (float(v), int(i), i.requires_grad, x.grad.numpy().copy())
    a = x * 1
    b = Double_.apply(a)
    b.sum().backward()
    out["dirty"] = (b is a, b.grad_fn is not None, x.grad.numpy().copy())
    return out


def test_torch_style_functions_match_pytorch(torch):
    ours, theirs = _run_all(mg), _run_all(torch)
    for key in theirs:
        for a, b in zip(ours[key], theirs[key]):
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=key)


def test_torch_style_function_gets_tensors_under_no_grad_and_saves_the_inputs():
    seen = {}

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            seen["forward"] = (isinstance(x, mg.Tensor), x.requires_grad, mg.is_grad_enabled())
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            seen["backward"] = (isinstance(g, mg.Tensor), isinstance(x, mg.Tensor), mg.is_grad_enabled())
            return g * 2

    x = leaf()
    y = Spy.apply(x)
    assert y.requires_grad and not y.is_leaf and y.grad_fn.name() == "SpyBackward"
    y.sum().backward()
    assert seen == {"forward": (True, True, False), "backward": (True, True, False)}
    close(x.grad, [2.0, 2.0, 2.0])


def test_torch_style_function_returning_its_input_gives_a_new_tensor():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return 3 * g

    x = leaf()
    y = Identity.apply(x)
    assert y is not x and not y.is_leaf
    y.sum().backward()
    close(x.grad, [3.0, 3.0, 3.0])


def test_set_materialize_grads_false_hands_none_for_unused_outputs():
    got = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, ga, gb):
            got.append((ga is None, gb is None))
            return 2 * gb

    x = leaf()
    _, b = Two.apply(x)
    b.sum().backward()
    assert got == [(True, False)]
    close(x.grad, [2.0, 2.0, 2.0])


def test_once_differentiable_backward_works_once_and_refuses_twice():
    from minigrad.autograd.function import once_differentiable

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not mg.is_grad_enabled()
            return 2 * x * g

    x = leaf()
    (g,) = mg.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    close(g, [2.0, 4.0, 6.0])
    with pytest.raises(RuntimeError, match="Square"):
        g.sum().backward()


def test_a_user_function_written_on_arrays_still_works():
    class Tanh(Function):                 # minigrad's own style: NumPy on the arrays
        @staticmethod
        def forward(ctx, x):
            y = np.tanh(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            assert isinstance(g, np.ndarray) and isinstance(y, np.ndarray)
            return g * (1 - y * y)

    x = leaf()
    Tanh.apply(x).sum().backward()
    close(x.grad, 1 - np.tanh([1.0, 2.0, 3.0]) ** 2)
    assert mg.autograd.gradcheck(Tanh.apply, (leaf(),))


def test_a_user_function_with_a_backward_on_arrays_still_works():
    class Doubled(Function):              # forward fine on Tensors, backward NumPy-only
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return np.abs(g) * 2

    for _ in range(2):                    # found out on the first call, remembered after
        x = leaf()
        Doubled.apply(x).sum().backward()
        close(x.grad, [2.0, 2.0, 2.0])


def test_a_user_backward_on_arrays_under_create_graph_is_once_differentiable():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return np.multiply(2 * x, g)        # NumPy: arrays only

    x = leaf()
    (g,) = mg.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    close(g, [2.0, 4.0, 6.0])
    with pytest.raises(RuntimeError, match="Square: its backward works on arrays only"):
        g.sum().backward()


def test_torch_style_function_passes_gradcheck_and_gradgradcheck():
    Exp = _torch_style(mg)[0]
    x = leaf((0.1, -0.3, 0.7))
    assert mg.autograd.gradcheck(Exp.apply, (x,))
    assert mg.autograd.gradgradcheck(Exp.apply, (x,))


def test_calling_a_function_instance_is_an_error():
    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(RuntimeError, match=r"Twice.apply"):
        Twice()(leaf())


# ----------------------------------------------------------------------------- grad modes
def test_no_grad_and_enable_grad_decorate_without_parentheses():
    @mg.no_grad
    def off(a):
        return a * 2

    @mg.enable_grad
    def on(a):
        return a * 2

    @mg.inference_mode
    def inference(a):
        return a * 2

    x = leaf()
    assert not off(x).requires_grad and not inference(x).requires_grad
    with mg.no_grad():
        assert on(x).requires_grad
    assert mg.is_grad_enabled()
    with mg.inference_mode(mode=False):
        assert (x * 2).requires_grad


def test_set_grad_enabled_switches_as_a_plain_call_and_restores_as_a_context():
    x = leaf()
    mg.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad and not mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)
    assert mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert mg.is_grad_enabled()

    @mg.set_grad_enabled(False)
    def f(a):
        return a * 2
    assert mg.is_grad_enabled()           # decorating switches nothing
    assert not f(x).requires_grad and mg.is_grad_enabled()


def test_hooks_run_with_gradients_off_unless_create_graph():
    x = leaf()
    seen = []
    x.register_hook(lambda g: seen.append(mg.is_grad_enabled()))
    (x * x).sum().backward()
    mg.autograd.grad((x * x).sum(), x, create_graph=True)
    assert seen == [False, True]


# ----------------------------------------------------------------------------- messages and names
@pytest.mark.parametrize("lib_name", ["minigrad", "torch"])
def test_pytorch_error_messages(lib_name, request):
    lib = mg if lib_name == "minigrad" else request.getfixturevalue("torch")
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph. Set allow_unused=True"):
        lib.autograd.grad((x * 2).sum(), [x, lib.tensor([1.0], requires_grad=True)])
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        lib.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.add_(1)


def test_grad_fn_name_is_callable_as_in_pytorch(torch):
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert (x * 2).grad_fn.name() == "MulBackward0"
        assert (x.exp()).grad_fn.name() == "ExpBackward0"
    y = leaf() * 2
    assert f"{y.grad_fn.name}" == "Mul"        # minigrad's messages keep the op's own name


def test_grad_with_batched_cotangents(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x * x
        (g,) = lib.autograd.grad(y, x, lib.eye(3, dtype=lib.float64), is_grads_batched=True)
        return g.detach().numpy()
    np.testing.assert_allclose(run(mg), run(torch))
    np.testing.assert_allclose(run(mg), np.diag([2.0, 4.0, 6.0]))


def test_leaf_hooks_run_in_autograd_grad(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(1) or g * 10)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        return seen, g.numpy()
    ours, theirs = run(mg), run(torch)
    assert ours[0] == theirs[0] == [1]
    np.testing.assert_allclose(ours[1], theirs[1])
    np.testing.assert_allclose(ours[1], [20.0, 40.0])


# ----------------------------------------------------------------------------- gradcheck's signature
class _WrongDouble(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 3


def test_gradcheck_takes_pytorch_options_and_raise_exception():
    x = leaf()
    assert mg.autograd.gradcheck(lambda a: a.sin(), (x,), eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                                 check_undefined_grad=True, check_batched_grad=False, check_backward_ad=True,
                                 check_forward_ad=False, fast_mode=False, nondet_tol=0.0)
    assert mg.autograd.gradgradcheck(lambda a: a.sin(), (x,), raise_exception=True, check_fwd_over_rev=False,
                                     check_rev_over_rev=True, gen_non_contig_grad_outputs=False)
    assert mg.autograd.gradcheck(_WrongDouble.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="gradcheck"):          # GradcheckError is a RuntimeError, as PyTorch's
        mg.autograd.gradcheck(_WrongDouble.apply, (x,))
    with pytest.raises(mg.autograd.GradcheckError):
        mg.autograd.gradcheck(_WrongDouble.apply, (x,))


# ----------------------------------------------------------------------------- smaller API points
def test_backward_may_return_nones_for_defaulted_arguments():
    class Scaled(Function):
        @staticmethod
        def forward(ctx, x, scale=2.0):
            ctx.scale = scale
            return x * scale

        @staticmethod
        def backward(ctx, g):
            return g * ctx.scale, None       # a None for ``scale``, which apply never got

    x = leaf()
    Scaled.apply(x).sum().backward()
    close(x.grad, [2.0, 2.0, 2.0])


def test_mark_dirty_on_a_leaf_that_requires_grad_is_an_error():
    class AddOne_(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
        AddOne_.apply(leaf())


def test_empty_inputs_and_non_tensor_inputs_are_errors():
    x = leaf()
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * x).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        mg.autograd.grad((x * x).sum(), [])
    with pytest.raises(RuntimeError, match="all inputs have to be Tensors"):
        mg.autograd.grad((x * x).sum(), [1])


def test_grad_mode_decorates_generators_and_enters_as_none():
    x = leaf()

    @mg.no_grad()
    def rows():
        yield (x * 2).requires_grad
        yield (x * 3).requires_grad

    gen = rows()
    assert next(gen) is False and mg.is_grad_enabled()      # the caller's code between steps records
    assert next(gen) is False
    with mg.no_grad() as entered:
        assert entered is None
    assert mg.autograd.grad_mode.no_grad is mg.no_grad


def test_grad_fn_hooks(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        seen = []
        y.grad_fn.register_prehook(lambda gout: (gout[0] * 5,))
        handle = y.grad_fn.register_hook(lambda gin, gout: seen.append((len(gin), len(gout))))
        y.sum().backward(retain_graph=True)
        first = x.grad.numpy().copy()
        handle.remove()
        y.sum().backward()
        return seen, first, x.grad.numpy()
    ours, theirs = run(mg), run(torch)
    assert ours[0] == theirs[0] == [(2, 1)]
    np.testing.assert_allclose(ours[1], theirs[1])
    np.testing.assert_allclose(ours[2], theirs[2])
    np.testing.assert_allclose(ours[2], [20.0, 20.0])


def test_version_counter_counts_in_place_edits():
    x = mg.tensor([1.0, 2.0])
    before = x._version
    x.add_(1)
    x[0] = 5.0
    assert x._version - before == 2


def test_set_detect_anomaly_switches_at_once():
    mg.autograd.set_detect_anomaly(True)
    try:
        assert mg.is_anomaly_enabled()
    finally:
        mg.autograd.set_detect_anomaly(False)
    assert not mg.is_anomaly_enabled()
    with mg.autograd.set_detect_anomaly(True):
        assert mg.is_anomaly_enabled()
    with mg.autograd.detect_anomaly(check_nan=True):
        assert mg.is_anomaly_enabled()
    assert not mg.is_anomaly_enabled()


def test_deepcopy_of_a_leaf_copies_its_grad(torch):
    import copy
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        y = copy.deepcopy(x)
        assert y.requires_grad and y.is_leaf and y.grad is not x.grad
        np.testing.assert_allclose(y.grad.numpy(), [2.0, 4.0])
        y.grad.zero_()
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    p = mg.nn.Parameter(mg.ones(2))
    q = copy.deepcopy(p)
    assert type(q) is mg.nn.Parameter and q.requires_grad and q._data is not p._data


def test_legacy_variable_is_a_leaf_on_the_same_memory():
    t = mg.tensor([1.0, 2.0])
    v = mg.autograd.Variable(t, requires_grad=True)
    assert v.requires_grad and v.is_leaf and isinstance(v, mg.autograd.Variable) and isinstance(t, mg.autograd.Variable)
    (v * v).sum().backward()
    close(v.grad, [2.0, 4.0])
    v._data[0] = 5.0
    close(t, [5.0, 2.0])


def test_tensors_made_in_inference_mode_are_inference_tensors(torch):
    """Tensor.is_inference(): made inside inference_mode (ops, factories, a decorated function),
    not inside a nested inference_mode(False), not outside."""
    results = []
    for T in (torch, mg):
        x = T.ones(2, requires_grad=True)
        with T.inference_mode():
            made = [x * 2, T.ones(3), T.tensor([1.0])]
            with T.inference_mode(False):
                made.append(x * 3)
                inner = T.is_inference_mode_enabled()
        made += [x, x * 2]

        @T.inference_mode()
        def f(a):
            return a + 1
        made += [f(x), T.nn.Parameter(T.ones(1))]
        results.append(([t.is_inference() for t in made], inner))
    assert results[0] == results[1] == ([True, True, True, False, False, False, True, False], False)


# ----------------------------------------------------------------------------- saved tensor hooks
def _with_hooks(T, pack, unpack, values=(0.5, 2.0)):
    a = T.tensor(list(values), dtype=T.float64, requires_grad=True)
    with T.autograd.graph.saved_tensors_hooks(pack, unpack):
        z = (a.exp() * a.sin()).sum()            # exp saves its result, sin its input, mul both operands
    z.backward()
    return a.grad.numpy()


def test_saved_tensors_hooks_pack_at_forward_unpack_at_backward(torch):
    """The "Hooks for saved tensors" of PyTorch's autograd notes: one pack per saved value while
    the graph is built, one unpack per value when backward reads it; what unpack returns is what
    backward uses."""
    for T in (torch, mg):
        calls = []
        grad = _with_hooks(T, lambda t: calls.append("pack") or t.detach().clone(),
                           lambda t: calls.append("unpack") or t)
        assert calls == ["pack"] * 4 + ["unpack"] * 4
        np.testing.assert_allclose(grad, np.exp([0.5, 2.0]) * (np.sin([0.5, 2.0]) + np.cos([0.5, 2.0])))
    doubled = [_with_hooks(T, lambda t: t * 2, lambda t: t) for T in (torch, mg)]
    np.testing.assert_allclose(doubled[1], doubled[0])           # the unpacked values are the ones used


def test_saved_tensors_hooks_to_disk_and_save_on_cpu(torch, tmp_path):
    def pack(t):
        path = tmp_path / f"saved{len(list(tmp_path.iterdir()))}.pt"
        mg.save(t, str(path))
        return str(path)

    grad = _with_hooks(mg, pack, lambda path: mg.load(path))
    expected = _with_hooks(torch, lambda t: t, lambda t: t)
    np.testing.assert_allclose(grad, expected)
    assert len(list(tmp_path.iterdir())) == 4
    a = mg.tensor([0.5, 2.0], dtype=mg.float64, requires_grad=True)
    with mg.autograd.graph.save_on_cpu():
        y = (a.exp() * a).sum()
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), np.exp([0.5, 2.0]) * (1 + np.array([0.5, 2.0])))


def test_saved_tensors_hooks_under_create_graph_and_custom_functions(torch):
    class Cube(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    calls = []
    a = mg.tensor([0.5, 2.0], dtype=mg.float64, requires_grad=True)
    with mg.autograd.graph.saved_tensors_hooks(lambda t: calls.append("pack") or t, lambda t: t):
        y = Cube.apply(a).sum() + (a.sin() ** 2).sum()
    (g,) = mg.autograd.grad(y, a, create_graph=True)
    g.sum().backward()
    t = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad((t ** 3).sum() + (t.sin() ** 2).sum(), t, create_graph=True)
    tg.sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy())
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy())
    assert "pack" in calls
    with mg.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with mg.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass


# ----------------------------------------------------------------------------- misuse PyTorch refuses
def _error_of(fn, lib):
    """The exception class ``fn(lib)`` raises (None if it returns)."""
    try:
        fn(lib)
    except Exception as e:      # noqa: BLE001 - the class is what is compared
        return type(e)
    return None


def _raises_as_torch(torch, fn):
    """``fn`` fails on minigrad with PyTorch's exception class (or a subclass of it)."""
    theirs = _error_of(fn, torch)
    assert theirs is not None, "the case no longer fails on PyTorch"
    ours = _error_of(fn, mg)
    assert ours is not None and issubclass(ours, theirs), (ours, theirs)


def _leaf(lib):
    return lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)


@pytest.mark.parametrize("value, cls", [(3, TypeError), ("ones2", RuntimeError), ("float32", RuntimeError)])
def test_assigning_a_wrong_grad_is_an_error(torch, value, cls):
    def assign(lib):
        x = _leaf(lib)
        x.grad = {"ones2": lib.ones(2, dtype=lib.float64), "float32": lib.ones(3)}.get(value, value)
    _raises_as_torch(torch, assign)
    assert _error_of(assign, mg) is cls
    x = _leaf(mg)
    x.grad = mg.ones(3, dtype=mg.float64)       # the right kind is taken, None too
    x.grad = None
    assert x.grad is None


def test_materialize_grads_refuses_allow_unused_false(torch):
    def run(lib):
        x, z = _leaf(lib), _leaf(lib)
        return lib.autograd.grad((x * 2).sum(), [x, z], allow_unused=False, materialize_grads=True)
    _raises_as_torch(torch, run)
    x, z = _leaf(mg), _leaf(mg)
    close(mg.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)[1], [0.0, 0.0, 0.0])


def test_set_grad_enabled_takes_only_a_bool(torch):
    _raises_as_torch(torch, lambda lib: lib.set_grad_enabled(1))
    assert mg.is_grad_enabled()


def test_hooks_returning_the_wrong_thing_are_errors(torch):
    def tensor_hook(lib):
        x = _leaf(lib)
        x.register_hook(lambda g: 3)
        (x * x).sum().backward()

    def post_hook(lib):
        x = _leaf(lib)
        x.register_post_accumulate_grad_hook(lambda t: t * 2)
        (x * x).sum().backward()
    _raises_as_torch(torch, tensor_hook)
    _raises_as_torch(torch, post_hook)


def test_save_for_backward_takes_only_tensors_and_none(torch):
    def run(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a, 3)
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return g
        F.apply(_leaf(lib))
    _raises_as_torch(torch, run)


def test_a_function_may_name_its_backward_vjp(torch):
    def run(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def vjp(ctx, g):
                return g * 5
        x = _leaf(lib)
        F.apply(x).sum().backward()
        return x.grad.numpy()
    np.testing.assert_allclose(run(mg), run(torch))


def test_inference_tensors_are_refused_outside_inference_mode(torch):
    def made_inside(lib):
        with lib.inference_mode():
            return lib.ones(3, dtype=lib.float64)

    def saved(lib):
        return (_leaf(lib) * made_inside(lib)).sum()

    def edited(lib):
        made_inside(lib).add_(1)

    def edited_view(lib):
        made_inside(lib)[:2].mul_(2)

    def set_item(lib):
        made_inside(lib)[0] = 2.0

    def requires(lib):
        made_inside(lib).requires_grad_()
    for case in (saved, edited, edited_view, set_item, requires):
        _raises_as_torch(torch, case)
    y = made_inside(mg)
    (_leaf(mg) + y).sum().backward()            # an op that saves nothing may read it, as in PyTorch
    with mg.inference_mode():
        y.add_(1)                               # and inside the mode it may be edited
    close(y, [2.0, 2.0, 2.0])
    (_leaf(mg) * y.clone()).sum().backward()    # a clone is a normal tensor


def test_detach_in_place_refuses_views(torch):
    def run(lib):
        (_leaf(lib) * 2)[:2].detach_()
    _raises_as_torch(torch, run)
    m = _leaf(mg) * 2
    m.detach_()
    assert not m.requires_grad and m.is_leaf


def test_no_op_views_are_new_tensors(torch):
    def run(lib):
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        views = [x.view(3), x.reshape(3), x.permute(0), x.expand(3), x.squeeze(), x.transpose(0, 0), x.view_as(x)]
        plain = lib.ones(3)
        v = plain.view(3)
        v.requires_grad_()                      # the view's own flag: the base stays as it was
        return ([t is x or t.grad_fn is None for t in views], plain.requires_grad, x.flatten() is x,
                x.contiguous() is x)
    assert run(mg) == run(torch) == ([False] * 7, False, True, True)
    x = leaf()
    v = x.view(3)
    v.register_hook(lambda g: g * 10)           # a hook on the view, not on the leaf
    (v * x).sum().backward()
    close(x.grad, [11.0, 22.0, 33.0])           # 10 x through the view, x directly


def test_retain_grad_follows_an_in_place_edit(torch):
    def run(lib):
        x = _leaf(lib)
        y = x * 1
        y.retain_grad()
        y.mul_(2)
        (y * y).sum().backward()
        return y.grad.numpy().copy(), x.grad.numpy().copy(), y.retains_grad
    ours, theirs = run(mg), run(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(ours[0], [4.0, 8.0, 12.0])      # the edited value's gradient, 2 y


def test_a_gradient_a_hook_kept_is_not_accumulated_into(torch):
    def run(lib):
        x, y = _leaf(lib), _leaf(lib)
        kept = []
        x.register_hook(kept.append)
        for _ in range(2):
            (x * y).sum().backward()
        return [g.numpy().copy() for g in kept] + [x.grad.numpy().copy()]
    ours, theirs = run(mg), run(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(ours[0], [1.0, 2.0, 3.0])


def test_deepcopy_of_a_non_leaf_is_an_error(torch):
    import copy
    _raises_as_torch(torch, lambda lib: copy.deepcopy(_leaf(lib) * 2))


def test_graph_node_increment_version_and_multi_grad_hook(torch):
    def run(lib):
        x, y = _leaf(lib), _leaf(lib)
        z = x * 2
        node = lib.autograd.graph.Node
        is_node = [isinstance(z.grad_fn, node), isinstance(z.grad_fn.next_functions[0][0], node), isinstance(x, node)]
        before = x._version
        lib.autograd.graph.increment_version(x)
        seen, first = [], []
        handle = lib.autograd.graph.register_multi_grad_hook((x, y), lambda gs: seen.append([g is None for g in gs]))
        lib.autograd.graph.register_multi_grad_hook((x, y), first.append, mode="any")
        (x * 3).sum().backward()
        (x * y).sum().backward()
        handle.remove()
        (x * y).sum().backward()
        return is_node, x._version - before, seen, len(first)
    assert run(mg) == run(torch) == ([True, True, False], 1, [[False, True], [False, False]], 3)
    _raises_as_torch(torch, lambda lib: lib.autograd.graph.register_multi_grad_hook((_leaf(lib),), print, mode="x"))


def test_a_function_may_return_non_tensor_outputs(torch):
    def run(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return 5, a * 2, "label", a * a

            @staticmethod
            def backward(ctx, g_count, g_double, g_label, g_square):
                assert g_count is None and g_label is None      # no gradient for a non-Tensor output
                (a,) = ctx.saved_tensors
                return g_double * 2 + g_square * 2 * a
        x = _leaf(lib)
        count, double, label, square = F.apply(x)
        (g,) = lib.autograd.grad((double + square).sum(), x, create_graph=True)
        g.sum().backward()
        return count, label, g.detach().numpy(), x.grad.numpy()
    ours, theirs = run(mg), run(torch)
    assert ours[:2] == theirs[:2] == (5, "label")
    np.testing.assert_allclose(ours[2], theirs[2])
    np.testing.assert_allclose(ours[3], theirs[3])


def test_grad_mode_module_names_and_clone(torch):
    for lib in (mg, torch):
        assert lib.autograd.grad_mode.inference_mode is lib.inference_mode
        switch = lib.no_grad().clone()
        assert type(switch) is lib.no_grad
        with switch:
            assert not lib.is_grad_enabled()
        assert lib.is_grad_enabled()


def test_anomaly_mode_lets_infinities_pass_and_stops_nan_gradients(torch):
    def masked_softmax(lib):
        x = _leaf(lib)
        with lib.autograd.detect_anomaly():
            scores = x.masked_fill(lib.tensor([False, True, False]), float("-inf"))
            p = scores.softmax(0)
            (p * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
            z = lib.tensor([0.0, 1.0], dtype=lib.float64, requires_grad=True)
            z.log().sum().backward()            # -inf forward, an infinite gradient
        return x.grad.numpy(), z.grad.numpy()

    def nan_gradient(lib):
        x = lib.tensor([0.0, 4.0], dtype=lib.float64, requires_grad=True)
        with lib.autograd.detect_anomaly():
            (x.sqrt() * 0).sum().backward()      # 0 * inf: a NaN gradient
    with np.errstate(divide="ignore"):
        for ours, theirs in zip(masked_softmax(mg), masked_softmax(torch)):
            np.testing.assert_allclose(ours, theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # PyTorch warns where the forward ran
        _raises_as_torch(torch, nan_gradient)


def test_create_graph_inside_no_grad_and_inference_mode(torch):
    def run(lib):
        x = _leaf(lib)
        y = (x ** 3).sum()
        with lib.no_grad():
            (g,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        z = (x ** 3).sum()
        with lib.inference_mode():      # records nothing, create_graph or not
            (h,) = lib.autograd.grad(z, x, create_graph=True)
        return g.requires_grad, g2.numpy(), h.requires_grad, h.numpy()
    ours, theirs = run(mg), run(torch)
    assert ours[0] is theirs[0] is True and ours[2] is theirs[2] is False
    np.testing.assert_allclose(ours[1], theirs[1])
    np.testing.assert_allclose(ours[3], theirs[3])


def test_autograd_gradcheck_is_a_function_and_a_module(torch):
    for lib in ("minigrad", "torch"):
        module = __import__(f"{lib}.autograd.gradcheck", fromlist=["gradcheck"])
        assert callable(module.gradcheck) and issubclass(module.GradcheckError, RuntimeError)
        package = __import__(f"{lib}.autograd", fromlist=["gradcheck"])
        assert package.gradcheck is module.gradcheck    # the attribute stays the function
    from minigrad.autograd.gradcheck import GradcheckError, gradcheck
    assert gradcheck(lambda x: x.sin(), (leaf(),))
    assert GradcheckError is mg.autograd.GradcheckError


def test_reading_a_non_leaf_grad_warns(torch):
    def warned(lib, retain):
        y = _leaf(lib) * 2
        if retain:
            y.retain_grad()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert y.grad is None
        return [w.category for w in caught]
    assert warned(mg, False) == warned(torch, False) == [UserWarning]
    assert warned(mg, True) == warned(torch, True) == []


def test_accumulate_grad_node_hooks(torch):
    def run(lib):
        x = _leaf(lib)
        acc = x.expand_as(x).grad_fn.next_functions[0][0]      # the old way to reach a leaf's AccumulateGrad
        seen = []
        acc.register_prehook(lambda go: (go[0] * 10,))
        handle = acc.register_hook(lambda gi, go: seen.append((len(gi), go[0].tolist())))
        (x * 2).sum().backward()
        handle.remove()
        (x * 2).sum().backward()
        return seen, x.grad.tolist(), acc is (x * 3).grad_fn.next_functions[0][0]
    assert run(mg) == run(torch) == ([(0, [20.0, 20.0, 20.0])], [40.0, 40.0, 40.0], True)


def test_a_leaf_reached_through_next_functions_is_still_freed():
    import gc
    import weakref
    x = _leaf(mg)
    (x * 2).grad_fn.next_functions[0][0]
    alive = weakref.ref(x)
    del x
    gc.collect()
    assert alive() is None


def test_inference_mode_records_nothing_and_its_false_form_records(torch):
    def run(lib):
        x = _leaf(lib)
        with lib.inference_mode():
            with lib.enable_grad():
                inside = (x * 2).requires_grad
            with lib.inference_mode(False):
                nested = (x * 2).requires_grad
            made = lib.ones(3)
        with lib.no_grad():
            with lib.inference_mode(False):
                switched_on = (x * 2).requires_grad
        return inside, nested, switched_on, made.detach().is_inference(), lib.is_grad_enabled()
    assert run(mg) == run(torch) == (False, True, True, True, True)


def test_a_node_hook_returning_too_few_gradients_is_an_error(torch):
    def short(lib):
        x, y = _leaf(lib), _leaf(lib)
        z = x * y
        z.grad_fn.register_hook(lambda gin, gout: (gin[0],))     # y's gradient would be lost
        z.sum().backward()

    def exponent_left_out(lib):
        x = _leaf(lib)
        z = x ** 2
        z.grad_fn.register_hook(lambda gin, gout: (gin[0] * 2,))
        z.sum().backward()
        return x.grad.tolist()
    _raises_as_torch(torch, short)
    assert exponent_left_out(mg) == exponent_left_out(torch) == [4.0, 8.0, 12.0]


def test_grad_fn_metadata_is_a_dict_kept_on_the_node(torch):
    for lib in (mg, torch):
        y = _leaf(lib) * 2
        y.grad_fn.metadata["step"] = 3
        assert y.grad_fn.metadata == {"step": 3}
