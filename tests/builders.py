"""Builders of valid people / task / time-off rows and frames for tests; override what matters."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pandas as pd

from forecasting import frames

_task_ids = itertools.count(1)


def a_person(**overrides: Any) -> dict[str, Any]:
    """A full-time person (40 h, Mon-Fri, no public holidays) with gid ``p1``."""
    row: dict[str, Any] = {
        "gid": "p1",
        "name": "Ada Lovelace",
        "email": "ada.lovelace@example.com",
        "team": "Platform",
        "weekly_capacity_h": 40.0,
        "workdays": frames.FULL_WEEK,
        "timezone": "Europe/London",
        "country": None,
        "skills": (("backend", 4),),
        "is_active": True,
    }
    return row | overrides


def a_task(**overrides: Any) -> dict[str, Any]:
    """An open, undated 8 h task assigned to ``p1`` with a fresh gid ``t<n>``."""
    gid = f"t{next(_task_ids)}"
    row: dict[str, Any] = {
        "gid": gid,
        "name": f"Task {gid}",
        "assignee_gid": "p1",
        "project_gid": "pr1",
        "section": "To do",
        "start_on": None,
        "due_on": None,
        "estimate_h": 8.0,
        "actual_h": 0.0,
        "remaining_h": 8.0,
        "completed": False,
        "completed_at": None,
        "created_at": date(2025, 1, 6),
        "modified_at": date(2025, 1, 6),
        "priority": "medium",
        "required_skills": ("backend",),
        "depends_on": (),
        "locked": False,
        "url": None,
    }
    return row | overrides


def a_time_off(**overrides: Any) -> dict[str, Any]:
    """A whole day off for ``p1`` on Monday 2025-03-17."""
    row: dict[str, Any] = {
        "person_gid": "p1",
        "start_on": date(2025, 3, 17),
        "end_on": date(2025, 3, 17),
        "hours_per_day": None,
    }
    return row | overrides


def people_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A validated ``people`` frame (empty with no rows)."""
    return _frame("people", rows)


def tasks_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A validated ``tasks`` frame (empty with no rows)."""
    return _frame("tasks", rows)


def time_off_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A validated ``time_off`` frame (empty with no rows)."""
    return _frame("time_off", rows)


def _frame(contract: str, rows: tuple[dict[str, Any], ...]) -> pd.DataFrame:
    if not rows:
        return frames.empty(contract)
    columns = [c.name for c in frames.CONTRACTS[contract]]
    return frames.validate(contract, pd.DataFrame(list(rows), columns=columns))
