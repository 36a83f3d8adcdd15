"""The benchmark runner: alternating rounds in fresh processes, the table and the JSON."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
