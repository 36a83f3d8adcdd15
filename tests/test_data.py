"""minigrad.data: datasets, DataLoader and collate, transforms, the bundled digits, MNIST's IDX files."""
import collections
import gzip
import hashlib
import os
import shutil
import struct
import urllib.error

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.data import (
    MNIST, DataLoader, Dataset, Digits, FashionMNIST, Subset, TensorDataset, default_collate, random_split,
    read_idx, transforms as T)
from minigrad.data import digits as digits_module

from helpers import assert_close, host


def _seeded(seed):
    return mg.Generator().manual_seed(seed)


def _same_batches(a, b):
    """Two batches (nested tuples/lists/dicts of Tensors) hold the same structure, dtypes and values."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _same_batches(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same_batches(x, y)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(host(a), host(b))


def _first_column(loader):
    return [host(batch[0]).tolist() for batch in loader]


def per_item(samples):
    """default_collate under another name: the loader then fetches sample by sample (no fast path)."""
    return default_collate(samples)


# ----------------------------------------------------------------------------- datasets
def test_tensor_dataset_items_are_tuples_of_rows():
    x, y = mg.arange(12).reshape(6, 2), mg.arange(6) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert xi.tolist() == [8, 9] and yi.item() == 40


@pytest.mark.parametrize("tensors, message", [
    ((mg.zeros(5, 2), mg.zeros(4)), "same size in dim 0, got sizes (5, 4)"),
    ((mg.zeros(5), np.zeros(5)), "argument 1 is a ndarray"),
    ((mg.tensor(1.0),), "tensor 0 is 0-d"),
    ((), "at least one tensor"),
])
def test_tensor_dataset_rejects_bad_tensors(tensors, message):
    with pytest.raises((ValueError, TypeError), match="TensorDataset") as info:
        TensorDataset(*tensors)
    assert message in str(info.value)


def test_subset_concat_and_base_class():
    ds = TensorDataset(mg.arange(10))
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and [sub[i][0].item() for i in range(3)] == [7, 2, 5]
    both = sub + TensorDataset(mg.arange(100, 102))
    assert len(both) == 5 and [both[i][0].item() for i in range(5)] == [7, 2, 5, 100, 101]
    assert both[-1][0].item() == 101
    with pytest.raises(IndexError, match="out of range"):
        both[5]
    with pytest.raises(NotImplementedError, match="Dataset must define __getitem__"):
        Dataset()[0]


@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0.5, 0.5]), (11, [0.3, 0.3, 0.4]), (7, [0.1, 0.9])])
def test_random_split_sizes_match_pytorch(torch, n, lengths):
    parts = random_split(TensorDataset(mg.arange(n)), lengths, generator=_seeded(0))
    expected = [len(p) for p in torch.utils.data.random_split(range(n), lengths)]
    assert [len(p) for p in parts] == expected
    seen = sorted(int(p[i][0].item()) for p in parts for i in range(len(p)))
    assert seen == list(range(n)), "the subsets must cover the dataset exactly once"


def test_random_split_is_reproducible_and_checks_lengths():
    ds = TensorDataset(mg.arange(20))
    first, again, other = (random_split(ds, [15, 5], generator=_seeded(s))[1].indices for s in (3, 3, 4))
    assert first == again and first != other
    with pytest.raises(ValueError, match=r"sum to 19, but the dataset has 20"):
        random_split(ds, [15, 4])
    with pytest.raises(ValueError, match="length 0 is -1"):
        random_split(ds, [-1, 21])
    with pytest.raises(TypeError, match="generator must be a minigrad.Generator"):
        random_split(ds, [10, 10], generator=np.random.default_rng(0))


# ----------------------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                                                      (2, 5, True), (0, 4, False)])
def test_loader_batches_in_order_and_len(n, batch_size, drop_last):
    ds = TensorDataset(mg.arange(n, dtype=mg.float32).reshape(n, 1), mg.arange(n))
    loader = DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    labels = [v for _, y in batches for v in y.tolist()]
    kept = len(batches) * batch_size if drop_last else n
    assert labels == list(range(kept))
    for x, y in batches:
        assert x.dtype == mg.float32 and x.shape == (len(y), 1) and y.dtype == mg.int64 and x.device == "cpu"


def test_shuffle_is_reproducible_and_differs_between_epochs():
    ds = TensorDataset(mg.arange(50))
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=_seeded(7))
    epoch1, epoch2 = _first_column(loader), _first_column(loader)
    again = DataLoader(ds, batch_size=8, shuffle=True, generator=_seeded(7))
    assert _first_column(again) == epoch1 and _first_column(again) == epoch2
    assert epoch1 != epoch2
    for epoch in (epoch1, epoch2):
        assert sorted(v for batch in epoch for v in batch) == list(range(50))


def test_shuffle_without_generator_follows_manual_seed():
    loader = DataLoader(TensorDataset(mg.arange(30)), batch_size=30, shuffle=True)
    mg.manual_seed(11)
    first = _first_column(loader)
    mg.manual_seed(11)
    assert _first_column(loader) == first and first != [list(range(30))]


@pytest.mark.parametrize("shuffle", [False, True])
def test_tensor_dataset_fast_path_matches_per_item_collate(shuffle):
    ds = TensorDataset(mg.randn(23, 3, 2), mg.arange(23), mg.rand(23) > 0.5)
    fast = DataLoader(ds, batch_size=5, shuffle=shuffle, generator=_seeded(1))
    slow = DataLoader(ds, batch_size=5, shuffle=shuffle, generator=_seeded(1), collate_fn=per_item)
    for a, b in zip(fast, slow, strict=True):
        _same_batches(a, b)


def test_fast_path_fetches_whole_batches(monkeypatch):
    ds = TensorDataset(mg.arange(10), mg.arange(10) * 2)
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: pytest.fail("fetched one sample"))
    subset = random_split(ds, [6, 4], generator=_seeded(0))[0]         # a Subset keeps the fast path
    (x, y), = DataLoader(subset, batch_size=6)
    assert y.tolist() == [2 * v for v in x.tolist()] and sorted(x.tolist()) == sorted(subset.indices)


def test_getitems_returning_samples_is_collated_like_pytorch():
    class Pairs(Dataset):
        def __len__(self):
            return 4

        def __getitems__(self, indices):          # PyTorch's convention: a list of samples
            return [(i, float(i) / 2) for i in indices]

    (ints, floats), = DataLoader(Pairs(), batch_size=4)
    assert ints.dtype == mg.int64 and floats.dtype == mg.float64 and floats.tolist() == [0, 0.5, 1, 1.5]


def test_custom_collate_and_sampler():
    ds = TensorDataset(mg.arange(6))
    seen = []
    loader = DataLoader(ds, batch_size=2, sampler=[5, 0, 3], collate_fn=lambda samples: seen.append(samples) or 0)
    assert list(loader) == [0, 0] and len(loader) == 2
    assert [[s[0].item() for s in batch] for batch in seen] == [[5, 0], [3]]


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "batch_size must be a positive integer"),
    (dict(shuffle=True, sampler=[0]), "mutually exclusive"),
    (dict(num_workers=-1), "num_workers option should be a non-negative integer"),
    (dict(shuffle=True, generator=object()), "generator must be a minigrad.Generator on the CPU"),
])
def test_loader_rejects_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError)) as info:
        DataLoader(TensorDataset(mg.arange(3)), **kwargs)
    assert message in str(info.value)


# ----------------------------------------------------------------------------- collate
Point = collections.namedtuple("Point", "x y")


def _samples():
    return [{"image": np.full((2, 2), i, dtype=np.float32), "label": i, "weight": 0.5 * i, "flag": i % 2 == 0,
             "name": f"s{i}", "pair": (mg.tensor([i, -i]), np.int32(i)), "point": Point(i, [i, i + 1])}
            for i in range(3)]


def test_default_collate_nested_structures():
    batch = default_collate(_samples())
    assert isinstance(batch, dict) and batch["name"] == ["s0", "s1", "s2"]
    assert batch["image"].shape == (3, 2, 2) and batch["image"].dtype == mg.float32
    assert batch["label"].dtype == mg.int64 and batch["label"].tolist() == [0, 1, 2]
    assert batch["weight"].dtype == mg.float64 and batch["flag"].dtype == mg.bool_
    pair = batch["pair"]
    assert isinstance(pair, list) and pair[0].tolist() == [[0, 0], [1, -1], [2, -2]] and pair[1].dtype == mg.int32
    point = batch["point"]
    assert isinstance(point, Point) and point.x.tolist() == [0, 1, 2]
    assert isinstance(point.y, list) and [t.tolist() for t in point.y] == [[0, 1, 2], [1, 2, 3]]


def test_default_collate_values_and_dtypes_match_pytorch(torch):
    from torch.utils.data import default_collate as torch_collate

    def flat(batch, prefix=""):      # path -> (dtype name, values), ignoring the container types
        if isinstance(batch, dict):
            return {k: v for key in batch for k, v in flat(batch[key], f"{prefix}/{key}").items()}
        if isinstance(batch, (tuple, list)) and not isinstance(batch[0], str):
            return {k: v for i, b in enumerate(batch) for k, v in flat(b, f"{prefix}/{i}").items()}
        if isinstance(batch, list):
            return {prefix: ("str", batch)}
        return {prefix: (str(batch.dtype).replace("torch.", ""), batch.tolist())}

    torch_samples = [{k: (torch.tensor(v[0].tolist()), v[1]) if k == "pair" else v for k, v in s.items()}
                     for s in _samples()]
    assert flat(default_collate(_samples())) == flat(torch_collate(torch_samples))


def _containers(batch):
    """The container types of a batch, by position: what ``batch[0] = ...`` relies on."""
    if isinstance(batch, dict):
        return {k: _containers(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return (type(batch).__name__, [_containers(b) for b in batch])
    return "leaf"


@pytest.mark.parametrize("kwargs", [{"batch_size": 2}, {"batch_size": None}, {"batch_size": 2, "shuffle": True}])
def test_batch_containers_are_pytorchs(torch, kwargs):
    """A tuple sample collates (and, unbatched, converts) into a list, as PyTorch's default_collate
    and default_convert do, on the fast TensorDataset path and sample by sample alike; a namedtuple
    stays one.  So ``batch[0] = batch[0].to(device)`` works."""
    class Samples(Dataset):
        def __init__(self, T):
            self.T = T

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return self.T.tensor([i, 1.0]), (i, [i, 2.0]), Point(i, self.T.tensor(i))

    for make in (lambda T: T.utils.data.TensorDataset(T.arange(4.0), T.arange(4)), Samples):
        ours = next(iter(DataLoader(make(mg), **kwargs)))
        theirs = next(iter(torch.utils.data.DataLoader(make(torch), **kwargs)))
        assert _containers(ours) == _containers(theirs)
        ours[0] = ours[0] * 2


def test_stack_dataset_as_torch(torch):
    """StackDataset: datasets side by side, tuple samples (positional) or dict samples (keywords)."""
    from torch.utils.data import DataLoader as TorchLoader, StackDataset as TorchStack, TensorDataset as TorchTD
    from minigrad.data import StackDataset
    labels = [10, 11, 12, 13]
    ours = [StackDataset(TensorDataset(mg.arange(4)), labels), StackDataset(x=TensorDataset(mg.arange(4)), y=labels)]
    theirs = [TorchStack(TorchTD(torch.arange(4)), labels), TorchStack(x=TorchTD(torch.arange(4)), y=labels)]
    for a, b in zip(ours, theirs):
        assert len(a) == len(b) == 4 and repr(a[1]) == repr(b[1])
        assert repr(next(iter(DataLoader(a, batch_size=3)))) == repr(next(iter(TorchLoader(b, batch_size=3))))
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset(labels, labels[:2])
    with pytest.raises(ValueError, match="not both"):
        StackDataset(labels, y=labels)


def test_tuple_samples_collate_to_lists_as_pytorch(torch):
    """PyTorch's default_collate returns the fields of tuple samples as a list (so that
    ``batch[0] = batch[0].to(device)`` works); the fast batched fetch of a TensorDataset, a
    Subset of one and the per-sample path all give that list too."""
    from torch.utils.data import DataLoader as TorchLoader, TensorDataset as TorchTensorDataset
    theirs = next(iter(TorchLoader(TorchTensorDataset(torch.arange(4), torch.arange(4) * 2), batch_size=2)))
    ds = TensorDataset(mg.arange(4), mg.arange(4) * 2)
    for loader in (DataLoader(ds, batch_size=2), DataLoader(Subset(ds, [0, 1, 2]), batch_size=2),
                   DataLoader(ds, batch_size=2, collate_fn=per_item), DataLoader([(0, 0.5), (1, 1.5)], batch_size=2)):
        batch = next(iter(loader))
        assert type(batch) is type(theirs) is list
        batch[0] = batch[0] + 1
    assert type(default_collate([(1, 2), (3, 4)])) is list
    names, labels = default_collate([("a", 1), ("b", 2)])       # PyTorch: the strings as zip gives them
    theirs = next(iter(TorchLoader([("a", 1), ("b", 2)], batch_size=2)))
    assert names == theirs[0] == ("a", "b") and type(names) is type(theirs[0])
    assert type(default_collate([Point(1, 2), Point(3, 4)])) is Point


@pytest.mark.parametrize("batch, error, message", [
    ([(1, 2), (1,)], ValueError, "same number of fields"),
    ([object()], TypeError, "found object"),
    ([np.array(["a"])], TypeError, "dtype <U1"),
    ([np.zeros(2), np.zeros(3)], ValueError, "one shape"),
    ([], TypeError, "non-empty list"),
])
def test_default_collate_errors(batch, error, message):
    with pytest.raises(error, match="default_collate") as info:
        default_collate(batch)
    assert message in str(info.value)


# ----------------------------------------------------------------------------- transforms
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_normalize_per_channel_matches_numpy(shape, rng):
    x = rng.random(shape, dtype=np.float32)
    mean, std = [0.1, 0.5, 0.9], [0.2, 0.3, 0.4]
    expected = (x - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    out = T.Normalize(mean, std)(mg.tensor(x))
    assert out.dtype == mg.float32
    assert_close(out, expected, atol=1e-6)
    assert_close(T.Normalize(mean, std)(x), expected, atol=1e-6)     # arrays are accepted too


def test_normalize_scalar_any_shape_and_gradient():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64, requires_grad=True)
    out = T.Normalize(0.5, 2.0)(x)
    assert_close(out, (x.detach().numpy() - 0.5) / 2.0)
    out.sum().backward()
    assert_close(x.grad, np.full((2, 2), 0.5))


@pytest.mark.parametrize("make, args, message", [
    (lambda: T.Normalize([0.5, 0.5, 0.5], [1.0, 1.0, 1.0]), mg.zeros(1, 4, 4), "shape (..., 3, H, W), got (1, 4, 4)"),
    (lambda: T.Normalize(0.5, 1.0), mg.zeros(4, dtype=mg.int64), "expected a floating-point tensor, got int64"),
    (lambda: T.Normalize([0.5, 0.5], [1.0, 0.0]), None, "contains a zero"),
    (lambda: T.Normalize([0.1, 0.2], [1.0, 1.0, 1.0]), None, "mean has 2 values and std 3"),
])
def test_normalize_errors(make, args, message):
    with pytest.raises((ValueError, TypeError), match="Normalize") as info:
        make()(args)
    assert message in str(info.value)


def test_to_tensor_like_torchvision(rng):
    hwc = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    out = T.ToTensor()(hwc)
    assert out.shape == (3, 4, 5) and out.dtype == mg.float32
    assert_close(out, hwc.transpose(2, 0, 1) / np.float32(255))
    gray = T.ToTensor()(mg.tensor(hwc[:, :, 0]))
    assert gray.shape == (1, 4, 5) and float(gray._data.max()) <= 1.0
    floats = T.ToTensor()(np.full((2, 2), 7.0))           # not uint8: values and dtype kept
    assert floats.dtype == mg.float64 and floats.tolist() == [[[7.0, 7.0], [7.0, 7.0]]]
    with pytest.raises(ValueError, match=r"ToTensor: expected an HxW or HxWxC image, got shape \(4,\)"):
        T.ToTensor()(np.zeros(4, np.uint8))


def test_one_hot_flatten_lambda_compose():
    assert T.OneHot(4)(2).tolist() == [0, 0, 1, 0] and T.OneHot(4)(2).dtype == mg.float32
    assert T.OneHot(3, dtype=mg.int64)(mg.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="OneHot: label 4 is out of range for 4 classes"):
        T.OneHot(4)(4)
    with pytest.raises(TypeError, match="OneHot: labels must be integers"):
        T.OneHot(4)(1.5)
    assert T.Flatten()(mg.zeros(1, 8, 8)).shape == (64,)
    assert T.Flatten(start_dim=1)(mg.zeros(5, 1, 8, 8)).shape == (5, 64)
    pipeline = T.Compose([T.Lambda(lambda x: x * 2), T.Normalize(1.0, 1.0), T.Flatten()])
    assert pipeline(mg.ones(1, 2, 2)).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert "Normalize(mean=[1.0], std=[1.0])" in repr(pipeline)
    with pytest.raises(TypeError, match="Compose: transform 0"):
        T.Compose([3])


# ----------------------------------------------------------------------------- Digits
def _digits_table():
    """The bundled file parsed independently of minigrad.data.digits."""
    with gzip.open(digits_module.DIGITS_PATH, "rt") as f:
        return np.array([[int(v) for v in line.split(",")] for line in f])


def test_digits_split_follows_the_documented_rule():
    table = _digits_table()
    labels = table[:, 64]
    is_test = np.zeros(len(labels), bool)
    for label in range(10):
        is_test[np.flatnonzero(labels == label)[4::5]] = True     # the 5th, 10th, ... of each class
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1442, 355) and len(table) == 1797
    for ds, mask in ((train, ~is_test), (test, is_test)):
        np.testing.assert_array_equal(ds.data.reshape(-1, 64), table[mask, :64])
        np.testing.assert_array_equal(ds.targets, labels[mask])
    np.testing.assert_array_equal(Digits(train=False).data, test.data)      # same split every time


def test_digits_items_classes_and_balance():
    train, test = Digits(), Digits(train=False)
    assert train.data.dtype == np.uint8 and train.data.shape == (1442, 8, 8) and train.data.max() == 16
    assert train.targets.dtype == np.int64 and len(train.classes) == 10
    assert np.bincount(test.targets).min() >= 34 and np.bincount(test.targets).max() <= 36
    assert np.bincount(train.targets).min() >= 140
    image, label = train[3]
    assert image.shape == (1, 8, 8) and image.dtype == mg.float32 and isinstance(label, int)
    assert_close(image, train.data[3][None] / 16.0)
    assert 0.0 <= float(image._data.min()) and float(image._data.max()) <= 1.0


def test_digits_transforms_and_fast_path_match_per_item():
    flat = Digits(train=False, transform=T.Flatten(), target_transform=T.OneHot(10))
    x, y = next(iter(DataLoader(flat, batch_size=16)))
    assert x.shape == (16, 64) and y.shape == (16, 10)
    plain = Digits(train=False)
    fast = DataLoader(plain, batch_size=50, shuffle=True, generator=_seeded(2))
    slow = DataLoader(plain, batch_size=50, shuffle=True, generator=_seeded(2), collate_fn=per_item)
    for a, b in zip(fast, slow, strict=True):
        _same_batches(a, b)


def test_digits_rejects_a_corrupt_or_missing_file(tmp_path, monkeypatch):
    corrupt = tmp_path / "digits.csv.gz"
    shutil.copy(digits_module.DIGITS_PATH, corrupt)
    raw = bytearray(corrupt.read_bytes())
    raw[100] ^= 0xFF
    corrupt.write_bytes(bytes(raw))
    monkeypatch.setattr(digits_module, "DIGITS_PATH", str(corrupt))
    with pytest.raises(RuntimeError, match="is corrupt: its sha256 is") as info:
        Digits()
    assert str(corrupt) in str(info.value) and hashlib.sha256(raw).hexdigest() in str(info.value)
    monkeypatch.setattr(digits_module, "DIGITS_PATH", str(tmp_path / "gone.csv.gz"))
    with pytest.raises(FileNotFoundError, match="gone.csv.gz is missing"):
        Digits()


def test_digits_file_is_parsed_once(monkeypatch):
    Digits()
    monkeypatch.setattr(digits_module, "_parse", lambda *a: pytest.fail("parsed the file again"))
    assert len(Digits(train=False)) == 355


# ----------------------------------------------------------------------------- IDX files and MNIST
IDX_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array, code=None, ndim=None):
    """An IDX file's bytes, written here independently of minigrad's reader."""
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    code = IDX_CODES[dtype] if code is None else code
    ndim = array.ndim if ndim is None else ndim
    header = bytes([0, 0, code, ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.asarray(array, dtype=dtype).tobytes()


def write(path, payload, gz=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


@given(shape=st.lists(st.integers(0, 4), max_size=3), dtype=st.sampled_from(list(IDX_CODES)), gz=st.booleans(),
       seed=st.integers(0, 2**16))
def test_read_idx_round_trip(tmp_path_factory, shape, dtype, gz, seed):
    array = np.asarray(np.random.default_rng(seed).random(shape) * 200 - 100).astype(dtype.newbyteorder("="))
    path = write(tmp_path_factory.mktemp("idx") / "file.idx", idx_bytes(array), gz)
    out = read_idx(path)
    assert out.shape == array.shape and out.dtype == array.dtype
    np.testing.assert_array_equal(out, array)


def test_read_idx_checks_declared_sizes_before_allocating(tmp_path):
    huge = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 60000, 60000, 60000)      # 216 TB declared
    with pytest.raises(ValueError, match="the gzip file cannot hold that much"):
        read_idx(write(tmp_path / "bomb.gz", huge + bytes(1 << 16), gz=True))
    with pytest.raises(ValueError, match="truncated: .* but 8 bytes follow it"):
        read_idx(write(tmp_path / "raw", huge + bytes(8)))
    os.mkfifo(tmp_path / "fifo")                                   # opening it to read would block
    with pytest.raises(ValueError, match="fifo: not a regular file"):
        read_idx(tmp_path / "fifo")


SPLITS = {True: ("train", 6), False: ("t10k", 4)}


def write_mnist(folder, gz=False, n_labels=None, seed=0):
    """Small MNIST-format files (28x28 images) for both splits in ``folder``; returns the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for train, (prefix, n) in SPLITS.items():
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n_labels or n, dtype=np.uint8)
        ext = ".gz" if gz else ""
        write(folder / f"{prefix}-images-idx3-ubyte{ext}", idx_bytes(images), gz)
        write(folder / f"{prefix}-labels-idx1-ubyte{ext}", idx_bytes(labels), gz)
        arrays[train] = images, labels
    return arrays


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
@pytest.mark.parametrize("layout", ["root", "raw"])
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_both_layouts_raw_and_gzip(tmp_path, cls, layout, gz):
    folder = tmp_path if layout == "root" else tmp_path / cls.__name__ / "raw"
    arrays = write_mnist(folder, gz)
    for train in (True, False):
        ds = cls(tmp_path, train=train)
        images, labels = arrays[train]
        assert len(ds) == len(labels) and len(ds.classes) == 10
        np.testing.assert_array_equal(ds.data, images)
        assert ds.targets.dtype == np.int64 and ds.targets.tolist() == labels.tolist()
        image, label = ds[1]
        assert image.shape == (1, 28, 28) and image.dtype == mg.float32 and label == labels[1]
        assert_close(image, images[1][None] / np.float32(255))
    assert FashionMNIST.classes[0] == "T-shirt/top" and MNIST.classes[0] == "0 - zero"


def test_mnist_batches_and_transforms(tmp_path):
    write_mnist(tmp_path)
    ds = MNIST(tmp_path, transform=T.Compose([T.Normalize(0.5, 0.5), T.Flatten()]))
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 784) and y.dtype == mg.int64
    assert -1.0 <= float(x._data.min()) and float(x._data.max()) <= 1.0
    plain = MNIST(tmp_path)
    fast = DataLoader(plain, batch_size=4, shuffle=True, generator=_seeded(0))
    slow = DataLoader(plain, batch_size=4, shuffle=True, generator=_seeded(0), collate_fn=per_item)
    for a, b in zip(fast, slow, strict=True):
        _same_batches(a, b)


def test_mnist_missing_files_say_where_they_looked(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte not found" in message and "download" in message
    raw = tmp_path / "FashionMNIST" / "raw"
    for place in (tmp_path / "train-images-idx3-ubyte.gz", raw / "train-images-idx3-ubyte"):
        assert str(place) in message


def _labels(n=6):
    return np.arange(n, dtype=np.uint8) % 10


@pytest.mark.parametrize("payload, message", [
    (idx_bytes(_labels(), code=0x07), "magic number 0x00000701"),
    (b"\x01" + idx_bytes(_labels())[1:], "magic number 0x01000801"),
    (b"\0\0", "too short"),
    (idx_bytes(_labels())[:6], "truncated IDX header"),
    (idx_bytes(_labels())[:-1], "truncated: the header says shape (6,) of uint8, 6 bytes of data, but 5"),
    (idx_bytes(_labels()) + b"\0", "extra data: the header says shape (6,) of uint8, 6 bytes of data, but 7"),
    (idx_bytes(_labels().reshape(2, 3)), "expected labels with 1 dims, got 2"),
    (idx_bytes(_labels().astype(">i4")), "expected uint8 labels (type 0x08), got int32"),
    (idx_bytes(_labels() + 10), "label 15 is out of range for 10 classes"),
    (gzip.compress(idx_bytes(_labels()))[:-8], "corrupt gzip data"),
])
def test_mnist_malformed_label_file_names_the_file(tmp_path, payload, message):
    write_mnist(tmp_path)
    bad = write(tmp_path / "train-labels-idx1-ubyte", payload)
    with pytest.raises(ValueError) as info:
        MNIST(tmp_path)
    assert str(bad) in str(info.value) and message in str(info.value)


def test_mnist_count_mismatch_and_image_rank(tmp_path):
    write_mnist(tmp_path, n_labels=5)
    with pytest.raises(ValueError, match="has 6 images but .*train-labels-idx1-ubyte has 5 labels"):
        MNIST(tmp_path)
    with pytest.raises(ValueError, match="has 4 images but .*t10k-labels-idx1-ubyte has 5 labels"):
        MNIST(tmp_path, train=False)
    bad = write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((6, 784), np.uint8)))
    with pytest.raises(ValueError, match="expected images with 3 dims, got 2") as info:
        MNIST(tmp_path)
    assert str(bad) in str(info.value)


class _Response:
    def __init__(self, payload):
        self.payload = payload

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self):
        return self.payload


def test_download_fetches_missing_files_from_a_mirror(tmp_path, monkeypatch):
    files = {}
    write_mnist(tmp_path / "src", gz=True)
    for path in (tmp_path / "src").iterdir():
        files[path.name] = path.read_bytes()
    urls = []

    def fake_urlopen(url, timeout):
        urls.append(url)
        if url.startswith(MNIST.mirrors[0]):
            raise urllib.error.URLError("first mirror down")
        return _Response(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    ds = MNIST(tmp_path / "data", download=True)
    assert len(ds) == 6 and len(urls) == 8
    assert sorted(p.name for p in (tmp_path / "data" / "MNIST" / "raw").iterdir()) == sorted(files)
    urls.clear()
    MNIST(tmp_path / "data", train=False, download=True)      # all there: nothing fetched
    assert urls == []


def test_download_without_network_is_one_clear_error(tmp_path, monkeypatch):
    def no_network(url, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    with pytest.raises(RuntimeError, match="could not download train-images-idx3-ubyte.gz from any mirror") as info:
        FashionMNIST(tmp_path, download=True)
    assert "no network access" in str(info.value) and str(tmp_path / "FashionMNIST" / "raw") in str(info.value)


def test_workers_asked_for_load_in_process_with_the_same_batches():
    ds = TensorDataset(mg.arange(10))
    plain = [b[0].tolist() for b in DataLoader(ds, batch_size=3, shuffle=True, generator=mg.Generator().manual_seed(4))]
    workers = DataLoader(ds, batch_size=3, shuffle=True, generator=mg.Generator().manual_seed(4), num_workers=4,
                         pin_memory=True, persistent_workers=True, prefetch_factor=2)
    assert [b[0].tolist() for b in workers] == plain and workers.num_workers == 4
