"""minigrad.save_safetensors / load_safetensors through the safetensors package (an extra)."""
import json
import struct

import numpy as np
import pytest

import minigrad as mg
from minigrad.models import mlp

st = pytest.importorskip("safetensors")


def _raw_file(path, header, data):
    """A safetensors file written by hand: an 8-byte header length, the JSON header, the bytes."""
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def test_round_trip_keeps_values_dtypes_and_metadata(tmp_path):
    mg.manual_seed(0)
    sd = dict(mlp(6, 5, 3).state_dict())
    sd["counts"] = mg.tensor([1, 2, 3], dtype=mg.int64)
    sd["mask"] = mg.tensor([True, False])
    sd["half"] = mg.tensor([0.5, 1.5], dtype=mg.float16)
    sd["col"] = mg.arange(6.0).reshape(2, 3).T          # not contiguous
    sd["count"] = mg.tensor(7)                           # 0-d
    mg.save_safetensors(sd, tmp_path / "m.safetensors", metadata={"format": "pt", "epoch": "3"})
    back = mg.load_safetensors(tmp_path / "m.safetensors")
    assert back.keys() == sd.keys()
    for k, v in sd.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
        assert np.array_equal(back[k].numpy(), v.numpy()), k
    with st.safe_open(str(tmp_path / "m.safetensors"), framework="np") as f:
        assert f.metadata() == {"format": "pt", "epoch": "3"}
    model = mlp(6, 5, 3)
    model.load_state_dict({k: v for k, v in back.items() if k[0].isdigit()})


def test_bfloat16_and_damaged_files_are_refused(tmp_path):
    _raw_file(tmp_path / "bf.safetensors", {"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(TypeError, match="'w' has dtype BF16"):
        mg.load_safetensors(tmp_path / "bf.safetensors")
    _raw_file(tmp_path / "short.safetensors", {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8)
    with pytest.raises(RuntimeError, match="short.safetensors is not a readable safetensors file"):
        mg.load_safetensors(tmp_path / "short.safetensors")
    with pytest.raises(TypeError, match="'w' is a list"):
        mg.save_safetensors({"w": [1.0]}, tmp_path / "x.safetensors")


def test_interoperates_with_torch(tmp_path, torch):
    from safetensors.torch import load_file, save_file
    save_file({"w": torch.arange(6.0).reshape(2, 3), "i": torch.tensor([7, 8])}, str(tmp_path / "t.safetensors"))
    ours = mg.load_safetensors(tmp_path / "t.safetensors", device="cpu")
    assert ours["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and ours["i"].dtype == mg.int64
    mg.save_safetensors({"w": mg.tensor([[1.5, -2.0]]), "b": mg.tensor([True])}, tmp_path / "m.safetensors")
    theirs = load_file(str(tmp_path / "m.safetensors"))
    assert theirs["w"].dtype == torch.float32 and theirs["w"].tolist() == [[1.5, -2.0]]
    assert theirs["b"].dtype == torch.bool
