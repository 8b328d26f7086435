"""Feature rows per person × origin week × weeks ahead, from a :class:`History`, as known then.

Only realised weeks before an origin and tasks known before its Monday enter its rows. Pure
numpy/pandas; must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.calendar import BoolArray, FloatArray, IntArray
from forecasting.history import LEAD_BUSDAYS, NAT, History

LAGS = 8
LOOKBACK = 26  # longest window of the features (weeks); older weeks never matter
FEATURE_WEEKS = LOOKBACK + LAGS  # realised weeks a row needs for complete features
FEATURES = (
    *(f"lag{k}" for k in range(1, LAGS + 1)),
    "mean4",
    "mean8",
    "mean13",
    "mean26",
    "median4",
    "median8",
    "sd8",
    "max8",
    "ewm",
    "active4",
    "active13",
    "active26",
    "weeks_known",  # weeks since the first realised week, capped at LOOKBACK
    "weeks_since_work",  # capped at LOOKBACK (also when no work was ever seen)
    "hours_last3d",  # realised hours of the 3 days before the origin (Fri-Sun): the momentum
    "days_since_work",  # days since the last day with realised hours, capped at 7 × LOOKBACK
    "active_days7",  # days with realised hours among the 7 before the origin
    "team_mean1",
    "team_active1",
    "plan_h",  # estimated hours the plan known at the origin puts in the target week
    "plan_next_h",  # ... in the whole horizon from the origin
    "open_h",  # estimates of every open task (dated or not) at the origin
    "open_tasks",
    "unestimated_tasks",
    "overdue_h",
    "capacity_h",  # capacity of the target week (holidays, time off), NaN when unknown
    "capacity_share",  # capacity_h / weekly contract
    "log_bias",
    "step",  # weeks ahead: 1 = the origin's own week
    "week_of_year",
)
EWM_ALPHA = 0.3  # weight of the latest week in the exponentially weighted mean
_DAY0 = np.datetime64(0, "D")


@dataclass(frozen=True)
class Panel:
    """Feature rows and their keys; ``target_week`` may be past the realised weeks."""

    X: pd.DataFrame
    person: IntArray
    origin: IntArray
    step: IntArray
    target_week: IntArray
    plan_h: FloatArray


def build_panel(
    history: History, origins: IntArray, steps: int, log_bias: FloatArray, people: IntArray
) -> Panel:
    """Rows for every person in ``people`` × origin week in ``origins`` × step ``1..steps``.

    Args:
        history: realised weeks and tasks.
        origins: week numbers (Mondays) at which the forecast is made, ascending; an origin can
            be ``history.weeks`` (today's week).
        steps: weeks ahead (>= 1).
        log_bias: ``(P,)`` log estimate bias of each person, a feature of every row.
        people: person rows to include.
    """
    origins = np.asarray(origins, dtype=np.int64)
    n_p, n_o = len(people), len(origins)
    per_origin = _history_features(history, origins, people)
    task = _task_features(history, origins, steps)
    rows_p = np.repeat(np.repeat(np.arange(n_p), n_o), steps)
    rows_o = np.tile(np.repeat(np.arange(n_o), steps), n_p)
    step = np.tile(np.arange(1, steps + 1), n_p * n_o)
    person = people[rows_p]
    target = origins[rows_o] + step - 1
    columns: dict[str, FloatArray] = {
        name: values[rows_p, rows_o] for name, values in per_origin.items()
    }
    plan = task["plan"][person, rows_o, step - 1]
    columns["plan_h"] = plan
    columns["plan_next_h"] = task["plan"][person, rows_o].sum(axis=1)
    for name in ("open_h", "open_tasks", "unestimated_tasks", "overdue_h"):
        columns[name] = task[name][person, rows_o]
    n_cap = history.capacity.shape[1]
    inside = target < n_cap
    cap = np.full(person.size, np.nan)
    cap[inside] = history.capacity[person[inside], target[inside]]
    columns["capacity_h"] = cap
    weekly = history.weekly_capacity[person]
    columns["capacity_share"] = np.divide(
        cap, weekly, out=np.full_like(cap, np.nan), where=weekly > 0
    )
    columns["log_bias"] = log_bias[person]
    columns["step"] = step.astype(np.float64)
    monday = _DAY0 + history.start + 7 * target
    columns["week_of_year"] = pd.DatetimeIndex(monday).isocalendar()["week"].to_numpy(np.float64)
    X = pd.DataFrame({name: columns[name] for name in FEATURES})
    return Panel(
        X=X, person=person, origin=origins[rows_o], step=step, target_week=target, plan_h=plan
    )


def informative(X: pd.DataFrame) -> list[str]:
    """Columns with at least one known value (gradient boosting cannot bin an all-NaN one)."""
    return [str(c) for c in X.columns if bool(X[c].notna().any())]


def _history_features(
    history: History, origins: IntArray, people: IntArray
) -> dict[str, FloatArray]:
    """``(people, origins)`` features from weeks strictly before each origin."""
    hours = history.hours[people]
    n_p, n_w = hours.shape
    # FEATURE_WEEKS zero weeks in front make every window of an early origin well defined.
    pad = FEATURE_WEEKS
    padded = np.concatenate([np.zeros((n_p, pad)), hours, np.zeros((n_p, 1))], axis=1)
    at = np.minimum(origins, n_w) + pad  # column of the origin week in `padded`
    cum = np.concatenate([np.zeros((n_p, 1)), np.cumsum(padded, axis=1)], axis=1)
    active = np.concatenate([np.zeros((n_p, 1)), np.cumsum(padded > 0, axis=1)], axis=1)
    out: dict[str, FloatArray] = {}
    for k in range(1, LAGS + 1):
        out[f"lag{k}"] = padded[:, at - k]
    for k in (4, 8, 13, 26):
        out[f"mean{k}"] = (cum[:, at] - cum[:, at - k]) / k
    for k in (4, 13, 26):
        out[f"active{k}"] = (active[:, at] - active[:, at - k]) / k
    window = np.stack([padded[:, at - k] for k in range(1, 9)], axis=2)
    out["median4"] = np.median(window[:, :, :4], axis=2)
    out["median8"] = np.median(window, axis=2)
    out["sd8"] = window.std(axis=2)
    out["max8"] = window.max(axis=2)
    ewm = np.zeros((n_p, n_w + 1))
    for w in range(n_w):
        ewm[:, w + 1] = (1 - EWM_ALPHA) * ewm[:, w] + EWM_ALPHA * hours[:, w]
    out["ewm"] = ewm[:, np.minimum(origins, n_w)]
    first = history.first[people][:, None]
    known = np.clip(origins[None, :] - first, 0, LOOKBACK).astype(np.float64)
    out["weeks_known"] = known
    week = np.arange(n_w)
    last_work = np.maximum.accumulate(np.where(hours > 0, week, -1), axis=1) if n_w else hours
    last_work = np.concatenate([np.full((n_p, 1), -1), last_work], axis=1)
    seen = last_work[:, np.minimum(origins, n_w)]
    since = np.where(seen >= 0, origins[None, :] - seen, LOOKBACK)
    out["weeks_since_work"] = np.minimum(since, LOOKBACK).astype(np.float64)
    out |= _daily_features(history, origins, people)
    out["team_mean1"], out["team_active1"] = _team_last_week(history, origins, people)
    return out


def _daily_features(history: History, origins: IntArray, people: IntArray) -> dict[str, FloatArray]:
    """``(people, origins)`` features from the realised days just before each origin's Monday."""
    daily = history.daily[people]
    n_p, n_d = daily.shape
    pad = 7 * LOOKBACK
    padded = np.concatenate([np.zeros((n_p, pad)), daily], axis=1)
    at = 7 * np.minimum(origins, n_d // 7) + pad  # column of the origin's Monday in `padded`
    cum = np.concatenate([np.zeros((n_p, 1)), np.cumsum(padded, axis=1)], axis=1)
    busy = np.concatenate([np.zeros((n_p, 1)), np.cumsum(padded > 0, axis=1)], axis=1)
    day = np.arange(padded.shape[1])
    last = np.maximum.accumulate(np.where(padded > 0, day, -pad), axis=1)
    last = np.concatenate([np.full((n_p, 1), -pad), last], axis=1)  # last busy day before col
    return {
        "hours_last3d": cum[:, at] - cum[:, at - 3],
        "days_since_work": np.minimum(at[None, :] - last[:, at], pad).astype(np.float64),
        "active_days7": busy[:, at] - busy[:, at - 7],
    }


def _team_last_week(
    history: History, origins: IntArray, people: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Mean hours and share of active members of each person's team in the week before."""
    n_teams = int(history.team.max(initial=-1)) + 1
    n_w = history.weeks
    prev = origins - 1
    ok = (prev >= 0) & (prev < n_w)
    col = np.clip(prev, 0, max(n_w - 1, 0))
    total = np.zeros((n_teams, len(origins)))
    busy = np.zeros((n_teams, len(origins)))
    members = np.zeros((n_teams, len(origins)))
    if n_w:
        week = history.hours[:, col]
        started = history.first[:, None] <= prev[None, :]
        np.add.at(total, history.team, week * started)
        np.add.at(busy, history.team, (week > 0) & started)
        np.add.at(members, history.team, started)
    mean = np.divide(total, members, out=np.zeros_like(total), where=members > 0) * ok
    share = np.divide(busy, members, out=np.zeros_like(busy), where=members > 0) * ok
    team = history.team[people]
    return mean[team], share[team]


def _task_features(history: History, origins: IntArray, steps: int) -> dict[str, FloatArray]:
    """Plan hours per ``(P, origins, steps)`` and open-work totals per ``(P, origins)``.

    A task is open at an origin when it was known before that Monday and not completed before
    it. Its plan spreads its estimate evenly over the Mon-Fri days of ``[start_on, due_on]``
    (the 5 working days ending on ``due_on`` without a start), like the committed load.
    """
    t = history.tasks
    n_p, n_o = len(history.person_gids), len(origins)
    monday = history.start + 7 * origins
    # Origin position of each week number, -1 where that week is not an origin.
    lookup = np.full(int(origins.max(initial=0)) + steps + 2, -1, dtype=np.int64)
    lookup[origins] = np.arange(n_o)
    est = np.nan_to_num(t.estimate, nan=0.0)
    # Origins in [opens, closes) see the task open: known before, completed on or after Monday.
    opens = np.searchsorted(monday, t.known, side="right")
    closes = np.searchsorted(monday, t.closed, side="right")
    out: dict[str, FloatArray] = {}
    for name, weight in (
        ("open_h", est),
        ("open_tasks", np.ones_like(est)),
        ("unestimated_tasks", np.isnan(t.estimate).astype(np.float64)),
    ):
        out[name] = _interval_sums(t.person, opens, closes, weight, n_p, n_o)
    has_due = t.due != NAT
    late_from = np.where(has_due, np.searchsorted(monday, t.due, side="right"), n_o)
    out["overdue_h"] = _interval_sums(t.person, np.maximum(opens, late_from), closes, est, n_p, n_o)
    out["plan"] = _plan_hours(history, origins, steps, lookup, opens, closes, est, has_due)
    return out


def _interval_sums(
    person: IntArray, lo: IntArray, hi: IntArray, weight: FloatArray, n_p: int, n_o: int
) -> FloatArray:
    """Sum of ``weight`` over the origins ``[lo, hi)`` of each task, per person × origin."""
    keep = hi > lo
    diff = np.zeros(n_p * (n_o + 1))
    np.add.at(diff, person[keep] * (n_o + 1) + lo[keep], weight[keep])
    np.add.at(diff, person[keep] * (n_o + 1) + hi[keep], -weight[keep])
    sums: FloatArray = np.cumsum(diff.reshape(n_p, n_o + 1), axis=1)[:, :n_o]
    return sums


def _plan_hours(
    history: History,
    origins: IntArray,
    steps: int,
    lookup: IntArray,
    opens: IntArray,
    closes: IntArray,
    est: FloatArray,
    has_due: BoolArray,
) -> FloatArray:
    t = history.tasks
    n_p, n_o = len(history.person_gids), len(origins)
    plan = np.zeros((n_p, n_o, steps))
    pick = np.flatnonzero(has_due & (est > 0) & (closes > opens))
    if pick.size == 0:
        return plan
    due = t.due[pick]
    lead = np.busday_offset(_DAY0 + due, -(LEAD_BUSDAYS - 1), roll="backward")
    lead_day = (lead - _DAY0).astype(np.int64)
    start = t.start[pick]
    begin = np.where((start != NAT) & (start <= due), start, np.minimum(lead_day, due))
    workdays = np.busday_count(_DAY0 + begin, _DAY0 + due + 1)
    calendar = workdays == 0
    count = np.where(calendar, due - begin + 1, workdays).astype(np.float64)
    w0, w1 = history.week_of(begin), history.week_of(due)
    # Only weeks some origin can reach matter; long windows are clipped to that range.
    lo_w = np.maximum(w0, int(origins.min()))
    hi_w = np.minimum(w1, int(origins.max()) + steps - 1)
    n_weeks = np.maximum(hi_w - lo_w + 1, 0)
    task = np.repeat(np.arange(pick.size), n_weeks)
    week = (
        np.repeat(lo_w, n_weeks)
        + np.arange(task.size)
        - np.repeat(np.cumsum(n_weeks) - n_weeks, n_weeks)
    )
    first_day = np.maximum(begin[task], history.start + 7 * week)
    last_day = np.minimum(due[task], history.start + 7 * week + 6)
    days_in = np.where(
        calendar[task],
        last_day - first_day + 1,
        np.busday_count(_DAY0 + first_day, _DAY0 + last_day + 1),
    )
    hours = est[pick][task] * days_in / count[task]
    first, stop, person = opens[pick][task], closes[pick][task], t.person[pick][task]
    for step in range(steps):
        origin_week = week - step
        valid = (origin_week >= 0) & (origin_week < lookup.size)
        pos = np.where(valid, lookup[np.clip(origin_week, 0, lookup.size - 1)], -1)
        ok = np.flatnonzero((pos >= 0) & (pos >= first) & (pos < stop))
        np.add.at(plan[:, :, step], (person[ok], pos[ok]), hours[ok])
    return plan
