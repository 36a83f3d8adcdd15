"""Training: the command line, metrics, checkpoints written atomically, exact resumption."""
import io
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
        np.testing.assert_array_equal(a._data, b._data, err_msg=name)


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
    np.testing.assert_array_equal(t.optimizer.state[p]["exp_avg"]._data, opt.state[q]["exp_avg"]._data)


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


# ----------------------------------------------------------------------------- misuse of the train command
def _run(out, **kwargs):
    """``python -m minigrad train mlp`` in this process, 1 epoch by default; returns (metrics, log lines)."""
    from minigrad.tasks import run
    lines = []
    kwargs.setdefault("epochs", 1)
    return run("mlp", out=str(out), progress=False, log=lines.append, **kwargs), lines


def test_resume_applies_a_new_lr_and_refuses_another_seed(tmp_path):
    from minigrad.tasks import UsageError
    _run(tmp_path, lr=1e-3, batch_size=64, seed=3)
    metrics, lines = _run(tmp_path, epochs=2, lr=5e-3, resume=True)
    assert "--lr 0.005 replaces the checkpoint's learning rate 0.001" in lines
    assert metrics["lr"] == 5e-3 and metrics["seed"] == 3 and metrics["batch_size"] == 64   # the rest: the checkpoint's
    assert "batch 64, lr 0.005, seed 3" in lines[2]
    model = mg.models.mlp(64, 256, 10)
    opt = Adam(model.parameters())
    meta = load_checkpoint(tmp_path / "checkpoint.npz", model, opt)
    assert opt.param_groups[0]["lr"] == 5e-3 and meta["run"]["lr"] == 5e-3
    metrics, _ = _run(tmp_path, epochs=3, resume=True)                       # no --lr: the checkpoint's
    assert metrics["lr"] == 5e-3
    with pytest.raises(UsageError, match="--seed 4 differs from the checkpoint's seed 3"):
        _run(tmp_path, epochs=4, seed=4, resume=True)


def test_a_fresh_run_never_overwrites_an_existing_one_without_overwrite(tmp_path):
    from minigrad.tasks import UsageError
    _run(tmp_path)
    before = (tmp_path / "checkpoint.npz").read_bytes()
    with pytest.raises(UsageError, match=r"already holds a run \(mlp on digits, epoch 1\); .*--resume.*--overwrite"):
        _run(tmp_path, seed=1)
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    metrics, _ = _run(tmp_path, seed=1, overwrite=True)
    assert metrics["seed"] == 1 and (tmp_path / "checkpoint.npz").read_bytes() != before


def test_a_diverging_run_stops_with_exit_1_and_keeps_the_good_checkpoint(tmp_path):
    _run(tmp_path)
    before = (tmp_path / "checkpoint.npz").read_bytes()
    result = _cli("train", "mlp", "--out", str(tmp_path), "--overwrite", "--lr", "1e30", "--epochs", "2",
                  "--no-progress")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("minigrad train: epoch 1, batch ")
    assert "the training loss is nan" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    result = _cli("train", "mlp", "--out", str(tmp_path / "other"), "--lr", "inf")
    assert result.returncode == 2 and "--lr must be positive and finite, got inf" in result.stderr


def test_a_checkpoint_with_non_finite_weights_is_never_written(tmp_path):
    from minigrad.train import NonFiniteWeightsError
    t = _trainer()
    path = tmp_path / "ck.npz"
    t.save_checkpoint(path)
    before = path.read_bytes()
    next(iter(t.model.parameters()))._data[0, 0] = np.inf
    with pytest.raises(NonFiniteWeightsError, match="0.weight holds nan or inf; .*ck.npz was not written"):
        t.save_checkpoint(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ck.npz"]


def _edit_meta(raw_path, edit):
    with np.load(raw_path) as data:
        arrays = {k: data[k] for k in data.files}
    document = json.loads(arrays["meta"].tobytes())
    edit(document)
    arrays["meta"] = np.frombuffer(json.dumps(document).encode(), np.uint8)
    with open(raw_path, "wb") as f:
        np.savez(f, **arrays)


def _drop_param_groups(document):
    for entry in document["optimizer"]["__dict__"]:
        if entry[0] == "param_groups":
            entry[1] = {"__list__": [], "tuple": False}


def _deflate_bomb(path):
    """A few kilobytes that declare an array of 8 GB (a .npy header, then zeros, compressed)."""
    import zipfile
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (1 << 30,)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("meta.npy", header.getvalue() + bytes(1 << 20))


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "truncated or corrupt"),
    (lambda p: p.write_bytes(b""), "truncated or corrupt"),
    (lambda p: p.write_bytes(bytes(range(256)) * 40), "truncated or corrupt"),
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)), "truncated or corrupt"),
    (lambda p: p.write_bytes(bytes(b ^ 0xFF if 2000 <= i < 2064 else b for i, b in enumerate(p.read_bytes()))),
     "truncated or corrupt|damaged metadata|does not fit"),
    (lambda p: _edit_meta(p, lambda d: d["meta"].update(epoch="three")), "damaged metadata .*'epoch'"),
    (lambda p: _edit_meta(p, lambda d: d.pop("model")), "damaged metadata"),
    (lambda p: _edit_meta(p, lambda d: d["meta"].update(history=None)), "damaged metadata .*'history'"),
    (lambda p: _edit_meta(p, lambda d: d["meta"]["rng"].update(default_cpu={"seed": "x"})), "damaged metadata"),
    (lambda p: _edit_meta(p, lambda d: d["model"]["__dict__"].pop()), "does not fit this model"),
    (lambda p: _edit_meta(p, _drop_param_groups), "does not fit this model"),
    (_deflate_bomb, "meta.npy is compressed"),
    (lambda p: (p.unlink(), p.mkdir()), "not a regular file"),
    (lambda p: (p.unlink(), os.mkfifo(p)), "not a regular file"),
])
def test_a_damaged_checkpoint_is_one_line_and_changes_nothing(tmp_path, damage, message):
    path = tmp_path / "ck.npz"
    _trainer().save_checkpoint(path)
    damage(path)
    t = _trainer(seed=5)
    t.fit(1)
    before = ({k: v._data.copy() for k, v in t.model.state_dict().items()}, t.epoch, t.optimizer.param_groups[0]["lr"],
              mg.backend.default_generator().get_state()["state"]["state"])
    with pytest.raises(RuntimeError, match=message) as info:
        t.load_checkpoint(path)
    assert "ck.npz" in str(info.value) and "\n" not in str(info.value) and "allow_pickle" not in str(info.value)
    assert (t.epoch, t.optimizer.param_groups[0]["lr"]) == before[1:3]
    assert mg.backend.default_generator().get_state()["state"]["state"] == before[3]
    for name, value in t.model.state_dict().items():
        np.testing.assert_array_equal(value._data, before[0][name], err_msg=name)


def test_the_cli_resumes_from_a_damaged_checkpoint_with_one_line(tmp_path):
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really")
    result = _cli("train", "mlp", "--out", str(tmp_path), "--resume", "--no-progress")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "checkpoint.npz" in result.stderr


def test_out_that_is_a_file_or_cannot_be_a_folder_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    for out, message in ((tmp_path / "file", "is a file, not a folder"),
                         (tmp_path / "file" / "run", "cannot create the folder")):
        result = _cli("train", "mlp", "--out", str(out), "--epochs", "1")
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_full_disk_stops_with_one_line_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    import errno

    from minigrad import train
    from minigrad.tasks import TrainingFailed
    _run(tmp_path)
    before = (tmp_path / "checkpoint.npz").read_bytes()

    def full(f, **arrays):
        f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train.np, "savez", full)
    with pytest.raises(TrainingFailed, match="cannot write .*checkpoint.npz: No space left on device; the last "
                                             "good checkpoint is kept"):
        _run(tmp_path, epochs=2, resume=True)
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz", "curves.png", "metrics.json"]


def test_temporaries_of_interrupted_saves_are_removed_by_the_next_run(tmp_path):
    stale = [tmp_path / ".checkpoint-abc123.npz", tmp_path / ".metrics-x1.json"]
    for p in stale:
        p.write_bytes(b"half a file")
    keep = tmp_path / ".checkpoint-notes.txt"
    keep.write_text("not ours")
    _, lines = _run(tmp_path)
    assert not any(p.exists() for p in stale) and keep.exists()
    assert f"removed 2 temporary file(s) an interrupted save left in {tmp_path}" in lines


def test_train_reports_the_whole_run_and_every_file_it_wrote(tmp_path):
    first, _ = _run(tmp_path)
    metrics, lines = _run(tmp_path, epochs=2, resume=True)
    assert metrics["train_seconds"] == pytest.approx(sum(metrics["history"]["seconds"]))
    assert metrics["train_seconds"] > first["train_seconds"]
    assert "1 epoch, batch 32" in _run(tmp_path / "one")[1][0]
    written = [os.path.join(str(tmp_path), name) for name in ("checkpoint.npz", "metrics.json")]
    assert lines[-1].split("wrote ")[1].startswith(", ".join(written))


def test_train_help_lists_every_data_set():
    result = subprocess.run([sys.executable, "-m", "minigrad", "train", "--help"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "300"})
    for name in ("digits", "mnist", "fashion-mnist", "cifar10", "imdb", "--overwrite"):
        assert name in result.stdout


def _write_idx_set(root, n_train, n_test):
    raw = root / "MNIST" / "raw"
    os.makedirs(raw, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            b"\x00\x00\x08\x03" + np.array([n, 28, 28], ">i4").tobytes() + bytes(n * 784))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + np.array([n], ">i4").tobytes()
                                                          + bytes(n))


def test_data_that_would_train_on_nothing_is_refused(tmp_path):
    result = _cli("train", "mlp", "--root", str(tmp_path), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "--root" in result.stderr and "--data" in result.stderr
    assert not (tmp_path / "run").exists()
    _write_idx_set(tmp_path, 0, 5)
    result = _cli("train", "mlp", "--data", "mnist", "--root", str(tmp_path), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "the training set is empty" in result.stderr


def test_missing_mnist_files_give_advice_that_fits_the_cli(tmp_path):
    result = _cli("train", "mlp", "--data", "mnist", "--root", str(tmp_path), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "download=True" not in result.stderr
    assert "train-images-idx3-ubyte not found" in result.stderr and "does not download" in result.stderr


def test_a_full_disk_when_writing_metrics_is_one_line(tmp_path, monkeypatch):
    import errno

    from minigrad import tasks
    from minigrad.tasks import TrainingFailed

    def full(path, obj):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(tasks, "_write_json", full)
    with pytest.raises(TrainingFailed, match="cannot write .*metrics.json in .*: No space left on device"):
        _run(tmp_path)
    assert (tmp_path / "checkpoint.npz").exists()


def test_resuming_with_edited_run_settings_falls_back_to_flags_and_defaults(tmp_path):
    _run(tmp_path, batch_size=64)
    _edit_meta(tmp_path / "checkpoint.npz", lambda d: d["meta"]["run"].update(batch_size="x", lr=None, seed=[1]))
    metrics, _ = _run(tmp_path, epochs=2, resume=True)
    assert metrics["batch_size"] == 32 and metrics["seed"] == 0 and metrics["lr"] == 1e-3


def test_resume_says_when_there_is_nothing_to_resume(tmp_path):
    _, lines = _run(tmp_path, resume=True)
    assert lines[0] == f"--resume: no checkpoint in {tmp_path} yet; starting a fresh run"


def test_fitting_on_an_empty_loader_is_an_error_not_a_zero_loss():
    t = _trainer()
    t.train_loader = DataLoader(TensorDataset(mg.zeros(0, 5), mg.zeros(0, dtype=mg.int64)), batch_size=8)
    with pytest.raises(ValueError, match="the training loader gave no samples"):
        t.fit(1)
    assert t.epoch == 0 and t.history["train_loss"] == []
