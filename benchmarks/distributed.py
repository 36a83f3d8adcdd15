"""Data-parallel scaling: ``python -m benchmarks --group distributed [MODELS] [--steps N]``.

For each model (``resnet18_cifar``: ResNet-18 on 32x32 images, batch 32 per rank, SGD;
``text_lstm_t200``: the IMDB LSTM classifier, T 200, batch 64 per rank, Adam; both on fixed
random inputs) and each framework (minigrad's DistributedDataParallel over MPI, PyTorch's over
gloo), two runs, every process with one thread:

* ``single``: one process, the plain model: the time of a training step, ``t1``;
* ``ddp``: ``mpiexec -n 2`` (the mpich wheel's, beside this Python), the model wrapped in DDP,
  each rank with its own batch: the step time ``t2``, alternating with steps under ``no_sync()``
  (the same work without the gradient all-reduce), ``t2_local``; and the all-reduce alone of
  buffers the size of DDP's buckets (25 MB cap, parameters in reverse order), ``t_ar``.
  The ranks meet at a barrier before each timed step, so every step starts together, and each
  figure is the slowest rank's (a step is done when every rank is).

Reported, after untimed warm-up steps (``WARMUP``): the throughput ratio ``2 t1 / t2`` (samples per second
of 2 ranks over one process; 2 is perfect scaling); the exposed communication ``t2 - t2_local``
(the median of the differences of neighbouring steps, which a slow spell hits alike);
the fraction of the all-reduce hidden behind backward, ``1 - (t2 - t2_local) / t_ar`` (clipped to
[0, 1]); and the ratio of minigrad's DDP step time to PyTorch's.  Figures are medians over
``--steps`` steps (default 10).  ``--rounds`` (default 3) repeats both frameworks' runs in fresh
processes, alternating which goes first, so that a slow spell of this shared machine hits both; each
figure is then the median over the rounds, and the DDP step ratio the median of the rounds' paired
ratios, with their range.  Each model's row is written to the results file as soon as it is measured
(a stopped run keeps its rows; no ``--resume`` here: rerun the models left).

PyTorch's ranks join through ``env://`` (MASTER_ADDR 127.0.0.1, a free port, rank and size from
mpiexec's PMI variables).  Both frameworks' processes get minigrad's glibc settings (as in the
main benchmark).
"""
from __future__ import annotations

import datetime
import importlib
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

from . import harness, progress

MODELS = {"resnet18_cifar": "ResNet-18 (CIFAR), batch 32 per rank, SGD momentum 0.9",
          "text_lstm_t200": "IMDB LSTM classifier, T 200, batch 64 per rank, Adam"}
FRAMEWORKS = ("minigrad", "torch")
RANKS = 2
#: Untimed steps first: at least ``WARMUP[0]``, then until two in a row agree within ``SETTLED``
#: (at most ``WARMUP[1]``).  The first steps of a fresh process can be far slower:
#: here a minigrad LSTM step (1 thread) took 7 s of CPU in each of its first four calls and 0.4-0.7 s
#: from the sixth, nearly all of the difference in BPTT's matrix products (not page faults: their
#: count is flat from the third call; the cause is not pinned down).
WARMUP = (6, 12)
SETTLED = 1.2
BUCKET_CAP_MB = 25
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1", "MINIGRAD_NUM_THREADS": "1"}


# ----------------------------------------------------------------------------- in each process
def _setup(model, fw, seed):
    if model == "resnet18_cifar":
        from .workloads.conv import resnet_setup
        return resnet_setup(fw, "cpu", batch=32, seed=seed)
    from .workloads.recurrent import text_setup
    return text_setup(fw, "cpu", 200, seed=seed)


def _bucket_sizes(params):
    """Element counts of DDP's buckets: parameters in reverse order, a bucket closed once it
    reaches the cap (minigrad's rule; PyTorch's is close to it)."""
    sizes, current, cap = [], 0, BUCKET_CAP_MB * 2 ** 20
    for p in reversed(params):
        if current * 4 >= cap:
            sizes.append(current)
            current = 0
        current += math.prod(p.shape)
    return sizes + [current]


class _Comm:
    """What a timed loop needs from each framework: rank, barrier, DDP, all-reduce of buffers."""

    def __init__(self, fw):
        self.fw = fw
        if fw == "minigrad":
            import minigrad.distributed as dist
            dist.init_process_group("mpi")
        else:
            import torch
            import torch.distributed as dist
            torch.set_num_threads(1)
            dist.init_process_group("gloo", init_method="env://", rank=int(os.environ["PMI_RANK"]),
                                    world_size=int(os.environ["PMI_SIZE"]))
        self.dist = dist
        self.rank, self.size = dist.get_rank(), dist.get_world_size()

    def wrap(self, model):
        if self.fw == "minigrad":
            from minigrad.nn.parallel import DistributedDataParallel
        else:
            from torch.nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model, bucket_cap_mb=BUCKET_CAP_MB)

    def lib(self):
        """``minigrad`` or ``torch``: both spell tensor, ones, float64 alike."""
        return importlib.import_module(self.fw)

    def slowest_rank(self, lists):
        """Each time replaced by the largest any rank measured: a step is done when every rank is."""
        box = self.lib().tensor(lists, dtype=self.lib().float64)
        self.dist.all_reduce(box, op=self.dist.ReduceOp.MAX)
        return box.numpy().tolist()

    def allreduce_alone(self, sizes):
        """Start the all-reduce of one buffer per bucket, then wait for all (as DDP does)."""
        buffers = [self.lib().ones(n) for n in sizes]
        extra = {"_check": False} if self.fw == "minigrad" else {}      # as DDP's bucket all-reduces

        def run():
            for w in [self.dist.all_reduce(b, async_op=True, **extra) for b in buffers]:
                w.wait()
        return run


def _time(fn, barrier=lambda: None):
    barrier()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _warm_up(cycle, agree=lambda t: t):
    """Run ``cycle`` until its time settles (``WARMUP``, ``SETTLED``); ``agree`` makes the ranks decide
    alike (the slowest rank's time), so they run the same collectives.  Returns the calls made."""
    previous = float("inf")
    for k in range(WARMUP[1]):
        t = agree(_time(cycle))
        if k + 1 >= WARMUP[0] and max(t, previous) <= SETTLED * min(t, previous):
            return k + 1
        previous = t
    return WARMUP[1]


def rank_worker(model_name, fw, mode, steps):
    """One process of a run; prints one JSON line (rank 0 only under mpiexec)."""
    if fw == "torch":
        import torch
        torch.set_num_threads(1)
        torch.manual_seed(0)
    if mode == "single":
        model, opt, loss_fn, X, Y = _setup(model_name, fw, seed=0)
        step = _step(model, opt, loss_fn, X, Y)
        warmup = _warm_up(step)
        times = [_time(step) for _ in range(steps)]
        print(json.dumps({"step_s": statistics.median(times), "steps": steps, "warmup": warmup, "times_s": times,
                          "blas": harness.blas_summary(fw)}))
        return
    comm = _Comm(fw)
    model, opt, loss_fn, X, Y = _setup(model_name, fw, seed=comm.rank)      # each rank its own batch
    ddp = comm.wrap(model)
    step = _step(ddp, opt, loss_fn, X, Y)

    def local_step():
        with ddp.no_sync():
            step()
    params = [p for p in model.parameters() if p.requires_grad]
    allreduce = comm.allreduce_alone(_bucket_sizes(params))
    barrier = comm.dist.barrier
    def cycle():
        for fn in (step, local_step, allreduce):
            fn()
    warmup = _warm_up(cycle, agree=lambda t: comm.slowest_rank([[t]])[0][0])
    synced, local, alone = [], [], []
    for _ in range(steps):               # interleaved, so a slow spell of the machine hits all three
        synced.append(_time(step, barrier))
        local.append(_time(local_step, barrier))
        alone.append(_time(allreduce, barrier))
    synced, local, alone = comm.slowest_rank([synced, local, alone])
    if comm.rank == 0:
        print(json.dumps({"step_s": statistics.median(synced), "local_step_s": statistics.median(local),
                          "allreduce_s": statistics.median(alone), "steps": steps, "ranks": comm.size,
                          "exposed_s": statistics.median(a - b for a, b in zip(synced, local)), "warmup": warmup,
                          "step_times_s": synced, "local_step_times_s": local, "allreduce_times_s": alone,
                          "bucket_mb": [round(4 * n / 2 ** 20, 1) for n in _bucket_sizes(params)],
                          "blas": harness.blas_summary(fw)}))
    comm.dist.destroy_process_group()


def _step(model, opt, loss_fn, X, Y):
    def step():
        opt.zero_grad()
        loss_fn(model(X), Y).backward()
        opt.step()
    return step


# ----------------------------------------------------------------------------- the parent
def mpiexec():
    """mpiexec beside this Python (the mpich wheel puts it there), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(cmd, env, timeout):
    """Run ``cmd`` in its own process group; on a timeout end that group (mpiexec and its ranks)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as e:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        if isinstance(e, KeyboardInterrupt):
            raise
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        return {"error": (err.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]}
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


def measure(model, fw, steps, timeout):
    """One round of one (model, framework): the single-process and the 2-rank runs, and what follows."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, **ONE_THREAD, **harness.timing_allocator_env(),
               PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()))
    worker = [sys.executable, "-m", "benchmarks.distributed", "--rank-worker", model, fw]
    single = _launch(worker + ["single", str(steps)], env, timeout)
    ddp = _launch([mpiexec(), "-n", str(RANKS)] + worker + ["ddp", str(steps)], env, timeout)
    run = {"single": single, "ddp": ddp}
    if "error" not in single and "error" not in ddp:
        exposed = max(0.0, ddp["exposed_s"])
        run.update(throughput_ratio=RANKS * single["step_s"] / ddp["step_s"], exposed_s=exposed,
                   hidden_fraction=min(1.0, max(0.0, 1 - exposed / ddp["allreduce_s"])))
    return run


def _median_run(runs):
    """The figures of several rounds of one framework: each the median over the rounds."""
    def med(get):
        return statistics.median(get(r) for r in runs)
    return {"single": {"step_s": med(lambda r: r["single"]["step_s"])},
            "ddp": {key: med(lambda r: r["ddp"][key]) for key in ("step_s", "local_step_s", "allreduce_s")},
            "throughput_ratio": med(lambda r: r["throughput_ratio"]), "exposed_s": med(lambda r: r["exposed_s"]),
            "hidden_fraction": med(lambda r: r["hidden_fraction"])}


def measure_model(model, frameworks, steps, rounds, timeout):
    """``rounds`` rounds of every framework in fresh processes, alternating (minigrad first in even rounds,
    torch first in odd ones), so a slow spell of the machine hits both; the DDP step ratio is the median
    of the rounds' paired ratios, with their range."""
    runs = {fw: [] for fw in frameworks}
    for k in range(rounds):
        for fw in (frameworks if k % 2 == 0 else frameworks[::-1]):
            runs[fw].append(measure(model, fw, steps, timeout))
    row = {"name": model, "model": model, "description": MODELS[model], "rounds": rounds, "runs": runs}
    errors = [r[part]["error"] for fw in frameworks for r in runs[fw] for part in ("single", "ddp")
              if "error" in r[part]]
    if errors:
        row["error"] = errors[0]
        return row
    row["frameworks"] = {fw: _median_run(runs[fw]) for fw in frameworks}
    if "torch" in runs:
        paired = [m["ddp"]["step_s"] / t["ddp"]["step_s"] for m, t in zip(runs["minigrad"], runs["torch"])]
        row.update(ddp_ratio=statistics.median(paired), ddp_ratio_range=[min(paired), max(paired)])
    return row


def format_table(rows):
    head = (f"{'model / framework':<26} {'1 proc ms':>10} {'2 ranks ms':>11} {'no_sync ms':>11} {'all-red ms':>11} "
            f"{'throughput':>11} {'hidden':>7} {'DDP step / torch':>17} {'rounds':>11}")
    lines = [head, "-" * len(head)]
    for row in rows:
        if "error" in row:
            lines.append(f"{row['name']:<26} ERROR: {row['error']}")
            continue
        for fw, fig in row["frameworks"].items():
            versus = f"{row['ddp_ratio']:17.2f} {'%.2f-%.2f' % tuple(row['ddp_ratio_range']):>11}" \
                if fw == "minigrad" and "ddp_ratio" in row else " " * 16 + "-"
            lines.append(f"{row['model'] + '/' + fw:<26} {1e3 * fig['single']['step_s']:10.1f} "
                         f"{1e3 * fig['ddp']['step_s']:11.1f} {1e3 * fig['ddp']['local_step_s']:11.1f} "
                         f"{1e3 * fig['ddp']['allreduce_s']:11.1f} {fig['throughput_ratio']:10.2f}x "
                         f"{100 * fig['hidden_fraction']:6.0f}% {versus}")
    return "\n".join(lines)


def main(names=(), path=None, steps=None, no_torch=False, timeout=1800, rounds=3):
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        print(f"unknown models for --group distributed: {unknown}; expected some of {list(MODELS)}", file=sys.stderr)
        return 2
    if mpiexec() is None:
        print("--group distributed needs mpiexec and mpi4py: pip install 'minigrad[distributed]'", file=sys.stderr)
        return 2
    steps = steps or 10
    frameworks = ["minigrad"] if no_torch else list(FRAMEWORKS)
    planned = list(names or MODELS)
    rounds = max(1, rounds)
    header = {"benchmark": "distributed", "ranks": RANKS, "threads_per_process": 1, "steps": steps, "rounds": rounds,
              "bucket_cap_mb": BUCKET_CAP_MB, "machine": harness.machine_info(),
              "malloc_env": harness.timing_allocator_env()}
    path = path or os.path.join(os.path.dirname(__file__), "results",
                                datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + "-distributed.json")
    print(f"data-parallel scaling: {RANKS} ranks x 1 thread against 1 process x 1 thread, {steps} timed steps "
          f"each (medians), in {rounds} alternating rounds of fresh processes per framework (each figure\n"
          f"the median over the rounds; DDP step / torch: the median of the paired rounds' ratios, with their range);\nthroughput = {RANKS} t(1 proc) / t({RANKS} ranks); hidden = the share of the all-reduce "
          f"time not added to the step\nwriting {path} after every row\n", flush=True)

    def measure_row(model):
        return measure_model(model, frameworks, steps, rounds, timeout)
    progress.stop_on_sigterm()
    rows, stopped = progress.run_rows(planned, measure_row, path, header, planned, [])
    print(format_table(rows))
    missing = progress.missing_rows(planned, rows)
    if missing:
        print(f"\nmissing ({len(missing)} of {len(planned)} rows, not measured): {', '.join(missing)}")
    print(f"\nwrote {path}")
    return 130 if stopped else 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--rank-worker":
        rank_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        from .__main__ import main as benchmarks_main
        sys.exit(benchmarks_main(["--group", "distributed", *sys.argv[1:]]))
