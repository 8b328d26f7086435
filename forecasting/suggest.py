"""Who should take a task: skill match, earliest finish, load impact and P(over) per candidate.

Owns the suggestion: the pool and who in it qualifies, the task's hours, each candidate's
earliest finish and the forecasts without and with the task; the candidates' order and its
explanation are ``forecasting.suggest_ranking``. Pure: reads the frame contracts, runs the
committed load and the forecast, and returns a ranked :class:`Suggestion`; changes nothing.
Must not import ``bot``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from forecasting import frames
from forecasting.forecast import Forecast, forecast_load
from forecasting.model import CapacityModel
from forecasting.skills import required_skills, skill_gaps, skill_levels, skills_phrase
from forecasting.spread import EPS_H
from forecasting.suggest_ranking import Candidate, candidate, explain_choice, rank_key
from forecasting.workload import compute_workload

# Where the task's hours came from (Suggestion.hours_source).
GIVEN = "given"  # the caller's ``hours``
ESTIMATE = "estimate"  # the task's remaining_h
IMPUTED = "imputed"  # CapacityModel.corrected_effort of the unestimated task
MISSING = "missing"  # unestimated, no hours given and no model: nothing can be ranked


@dataclass(frozen=True)
class Excluded:
    """A person of the pool who is not ranked, and why (one sentence fragment)."""

    person_gid: str
    name: str
    reason: str


@dataclass(frozen=True)
class Suggestion:
    """Ranked assignees for one task.

    Attributes:
        task_gid, task_name: the task.
        hours: the hours planned for it, None when ``hours_source`` is ``MISSING``.
        hours_source: ``GIVEN``, ``ESTIMATE``, ``IMPUTED`` or ``MISSING``.
        ranked: candidates, best first (see :func:`suggest_assignees` for the order).
        excluded: people of the pool who are not ranked, with the reason.
        why: one or two sentences explaining the first choice in numbers, or why there is none.
        horizon_end: last day (a Sunday) of the horizon searched.
        forecast_note: the forecast's fallback reason (no model: P(over) is 0 or 1), or None.
    """

    task_gid: str
    task_name: str
    hours: float | None
    hours_source: str
    ranked: tuple[Candidate, ...]
    excluded: tuple[Excluded, ...]
    why: str
    horizon_end: date
    forecast_note: str | None

    @property
    def best(self) -> Candidate | None:
        """The first choice, or None when nobody qualifies."""
        return self.ranked[0] if self.ranked else None


def suggest_assignees(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    task: pd.DataFrame | pd.Series,
    *,
    today: date,
    hours: float | None = None,
    pool: Collection[str] | None = None,
    weeks: int = 4,
    model: CapacityModel | None = None,
    threshold: float = 1.0,
    min_level: int = 1,
    draws: int = 1000,
    seed: int = 0,
) -> Suggestion:
    """Rank who could take ``task`` (new, unassigned or to be reassigned). Read-only.

    Each person of the pool with every required skill at ``min_level`` or more is a candidate;
    the others are listed in ``excluded`` with the reason. For each candidate: the earliest
    finish (walking their free capacity, capacity − committed load of their other open tasks,
    day by day from ``max(today, start_on)``), the hours the task adds per week, and the
    forecast load and P(over) before and after (one :func:`forecast_load` over the candidates
    without the task and one with a copy of it assigned to each candidate, same seed, so both
    use the same random numbers). A task with a due date is spread as the committed load
    spreads it; one without is planned from its start to the candidate's earliest finish (the
    horizon's end when there is none).

    Order: lowest max P(over) after (affected weeks), earliest finish (None last), highest skill
    score, lowest peak load ÷ capacity after, then gid.

    Args:
        people, tasks, time_off: the frame contracts (``tasks`` may include ``task``; it is
            taken out of its current assignee's load).
        task: a one-row ``tasks`` frame or Series.
        today: the reference date.
        hours: the task's hours when given; else its ``remaining_h``; else the model's
            imputation; else nothing is ranked and ``why`` says so.
        pool: candidate gids; default the active people of the task's team (a ``team`` column
            on the task, else its assignee's team, else the team most of its project's
            assignees belong to), else every active person.
        weeks: weeks in the horizon (>= 1).
        model: a fitted :class:`CapacityModel`; without one P(over) is the arithmetic 0 or 1.
        threshold: over means load > ``threshold`` × capacity.
        min_level: lowest skill level (1..5) that counts.
        draws, seed: Monte Carlo settings of the forecast.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be >= 1 (got {weeks})")
    people = frames.validate("people", people)
    tasks = frames.validate("tasks", tasks)
    time_off = frames.validate("time_off", time_off)
    row = _one_task(task)
    gid, name = str(row["gid"]), str(row["name"])
    horizon_start = today - timedelta(days=today.weekday())
    horizon_end = horizon_start + timedelta(days=7 * weeks - 1)
    planned_h, source = _effort(row, hours, model)
    members, excluded = _members(people, tasks, row, pool)
    required = required_skills(row["required_skills"])
    qualified = []
    for person in members.itertuples(index=False):
        gaps = skill_gaps(skill_levels(person.skills), required, min_level)
        if gaps:
            excluded.append(Excluded(str(person.gid), str(person.name), "; ".join(gaps)))
        else:
            qualified.append(str(person.gid))

    def result(ranked: tuple[Candidate, ...], why: str, note: str | None = None) -> Suggestion:
        return Suggestion(
            task_gid=gid,
            task_name=name,
            hours=planned_h,
            hours_source=source,
            ranked=ranked,
            excluded=tuple(excluded),
            why=why,
            horizon_end=horizon_end,
            forecast_note=note,
        )

    if members.empty:
        return result((), "nobody is in the pool (no active people to choose from)")
    if not qualified:
        return result((), f"nobody in the pool has {skills_phrase(required, min_level)}")
    if planned_h is None:
        return result(
            (), f"'{name}' has no estimate: give its hours, or a fitted model to impute them"
        )

    chosen = members.loc[members["gid"].isin(qualified)].reset_index(drop=True)
    others = tasks.loc[tasks["gid"] != gid]
    theirs = others.loc[others["assignee_gid"].isin(qualified)].reset_index(drop=True)
    begin = max(today, _as_date(row["start_on"]) or today)
    finish = _earliest_finish(chosen, theirs, time_off, today, weeks, begin, planned_h)
    copies = _copies(row, chosen["gid"].tolist(), finish, begin, horizon_end, planned_h)
    added = compute_workload(chosen, copies, time_off, today=today, weeks=weeks).weekly
    # An imputed task is left unestimated in the forecast so that the model imputes and
    # bias-corrects it once, for each candidate; planned_h is already corrected.
    reimpute = source == IMPUTED and model is not None and model.fallback_ is None

    def forecast(work: pd.DataFrame) -> Forecast:
        return forecast_load(
            chosen,
            work,
            time_off,
            today=today,
            weeks=weeks,
            model=model,
            draws=draws,
            seed=seed,
            threshold=threshold,
        )

    before = forecast(theirs)
    after = forecast(pd.concat([theirs, copies.assign(remaining_h=np.nan) if reimpute else copies]))
    due = _as_date(row["due_on"])
    ranked = sorted(
        (
            candidate(
                str(person),
                str(label),
                levels,
                finish[str(person)],
                due,
                required,
                weeks=(added, before.weekly, after.weekly),
            )
            for person, label, levels in zip(
                chosen["gid"], chosen["name"], chosen["skills"].map(skill_levels), strict=True
            )
        ),
        key=rank_key,
    )
    return result(tuple(ranked), explain_choice(ranked, len(excluded), weeks), after.fallback)


def _one_task(task: pd.DataFrame | pd.Series) -> pd.Series:
    frame = task.to_frame().T if isinstance(task, pd.Series) else task
    if len(frame) != 1:
        raise ValueError(f"task must be one row, got {len(frame)}")
    return frames.validate("tasks", frame.reset_index(drop=True)).iloc[0]


def _as_date(value: object) -> date | None:
    """A validated date cell (a Timestamp or NaT) as a date, None when missing."""
    return value.date() if isinstance(value, pd.Timestamp) and not pd.isna(value) else None


def _effort(
    row: pd.Series, hours: float | None, model: CapacityModel | None
) -> tuple[float | None, str]:
    if hours is not None:
        if not math.isfinite(hours) or hours < 0:
            raise ValueError(f"hours must be a finite number >= 0 (got {hours})")
        return float(hours), GIVEN
    remaining = float(row["remaining_h"])
    if not math.isnan(remaining):
        return max(remaining, 0.0), ESTIMATE
    if model is None:
        return None, MISSING
    # Imputed as unassigned: the organisation's correction, not the current assignee's.
    alone = pd.DataFrame([row]).assign(completed=False, assignee_gid=None)
    return float(model.corrected_effort(alone)["expected_h"].iloc[0]), IMPUTED


def _members(
    people: pd.DataFrame, tasks: pd.DataFrame, row: pd.Series, pool: Collection[str] | None
) -> tuple[pd.DataFrame, list[Excluded]]:
    """The active people to consider and those of an explicit pool who cannot be."""
    active = people["is_active"].to_numpy(bool)
    if pool is None:
        team = _task_team(row, people, tasks)
        same = people["team"].eq(team).to_numpy(bool) if team is not None else True
        return people.loc[active & same].reset_index(drop=True), []
    wanted = list(dict.fromkeys(str(g) for g in pool))
    known = people.set_index("gid")
    excluded = []
    for gid in wanted:
        if gid not in known.index:
            excluded.append(Excluded(gid, gid, "not in people"))
        elif not bool(known.at[gid, "is_active"]):
            excluded.append(Excluded(gid, str(known.at[gid, "name"]), "inactive"))
    keep = people["gid"].isin(wanted).to_numpy(bool) & active
    return people.loc[keep].reset_index(drop=True), excluded


def _task_team(row: pd.Series, people: pd.DataFrame, tasks: pd.DataFrame) -> str | None:
    explicit = row.get("team")
    if isinstance(explicit, str) and explicit:
        return explicit
    team_of = people.set_index("gid")["team"]
    assignee = row["assignee_gid"]
    if assignee is not None and assignee in team_of.index and team_of[assignee] is not None:
        return str(team_of[assignee])
    if row["project_gid"] is None:
        return None
    siblings = tasks.loc[
        (tasks["project_gid"] == row["project_gid"]) & (tasks["gid"] != row["gid"])
    ]
    teams = siblings["assignee_gid"].map(team_of).dropna()
    if teams.empty:
        return None
    counts = teams.value_counts()
    return str(min(counts.index[counts == counts.max()]))  # ties: alphabetical, deterministic


def _earliest_finish(
    chosen: pd.DataFrame,
    theirs: pd.DataFrame,
    time_off: pd.DataFrame,
    today: date,
    weeks: int,
    begin: date,
    hours: float,
) -> dict[str, date | None]:
    """First day each candidate's cumulative free hours from ``begin`` cover ``hours``."""
    daily = compute_workload(chosen, theirs, time_off, today=today, weeks=weeks).daily
    n_days = 7 * weeks
    free = np.clip(
        (daily["capacity_h"] - daily["committed_h"]).to_numpy(np.float64), 0.0, None
    ).reshape(len(chosen), n_days)
    start = today - timedelta(days=today.weekday())
    first = (begin - start).days
    out: dict[str, date | None] = {}
    for i, person in enumerate(chosen["gid"]):
        cumulative = np.cumsum(free[i, first:]) if first < n_days else np.zeros(0)
        done = np.flatnonzero(cumulative >= hours - EPS_H)
        out[str(person)] = begin + timedelta(days=int(done[0])) if done.size else None
    return out


def _copies(
    row: pd.Series,
    gids: list[str],
    finish: Mapping[str, date | None],
    begin: date,
    horizon_end: date,
    hours: float,
) -> pd.DataFrame:
    """The task assigned to each candidate, with a window when it has no due date."""
    copies = pd.DataFrame([row] * len(gids)).reset_index(drop=True)
    copies["gid"] = [f"{row['gid']}@{g}" for g in gids]
    copies["assignee_gid"] = gids
    copies["remaining_h"] = hours
    copies["completed"] = False
    if pd.isna(row["due_on"]):
        copies["start_on"] = pd.Timestamp(begin)
        copies["due_on"] = [pd.Timestamp(finish[g] or max(horizon_end, begin)) for g in gids]
    return frames.validate("tasks", copies)
