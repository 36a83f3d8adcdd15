"""Run under ``mpiexec -n 2``: every collective against NumPy on each rank (tests/test_distributed.py)."""
import numpy as np

import minigrad as mg
import minigrad.distributed as dist

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and size == 2, size


def data(r, shape=(3, 4), dtype=np.float64):
    return (np.arange(np.prod(shape)).reshape(shape) * (r + 1) + 0.25 * r).astype(dtype)


everyone = np.stack([data(r) for r in range(size)])
expected = {dist.ReduceOp.SUM: everyone.sum(0), dist.ReduceOp.AVG: everyone.mean(0),
            dist.ReduceOp.MAX: everyone.max(0), dist.ReduceOp.MIN: everyone.min(0)}
for op, want in expected.items():
    for async_op in (False, True):
        t = mg.tensor(data(rank))
        buffer = t._data
        work = dist.all_reduce(t, op=op, async_op=async_op)
        if async_op:
            assert isinstance(work, dist.Work)
            work.wait()
            assert work.is_completed()
        else:
            assert work is None
        np.testing.assert_allclose(t._data, want, rtol=1e-15)
        assert t._data is buffer                          # in place, on the tensor's own memory

# integers, and a non-contiguous view (staged through a copy, written back)
t = mg.tensor(np.arange(6, dtype=np.int64) * (rank + 1))
dist.all_reduce(t)
np.testing.assert_array_equal(t._data, np.arange(6) * 3)
base = data(rank, (4, 6))
view = mg.tensor(base).transpose(0, 1)
dist.all_reduce(view, op=dist.ReduceOp.MAX)
np.testing.assert_allclose(view._data, np.stack([data(r, (4, 6)) for r in range(size)]).max(0).T)

for async_op in (False, True):
    t = mg.tensor(data(rank))
    work = dist.broadcast(t, src=1, async_op=async_op)
    if async_op:
        work.wait()
    np.testing.assert_array_equal(t._data, data(1))

    outs = [mg.zeros(3, 4, dtype=mg.float64) for _ in range(size)]
    work = dist.all_gather(outs, mg.tensor(data(rank)), async_op=async_op)
    if async_op:
        work.wait()
    for r in range(size):
        np.testing.assert_array_equal(outs[r]._data, data(r))

    out = mg.zeros(3, 4, dtype=mg.float64)
    ins = [mg.tensor(data(rank) + 100 * k) for k in range(size)]
    work = dist.reduce_scatter(out, ins, op=dist.ReduceOp.SUM, async_op=async_op)
    if async_op:
        work.wait()
    np.testing.assert_allclose(out._data, sum(data(r) + 100 * rank for r in range(size)), rtol=1e-15)

# mismatched shapes: a clear error on every rank, naming both layouts; the group stays usable
try:
    dist.all_reduce(mg.zeros(3 + rank))
except RuntimeError as e:
    assert "rank 0: float32 (3,)" in str(e) and "rank 1: float32 (4,)" in str(e), e
else:
    raise AssertionError("all_reduce on mismatched shapes did not raise")
try:
    dist.broadcast(mg.zeros(2, dtype=mg.float64 if rank else mg.float32))
except RuntimeError as e:
    assert "broadcast" in str(e), e
else:
    raise AssertionError("broadcast on mismatched dtypes did not raise")

dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {rank}: collectives ok", flush=True)
