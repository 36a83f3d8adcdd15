"""Does a long training run hold steady memory?  ``python -m benchmarks.steady_memory``

Runs one benchmark workload's training step (``--workload``, default the 784-256-10 MLP with
Adam, batch 32; ``resnet18_cifar_step`` and ``text_lstm_t200`` are the other seed programs) for
``--steps`` steps and reports the process's resident set (VmRSS) and peak (VmHWM) after the
first tenth of the run (at most step 100: allocator pools and caches have filled by then) and at
the end: a leak of graphs, gradients or buffers would grow them with the number of steps.
``--framework torch`` runs PyTorch's version of the same step, for comparison.
"""
from __future__ import annotations

import argparse
import json


def _status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workload", default="mlp_step_b32", help="a workload of `python -m benchmarks --list`")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--framework", default="minigrad", choices=["minigrad", "torch"])
    parser.add_argument("--json", help="also write the readings here")
    args = parser.parse_args(argv)

    from .workloads import load_all
    workloads = load_all()
    if args.workload not in workloads:
        parser.error(f"unknown workload {args.workload!r}; `python -m benchmarks --list` names them")
    if args.steps < 2:
        parser.error("--steps must be at least 2")
    step = workloads[args.workload].setup[args.framework]("cpu")
    first = max(1, min(100, args.steps // 10))
    readings = {}
    for k in range(1, args.steps + 1):
        step()
        if k in (first, args.steps):
            readings[k] = {"rss_mb": round(_status_mb("VmRSS"), 1), "peak_rss_mb": round(_status_mb("VmHWM"), 1)}
            print(f"{args.framework} {args.workload} step {k:5d}: RSS {readings[k]['rss_mb']:.1f} MB, "
                  f"peak RSS {readings[k]['peak_rss_mb']:.1f} MB", flush=True)
    growth = readings[args.steps]["peak_rss_mb"] - readings[first]["peak_rss_mb"]
    print(f"peak RSS growth from step {first} to step {args.steps}: {growth:+.1f} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"workload": args.workload, "framework": args.framework, "readings": readings,
                       "peak_growth_mb": round(growth, 1)}, f, indent=1)


if __name__ == "__main__":
    main()
