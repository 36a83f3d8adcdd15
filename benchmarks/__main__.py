"""``python -m benchmarks``: time workloads for minigrad and PyTorch side by side.

    python -m benchmarks                      # every workload on CPU
    python -m benchmarks --group ops          # one group
    python -m benchmarks mul_32x32 matmul_512 # chosen workloads
    python -m benchmarks --device cuda        # on the GPU (CuPy vs PyTorch CUDA)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

from . import harness
from .workloads import load_all


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="workloads to run (default: all in --group)")
    parser.add_argument("--group", help="only workloads of this group")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh processes per framework, alternating minigrad and torch (default 3)")
    parser.add_argument("--json", help="write results here (default: benchmarks/results/<time>.json)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--worker", nargs=3, metavar=("WORKLOAD", "FRAMEWORK", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        harness.run_worker(*args.worker[:2], args.device, args.repeats, args.worker[2])
        return 0
    workloads = load_all()
    if args.list:
        for w in workloads.values():
            print(f"{w.name:<24} {w.group:<8} {w.description}")
        return 0
    unknown = [n for n in args.names if n not in workloads]
    if unknown:
        print(f"unknown workloads: {unknown}; see --list", file=sys.stderr)
        return 2
    chosen = [workloads[n] for n in args.names] if args.names else \
        [w for w in workloads.values() if args.group is None or w.group == args.group]
    use_torch = _torch_available() and not args.no_torch

    info = harness.machine_info()
    gpu = args.device.startswith("cuda")
    peaks = {"minigrad": harness.matmul_peak("cupy" if gpu else "numpy", args.device)}
    if use_torch:
        peaks["torch"] = harness.matmul_peak("torch", args.device)
    peak = max(peaks.values())
    print(f"minigrad benchmarks on {args.device}; {info['cpu_count']} CPUs; numpy {info['numpy']}, "
          f"numba {info.get('numba')}, torch {info.get('torch') or 'not installed'}")
    for b in info["blas"]:
        print("  BLAS:", ", ".join(f"{k}={v}" for k, v in b.items()))
    if info["env"]:
        print("  env:", ", ".join(f"{k}={v}" for k, v in info["env"].items()))
    print("  float32 2048^3 matmul peak: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items())
          + f"  (GFLOP/s figures are read against {peak:.1f})")
    print(f"  times: median of repeats after warm-up, in {max(1, args.rounds)} alternating fresh processes per framework "
          "(the median round shown);\n  ratio = minigrad / torch (below 1: minigrad faster), the median of the paired "
          "rounds, with their range\n")

    rows = []
    for w in chosen:
        frameworks = ["minigrad", "torch"] if use_torch else ["minigrad"]
        row = {"name": w.name, "group": w.group, "description": w.description, "flops": w.flops,
               **harness.run_rounds(w.name, frameworks, args.device, args.repeats, max(1, args.rounds))}
        rows.append(row)
        print(f"  measured {w.name}", file=sys.stderr)
    print(harness.format_table(rows, peak))

    path = args.json or os.path.join(os.path.dirname(__file__), "results",
                                     datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{args.device}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"machine": info, "device": args.device, "matmul_peak_gflops": peaks, "results": rows}, f, indent=1)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
