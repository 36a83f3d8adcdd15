"""Run under ``mpiexec -n 2``: DistributedDataParallel against one process with the whole batch."""
import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn
from minigrad.models import mlp
from minigrad.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
B, STEPS = 6, 4
rng = np.random.default_rng(0)                         # the same global batches on every rank
batches = [(rng.standard_normal((size * B, 12)), rng.integers(0, 5, size * B)) for _ in range(2 * STEPS)]
loss_fn = nn.CrossEntropyLoss()


def model(seed):
    mg.manual_seed(seed)
    return mlp(in_features=12, hidden=16, num_classes=5).double()


def mine(x):                                           # this rank's share of a global batch
    return x[rank * B:(rank + 1) * B]


def relative_error(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def check_same(ref, ddp, what, tol=1e-12):
    for (name, p), q in zip(ref.named_parameters(), ddp.module.parameters()):
        err = relative_error(q.detach().numpy(), p.detach().numpy())
        assert err <= tol, f"rank {rank}: {what}: {name} differs by {err:.2e}"


def train(opt_cls, bucket_cap_mb, **opt_args):
    ref = model(seed=1)                                # rank 0's initial weights, which DDP copies
    ddp = DDP(model(seed=1 + rank), bucket_cap_mb=bucket_cap_mb)
    check_same(ref, ddp, "after construction", tol=0)
    opt_ref, opt = opt_cls(ref.parameters(), **opt_args), opt_cls(ddp.parameters(), **opt_args)
    for x, y in batches[:STEPS]:
        opt_ref.zero_grad()
        loss_fn(ref(mg.tensor(x)), mg.tensor(y)).backward()
        opt_ref.step()
        opt.zero_grad()
        loss_fn(ddp(mg.tensor(mine(x))), mg.tensor(mine(y))).backward()
        opt.step()
    check_same(ref, ddp, f"{opt_cls.__name__}, bucket_cap_mb={bucket_cap_mb}")
    return ref, ddp


for cap in (25, 1e-6):                                 # one bucket; one bucket per parameter
    train(mg.optim.SGD, cap, lr=0.1, momentum=0.9)
    train(mg.optim.Adam, cap, lr=0.01)

# the LSTM classifier (embedding, LSTM, linear head) on token sequences
from minigrad.models import TextLSTM  # noqa: E402

texts = [(rng.integers(1, 30, (size * B, 7)), rng.integers(0, 2, size * B)) for _ in range(STEPS)]


def lstm(seed):
    mg.manual_seed(seed)
    return TextLSTM(30, embedding_dim=8, hidden_size=10, num_classes=2).double()


for opt_cls, args in ((mg.optim.SGD, dict(lr=0.5, momentum=0.9)), (mg.optim.Adam, dict(lr=0.01))):
    ref, ddp = lstm(1), DDP(lstm(1 + rank), bucket_cap_mb=1e-3)
    opt_ref, opt = opt_cls(ref.parameters(), **args), opt_cls(ddp.parameters(), **args)
    for x, y in texts:
        opt_ref.zero_grad()
        loss_fn(ref(mg.tensor(x)), mg.tensor(y)).backward()
        opt_ref.step()
        opt.zero_grad()
        loss_fn(ddp(mg.tensor(mine(x))), mg.tensor(mine(y))).backward()
        opt.step()
    check_same(ref, ddp, f"TextLSTM, {opt_cls.__name__}")

# no_sync: gradients accumulate locally, the next synchronised backward averages the sum
ref, ddp = model(1), DDP(model(1 + rank))
(x1, y1), (x2, y2) = batches[0], batches[1]
with ddp.no_sync():
    loss_fn(ddp(mg.tensor(mine(x1))), mg.tensor(mine(y1))).backward()
local = [p.grad.numpy().copy() for p in ddp.parameters()]
loss_fn(ddp(mg.tensor(mine(x2))), mg.tensor(mine(y2))).backward()
loss_fn(ref(mg.tensor(x1)), mg.tensor(y1)).backward()
loss_fn(ref(mg.tensor(x2)), mg.tensor(y2)).backward()
for p, q in zip(ref.parameters(), ddp.parameters()):
    assert relative_error(q.grad.numpy(), p.grad.numpy()) < 1e-12, f"rank {rank}: no_sync accumulation"
gathered = [mg.zeros(*local[0].shape, dtype=mg.float64) for _ in range(size)]
dist.all_gather(gathered, mg.tensor(local[0]))
assert not np.allclose(gathered[0].numpy(), gathered[1].numpy()), "no_sync gradients were averaged"

# overlap: with one bucket per parameter, the last layer's all-reduces have started when the
# engine reaches the first layer's output, before backward ends
ddp = DDP(model(1), bucket_cap_mb=1e-6)
started = []
net = ddp.module
h = net[1](net[0](mg.tensor(mine(batches[0][0]))))
ddp._sync_now = True                                   # (what DDP.forward sets; the graph is built by hand here)
h.register_hook(lambda g: started.append(ddp._next_to_launch))
loss_fn(net[3](net[2](h)), mg.tensor(mine(batches[0][1]))).backward()
assert started and started[0] >= 2, f"rank {rank}: buckets started before the first layer's backward: {started}"
assert ddp._next_to_launch == 0 and all(p.grad is not None for p in ddp.parameters())

# the trace shows each bucket's all-reduce starting between the backward ops, in bucket order
ddp = DDP(model(1), bucket_cap_mb=1e-6)
with mg.trace() as t:
    loss_fn(ddp(mg.tensor(mine(batches[0][0]))), mg.tensor(mine(batches[0][1]))).backward()
phases = [(r.phase, r.op, r.scope) for r in t.records if r.phase != "forward"]
starts = [k for k, (phase, op, _) in enumerate(phases) if op == "all_reduce start"]
assert [phases[k][2] for k in starts] == [f"bucket {b}" for b in range(4)], phases
assert any(phase == "backward" for phase, _, _ in phases[starts[0]:]), f"no overlap: {phases}"
assert [op for _, op, _ in phases[-4:]] == ["all_reduce wait"] * 4, phases
assert "all_reduce" not in str(t.profile())

# a parameter that gets no gradient: an error naming it, or zeros with find_unused_parameters
class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.spare = nn.Linear(12, 5).double(), nn.Linear(12, 5).double()

    def forward(self, x):
        return self.body(x)


x, y = mg.tensor(mine(batches[0][0])), mg.tensor(mine(batches[0][1]))
ddp = DDP(TwoHeads())
try:
    loss_fn(ddp(x), y).backward()
except RuntimeError as e:
    assert "spare.weight" in str(e) and "find_unused_parameters" in str(e), e
else:
    raise AssertionError("an unused parameter went unnoticed")
ddp = DDP(TwoHeads(), find_unused_parameters=True)
loss_fn(ddp(x), y).backward()
assert float(np.abs(ddp.module.spare.weight.grad.numpy()).max()) == 0.0

# models that differ across ranks: an error at construction, on every rank
try:
    DDP(mlp(in_features=12, hidden=16 + rank, num_classes=5))
except RuntimeError as e:
    assert "differ" in str(e) and "rank 1" in str(e), e
else:
    raise AssertionError("different models on the ranks went unnoticed")

# buffers follow rank 0 at construction and at every forward
bn = nn.Sequential(nn.Linear(12, 4), nn.BatchNorm1d(4)).double()
bn[1].running_mean._data[...] = rank
ddp = DDP(bn)
assert float(bn[1].running_mean.numpy().max()) == 0.0
dist.destroy_process_group()
print(f"rank {rank}: ddp ok", flush=True)
