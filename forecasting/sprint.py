"""Sprint planning: which backlog items go to whom, by a MILP over free capacity, skills and order.

Owns the plan (its types, ``plan_sprint``, why an item is left out); free capacity is
``forecasting.sprint_capacity``, the item arrays and the MILP ``forecasting.sprint_backlog``.
Pure: reads the frame contracts and returns a :class:`SprintPlan`; changes nothing; must not
import ``bot``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from forecasting import frames
from forecasting.forecast import Forecast
from forecasting.spread import EPS_H
from forecasting.sprint_backlog import Items, dependency_status, solve
from forecasting.sprint_capacity import Window, crew_of, free_capacity

# Reasons an item is not planned, known after the solve.
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
        priority: its priority label; ``value`` what that is worth
            (:data:`forecasting.sprint_backlog.PRIORITY_VALUES`).
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
    status = dependency_status(tasks, backlog, sprint_end)
    backlog = backlog.loc[~backlog["completed"].to_numpy(bool)]
    backlog = backlog.drop_duplicates("gid").reset_index(drop=True)
    crew = crew_of(people, pool)
    window = Window(sprint_start, sprint_end, today)
    capacity = free_capacity(crew, tasks, time_off, backlog, window, forecast, focus)
    free = capacity["free_h"].to_numpy(np.float64)
    names = dict(zip(people["gid"].astype(str), people["name"].astype(str), strict=True))
    items = Items(crew, backlog, status, free, min_level, names)
    chosen, optimal = solve(items, free, time_limit_s)
    return _plan(items, capacity, chosen, optimal, window, forecast, began)


def _plan(
    items: Items,
    capacity: pd.DataFrame,
    chosen: dict[int, int],
    optimal: bool,
    window: Window,
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


def _reason(items: Items, b: int, chosen: dict[int, int], optimal: bool) -> str:
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
