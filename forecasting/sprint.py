"""Sprint planning: which backlog items go to whom, by a MILP over free capacity, skills and order.

Pure: reads the frame contracts and returns a :class:`SprintPlan`; changes nothing. Uses scipy's
HiGHS through ``scipy.optimize.milp``; must not import ``bot``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from forecasting import frames
from forecasting.calendar import FloatArray
from forecasting.forecast import Forecast
from forecasting.skills import required_skills, skill_gaps, skill_levels, skills_phrase
from forecasting.spread import EPS_H
from forecasting.workload import compute_workload

# Value of an item by its Asana-style priority; anything else (None, custom labels) is worth
# DEFAULT_VALUE. Doubling per step: one high item is worth two medium ones.
PRIORITY_VALUES: Mapping[str, float] = {"high": 8.0, "medium": 4.0, "low": 2.0}
DEFAULT_VALUE = 1.0
# Reasons an item is not planned (those that take no argument).
NO_ESTIMATE = "no estimate"
LOCKED_UNASSIGNED = "locked without an assignee"
CROWDED_OUT = "capacity used by items of equal or higher value"
STOPPED = "not chosen before the solver's time limit"
FORECAST, COMMITTED = "forecast", "committed"  # SprintPlan.load_source


@dataclass(frozen=True)
class PlannedItem:
    """A backlog item planned for the sprint.

    Attributes:
        task_gid, name: the item.
        person_gid: who it is planned for.
        hours: its remaining hours.
        priority: its priority label; ``value`` what that is worth (:data:`PRIORITY_VALUES`).
        reassigned: it was assigned to someone else before.
    """

    task_gid: str
    name: str
    person_gid: str
    hours: float
    priority: str | None
    value: float
    reassigned: bool


@dataclass(frozen=True)
class SprintCapacity:
    """One person's hours in the sprint.

    Attributes:
        capacity_h: capacity on the sprint's days from today (time off and holidays removed).
        load_h: expected load of work already committed outside the backlog.
        free_h: ``max((capacity_h − load_h) × focus, 0)``, what the plan may use.
        planned_h: hours of the items planned for them.
    """

    person_gid: str
    name: str
    capacity_h: float
    load_h: float
    free_h: float
    planned_h: float


@dataclass(frozen=True)
class NotPlanned:
    """A backlog item left out, and why in words."""

    task_gid: str
    name: str
    hours: float | None
    reason: str


@dataclass(frozen=True)
class SprintPlan:
    """The plan for one sprint.

    Attributes:
        sprint_start, sprint_end: the sprint's days, inclusive.
        planned: items planned, by person then backlog order.
        people: every person of the pool, in people order.
        not_planned: items left out, in backlog order, each with a reason.
        total_value: sum of the planned items' priority values.
        optimal: HiGHS proved no plan has a higher objective (False after the time limit).
        seconds: wall time of the whole call.
        load_source: ``"forecast"`` (mean load prorated) or ``"committed"`` (the arithmetic
            committed load).
    """

    sprint_start: date
    sprint_end: date
    planned: tuple[PlannedItem, ...]
    people: tuple[SprintCapacity, ...]
    not_planned: tuple[NotPlanned, ...]
    total_value: float
    optimal: bool
    seconds: float
    load_source: str


def priority_value(priority: object) -> float:
    """Value of a priority label (case-insensitive); :data:`DEFAULT_VALUE` for others."""
    if not isinstance(priority, str):
        return DEFAULT_VALUE
    return PRIORITY_VALUES.get(priority.strip().lower(), DEFAULT_VALUE)


def plan_sprint(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    backlog: pd.DataFrame,
    *,
    sprint_start: date,
    sprint_end: date,
    today: date,
    pool: Collection[str] | None = None,
    forecast: Forecast | None = None,
    focus: float = 1.0,
    min_level: int = 1,
    time_limit_s: float = 10.0,
) -> SprintPlan:
    """Choose which backlog items go to whom in the sprint, maximising priority value. Read-only.

    Free capacity per person: capacity on the sprint's days from ``today`` minus the expected
    load of their open tasks outside the backlog (the forecast's mean load of each week,
    prorated by the share of the week's capacity that falls in the sprint, less the backlog's
    own committed hours, which the plan re-decides; weeks the forecast lacks, or no forecast,
    use the committed load), times ``focus``, never below 0.

    The MILP (binary ``x[person, item]``, HiGHS, exact) maximises the items' priority values
    plus tie-breaks too small to outweigh any value (earlier due dates, smaller items, keeping
    an item with its assignee), subject to: each item at most once; each person's hours within
    their free capacity; required skills at ``min_level`` or more; locked items only for their
    assignee (whose skills are not re-checked); an item only if every task it depends on is
    completed, planned in this sprint, or an open task outside the backlog due by
    ``sprint_end``. Unestimated items are not planned.

    Args:
        people, tasks, time_off: the frame contracts; ``tasks`` is the whole snapshot.
        backlog: the ``tasks`` contract: the items to choose from (completed ones are skipped).
        sprint_start, sprint_end: the sprint's days, inclusive.
        today: the reference date; days before it have no capacity.
        pool: gids of the people to plan for; default every active person.
        forecast: a forecast made on ``tasks`` from ``today``, to plan on its expected load.
        focus: share of free capacity to plan (0..1 usually; a sprint's focus factor).
        min_level: lowest skill level (1..5) that counts.
        time_limit_s: seconds HiGHS may run; the best plan found by then is returned.
    """
    began = time.perf_counter()
    if sprint_end < sprint_start:
        raise ValueError(f"sprint_end {sprint_end} is before sprint_start {sprint_start}")
    if focus < 0 or time_limit_s <= 0:
        raise ValueError(f"focus must be >= 0 and time_limit_s > 0 (got {focus}, {time_limit_s})")
    people = frames.validate("people", people)
    tasks = frames.validate("tasks", tasks)
    time_off = frames.validate("time_off", time_off)
    backlog = frames.validate("tasks", backlog)
    status = _dependency_status(tasks, backlog, sprint_end)
    backlog = backlog.loc[~backlog["completed"].to_numpy(bool)]
    backlog = backlog.drop_duplicates("gid").reset_index(drop=True)
    crew = _crew(people, pool)
    window = _Window(sprint_start, sprint_end, today)
    capacity = _capacity(crew, tasks, time_off, backlog, window, forecast, focus)
    free = capacity["free_h"].to_numpy(np.float64)
    names = dict(zip(people["gid"].astype(str), people["name"].astype(str), strict=True))
    items = _Items(crew, backlog, status, free, min_level, names)
    chosen, optimal = _solve(items, free, time_limit_s)
    return _plan(items, capacity, chosen, optimal, window, forecast, began)


@dataclass(frozen=True)
class _Window:
    """The sprint's days that can still hold work: ``[max(start, today), end]``."""

    start: date
    end: date
    today: date

    @property
    def first(self) -> date:
        return max(self.start, self.today)

    @property
    def weeks(self) -> int:
        """Weeks of a horizon from today's Monday that covers the sprint."""
        monday = self.today - timedelta(days=self.today.weekday())
        return max(1, math.ceil(((self.end - monday).days + 1) / 7))


def _crew(people: pd.DataFrame, pool: Collection[str] | None) -> pd.DataFrame:
    """The active people to plan for, in people order."""
    keep = people["is_active"].to_numpy(bool)
    if pool is not None:
        keep = keep & people["gid"].isin([str(g) for g in pool]).to_numpy(bool)
    return people.loc[keep].reset_index(drop=True)


def _capacity(
    crew: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    backlog: pd.DataFrame,
    window: _Window,
    forecast: Forecast | None,
    focus: float,
) -> pd.DataFrame:
    """``gid, name, capacity_h, load_h, free_h`` per person of the crew, in crew order."""
    out = crew[["gid", "name"]].copy()
    if window.end < window.today:  # the sprint is over: no capacity left in it
        out["capacity_h"] = out["load_h"] = out["free_h"] = 0.0
        return out
    in_backlog = tasks["gid"].isin(backlog["gid"]).to_numpy(bool)
    weekly = _weekly(crew, tasks.loc[~in_backlog], time_off, window)
    weekly["load_h"] = weekly["committed_h"]
    if forecast is not None:
        # The forecast counted the backlog's assigned items; the plan re-decides them.
        own = _weekly(crew, tasks.loc[in_backlog], time_off, window)
        expected = forecast.weekly[["person_gid", "week_start", "capacity_h", "mean_h"]]
        weekly = weekly.merge(
            own[["person_gid", "week_start", "week_committed_h"]].rename(
                columns={"week_committed_h": "backlog_h"}
            ),
            how="left",
            on=["person_gid", "week_start"],
        ).merge(
            expected.rename(columns={"capacity_h": "forecast_capacity_h"}),
            how="left",
            on=["person_gid", "week_start"],
        )
        # The sprint's share of a week's expected load is its share of the week's capacity.
        week_capacity = weekly["forecast_capacity_h"].to_numpy(np.float64)
        share = np.divide(
            weekly["capacity_h"].to_numpy(np.float64),
            week_capacity,
            out=np.zeros(len(weekly)),
            where=week_capacity > 0,
        )
        prorated = (weekly["mean_h"] - weekly["backlog_h"].fillna(0.0)).clip(lower=0.0) * share
        weekly["load_h"] = prorated.where(weekly["mean_h"].notna(), weekly["committed_h"])
    totals = weekly.groupby("person_gid")[["capacity_h", "load_h"]].sum()
    out["capacity_h"] = out["gid"].map(totals["capacity_h"]).fillna(0.0).astype(np.float64)
    out["load_h"] = out["gid"].map(totals["load_h"]).fillna(0.0).astype(np.float64)
    out["free_h"] = ((out["capacity_h"] - out["load_h"]) * focus).clip(lower=0.0)
    return out


def _weekly(
    crew: pd.DataFrame, work: pd.DataFrame, time_off: pd.DataFrame, window: _Window
) -> pd.DataFrame:
    """Committed load of ``work`` per person-week of the sprint.

    Returns:
        ``person_gid, week_start, capacity_h, committed_h`` (both on the sprint's days left)
        and ``week_committed_h`` (the whole week).
    """
    daily = compute_workload(
        crew, work, time_off, today=window.today, weeks=window.weeks, top_drivers=0
    ).daily
    days = daily["day"].to_numpy("datetime64[D]")
    inside = (days >= np.datetime64(window.first)) & (days <= np.datetime64(window.end))
    # 1970-01-01 was a Thursday: (days since then + 3) % 7 is the weekday, Monday = 0.
    monday = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    per_day = daily.assign(
        week_start=monday.astype("datetime64[ns]"),
        capacity_h=daily["capacity_h"].where(inside, 0.0),
        week_committed_h=daily["committed_h"],
        committed_h=daily["committed_h"].where(inside, 0.0),
    )
    columns = ["capacity_h", "committed_h", "week_committed_h"]
    return per_day.groupby(["person_gid", "week_start"], as_index=False, sort=False)[columns].sum()


class _Items:
    """The backlog as arrays: hours, values, who may take what, and the dependency rows.

    ``allowed[p, b]`` ignores capacity (skills, locks, estimate, dependencies outside the
    backlog); ``reason[b]`` is set for items nobody may take at all.
    """

    def __init__(
        self,
        crew: pd.DataFrame,
        backlog: pd.DataFrame,
        status: Mapping[str, str | None],
        free: FloatArray,
        min_level: int,
        names: Mapping[str, str],
    ) -> None:
        self.backlog, self.crew, self.people_names = backlog, crew, names
        n_people, n = len(crew), len(backlog)
        self.gids = backlog["gid"].astype(str).tolist()
        self.names = backlog["name"].astype(str).tolist()
        self.hours = backlog["remaining_h"].to_numpy(np.float64)
        self.value = backlog["priority"].map(priority_value).to_numpy(np.float64)
        self.assignee = backlog["assignee_gid"].tolist()
        self.reason: list[str | None] = [None] * n
        self.allowed = np.zeros((n_people, n), dtype=bool)
        self.edges: list[tuple[int, int]] = []  # (item, item it depends on)
        position = {g: b for b, g in enumerate(self.gids)}
        crew_gids = crew["gid"].astype(str).tolist()
        levels = [skill_levels(s) for s in crew["skills"]]
        self.locked = backlog["locked"].to_numpy(bool)
        self.priority: list[str | None] = backlog["priority"].tolist()
        depends_on = backlog["depends_on"].tolist()
        for b, skills in enumerate(backlog["required_skills"].tolist()):
            required = required_skills(skills)
            if math.isnan(self.hours[b]):
                self.reason[b] = NO_ESTIMATE
                continue
            if self.locked[b]:
                owner = self.assignee[b]
                if owner is None:
                    self.reason[b] = LOCKED_UNASSIGNED
                    continue
                if owner not in crew_gids:
                    self.reason[b] = f"locked to {names.get(owner, owner)}, who is not in the pool"
                    continue
                self.allowed[crew_gids.index(owner), b] = True
            else:
                for p in range(n_people):
                    self.allowed[p, b] = not skill_gaps(levels[p], required, min_level)
                if not self.allowed[:, b].any():
                    self.reason[b] = f"no one in the pool has {skills_phrase(required, min_level)}"
                    continue
            for dependency in dict.fromkeys(str(d) for d in depends_on[b]):
                if dependency in position:
                    self.edges.append((b, position[dependency]))
                elif status.get(dependency) is not None:
                    self.reason[b] = status[dependency]
                    break
                elif dependency not in status:
                    self.reason[b] = f"depends on {dependency}, which is not in the snapshot"
                    break
            if self.reason[b] is not None:
                self.allowed[:, b] = False
        self.hours = np.where(np.isnan(self.hours), np.nan, np.maximum(self.hours, 0.0))
        self.skilled_free = np.where(self.allowed, free[:, None], -np.inf).max(
            axis=0, initial=-np.inf
        )
        self.bonus = self._tie_breaks()

    def _tie_breaks(self) -> FloatArray:
        """``(P, B)`` extra objective per pair; their sum over any plan stays below 0.75."""
        n = len(self.gids)
        eps = 1.0 / (4.0 * (n + 1))  # per item: three terms of at most eps each
        due = self.backlog["due_on"].rank(method="min", na_option="bottom").to_numpy(np.float64)
        hours = np.nan_to_num(self.hours, nan=0.0)
        earlier = eps * (1.0 - (due - 1.0) / max(n, 1))
        smaller = eps * (1.0 - hours / (hours.max(initial=0.0) + 1.0))
        kept = np.equal.outer(
            self.crew["gid"].to_numpy(object), np.array(self.assignee, dtype=object)
        )
        bonus: FloatArray = (earlier + smaller)[None, :] + eps * kept
        return bonus


def _dependency_status(
    tasks: pd.DataFrame, backlog: pd.DataFrame, end: date
) -> dict[str, str | None]:
    """Per task the backlog depends on: None if it does not block, else why it does.

    Open backlog items are looked up before this (they may be planned alongside); gids missing
    here are not in the snapshot.
    """
    wanted = {str(d) for deps in backlog["depends_on"] for d in deps}
    known = pd.concat(
        [tasks.loc[tasks["gid"].isin(wanted)], backlog.loc[backlog["gid"].isin(wanted)]],
        ignore_index=True,
    ).drop_duplicates("gid", keep="last")
    status: dict[str, str | None] = {}
    deadline = pd.Timestamp(end)
    for gid, name, done, due in zip(
        known["gid"], known["name"], known["completed"], known["due_on"], strict=True
    ):
        if done or (not pd.isna(due) and due <= deadline):
            status[str(gid)] = None
        else:
            status[str(gid)] = (
                f"depends on {name}, which is not done and not due by {end:%a} {end.day} {end:%b}"
            )
    return status


def _solve(items: _Items, free: np.ndarray, time_limit_s: float) -> tuple[dict[int, int], bool]:
    """``{item: person}`` of the best plan found, and whether HiGHS proved it optimal."""
    person, item = np.nonzero(items.allowed & (items.hours[None, :] <= free[:, None] + EPS_H))
    if person.size == 0:
        return {}, True
    n_vars, n_items = person.size, len(items.gids)
    var = np.arange(n_vars)
    rows, cols, coef = [item], [var], [np.ones(n_vars)]  # each item at most once
    upper = [np.ones(n_items)]
    rows.append(n_items + person)  # each person's hours within their free capacity
    cols.append(var)
    coef.append(items.hours[item])
    upper.append(free)
    base = n_items + free.size
    for k, (b, a) in enumerate(items.edges):  # sum_p x[p, b] - sum_p x[p, a] <= 0
        for target, sign in ((b, 1.0), (a, -1.0)):
            on = np.flatnonzero(item == target)
            rows.append(np.full(on.size, base + k))
            cols.append(on)
            coef.append(np.full(on.size, sign))
    upper.append(np.zeros(len(items.edges)))
    bound = np.concatenate(upper)
    matrix = sparse.csr_matrix(
        (np.concatenate(coef), (np.concatenate(rows), np.concatenate(cols))),
        shape=(bound.size, n_vars),
    )
    result = milp(
        -(items.value[item] + items.bonus[person, item]),
        integrality=np.ones(n_vars),
        bounds=Bounds(0.0, 1.0),
        constraints=LinearConstraint(matrix, -np.inf, bound),
        # A zero gap: the tie-breaks are far smaller than HiGHS's default relative gap.
        options={"time_limit": time_limit_s, "mip_rel_gap": 0.0, "disp": False},
    )
    if result.x is None:
        return {}, False
    taken = np.flatnonzero(result.x > 0.5)
    return {int(item[v]): int(person[v]) for v in taken}, result.status == 0


def _plan(
    items: _Items,
    capacity: pd.DataFrame,
    chosen: dict[int, int],
    optimal: bool,
    window: _Window,
    forecast: Forecast | None,
    began: float,
) -> SprintPlan:
    crew = capacity["gid"].astype(str).tolist()
    planned_h = np.zeros(len(crew))
    planned = []
    for b, p in sorted(chosen.items(), key=lambda pair: (pair[1], pair[0])):
        planned_h[p] += items.hours[b]
        owner = items.assignee[b]
        planned.append(
            PlannedItem(
                task_gid=items.gids[b],
                name=items.names[b],
                person_gid=crew[p],
                hours=float(items.hours[b]),
                priority=items.priority[b],
                value=float(items.value[b]),
                reassigned=owner is not None and owner != crew[p],
            )
        )
    people = tuple(
        SprintCapacity(str(gid), str(name), float(cap), float(load), float(free), float(h))
        for gid, name, cap, load, free, h in zip(
            capacity["gid"],
            capacity["name"],
            capacity["capacity_h"],
            capacity["load_h"],
            capacity["free_h"],
            planned_h,
            strict=True,
        )
    )
    not_planned = tuple(
        NotPlanned(
            items.gids[b],
            items.names[b],
            None if math.isnan(items.hours[b]) else float(items.hours[b]),
            _reason(items, b, chosen, optimal),
        )
        for b in range(len(items.gids))
        if b not in chosen
    )
    return SprintPlan(
        sprint_start=window.start,
        sprint_end=window.end,
        planned=tuple(planned),
        people=people,
        not_planned=not_planned,
        total_value=float(sum(items.value[b] for b in chosen)),
        optimal=optimal,
        seconds=time.perf_counter() - began,
        load_source=COMMITTED if forecast is None else FORECAST,
    )


def _reason(items: _Items, b: int, chosen: dict[int, int], optimal: bool) -> str:
    """Why item ``b`` is not in the plan, in words."""
    fixed = items.reason[b]
    if fixed is not None:
        return fixed
    for item, dependency in items.edges:
        if item == b and dependency not in chosen:
            return f"depends on {items.names[dependency]}, which is not planned"
    free = float(items.skilled_free[b])
    if items.hours[b] > free + EPS_H:
        if items.locked[b]:
            owner = str(items.assignee[b])
            return (
                f"larger than {items.people_names.get(owner, owner)}'s free capacity ({free:.1f} h)"
            )
        return f"larger than any skilled person's free capacity ({free:.1f} h)"
    return CROWDED_OUT if optimal else STOPPED
