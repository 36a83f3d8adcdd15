"""Run under ``mpiexec -n 2``: a small CNN with SyncBatchNorm under DDP against one process."""
import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
B, STEPS = 4, 3
rng = np.random.default_rng(1)
batches = [(rng.standard_normal((size * B, 1, 8, 8)), rng.integers(0, 10, size * B)) for _ in range(STEPS)]
loss_fn = nn.CrossEntropyLoss()


def cnn():                       # models.small_cnn without its dropout (random masks differ per rank)
    mg.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 4 * 4, 10)).double()


def mine(x):
    return x[rank * B:(rank + 1) * B]


for opt_cls, args in ((mg.optim.SGD, dict(lr=0.1, momentum=0.9)), (mg.optim.Adam, dict(lr=0.01))):
    ref = cnn()
    model = nn.SyncBatchNorm.convert_sync_batchnorm(cnn())
    assert isinstance(model[1], nn.SyncBatchNorm) and model[1].weight is not None
    ddp = DDP(model, bucket_cap_mb=1e-6)
    opt_ref, opt = opt_cls(ref.parameters(), **args), opt_cls(ddp.parameters(), **args)
    for x, y in batches:
        opt_ref.zero_grad()
        loss_fn(ref(mg.tensor(x)), mg.tensor(y)).backward()
        opt_ref.step()
        opt.zero_grad()
        loss_fn(ddp(mg.tensor(mine(x))), mg.tensor(mine(y))).backward()
        opt.step()
    for (name, p), q in list(zip(ref.state_dict().items(), model.state_dict().values())):
        a, b = q.numpy(), p.numpy()
        err = float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))
        assert err < 1e-12, f"rank {rank}: {opt_cls.__name__}: {name} differs by {err:.2e}"

# evaluation mode is plain batch norm with the (synchronised) running statistics
model.eval()
out = model(mg.tensor(batches[0][0]))
np.testing.assert_allclose(out.detach().numpy(), ref.eval()(mg.tensor(batches[0][0])).detach().numpy(), rtol=1e-10)
dist.destroy_process_group()
print(f"rank {rank}: sync batchnorm ok", flush=True)
