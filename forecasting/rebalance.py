"""Rebalancer: moves that remove the most overload at the least disruption, each explained.

Pure: returns a plan and changes nothing. The question is built by
:mod:`forecasting.rebalance_model` and solved by :func:`forecasting.assignment.solve_assignment`
(exact with HiGHS up to ``EXACT_SIZE_LIMIT`` usable (option, task) pairs, local search with a
time limit above). Must not import ``bot``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from forecasting.assignment import EXACT_SIZE_LIMIT, solve_assignment
from forecasting.assignment_instance import FloatArray, IntArray
from forecasting.forecast import Forecast, RiskBands
from forecasting.model import CapacityModel
from forecasting.rebalance_model import (
    WORKING_DAYS_PER_WEEK,
    RebalanceModel,
    RebalanceWeights,
    build_model,
    shifted,
)
from forecasting.skills import TOP_LEVEL, required_skills, skill_levels
from forecasting.spread import EPS_H

__all__ = [
    "EXACT_SIZE_LIMIT",
    "Move",
    "RebalanceOptions",
    "RebalancePlan",
    "RebalanceWeights",
    "WeekChange",
    "apply_moves",
    "rebalance",
]

MoveKind = Literal["reassign", "shift"]


@dataclass(frozen=True)
class RebalanceOptions:
    """What the rebalancer may do.

    Attributes:
        pool: person gids who may give and receive work (the team, by the caller's choice).
        max_moves: at most this many tasks change (a reassignment or a date shift each).
        shift_weeks: due dates of tasks may move up to this many working weeks later (0: never).
        min_level: a receiver needs every required skill at this proficiency (1..5) or better.
        time_limit_s: wall-clock budget of the solver.
        seed: seed of the solver's local search (same input and seed, same plan).
        weights: prices of the objective.
    """

    pool: tuple[str, ...]
    max_moves: int | None = 10
    shift_weeks: int = 0
    min_level: int = 1
    time_limit_s: float = 10.0
    seed: int = 0
    weights: RebalanceWeights = field(default_factory=RebalanceWeights)

    def __post_init__(self) -> None:
        if self.max_moves is not None and self.max_moves < 0:
            raise ValueError(f"max_moves must be >= 0, got {self.max_moves}")
        if not 0 <= self.shift_weeks <= 8:
            raise ValueError(f"shift_weeks must be 0..8, got {self.shift_weeks}")
        if not 1 <= self.min_level <= TOP_LEVEL:
            raise ValueError(f"min_level must be 1..{TOP_LEVEL}, got {self.min_level}")


@dataclass(frozen=True)
class WeekChange:
    """One person-week before and after a plan (hours are expected load)."""

    week_start: date
    capacity_h: float
    before_h: float
    after_h: float
    p_over_before: float
    p_over_after: float | None  # from a forecast of the planned world, when one was made

    @property
    def before_pct(self) -> float | None:
        """Utilisation before, in percent; None at zero capacity."""
        return None if self.capacity_h <= 0 else 100.0 * self.before_h / self.capacity_h

    @property
    def after_pct(self) -> float | None:
        """Utilisation after, in percent; None at zero capacity."""
        return None if self.capacity_h <= 0 else 100.0 * self.after_h / self.capacity_h


@dataclass(frozen=True)
class Move:
    """One proposed change to one task, with its evidence.

    Attributes:
        kind: "reassign" (new assignee, same dates) or "shift" (same assignee, later dates).
        hours: expected hours the move takes out of the giver's horizon.
        shift_days: working days the dates move (0 for a reassignment).
        new_start_on, new_due_on: the task's dates after the move.
        skill_match: the receiver's level in each required skill, in words.
        giver_weeks, receiver_weeks: the affected weeks of both people (the same person for a
            shift), before and after the whole plan.
        reason: why, in one or two sentences with the numbers.
    """

    task_gid: str
    task_name: str
    project_gid: str | None
    url: str | None
    kind: MoveKind
    from_gid: str
    to_gid: str
    hours: float
    shift_days: int
    new_start_on: date | None
    new_due_on: date | None
    skill_match: str
    giver_weeks: tuple[WeekChange, ...]
    receiver_weeks: tuple[WeekChange, ...]
    reason: str


@dataclass(frozen=True)
class RebalancePlan:
    """The proposed moves and what they achieve.

    Attributes:
        moves: the moves, largest relief first.
        overload_before_h, overload_after_h: expected hours above capacity summed over the
            pool's person-weeks, today and with every move applied.
        optimal: whether the solver proved the plan optimal for the model.
        gap: relative distance to the solver's bound (0 when optimal), None when unknown.
        method: "milp", "heuristic", "milp+heuristic" or "columns" (see ``AssignmentResult``).
        seconds: solver wall-clock time.
        explanation: why overload remains (or why nothing is proposed), in sentences.
        notes: facts about the input (tasks left out and why).
        model_version: the forecast model behind the numbers, None in fallback.
    """

    moves: tuple[Move, ...]
    overload_before_h: float
    overload_after_h: float
    optimal: bool
    gap: float | None
    method: str
    seconds: float
    explanation: tuple[str, ...]
    notes: tuple[str, ...]
    model_version: str | None
    weeks: tuple[date, ...]

    @property
    def removed_h(self) -> float:
        """Expected overload hours the plan removes."""
        return max(self.overload_before_h - self.overload_after_h, 0.0)


def rebalance(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    forecast: Forecast,
    options: RebalanceOptions,
    *,
    today: date,
    model: CapacityModel | None = None,
    names: Callable[[str], str] | None = None,
    reforecast: Callable[[pd.DataFrame], Forecast] | None = None,
    bands: RiskBands | None = None,
) -> RebalancePlan:
    """Propose moves that relieve the pool's overloaded weeks (see :class:`RebalanceWeights`).

    Constraints: required skills at ``options.min_level``; locked and completed tasks never
    move; only pool members give or receive; at most ``options.max_moves`` moves; a shifted
    due date never passes the start of a task that depends on it; a receiver stays under
    capacity in every week the task touches, and nobody ends above today's load.

    Args:
        people, tasks, time_off: the frame contracts (the world the forecast was made for).
        forecast: the forecast of that world.
        options: pool, budget, shifts and prices.
        today: the reference date of the forecast.
        model: the fitted model, so hours moved to a person carry that person's estimation
            bias; None uses the remaining estimates as they are.
        names: display name of a person gid, for the reasons (default: the people frame).
        reforecast: forecasts a tasks frame in the same world; when given, P(over) after the
            plan is reported per affected week.
        bands: status cut-offs (who counts as at risk).

    Returns:
        The plan; with no moves, ``explanation`` says why.
    """
    built = build_model(
        people,
        tasks,
        time_off,
        forecast,
        today=today,
        pool=options.pool,
        weights=options.weights,
        max_moves=options.max_moves,
        shift_weeks=options.shift_weeks,
        min_level=options.min_level,
        model=model,
        bands=bands,
    )
    name_of = names or _names(people)
    before = _overload(built.mean, built.capacity)
    if built.jobs.empty:
        return _empty_plan(built, forecast, before, _why_no_jobs(built))
    result = solve_assignment(built.problem, time_limit_s=options.time_limit_s, seed=options.seed)
    if not result.feasible:  # today's plan is feasible, so only a solver failure gets here
        why = (f"The optimiser found no plan: {result.reason}.",)
        return _empty_plan(built, forecast, before, why)
    plan = np.asarray(result.assignment, dtype=np.int64)
    current = np.asarray(built.problem.current, dtype=np.int64)
    after_load = built.loads(plan)
    moved = np.flatnonzero(plan != current)
    after_forecast = None
    if reforecast is not None and moved.size:
        after_forecast = reforecast(apply_moves(tasks, _changes(built, plan, moved)))
    p_after = _p_over_after(built, after_forecast)
    moves = [
        _move(built, int(j), int(plan[j]), after_load, p_after, name_of, people) for j in moved
    ]
    moves.sort(key=lambda mv: (-mv.hours, mv.task_gid))
    after = _overload(after_load, built.capacity)
    return RebalancePlan(
        moves=tuple(moves),
        overload_before_h=before,
        overload_after_h=after,
        optimal=result.optimal,
        gap=result.gap,
        method=result.method,
        seconds=result.seconds,
        explanation=_why_remaining(built, plan, after_load, options, name_of),
        notes=built.notes,
        model_version=forecast.model_version,
        weeks=built.weeks,
    )


def apply_moves(tasks: pd.DataFrame, changes: Sequence[tuple[str, str, int]]) -> pd.DataFrame:
    """A copy of ``tasks`` with ``(task_gid, new assignee gid, shift in working weeks)`` applied."""
    out = tasks.copy()
    gids = out["gid"].astype(str)
    for gid, assignee, weeks in changes:
        rows = gids == gid
        out.loc[rows, "assignee_gid"] = assignee
        if weeks:
            for column in ("start_on", "due_on"):
                out.loc[rows, column] = shifted(out.loc[rows, column], weeks)
    return out


def _changes(built: RebalanceModel, plan: IntArray, moved: IntArray) -> list[tuple[str, str, int]]:
    return [
        (
            str(built.jobs["gid"].iloc[j]),
            built.persons[int(built.agent_person[plan[j]])],
            int(built.agent_shift[plan[j]]),
        )
        for j in moved
    ]


def _overload(load: FloatArray, capacity: FloatArray) -> float:
    return float(np.maximum(load - capacity, 0.0)[load - capacity > EPS_H].sum())


def _p_over_after(built: RebalanceModel, after: Forecast | None) -> FloatArray | None:
    if after is None:
        return None
    weekly = after.weekly.loc[after.weekly["person_gid"].isin(built.persons)]
    grid = np.full(built.mean.shape, np.nan)
    row = pd.Index(built.persons).get_indexer(pd.Index(weekly["person_gid"]))
    col = pd.Index(pd.to_datetime(list(built.weeks))).get_indexer(pd.Index(weekly["week_start"]))
    keep = (row >= 0) & (col >= 0)
    grid[row[keep], col[keep]] = weekly["p_over"].to_numpy(np.float64)[keep]
    return grid


def _move(
    built: RebalanceModel,
    j: int,
    option: int,
    after_load: FloatArray,
    p_after: FloatArray | None,
    name_of: Callable[[str], str],
    people: pd.DataFrame,
) -> Move:
    job = built.jobs.iloc[j]
    giver = int(job["holder"])
    receiver = int(built.agent_person[option])
    shift = int(built.agent_shift[option])
    current = giver * (int(built.agent_shift.max(initial=0)) + 1)
    was = built.hours[current, j]
    now = built.hours[option, j]
    touched = np.flatnonzero((was > EPS_H) | (now > EPS_H))
    giver_weeks = _weeks(built, giver, touched, after_load, p_after)
    receiver_weeks = _weeks(built, receiver, touched, after_load, p_after)
    start = shifted(pd.Series([job["start_on"]], dtype="datetime64[ns]"), shift).iloc[0]
    due = shifted(pd.Series([job["due_on"]], dtype="datetime64[ns]"), shift).iloc[0]
    kind: MoveKind = "shift" if shift else "reassign"
    match = _skill_match(job["required_skills"], people, built.persons[receiver])
    hours = float(was.sum() - (now.sum() if receiver == giver else 0.0))
    move = Move(
        task_gid=str(job["gid"]),
        task_name=str(job["name"]),
        project_gid=None if job["project_gid"] is None else str(job["project_gid"]),
        url=None if job["url"] is None else str(job["url"]),
        kind=kind,
        from_gid=built.persons[giver],
        to_gid=built.persons[receiver],
        hours=max(hours, 0.0),
        shift_days=WORKING_DAYS_PER_WEEK * shift,
        new_start_on=None if pd.isna(start) else pd.Timestamp(start).date(),
        new_due_on=None if pd.isna(due) else pd.Timestamp(due).date(),
        skill_match=match,
        giver_weeks=giver_weeks,
        receiver_weeks=receiver_weeks,
        reason="",
    )
    return _with_reason(move, name_of)


def _weeks(
    built: RebalanceModel,
    person: int,
    touched: IntArray,
    after_load: FloatArray,
    p_after: FloatArray | None,
) -> tuple[WeekChange, ...]:
    return tuple(
        WeekChange(
            week_start=built.weeks[k],
            capacity_h=float(built.capacity[person, k]),
            before_h=float(built.mean[person, k]),
            after_h=float(after_load[person, k]),
            p_over_before=float(built.p_over[person, k]),
            p_over_after=None
            if p_after is None or np.isnan(p_after[person, k])
            else float(p_after[person, k]),
        )
        for k in touched
    )


def _with_reason(move: Move, name_of: Callable[[str], str]) -> Move:
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


def _why_no_jobs(built: RebalanceModel) -> tuple[str, ...]:
    if not built.risky.any():
        weeks = len(built.weeks)
        return (f"Nobody in the pool is over capacity or at risk in the next {weeks} weeks.",)
    return ("Everyone at risk holds only tasks that cannot move.", *built.notes)


def _why_remaining(
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


def _empty_plan(
    built: RebalanceModel,
    forecast: Forecast,
    before: float,
    why: tuple[str, ...],
) -> RebalancePlan:
    return RebalancePlan(
        moves=(),
        overload_before_h=before,
        overload_after_h=before,
        optimal=True,
        gap=0.0,
        method="heuristic",
        seconds=0.0,
        explanation=why,
        notes=built.notes,
        model_version=forecast.model_version,
        weeks=built.weeks,
    )


def _skill_match(cell: object, people: pd.DataFrame, gid: str) -> str:
    required = required_skills(cell)
    if not required:
        return "no skill required"
    row = people.loc[people["gid"] == gid]
    levels = skill_levels(row["skills"].iloc[0]) if len(row) else {}
    return ", ".join(f"{s} {levels.get(s, 0)}/{TOP_LEVEL}" for s in required)


def _names(people: pd.DataFrame) -> Callable[[str], str]:
    table = dict(zip(people["gid"].astype(str), people["name"].astype(str), strict=True))
    return lambda gid: table.get(gid, gid)


def _pct(load: float, capacity: float) -> str:
    return f"{load:.0f} h (no capacity)" if capacity <= 0 else f"{100 * load / capacity:.0f} %"


def _day(day: date | None) -> str:
    return "no date" if day is None else f"{day:%a %-d %b}"
