"""Committed load: open tasks' remaining hours spread over their assignees' working days.

Owns the horizon, the daily and weekly load frames, status bands and drivers; the spread itself
(windows, rates, data quality) is ``forecasting.spread``. Pure numpy/pandas over the frame
contracts, vectorised over tasks; must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting import frames
from forecasting.calendar import CapacityGrid, FloatArray, capacity_grid
from forecasting.spread import (
    EPS_H,
    DataQuality,
    TaskWeeks,
    daily_hours,
    plan_spread,
    weekly_task_hours,
)

EXTENT_DAYS = 366  # calendar modelled in full (holidays, leave) this far past the horizon


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
    spread, quality = plan_spread(open_tasks, grid, today=today, lead_days=lead_days)
    daily_h, overdue_h, beyond = daily_hours(spread, grid, n_days)

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
    task_weeks = weekly_task_hours(spread, grid, n_days)
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
    spread, _ = plan_spread(open_tasks, grid, today=today, lead_days=lead_days)
    return weekly_task_hours(spread, grid, 7 * weeks)


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
