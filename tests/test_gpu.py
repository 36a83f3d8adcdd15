"""The CuPy side: every GPU kernel against its NumPy reference, and whole training steps on
the GPU against the same steps on the CPU.  Skipped where CuPy or a GPU is missing; the op
registry runs on the GPU with ``MINIGRAD_TEST_DEVICE=cuda``."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not mg.cuda.is_available(), reason="needs CuPy and a CUDA GPU")]


@pytest.fixture(scope="module")
def cp():
    import cupy
    return cupy


def _close(gpu, ref, tol):
    np.testing.assert_allclose(mg.backend.to_device(gpu, mg.backend.CPU), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_gelu_kernel(cp, dtype, tol):
    from minigrad.kernels import activation as k
    x = (np.random.default_rng(0).standard_normal(10000) * 3).astype(dtype)
    g = np.random.default_rng(1).standard_normal(10000).astype(dtype)
    _close(k.gelu_forward(cp.asarray(x)), k.gelu_forward_ref(x), tol)
    _close(k.gelu_backward(cp.asarray(x), cp.asarray(g)), k.gelu_backward_ref(x, g), 10 * tol)


def test_scatter_kernel(cp):
    from minigrad.kernels import scatter as k
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 50, 3000)
    src = rng.standard_normal((3000, 17)).astype(np.float32)
    out = k.index_add_rows(cp.zeros((50, 17), np.float32), cp.asarray(idx), cp.asarray(src))
    _close(out, k.index_add_rows_ref(np.zeros((50, 17), np.float32), idx, src), 1e-4)


@pytest.mark.parametrize("smoothing, ignore", [(0.0, -100), (0.1, 2)])
@pytest.mark.parametrize("n_cls", [3, 10, 1000])
def test_cross_entropy_kernels(cp, smoothing, ignore, n_cls):
    from minigrad.kernels import loss as k
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((300, n_cls)) * 4).astype(np.float64)
    t = rng.integers(0, n_cls, 300)
    w = rng.random(n_cls) + 0.5
    s = rng.standard_normal(300)
    loss, lse = k.cross_entropy_forward(cp.asarray(z), cp.asarray(t), cp.asarray(w), ignore, smoothing)
    ref_loss, ref_lse = k.cross_entropy_forward_ref(z, t, w, ignore, smoothing)
    _close(loss, ref_loss, 1e-10)
    dz = k.cross_entropy_backward(cp.asarray(z), lse, cp.asarray(t), cp.asarray(w), cp.asarray(s), ignore, smoothing)
    _close(dz, k.cross_entropy_backward_ref(z, ref_lse, t, w, ignore, smoothing, s), 1e-10)


@pytest.mark.parametrize("geo", [(3, 3, 1, 1, 1, 1, 1, 1), (3, 2, 2, 1, 1, 0, 1, 2), (1, 1, 2, 2, 0, 0, 1, 1)])
def test_conv_kernels(cp, geo):
    from minigrad.kernels import conv as k
    x = np.random.default_rng(0).standard_normal((3, 4, 9, 8))
    cols = k.im2col(cp.asarray(x), *geo)
    _close(cols, k.im2col_ref(x, *geo), 1e-12)
    _close(k.col2im(cols, 3, 4, 9, 8, *geo), k.col2im_ref(k.im2col_ref(x, *geo), 3, 4, 9, 8, *geo), 1e-10)


@pytest.mark.parametrize("include_pad", [True, False])
def test_pool_kernels(cp, include_pad):
    from minigrad.kernels import pool as k
    x = np.random.default_rng(0).permutation(2 * 3 * 9 * 8).reshape(2, 3, 9, 8).astype(np.float64)
    out, idx = k.max_pool2d_forward(cp.asarray(x), 3, 3, 2, 2, 1, 1, 1, 1, 5, 4)
    ref, ref_idx = k.max_pool2d_ref(x, 3, 3, 2, 2, 1, 1, 1, 1, 5, 4)
    _close(out, ref, 0)
    _close(idx, ref_idx, 0)
    g = np.random.default_rng(1).standard_normal(ref.shape)
    cpu_dx = k.max_pool2d_backward(g, ref_idx, 9, 8)
    _close(k.max_pool2d_backward(cp.asarray(g), idx, 9, 8), cpu_dx, 1e-12)
    avg = k.avg_pool2d_forward(cp.asarray(x), 3, 2, 2, 1, 1, 1, 5, 5, include_pad, 0)
    _close(avg, k.avg_pool2d_ref(x, 3, 2, 2, 1, 1, 1, 5, 5, include_pad, 0), 1e-12)
    gy = np.random.default_rng(2).standard_normal((2, 3, 5, 5))
    _close(k.avg_pool2d_backward(cp.asarray(gy), 9, 8, 3, 2, 2, 1, 1, 1, include_pad, 0),
           k.avg_pool2d_backward(gy, 9, 8, 3, 2, 2, 1, 1, 1, include_pad, 0), 1e-12)


def _same_start(model_fn, dtype):
    mg.manual_seed(0)
    cpu = model_fn().to(dtype)
    gpu = model_fn().to(dtype)
    gpu.load_state_dict(cpu.state_dict())
    return cpu, gpu.to("cuda")


@pytest.mark.parametrize("name", ["mlp", "cnn", "resnet18_cifar"])
def test_training_steps_on_gpu_match_cpu(name):
    from minigrad import models
    make = {"mlp": lambda: models.mlp(48, 32, 10), "cnn": lambda: models.small_cnn(10, 3),
            "resnet18_cifar": lambda: models.resnet18_cifar(10)}[name]
    cpu, gpu = _same_start(make, mg.float64)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 8, 8) if name != "mlp" else (4, 48))
    y = rng.integers(0, 10, 4)
    results = []
    for model, device in ((cpu, "cpu"), (gpu, "cuda")):
        opt = mg.optim.Adam(model.parameters(), lr=1e-3)
        model.eval() if name == "cnn" else model.train()     # (cnn has dropout: its masks differ by device)
        for _ in range(2):
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(mg.tensor(x, dtype=mg.float64, device=device)), mg.tensor(y, device=device))
            loss.backward()
            opt.step()
        results.append((loss.item(), {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}))
    assert abs(results[0][0] - results[1][0]) < 1e-9
    for key, value in results[0][1].items():
        # Adam divides by sqrt(v): tiny gradients (1e-10 apart across devices) can move a weight by 1e-10
        np.testing.assert_allclose(results[1][1][key], value, rtol=1e-6, atol=1e-9, err_msg=key)


def test_mixing_devices_is_an_error():
    with pytest.raises(RuntimeError, match=r"Mul: expected all tensors on the same device, got input 0 on cpu, input 1 on cuda:0"):
        mg.ones(2) * mg.ones(2, device="cuda")


def test_gradcheck_on_gpu():
    x = mg.randn(3, 4, dtype=mg.float64, device="cuda", requires_grad=True)
    w = mg.randn(5, 4, dtype=mg.float64, device="cuda", requires_grad=True)
    assert mg.gradcheck(lambda x, w: nn.functional.gelu(nn.functional.linear(x, w)).log_softmax(1), (x, w))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_kernels(cp, training):
    from minigrad.kernels import norm as k
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((8, 5, 30)), rng.standard_normal((8, 5, 30))
    w = rng.standard_normal(5)
    mean, var = k.batch_norm_stats(cp.asarray(x))
    ref_mean, ref_var = k.batch_norm_stats_ref(x)
    _close(mean, ref_mean, 1e-12)
    _close(var, ref_var, 1e-12)
    rstd = 1 / np.sqrt(ref_var + 1e-5)
    for got, want in zip(k.batch_norm_backward(cp.asarray(g), cp.asarray(x), cp.asarray(ref_mean), cp.asarray(rstd),
                                               cp.asarray(w), training),
                         k.batch_norm_backward_ref(g, x, ref_mean, rstd, w, training)):
        _close(got, want, 1e-10)
