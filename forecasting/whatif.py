"""What-if answers: the difference of two forecasts, and what the rebalancer proposes after.

Pure; the scenarios themselves are :mod:`forecasting.scenarios`. Must not import ``bot``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from forecasting.forecast import Forecast
from forecasting.model import CapacityModel
from forecasting.rebalance import rebalance
from forecasting.rebalance_plan import RebalanceOptions, RebalancePlan
from forecasting.scenarios import ScenarioError, Transform, World, apply_all

MIN_CHANGE_H = 1.0  # a person-week whose mean load moves this much (hours) is a change
_SEVERITY = {"over": 2, "at_risk": 1}  # any other status (ok, under, off, none) counts 0


@dataclass(frozen=True, eq=False)
class ScenarioDiff:
    """The what-if answer: how each person-week's forecast moves from before to after.

    Attributes:
        rows: one row per person-week in either forecast: ``person_gid, name, week_start,
            capacity_h_before, capacity_h_after, mean_h_before, mean_h_after, delta_h`` (hours;
            a missing side counts 0 in ``delta_h``), ``p_over_before, p_over_after,
            status_before, status_after`` (None and NaN where the forecast had no such row,
            e.g. before a new hire existed).
        changes: the rows whose status changed or whose mean moved by ``min_change_h`` or
            more, most severe first: worsening to at risk/over first (over before at risk),
            then by status after, then by the rise of ``p_over`` and of the mean.
        min_change_h: the hours threshold of ``changes``.
    """

    rows: pd.DataFrame
    changes: pd.DataFrame
    min_change_h: float

    @property
    def newly_over(self) -> list[tuple[str, date]]:
        """``(person_gid, week_start)`` over capacity after but not before, most severe first."""
        c = self.changes
        return _cells(c.loc[(c["status_after"] == "over") & (c["status_before"] != "over")])

    @property
    def relieved(self) -> list[tuple[str, date]]:
        """``(person_gid, week_start)`` over capacity before but not after."""
        c = self.changes
        return _cells(c.loc[(c["status_before"] == "over") & (c["status_after"] != "over")])

    @property
    def added_people(self) -> list[str]:
        """Gids of people in the after forecast only (new hires), in row order."""
        rows = self.rows
        before = set(rows.loc[rows["status_before"].notna(), "person_gid"])
        return list(dict.fromkeys(g for g in rows["person_gid"] if g not in before))

    def summary(self, *, limit: int = 3) -> str:
        """A short plain sentence or two: who goes over, who is relieved, how much changes."""
        if self.changes.empty:
            return f"No person-week changes status or moves by {self.min_change_h:g} h or more."
        names = dict(zip(self.rows["person_gid"], self.rows["name"], strict=True))
        parts = []
        for cells, verb in ((self.newly_over, "over capacity"), (self.relieved, "relieved")):
            if cells:
                listed = [f"{names[g]} (week of {_day(w)})" for g, w in cells[:limit]]
                more = len(cells) - limit
                listed += [f"{more} more"] if more > 0 else []
                parts.append(f"{verb.capitalize()}: {_and(listed)}.")
        if not parts:
            parts.append("Nobody goes over capacity or is relieved.")
        count = len(self.changes)
        parts.append(f"{count} person-week{_s(count)} change{'' if count != 1 else 's'} in all.")
        return " ".join(parts)


def compare(
    before: Forecast, after: Forecast, people: pd.DataFrame, *, min_change_h: float = MIN_CHANGE_H
) -> ScenarioDiff:
    """The difference of two forecasts, per person-week present in either.

    Args:
        before, after: forecasts of the world without and with the scenario.
        people: people of either world, for names (the after world's, so new hires are named).
        min_change_h: a person-week whose mean load moves by this many hours or more is a
            change even if its status stays.
    """
    if not min_change_h >= 0:
        raise ScenarioError(f"compare: min_change_h must not be negative (got {min_change_h})")
    keys = ["person_gid", "week_start"]
    columns = [*keys, "capacity_h", "mean_h", "p_over", "status"]
    rows = before.weekly[columns].merge(
        after.weekly[columns], on=keys, how="outer", suffixes=("_before", "_after"), sort=True
    )
    for side in ("before", "after"):
        status = rows[f"status_{side}"].astype(object)
        rows[f"status_{side}"] = status.where(status.notna(), None)
    named = dict(zip(people["gid"], people["name"], strict=True))
    rows.insert(1, "name", [named.get(g, g) for g in rows["person_gid"]])
    rows["delta_h"] = rows["mean_h_after"].fillna(0.0) - rows["mean_h_before"].fillna(0.0)
    rows = rows[
        [
            "person_gid",
            "name",
            "week_start",
            "capacity_h_before",
            "capacity_h_after",
            "mean_h_before",
            "mean_h_after",
            "delta_h",
            "p_over_before",
            "p_over_after",
            "status_before",
            "status_after",
        ]
    ]

    status_before = rows["status_before"].fillna("none")
    status_after = rows["status_after"].fillna("none")
    changed = (status_before != status_after) | (rows["delta_h"].abs() >= min_change_h)
    severity_before = status_before.map(lambda s: _SEVERITY.get(s, 0))
    severity_after = status_after.map(lambda s: _SEVERITY.get(s, 0))
    keyed = rows.assign(
        _worse=severity_after > severity_before,
        _severity=severity_after,
        _p_rise=rows["p_over_after"].fillna(0.0) - rows["p_over_before"].fillna(0.0),
    ).loc[changed]
    changes = keyed.sort_values(
        ["_worse", "_severity", "_p_rise", "delta_h", "person_gid", "week_start"],
        ascending=[False, False, False, False, True, True],
        kind="stable",
    )
    changes = changes.drop(columns=["_worse", "_severity", "_p_rise"]).reset_index(drop=True)
    return ScenarioDiff(rows=rows, changes=changes, min_change_h=min_change_h)


def _cells(rows: pd.DataFrame) -> list[tuple[str, date]]:
    return [
        (str(g), pd.Timestamp(w).date())
        for g, w in zip(rows["person_gid"], rows["week_start"], strict=True)
    ]


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass(frozen=True)
class WhatIfAnswer:
    """A scenario's effect: both forecasts, their difference and the plan for the new world.

    Attributes:
        scenario: each transform described in words, in the order applied.
        before, after: forecasts of the world without and with the scenario.
        diff: how each person-week changes.
        plan: what the rebalancer would propose in the new world, when it was asked.
        notes: facts the transforms recorded (e.g. a skill nobody has).
    """

    scenario: tuple[str, ...]
    before: Forecast
    after: Forecast
    diff: ScenarioDiff
    plan: RebalancePlan | None
    notes: tuple[str, ...]


def answer_what_if(
    world: World,
    transforms: Sequence[Transform],
    forecast: Callable[[World], Forecast],
    *,
    rebalance_options: RebalanceOptions | None = None,
    model: CapacityModel | None = None,
    min_change_h: float = MIN_CHANGE_H,
) -> WhatIfAnswer:
    """Forecast ``world`` with and without ``transforms`` and compare; optionally rebalance.

    Args:
        world: today's world.
        transforms: the scenario, applied in order.
        forecast: forecasts a world (the caller fixes horizon, model, draws and seed, so both
            sides are forecast alike).
        rebalance_options: when given, the rebalancer plans in the new world with this pool
            plus anyone the scenario hires.
        model: the fitted model, passed to the rebalancer.
        min_change_h: see :func:`compare`.

    Raises:
        ScenarioError: a transform does not fit the world (unknown person, bad dates, ...).
    """
    changed = apply_all(world, transforms)
    before, after = forecast(world), forecast(changed)
    diff = compare(before, after, changed.people, min_change_h=min_change_h)
    plan = None
    if rebalance_options is not None:
        hired = tuple(g for g in diff.added_people if g not in rebalance_options.pool)
        options = replace(rebalance_options, pool=rebalance_options.pool + hired)
        plan = rebalance(
            changed.people,
            changed.tasks,
            changed.time_off,
            after,
            options,
            today=changed.today,
            model=model,
            reforecast=lambda tasks: forecast(changed.replace(tasks=tasks)),
        )
    return WhatIfAnswer(
        scenario=tuple(t.describe(world) for t in transforms),
        before=before,
        after=after,
        diff=diff,
        plan=plan,
        notes=changed.notes,
    )
