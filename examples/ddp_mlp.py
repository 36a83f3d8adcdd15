"""Data-parallel training over MPI: the MLP on the bundled digits, one process per rank.

Run:  mpiexec -n 2 python examples/ddp_mlp.py          (pip install ".[distributed]" first)
      python examples/ddp_mlp.py                       (one process: a world of size 1)

Each rank reads its own share of every epoch (DistributedSampler), computes the gradient of
its part of the batch, and DistributedDataParallel averages the gradients across the ranks
during backward, so every rank takes the same optimizer step.  Only rank 0 prints.
"""
import argparse

import minigrad as mg
import minigrad.distributed as dist
import minigrad.nn as nn
from minigrad.data import DataLoader, Digits, DistributedSampler, transforms
from minigrad.models import mlp
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.optim import Adam

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch-size", type=int, default=32, help="per rank")
args = parser.parse_args()

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
mg.manual_seed(rank)                       # different on purpose: DDP copies rank 0's weights
train_set = Digits(train=True, transform=transforms.Flatten())
test_set = Digits(train=False, transform=transforms.Flatten())
sampler = DistributedSampler(train_set, shuffle=True, seed=0)
loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
model = DistributedDataParallel(mlp(64, 256, 10))
optimizer = Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
if rank == 0:
    print(f"{world} rank(s), batch {args.batch_size} per rank, global batch {args.batch_size * world}")

for epoch in range(args.epochs):
    sampler.set_epoch(epoch)               # a new shuffle per epoch, the same on every rank
    model.train()
    total = mg.zeros(2, dtype=mg.float64)  # (sum of losses, samples) on this rank
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()                    # returns with the gradients averaged over the ranks
        optimizer.step()
        total += mg.tensor([loss.item() * len(y), len(y)], dtype=mg.float64)
    dist.all_reduce(total)                 # the epoch's loss over the global data
    model.eval()
    with mg.no_grad():                     # every rank evaluates the whole test set (it is small)
        correct = sum((model(x).argmax(1) == y).sum().item() for x, y in DataLoader(test_set, batch_size=512))
    if rank == 0:
        print(f"epoch {epoch + 1}: train loss {total[0].item() / total[1].item():.4f}  "
              f"test accuracy {correct / len(test_set):.4f}")
dist.destroy_process_group()
