"""minigrad.save / minigrad.load: PyTorch's zip checkpoint format, without PyTorch."""
import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.models import mlp, resnet18_cifar
from minigrad.optim import Adam

TINY = os.path.join(os.path.dirname(__file__), "data", "torch_tiny.pt")   # written by torch.save (2.13)


def _rezip(path, edit):
    """Copy the archive at ``path`` with ``edit(name, data) -> data`` applied to every entry."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, edit(name, src.read(name)))
    return out.getvalue()


def test_reads_a_file_torch_wrote_without_torch():
    obj = mg.load(TINY)
    np.testing.assert_array_equal(obj["model"]["fc.weight"].numpy(), [[0.5, -1.25], [2.0, 3.5]])
    np.testing.assert_array_equal(obj["model"]["fc.bias"].numpy(), [0.25, -0.75])
    np.testing.assert_array_equal(obj["view"].numpy(), np.arange(12.0).reshape(3, 4)[1:, ::2])   # offset, strides
    assert obj["ints"].dtype == mg.int64 and obj["ints"].tolist() == [1, -2, 3]
    assert obj["half"].dtype == mg.float16 and obj["half"].tolist() == [1.5, -2.0]
    assert obj["mask"].dtype == mg.bool and obj["mask"].tolist() == [True, False, True]
    assert (obj["step"], obj["lr"], obj["names"]) == (7, 0.01, ["a", "b"])
    model = nn.Sequential()
    model.fc = nn.Linear(2, 2)
    model.load_state_dict(obj["model"])
    assert model.fc.weight.tolist() == [[0.5, -1.25], [2.0, 3.5]]


def test_round_trip_state_dicts_optimizer_and_nested_values(tmp_path):
    mg.manual_seed(0)
    model = mlp(6, 5, 3)
    opt = Adam(model.parameters(), lr=0.01)
    model(mg.randn(4, 6)).sum().backward()
    opt.step()
    obj = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
           "extra": [mg.arange(4, dtype=mg.int32), (mg.tensor(2.5, dtype=mg.float64), None, "s")]}
    mg.save(obj, tmp_path / "ckpt.pt")
    back = mg.load(tmp_path / "ckpt.pt")
    for k, v in obj["model"].items():
        assert back["model"][k].dtype == v.dtype and back["model"][k].shape == v.shape
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    state = back["optimizer"]["state"][0]
    np.testing.assert_array_equal(state["exp_avg"].numpy(), obj["optimizer"]["state"][0]["exp_avg"].numpy())
    assert back["optimizer"]["param_groups"] == obj["optimizer"]["param_groups"]
    assert back["epoch"] == 3 and back["extra"][0].tolist() == [0, 1, 2, 3]
    assert back["extra"][1][0].shape == () and back["extra"][1][0].item() == 2.5 and back["extra"][1][1:] == (None, "s")
    fresh = Adam(mlp(6, 5, 3).parameters())
    fresh.load_state_dict(back["optimizer"])


def test_shared_arrays_and_parameters_survive(tmp_path):
    w = nn.Parameter(mg.randn(3, 2))
    buf = io.BytesIO()
    mg.save({"a": w, "b": w}, buf)
    buf.seek(0)
    back = mg.load(buf)
    assert isinstance(back["a"], nn.Parameter) and back["a"].requires_grad and back["a"] is back["b"]


def test_malicious_pickle_is_refused_by_name(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    good = tmp_path / "good.pt"
    mg.save({"w": mg.ones(2)}, good)
    payload = pickle.dumps({"w": Evil()}, protocol=2)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(_rezip(good, lambda name, data: payload if name.endswith("data.pkl") else data))
    with pytest.raises(pickle.UnpicklingError, match=r"global (posix|nt|os)\.system"):
        mg.load(bad)
    assert not marker.exists()


@pytest.mark.parametrize("how", ["truncated", "flipped byte", "empty", "not a zip"])
def test_damaged_archives_give_a_clear_error(tmp_path, how):
    path = tmp_path / "m.pt"
    mg.save({"w": mg.arange(64, dtype=mg.float32)}, path)
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "flipped byte":
        data[data.index(np.float32(17).tobytes())] ^= 0xFF          # inside the storage: a CRC mismatch
    elif how == "empty":
        data = b""
    else:
        data = b"hello world" * 10
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"minigrad.load: .*m\.pt .*(truncated|corrupted|empty)"):
        mg.load(path)


def test_legacy_and_unsupported_dtypes_are_named(tmp_path):
    legacy = tmp_path / "old.pt"
    legacy.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2))
    with pytest.raises(RuntimeError, match="legacy"):
        mg.load(legacy)
    bf16 = tmp_path / "bf16.pt"
    bf16.write_bytes(_rezip(TINY, lambda name, data: data.replace(b"HalfStorage", b"BFloat16Storage")
                            if name.endswith("data.pkl") else data))
    with pytest.raises(TypeError, match="bfloat16"):
        mg.load(bf16)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    mg.save({"w": mg.ones(3)}, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"w": mg.zeros(300)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.pt"]


def test_torch_reads_what_minigrad_saves_and_back(tmp_path, torch):
    mg.manual_seed(0)
    model = resnet18_cifar(num_classes=10).eval()
    mg.save(model.state_dict(), tmp_path / "mg.pt")
    theirs = torch.load(tmp_path / "mg.pt")                     # weights_only=True: torch's own safe loader
    for k, v in model.state_dict().items():
        assert np.array_equal(theirs[k].numpy(), v.numpy()), k
    theirs["extra"] = torch.arange(10.0)[2:8:2]                 # a strided view with an offset
    torch.save(theirs, tmp_path / "torch.pt")
    back = mg.load(tmp_path / "torch.pt")
    assert back.pop("extra").tolist() == [2.0, 4.0, 6.0]
    other = resnet18_cifar(num_classes=10).eval()
    other.load_state_dict(back)
    x = mg.randn(2, 3, 32, 32)
    with mg.no_grad():
        assert np.array_equal(model(x).numpy(), other(x).numpy())


def test_torch_dtypes_minigrad_lacks_are_refused(tmp_path, torch):
    torch.save({"w": torch.ones(2, dtype=torch.complex64)}, tmp_path / "c.pt")
    with pytest.raises(TypeError, match="complex64"):
        mg.load(tmp_path / "c.pt")


def test_map_location(tmp_path, monkeypatch):
    mg.save({"w": mg.ones(2)}, tmp_path / "m.pt")
    assert mg.load(tmp_path / "m.pt", map_location="cpu")["w"].device == "cpu"
    assert mg.load(tmp_path / "m.pt", map_location={"cpu": "cpu"})["w"].device == "cpu"
    if mg.cuda.is_available():
        return
    from minigrad import serialization
    cpu_id = serialization._TorchPickler.persistent_id
    monkeypatch.setattr(serialization._TorchPickler, "persistent_id",      # as if saved from a GPU
                        lambda self, obj: (lambda pid: pid and pid[:3] + ("cuda:0",) + pid[4:])(cpu_id(self, obj)))
    mg.save({"w": mg.ones(2)}, tmp_path / "gpu.pt")
    with pytest.raises(RuntimeError, match=r"cuda:0 but CUDA is not available; pass map_location='cpu'"):
        mg.load(tmp_path / "gpu.pt")
    assert mg.load(tmp_path / "gpu.pt", map_location={"cuda:0": "cpu"})["w"].tolist() == [1.0, 1.0]
    # PyTorch's function form: the storage on the CPU and the saved location in, the storage out
    seen = []
    loaded = mg.load(tmp_path / "gpu.pt", map_location=lambda storage, loc: seen.append(loc) or storage)
    assert loaded["w"].device == "cpu" and loaded["w"].tolist() == [1.0, 1.0] and seen == ["cuda:0"]
    assert mg.load(tmp_path / "gpu.pt", map_location=lambda storage, loc: storage.cpu())["w"].device == "cpu"
    with pytest.raises(RuntimeError, match="CUDA is not available"):        # None: where it was saved
        mg.load(tmp_path / "gpu.pt", map_location=lambda storage, loc: None)
    with pytest.raises(TypeError, match="map_location returned a str"):
        mg.load(tmp_path / "gpu.pt", map_location=lambda storage, loc: "cpu")


def test_map_location_function_on_a_torch_checkpoint(tmp_path, torch):
    """The idiom of older scripts: torch.load(path, map_location=lambda storage, loc: storage)."""
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 4)
    torch.save(theirs.state_dict(), tmp_path / "lstm.pt")
    ours = mg.nn.LSTM(3, 4)
    ours.load_state_dict(mg.load(tmp_path / "lstm.pt", map_location=lambda storage, loc: storage))
    for name, p in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name].numpy(), p.numpy())


def test_extras_are_not_imported_with_minigrad():
    code = ("import sys, minigrad; minigrad.onnx; minigrad.utils; print(sorted(m for m in "
            "('torch', 'onnx', 'onnxruntime', 'safetensors', 'tensorboardX') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(mg.__file__))})
    assert out.stdout.strip() == "[]"


def test_torch_optimizer_state_dict_loads_into_minigrad(tmp_path, torch):
    theirs = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    theirs(torch.randn(4, 3)).sum().backward()
    opt.step()
    torch.save({"model": theirs.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "t.pt")
    back = mg.load(tmp_path / "t.pt")
    ours = nn.Linear(3, 2)
    ours.load_state_dict(back["model"])
    ours_opt = Adam(ours.parameters(), lr=0.01)
    ours_opt.load_state_dict(back["optimizer"])
    state = ours_opt.state_dict()["state"][0]
    np.testing.assert_array_equal(state["exp_avg"].numpy(), opt.state_dict()["state"][0]["exp_avg"].numpy())


def test_weights_only_builds_pytorchs_plain_values(tmp_path, torch):
    """PyTorch's weights-only allowlist beyond tensors: sets, bytes, bytearrays, complex numbers,
    Counter, torch.Size, torch.device and dtypes load as the same values (a dtype as ours)."""
    import collections
    values = {"set": {1, 2}, "bytes": b"ab\xff", "bytearray": bytearray(b"x"), "complex": 1 + 2j,
              "counter": collections.Counter("aab"), "size": torch.Size([2, 3]), "device": torch.device("cpu"),
              "gpu": torch.device("cuda", 1), "dtypes": [torch.float32, torch.int64, torch.bool]}
    torch.save(values, tmp_path / "v.pt")
    ours = mg.load(tmp_path / "v.pt")
    assert {k: ours[k] for k in ("set", "bytes", "bytearray", "complex", "counter")} == \
        {k: values[k] for k in ("set", "bytes", "bytearray", "complex", "counter")}
    assert ours["size"] == mg.Size([2, 3]) and isinstance(ours["size"], mg.Size)
    assert ours["device"] == "cpu" and str(ours["gpu"]) == "cuda:1"
    assert ours["dtypes"] == [mg.float32, mg.int64, mg.bool]
    torch.save({"d": torch.bfloat16}, tmp_path / "bf.pt")
    with pytest.raises(pickle.UnpicklingError, match="torch.bfloat16"):
        mg.load(tmp_path / "bf.pt")


def test_safe_globals_allow_what_the_user_trusts(tmp_path, torch):
    """torch.serialization.add_safe_globals / safe_globals: a weights-only load of NumPy values."""
    torch.save({"arr": np.arange(3), "w": torch.ones(2)}, tmp_path / "np.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"add_safe_globals\(\[numpy._core.multiarray._reconstruct\]\)"):
        mg.load(tmp_path / "np.pt")
    trusted = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.int64))]
    with mg.serialization.safe_globals(trusted):
        assert mg.load(tmp_path / "np.pt")["arr"].tolist() == [0, 1, 2]
        assert len(mg.serialization.get_safe_globals()) == 4
    assert mg.serialization.get_safe_globals() == []
    mg.serialization.add_safe_globals(trusted)
    try:
        assert mg.load(tmp_path / "np.pt")["w"].tolist() == [1.0, 1.0]
    finally:
        mg.serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        mg.load(tmp_path / "np.pt")
