"""Committed load: open tasks' remaining hours spread over their assignees' working days.

Pure numpy/pandas over the frame contracts, vectorised over tasks; must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting import frames
from forecasting.calendar import (
    AVAILABLE,
    CALENDAR,
    WORKDAY,
    BoolArray,
    CapacityGrid,
    FloatArray,
    IntArray,
    capacity_grid,
)

EPS_H = 1e-6  # hours below this (3.6 ms) are float residue of the spread, not work
EXTENT_DAYS = 366  # calendar modelled in full (holidays, leave) this far past the horizon
NEGATIVE_ESTIMATE = "negative remaining_h"
DUE_BEFORE_START = "due_on before start_on"
UNKNOWN_ASSIGNEE = "assignee not in people"
_NAT = np.iinfo(np.int64).min  # NaT as an int64 day number


@dataclass(frozen=True)
class StatusBands:
    """Utilisation thresholds (committed ÷ capacity) of the weekly status.

    ``over`` above ``over``; ``at_risk`` above ``at_risk``; ``ok`` from ``ok``; ``under`` below
    it; ``off`` when capacity and committed hours are both zero; hours committed against zero
    capacity are ``over``.
    """

    over: float = 1.0
    at_risk: float = 0.85
    ok: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.ok <= self.at_risk <= self.over:
            raise ValueError(f"status bands must satisfy 0 <= ok <= at_risk <= over: {self}")

    def classify(self, capacity_h: FloatArray, committed_h: FloatArray) -> npt.NDArray[np.str_]:
        """Status of each cell from capacity and committed hours (arrays of the same shape)."""
        no_capacity = capacity_h <= 0.0
        util = np.divide(
            committed_h, capacity_h, out=np.zeros_like(committed_h), where=~no_capacity
        )
        return np.select(
            [
                no_capacity & (committed_h > EPS_H),
                no_capacity,
                util > self.over,
                util > self.at_risk,
                util >= self.ok,
            ],
            ["over", "off", "over", "at_risk", "ok"],
            default="under",
        )


@dataclass(frozen=True)
class DataQuality:
    """Open tasks the load could not use as given. Gids are in input order.

    Hour totals count only tasks whose ``remaining_h`` is known and non-negative.

    Attributes:
        unestimated: no ``remaining_h``; not spread.
        undated: no ``due_on`` (including start-only tasks); not spread.
        unassigned: no assignee; not spread.
        overdue: ``due_on`` before today (spread into today's week when schedulable).
        invalid: ``(gid, reason)``; see the module's reason constants.
        undated_h, unassigned_h, overdue_h: known remaining hours of those tasks.
        unscheduled_h: known remaining hours of every task that was not spread.
    """

    unestimated: tuple[str, ...]
    undated: tuple[str, ...]
    unassigned: tuple[str, ...]
    overdue: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...]
    undated_h: float
    unassigned_h: float
    overdue_h: float
    unscheduled_h: float

    def counts(self) -> dict[str, int]:
        """Number of tasks per category."""
        return {
            "unestimated": len(self.unestimated),
            "undated": len(self.undated),
            "unassigned": len(self.unassigned),
            "overdue": len(self.overdue),
            "invalid": len(self.invalid),
        }

    def summary(self) -> tuple[str, ...]:
        """One plain-English line per non-empty category, for digests and logs."""
        hours = {
            "undated": self.undated_h,
            "unassigned": self.unassigned_h,
            "overdue": self.overdue_h,
        }
        lines = []
        for name, count in self.counts().items():
            if count:
                known = f" ({hours[name]:.1f} h known)" if name in hours else ""
                lines.append(f"{count} {name} task{'s' if count != 1 else ''}{known}")
        return tuple(lines)


@dataclass(frozen=True)
class TaskWeeks:
    """Hours of spread tasks in the horizon weeks they reach, as arrays (entries > EPS_H).

    Attributes:
        task: row of the task among the open tasks of the frame given, in input order.
        person: row of its assignee in ``people``.
        week: week of the horizon (0 = the week of today).
        hours: its hours in that week.
    """

    task: IntArray
    person: IntArray
    week: IntArray
    hours: FloatArray


@dataclass(frozen=True)
class Workload:
    """Committed load over the horizon.

    Attributes:
        today: the reference date.
        horizon_start: Monday of today's week.
        horizon_end: last day (a Sunday) of the horizon, inclusive.
        daily: ``person_gid, day, capacity_h, committed_h, overdue_h`` per person × day.
        weekly: the ``load`` contract per person × week.
        drivers: ``person_gid, week_start, task_gid, hours``: the largest tasks per cell.
        beyond_h: hours scheduled after the horizon, per person gid.
        scheduled_h: remaining hours of every spread task (negative counted as 0).
        quality: data-quality report.
        warnings: tolerated problems in people/time off (see ``CapacityGrid.warnings``).
        task_weeks: every task-week with hours (``drivers`` before the cut, as arrays).
    """

    today: date
    horizon_start: date
    horizon_end: date
    daily: pd.DataFrame
    weekly: pd.DataFrame
    drivers: pd.DataFrame
    beyond_h: pd.Series
    scheduled_h: float
    quality: DataQuality
    warnings: tuple[str, ...]
    task_weeks: TaskWeeks | None = None


@dataclass(frozen=True)
class _Spread:
    """Schedulable tasks as arrays: person row, kind, window ``[a, b]`` in grid days, rate."""

    row: IntArray
    person: IntArray
    kind: IntArray
    first: IntArray
    last: IntArray
    rate: FloatArray
    hours: FloatArray
    overdue: BoolArray


def compute_workload(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    *,
    today: date,
    weeks: int = 4,
    lead_days: int = 5,
    bands: StatusBands | None = None,
    top_drivers: int | None = 5,
    grid: CapacityGrid | None = None,
) -> Workload:
    """Spread open tasks' remaining effort over working days and sum it per person-week.

    Rules (hours throughout; day windows are inclusive):

    * Horizon: ``weeks`` whole ISO weeks from the Monday of ``today``'s week. Days of that week
      before ``today`` have passed: their capacity is 0 and no work is spread on them.
    * Window: an open task's remaining hours are spread evenly over the assignee's *available* days
      (capacity > 0 after holidays and time off) in ``[max(start_on, today), due_on]``. If the
      window has no available day, over the days the weekday mask says they work; if none either,
      over every calendar day of the window. Effort is therefore never lost.
    * Due-only tasks (no ``start_on``) use a lead window of ``lead_days`` working days of the
      assignee's weekday mask ending on ``due_on`` (a non-working due day rolls back first).
    * Start-only and undated tasks (no ``due_on``) have no deadline to plan against: they are not
      spread and are reported in :attr:`DataQuality.undated`.
    * Overdue tasks (``due_on < today``) land in today's week: spread over the available days from
      today to Sunday, else the mask days, else today alone; they count in ``overdue_h``.
    * ``due_on`` before ``start_on`` is invalid: reported, and spread as if ``start_on = due_on``.
    * Negative ``remaining_h`` is invalid: reported and scheduled as 0 hours.
    * Unestimated (NaN ``remaining_h``), unassigned tasks and tasks assigned to someone not in
      ``people`` are not spread and are reported.
    * Conservation: ``daily.committed_h.sum() + beyond_h.sum() == scheduled_h`` (float tolerance);
      work before the horizon cannot occur since every window starts on or after ``today``.
    * Past one year after the horizon, only the weekday mask is used to count working days.

    Args:
        people: the ``people`` contract.
        tasks: the ``tasks`` contract; completed tasks are ignored.
        time_off: the ``time_off`` contract.
        today: the reference date; work is spread from it on.
        weeks: whole weeks in the horizon (>= 1).
        lead_days: working days of the lead window of due-only tasks (>= 1).
        bands: status thresholds; default :class:`StatusBands`.
        top_drivers: tasks kept per person-week in ``drivers``; None keeps all.
        grid: the capacity grid of ``people`` and ``time_off`` from the Monday of ``today``'s
            week to :func:`grid_end` of a due date no earlier than the tasks' latest, for a
            caller that spreads several sets of tasks over the same people; built when None.

    Returns:
        The daily and weekly load, drivers, hours beyond the horizon and data quality.
    """
    if weeks < 1 or lead_days < 1:
        raise ValueError(f"weeks and lead_days must be >= 1 (got {weeks}, {lead_days})")
    bands = bands or StatusBands()
    people = frames.validate("people", people)
    tasks = frames.validate("tasks", tasks)
    open_tasks = tasks.loc[~tasks["completed"].to_numpy(dtype=bool)].reset_index(drop=True)

    start = today - timedelta(days=today.weekday())
    n_days = 7 * weeks
    grid = _grid(people, open_tasks, time_off, today=today, weeks=weeks, given=grid)
    spread, quality = _plan(open_tasks, grid, today=today, lead_days=lead_days)
    daily_h, overdue_h, beyond = _distribute(spread, grid, n_days)

    capacity = grid.capacity_h[:, :n_days].copy()
    capacity[:, : today.weekday()] = 0.0  # that part of the week has already passed
    daily = pd.DataFrame(
        {
            "person_gid": np.repeat(grid.person_gids, n_days).astype(object),
            "day": np.tile(grid.days[:n_days], len(grid.person_gids)).astype("datetime64[ns]"),
            "capacity_h": capacity.reshape(-1),
            "committed_h": daily_h.reshape(-1),
            "overdue_h": overdue_h.reshape(-1),
        }
    )
    task_weeks = _task_weeks(spread, grid, n_days)
    return Workload(
        today=today,
        horizon_start=start,
        horizon_end=start + timedelta(days=n_days - 1),
        daily=daily,
        weekly=_weekly(grid, capacity, daily_h, overdue_h, weeks, bands),
        drivers=_drivers(
            task_weeks, grid, open_tasks["gid"].to_numpy(dtype=object), n_days, top_drivers
        ),
        beyond_h=pd.Series(
            np.bincount(spread.person, weights=beyond, minlength=len(grid.person_gids)),
            index=pd.Index(grid.person_gids, name="person_gid"),
            name="beyond_h",
            dtype="float64",
        ),
        scheduled_h=float(spread.hours.sum()),
        quality=quality,
        warnings=grid.warnings,
        task_weeks=task_weeks,
    )


def spread_task_weeks(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    *,
    today: date,
    weeks: int = 4,
    lead_days: int = 5,
    grid: CapacityGrid | None = None,
) -> TaskWeeks:
    """Hours of each open task in each horizon week, by the rules of :func:`compute_workload`.

    Only the spread: no daily or weekly frames, drivers or quality report, for callers that
    spread many variants of the same tasks (the forecast's corrected and late efforts).

    Args:
        people, tasks, time_off: as for :func:`compute_workload`.
        today, weeks, lead_days, grid: as for :func:`compute_workload`.
    """
    if weeks < 1 or lead_days < 1:
        raise ValueError(f"weeks and lead_days must be >= 1 (got {weeks}, {lead_days})")
    people = frames.validate("people", people)
    tasks = frames.validate("tasks", tasks)
    open_tasks = tasks.loc[~tasks["completed"].to_numpy(dtype=bool)].reset_index(drop=True)
    grid = _grid(people, open_tasks, time_off, today=today, weeks=weeks, given=grid)
    spread, _ = _plan(open_tasks, grid, today=today, lead_days=lead_days)
    return _task_weeks(spread, grid, 7 * weeks)


def grid_end(latest_due: date | None, *, today: date, weeks: int) -> date:
    """Last day of the capacity grid that spreads tasks due by ``latest_due``.

    The horizon's last day, or ``latest_due`` when later, but at most :data:`EXTENT_DAYS`
    past the horizon (further on, only the weekday mask counts working days).
    """
    last = today + timedelta(days=7 * weeks - 1 - today.weekday())
    if latest_due is None:
        return last
    return min(max(last, latest_due), last + timedelta(days=EXTENT_DAYS))


def _grid(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    *,
    today: date,
    weeks: int,
    given: CapacityGrid | None,
) -> CapacityGrid:
    """The capacity grid from the horizon's Monday to the :func:`grid_end` of the tasks."""
    start = today - timedelta(days=today.weekday())
    latest = tasks["due_on"].max()
    end = grid_end(None if pd.isna(latest) else latest.date(), today=today, weeks=weeks)
    if given is None:
        return capacity_grid(people, time_off, start, end)
    # A grid that reaches further gives the same spread: no window ends past the latest due
    # date, and none spills past the grid's end (where only the weekday mask counts) unless
    # both grids end EXTENT_DAYS past the horizon.
    furthest = start + timedelta(days=7 * weeks - 1 + EXTENT_DAYS)
    first, last = given.days[0], given.days[-1]
    if not (first == np.datetime64(start, "D") and end <= last.item() <= furthest):
        raise ValueError(
            f"the grid ({first}..{last}) must start on {start}, end in {end}..{furthest}"
        )
    if not given.is_of(people):
        raise ValueError("the grid must have a row per person of people, in order")
    return given


def _day_number(values: pd.Series) -> IntArray:
    """Days since 1970-01-01 per date; ``_NAT`` where missing."""
    return np.asarray(values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")).astype(
        np.int64
    )


def _day_number_of(day: date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


def _plan(
    tasks: pd.DataFrame, grid: CapacityGrid, *, today: date, lead_days: int
) -> tuple[_Spread, DataQuality]:
    """Classify open tasks and give each schedulable one a window, a day kind and a rate."""
    gids = tasks["gid"].to_numpy(dtype=object)
    remaining = tasks["remaining_h"].to_numpy(dtype=np.float64)
    person = grid.person_index(tasks["assignee_gid"])
    origin = int(grid.days[0].astype(np.int64))
    due = _day_number(tasks["due_on"])
    start = _day_number(tasks["start_on"])
    has_due, has_start = due != _NAT, start != _NAT
    t = _day_number_of(today) - origin  # grid day of today (0..6)
    due_rel = np.where(has_due, due - origin, 0)

    unestimated = np.isnan(remaining)
    unassigned = tasks["assignee_gid"].isna().to_numpy()
    unknown = ~unassigned & (person < 0)
    negative = remaining < 0
    reversed_ = has_due & has_start & (start > due)
    overdue = has_due & (due_rel < t)
    known_h = np.where(unestimated, 0.0, np.maximum(remaining, 0.0))
    ok = ~unestimated & has_due & (person >= 0)

    reasons = [
        (negative, NEGATIVE_ESTIMATE),
        (reversed_, DUE_BEFORE_START),
        (unknown, UNKNOWN_ASSIGNEE),
    ]
    flagged = np.flatnonzero(negative | reversed_ | unknown)
    invalid = tuple((str(gids[i]), why) for i in flagged for bad, why in reasons if bad[i])
    quality = DataQuality(
        unestimated=tuple(gids[unestimated]),
        undated=tuple(gids[~has_due]),
        unassigned=tuple(gids[unassigned]),
        overdue=tuple(gids[overdue]),
        invalid=invalid,
        undated_h=float(known_h[~has_due].sum()),
        unassigned_h=float(known_h[unassigned].sum()),
        overdue_h=float(known_h[overdue].sum()),
        unscheduled_h=float(known_h[~ok].sum()),
    )

    row = np.flatnonzero(ok)
    p, d, late = person[row], due_rel[row], overdue[row]
    lead = grid.lead_start(p, d, lead_days)
    s = np.where(has_start[row], np.minimum(start[row] - origin, d), lead)
    first = np.where(late, t, np.maximum(s, t))
    last = np.where(late, 6, d)  # overdue work lands between today and Sunday

    counts = grid.count_days(p, first, last)
    kind = np.where(
        counts[AVAILABLE] > 0, AVAILABLE, np.where(counts[WORKDAY] > 0, WORKDAY, CALENDAR)
    )
    # Overdue work with no working day left this week lands on today alone.
    today_only = late & (kind == CALENDAR)
    last = np.where(today_only, first, last)
    n = np.take_along_axis(counts, kind[None, :], axis=0)[0]
    n = np.where(today_only, 1, n)
    hours = known_h[row]
    spread = _Spread(
        row=row,
        person=p,
        kind=kind,
        first=first,
        last=last,
        rate=hours / n,
        hours=hours,
        overdue=late,
    )
    return spread, quality


def _distribute(
    spread: _Spread, grid: CapacityGrid, n_days: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Daily committed and overdue hours ``(P, n_days)`` and per-task hours past the horizon."""
    n_people = len(grid.person_gids)
    inside = spread.first < n_days
    last_in = np.minimum(spread.last, n_days - 1)
    # Difference arrays per (kind, person): +rate where a window opens, -rate after it closes;
    # a cumulative sum then gives the hours per eligible day, masked by the kind's days.
    width = n_days + 1
    base = (spread.kind * n_people + spread.person) * width
    opens, closes = base + spread.first, base + last_in + 1
    size = 3 * n_people * width

    def per_day(weight: FloatArray) -> FloatArray:
        w = np.where(inside, weight, 0.0)
        # bincount of an empty selection is int64; the sums are hours.
        diff = np.bincount(opens[inside], weights=w[inside], minlength=size).astype(np.float64)
        diff -= np.bincount(closes[inside], weights=w[inside], minlength=size)
        rate = np.cumsum(diff.reshape(3, n_people, width), axis=2)[:, :, :n_days]
        total: FloatArray = (
            rate[AVAILABLE] * grid.available[:, :n_days]
            + rate[WORKDAY] * grid.workday[:, :n_days]
            + rate[CALENDAR]
        )
        return np.maximum(total, 0.0, out=total)  # clears -1e-16 residue of the cancelling sums

    cum = grid.cumulative
    in_days = (
        cum[spread.kind, spread.person, last_in + 1]
        - cum[spread.kind, spread.person, np.minimum(spread.first, n_days)]
    )
    beyond = np.where(spread.last < n_days, 0.0, spread.hours - spread.rate * in_days)
    return per_day(spread.rate), per_day(np.where(spread.overdue, spread.rate, 0.0)), beyond


def _weekly(
    grid: CapacityGrid,
    capacity: FloatArray,
    daily_h: FloatArray,
    overdue_h: FloatArray,
    weeks: int,
    bands: StatusBands,
) -> pd.DataFrame:
    """Sum days into Monday-based weeks and classify each person-week."""
    n_people = len(grid.person_gids)
    cap = capacity.reshape(n_people, weeks, 7).sum(axis=2).reshape(-1)
    committed = daily_h.reshape(n_people, weeks, 7).sum(axis=2).reshape(-1)
    late = overdue_h.reshape(n_people, weeks, 7).sum(axis=2).reshape(-1)
    util = np.divide(committed, cap, out=np.full_like(cap, np.nan), where=cap > 0)
    load = pd.DataFrame(
        {
            "person_gid": np.repeat(grid.person_gids, weeks).astype(object),
            "week_start": np.tile(grid.days[: 7 * weeks : 7], n_people).astype("datetime64[ns]"),
            "capacity_h": cap,
            "committed_h": committed,
            "utilisation": util,
            "status": bands.classify(cap, committed).astype(object),
            "overdue_h": late,
        }
    )
    return frames.validate("load", load)


def _task_weeks(spread: _Spread, grid: CapacityGrid, n_days: int) -> TaskWeeks:
    """Hours of each spread task in each horizon week it touches (above :data:`EPS_H`)."""
    inside = np.flatnonzero(spread.first < n_days)
    first, last = spread.first[inside], np.minimum(spread.last[inside], n_days - 1)
    week0, week1 = first // 7, last // 7
    n_weeks = week1 - week0 + 1
    task = np.repeat(inside, n_weeks)
    week = (
        np.repeat(week0, n_weeks)
        + np.arange(task.size)
        - np.repeat(np.cumsum(n_weeks) - n_weeks, n_weeks)
    )
    lo = np.maximum(spread.first[task], 7 * week)
    hi = np.minimum(np.minimum(spread.last[task], n_days - 1), 7 * week + 6)
    kind, person, cum = spread.kind[task], spread.person[task], grid.cumulative
    hours = spread.rate[task] * (cum[kind, person, hi + 1] - cum[kind, person, lo])
    keep = hours > EPS_H
    return TaskWeeks(
        task=spread.row[task[keep]], person=person[keep], week=week[keep], hours=hours[keep]
    )


def _drivers(
    task_weeks: TaskWeeks,
    grid: CapacityGrid,
    task_gids: npt.NDArray[np.object_],
    n_days: int,
    top: int | None,
) -> pd.DataFrame:
    """Hours of each task in each horizon week it touches; the ``top`` largest per cell."""
    task, week = task_weeks.task, task_weeks.week
    person, hours = task_weeks.person, task_weeks.hours
    if top is not None and top <= 0:  # no drivers wanted: skip the sort
        order = np.zeros(0, dtype=np.int64)
    else:
        order = np.lexsort((-hours, week, person))
    task, week, person, hours = task[order], week[order], person[order], hours[order]
    if top is not None:
        cell = person * (n_days // 7) + week
        new_cell = np.r_[True, cell[1:] != cell[:-1]]
        start_of_cell = np.maximum.accumulate(np.where(new_cell, np.arange(cell.size), 0))
        keep = np.arange(cell.size) - start_of_cell < top
        task, week, person, hours = task[keep], week[keep], person[keep], hours[keep]
    return pd.DataFrame(
        {
            "person_gid": grid.person_gids[person].astype(object),
            "week_start": grid.days[7 * week].astype("datetime64[ns]"),
            "task_gid": task_gids[task].astype(object),
            "hours": hours,
        }
    )
