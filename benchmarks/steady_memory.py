"""Does a long training run hold steady memory?  ``python -m benchmarks.steady_memory``

Trains the 784-256-10 MLP (Adam, batch 32) for ``--steps`` steps on random data and reports
the process's resident set (VmRSS) and peak (VmHWM) at step 100 and at the end: a leak of
graphs or gradients would grow them with the number of steps.
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def _status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--json", help="also write the readings here")
    args = parser.parse_args(argv)

    import minigrad as mg
    from minigrad import nn
    from minigrad.optim import Adam

    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    xs = mg.tensor(rng.standard_normal((50, 32, 784)).astype(np.float32))
    ys = mg.tensor(rng.integers(0, 10, (50, 32)))
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    readings = {}
    for step in range(1, args.steps + 1):
        opt.zero_grad()
        loss = loss_fn(model(xs[step % 50]), ys[step % 50])
        loss.backward()
        opt.step()
        if step in (100, args.steps):
            readings[step] = {"rss_mb": round(_status_mb("VmRSS"), 1), "peak_rss_mb": round(_status_mb("VmHWM"), 1),
                              "loss": round(loss.item(), 4)}
            print(f"step {step:5d}: RSS {readings[step]['rss_mb']:.1f} MB, peak RSS {readings[step]['peak_rss_mb']:.1f} MB, "
                  f"loss {readings[step]['loss']}")
    growth = readings[args.steps]["peak_rss_mb"] - readings[100]["peak_rss_mb"]
    print(f"peak RSS growth from step 100 to step {args.steps}: {growth:+.1f} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(readings, f, indent=1)


if __name__ == "__main__":
    main()
