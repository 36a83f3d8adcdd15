"""Convolutional networks: kernels against references, layers and ResNet-18 against PyTorch,
the CIFAR-10 reader, augmentation, and the training commands."""
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.data import CIFAR10
from minigrad.data.transforms import RandomCrop, RandomHorizontalFlip
from minigrad.kernels import conv as conv_k
from minigrad.kernels import pool as pool_k
from minigrad.models import resnet18, resnet18_cifar, resnet34

from helpers import assert_close, host


# ----------------------------------------------------------------------------- kernels vs references
@st.composite
def geometries(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw, dh, dw = (draw(st.integers(1, 3)) for _ in range(4))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    if h + 2 * ph < dh * (kh - 1) + 1 or w + 2 * pw < dw * (kw - 1) + 1:
        ph, pw, dh, dw, kh, kw = 0, 0, 1, 1, 1, 1
    return (n, c, h, w), (kh, kw, sh, sw, ph, pw, dh, dw)


@given(geometries(), st.sampled_from([np.float32, np.float64]))
def test_im2col_and_col2im_match_references(geo, dtype):
    shape, g = geo
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    cols = conv_k.im2col(x, *g)
    assert cols.dtype == dtype
    np.testing.assert_allclose(cols, conv_k.im2col_ref(x, *g))
    back = conv_k.col2im(cols, *shape, *g)
    tol = 1e-5 if dtype == np.float32 else 1e-13       # col2im sums at most kh kw values per pixel, in any order
    np.testing.assert_allclose(back, conv_k.col2im_ref(cols, *shape, *g), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", [(32, 16, 32, 32), (1, 64, 17, 13)])
def test_conv_kernels_parallel_path(shape):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    g = (3, 3, 1, 1, 1, 1, 1, 1)
    cols = conv_k.im2col(x, *g)
    np.testing.assert_array_equal(cols, conv_k.im2col_ref(x, *g))
    np.testing.assert_allclose(conv_k.col2im(cols, *shape, *g), conv_k.col2im_ref(cols, *shape, *g),
                               rtol=1e-5, atol=1e-5)       # float32: 9 values per pixel, in any order


@given(geometries(), st.booleans(), st.booleans())
def test_pool_kernels_match_references(geo, include_pad, use_max):
    (n, c, h, w), (kh, kw, sh, sw, _, _, dh, dw) = geo
    ph, pw = min(kh // 2, 1), min(kw // 2, 1)
    x = np.random.default_rng(2).permutation(n * c * h * w).reshape(n, c, h, w).astype(np.float64)
    if use_max:
        oh, ow = conv_k.output_size(h, kh, sh, ph, dh), conv_k.output_size(w, kw, sw, pw, dw)
        if oh < 1 or ow < 1 or ph > (dh * (kh - 1) + 1) // 2 or pw > (dw * (kw - 1) + 1) // 2:
            return
        out, idx = pool_k.max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
        ref_out, ref_idx = pool_k.max_pool2d_ref(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(idx, ref_idx)
        g = np.ones_like(out)
        dx = pool_k.max_pool2d_backward(g, idx, h, w)
        expected = np.zeros(n * c * h * w)
        flat = idx + (np.arange(n * c) * h * w).reshape(n, c, 1, 1)
        np.add.at(expected, flat[idx >= 0], 1.0)              # -1: a window that missed the input
        np.testing.assert_array_equal(dx.ravel(), expected)
    else:
        oh, ow = conv_k.output_size(h, kh, sh, ph, 1), conv_k.output_size(w, kw, sw, pw, 1)
        if oh < 1 or ow < 1:
            return
        out = pool_k.avg_pool2d_forward(x, kh, kw, sh, sw, ph, pw, oh, ow, include_pad, 0)
        np.testing.assert_allclose(out, pool_k.avg_pool2d_ref(x, kh, kw, sh, sw, ph, pw, oh, ow, include_pad, 0))


def test_max_pool_window_that_misses_the_input(torch):
    """With dilation a window can fall wholly in the padding: -inf out (as PyTorch), no gradient."""
    x = mg.tensor(np.arange(2.0).reshape(1, 1, 2, 1), requires_grad=True)
    out, idx = mg.nn.functional.max_pool2d(x, (2, 1), 1, (1, 0), (3, 1), return_indices=True)
    expected = torch.nn.functional.max_pool2d(torch.tensor(x.detach().numpy()), (2, 1), 1, (1, 0), (3, 1))
    np.testing.assert_array_equal(out.detach().numpy(), expected.numpy())
    assert out.detach().numpy()[0, 0, 0, 0] == -np.inf and idx.numpy()[0, 0, 0, 0] == -1
    out.backward(mg.ones_like(out))
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 1, 2, 1)))


def test_kernels_validate_before_running():
    x = np.zeros((1, 1, 3, 3), np.float32)
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        conv_k.im2col(x, 5, 5)
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        conv_k.im2col(x, 1, 1, 0, 1)
    with pytest.raises(ValueError, match="col2im: columns of shape"):
        conv_k.col2im(np.zeros((9, 10), np.float32), 1, 1, 3, 3, 3, 3)
    with pytest.raises(IndexError, match="index out of range"):
        pool_k.max_pool2d_backward(np.ones((1, 1, 1, 1)), np.array([[[[9]]]]), 3, 3)
    with pytest.raises(TypeError, match="float32 or float64"):
        conv_k.im2col(np.zeros((1, 1, 3, 3), np.int64), 1, 1)


# ----------------------------------------------------------------------------- layers vs PyTorch
LAYERS = [
    (lambda: nn.Conv2d(3, 4, 3, padding=1), lambda t: t.nn.Conv2d(3, 4, 3, padding=1), (2, 3, 6, 5)),
    (lambda: nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False),
     lambda t: t.nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False), (2, 4, 7, 7)),
    (lambda: nn.Conv2d(2, 3, 4, padding="same"), lambda t: t.nn.Conv2d(2, 3, 4, padding="same"), (1, 2, 5, 6)),
    (lambda: nn.Conv1d(3, 5, 3, stride=2, padding=1), lambda t: t.nn.Conv1d(3, 5, 3, stride=2, padding=1), (2, 3, 9)),
    (lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
     lambda t: t.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), (2, 4, 4, 5)),
    (lambda: nn.MaxPool2d(3, 2, 1), lambda t: t.nn.MaxPool2d(3, 2, 1), (2, 3, 7, 7)),
    (lambda: nn.AvgPool2d(2, ceil_mode=True), lambda t: t.nn.AvgPool2d(2, ceil_mode=True), (2, 3, 5, 5)),
    (lambda: nn.AdaptiveAvgPool2d((1, 1)), lambda t: t.nn.AdaptiveAvgPool2d((1, 1)), (2, 3, 4, 4)),
    (lambda: nn.BatchNorm2d(3), lambda t: t.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    (lambda: nn.Upsample(scale_factor=2), lambda t: t.nn.Upsample(scale_factor=2), (2, 3, 3, 4)),
    (lambda: nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True),
     lambda t: t.nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True), (2, 3, 3, 4)),
]


@pytest.mark.parametrize("make, make_torch, shape", LAYERS, ids=lambda v: "" if callable(v) else str(v))
def test_conv_layers_match_pytorch_in_train_and_eval(make, make_torch, shape, torch):
    ours, theirs = make().double(), make_torch(torch).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    for mode in ("train", "eval"):
        ours.train(mode == "train"), theirs.train(mode == "train")
        x = rng.standard_normal(shape)
        xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ym, yt = ours(xm), theirs(xt)
        g = rng.standard_normal(ym.shape)
        ym.backward(g), yt.backward(torch.tensor(g))
        assert_close(ym, yt.detach().numpy(), atol=1e-10, what=f"{mode} forward")
        assert_close(xm.grad, xt.grad.numpy(), atol=1e-10, what=f"{mode} input gradient")
        for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            assert_close(p.grad, tp.grad.numpy(), atol=1e-10, what=f"{mode} gradient of {name}")
            p.grad, tp.grad = None, None


def test_dropout2d_zeroes_whole_channels():
    mg.manual_seed(0)
    out = nn.Dropout2d(0.5)(mg.ones(8, 16, 3, 3))._data
    per_channel = out.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8


def test_conv_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels but weight of shape "
                                         r"\(4, 2, 3, 3\) expects 2"):
        mg.nn.functional.conv2d(mg.randn(1, 3, 5, 5), mg.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        mg.nn.functional.conv2d(mg.randn(1, 1, 2, 2), mg.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        mg.nn.functional.conv2d(mg.randn(1, 1, 4, 4), mg.randn(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="expected a 4-D input"):
        nn.MaxPool2d(2)(mg.randn(3, 4))


# ----------------------------------------------------------------------------- ResNet
def test_resnet_parameter_counts_are_torchvisions():
    assert sum(p.numel() for p in resnet18().parameters()) == 11_689_512
    assert sum(p.numel() for p in resnet34().parameters()) == 21_797_672


def _torch_resnet18(torch, num_classes):
    """torchvision's ResNet-18 written out in torch.nn (torchvision itself does not import here)."""
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, inp, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inp, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inp != planes:
                self.downsample = tnn.Sequential(tnn.Conv2d(inp, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + idt)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU()
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            inp = 64
            for k, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], 1):
                setattr(self, f"layer{k}", tnn.Sequential(Block(inp, planes, stride), Block(planes, planes, 1)))
                inp = planes
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return Net()


def test_resnet18_matches_pytorch_in_float64(torch):
    ours = resnet18(num_classes=5).double()
    theirs = _torch_resnet18(torch, 5).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64))   # layer4 keeps 2x2: batch norm sees 8 values
    y = np.array([1, 3])
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lm = nn.CrossEntropyLoss()(ours(xm), mg.tensor(y))
    lt = torch.nn.CrossEntropyLoss()(theirs(xt), torch.tensor(y))
    lm.backward(), lt.backward()
    assert_close(lm, lt.item(), atol=1e-10)
    assert_close(xm.grad, xt.grad.numpy(), atol=1e-9, rtol=1e-6)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, tp.grad.numpy(), atol=1e-9, rtol=1e-6, what=name)
    for (name, b), tb in zip(ours.named_buffers(), theirs.buffers()):
        assert_close(b, tb.numpy(), atol=1e-10, what=name)
    ours.eval(), theirs.eval()
    ours.load_state_dict(theirs.state_dict())          # and back: PyTorch's weights into ours
    with mg.no_grad(), torch.no_grad():
        assert_close(ours(mg.tensor(x)), theirs(torch.tensor(x)).numpy(), atol=1e-10)


def test_resnet18_cifar_trains_a_step():
    model = resnet18_cifar()
    opt = mg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = mg.randn(2, 3, 32, 32), mg.tensor([0, 1])
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    opt.step()
    assert np.isfinite(loss.item())


# ----------------------------------------------------------------------------- CIFAR-10 and augmentation
def _write_cifar(root, n=10, corrupt=None):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, n))}
        if corrupt == name:
            batch[b"labels"] = batch[b"labels"][:-1]
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"c{k}".encode() for k in range(10)]}))
    return folder


def test_cifar10_reads_the_python_batches(tmp_path):
    folder = _write_cifar(tmp_path)
    train, test = CIFAR10(tmp_path, train=True), CIFAR10(str(folder), train=False)
    assert len(train) == 50 and len(test) == 10 and train.classes[3] == "c3"
    image, label = train[7]
    raw = pickle.loads((folder / "data_batch_1").read_bytes())
    assert image.shape == (3, 32, 32) and image.dtype == mg.float32
    assert_close(image, raw[b"data"][7].reshape(3, 32, 32) / 255.0, atol=1e-7)
    assert label == raw[b"labels"][7]


def test_cifar10_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing data_batch_1"):
        CIFAR10(tmp_path)
    folder = _write_cifar(tmp_path, corrupt="data_batch_3")
    with pytest.raises(ValueError, match=r"data_batch_3: 10 images but 9 labels"):
        CIFAR10(tmp_path)
    (folder / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="data_batch_3 is not a valid CIFAR-10 python batch"):
        CIFAR10(tmp_path)


def test_cifar10_refuses_code_in_pickles(tmp_path):
    folder = _write_cifar(tmp_path)

    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}))
    with pytest.raises(ValueError, match="refusing to load"):
        CIFAR10(tmp_path, train=False)


def test_cifar10_refuses_float_labels_and_files_that_are_not_regular(tmp_path):
    folder = _write_cifar(tmp_path)
    batch = pickle.loads((folder / "test_batch").read_bytes())
    batch[b"labels"] = [k + 0.7 for k in range(10)]              # would have been truncated to 0..9
    (folder / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(ValueError, match="test_batch: 'labels' must be integers, got float64"):
        CIFAR10(tmp_path, train=False)
    (folder / "test_batch").unlink()
    os.symlink("/dev/zero", folder / "test_batch")               # reading it would fill memory
    with pytest.raises(ValueError, match="test_batch: not a regular file"):
        CIFAR10(tmp_path, train=False)


def test_random_crop_and_flip_are_seeded_and_correct():
    x = mg.tensor(np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4))
    a = RandomCrop(4, padding=2, generator=mg.Generator().manual_seed(1))(x)
    b = RandomCrop(4, padding=2, generator=mg.Generator().manual_seed(1))(x)
    assert np.array_equal(a._data, b._data) and a.shape == (2, 3, 4, 4)
    padded = np.pad(x._data, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for n in range(2):           # each crop is a window of the padded image
        assert any(np.array_equal(a._data[n], padded[n, :, i:i + 4, j:j + 4]) for i in range(5) for j in range(5))
    flipped = RandomHorizontalFlip(p=1.0)(x)
    assert np.array_equal(flipped._data, x._data[..., ::-1])
    assert np.array_equal(RandomHorizontalFlip(p=0.0)(x[0])._data, x._data[0])


# ----------------------------------------------------------------------------- training commands
def _cli(*args):
    return subprocess.run([sys.executable, "-m", "minigrad", *args], capture_output=True, text=True)


def test_train_cnn_on_digits_reaches_98_percent(tmp_path):
    result = _cli("train", "cnn", "--out", str(tmp_path), "--no-progress")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.98 and metrics["train_seconds"] < 120


def test_train_resnet18_on_cifar_files(tmp_path):
    _write_cifar(tmp_path / "data", n=4)
    out = tmp_path / "run"
    result = _cli("train", "resnet18_cifar", "--root", str(tmp_path / "data"), "--epochs", "1", "--batch-size", "8",
                  "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "metrics.json").read_text())["data"] == "cifar10"
    missing = _cli("train", "resnet18", "--out", str(tmp_path / "other"))      # (out holds a run now)
    assert missing.returncode == 2 and "needs --root" in missing.stderr


def test_resnet18_cifar10_example_runs(tmp_path):
    _write_cifar(tmp_path, n=2)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, os.path.join(root, "examples", "resnet18_cifar10.py"), "--root",
                             str(tmp_path), "--epochs", "1", "--batch-size", "4"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Accuracy of the network on the 2 test images" in result.stdout


# ----------------------------------------------------------------------------- Winograd F(2x2, 3x3)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(2, 9), st.integers(2, 9), st.integers(0, 2),
       st.sampled_from([np.float32, np.float64]))
def test_winograd_transforms_match_references(n, c, o, h, w, pad, dtype):
    from minigrad.kernels import winograd as wk
    rng = np.random.default_rng(0)
    oh, ow = h + 2 * pad - 2, w + 2 * pad - 2
    if oh < 1 or ow < 1:
        return
    th, tw = -(-oh // 2), -(-ow // 2)
    x = np.zeros((n, c, 2 * th + 2, 2 * tw + 2), dtype)
    x[:, :, pad:pad + h, pad:pad + w] = rng.standard_normal((n, c, h, w))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(wk.input_transform(x, th, tw), wk.input_transform_ref(x, th, tw), rtol=tol, atol=tol)
    m = rng.standard_normal((16, o, n * th * tw)).astype(dtype)
    np.testing.assert_allclose(wk.output_transform(m, n, th, tw, oh, ow), wk.output_transform_ref(m, n, th, tw, oh, ow),
                               rtol=tol, atol=tol)
    dy = rng.standard_normal((n, o, oh, ow)).astype(dtype)
    np.testing.assert_allclose(wk.grad_transform(dy, th, tw), wk.grad_transform_ref(dy, th, tw), rtol=tol, atol=tol)


@pytest.mark.parametrize("cin, cout, pad, size", [(16, 16, 1, 16), (16, 24, 0, 17), (24, 16, 2, 16), (16, 16, 1, 4),
                                                  (16, 32, 1, 5), (32, 16, 0, 8)])
def test_winograd_convolution_matches_pytorch(cin, cout, pad, size, torch):
    from minigrad.ops import conv as conv_ops
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, cin, size, size))
    w = rng.standard_normal((cout, cin, 3, 3)) * 0.1
    b = rng.standard_normal(cout)
    assert conv_ops._method(True, x.shape, w.shape, (1, 1), (pad, pad), (1, 1), 1) == "winograd"
    xm, wm, bm = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ym = mg.nn.functional.conv2d(xm, wm, bm, padding=pad)
    yt = torch.nn.functional.conv2d(xt, wt, bt, padding=pad)
    g = rng.standard_normal(ym.shape)
    ym.backward(g), yt.backward(torch.tensor(g))
    assert_close(ym, yt.detach().numpy(), atol=1e-10)
    for ours, theirs in ((xm, xt), (wm, wt), (bm, bt)):
        assert_close(ours.grad, theirs.grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_winograd_conv_transpose_matches_pytorch(pad, torch):
    """conv_transpose2d runs conv2d's input gradient forward, on Winograd for 3x3 stride 1."""
    from minigrad.ops import conv as conv_ops
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 16, 6, 7)), rng.standard_normal((16, 24, 3, 3)) * 0.1
    out_shape = (2, 24, 6 + 2 - 2 * pad, 7 + 2 - 2 * pad)
    assert conv_ops._method(True, out_shape, w.shape, (1, 1), (pad, pad), (1, 1), 1) == "winograd"
    xm, wm = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ym = mg.nn.functional.conv_transpose2d(xm, wm, padding=pad)
    yt = torch.nn.functional.conv_transpose2d(xt, wt, padding=pad)
    g = rng.standard_normal(ym.shape)
    ym.backward(g), yt.backward(torch.tensor(g))
    assert_close(ym, yt.detach().numpy(), atol=1e-10)
    assert_close(xm.grad, xt.grad.numpy(), atol=1e-9)
    assert_close(wm.grad, wt.grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("cin, cout, k, stride, padding, size", [(3, 8, 3, 1, 1, 16), (5, 7, 1, 1, 0, 17),
                                                                  (4, 6, 3, 2, 1, 33)])
def test_im2col_one_product_per_image_matches_pytorch(cin, cout, k, stride, padding, size, torch):
    """Images with 256+ output positions take the per-image products (no transposes)."""
    from minigrad.ops import conv as conv_ops
    out = (size + 2 * padding - k) // stride + 1
    assert out * out >= conv_ops.PER_IMAGE_MIN
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((3, cin, size, size)), rng.standard_normal((cout, cin, k, k)), rng.standard_normal(cout)
    xm, wm, bm = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ym = mg.nn.functional.conv2d(xm, wm, bm, stride=stride, padding=padding)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
    g = rng.standard_normal(ym.shape)
    ym.backward(g), yt.backward(torch.tensor(g))
    assert_close(ym, yt.detach().numpy(), atol=1e-10)
    for ours, theirs in ((xm, xt), (wm, wt), (bm, bt)):
        assert_close(ours.grad, theirs.grad.numpy(), atol=1e-9)


def test_winograd_convolution_gradcheck():
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((1, 16, 16, 16)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((16, 16, 3, 3)) * 0.1, requires_grad=True)
    assert mg.gradcheck(lambda x, w: mg.nn.functional.conv2d(x, w, padding=1), (x, w))


@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([np.float32, np.float64]))
def test_winograd_filter_transforms_match_references(o, c, dtype):
    from minigrad.kernels import winograd as wk
    rng = np.random.default_rng(0)
    w = rng.standard_normal((o, c, 3, 3)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    u = wk.filter_transform(w)
    np.testing.assert_allclose(u, wk.filter_transform_ref(w), rtol=tol, atol=tol)
    # the input gradient's filters (transposed, flipped) transform to U's planes permuted, transposed
    flipped = wk.filter_transform_ref(np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]))
    np.testing.assert_allclose(np.stack([u[k].T for k in wk.ADJOINT_PLANES]), flipped, rtol=tol, atol=tol)
    du = rng.standard_normal((16, o, c)).astype(dtype)
    np.testing.assert_allclose(wk.filter_gradient(du), wk.filter_gradient_ref(du), rtol=tol, atol=tol)
    with pytest.raises(ValueError, match="3x3 filters"):
        wk.filter_transform(np.zeros((o, c, 2, 3), dtype))


def test_interpolate_rejects_bad_arguments():
    x = mg.zeros((1, 2, 4, 4))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        mg.nn.functional.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        mg.nn.functional.interpolate(x)
    with pytest.raises(NotImplementedError, match="mode 'lanczos' is not supported"):
        mg.nn.functional.interpolate(x, scale_factor=2, mode="lanczos")
    with pytest.raises(ValueError, match="mode 'bicubic' needs a 4-D input"):
        mg.nn.functional.interpolate(mg.zeros((1, 2, 4)), scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners can only be set"):
        mg.nn.functional.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="mode 'linear' needs a 3-D input, got shape"):
        mg.nn.functional.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="size must be a positive int or 2 of them"):
        mg.nn.functional.interpolate(x, size=(3, 4, 5))
    with pytest.raises(ValueError, match="makes an empty output"):
        mg.nn.functional.interpolate(x, scale_factor=0.1)


def test_interpolate_large_upsampling_matches_pytorch(torch):
    """Beyond the registry's small shapes: a 4x nearest, a bilinear and a bicubic resize of a
    feature map (bicubic also down, with the corners aligned: taps clamped at both borders)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 13, 17)).astype(np.float32)
    for kwargs in ({"scale_factor": 4}, {"size": (52, 68), "mode": "bilinear"}, {"size": (52, 68), "mode": "bicubic"},
                   {"size": (6, 9), "mode": "bicubic", "align_corners": True}):
        g = rng.standard_normal((2, 8) + ((6, 9) if kwargs.get("size") == (6, 9) else (52, 68))).astype(np.float32)
        xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ym, yt = mg.nn.functional.interpolate(xm, **kwargs), torch.nn.functional.interpolate(xt, **kwargs)
        ym.backward(g), yt.backward(torch.tensor(g))
        assert_close(ym, yt.detach().numpy(), atol=1e-5)
        assert_close(xm.grad, xt.grad.numpy(), atol=1e-4)


@pytest.mark.parametrize("kwargs, w_shape", [({}, (4, 3, 3, 3)), ({"stride": 2}, (4, 3, 3, 3)), ({}, (4, 3, 1, 1)),
                                              ({"groups": 3}, (3, 1, 3, 3))])
def test_conv2d_on_an_empty_batch_gives_empty_results_as_pytorch(kwargs, w_shape):
    torch = pytest.importorskip("torch")
    x = mg.zeros(0, 3, 8, 8, requires_grad=True)
    w = mg.randn(*w_shape, requires_grad=True)
    b = mg.randn(w_shape[0], requires_grad=True)
    out = F.conv2d(x, w, b, **kwargs)
    out.sum().backward()
    tw = torch.tensor(host(w), requires_grad=True)
    expected = torch.nn.functional.conv2d(torch.zeros(0, 3, 8, 8), tw, torch.tensor(host(b)), **kwargs)
    assert out.shape == tuple(expected.shape) and x.grad.shape == (0, 3, 8, 8)
    np.testing.assert_array_equal(host(w.grad), np.zeros(w_shape))
    np.testing.assert_array_equal(host(b.grad), np.zeros(w_shape[0]))
    y = F.conv_transpose2d(mg.zeros(0, 3, 4, 4), mg.randn(3, 2, 3, 3))
    assert y.shape == (0, 2, 6, 6)


# ----------------------------------------------------------------------------- every path vs the plain reference
@pytest.mark.parametrize("path, n, cin, cout, k, size, stride, padding, dilation, groups", [
    ("conv:winograd", 2, 16, 16, 3, 8, 1, 1, 1, 1),
    ("conv:im2col per image", 2, 3, 4, 3, 17, 1, 1, 1, 1),
    ("conv:im2col per chunk", 3, 4, 6, 3, 7, 2, 1, 2, 1),
    ("conv:im2col per chunk", 2, 4, 6, 2, 6, 1, 0, 1, 2),         # grouped
])
def test_every_conv_path_matches_the_plain_numpy_reference(path, n, cin, cout, k, size, stride, padding, dilation,
                                                           groups):
    """conv2d (forward, input and weight gradient), conv_transpose2d and the weight-gradient op, on
    each algorithm, against ``kernels/conv.py``'s ``conv2d_ref`` / ``conv2d_backward_ref``."""
    from minigrad.ops import conv as conv_ops
    from minigrad.testing import paths
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, cin, size, size))
    w = rng.standard_normal((cout, cin // groups, k, k)) * 0.1
    geo = (stride, stride, padding, padding, dilation, dilation)
    opts = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)

    def per_group(fn, *arrays):                 # the reference has one group: run it on each
        outs = [fn(*[a[:, g * (a.shape[1] // groups):(g + 1) * (a.shape[1] // groups)] if i != 1 else
                      a[g * (a.shape[0] // groups):(g + 1) * (a.shape[0] // groups)] for i, a in enumerate(arrays)])
                for g in range(groups)]
        return outs
    y_ref = np.concatenate(per_group(lambda a, b: conv_k.conv2d_ref(a, b, *geo), x, w), axis=1)
    dy = rng.standard_normal(y_ref.shape)
    grads = per_group(lambda a, b, c: conv_k.conv2d_backward_ref(a, b, c, *geo), x, w, dy)
    dx_ref = np.concatenate([g[0] for g in grads], axis=1)
    dw_ref = np.concatenate([g[1] for g in grads], axis=0)

    with paths.taken() as fired:
        xm, wm = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
        y = F.conv2d(xm, wm, **opts)
        y.backward(mg.tensor(dy))
        y_t = F.conv_transpose2d(mg.tensor(dy), wm.detach(), stride=stride, padding=padding, dilation=dilation,
                                 groups=groups, output_padding=(size + 2 * padding - dilation * (k - 1) - 1) % stride)
        dw_op = conv_ops.Conv2dWeight.apply(mg.tensor(x), mg.tensor(dy), w.shape, (stride,) * 2, (padding,) * 2,
                                            (dilation,) * 2, groups)
    assert not paths.missing(path, fired), path
    assert_close(y, y_ref, atol=1e-10)
    assert_close(xm.grad, dx_ref, atol=1e-10)
    assert_close(wm.grad, dw_ref, atol=1e-10)
    assert_close(y_t, dx_ref, atol=1e-10)
    assert_close(dw_op, dw_ref, atol=1e-10)


@pytest.mark.parametrize("stride,dilation,output_padding", [(1, 2, 1), (2, 3, 1), (1, 3, 2)])
def test_conv_transpose2d_output_padding_past_the_stride_matches_pytorch(stride, dilation, output_padding, torch):
    """output_padding >= stride is legal when dilation > stride: the output then has windows no
    input position maps to (they correlate with zeros); first and second order against PyTorch."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 3, 3, 2)), rng.standard_normal(3)]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    options = dict(stride=stride, dilation=dilation, output_padding=output_padding)
    out = mg.nn.functional.conv_transpose2d(*ours, **options)
    t_out = torch.nn.functional.conv_transpose2d(*theirs, **options)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), atol=1e-12)
    cot = rng.standard_normal(t_out.shape)
    grads = mg.autograd.grad((out * mg.tensor(cot)).sum(), ours, create_graph=True)
    t_grads = torch.autograd.grad((t_out * torch.tensor(cot)).sum(), theirs, create_graph=True)
    for g, tg in zip(grads, t_grads):
        np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), atol=1e-12)
    vs = [rng.standard_normal(a.shape) for a in arrays[:2]]
    second = mg.autograd.grad(sum((g * mg.tensor(v)).sum() for g, v in zip(grads[:2], vs)), ours[:2])
    t_second = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(t_grads[:2], vs)), theirs[:2])
    for g, tg in zip(second, t_second):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), atol=1e-12)


# ----------------------------------------------------------------------------- unbatched inputs
UNBATCHED = [
    ("conv2d", lambda f, x, w: f.conv2d(x, w[0], w[1], padding=1)),
    ("conv2d same", lambda f, x, w: f.conv2d(x, w[0][:, :, :2, :2], None, padding="same")),
    ("conv1d", lambda f, x, w: f.conv1d(x[0], w[0].reshape(4, 27)[:, :21].reshape(4, 7, 3), w[1], stride=2)),
    ("conv_transpose2d", lambda f, x, w: f.conv_transpose2d(x, w[0].transpose(0, 1), None, stride=2,
                                                            output_padding=1)),
    ("max_pool2d", lambda f, x, w: f.max_pool2d(x, 2)),
    ("max_pool2d indices", lambda f, x, w: f.max_pool2d(x, 3, 2, 1, return_indices=True)[0] * 1.0),
    ("avg_pool2d", lambda f, x, w: f.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("adaptive_avg_pool2d", lambda f, x, w: f.adaptive_avg_pool2d(x, (2, 3))),
    ("adaptive_max_pool2d", lambda f, x, w: f.adaptive_max_pool2d(x, 1)),
]


@pytest.mark.parametrize("name, fn", UNBATCHED, ids=[u[0] for u in UNBATCHED])
def test_2d_convolutions_and_pools_take_unbatched_inputs_as_pytorch(name, fn, torch):
    """PyTorch reads a (C, H, W) input (and conv1d a (C, L) one) as a single image: a result
    without the batch dim, the same values and gradients as a batch of one."""
    rng = np.random.default_rng(5)
    x = rng.permutation(3 * 7 * 6).reshape(3, 7, 6) / 50.0           # no ties for the max pools
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    xm = mg.tensor(x, requires_grad=True)
    wm = [mg.tensor(w, requires_grad=True), mg.tensor(b, requires_grad=True)]
    xt = torch.tensor(x, requires_grad=True)
    wt = [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    ym, yt = fn(F, xm, wm), fn(torch.nn.functional, xt, wt)
    assert ym.shape == tuple(yt.shape)
    assert_close(ym, yt.detach().numpy(), atol=1e-12)
    g = rng.standard_normal(ym.shape)
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xm.grad, xt.grad.numpy(), atol=1e-12)
    for pm, pt in zip(wm, wt):
        if pt.grad is not None:
            assert_close(pm.grad, pt.grad.numpy(), atol=1e-12)


def test_a_cnn_runs_on_one_unbatched_image_as_pytorch():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.ConvTranspose2d(4, 2, 2, 2),
                          nn.AdaptiveAvgPool2d(1))
    x = mg.randn(2, 3, 6, 6)
    assert_close(model(x[1]), model(x)[1].detach().numpy(), atol=1e-6)
    assert model(x[1]).shape == (2, 1, 1)
