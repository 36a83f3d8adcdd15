"""Samplers, IterableDataset, batch_sampler / batch_size=None and the minigrad.utils.data alias,
checked against torch.utils.data where the behaviour is deterministic."""
import numpy as np
import pytest
import torch
import torch.utils.data as tud

import minigrad as mg
from minigrad.data import (BatchSampler, DataLoader, IterableDataset, RandomSampler, Sampler, SequentialSampler,
                           SubsetRandomSampler, TensorDataset, WeightedRandomSampler, get_worker_info)


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False)])
def test_batch_sampler_matches_torch(n, bs, drop):
    ours = list(BatchSampler(SequentialSampler(range(n)), bs, drop))
    ref = list(tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop))
    assert ours == ref
    assert len(BatchSampler(SequentialSampler(range(n)), bs, drop)) == len(ref)


def test_batch_sampler_bad_args():
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 2, 1)


def test_subset_random_sampler_is_a_seeded_permutation_of_the_subset():
    idx = [3, 7, 1, 9]
    g = mg.Generator().manual_seed(0)
    a = list(SubsetRandomSampler(idx, generator=g))
    assert sorted(a) == sorted(idx) and len(SubsetRandomSampler(idx)) == 4
    assert a == list(SubsetRandomSampler(idx, generator=mg.Generator().manual_seed(0)))


@pytest.mark.parametrize("replacement", [True, False])
def test_weighted_random_sampler_frequencies(replacement):
    w = [0.1, 0.0, 0.6, 0.3]
    g = mg.Generator().manual_seed(1)
    if replacement:
        draws = list(WeightedRandomSampler(w, 20000, replacement=True, generator=g))
        freq = np.bincount(draws, minlength=4) / len(draws)
        np.testing.assert_allclose(freq, np.array(w), atol=0.02)
    else:
        draws = list(WeightedRandomSampler(w, 3, replacement=False, generator=g))
        assert sorted(draws) == [0, 2, 3]            # never the zero-weight index, each once
        with pytest.raises(RuntimeError, match="without replacement"):
            WeightedRandomSampler(w, 4, replacement=False)
    assert len(WeightedRandomSampler(mg.tensor(w), 7)) == 7


def test_random_sampler_replacement_and_num_samples():
    s = RandomSampler(range(5), replacement=True, num_samples=50, generator=mg.Generator().manual_seed(2))
    d = list(s)
    assert len(d) == len(s) == 50 and set(d) <= set(range(5))
    d = list(RandomSampler(range(4), num_samples=10))
    assert len(d) == 10 and sorted(d[:4]) == [0, 1, 2, 3]


class _Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(np.arange(self.n, dtype=np.float32).reshape(self.n, 1) * 2)


class _TStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(np.arange(self.n, dtype=np.float32).reshape(self.n, 1) * 2)


@pytest.mark.parametrize("bs,drop", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_batches_like_torch(bs, drop):
    ours = [b.numpy() for b in DataLoader(_Stream(7), batch_size=bs, drop_last=drop)]
    ref = [b.numpy() for b in tud.DataLoader(_TStream(7), batch_size=bs, drop_last=drop)]
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(_Stream(3), shuffle=True)
    with pytest.raises(TypeError):
        len(DataLoader(_Stream(3)))


def test_batch_sampler_option_and_exclusivity():
    x = np.arange(10.0)
    ds, tds = TensorDataset(mg.tensor(x)), tud.TensorDataset(torch.tensor(x))
    batches = [[0, 5], [9, 1, 2], [4]]
    ours = [b[0].numpy() for b in DataLoader(ds, batch_sampler=batches)]
    ref = [b[0].numpy() for b in tud.DataLoader(tds, batch_sampler=batches)]
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a, b)
    assert len(DataLoader(ds, batch_sampler=batches)) == 3
    for kw in ({"batch_size": 2}, {"shuffle": True}, {"drop_last": True}, {"sampler": [0, 1]}):
        with pytest.raises(ValueError, match="mutually exclusive"):
            DataLoader(ds, batch_sampler=batches, **kw)


def test_batch_size_none_and_custom_collate_and_sampler():
    ds = TensorDataset(mg.arange(6.0))
    items = list(DataLoader(ds, batch_size=None, sampler=[4, 2]))
    assert [float(t[0].item()) for t in items] == [4.0, 2.0]
    out = list(DataLoader(ds, batch_size=2, collate_fn=lambda b: len(b), drop_last=True, sampler=[0, 1, 2]))
    assert out == [2]


def test_sampler_subclass_and_worker_info():
    class Evens(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2
    dl = DataLoader(TensorDataset(mg.arange(6.0)), batch_size=2, sampler=Evens(6))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in dl]), [0, 2, 4])
    assert get_worker_info() is None


def test_utils_data_alias():
    from minigrad.utils.data import DataLoader as DL, TensorDataset as TD
    import minigrad.utils.data as mud
    assert DL is DataLoader and TD is TensorDataset and mud is mg.data
    from minigrad.utils.data.sampler import WeightedRandomSampler as W
    assert W is WeightedRandomSampler
