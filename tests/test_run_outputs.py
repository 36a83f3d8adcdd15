"""python -m minigrad train --save-format pt|safetensors|npz --tensorboard DIR."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.models import mlp
from minigrad.tasks import UsageError, run


def _quiet(*args, **kwargs):
    pass


def test_pt_checkpoint_and_tensorboard_logs_each_epoch(tmp_path):
    pytest.importorskip("tensorboardX")
    from test_tensorboard import read_events
    metrics = run("mlp", epochs=2, out=str(tmp_path), progress=False, log=_quiet, save_format="pt",
                  tensorboard=str(tmp_path / "tb"))
    saved = mg.load(tmp_path / "checkpoint.pt")
    assert saved["epoch"] == 2 and saved["history"]["test_accuracy"] == metrics["history"]["test_accuracy"]
    model = mlp(64, 256, 10)
    model.load_state_dict(saved["model"])
    assert saved["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3)
    assert (tmp_path / "checkpoint.npz").exists()                  # what --resume reads, in every format
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:                                           # PyTorch's own safe loader reads it
        theirs = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
        assert theirs["epoch"] == 2 and torch.equal(theirs["model"]["1.weight"],
                                                    torch.from_numpy(saved["model"]["1.weight"].numpy()))
    events = read_events(str(tmp_path / "tb"))
    logged = {}
    for e in events:
        for v in e.summary.value:
            logged.setdefault(v.tag, []).append((e.step, v.simple_value))
    assert [s for s, _ in logged["loss/train"]] == [1, 2]
    np.testing.assert_allclose([v for _, v in logged["accuracy/test"]], metrics["history"]["test_accuracy"], rtol=1e-6)
    assert logged["learning_rate"] == [(1, pytest.approx(1e-3)), (2, pytest.approx(1e-3))]
    assert {"grad_norm/1.weight", "grad_norm/3.bias"} <= logged.keys()
    assert all(v > 0 for _, v in logged["grad_norm/1.weight"])


def test_safetensors_weights_from_the_command_line(tmp_path):
    pytest.importorskip("safetensors")
    root = os.path.dirname(os.path.dirname(os.path.abspath(mg.__file__)))
    result = subprocess.run([sys.executable, "-m", "minigrad", "train", "mlp", "--epochs", "1", "--no-progress",
                             "--out", str(tmp_path), "--save-format", "safetensors"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": root})
    assert result.returncode == 0, result.stderr
    model = mlp(64, 256, 10)
    model.load_state_dict(mg.load_safetensors(tmp_path / "model.safetensors"))


def test_unknown_save_format_is_one_clear_error(tmp_path):
    with pytest.raises(UsageError, match="--save-format must be one of npz, pt, safetensors"):
        run("mlp", epochs=1, out=str(tmp_path), progress=False, log=_quiet, save_format="h5")
