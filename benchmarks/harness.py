"""Timing, memory and the machine's matmul peak; the report table and JSON.

Timing: ``warmup`` calls first (JIT compilation, allocator warm-up), then ``repeats`` timed
rounds of ``inner`` calls each (``inner`` chosen so a round lasts about ``round_s``); the
figure is the median per-call time.  GPU steps are synchronised before the clock stops.  Each
framework is timed in several fresh processes, alternating with the other (``run_rounds``);
the ratio reported is the median of the paired rounds' ratios, with their range.  Slow
steps (half a second or more) stop repeating early when their times agree (``SPREAD_OK``).

The allocator: ``import minigrad`` tunes glibc for its process (``minigrad/_malloc.py``); the
timing workers of both frameworks get those same settings through glibc's environment
variables (``timing_allocator_env``), so the ratio compares the engines, not the allocators.

Peak memory, measured in a separate run after one untimed step: on CPU the rise of the
process's peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs``) during one
step above what was resident before it, with glibc told to return freed blocks at once
(``MEMORY_ENV``) so that both frameworks are measured alike; on GPU the framework's own
counter (bytes CuPy's memory pool grew to, PyTorch's ``max_memory_allocated``).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time


# ----------------------------------------------------------------------------- timing
def synchronizer(framework: str, device: str):
    if not device.startswith("cuda"):
        return lambda: None
    if framework == "torch":
        import torch
        return torch.cuda.synchronize
    import cupy
    return lambda: cupy.cuda.get_current_stream().synchronize()


#: Slow steps (at least ``SLOW_STEP_S`` a call) take fewer calls when their times agree: two
#: warm-up calls instead of ``warmup``, and the timed repeats stop after ``MIN_REPEATS`` once
#: the spread of the repeats so far, (max - min) / median, is at most ``SPREAD_OK``; while it
#: is wider they go on, up to ``repeats``.  Fast steps always run ``repeats`` rounds.
SLOW_STEP_S = 0.5
MIN_REPEATS = 5
SPREAD_OK = 0.10


def spread(times):
    return (max(times) - min(times)) / statistics.median(times)


def time_step(step, sync, warmup=5, repeats=15, round_s=0.05, clock=time.perf_counter):
    once = None
    for k in range(max(1, warmup)):
        t0 = clock()
        step()
        sync()
        once = max(clock() - t0, 1e-7)       # the last warm-up call's time sets ``inner``
        if k >= 1 and once >= SLOW_STEP_S:
            break
    slow = once >= SLOW_STEP_S
    inner = max(1, min(10000, int(round_s / once)))
    times = []
    for _ in range(repeats):
        t0 = clock()
        for _ in range(inner):
            step()
        sync()
        times.append((clock() - t0) / inner)
        if slow and len(times) >= MIN_REPEATS and spread(times) <= SPREAD_OK:
            break
    return {"median_s": statistics.median(times), "min_s": min(times), "inner": inner, "repeats": len(times),
            "spread": spread(times)}


# ----------------------------------------------------------------------------- memory
def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def cpu_peak_during(fn):
    """Bytes by which the peak resident set rose while ``fn`` ran (Linux), else None."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                      # resets VmHWM to the current RSS
    except OSError:
        return None
    before = _status_kb("VmRSS")
    fn()
    peak = _status_kb("VmHWM")
    return None if before is None or peak is None else max(0, peak - before) * 1024


def gpu_peak_during(framework, fn):
    if framework == "torch":
        import torch
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    import cupy
    pool = cupy.get_default_memory_pool()
    cupy.cuda.get_current_stream().synchronize()
    base = pool.used_bytes()
    pool.free_all_blocks()
    fn()
    cupy.cuda.get_current_stream().synchronize()
    return pool.total_bytes() - base


# ----------------------------------------------------------------------------- machine
def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "install threadpoolctl (pip install 'minigrad[bench]') to see which BLAS ran"}]
    keep = ("user_api", "internal_api", "prefix", "version", "num_threads", "threading_layer", "architecture")
    return [{k: info.get(k) for k in keep if info.get(k) is not None} for info in threadpool_info()]


def blas_summary(framework):
    """The BLAS that ran in this worker, in a few words ("openblas 0.3.31 SkylakeX, 2 threads")."""
    if framework == "torch":
        import torch
        config = torch.__config__.show()
        found = [part.split("=", 1)[1] for line in config.splitlines() for part in line.replace(",", " ").split()
                 if part.startswith(("BLAS_INFO=", "LAPACK_INFO="))]
        return f"{found[0] if found else 'unknown BLAS'} (linked into torch), {torch.get_num_threads()} threads"
    libs = [b for b in blas_info() if b.get("user_api") == "blas"]
    if not libs:
        return blas_info()[0].get("note", "no BLAS loaded")
    return "; ".join(f"{b.get('internal_api')} {b.get('version')} {b.get('architecture', '')}, "
                     f"{b.get('num_threads')} threads" for b in libs)


def cpu_model() -> str:
    """The processor's name (Linux's /proc/cpuinfo; else what ``platform`` knows): ratios against
    PyTorch move with it (oneDNN and MKL are tuned for each vendor's vector units)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info():
    import numpy as np
    info = {
        "python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
        "cpu": cpu_model(), "cpu_count": os.cpu_count(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
                                              "MINIGRAD_NUM_THREADS", "MINIGRAD_PARALLEL_MIN_ELEMENTS")
                if os.environ.get(k)},
        "blas": blas_info(),
    }
    try:
        import numba
        info["numba"] = numba.__version__
        info["numba_threads"] = numba.config.NUMBA_NUM_THREADS
    except ImportError:
        pass
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    return info


def matmul_peak(framework, device, n=2048):
    """GFLOP/s of a large float32 matrix product: the ceiling GFLOP/s figures are read against."""
    import numpy as np
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    if framework == "numpy":
        step = lambda: a @ a  # noqa: E731
        sync = lambda: None  # noqa: E731
    elif framework == "cupy":
        import cupy
        g = cupy.asarray(a)
        step, sync = (lambda: g @ g), synchronizer("minigrad", device)
    else:
        import torch
        t = torch.as_tensor(a, device=device)
        step, sync = (lambda: t @ t), synchronizer("torch", device)
    timing = time_step(step, sync, warmup=2, repeats=5, round_s=0.2)
    return 2 * n ** 3 / timing["median_s"] / 1e9


# ----------------------------------------------------------------------------- one measurement (in a worker)
#: For the memory run glibc must hand large blocks back to the system when they are freed,
#: so that the resident set follows what is live (its default threshold adapts upwards and
#: then keeps freed blocks).  Timing runs keep glibc's defaults.
MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "131072"}


def timing_allocator_env(environ=None):
    """glibc's settings for both frameworks' timing runs: the ones ``import minigrad`` applies
    to its own process (``minigrad/_malloc.py``), passed as glibc's environment variables, so
    that PyTorch's worker starts with exactly the same allocator (minigrad, seeing them, leaves
    them as they are).  Empty, so that both inherit the caller's environment, when that sets
    ``MINIGRAD_MALLOC_TUNING=0`` (glibc's defaults for both) or glibc's ``MALLOC_*_`` itself."""
    environ = os.environ if environ is None else environ
    if environ.get("MINIGRAD_MALLOC_TUNING", "1") == "0" or any(
            k.startswith("MALLOC_") and k.endswith("_") for k in environ):
        return {}
    from minigrad import _malloc
    return {"MALLOC_MMAP_THRESHOLD_": str(_malloc.MMAP_THRESHOLD),
            "MALLOC_TRIM_THRESHOLD_": str(_malloc.TRIM_THRESHOLD), "MALLOC_TOP_PAD_": str(_malloc.TOP_PAD)}


def measure(workload, framework, device, repeats, what="time"):
    if framework == "torch":
        import torch
        torch.manual_seed(0)
    step = workload.setup[framework](device)
    sync = synchronizer(framework, device)
    if what == "time":
        return time_step(step, sync, repeats=repeats)
    step()                       # first call: compilation, lazily created state
    sync()
    if device.startswith("cuda"):
        return {"peak_bytes": gpu_peak_during(framework, step)}
    return {"peak_bytes": cpu_peak_during(step)}


def run_worker(name, framework, device, repeats, what) -> None:
    from .workloads import load_all
    workload = load_all()[name]
    result = measure(workload, framework, device, repeats, what)
    result["blas"] = blas_summary(framework)
    result["malloc_env"] = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_") and k.endswith("_")}
    print(json.dumps(result))


def _run_one(name, framework, device, repeats, what, timeout):
    cmd = [sys.executable, "-m", "benchmarks", "--worker", name, framework, what, "--device", device,
           "--repeats", str(repeats)]
    env = dict(os.environ, **(MEMORY_ENV if what == "memory" else timing_allocator_env()))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_rounds(name, frameworks, device, repeats, rounds=3, timeout=900):
    """Time each framework ``rounds`` times, alternating (minigrad, torch, minigrad, ...), each
    time in a fresh interpreter, so that a slow spell of a shared machine lands on both sides
    rather than on one; then measure peak memory once each.  A framework's figure is the
    median of its rounds' medians; ``round_ratios`` pairs the rounds (minigrad / torch)."""
    results = {f: [] for f in frameworks}
    for _ in range(rounds):
        for f in frameworks:
            results[f].append(_run_one(name, f, device, repeats, "time", timeout))
    combined = {}
    for f, runs in results.items():
        failed = [r for r in runs if "error" in r]
        if failed:
            combined[f] = failed[0]
            continue
        combined[f] = {"median_s": statistics.median(r["median_s"] for r in runs), "round_medians_s":
                       [r["median_s"] for r in runs], "inner": runs[0]["inner"],
                       "repeats": [r["repeats"] for r in runs], "blas": runs[0].get("blas"),
                       "malloc_env": runs[0].get("malloc_env")}
        combined[f]["peak_bytes"] = _run_one(name, f, device, repeats, "memory", timeout).get("peak_bytes")
    if len(frameworks) == 2 and all("error" not in combined[f] for f in frameworks):
        mg, t = (combined[f]["round_medians_s"] for f in frameworks)
        combined["round_ratios"] = [a / b for a, b in zip(mg, t)]
    return combined


# ----------------------------------------------------------------------------- report
def _ms(result):
    return None if result is None or "error" in result else result["median_s"] * 1e3


def _mb(result):
    if result is None or "error" in result or result.get("peak_bytes") is None:
        return None
    return result["peak_bytes"] / 2 ** 20


def row_figures(row, peak_gflops):
    """One row's figures: times (ms), the paired ratio and its range, GFLOP/s and % of the peak, peak MB."""
    mg_ms, t_ms = _ms(row["minigrad"]), _ms(row.get("torch"))
    paired = row.get("round_ratios")
    flops = row.get("flops")
    mg_gf = flops / (mg_ms * 1e6) if flops and mg_ms else None
    mg_mb, t_mb = _mb(row["minigrad"]), _mb(row.get("torch"))
    return {"mg_ms": mg_ms, "t_ms": t_ms,
            "ratio": statistics.median(paired) if paired else mg_ms / t_ms if mg_ms and t_ms else None,
            "range": (min(paired), max(paired)) if paired and len(paired) > 1 else None,
            "mg_gf": mg_gf, "t_gf": flops / (t_ms * 1e6) if flops and t_ms else None,
            "pct_peak": 100 * mg_gf / peak_gflops if mg_gf and peak_gflops else None,
            "mg_mb": mg_mb, "t_mb": t_mb, "mem_ratio": mg_mb / t_mb if mg_mb and t_mb and t_mb > 0.5 else None,
            "error": row["minigrad"].get("error") if row["minigrad"] else None}


def format_table(rows, peak_gflops):
    head = (f"{'workload':<24} {'minigrad ms':>12} {'torch ms':>10} {'ratio':>6} {'rounds':>11} {'mg GFLOP/s':>11} "
            f"{'% peak':>7} {'torch GFLOP/s':>13} {'mg MB':>8} {'torch MB':>9} {'mem ratio':>9}")
    lines = [head, "-" * len(head)]

    def fmt(v, spec, width):
        return f"{v:{width}{spec}}" if v is not None else " " * (width - 1) + "-"
    for row in rows:
        r = row_figures(row, peak_gflops)
        spread = f"{r['range'][0]:.2f}-{r['range'][1]:.2f}" if r["range"] else "-"
        lines.append(f"{row['name']:<24} {fmt(r['mg_ms'], '.3f', 12)} {fmt(r['t_ms'], '.3f', 10)} "
                     f"{fmt(r['ratio'], '.2f', 6)} {spread:>11} {fmt(r['mg_gf'], '.1f', 11)} "
                     f"{fmt(r['pct_peak'], '.1f', 7)} {fmt(r['t_gf'], '.1f', 13)} {fmt(r['mg_mb'], '.1f', 8)} "
                     f"{fmt(r['t_mb'], '.1f', 9)} {fmt(r['mem_ratio'], '.2f', 9)}"
                     + (f"   ERROR: {r['error']}" if r["error"] else ""))
    return "\n".join(lines)


def format_markdown(rows, peak_gflops):
    """The same rows as a Markdown table (the README's), three significant digits for times."""
    def num(v, spec):
        return "" if v is None else format(v, spec)

    def ms(v):
        return "" if v is None else f"{v:.3g}" if v < 100 else f"{v:.0f}"
    lines = ["| workload | minigrad ms | PyTorch ms | ratio (range over rounds) | GFLOP/s (% of peak) | "
             "peak MB mg / torch |", "|---|---|---|---|---|---|"]
    for row in rows:
        r = row_figures(row, peak_gflops)
        ratio = num(r["ratio"], ".2f") + (f" ({r['range'][0]:.2f}-{r['range'][1]:.2f})" if r["range"] else "")
        gf = num(r["mg_gf"], ".0f") + (f" ({r['pct_peak']:.0f}%)" if r["pct_peak"] and r["pct_peak"] >= 10 else "")
        mem = f"{num(r['mg_mb'], '.1f')} / {num(r['t_mb'], '.1f')}" if r["mg_mb"] is not None else ""
        lines.append(f"| {row['name']} | {ms(r['mg_ms'])} | {ms(r['t_ms'])} | {ratio} | {gf} | {mem} |")
    return "\n".join(lines)
