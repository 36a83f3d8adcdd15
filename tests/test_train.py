"""Training: the command line, metrics, checkpoints written atomically, exact resumption."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.optim import Adam
from minigrad.train import Trainer, load_checkpoint, save_checkpoint


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return TensorDataset(mg.tensor(x), mg.tensor(y))


def _trainer(seed=0):
    mg.manual_seed(seed)
    gen = mg.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
    loader = DataLoader(_problem(), batch_size=8, shuffle=True, generator=gen)
    return Trainer(model, Adam(model.parameters(), lr=0.01), nn.CrossEntropyLoss(), loader,
                   DataLoader(_problem(1), batch_size=32), progress=False, log=lambda s: None, generator=gen)


def test_resuming_from_a_checkpoint_continues_exactly(tmp_path):
    straight = _trainer()
    straight.fit(6)
    first = _trainer()
    first.fit(3, checkpoint=tmp_path / "ck.npz")
    resumed = _trainer(seed=99)                 # a different seed: everything must come from the checkpoint
    resumed.load_checkpoint(tmp_path / "ck.npz")
    assert resumed.epoch == 3
    resumed.fit(6)
    assert resumed.history["train_loss"] == straight.history["train_loss"]
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_checkpoint_round_trip_keeps_optimizer_state(tmp_path):
    t = _trainer()
    t.fit(1)
    save_checkpoint(tmp_path / "c.npz", t.model, t.optimizer, {"note": "x"})
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
    opt = Adam(model.parameters(), lr=0.5)
    meta = load_checkpoint(tmp_path / "c.npz", model, opt)
    assert meta == {"note": "x"} and opt.param_groups[0]["lr"] == 0.01
    p = next(iter(t.model.parameters()))
    q = next(iter(model.parameters()))
    np.testing.assert_array_equal(t.optimizer.state[p]["exp_avg"].data, opt.state[q]["exp_avg"].data)


def test_a_failed_write_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    t = _trainer()
    path = tmp_path / "ck.npz"
    t.save_checkpoint(path)
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        t.save_checkpoint(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]       # no temporary file left


def test_loading_a_bad_file_names_it(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="bad.npz"):
        load_checkpoint(bad, nn.Linear(2, 2))


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "minigrad", *args], capture_output=True, text=True, cwd=cwd)


def test_train_mlp_on_the_bundled_digits_reaches_97_percent(tmp_path):
    out = tmp_path / "run"
    result = _cli("train", "mlp", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.97
    assert metrics["train_seconds"] < 30
    assert len(metrics["history"]["train_loss"]) == 20
    assert result.stdout.count("epoch ") >= 20 and "test accuracy" in result.stdout
    assert (out / "checkpoint.npz").exists()


@pytest.mark.parametrize("args, message", [
    (["train", "mlp", "--data", "mnist"], "needs --root"),
    (["train", "mlp", "--data", "mnist", "--root", "/nonexistent"], "train-images-idx3-ubyte"),
    (["train", "mlp", "--data", "cifar"], "not available for mlp"),
    (["train", "mlp", "--epochs", "0"], "--epochs must be positive"),
    (["train", "mlp", "--device", "tpu"], "unknown device"),
])
def test_bad_arguments_give_one_clear_line(args, message, tmp_path):
    result = _cli(*args, "--out", str(tmp_path))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_train_mlp_on_mnist_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    os.makedirs(raw)
    for prefix, n in (("train", 64), ("t10k", 32)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 50).astype(np.uint8)
        images[np.arange(n), labels, labels] = 255           # a learnable mark
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            b"\x00\x00\x08\x03" + np.array([n, 28, 28], ">i4").tobytes() + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + np.array([n], ">i4").tobytes()
                                                          + labels.tobytes())
    out = tmp_path / "run"
    result = _cli("train", "mlp", "--data", "mnist", "--root", str(tmp_path), "--epochs", "2", "--out", str(out),
                  "--no-progress")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "metrics.json").read_text())["parameters"] == 784 * 256 + 256 + 256 * 10 + 10


def test_training_writes_curves_when_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.tasks import run
    metrics = run("mlp", epochs=2, out=str(tmp_path), progress=False, log=lambda s: None)
    png = (tmp_path / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert set(metrics["history"]) >= {"train_loss", "test_accuracy"}


def test_keras_mlp_example_runs():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, os.path.join(root, "examples", "keras_mlp.py"), "--epochs", "1"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout
