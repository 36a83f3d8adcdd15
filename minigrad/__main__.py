"""Command line: ``python -m minigrad train | gradcheck``."""
from __future__ import annotations

import argparse
import sys
import time


def _gradcheck(args) -> int:
    import numpy as np

    from . import backend
    from .gradcheck import gradcheck_report
    from .testing import REGISTRY, RandomDrawer
    from .testing.harness import build_inputs, op_function

    device = args.device
    if device != "cpu":
        backend.device(device)      # fails clearly when CUDA is unusable
    names = set(args.ops or ())
    specs = [s for s in REGISTRY if not names or s.name in names or s.op in names]
    if not specs:
        print(f"gradcheck: no registered op matches {sorted(names)}", file=sys.stderr)
        return 2
    print(f"{'entry':<18} {'op':<14} {'samples':>7} {'worst |error|':>14} {'mode':<11} verdict")
    failures = 0
    start = time.perf_counter()
    for k, spec in enumerate(specs):
        if spec.needs_cuda and device == "cpu":
            print(f"{spec.name:<18} {spec.op:<14} {0:>7} {'':>14} {'':<11} skipped (needs CUDA)")
            continue
        worst, ok, modes, message = 0.0, True, set(), ""
        for s in range(args.samples):
            sample = spec.sample(RandomDrawer(args.seed * 1000 + 31 * k + s), np.float64)
            inputs, kwargs = build_inputs(sample, device)
            fn, diff = op_function(spec, inputs, kwargs)
            if not diff:
                continue
            report = gradcheck_report(fn, diff, eps=spec.eps, atol=spec.grad_atol, rtol=spec.grad_rtol)
            worst = max(worst, report.worst_error)
            modes.add(report.mode)
            if not report.ok:
                ok, message = False, report.message
        failures += not ok
        verdict = "ok" if ok else "FAIL"
        print(f"{spec.name:<18} {spec.op:<14} {args.samples:>7} {worst:>14.3e} {'/'.join(sorted(modes)):<11} {verdict}")
        if not ok:
            print(f"    {message}")
    elapsed = time.perf_counter() - start
    checked = sum(1 for s in specs if not (s.needs_cuda and device == "cpu"))
    print(f"\n{checked - failures}/{checked} registered ops pass finite differences in float64 "
          f"on {device} ({elapsed:.1f} s)")
    return 1 if failures else 0


def _train(args) -> int:
    from .tasks import run
    run(args.model, data=args.data, root=args.root, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, device=args.device, out=args.out, progress=not args.no_progress, resume=args.resume)
    return 0


def main(argv=None) -> int:
    from .tasks import TASKS, UsageError

    parser = argparse.ArgumentParser(prog="python -m minigrad", description="minigrad command line")
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train one of the classic programs (default data: the bundled digits)")
    tr.add_argument("model", choices=sorted(TASKS), help="which program")
    tr.add_argument("--data", help="digits (bundled; the default), mnist, fashion-mnist, cifar10 (resnets' default)")
    tr.add_argument("--root", help="folder holding the data set's files")
    tr.add_argument("--epochs", type=int)
    tr.add_argument("--batch-size", type=int)
    tr.add_argument("--lr", type=float)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--device", default="cpu")
    tr.add_argument("--out", default="runs/latest", help="folder for metrics.json, curves.png, checkpoint.npz")
    tr.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz if it exists")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    gc = sub.add_parser("gradcheck", help="check every registered op against finite differences")
    gc.add_argument("ops", nargs="*", help="only these registry entries or ops (default: all)")
    gc.add_argument("--samples", type=int, default=3, help="random inputs per op (default 3)")
    gc.add_argument("--seed", type=int, default=0)
    gc.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args(argv)
    try:
        if args.command == "gradcheck":
            return _gradcheck(args)
        if args.command == "train":
            return _train(args)
    except (UsageError, RuntimeError, ValueError) as exc:
        print(f"minigrad {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
