"""The history CSV import: good rows become frames, bad rows are reported by line and skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from bot.history_csv import ImportFailed, read_history

HEADER = (
    "task_id,assignee,project,estimate_hours,actual_hours,created_on,start_on,due_on,completed_on"
)


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_history_builds_task_frame_when_rows_are_valid(tmp_path: Path) -> None:
    tasks = write(
        tmp_path,
        "tasks.csv",
        HEADER,
        "T1,ana,P1,8,10,2026-01-05,2026-01-06,2026-01-09,2026-01-10",
        "T2,ben,,4,,2026-02-01,,2026-02-10,",
    )

    imported = read_history(tasks)

    frame = imported.tasks.set_index("gid")
    assert imported.problems == ()
    assert frame.loc["T1", ["assignee_gid", "estimate_h", "actual_h", "completed"]].tolist() == [
        "ana",
        8.0,
        10.0,
        True,
    ]
    assert frame.loc["T1", "completed_at"] == pd.Timestamp("2026-01-10")
    assert frame.loc["T2", "remaining_h"] == 4.0
    assert frame.loc["T2", "project_gid"] is None
    assert not frame.loc["T2", "completed"]


def test_read_history_reports_bad_rows_with_line_numbers_when_some_are_invalid(
    tmp_path: Path,
) -> None:
    tasks = write(
        tmp_path,
        "tasks.csv",
        HEADER,
        "T1,ana,P1,8,10,2026-01-05,,2026-01-09,2026-01-10",
        ",ana,P1,8,,,,,",
        "T3,,P1,8,,,,,",
        "T4,ana,P1,-2,,,,,",
        "T5,ana,P1,8,,2026-13-01,,,",
        "T1,ben,P1,1,,,,,",
        "T7,ana,P1,3,,2026-02-10,,,2026-02-01",
    )

    imported = read_history(tasks)

    assert imported.tasks["gid"].tolist() == ["T1"]
    assert imported.problems == (
        "tasks.csv:3: task_id is empty; row skipped",
        "tasks.csv:4: assignee is empty; row skipped",
        "tasks.csv:5: estimate_hours '-2' must be a non-negative number of hours; row skipped",
        "tasks.csv:6: created_on '2026-13-01' is not a date (YYYY-MM-DD); row skipped",
        "tasks.csv:7: duplicate task_id 'T1'; row skipped",
        "tasks.csv:8: completed_on 2026-02-01 is before created_on 2026-02-10; row skipped",
    )


def test_read_history_reads_the_time_log_when_given(tmp_path: Path) -> None:
    tasks = write(tmp_path, "tasks.csv", HEADER, "T1,ana,P1,8,,,,,")
    log = write(
        tmp_path,
        "log.csv",
        "person,date,hours",
        "ana,2026-01-05,6.5",
        "ana,x,1",
        "ben,2026-01-05,30",
    )

    imported = read_history(tasks, log)

    assert imported.time_log is not None
    assert imported.time_log.values.tolist() == [["ana", pd.Timestamp("2026-01-05"), 6.5]]
    assert imported.problems == (
        "log.csv:3: date 'x' is not a date (YYYY-MM-DD); row skipped",
        "log.csv:4: hours 30 is more than a day; row skipped",
    )


def test_read_history_names_missing_columns_when_the_header_is_wrong(tmp_path: Path) -> None:
    tasks = write(tmp_path, "tasks.csv", "id,who", "T1,ana")

    with pytest.raises(ImportFailed, match=re.escape("header lacks task_id, assignee, project")):
        read_history(tasks)


def test_read_history_fails_clearly_when_the_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match=re.escape("nope.csv: cannot read (No such file")):
        read_history(tmp_path / "nope.csv")
