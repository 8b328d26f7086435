"""Slip features: what is known about a task when its P(late) is asked, never the outcome.

Owns the feature columns, the leak-free training set, the assignees' and projects' track records,
the open load a task meets and the grouped running sums behind them; pure numpy/pandas, must
not import ``bot`` (nor the model in ``forecasting.slip``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting import frames

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FEATURES = (
    "estimate_h",
    "window_days",  # due - start (or - creation when unstarted), calendar days
    "lead_days",  # due - creation, calendar days
    "hours_per_day",  # estimate_h / (window_days + 1): how tight the plan is
    "has_start",
    "dependencies",
    "priority",  # ordinal, see PRIORITY_RANK; NaN when unset or unknown
    "required_skills",
    "assignee_past_tasks",  # outcomes of the assignee known before the prediction
    "assignee_late_share",  # shrunk towards the org's late share then
    "assignee_overrun",  # mean log(actual_h / estimate_h), shrunk towards the org's
    "assignee_open_tasks",
    "assignee_open_h",  # estimated hours of those open tasks
    "project_past_tasks",
    "project_late_share",
)
PRIORITY_RANK = {
    "low": 0.0,
    "medium": 1.0,
    "normal": 1.0,
    "high": 2.0,
    "urgent": 3.0,
    "critical": 3.0,
}
PRIOR_TASKS = 5.0  # a track record of n outcomes weighs n / (n + 5) against the org's
_NAT = np.iinfo(np.int64).min


def slip_training_set(history: pd.DataFrame, *, today: date) -> tuple[pd.DataFrame, IntArray]:
    """Slip features and labels of the tasks finished before ``today``, oldest first.

    A row is a completed task with a due date, completed before ``today``; its label is 1 when
    ``completed_at`` is after ``due_on``. Its features are those known on its creation day:
    track records count only outcomes completed strictly before then, so a task never sees its
    own outcome or a later one.

    Args:
        history: a ``tasks`` frame, open and completed.
        today: the reference date (no clock is read).

    Returns:
        ``(X, y)``: :data:`FEATURES` columns indexed by task gid, sorted by creation, and labels.
    """
    tasks = frames.validate("tasks", history)
    cut = pd.Timestamp(today)
    done = tasks["completed"] & tasks["due_on"].notna() & (tasks["completed_at"] < cut)
    targets = tasks.loc[done]
    as_of = _as_of_creation(targets)
    order = np.argsort(as_of, kind="stable")
    targets, as_of = targets.iloc[order], as_of[order]
    late = np.asarray(targets["completed_at"] > targets["due_on"], dtype=np.int64)
    return _features(targets, tasks, as_of, today=today), late


def task_slip_features(tasks: pd.DataFrame, history: pd.DataFrame, *, today: date) -> pd.DataFrame:
    """Slip features of ``tasks`` (meant for open ones) as known on ``today``.

    Args:
        tasks: a ``tasks`` frame of the work to score.
        history: a ``tasks`` frame of all work, completed and open, for track records and load.
        today: the reference date (no clock is read).

    Returns:
        :data:`FEATURES` columns indexed by task gid, in the order of ``tasks``; tasks without a
        due date have NaN windows and their probability has no deadline to miss.
    """
    targets = frames.validate("tasks", tasks)
    as_of = np.full(len(targets), _day(today), dtype=np.int64)
    return _features(targets, frames.validate("tasks", history), as_of, today=today)


def _features(
    targets: pd.DataFrame, history: pd.DataFrame, as_of: IntArray, *, today: date
) -> pd.DataFrame:
    """Feature rows for ``targets``, each as known on its ``as_of`` day number."""
    due = _days(targets["due_on"])
    start = _days(targets["start_on"])
    created = _days(targets["created_at"])
    begin = np.where(start != _NAT, start, np.where(created != _NAT, created, as_of))
    window = np.where(due != _NAT, (due - begin).astype(np.float64), np.nan)
    lead = np.where((due != _NAT) & (created != _NAT), (due - created).astype(np.float64), np.nan)
    estimate = targets["estimate_h"].to_numpy(np.float64)
    # A handful of distinct priorities: rank those, not every row.
    codes, names = pd.factorize(targets["priority"].to_numpy(object), use_na_sentinel=True)
    ranks = pd.Series(names, dtype=object).str.strip().str.lower().map(PRIORITY_RANK)
    priority = np.append(ranks.to_numpy(np.float64, na_value=np.nan), np.nan)[codes]
    out = {
        "estimate_h": estimate,
        "window_days": window,
        "lead_days": lead,
        "hours_per_day": estimate / (np.maximum(window, 0.0) + 1.0),
        "has_start": (start != _NAT).astype(np.float64),
        "dependencies": _lengths(targets["depends_on"]),
        "priority": priority,
        "required_skills": _lengths(targets["required_skills"]),
    }
    owners = _Groups.of(history["assignee_gid"], targets["assignee_gid"])
    projects = _Groups.of(history["project_gid"], targets["project_gid"])
    opened = _as_of_creation(history)
    out |= _track_records(targets, history, opened, owners, projects, as_of, today=today)
    out |= _open_load(targets, history, opened, owners, as_of)
    frame = pd.DataFrame(out, index=pd.Index(targets["gid"].to_numpy(), name="gid"))
    return frame.loc[:, list(FEATURES)]


@dataclass(frozen=True)
class _Groups:
    """Group codes of a history column (-1 where null) and of the targets' values (-1 unseen)."""

    history: IntArray
    targets: IntArray
    count: int

    @classmethod
    def of(cls, history: pd.Series, targets: pd.Series) -> _Groups:
        codes, uniques = pd.factorize(history.to_numpy(object), use_na_sentinel=True)
        found = pd.Index(uniques, dtype=object).get_indexer(targets.to_numpy(object))
        return cls(codes.astype(np.int64), found.astype(np.int64), len(uniques))

    @classmethod
    def single(cls, n_history: int, n_targets: int) -> _Groups:
        """Everyone in one group."""
        return cls(np.zeros(n_history, np.int64), np.zeros(n_targets, np.int64), 1)


def _track_records(
    targets: pd.DataFrame,
    history: pd.DataFrame,
    opened: IntArray,
    owners: _Groups,
    projects: _Groups,
    as_of: IntArray,
    *,
    today: date,
) -> dict[str, FloatArray]:
    """Past late shares and overruns per assignee and project, from outcomes before ``as_of``."""
    completed = _days(history["completed_at"])
    known = history["completed"].to_numpy(bool) & (completed != _NAT) & (completed < _day(today))
    # An outcome is known when the task completes, and never before the task existed.
    when = np.maximum(completed, opened)
    dated = known & history["due_on"].notna().to_numpy()
    late = (completed > _days(history["due_on"])).astype(np.float64)
    estimate = history["estimate_h"].to_numpy(np.float64)
    actual = history["actual_h"].to_numpy(np.float64)
    timed = known & (estimate > 0) & (actual > 0)
    overrun = np.log(np.where(timed, actual, 1.0) / np.where(timed, estimate, 1.0))

    everyone = _Groups.single(len(history), len(targets))
    org_late = _sums_before(everyone, dated, when, late[:, None], as_of)
    org_over = _sums_before(everyone, timed, when, overrun[:, None], as_of)
    org_late_share = _ratio(org_late[:, 1], org_late[:, 0])
    org_overrun = _ratio(org_over[:, 1], org_over[:, 0])

    out: dict[str, FloatArray] = {}
    for who, groups in (("assignee", owners), ("project", projects)):
        sums = _sums_before(groups, dated, when, late[:, None], as_of)
        out[f"{who}_past_tasks"] = sums[:, 0]
        out[f"{who}_late_share"] = _shrunk(sums[:, 1], sums[:, 0], org_late_share)
    sums = _sums_before(owners, timed, when, overrun[:, None], as_of)
    out["assignee_overrun"] = _shrunk(sums[:, 1], sums[:, 0], org_overrun)
    unassigned = targets["assignee_gid"].isna().to_numpy()
    for name in ("assignee_past_tasks", "assignee_late_share", "assignee_overrun"):
        out[name][unassigned] = np.nan
    no_project = targets["project_gid"].isna().to_numpy()
    for name in ("project_past_tasks", "project_late_share"):
        out[name][no_project] = np.nan
    return out


def _open_load(
    targets: pd.DataFrame, history: pd.DataFrame, opened: IntArray, owners: _Groups, as_of: IntArray
) -> dict[str, FloatArray]:
    """Count and estimated hours of the assignee's other tasks open on the ``as_of`` day."""
    closed = np.where(history["completed"].to_numpy(bool), _days(history["completed_at"]), _NAT)
    hours = np.nan_to_num(history["estimate_h"].to_numpy(np.float64))
    weights = hours[:, None]
    has_open = opened != _NAT
    has_close = has_open & (closed != _NAT)
    # Open on day t: opened on or before t, not closed on or before t (so "before t + 1").
    after = as_of + 1
    load = _sums_before(owners, has_open, opened, weights, after)
    load -= _sums_before(owners, has_close, closed, weights, after)
    # The task itself is not part of the load it meets.
    own_open = _as_of_creation(targets) <= as_of
    own_closed = targets["completed"].to_numpy(bool) & (_days(targets["completed_at"]) <= as_of)
    own_hours = np.nan_to_num(targets["estimate_h"].to_numpy(np.float64))
    own = targets["gid"].isin(history["gid"]).to_numpy() & own_open & ~own_closed
    load -= own[:, None] * np.column_stack([np.ones(len(targets)), own_hours])
    load = np.maximum(load, 0.0)  # float residue of the hour sums
    load[targets["assignee_gid"].isna().to_numpy()] = np.nan
    return {"assignee_open_tasks": load[:, 0], "assignee_open_h": load[:, 1]}


def _sums_before(
    groups: _Groups,
    rows: npt.NDArray[np.bool_],
    days: IntArray,
    weights: FloatArray,
    query: IntArray,
) -> FloatArray:
    """Per target: [count, weight sums...] of its group's events on days strictly before its day.

    The events are the history ``rows`` (day ``days``, weights ``weights``); one sort of them by
    group and day, a running sum, then two look-ups per target, so 10^5 targets over 10^5
    events take milliseconds; targets with a missing or unseen group get zeros. Groups are
    numbered in order of first appearance among the events and the null group comes first: the
    running sums add in exactly that order. With one day for every target and whole-number
    weights (counts, late flags) every sum is exact in any order: then a count per group does.
    """
    one_day = query.size > 0 and bool((query == query[0]).all())
    chosen = weights[rows]
    if one_day and bool(np.isfinite(chosen).all() and (np.trunc(chosen) == chosen).all()):
        before = rows & (days < query[0])
        event_slot, slot = groups.history[before] + 1, groups.targets + 1  # null and unseen: 0
        # (astype: bincount of an empty selection is int64)
        per_slot = [np.bincount(event_slot, minlength=groups.count + 1).astype(np.float64)]
        for column in weights[before].T:
            per_slot.append(
                np.bincount(event_slot, column, minlength=groups.count + 1).astype(np.float64)
            )
        whole: FloatArray = np.column_stack(per_slot)[slot]
        whole[slot == 0] = 0.0
        return whole
    event_code = _first_seen(groups.history[rows], groups.count)
    # Shifted by one so the null group (-1) sorts first, as group 0.
    slot = np.append(event_code.remap, -1)[groups.targets] + 1  # -1 (not seen) becomes the null
    event_slot = event_code.codes + 1
    day = days[rows]
    n_slots = event_code.count + 1
    order = _group_day_order(event_slot, day, n_slots)
    # The running count at a position is the position itself: only the weights need a sum.
    weighted = chosen[order]
    cumulative = np.vstack([np.zeros((1, weighted.shape[1])), np.cumsum(weighted, axis=0)])
    starts = np.concatenate([[0], np.cumsum(np.bincount(event_slot, minlength=n_slots))])
    lower = starts[slot]
    if one_day:  # count the group's events before that day
        earlier = np.bincount(event_slot[day < query[0]], minlength=n_slots)
        upper = lower + earlier[slot]
    else:
        lowest = int(min(day.min(initial=0), query.min(initial=0)))
        span = int(max(day.max(initial=0), query.max(initial=0))) - lowest + 2
        keys = (event_slot * span + (day - lowest))[order]
        upper = np.searchsorted(keys, slot * span + (query - lowest), side="left")
    sums: FloatArray = np.column_stack([upper - lower, cumulative[upper] - cumulative[lower]])
    sums[slot == 0] = 0.0
    return sums


@dataclass(frozen=True)
class _Codes:
    codes: IntArray  # per event: its group in order of first appearance (-1 for null)
    remap: IntArray  # per original group: its new code, -1 when it has no event
    count: int


def _first_seen(codes: IntArray, n_groups: int) -> _Codes:
    """Renumber group ``codes`` (-1 null) in order of first appearance, as factorize would."""
    valid = np.flatnonzero(codes >= 0)
    first = np.full(n_groups, len(codes), dtype=np.int64)
    np.minimum.at(first, codes[valid], valid)
    seen = np.flatnonzero(first < len(codes))
    remap = np.full(n_groups + 1, -1, dtype=np.int64)  # the last slot maps -1 to -1
    remap[seen[np.argsort(first[seen], kind="stable")]] = np.arange(seen.size)
    return _Codes(codes=remap[codes], remap=remap[:n_groups], count=int(seen.size))


def _group_day_order(group: IntArray, day: IntArray, n_groups: int) -> IntArray:
    """Stable order of events by group, then day (ties keep their order)."""
    lo = int(day.min()) if day.size else 0
    span = int(day.max()) - lo + 1 if day.size else 1
    if n_groups <= 1 << 16 and span <= 1 << 16:
        # Two stable passes on 16-bit keys (radix sorts), least significant first.
        by_day = np.argsort((day - lo).astype(np.uint16), kind="stable")
        by_group = np.argsort(group[by_day].astype(np.uint16), kind="stable")
        order: IntArray = by_day[by_group]
        return order
    return np.argsort(group * span + (day - lo), kind="stable")


def _lengths(values: pd.Series) -> FloatArray:
    """Length of each tuple of a list column."""
    return np.fromiter(map(len, values.to_numpy(object)), dtype=np.float64, count=len(values))


def _shrunk(total: FloatArray, count: FloatArray, prior: FloatArray) -> FloatArray:
    """Empirical-Bayes mean: ``count`` outcomes pulled towards ``prior`` by PRIOR_TASKS."""
    return np.asarray((total + PRIOR_TASKS * prior) / (count + PRIOR_TASKS), dtype=np.float64)


def _ratio(total: FloatArray, count: FloatArray) -> FloatArray:
    ratio: FloatArray = np.divide(total, count, out=np.full(len(total), np.nan), where=count > 0)
    return ratio


def _as_of_creation(tasks: pd.DataFrame) -> IntArray:
    """Day a task became known: created_at, else start_on, else due_on; never after completion."""
    created = tasks["created_at"].fillna(tasks["start_on"]).fillna(tasks["due_on"])
    first = _days(created)
    completed = _days(tasks["completed_at"])
    return np.where((completed != _NAT) & (completed < first), completed, first)


def _days(values: pd.Series) -> IntArray:
    """Day numbers since 1970-01-01; NaT becomes the int64 minimum."""
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _day(value: date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))
