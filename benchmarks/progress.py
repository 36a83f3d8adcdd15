"""A benchmark run's results file, rewritten after every row, and the estimate of the time left.

The file is written when the run starts (the planned rows, none measured yet) and rewritten
atomically (a temporary file, then ``os.replace``) as soon as each row is measured, so a run
that is stopped (Ctrl-C, a time limit's SIGTERM, a crash) keeps every row it finished, and the
file's ``missing`` list names the rest.  ``python -m benchmarks --resume FILE`` measures only
the missing rows into the same file; ``python -m benchmarks --report FILE`` prints its table.
"""
from __future__ import annotations

import glob
import json
import os
import statistics
import sys
import time


def write(path, header, planned, rows):
    """Replace ``path`` with the run so far; a reader never sees a half-written file."""
    done = {row["name"] for row in rows}
    missing = [name for name in planned if name not in done]
    data = {**header, "planned": list(planned), "missing": missing, "complete": not missing, "results": rows}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read(path):
    """``(header, planned, rows)`` of a results file (files from before ``planned`` existed: their rows)."""
    with open(path) as f:
        data = json.load(f)
    rows = data.get("results", [])
    planned = data.get("planned") or [row["name"] for row in rows]
    header = {k: v for k, v in data.items() if k not in ("planned", "missing", "complete", "results")}
    return header, planned, rows


def missing_rows(planned, rows):
    done = {row["name"] for row in rows}
    return [name for name in planned if name not in done]


def previous_wall_times(directory, rounds):
    """Seconds each workload took in the latest earlier run that measured it (scaled to ``rounds``)."""
    found = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json")), key=os.path.getmtime):
        try:
            header, _, rows = read(path)
        except (OSError, ValueError, KeyError):
            continue
        for row in rows:
            if row.get("wall_s") and header.get("rounds"):
                found[row["name"]] = row["wall_s"] * rounds / header["rounds"]
    return found


def estimate_left(names_left, this_run, earlier):
    """Seconds for ``names_left``: each at its time in an earlier run when known, else at the
    median of this run's rows so far; None while neither is known."""
    fallback = statistics.median(this_run.values()) if this_run else None
    total = 0.0
    for name in names_left:
        guess = earlier.get(name, fallback)
        if guess is None:
            return None
        total += guess
    return total


def duration(seconds):
    if seconds is None:
        return "?"
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def run_rows(todo, measure_row, path, header, planned, rows, earlier=None, log=None):
    """Measure each name of ``todo`` with ``measure_row(name) -> row``, writing ``path`` after
    every row and printing the estimated time left.  Returns ``(rows, stopped)``: ``stopped`` is
    True when Ctrl-C (or SIGTERM, see ``stop_on_sigterm``) ended the run early."""
    earlier, log = earlier or {}, log or sys.stderr
    this_run = {}
    rows = list(rows)
    write(path, header, planned, rows)
    try:
        for k, name in enumerate(todo):
            start = time.monotonic()
            row = measure_row(name)
            row["wall_s"] = time.monotonic() - start
            rows.append(row)
            write(path, header, planned, rows)
            this_run[name] = row["wall_s"]
            left = estimate_left(todo[k + 1:], this_run, earlier)
            print(f"  [{len(rows)}/{len(planned)}] {name}: {row['wall_s']:.0f} s; "
                  f"about {duration(left)} left", file=log, flush=True)
    except KeyboardInterrupt:
        print(f"\nstopped: {len(missing_rows(planned, rows))} rows not measured", file=log, flush=True)
        return rows, True
    return rows, False


def stop_on_sigterm():
    """Let SIGTERM (a time limit, ``timeout``) end the run the way Ctrl-C does, so the table of
    the rows measured so far is printed (they are already in the file either way)."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)
