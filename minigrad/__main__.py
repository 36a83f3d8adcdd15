"""Command line: ``python -m minigrad train | gradcheck | graph | profile``."""
from __future__ import annotations

import argparse
import sys
import time


def _gradcheck(args) -> int:
    import numpy as np

    from . import backend
    from .gradcheck import gradcheck_report
    from .testing import REGISTRY, RandomDrawer
    from .tasks import UsageError
    from .testing.harness import build_inputs, op_function

    if args.samples <= 0:
        raise UsageError(f"--samples must be positive, got {args.samples} (0 would check nothing)")
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


def _add_train_parser(sub):
    from .tasks import TASKS, data_help
    tr = sub.add_parser("train", help="train one of the classic programs (default data: the bundled digits)")
    tr.add_argument("model", choices=sorted(TASKS), help="which program")
    tr.add_argument("--data", help=f"data set: {data_help()}")
    tr.add_argument("--root", help="folder holding the data set's files, or the text file of --data text (not "
                    "for the bundled digits and reverse)")
    tr.add_argument("--epochs", type=int)
    tr.add_argument("--batch-size", type=int)
    tr.add_argument("--lr", type=float)
    tr.add_argument("--seed", type=int, help="random seed (default 0; a resumed run keeps its own)")
    tr.add_argument("--device", default="cpu")
    tr.add_argument("--out", default="runs/latest", help="folder for checkpoint.npz, metrics.json, curves.png")
    tr.add_argument("--resume", action="store_true",
                    help="continue the run in OUT (flags left out come from its checkpoint; "
                         "--epochs, --batch-size, --lr given apply)")
    tr.add_argument("--overwrite", action="store_true", help="start a fresh run even if OUT already holds one")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.add_argument("--save-format", choices=("npz", "pt", "safetensors"), default="npz",
                    help="also write OUT/checkpoint.pt (PyTorch's format) or OUT/model.safetensors after each epoch "
                         "(checkpoint.npz, which --resume reads, is always written)")
    tr.add_argument("--tensorboard", metavar="DIR", help="log loss, accuracy, learning rate and gradient norms to DIR")
    return tr


def _train(args) -> int:
    from .tasks import TrainingFailed, run
    try:
        run(args.model, data=args.data, root=args.root, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            seed=args.seed, device=args.device, out=args.out, progress=not args.no_progress, resume=args.resume,
            overwrite=args.overwrite, save_format=args.save_format, tensorboard=args.tensorboard)
    except TrainingFailed as exc:
        print(f"minigrad train: {exc}", file=sys.stderr)
        return 1
    return 0


def _graph(args) -> int:
    import os

    from . import trace, viz
    from .tasks import UsageError, example_step
    step = example_step(args.model, args.batch_size, args.device, args.seed, input_grad=True)
    with trace(step.model) as t:
        loss = step.forward_backward()
    collapse = None if args.full else (args.collapse or (["BasicBlock"] if args.model == "resnet18" else None))
    depth = None if args.full else args.depth
    out = args.out or os.path.join("runs", f"{args.model}-graph.svg")
    try:
        picture = viz.graph(loss, step.model, trace=t, collapse=collapse, depth=depth, clusters=not args.no_clusters,
                            title=f"{args.model}: one training step (batch {args.batch_size})")
        picture.render(out)
    except viz.GraphvizNotFoundError as exc:
        needs = str(exc).split("; Graph.save")[0]
        raise UsageError(f"{needs}; --out FILE.dot writes the DOT text without it") from None
    except ValueError as exc:
        raise UsageError(str(exc).removeprefix("graph: ").removesuffix(" (or pass format=)")) from None
    print(f"wrote {out}: {repr(picture).split(';')[0].removeprefix('<Graph: ')}")
    return 0


def _profile(args) -> int:
    import time

    from . import trace
    from .tasks import UsageError, example_step
    if args.steps <= 0:
        raise UsageError(f"--steps must be positive, got {args.steps}")
    step = example_step(args.model, args.batch_size, args.device, args.seed)
    step.forward_backward()                               # warm-up: kernels compile, buffers settle
    step.optimizer.step()
    update = 0.0
    with trace(step.model, sync=step.inputs.device.type == "cuda") as t:
        for _ in range(args.steps):
            step.forward_backward()
            with t.paused():
                start = time.perf_counter()
                step.optimizer.step()
                update += time.perf_counter() - start
    print(f"{args.model}: forward + backward, totals over {args.steps} training step(s) of batch {args.batch_size}, "
          f"{step.inputs.device} (after one warm-up step)")
    print(t.profile())
    print(f"optimizer step (not in the table; it updates arrays in place): {1e3 * update / args.steps:.2f} ms a step")
    if args.trace:
        t.to_json(args.trace)
        print(f"wrote the full trace to {args.trace}")
    return 0


def main(argv=None) -> int:
    from .tasks import STEP_MODELS, UsageError

    parser = argparse.ArgumentParser(prog="python -m minigrad", description="minigrad command line")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train_parser(sub)
    gc = sub.add_parser("gradcheck", help="check every registered op against finite differences")
    gc.add_argument("ops", nargs="*", help="only these registry entries or ops (default: all)")
    gc.add_argument("--samples", type=int, default=3, help="random inputs per op (default 3)")
    gc.add_argument("--seed", type=int, default=0)
    gc.add_argument("--device", default="cpu", help="cpu or cuda")
    gr = sub.add_parser("graph", help="draw the graph of one training step (SVG, PNG or PDF with Graphviz; DOT)")
    pr = sub.add_parser("profile", help="time one training step per op type, forward and backward")
    for p in (gr, pr):
        p.add_argument("model", choices=STEP_MODELS, help="which model (random inputs shaped like its data)")
        p.add_argument("--batch-size", type=int, default=32)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--device", default="cpu")
    gr.add_argument("--out", help="FILE.svg, .png, .pdf or .dot (default runs/MODEL-graph.svg)")
    gr.add_argument("--collapse", action="append", metavar="TYPE",
                    help="draw modules of this type as one node (repeatable; resnet18's default: BasicBlock)")
    gr.add_argument("--depth", type=int, help="draw modules nested deeper than this as one node")
    gr.add_argument("--full", action="store_true", help="fold nothing")
    gr.add_argument("--no-clusters", action="store_true", help="no boxes around each module's ops")
    pr.add_argument("--steps", type=int, default=3, help="steps to time (default 3)")
    pr.add_argument("--trace", metavar="FILE.json", help="also write every op's record as JSON")
    args = parser.parse_args(argv)
    try:
        if args.command == "gradcheck":
            return _gradcheck(args)
        if args.command == "train":
            return _train(args)
        if args.command == "graph":
            return _graph(args)
        if args.command == "profile":
            return _profile(args)
    except (UsageError, RuntimeError, ValueError) as exc:
        print(f"minigrad {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
