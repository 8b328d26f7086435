"""The candidates of a suggestion: what taking the task means for each, their order and the why.

Owns ``WeekImpact``, ``Candidate``, the ranking key and the sentences that explain the first
choice; pure, must not import ``bot`` (nor ``forecasting.suggest``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from forecasting.spread import EPS_H


@dataclass(frozen=True)
class WeekImpact:
    """One week of a candidate's horizon with and without the task (hours).

    Attributes:
        week_start: the Monday.
        added_h: the task's committed hours that land in this week.
        capacity_h: the candidate's capacity this week.
        before_h, after_h: the forecast mean load without / with the task.
        p_over_before, p_over_after: P(load > threshold × capacity) without / with it.
    """

    week_start: date
    added_h: float
    capacity_h: float
    before_h: float
    after_h: float
    p_over_before: float
    p_over_after: float

    @property
    def utilisation_before(self) -> float | None:
        """Load before ÷ capacity; None at zero capacity."""
        return self.before_h / self.capacity_h if self.capacity_h > 0 else None

    @property
    def utilisation_after(self) -> float | None:
        """Load after ÷ capacity; None at zero capacity."""
        return self.after_h / self.capacity_h if self.capacity_h > 0 else None


@dataclass(frozen=True)
class Candidate:
    """A person who has every required skill, with what taking the task would mean for them.

    Attributes:
        person_gid, name: who.
        skill_score: mean level (1..5) of the required skills; 0 when none are required.
        finish_on: the earliest day their free capacity (capacity − committed, from
            ``max(today, start_on)``) covers the task's hours; None when not within the horizon.
        weeks: every week of the horizon.
        max_p_over_before, max_p_over_after: highest P(over) in the affected weeks (those with
            added hours; every week when the task adds none inside the horizon).
        peak_after: highest load ÷ capacity after, in the same weeks (inf at zero capacity).
        late: the earliest finish misses the task's due date (or is beyond the horizon).
    """

    person_gid: str
    name: str
    skill_score: float
    finish_on: date | None
    weeks: tuple[WeekImpact, ...]
    max_p_over_before: float
    max_p_over_after: float
    peak_after: float
    late: bool

    @property
    def affected(self) -> tuple[WeekImpact, ...]:
        """The weeks the task adds hours to."""
        return tuple(w for w in self.weeks if w.added_h > EPS_H)

    @property
    def added_h(self) -> float:
        """The task's hours inside the horizon."""
        return sum(w.added_h for w in self.weeks)


def candidate(
    gid: str,
    name: str,
    levels: Mapping[str, int],
    finish_on: date | None,
    due: date | None,
    required: Sequence[str],
    *,
    weeks: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> Candidate:
    """A candidate from the weekly frames (added committed, forecast before, forecast after)."""
    add, old, new = (f.loc[f["person_gid"] == gid].reset_index(drop=True) for f in weeks)
    impacts = tuple(
        WeekImpact(pd.Timestamp(start).date(), *map(float, values))
        for start, *values in zip(
            new["week_start"],
            add["committed_h"],
            new["capacity_h"],
            old["mean_h"],
            new["mean_h"],
            old["p_over"],
            new["p_over"],
            strict=True,
        )
    )
    considered = [w for w in impacts if w.added_h > EPS_H] or list(impacts)
    return Candidate(
        person_gid=gid,
        name=name,
        skill_score=float(np.mean([levels[s] for s in required])) if required else 0.0,
        finish_on=finish_on,
        weeks=impacts,
        max_p_over_before=max(w.p_over_before for w in considered),
        max_p_over_after=max(w.p_over_after for w in considered),
        peak_after=max(_utilisation(w) for w in considered),
        late=finish_on is None or (due is not None and finish_on > due),
    )


def _utilisation(week: WeekImpact) -> float:
    value = week.utilisation_after
    if value is None:
        return math.inf if week.after_h > EPS_H else 0.0
    return value


def rank_key(c: Candidate) -> tuple[float, bool, date, float, float, str]:
    """Sort key, best first: max P(over) after, finish (None last), skill, peak load, gid."""
    # Monte Carlo shares are k / draws; rounding keeps float noise from reordering equals.
    return (
        round(c.max_p_over_after, 9),
        c.finish_on is None,
        c.finish_on or date.max,
        -c.skill_score,
        round(c.peak_after, 9),
        c.person_gid,
    )


def explain_choice(ranked: list[Candidate], n_excluded: int, weeks: int) -> str:
    """One or two sentences on why ``ranked[0]`` comes first, in numbers."""
    first = ranked[0]
    if len(ranked) == 1:
        others = (
            f" ({n_excluded} other{'s' if n_excluded != 1 else ''} excluded)" if n_excluded else ""
        )
        return f"{_describe(first, weeks)}; nobody else in the pool qualifies{others}."
    second = ranked[1]
    return (
        f"{_describe(first, weeks)}, while {_describe(second, weeks)}; "
        f"{first.name} wins on {_deciding(first, second)}."
    )


def _describe(c: Candidate, weeks: int) -> str:
    when = (
        f"can finish by {_day(c.finish_on)}"
        if c.finish_on is not None
        else f"cannot finish within {weeks} week{'s' if weeks != 1 else ''}"
    )
    considered = c.affected or c.weeks
    peak = max(considered, key=_utilisation)
    week = f"week {peak.week_start.isocalendar().week}"
    util = peak.utilisation_after
    level = (
        f"{_pct(util)} in {week}"
        if util is not None
        else f"{peak.after_h:.0f} h with no capacity in {week}"
    )
    return f"{c.name} {when} and would be at {level} (P(over) {_pct(peak.p_over_after)})"


def _deciding(a: Candidate, b: Candidate) -> str:
    ka, kb = rank_key(a), rank_key(b)
    if ka[0] != kb[0]:
        return (
            f"a lower risk of going over ({_pct(a.max_p_over_after)} vs {_pct(b.max_p_over_after)})"
        )
    if ka[1:3] != kb[1:3]:
        return "an earlier finish"
    if ka[3] != kb[3]:
        return f"stronger skills (level {a.skill_score:.1f} vs {b.skill_score:.1f})"
    if ka[4] != kb[4]:
        return f"a lighter load ({_pct(a.peak_after)} vs {_pct(b.peak_after)} at the peak)"
    return "a tie, broken by gid"


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _pct(share: float) -> str:
    return "no capacity" if math.isinf(share) else f"{100 * share:.0f} %"
