"""The spread: which open tasks can be spread, over which days of the grid and at what rate.

Owns the window rules (start, lead window, overdue), the day kind and rate of each task, the
data-quality report of the tasks that cannot be spread, and the hours the spread puts on each
day and week; pure numpy/pandas, must not import ``bot`` (nor ``forecasting.workload``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from forecasting.calendar import (
    AVAILABLE,
    CALENDAR,
    WORKDAY,
    BoolArray,
    CapacityGrid,
    FloatArray,
    IntArray,
)

EPS_H = 1e-6  # hours below this (3.6 ms) are float residue of the spread, not work
NEGATIVE_ESTIMATE = "negative remaining_h"
DUE_BEFORE_START = "due_on before start_on"
UNKNOWN_ASSIGNEE = "assignee not in people"
_NAT = np.iinfo(np.int64).min  # NaT as an int64 day number


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
class Spread:
    """Schedulable tasks as arrays: person row, kind, window ``[a, b]`` in grid days, rate."""

    row: IntArray
    person: IntArray
    kind: IntArray
    first: IntArray
    last: IntArray
    rate: FloatArray
    hours: FloatArray
    overdue: BoolArray


def _day_number(values: pd.Series) -> IntArray:
    """Days since 1970-01-01 per date; ``_NAT`` where missing."""
    return np.asarray(values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")).astype(
        np.int64
    )


def _day_number_of(day: date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


def plan_spread(
    tasks: pd.DataFrame, grid: CapacityGrid, *, today: date, lead_days: int
) -> tuple[Spread, DataQuality]:
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
    spread = Spread(
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


def daily_hours(
    spread: Spread, grid: CapacityGrid, n_days: int
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


def weekly_task_hours(spread: Spread, grid: CapacityGrid, n_days: int) -> TaskWeeks:
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
