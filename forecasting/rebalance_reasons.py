"""Why a rebalance plan is what it is, in sentences with the numbers: the reason of each move,
why nothing moves, and why overload remains after the plan.

Reads the built model and the plan; computes no move. Must not import ``bot``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from forecasting.assignment_instance import FloatArray, IntArray
from forecasting.rebalance_model import RebalanceModel
from forecasting.rebalance_plan import Move, RebalanceOptions
from forecasting.skills import TOP_LEVEL, required_skills, skill_levels
from forecasting.spread import EPS_H


def with_reason(move: Move, name_of: Callable[[str], str]) -> Move:
    """``move`` with its reason: the giver's worst week, and what the move does to both people."""
    giver = name_of(move.from_gid)
    worst = max(move.giver_weeks, key=lambda w: (w.before_h - w.capacity_h, w.p_over_before))
    first = (
        f"{giver} is at {_pct(worst.before_h, worst.capacity_h)} in the week of "
        f"{_day(worst.week_start)} (P(over) {worst.p_over_before:.0%})."
    )
    after = f"{giver} goes to {_pct(worst.after_h, worst.capacity_h)}"
    if move.kind == "shift":
        text = (
            f"{first} Moving '{move.task_name}' {move.shift_days} working days later "
            f"(due {_day(move.new_due_on)}) takes {move.hours:.1f} h out of the crowded weeks; "
            f"{after}."
        )
    else:
        receiver = name_of(move.to_gid)
        peak = max(move.receiver_weeks, key=lambda w: w.after_h - w.capacity_h)
        text = (
            f"{first} Giving '{move.task_name}' ({move.hours:.1f} h) to {receiver} "
            f"({move.skill_match}): {after}, {receiver} from "
            f"{_pct(peak.before_h, peak.capacity_h)} to {_pct(peak.after_h, peak.capacity_h)} "
            f"in the week of {_day(peak.week_start)}."
        )
    return Move(**{**move.__dict__, "reason": text})


def why_no_jobs(built: RebalanceModel) -> tuple[str, ...]:
    """Why the model has no task to move: nobody at risk, or nothing of theirs can move."""
    if not built.risky.any():
        weeks = len(built.weeks)
        return (f"Nobody in the pool is over capacity or at risk in the next {weeks} weeks.",)
    return ("Everyone at risk holds only tasks that cannot move.", *built.notes)


def why_remaining(
    built: RebalanceModel,
    plan: IntArray,
    after_load: FloatArray,
    options: RebalanceOptions,
    name_of: Callable[[str], str],
) -> tuple[str, ...]:
    """Sentences on the weeks still over capacity after the plan and why their tasks stay."""
    still = after_load > built.capacity + EPS_H
    if not still.any():
        return ()
    reasons: list[str] = []
    current = np.asarray(built.problem.current, dtype=np.int64)
    moves = int(np.count_nonzero(plan != current))
    if options.max_moves is not None and moves >= options.max_moves:
        reasons.append(
            f"The plan uses all {options.max_moves} moves allowed; more moves could relieve more."
        )
    forbidden = np.asarray(built.problem.forbidden, dtype=bool)
    limit = np.asarray(built.problem.limit, dtype=np.float64)
    room = limit + built.base - after_load  # hours each person-week can still take
    for person in np.flatnonzero(still.any(axis=1)):
        weeks = [built.weeks[k] for k in np.flatnonzero(still[person])]
        over_h = float((after_load[person] - built.capacity[person])[still[person]].sum())
        held = np.flatnonzero((built.jobs["holder"].to_numpy() == person) & (plan == current))
        blocked_skill, no_room = [], []
        for j in held:
            others = (built.agent_person != person) & ~forbidden[:, j]
            if not others.any():
                blocked_skill.append(j)
                continue
            needs = built.hours[others, j]
            fits = (needs <= room[built.agent_person[others]] + EPS_H).all(axis=1)
            if not fits.any():
                no_room.append(j)
        who = name_of(built.persons[person])
        text = f"{who} stays {over_h:.1f} h over capacity (weeks of {', '.join(map(_day, weeks))})"
        parts = []
        if blocked_skill:
            skills = sorted(
                {str(s) for j in blocked_skill for s in built.jobs["required_skills"].iloc[j]}
            )
            parts.append(
                f"{len(blocked_skill)} task(s) need skills nobody else in the pool has"
                + (f" ({', '.join(skills)})" if skills else "")
            )
        if no_room:
            parts.append(
                f"everyone who could take the other {len(no_room)} task(s) is full in those weeks"
            )
        if not held.size:
            parts.append("no task of theirs can move (locked or undated)")
        reasons.append(text + (": " + "; ".join(parts) if parts else ".") + ("." if parts else ""))
    return tuple(reasons)


def skill_match(cell: object, people: pd.DataFrame, gid: str) -> str:
    """The receiver ``gid``'s level in each skill a task requires, in words ("backend 4/5")."""
    required = required_skills(cell)
    if not required:
        return "no skill required"
    row = people.loc[people["gid"] == gid]
    levels = skill_levels(row["skills"].iloc[0]) if len(row) else {}
    return ", ".join(f"{s} {levels.get(s, 0)}/{TOP_LEVEL}" for s in required)


def name_lookup(people: pd.DataFrame) -> Callable[[str], str]:
    """Display name of a person gid from the people frame (the gid itself when unknown)."""
    table = dict(zip(people["gid"].astype(str), people["name"].astype(str), strict=True))
    return lambda gid: table.get(gid, gid)


def _pct(load: float, capacity: float) -> str:
    return f"{load:.0f} h (no capacity)" if capacity <= 0 else f"{100 * load / capacity:.0f} %"


def _day(day: date | None) -> str:
    return "no date" if day is None else f"{day:%a %-d %b}"
