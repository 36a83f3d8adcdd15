"""The benchmark runner: alternating rounds in fresh processes, the table and the JSON."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# benchmarks/ is the repository's tooling, not part of the installed package: reach it from the checkout
# (appended, so that minigrad itself still comes from wherever the suite is testing it)
if ROOT not in sys.path:
    sys.path.append(ROOT)


def test_benchmark_runner_pairs_rounds_and_writes_json(tmp_path, torch):
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks", "mul_32x32", "--rounds", "2", "--repeats", "3",
                          "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    row = json.loads(out.read_text())["results"][0]
    assert row["name"] == "mul_32x32"
    for framework in ("minigrad", "torch"):
        rounds = row[framework]["round_medians_s"]
        assert len(rounds) == 2 and all(r > 0 for r in rounds)
        assert row[framework]["median_s"] == pytest.approx(sum(rounds) / 2)
    assert row["round_ratios"] == [a / b for a, b in zip(row["minigrad"]["round_medians_s"],
                                                         row["torch"]["round_medians_s"])]
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("mul_32x32"))
    low, high = min(row["round_ratios"]), max(row["round_ratios"])
    assert f"{low:.2f}-{high:.2f}" in line


# ----------------------------------------------------------------------------- a stopped run keeps its rows
def _fake_rounds(stop_at=None, seen=None):
    """harness.run_rounds without timing: a fixed figure per workload; KeyboardInterrupt (a stopped
    run) when asked for ``stop_at``."""
    def run_rounds(name, frameworks, device, repeats, rounds):
        if seen is not None:
            seen.append(name)
        if name == stop_at:
            raise KeyboardInterrupt
        return {f: {"median_s": 1e-3, "round_medians_s": [1e-3] * rounds, "peak_bytes": 0} for f in frameworks}
    return run_rounds


@pytest.fixture
def no_machine(monkeypatch):
    from benchmarks import harness, progress
    monkeypatch.setattr(harness, "machine_info", lambda: {"cpu_count": 2, "numpy": "x", "blas": [], "env": {}})
    monkeypatch.setattr(harness, "matmul_peak", lambda framework, device: 100.0)
    monkeypatch.setattr(progress, "stop_on_sigterm", lambda: None)
    return harness


def test_a_stopped_run_keeps_the_rows_it_measured_and_resume_measures_the_rest(tmp_path, no_machine, monkeypatch,
                                                                                capsys):
    from benchmarks.__main__ import main
    path = str(tmp_path / "run.json")
    names = ["mul_32x32", "chain_32x32", "matmul_512"]
    monkeypatch.setattr(no_machine, "run_rounds", _fake_rounds(stop_at="chain_32x32"))
    assert main([*names, "--no-torch", "--rounds", "2", "--json", path]) == 130
    data = json.loads(open(path).read())
    assert [r["name"] for r in data["results"]] == ["mul_32x32"]
    assert data["missing"] == ["chain_32x32", "matmul_512"] and not data["complete"]
    assert "missing (2 of 3 rows, not measured): chain_32x32, matmul_512" in capsys.readouterr().out

    seen = []
    monkeypatch.setattr(no_machine, "run_rounds", _fake_rounds(seen=seen))
    assert main(["--resume", path]) == 0
    assert seen == ["chain_32x32", "matmul_512"]              # only the missing rows, with the run's settings
    data = json.loads(open(path).read())
    assert [r["name"] for r in data["results"]] == names and data["complete"] and data["missing"] == []
    assert all(len(r["minigrad"]["round_medians_s"]) == 2 and "torch" not in r for r in data["results"])
    out = capsys.readouterr()
    assert "missing" not in out.out and "[3/3] matmul_512" in out.err


def test_each_row_is_on_disk_before_the_next_is_measured(tmp_path):
    from benchmarks import progress
    path = str(tmp_path / "run.json")
    on_disk = []

    def measure_row(name):
        on_disk.append([r["name"] for r in json.loads(open(path).read())["results"]])
        return {"name": name}
    rows, stopped = progress.run_rows(["a", "b", "c"], measure_row, path, {"device": "cpu"}, ["a", "b", "c"], [])
    assert not stopped and on_disk == [[], ["a"], ["a", "b"]]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]      # replaced, not left behind


def test_report_of_a_partial_file_names_the_missing_rows(tmp_path):
    from benchmarks import progress
    path = str(tmp_path / "partial.json")
    header = {"machine": {"cpu_count": 2, "numpy": "x", "blas": [], "env": {}}, "device": "cpu", "rounds": 1,
              "matmul_peak_gflops": {"minigrad": 100.0}}
    row = {"name": "mul_32x32", "flops": None, "minigrad": {"median_s": 2e-5, "peak_bytes": 0}}
    progress.write(path, header, ["mul_32x32", "text_lstm_t200"], [row])
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--report", path], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "mul_32x32" in run.stdout and "0.020" in run.stdout
    assert "missing (1 of 2 rows, not measured): text_lstm_t200" in run.stdout


def test_markdown_report_gives_the_readme_table_from_the_file(tmp_path):
    from benchmarks import progress
    path = str(tmp_path / "run.json")
    header = {"machine": {"cpu_count": 2, "numpy": "x", "blas": [], "env": {}}, "device": "cpu", "rounds": 2,
              "matmul_peak_gflops": {"minigrad": 200.0, "torch": 180.0}}
    row = {"name": "matmul_512", "flops": 8.0e8, "round_ratios": [0.9, 1.1],
           "minigrad": {"median_s": 0.005, "peak_bytes": 4 * 2 ** 20},
           "torch": {"median_s": 0.004, "peak_bytes": 2 * 2 ** 20}}
    progress.write(path, header, ["matmul_512"], [row])
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--report", path, "--markdown"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("| workload | minigrad ms | PyTorch ms | ratio (range over rounds)")
    # 8e8 flops in 5 ms: 160 GFLOP/s, 80% of the 200 peak; ratio the median of the paired rounds
    assert lines[2] == "| matmul_512 | 5 | 4 | 1.00 (0.90-1.10) | 160 (80%) | 4.0 / 2.0 |"


def test_time_left_uses_earlier_runs_then_this_runs_median():
    from benchmarks.progress import estimate_left
    assert estimate_left(["a", "b"], {}, {}) is None
    assert estimate_left(["a", "b"], {}, {"a": 10.0, "b": 30.0}) == 40.0
    assert estimate_left(["a", "b"], {"x": 4.0, "y": 6.0, "z": 100.0}, {"a": 10.0}) == 16.0


# ----------------------------------------------------------------------------- fewer repeats for slow, steady rows
def _fake_clock(durations):
    """A clock and a step: each call of the step advances the clock by the next duration."""
    now, it = [0.0], iter(durations)

    def step():
        now[0] += next(it)
    return step, (lambda: now[0])


@pytest.mark.parametrize("durations, warmups, repeats", [
    ([5.0] + [1.0] * 40, 2, 5),                     # slow and steady: 2 warm-up calls, 5 repeats
    ([5.0] + [1.0, 1.6] * 20, 2, 15),               # slow but spread 60%: all 15
    ([1.0] * 10 + [1.0, 1.05] * 20, 2, 5),          # 5% apart: within the 10% allowed
    ([0.2] * 5 + [0.2] * 100, 5, 15),               # under SLOW_STEP_S: always all of them
])
def test_slow_steps_stop_repeating_once_their_times_agree(durations, warmups, repeats):
    from benchmarks import harness
    step, clock = _fake_clock(durations)
    result = harness.time_step(step, lambda: None, warmup=5, repeats=15, round_s=0.05, clock=clock)
    assert result["repeats"] == repeats and result["inner"] == 1
    assert clock() == pytest.approx(sum(durations[:warmups + repeats]))


def test_both_frameworks_time_with_minigrads_allocator_settings():
    from benchmarks import harness
    from minigrad import _malloc
    env = harness.timing_allocator_env({})
    assert env == {"MALLOC_MMAP_THRESHOLD_": str(_malloc.MMAP_THRESHOLD),
                   "MALLOC_TRIM_THRESHOLD_": str(_malloc.TRIM_THRESHOLD), "MALLOC_TOP_PAD_": str(_malloc.TOP_PAD)}
    assert harness.timing_allocator_env({"MINIGRAD_MALLOC_TUNING": "0"}) == {}      # glibc's defaults for both
    assert harness.timing_allocator_env({"MALLOC_ARENA_MAX_": "2"}) == {}           # the caller's, for both


# ----------------------------------------------------------------------------- --group distributed
def test_distributed_rows_throughput_hidden_fraction_and_torch_ratio(monkeypatch):
    from benchmarks import distributed
    runs = {("minigrad", "single"): {"step_s": 1.0}, ("torch", "single"): {"step_s": 1.2},
            ("minigrad", "ddp"): {"step_s": 1.1, "local_step_s": 1.04, "exposed_s": 0.05, "allreduce_s": 0.2},
            ("torch", "ddp"): {"step_s": 1.0, "local_step_s": 1.01, "exposed_s": -0.01, "allreduce_s": 0.1}}
    monkeypatch.setattr(distributed, "_launch",
                        lambda cmd, env, timeout: runs[cmd[cmd.index("--rank-worker") + 2], cmd[-2]])
    monkeypatch.setattr(distributed, "mpiexec", lambda: "mpiexec")
    rows = [distributed.measure("resnet18_cifar", fw, steps=3, timeout=10) for fw in ("minigrad", "torch")]
    assert rows[0]["throughput_ratio"] == pytest.approx(2 * 1.0 / 1.1)
    assert rows[0]["exposed_s"] == pytest.approx(0.05) and rows[0]["hidden_fraction"] == pytest.approx(0.75)
    assert rows[1]["hidden_fraction"] == 1.0 and rows[1]["throughput_ratio"] == pytest.approx(2.4)
    row = distributed.measure_model("resnet18_cifar", ["minigrad", "torch"], steps=3, rounds=1, timeout=10)
    line = next(ln for ln in distributed.format_table([row]).splitlines() if ln.startswith("resnet18_cifar/minigrad"))
    assert line.split()[-4:] == ["1.82x", "75%", "1.10", "1.10-1.10"]      # 1.1 s against torch's 1.0 s


def test_distributed_rounds_alternate_and_the_ratio_is_the_median_of_paired_rounds(monkeypatch):
    """Round k pairs minigrad's k-th run with torch's k-th; the order alternates so a slow spell
    hits both; a round in which the whole machine was slow cancels out of its ratio."""
    from benchmarks import distributed
    order, slow = [], {"minigrad": [1.0, 2.0, 1.1], "torch": [1.0, 2.1, 1.0]}

    def fake(model, fw, steps, timeout):
        t = slow[fw][sum(1 for f in order if f == fw)]
        order.append(fw)
        return {"single": {"step_s": t}, "ddp": {"step_s": t, "local_step_s": t, "allreduce_s": 0.1},
                "throughput_ratio": 2.0, "exposed_s": 0.0, "hidden_fraction": 1.0}
    monkeypatch.setattr(distributed, "measure", fake)
    row = distributed.measure_model("text_lstm_t200", ["minigrad", "torch"], steps=3, rounds=3, timeout=10)
    assert order == ["minigrad", "torch", "torch", "minigrad", "minigrad", "torch"]
    assert row["ddp_ratio"] == pytest.approx(1.0) and row["ddp_ratio_range"] == pytest.approx([2.0 / 2.1, 1.1])
    assert row["frameworks"]["minigrad"]["ddp"]["step_s"] == pytest.approx(1.1)        # the median round


def test_distributed_all_reduce_alone_uses_ddps_bucket_sizes():
    from benchmarks.distributed import BUCKET_CAP_MB, _bucket_sizes
    from minigrad.models import resnet18_cifar
    from minigrad.nn.parallel.distributed import DistributedDataParallel
    params = list(resnet18_cifar().parameters())
    buckets = DistributedDataParallel._make_buckets(params[::-1], BUCKET_CAP_MB * 2 ** 20)
    assert _bucket_sizes(params) == [b.flat.size for b in buckets] and len(buckets) == 2


@pytest.mark.parametrize("durations, calls", [
    ([25.3, 16.9, 18.4, 17.1, 4.7, 1.7, 1.9, 1.8], 7),      # a fresh process's LSTM steps (measured here)
    ([1.0] * 10, 6),                                          # settled at once: the least allowed
    ([25.3, 16.9, 18.4, 17.1, 16.0, 4.7, 1.7, 1.9], 8),     # slow one call longer: one more
    ([30.0 / 2 ** k for k in range(20)], 12),                # never settles: the most allowed
])
def test_distributed_warm_up_runs_until_two_steps_agree(monkeypatch, durations, calls):
    from benchmarks import distributed
    it = iter(durations)
    monkeypatch.setattr(distributed, "_time", lambda fn: next(it))
    assert distributed._warm_up(lambda: None) == calls


def test_steady_memory_runs_any_workload_and_reports_its_growth(tmp_path):
    out = tmp_path / "steady.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks.steady_memory", "--workload", "mlp_step_b32",
                          "--steps", "20", "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["workload"] == "mlp_step_b32" and set(report["readings"]) == {"2", "20"}
    assert all(r["peak_rss_mb"] >= r["rss_mb"] > 0 for r in report["readings"].values())
    assert report["peak_growth_mb"] == pytest.approx(report["readings"]["20"]["peak_rss_mb"]
                                                     - report["readings"]["2"]["peak_rss_mb"], abs=0.11)
    assert "peak RSS growth from step 2 to step 20" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "benchmarks.steady_memory", "--workload", "nope"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "unknown workload 'nope'" in bad.stderr
