"""Committed-load speed against the aggregation any load computation must do, in one process.

Builds an organisation of PEOPLE people and TASKS open tasks (seeded) and runs
``compute_workload`` over WEEKS weeks. The baseline is the step no load computation can skip:
a pandas group-by sum of per-task, per-day hours (one row for each day of each task's window,
built before the clock starts) into person-weeks. Prints both times, their ratio and peak
memory; exits 1 when the ratio exceeds ``--budget``.

    python -m benchmarks.workload_speed [--people 1000] [--tasks 100000] [--weeks 12]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from forecasting.synthetic import generate_org
from forecasting.workload import compute_workload

TODAY = date(2026, 11, 25)


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """The fastest of ``runs`` wall-clock timings of ``fn`` (seconds)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def task_day_rows(tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, calendar day of its window) with the task's hours spread evenly."""
    usable = tasks.dropna(subset=["assignee_gid", "due_on", "remaining_h"])
    today = np.datetime64(TODAY, "D")
    due = np.maximum(usable["due_on"].to_numpy("datetime64[D]"), today)
    start = usable["start_on"].to_numpy("datetime64[D]")
    start = np.where(np.isnat(start), due - 6, start)
    start = np.minimum(np.maximum(start, today), due)
    length = (due - start).astype(np.int64) + 1
    index = np.repeat(np.arange(len(usable)), length)
    offset = np.arange(len(index)) - np.repeat(np.cumsum(length) - length, length)
    day = start[index] + offset
    weekday = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    return pd.DataFrame(
        {
            "person_gid": usable["assignee_gid"].to_numpy()[index],
            "week": day - weekday,
            "hours": (usable["remaining_h"].to_numpy() / length)[index],
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=5.0, help="max ratio to the baseline")
    args = parser.parse_args(argv)

    org = generate_org(
        1,
        today=TODAY,
        people=args.people,
        teams=10,
        projects=40,
        open_tasks=args.tasks,
        history_months=1,
    )
    open_tasks = org.tasks[~org.tasks["completed"]].reset_index(drop=True)

    def run() -> object:
        return compute_workload(org.people, open_tasks, org.time_off, today=TODAY, weeks=args.weeks)

    tracemalloc.start()
    workload = compute_workload(org.people, open_tasks, org.time_off, today=TODAY, weeks=args.weeks)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows = task_day_rows(open_tasks)

    def baseline() -> object:
        return rows.groupby(["person_gid", "week"])["hours"].sum()

    t_model = best_of(args.runs, run)
    t_base = best_of(args.runs, baseline)
    ratio = t_model / t_base
    print(
        f"people {args.people}, open tasks {len(open_tasks)}, weeks {args.weeks}, "
        f"baseline task-day rows {len(rows)}, committed {workload.scheduled_h:.0f} h"
    )
    print(f"compute_workload        {t_model * 1000:8.1f} ms")
    print(f"baseline group-by sum   {t_base * 1000:8.1f} ms")
    print(f"ratio                   {ratio:8.2f}x  (budget {args.budget:g}x)")
    print(f"peak traced memory      {peak_mb:8.1f} MiB")
    return 0 if ratio <= args.budget else 1


if __name__ == "__main__":
    raise SystemExit(main())
