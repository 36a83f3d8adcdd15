"""Run under ``mpiexec -n N``, one GPU per rank: the nccl backend's collectives on CUDA tensors
against NumPy on each rank (tests/test_distributed.py)."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.distributed as dist

dist.init_process_group("nccl")
rank, size = dist.get_rank(), dist.get_world_size()
assert dist.get_backend() == "nccl"
device = f"cuda:{rank % mg.cuda.device_count()}"       # one node: the GPU the backend picked for this rank


def data(r, shape=(3, 4), dtype=np.float64):
    return (np.arange(np.prod(shape)).reshape(shape) * (r + 1) + 0.25 * r).astype(dtype)


def on_gpu(a):
    return mg.tensor(a, device=device)


def host(t):
    return t.to("cpu").numpy()


everyone = np.stack([data(r) for r in range(size)])
expected = {dist.ReduceOp.SUM: everyone.sum(0), dist.ReduceOp.AVG: everyone.mean(0),
            dist.ReduceOp.MAX: everyone.max(0), dist.ReduceOp.MIN: everyone.min(0)}
for dtype, tol in ((np.float64, 1e-15), (np.float32, 1e-6)):
    for op, want in expected.items():
        for async_op in (False, True):
            t = on_gpu(data(rank, dtype=dtype))
            buffer = t._data
            work = dist.all_reduce(t, op=op, async_op=async_op)
            if async_op:
                work.wait()
                mg.cuda.synchronize()
                assert work.is_completed()
            else:
                assert work is None
            assert t._data is buffer                          # in place, in the GPU's memory
            np.testing.assert_allclose(host(t), want, rtol=tol)

ints = on_gpu(np.arange(6, dtype=np.int64) * (rank + 1))
dist.all_reduce(ints)
np.testing.assert_array_equal(host(ints), np.arange(6) * sum(range(1, size + 1)))

view = on_gpu(data(rank, (4, 3))).T                          # not contiguous: a staging copy, written back
dist.all_reduce(view)
np.testing.assert_allclose(host(view), np.stack([data(r, (4, 3)) for r in range(size)]).sum(0).T, rtol=1e-15)

t = on_gpu(data(rank))
dist.broadcast(t, src=size - 1)
np.testing.assert_array_equal(host(t), data(size - 1))

gathered = [on_gpu(np.zeros((3, 4))) for _ in range(size)]
dist.all_gather(gathered, on_gpu(data(rank)))
for r in range(size):
    np.testing.assert_array_equal(host(gathered[r]), data(r))

out = on_gpu(np.zeros((2, 3)))
dist.reduce_scatter(out, [on_gpu(data(rank, (2, 3)) + 10 * k) for k in range(size)])
np.testing.assert_allclose(host(out), sum(data(r, (2, 3)) + 10 * rank for r in range(size)), rtol=1e-15)

with pytest.raises(ValueError, match="nccl backend works on CUDA tensors"):
    dist.all_reduce(mg.tensor(data(rank)))
with pytest.raises(TypeError, match="AVG needs a floating-point"):
    dist.all_reduce(on_gpu(np.arange(3)), op=dist.ReduceOp.AVG)

dist.barrier()
print(f"rank {rank}: nccl ok", flush=True)
dist.destroy_process_group()
