"""Rebalancer: moves that remove the most overload at the least disruption, each explained.

Owns ``rebalance`` (a solved assignment read back as moves with their weeks) and
``apply_moves``. Pure: returns a plan and changes nothing. The question is built by
:mod:`forecasting.rebalance_model` and solved by :func:`forecasting.assignment.solve_assignment`
(exact with HiGHS up to ``EXACT_SIZE_LIMIT`` usable (option, task) pairs, local search with a
time limit above); the plan's values are :mod:`forecasting.rebalance_plan`, its sentences
:mod:`forecasting.rebalance_reasons`. Must not import ``bot``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from forecasting.assignment import solve_assignment
from forecasting.assignment_instance import FloatArray, IntArray
from forecasting.forecast import Forecast, RiskBands
from forecasting.model import CapacityModel
from forecasting.rebalance_model import WORKING_DAYS_PER_WEEK, RebalanceModel, build_model, shifted
from forecasting.rebalance_plan import Move, MoveKind, RebalanceOptions, RebalancePlan, WeekChange
from forecasting.rebalance_reasons import (
    name_lookup,
    skill_match,
    why_no_jobs,
    why_remaining,
    with_reason,
)
from forecasting.spread import EPS_H


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
    name_of = names or name_lookup(people)
    before = _overload(built.mean, built.capacity)
    if built.jobs.empty:
        return _empty_plan(built, forecast, before, why_no_jobs(built))
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
        explanation=why_remaining(built, plan, after_load, options, name_of),
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
    match = skill_match(job["required_skills"], people, built.persons[receiver])
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
    return with_reason(move, name_of)


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
