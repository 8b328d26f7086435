"""Realised hours per person-week, and the tasks as they were known at past dates.

Pure numpy/pandas over the frame contracts and the time log; must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting import frames
from forecasting.calendar import CapacityGrid, FloatArray, IntArray, capacity_grid

ObjArray = npt.NDArray[np.object_]
TIME_LOG = ("person_gid", "day", "hours")  # optional 4th column: task_gid
NAT = np.iinfo(np.int64).min  # NaT as an int64 day number
NEVER = np.iinfo(np.int64).max // 4  # "not closed yet" as a day number (room for arithmetic)
NO_TEAM = "(no team)"
LEAD_BUSDAYS = 5  # due-only tasks are planned over the 5 working days ending on due (workload's)
_TASK_COLUMNS = [
    "assignee_gid",
    "completed",
    "completed_at",
    "created_at",
    "start_on",
    "due_on",
    "estimate_h",
    "actual_h",
]


def validate_time_log(time_log: pd.DataFrame) -> pd.DataFrame:
    """Return ``time_log`` coerced to ``person_gid, day, hours[, task_gid]``, or raise.

    Raises:
        frames.FrameError: a column is missing, a person or day is empty, or hours are not
            non-negative numbers.
    """
    missing = [c for c in TIME_LOG if c not in time_log.columns]
    if missing:
        raise frames.FrameError(f"time_log: missing column(s) {', '.join(missing)}")
    out = pd.DataFrame(
        {
            "person_gid": time_log["person_gid"].astype(object),
            "day": pd.to_datetime(time_log["day"], errors="coerce", format="mixed"),
            "hours": pd.to_numeric(time_log["hours"], errors="coerce").astype("float64"),
        }
    )
    if "task_gid" in time_log.columns:
        out["task_gid"] = time_log["task_gid"].astype(object)
    for column, what in (("person_gid", "must not be empty"), ("day", "must be a date")):
        bad = out[column].isna().to_numpy()
        if bad.any():
            raise frames.FrameError(f"time_log.{column} {what} (rows {_rows(bad)})")
    bad = ~(out["hours"].to_numpy() >= 0.0)
    if bad.any():
        raise frames.FrameError(f"time_log.hours must be a number >= 0 (rows {_rows(bad)})")
    out["person_gid"] = out["person_gid"].map(str).astype(object)
    out["day"] = out["day"].dt.normalize().astype("datetime64[ns]")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class TaskTable:
    """Tasks as day numbers, for reconstructing what was open and planned at a past date.

    ``known`` is the day a task became known (created, else start, else due, else completion);
    ``closed`` its completion day (:data:`NEVER` while open). A task is open at day ``d`` when
    ``known < d <= closed``. Missing dates are :data:`NAT`; ``estimate`` may be NaN.
    """

    person: IntArray
    known: IntArray
    closed: IntArray
    start: IntArray
    due: IntArray
    estimate: FloatArray


@dataclass(frozen=True)
class History:
    """Realised hours of every person in whole weeks before ``today``'s week.

    Attributes:
        person_gids: ``(P,)`` people in ``people`` order, then others seen in tasks or the log.
        team: ``(P,)`` team number (people without a team share one).
        start: Monday of week 0, as a day number (days since 1970-01-01).
        hours: ``(P, W)`` realised hours per week; week ``W`` is today's week.
        daily: ``(P, 7 W)`` realised hours per day from ``start`` (the weeks of ``hours``).
        first: ``(P,)`` first week with realised hours (``W`` when none).
        last: ``(P,)`` last week with realised hours (-1 when none).
        capacity: ``(P, W + horizon)`` capacity hours per week (NaN when not in ``people``).
        weekly_capacity: ``(P,)`` contracted weekly hours (NaN when not in ``people``).
        tasks: every assigned task of these people, as day numbers.
        source: ``"time_log"`` or ``"tasks"`` (actual hours spread over start..completion).
    """

    person_gids: ObjArray
    team: IntArray
    start: int
    hours: FloatArray
    daily: FloatArray
    first: IntArray
    last: IntArray
    capacity: FloatArray
    weekly_capacity: FloatArray
    tasks: TaskTable
    source: str

    @property
    def weeks(self) -> int:
        """Number of whole realised weeks ``W``."""
        return int(self.hours.shape[1])

    def week_of(self, day: int | IntArray) -> IntArray:
        """Week number of day numbers (negative before ``start``)."""
        return np.asarray((np.asarray(day, dtype=np.int64) - self.start) // 7, dtype=np.int64)


def build_history(
    tasks: pd.DataFrame,
    *,
    today: date,
    people: pd.DataFrame | None = None,
    time_off: pd.DataFrame | None = None,
    time_log: pd.DataFrame | None = None,
    horizon_weeks: int = 4,
    max_weeks: int | None = None,
    grid: CapacityGrid | None = None,
) -> History:
    """Realised weekly hours before ``today``'s week, and the task table, from validated inputs.

    Realised hours come from ``time_log`` when given; otherwise each task completed before
    ``today`` contributes its ``actual_h`` spread evenly over the Mon-Fri days of
    ``[start_on, completed_at]`` (its completion day alone when it has no usable start). Only
    data dated before ``today`` is read.

    Args:
        tasks: the ``tasks`` contract (validated).
        today: the reference date; weeks before its Monday are realised.
        people: the ``people`` contract, for teams and capacity; optional.
        time_off: the ``time_off`` contract, for capacity; optional.
        time_log: see :func:`validate_time_log` (validated); optional.
        horizon_weeks: capacity is also computed for this many weeks from today's week.
        max_weeks: keep at most this many realised weeks (the most recent).
        grid: the capacity grid of ``people`` and ``time_off`` over (at least) the realised
            weeks and the horizon, for a caller that has one; built when None.
    """
    monday = _day(today) - today.weekday()
    log = None
    if time_log is not None:
        log = time_log.loc[time_log["day"] < pd.Timestamp(today)]
    named = [] if people is None else people["gid"].tolist()
    seen_gids = [tasks["assignee_gid"].to_numpy(object)]
    if log is not None:
        seen_gids.append(log["person_gid"].to_numpy(object))
    # In order of first appearance; one pass also finds the unassigned tasks (code -1).
    codes, others = pd.factorize(np.concatenate(seen_gids))
    task_codes = codes[: len(tasks)]
    is_assigned = task_codes >= 0
    # Only the columns read below: copying every column of 10^5 rows costs more than the rest.
    assigned = tasks.loc[is_assigned, _TASK_COLUMNS]
    seen = set(named)
    gids = np.array(named + [g for g in others if g not in seen], dtype=object)
    index = pd.Index(gids)
    person = index.get_indexer(others)[task_codes[is_assigned]].astype(np.int64)

    days = _log_days(log) if log is not None else _completed_days(assigned, today)
    earliest = int(days.min(initial=monday)) if days.size else monday
    start = earliest - int((earliest - monday) % 7)  # the Monday on or before the earliest day
    if max_weeks is not None:
        start = max(start, monday - 7 * max_weeks)
    n_weeks = (monday - start) // 7
    if log is not None:
        daily = _log_hours(log, index, start, n_weeks)
    else:
        daily = _spread_hours(assigned, person, len(gids), start, n_weeks, today)
    hours: FloatArray = daily.reshape(len(gids), n_weeks, 7).sum(axis=2)
    has = np.concatenate([hours > 0, np.ones((len(gids), 1), dtype=bool)], axis=1)
    first = has.argmax(axis=1).astype(np.int64)  # n_weeks (the sentinel column) when none
    week = np.where(has[:, :n_weeks], np.arange(n_weeks), -1)
    last = week.max(axis=1, initial=-1)

    team_names = ["" for _ in gids]
    capacity = np.full((len(gids), n_weeks + horizon_weeks), np.nan)
    weekly = np.full(len(gids), np.nan)
    if people is not None and len(people):
        team_names[: len(people)] = people["team"].fillna(NO_TEAM).map(str).tolist()
        end = date.fromordinal(date(1970, 1, 1).toordinal() + monday + 7 * horizon_weeks - 1)
        first_day = date.fromordinal(date(1970, 1, 1).toordinal() + start)
        if grid is None:
            off = time_off if time_off is not None else frames.empty("time_off")
            grid = capacity_grid(people, off, first_day, end)
        elif grid.is_of(people):
            grid = grid.between(first_day, end)
        else:
            raise ValueError("the grid must have a row per person of people, in order")
        capacity[: len(people)] = grid.capacity_h.reshape(len(people), -1, 7).sum(axis=2)
        weekly[: len(people)] = people["weekly_capacity_h"].to_numpy(np.float64)
    team = pd.factorize(pd.Series(team_names, dtype=object))[0].astype(np.int64)
    return History(
        person_gids=gids,
        team=team,
        start=start,
        hours=hours,
        daily=daily,
        first=first,
        last=np.asarray(last, dtype=np.int64),
        capacity=capacity,
        weekly_capacity=weekly,
        tasks=_task_table(assigned, person),
        source="time_log" if log is not None else "tasks",
    )


def tasks_as_of(tasks: pd.DataFrame, today: date) -> pd.DataFrame:
    """Tasks as they stood on ``today``: later creations dropped, later completions reopened.

    A reopened task keeps its estimate as its remaining effort and loses its actual hours
    (the progress it had made by then is unknown).
    """
    cut = pd.Timestamp(today)
    created = tasks["created_at"].fillna(tasks["start_on"])
    out = tasks.loc[~(created >= cut).to_numpy()].copy()
    reopen = (out["completed"] & ~(out["completed_at"] < cut)).to_numpy()
    out.loc[reopen, "completed"] = False
    out.loc[reopen, "completed_at"] = pd.NaT
    out.loc[reopen, "actual_h"] = np.nan
    out.loc[reopen, "remaining_h"] = out.loc[reopen, "estimate_h"]
    return out.reset_index(drop=True)


def day_numbers(values: pd.Series) -> IntArray:
    """Days since 1970-01-01 per date; :data:`NAT` where missing."""
    return np.asarray(
        values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    )


def known_day(tasks: pd.DataFrame) -> IntArray:
    """Day each task became known: created_at, else start_on, else due_on, else completed_at."""
    known = tasks["created_at"].fillna(tasks["start_on"]).fillna(tasks["due_on"])
    return day_numbers(known.fillna(tasks["completed_at"]))


def _day(value: date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def _log_days(log: pd.DataFrame) -> IntArray:
    return day_numbers(log["day"])


def _completed_days(tasks: pd.DataFrame, today: date) -> IntArray:
    done = tasks["completed"].to_numpy(bool) & (tasks["actual_h"].fillna(0.0) > 0).to_numpy()
    begin = day_numbers(tasks["start_on"].fillna(tasks["completed_at"]))[done]
    kept: IntArray = begin[(begin != NAT) & (begin < _day(today))]
    return kept


def _log_hours(log: pd.DataFrame, index: pd.Index, start: int, n_weeks: int) -> FloatArray:
    """Logged hours per person × day of the ``n_weeks`` weeks from ``start``."""
    n_days = 7 * n_weeks
    person = index.get_indexer(pd.Index(log["person_gid"]))
    day = day_numbers(log["day"]) - start
    keep = (person >= 0) & (day >= 0) & (day < n_days)
    flat = np.bincount(
        person[keep] * n_days + day[keep],
        weights=log["hours"].to_numpy(np.float64)[keep],
        minlength=len(index) * n_days,
    )
    return np.asarray(flat, dtype=np.float64).reshape(len(index), n_days)


def _spread_hours(
    tasks: pd.DataFrame, person: IntArray, n_people: int, start: int, n_weeks: int, today: date
) -> FloatArray:
    """Actual hours of completed tasks spread evenly over Mon-Fri days of start..completion.

    ``person`` is each task's row among the ``n_people``. Returns hours per person × day of the
    ``n_weeks`` weeks from ``start``.
    """
    n_days = 7 * n_weeks
    done_day = day_numbers(tasks["completed_at"])
    actual = tasks["actual_h"].fillna(0.0).to_numpy(np.float64)
    done = tasks["completed"].to_numpy(bool) & (actual > 0) & (done_day != NAT)
    done &= (done_day < _day(today)) & (done_day >= start)  # earlier ones end before day 0
    last = done_day[done]
    begin = day_numbers(tasks["start_on"])[done]
    begin = np.where((begin == NAT) | (begin > last), last, begin)
    person, hours = person[done], actual[done]
    d64 = np.datetime64(0, "D")
    workdays = np.busday_count(d64 + begin, d64 + last + 1)
    # A weekend-only window has no Mon-Fri day: its hours go on its calendar days instead.
    calendar = workdays == 0
    count = np.where(calendar, last - begin + 1, workdays)
    rate = hours / count
    lo, hi = np.clip(begin - start, 0, n_days), np.clip(last - start + 1, 0, n_days)
    out = np.zeros((n_people, n_days))
    for kind in (False, True):
        pick = (calendar == kind) & (hi > lo)
        diff = np.zeros(n_people * (n_days + 1))
        np.add.at(diff, person[pick] * (n_days + 1) + lo[pick], rate[pick])
        np.add.at(diff, person[pick] * (n_days + 1) + hi[pick], -rate[pick])
        per_day = np.cumsum(diff.reshape(n_people, n_days + 1), axis=1)[:, :n_days]
        weekday = (np.arange(n_days) + start + 3) % 7  # 1970-01-01 was a Thursday
        out += per_day if kind else per_day * (weekday < 5)
    daily: FloatArray = np.maximum(out, 0.0)
    return daily


def _task_table(tasks: pd.DataFrame, person: IntArray) -> TaskTable:
    completed = tasks["completed"].to_numpy(bool)
    done_day = day_numbers(tasks["completed_at"])
    closed = np.where(completed & (done_day != NAT), done_day, NEVER)
    keep = person >= 0
    return TaskTable(
        person=person[keep],
        known=known_day(tasks)[keep],
        closed=closed[keep],
        start=day_numbers(tasks["start_on"])[keep],
        due=day_numbers(tasks["due_on"])[keep],
        estimate=tasks["estimate_h"].to_numpy(np.float64)[keep],
    )


def _rows(bad: npt.NDArray[np.bool_]) -> list[int]:
    return [int(i) for i in np.flatnonzero(bad)[:5]]


def monday_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())
