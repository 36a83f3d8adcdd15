"""Kernels against their NumPy references, and the checks that run before a kernel."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.kernels import activation, pool, scatter

FLOATS = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size", [0, 1, 7, 1000, 1 << 17])       # the last takes the parallel path
def test_gelu_matches_reference(dtype, size):
    rng = np.random.default_rng(size)
    x = (rng.standard_normal(size) * 3).astype(dtype)
    g = rng.standard_normal(size).astype(dtype)
    out = activation.gelu_forward(x)
    dx = activation.gelu_backward(x, g)
    assert out.dtype == dtype and dx.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, activation.gelu_forward_ref(x), rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, activation.gelu_backward_ref(x, g), rtol=10 * tol, atol=10 * tol)


def test_gelu_keeps_shape_and_handles_non_contiguous():
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    t = x.T
    np.testing.assert_allclose(activation.gelu_forward(t), activation.gelu_forward_ref(t), rtol=1e-6, atol=1e-6)
    assert activation.gelu_forward(np.float32(0.5) * np.ones((), np.float32)).shape == ()


def test_gelu_rejects_bad_arguments():
    with pytest.raises(TypeError, match="expected float32 or float64"):
        activation.gelu_forward(np.ones(3, np.int64))
    with pytest.raises(TypeError, match="share one dtype"):
        activation.gelu_backward(np.ones(3, np.float32), np.ones(3, np.float64))
    with pytest.raises(ValueError, match="shape"):
        activation.gelu_backward(np.ones(3), np.ones(4))


@pytest.mark.parametrize("dtype", FLOATS)
def test_relu_kernels_match_references(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 1000)).astype(dtype)
    x[0, :3] = [np.nan, -0.0, 0.0]
    g = rng.standard_normal(x.shape).astype(dtype)
    g[0, 3:5] = [np.inf, np.nan]
    y = activation.relu_forward(x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, activation.relu_forward_ref(x))
    np.testing.assert_array_equal(activation.relu_backward(y, g), activation.relu_backward_ref(y, g))
    np.testing.assert_array_equal(activation.relu_forward(x.T), activation.relu_forward_ref(x.T))
    with pytest.raises(ValueError, match="relu_backward: arrays must share one shape"):
        activation.relu_backward(y, g[:2])
    with pytest.raises(TypeError, match="relu_forward: expected float32 or float64"):
        activation.relu_forward(np.ones(3, np.int32))


def test_relu_op_takes_the_threaded_kernel_on_large_arrays(monkeypatch):
    import minigrad as mg
    calls = []
    for name in ("relu_forward", "relu_backward"):
        real = getattr(activation, name)
        monkeypatch.setattr(activation, name, lambda *a, real=real, name=name: calls.append(name) or real(*a))
    x = mg.tensor(np.random.default_rng(0).standard_normal((512, 600)), requires_grad=True)
    mg.relu(x).sum().backward()
    assert calls == ["relu_forward", "relu_backward"]
    np.testing.assert_array_equal(x.grad.numpy(), (x.detach().numpy() > 0).astype(np.float64))


@given(
    rows=st.integers(1, 6), cols=st.integers(0, 5), n=st.integers(0, 12),
    dtype=st.sampled_from(FLOATS), data=st.data())
def test_index_add_rows_matches_reference(rows, cols, n, dtype, data):
    index = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, rows - 1)))     # repeats allowed
    src = data.draw(hnp.arrays(dtype, (n, cols), elements=st.floats(-2, 2, width=32)))
    out = np.zeros((rows, cols), dtype)
    expected = scatter.index_add_rows_ref(np.zeros((rows, cols), dtype), index, src)
    np.testing.assert_allclose(scatter.index_add_rows(out, index, src), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_index_add_rows_parallel_path(dtype):
    rng = np.random.default_rng(1)
    index = rng.integers(0, 50, size=4000)
    src = rng.standard_normal((4000, 256)).astype(dtype)
    out = scatter.index_add_rows(np.zeros((50, 256), dtype), index, src)
    expected = scatter.index_add_rows_ref(np.zeros((50, 256), dtype), index, src)
    # float32 sums of ~80 rows in another order than the reference: a few units in the last place
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_index_add_rows_validates_before_the_loop():
    out = np.zeros((3, 2))
    with pytest.raises(IndexError, match=r"index out of range \[0, 3\)"):
        scatter.index_add_rows(out, np.array([0, 3]), np.ones((2, 2)))
    with pytest.raises(IndexError, match="index out of range"):
        scatter.index_add_rows(out, np.array([-1]), np.ones((1, 2)))
    with pytest.raises(ValueError, match="src has shape"):
        scatter.index_add_rows(out, np.array([0]), np.ones((1, 3)))
    with pytest.raises(TypeError, match="indices must be integers"):
        scatter.index_add_rows(out, np.array([0.0]), np.ones((1, 2)))
    with pytest.raises(ValueError, match="C-contiguous"):
        scatter.index_add_rows(np.zeros((2, 3)).T, np.array([0]), np.ones((1, 2)))


@pytest.mark.parametrize("call, message", [
    (lambda x: pool.avg_pool2d_forward(x, -2, 2, 2, 2, 0, 0, 2, 2), "kernel size"),
    (lambda x: pool.avg_pool2d_forward(x, 2, 2, -1, 2, 0, 0, 2, 2), "stride"),
    (lambda x: pool.avg_pool2d_forward(x, 2, 2, 2, 2, -1, 0, 2, 2), "padding"),
    (lambda x: pool.avg_pool2d_forward(x, 2, 2, 2, 2, 0, 0, 9, 2), "output size"),
    (lambda x: pool.avg_pool2d_forward(x, 2, 2, 2, 2, 0, 0, 2, 2, divisor=-3), "divisor"),
    (lambda x: pool.avg_pool2d_backward(np.ones((1, 1, 2, 2)), 4, 4, 2, 2, 0, 2, 0, 0), "stride"),
    (lambda x: pool.max_pool2d_forward(x, 10**12, 2, 1, 1, 0, 0, 1, 1, 1, 2), "output size"),
    (lambda x: pool.max_pool2d_forward(x, 2, 2, 0, 2, 0, 0, 1, 1, 2, 2), "stride"),
])
def test_pool_kernels_validate_geometry_before_the_loop(call, message):
    x = np.ones((1, 1, 4, 4))
    with pytest.raises(ValueError, match=message):
        call(x)
    # the same geometry, valid, runs (floor and ceil mode sizes are both accepted)
    assert pool.avg_pool2d_forward(x, 2, 2, 2, 2, 0, 0, 2, 2).shape == (1, 1, 2, 2)
    assert pool.max_pool2d_forward(np.ones((1, 1, 5, 5)), 2, 2, 2, 2, 0, 0, 1, 1, 3, 3)[0].shape == (1, 1, 3, 3)


def test_kernels_compile_one_specialisation_per_dtype():
    x32 = np.ones(5, np.float32)
    activation.gelu_forward(x32)
    activation.gelu_forward(x32 * 2)
    activation.gelu_forward(np.ones(5, np.float64))
    sigs = activation._gelu_forward_serial.signatures
    assert len(sigs) == 2, sigs


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(4, 3, 1), (2, 5, 7), (32, 64, 256)])      # the last runs the threaded kernels
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_kernels_match_references(dtype, shape, training):
    from minigrad.kernels import norm
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    mean, var = norm.batch_norm_stats(x)
    ref_mean, ref_var = norm.batch_norm_stats_ref(x)
    assert mean.dtype == dtype and var.dtype == dtype
    np.testing.assert_allclose(mean, ref_mean, rtol=tol, atol=tol)
    np.testing.assert_allclose(var, ref_var, rtol=tol, atol=tol)
    rstd = (1 / np.sqrt(ref_var + 1e-5)).astype(dtype)
    scale, shift = rstd * w, (b - ref_mean * rstd * w).astype(dtype)
    np.testing.assert_allclose(norm.batch_norm_apply(x, scale, shift), norm.batch_norm_apply_ref(x, scale, shift),
                               rtol=tol, atol=tol)
    for got, want in zip(norm.batch_norm_backward(g, x, ref_mean, rstd, w, training),
                         norm.batch_norm_backward_ref(g, x, ref_mean, rstd, w, training)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=50 * tol, atol=50 * tol)


def test_batch_norm_kernels_check_shapes():
    from minigrad.kernels import norm
    with pytest.raises(ValueError, match=r"expected x of shape \(N, C, S\)"):
        norm.batch_norm_stats(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"per-channel arrays must have shape \(3,\)"):
        norm.batch_norm_apply(np.zeros((2, 3, 4), np.float32), np.zeros(2, np.float32), np.zeros(3, np.float32))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (600, 256)])      # the last runs the threaded kernels
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_kernels_match_references(dtype, shape, affine):
    from minigrad.kernels import layer_norm
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    b = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    tol = 1e-5 if dtype == np.float32 else 1e-12
    y, xhat, rstd = layer_norm.layer_norm_forward(x, w, b, 1e-5)
    for got, ref in zip((y, xhat, rstd), layer_norm.layer_norm_forward_ref(x, w, b, 1e-5)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)
    dx = layer_norm.layer_norm_backward(g, xhat, rstd, w)
    np.testing.assert_allclose(dx, layer_norm.layer_norm_backward_ref(g, xhat, rstd, w), rtol=tol, atol=tol)


def test_layer_norm_kernels_check_shapes():
    from minigrad.kernels import layer_norm
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"expected a \(3,\)"):
        layer_norm.layer_norm_forward(x, np.ones(4), None, 1e-5)
    with pytest.raises(ValueError, match="do not match"):
        layer_norm.layer_norm_backward(np.ones((2, 3)), np.ones((2, 4)), np.ones(2), None)
    with pytest.raises(TypeError, match="float32 or float64"):
        layer_norm.layer_norm_forward(np.ones((2, 3), dtype=np.int64), None, None, 1e-5)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (4, 7), (600, 64), (40, 1000)])    # (600, 64) runs the threaded loops
def test_softmax_kernels_match_references(dtype, shape):
    from minigrad.kernels import softmax
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    if shape[0] > 3:                 # a NaN row, and -inf / +inf entries, as the references treat them
        x[1, -1] = np.nan
        x[2, 0] = -np.inf
        x[3, shape[1] // 2] = np.inf
    g = rng.standard_normal(shape).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for name in ("softmax", "log_softmax"):
        y = getattr(softmax, f"{name}_forward")(x)
        assert y.dtype == dtype and y.shape == shape
        with np.errstate(invalid="ignore"):
            np.testing.assert_allclose(y, getattr(softmax, f"{name}_forward_ref")(x), rtol=tol, atol=tol)
        np.testing.assert_allclose(getattr(softmax, f"{name}_backward")(y, g),
                                   getattr(softmax, f"{name}_backward_ref")(y, g), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("scale", [0.125, 1.0, 3.0])
def test_softmax_kernels_fold_a_scale(dtype, scale):
    """softmax_forward(x, a) = softmax(a x) and softmax_backward(y, g, a) = a y (g - sum g y):
    attention's 1/sqrt(d) without a pass of its own."""
    from minigrad.kernels import softmax
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((300, 64)) * 4).astype(dtype)
    g = rng.standard_normal((300, 64)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    y = softmax.softmax_forward(x, scale)
    np.testing.assert_allclose(y, softmax.softmax_forward_ref(x, scale), rtol=tol, atol=tol)
    np.testing.assert_allclose(y, softmax.softmax_forward(x * dtype(scale)), rtol=tol, atol=tol)
    np.testing.assert_allclose(softmax.softmax_backward(y, g, scale), softmax.softmax_backward_ref(y, g, scale),
                               rtol=tol, atol=tol)
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="scale must be a positive finite number"):
            softmax.softmax_forward(x, bad)


def test_softmax_kernels_check_arguments():
    from minigrad.kernels import softmax
    with pytest.raises(ValueError, match="share one shape"):
        softmax.softmax_backward(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="at least one entry"):
        softmax.softmax_forward(np.ones((2, 0)))
    with pytest.raises(TypeError, match="float32 or float64"):
        softmax.log_softmax_forward(np.ones((2, 3), dtype=np.int32))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(512, 64), (8, 1000)])
def test_softmax_ops_take_the_row_kernels(name, shape, monkeypatch):
    """Arrays of 4096 entries or more run kernels/softmax.py along the last axis, short rows
    (attention's scores) and long ones alike; the op's value and gradient are those of the NumPy
    formulas it replaces."""
    import minigrad as mg
    from minigrad.kernels import softmax
    calls = []
    original = getattr(softmax, f"{name}_backward")
    monkeypatch.setattr(softmax, f"{name}_backward", lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    g = rng.standard_normal(shape)
    t = mg.tensor(x, requires_grad=True)
    y = getattr(mg, name)(t, -1)
    y.backward(mg.tensor(g))
    y_ref = getattr(softmax, f"{name}_forward_ref")(x)
    np.testing.assert_allclose(y.detach().numpy(), y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), getattr(softmax, f"{name}_backward_ref")(y_ref, g), rtol=1e-12,
                               atol=1e-12)
    assert calls, "the row kernel did not run"


@pytest.mark.parametrize("dtype, low, high", [(np.float32, -103.9, 88.7), (np.float64, -745.1, 709.7)])
def test_vexp_is_within_two_ulp_of_exp(dtype, low, high):
    """kernels/vexp.py's exp against the exact exponential (long double), over the whole range:
    normal results within 2 ulp, subnormal ones within their spacing."""
    from minigrad.kernels import vexp
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(low, high, 200_000), rng.uniform(-1, 1, 20_000)]).astype(dtype)
    y = vexp.exp(x)
    exact = np.exp(x.astype(np.longdouble))
    assert y.dtype == dtype
    ulps = np.abs(y - exact) / np.spacing(exact.astype(dtype)).astype(np.longdouble)
    assert float(ulps.max()) <= 2.0, float(ulps.max())


@pytest.mark.parametrize("dtype", FLOATS)
def test_vexp_special_values(dtype):
    from minigrad.kernels import vexp
    info = np.finfo(dtype)
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, np.log(info.max) + 1, -800.0, 1e-30], dtype)
    with np.errstate(over="ignore", under="ignore"):
        expected = np.exp(x)
    np.testing.assert_allclose(vexp.exp(x), expected, rtol=2 * info.eps, atol=0)   # inf, 0, NaN exactly
    assert vexp.exp(x.reshape(2, 5)).shape == (2, 5)
    with pytest.raises(TypeError, match="float32 or float64"):
        vexp.exp(np.ones(3, dtype=np.int64))
    with pytest.raises(TypeError, match="NumPy arrays"):
        vexp.exp([1.0, 2.0])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("amsgrad, maximize, weight_decay, decoupled",
                         [(False, False, 0.0, False), (True, False, 0.0, False), (False, True, 0.1, False),
                          (True, True, 0.1, True), (False, False, 0.1, True)])
def test_fused_adam_is_bitwise_the_numpy_formula(dtype, amsgrad, maximize, weight_decay, decoupled):
    """kernels/optim.py against its NumPy reference and against minigrad.optim's NumPy path (taken
    on strided views, which the kernel refuses): the same bits, so PyTorch's trajectories stay matched."""
    from minigrad.kernels import optim
    from minigrad.optim.adam import adam_update
    rng = np.random.default_rng(4)
    p, g, m = (rng.standard_normal(1001).astype(dtype) for _ in range(3))
    v = np.abs(rng.standard_normal(1001)).astype(dtype)
    v_max = v * dtype(1.01)
    v_max[::7] = 0                                  # amsgrad: the running maximum moves at these
    options = dict(step=3, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=weight_decay, amsgrad=amsgrad,
                   maximize=maximize)
    fused = [a.copy() for a in (p, g, m, v, v_max)]
    optim.adam_step(*fused, **options, decoupled=decoupled)
    reference = [a.copy() for a in (p, g, m, v, v_max)]
    optim.adam_step_ref(*reference, **options, decoupled=decoupled)
    strided = [np.repeat(a, 2)[::2] for a in (p, g, m, v, v_max)]
    assert not optim.serves(*strided)
    adam_update(*strided, **options, decoupled_weight_decay=decoupled)
    for a, b, c in zip(fused, reference, strided):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("momentum, dampening, nesterov, weight_decay, maximize",
                         [(0.0, 0.0, False, 0.0, False), (0.9, 0.0, False, 0.0, False), (0.9, 0.0, True, 1e-2, True),
                          (0.9, 0.1, False, 1e-2, False), (0.0, 0.0, False, 1e-2, True)])
def test_fused_sgd_is_bitwise_the_numpy_formula(dtype, momentum, dampening, nesterov, weight_decay, maximize):
    from minigrad.kernels import optim
    from minigrad.optim.sgd import sgd_update
    rng = np.random.default_rng(5)
    p, g, buf = (rng.standard_normal(1001).astype(dtype) for _ in range(3))
    options = dict(lr=0.1, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay,
                   maximize=maximize)
    fused = [a.copy() for a in (p, g, buf)]
    optim.sgd_step(*fused, **options)
    reference = [a.copy() for a in (p, g, buf)]
    optim.sgd_step_ref(*reference, **options)
    strided = [np.repeat(a, 2)[::2] for a in (p, g, buf)]
    sgd_update(*strided, **options)
    for a, b, c in zip(fused, reference, strided):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_fused_optimizer_updates_check_arguments():
    from minigrad.kernels import optim
    options = dict(step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
                   maximize=False, decoupled=False)
    with pytest.raises(ValueError, match="share one shape"):
        optim.adam_step(np.ones(3), np.ones(4), np.ones(3), np.ones(3), None, **options)
    with pytest.raises(TypeError, match="share one dtype"):
        optim.adam_step(np.ones(3), np.ones(3, np.float32), np.ones(3), np.ones(3), None, **options)
    with pytest.raises(ValueError, match="C-contiguous"):
        optim.sgd_step(np.ones(6)[::2], np.ones(3), None, lr=0.1, momentum=0.0, dampening=0.0, nesterov=False,
                       weight_decay=0.0, maximize=False)
    assert not optim.serves(np.ones(3), np.ones(3, np.float32))
    assert not optim.serves(np.ones(3, np.int64), np.ones(3, np.int64))
