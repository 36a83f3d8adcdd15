"""``python -m benchmarks``: time workloads for minigrad and PyTorch side by side.

    python -m benchmarks                      # every workload on CPU
    python -m benchmarks --group ops          # one group
    python -m benchmarks mul_32x32 matmul_512 # chosen workloads
    python -m benchmarks --device cuda        # on the GPU (CuPy vs PyTorch CUDA)
    python -m benchmarks --resume FILE        # measure the rows a stopped run left out
    python -m benchmarks --report FILE        # print a results file's table (and its missing rows)
    python -m benchmarks --report FILE --markdown  # the same table in Markdown, as in the README
    python -m benchmarks --group distributed  # data-parallel scaling under mpiexec (benchmarks/distributed.py)

The results file is rewritten after every row, so a run stopped half-way keeps what it measured.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

from . import harness, progress
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
    parser.add_argument("--resume", metavar="FILE", help="measure the rows missing from this results file, into it")
    parser.add_argument("--report", metavar="FILE", help="print this results file's table and exit")
    parser.add_argument("--markdown", action="store_true", help="with --report: the table in Markdown (the README's)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--steps", type=int, default=None, help="--group distributed: timed steps per run")
    parser.add_argument("--worker", nargs=3, metavar=("WORKLOAD", "FRAMEWORK", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        harness.run_worker(*args.worker[:2], args.device, args.repeats, args.worker[2])
        return 0
    if args.report:
        header, planned, rows = progress.read(args.report)
        if header.get("benchmark") == "distributed":
            from . import distributed
            print(distributed.format_table(rows))
            missing = progress.missing_rows(planned, rows)
            print(f"\nmissing ({len(missing)} of {len(planned)} rows, not measured): {', '.join(missing)}"
                  if missing else "")
        elif args.markdown:
            print(harness.format_markdown(rows, max(header["matmul_peak_gflops"].values())))
        else:
            print(report(header, planned, rows))
        return 0
    if args.group == "distributed":
        from . import distributed
        return distributed.main(args.names, args.json, args.steps, args.no_torch, rounds=args.rounds)
    workloads = load_all()
    if args.list:
        for w in workloads.values():
            print(f"{w.name:<24} {w.group:<8} {w.description}")
        print(f"{'resnet18_cifar':<24} {'distributed':<8} DDP scaling under mpiexec, against PyTorch DDP on gloo")
        print(f"{'text_lstm_t200':<24} {'distributed':<8} the same for the IMDB LSTM (benchmarks/distributed.py)")
        return 0
    if args.resume:
        header, planned, rows = progress.read(args.resume)
        path, names = args.resume, progress.missing_rows(planned, rows)
        args.device = header.get("device", args.device)
        args.rounds, args.repeats = header.get("rounds", args.rounds), header.get("repeats", args.repeats)
        use_torch = "torch" in header.get("frameworks", ["minigrad", "torch"]) and _torch_available()
    else:
        names = args.names or [w.name for w in workloads.values() if args.group is None or w.group == args.group]
        use_torch = _torch_available() and not args.no_torch
        path, rows, planned = args.json, [], names
    unknown = [n for n in names if n not in workloads]
    if unknown:
        print(f"unknown workloads: {unknown}; see --list", file=sys.stderr)
        return 2
    frameworks = ["minigrad", "torch"] if use_torch else ["minigrad"]
    rounds = max(1, args.rounds)

    gpu = args.device.startswith("cuda")
    if args.resume:
        info, peaks = header["machine"], header["matmul_peak_gflops"]
    else:
        info = harness.machine_info()
        peaks = {"minigrad": harness.matmul_peak("cupy" if gpu else "numpy", args.device)}
        if use_torch:
            peaks["torch"] = harness.matmul_peak("torch", args.device)
        header = {"machine": info, "device": args.device, "rounds": rounds, "repeats": args.repeats,
                  "frameworks": frameworks, "matmul_peak_gflops": peaks,
                  "timing_malloc_env": harness.timing_allocator_env(), "memory_malloc_env": harness.MEMORY_ENV}
    print(describe(header))
    path = path or os.path.join(os.path.dirname(__file__), "results",
                                datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{args.device}.json")
    print(f"writing {path} after every row ({len(names)} to measure)\n", flush=True)

    def measure_row(name):
        w = workloads[name]
        return {"name": w.name, "group": w.group, "description": w.description, "flops": w.flops,
                **harness.run_rounds(w.name, frameworks, args.device, args.repeats, rounds)}
    progress.stop_on_sigterm()
    earlier = progress.previous_wall_times(os.path.dirname(os.path.abspath(path)), rounds)
    rows, stopped = progress.run_rows(names, measure_row, path, header, planned, rows, earlier)
    print(report(header, planned, rows, with_header=False))
    print(f"\nwrote {path}")
    return 130 if stopped else 0


def describe(header):
    """The lines above the table: machine, BLAS, allocator, matmul peak, what the figures are."""
    info, peaks = header["machine"], header["matmul_peak_gflops"]
    cpu = f" ({info['cpu']})" if info.get("cpu") else ""          # files from before it was recorded lack it
    lines = [f"minigrad benchmarks on {header['device']}; {info['cpu_count']} CPUs{cpu}; numpy {info['numpy']}, "
             f"numba {info.get('numba')}, torch {info.get('torch') or 'not installed'}"]
    lines += ["  BLAS: " + ", ".join(f"{k}={v}" for k, v in b.items()) for b in info["blas"]]
    if info["env"]:
        lines.append("  env: " + ", ".join(f"{k}={v}" for k, v in info["env"].items()))
    malloc = header.get("timing_malloc_env")
    if malloc is not None:
        lines.append("  glibc malloc, both frameworks' timing runs: " + (
            " ".join(f"{k}={v}" for k, v in malloc.items()) + " (minigrad's settings)" if malloc
            else "as inherited from this environment"))
    lines.append("  float32 2048^3 matmul peak: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items())
                 + f"  (GFLOP/s figures are read against {max(peaks.values()):.1f})")
    lines.append(f"  times: median of repeats after warm-up, in {header.get('rounds', '?')} alternating fresh "
                 "processes per framework (the median round shown);\n  ratio = minigrad / torch (below 1: minigrad "
                 "faster), the median of the paired rounds, with their range\n")
    return "\n".join(lines)


def report(header, planned, rows, with_header=True):
    """The table of the rows measured, then the rows missing (a stopped run) and how to finish them."""
    text = (describe(header) + "\n" if with_header else "") + harness.format_table(
        rows, max(header["matmul_peak_gflops"].values()))
    ran = {}
    for row in rows:
        for f in ("minigrad", "torch"):
            if isinstance(row.get(f), dict) and row[f].get("blas"):
                ran.setdefault(f, set()).add(row[f]["blas"])
    if ran:
        text += "\n\nBLAS in the timing workers: " + "; ".join(f"{f}: {' | '.join(sorted(v))}" for f, v in ran.items())
    missing = progress.missing_rows(planned, rows)
    if missing:
        text += (f"\n\nmissing ({len(missing)} of {len(planned)} rows, not measured): {', '.join(missing)}"
                 "\n(python -m benchmarks --resume FILE measures them)")
    return text


if __name__ == "__main__":
    sys.exit(main())
