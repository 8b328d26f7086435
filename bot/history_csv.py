"""The CSV import format for history (``backtest --tasks tasks.csv --time-log log.csv``).

``tasks.csv``: ``task_id, assignee, project, estimate_hours, actual_hours, created_on,
start_on, due_on, completed_on`` (ISO dates; empty cells allowed except task_id and assignee).
``log.csv``: ``person, date, hours``. Bad rows are reported with their line numbers and
skipped, never silently; the rest becomes frames in the core's contracts.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bot.errors import CopilotError
from forecasting import frames

TASK_COLUMNS = (
    "task_id",
    "assignee",
    "project",
    "estimate_hours",
    "actual_hours",
    "created_on",
    "start_on",
    "due_on",
    "completed_on",
)
LOG_COLUMNS = ("person", "date", "hours")


class ImportFailed(CopilotError):
    """The file cannot be used at all (missing, unreadable, wrong header, no valid row)."""


@dataclass(frozen=True)
class Imported:
    """Frames read from the files, and one line per row that was skipped."""

    tasks: pd.DataFrame  # the `tasks` contract
    time_log: pd.DataFrame | None  # person_gid, day, hours
    problems: tuple[str, ...]


def read_history(tasks_path: Path, log_path: Path | None = None) -> Imported:
    """Read ``tasks.csv`` (and ``log.csv``) into frames.

    Raises:
        ImportFailed: a file is missing or unreadable, its header lacks a required column, or
            no row is usable.
    """
    problems: list[str] = []
    rows = list(_parse(tasks_path, TASK_COLUMNS, _task_row, problems, key="task_id"))
    if not rows:
        raise ImportFailed(
            f"{tasks_path}: no usable task rows"
            + (f" ({len(problems)} skipped: {problems[0]} …)" if problems else "")
        )
    tasks = frames.validate("tasks", pd.DataFrame(rows, columns=[c.name for c in frames.TASKS]))
    time_log = None
    if log_path is not None:
        log_rows = list(_parse(log_path, LOG_COLUMNS, _log_row, problems))
        if not log_rows:
            raise ImportFailed(f"{log_path}: no usable time-log rows")
        time_log = pd.DataFrame(log_rows, columns=["person_gid", "day", "hours"])
        time_log["day"] = pd.to_datetime(time_log["day"]).astype("datetime64[ns]")
    return Imported(tasks=tasks, time_log=time_log, problems=tuple(problems))


RowParser = Callable[[dict[str, str]], dict[str, Any]]


def _parse(
    path: Path,
    columns: tuple[str, ...],
    parse: RowParser,
    problems: list[str],
    *,
    key: str | None = None,
) -> Iterator[dict[str, Any]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read ({exc.strerror})") from None
    seen: set[str] = set()
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ImportFailed(
                f"{path}: header lacks {', '.join(missing)} (expected {', '.join(columns)})"
            )
        reader.fieldnames = header
        for row in reader:
            line = reader.line_num
            try:
                parsed = parse({k: (v or "").strip() for k, v in row.items() if k})
            except ValueError as exc:
                problems.append(f"{path.name}:{line}: {exc}; row skipped")
                continue
            if key is not None:
                if parsed["gid"] in seen:
                    problems.append(
                        f"{path.name}:{line}: duplicate {key} {parsed['gid']!r}; row skipped"
                    )
                    continue
                seen.add(parsed["gid"])
            yield parsed


def _task_row(row: dict[str, str]) -> dict[str, Any]:
    task_id, assignee = row["task_id"], row["assignee"]
    if not task_id:
        raise ValueError("task_id is empty")
    if not assignee:
        raise ValueError("assignee is empty")
    estimate = _hours(row, "estimate_hours")
    actual = _hours(row, "actual_hours")
    created, start, due, done = (
        _day(row, name) for name in ("created_on", "start_on", "due_on", "completed_on")
    )
    if done and created and done < created:
        raise ValueError(f"completed_on {done} is before created_on {created}")
    if start and due and due < start:
        raise ValueError(f"due_on {due} is before start_on {start}")
    remaining = None if done or estimate is None else max(estimate - (actual or 0.0), 0.0)
    return {
        "gid": task_id,
        "name": task_id,
        "assignee_gid": assignee,
        "project_gid": row["project"] or None,
        "section": None,
        "start_on": start,
        "due_on": due,
        "estimate_h": estimate,
        "actual_h": actual,
        "remaining_h": 0.0 if done else remaining,
        "completed": done is not None,
        "completed_at": done,
        "created_at": created,
        "modified_at": done or created,
        "priority": None,
        "required_skills": (),
        "depends_on": (),
        "locked": False,
        "url": None,
    }


def _log_row(row: dict[str, str]) -> dict[str, Any]:
    if not row["person"]:
        raise ValueError("person is empty")
    day = _day(row, "date")
    hours = _hours(row, "hours")
    if day is None or hours is None:
        raise ValueError("date and hours are required")
    if hours > 24:
        raise ValueError(f"hours {hours:g} is more than a day")
    return {"person_gid": row["person"], "day": day, "hours": hours}


def _hours(row: dict[str, str], name: str) -> float | None:
    raw = row[name]
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} {raw!r} must be a non-negative number of hours")
    return value


def _day(row: dict[str, str], name: str) -> date | None:
    raw = row[name]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a date (YYYY-MM-DD)") from None
