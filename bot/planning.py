"""Planning use cases: rebalance a team, what-if scenarios, assignee suggestions, sprints.

Each takes the deps, reads the cached snapshot and model, and returns the pure plans of
``forecasting`` with what is needed to show them. Nothing here writes to Asana.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from bot.bootstrap import Deps
from bot.clock import today_in
from bot.domain import Snapshot, Viewer
from bot.errors import BadRequest, LookupFailed
from bot.scenario_terms import ScenarioTerms, parse_terms
from bot.services import MODEL_WAIT_S, resolve_task, resolve_team, visible_tasks
from forecasting import scenarios
from forecasting.forecast import Forecast, forecast_load
from forecasting.model import CapacityModel
from forecasting.rebalance import rebalance
from forecasting.rebalance_plan import RebalanceOptions, RebalancePlan
from forecasting.sprint import SprintPlan, plan_sprint
from forecasting.suggest import Suggestion, suggest_assignees
from forecasting.whatif import WhatIfAnswer, answer_what_if

MAX_WEEKS = 12  # the forecast's longest horizon


@dataclass(frozen=True)
class World:
    """The snapshot a plan is made on, with the forecasting settings of this deployment."""

    snapshot: Snapshot
    today: date
    weeks: int
    model: CapacityModel | None
    model_note: str
    forecast_with: Callable[..., Forecast]

    def forecast(
        self,
        tasks: pd.DataFrame | None = None,
        *,
        people: pd.DataFrame | None = None,
        time_off: pd.DataFrame | None = None,
    ) -> Forecast:
        """Forecast the snapshot, or a changed copy of part of it."""
        return self.forecast_with(
            self.snapshot.people if people is None else people,
            self.snapshot.tasks if tasks is None else tasks,
            self.snapshot.time_off if time_off is None else time_off,
        )

    def names(self, gid: str) -> str:
        """Display name of a person gid (the gid itself when unknown)."""
        people = self.snapshot.people
        match = people.loc[people["gid"] == gid, "name"]
        return str(match.iloc[0]) if len(match) else gid


@dataclass(frozen=True)
class TeamPlan:
    """A rebalancing plan for a team, and the evidence behind it."""

    team: str
    plan: RebalancePlan
    world: World
    snapshot_hash: str
    forecast: Forecast


def load_world(deps: Deps, *, weeks: int | None = None, wait_for_model: bool = True) -> World:
    """The current snapshot, today's date and the model, ready to forecast."""
    settings = deps.settings
    snapshot = deps.snapshots.get()
    today = today_in(deps.clock, settings.timezone)
    fitted = deps.models.get(snapshot, today, wait_s=None if wait_for_model else MODEL_WAIT_S)
    horizon = weeks or settings.forecast_weeks
    seed = int(snapshot.content_hash()[:8], 16)  # same snapshot, same numbers

    def forecast_with(
        people: pd.DataFrame, tasks: pd.DataFrame, time_off: pd.DataFrame
    ) -> Forecast:
        return forecast_load(
            people,
            tasks,
            time_off,
            today=today,
            weeks=horizon,
            model=fitted.model,
            draws=settings.forecast_draws,
            seed=seed,
            threshold=settings.over_threshold,
            lead_days=settings.lead_days,
        )

    return World(snapshot, today, horizon, fitted.model, fitted.note, forecast_with)


def team_pool(snapshot: Snapshot, team: str) -> tuple[str, ...]:
    """Gids of the active people of ``team`` (a canonical team name)."""
    people = snapshot.people
    members = people.loc[(people["team"] == team) & people["is_active"].to_numpy(bool), "gid"]
    if members.empty:
        raise LookupFailed(f"team {team!r} has no active people")
    return tuple(str(g) for g in members)


def propose_rebalance(
    deps: Deps,
    *,
    team: str,
    weeks: int | None = None,
    max_moves: int | None = None,
    shift_weeks: int = 0,
    wait_for_model: bool = True,
    viewer: Viewer | None = None,
) -> TeamPlan:
    """Moves that relieve ``team``'s overloaded weeks (read-only: nothing is written).

    A proposal names the tasks it moves, so with a ``viewer`` who is not an admin only tasks
    they can see in Asana (:func:`bot.services.visible_tasks`) may move; the others stay where
    they are but still count in everyone's load. None: any task may move.

    Raises:
        LookupFailed: no team of that name.
    """
    world = load_world(deps, weeks=weeks, wait_for_model=wait_for_model)
    name = resolve_team(world.snapshot, team)
    snapshot = world.snapshot
    tasks = snapshot.tasks
    if viewer is not None and not viewer.is_admin:
        tasks = tasks.assign(locked=tasks["locked"] | ~visible_tasks(snapshot, viewer))
    options = RebalanceOptions(
        pool=team_pool(snapshot, name),
        max_moves=max_moves if max_moves is not None else deps.settings.max_moves,
        shift_weeks=shift_weeks,
        time_limit_s=deps.settings.solver_time_limit_s,
    )
    forecast = world.forecast()
    plan = rebalance(
        snapshot.people,
        tasks,
        snapshot.time_off,
        forecast,
        options,
        today=world.today,
        model=world.model,
        names=world.names,
        reforecast=lambda tasks: world.forecast(tasks),
    )
    return TeamPlan(name, plan, world, snapshot.content_hash(), forecast)


@dataclass(frozen=True)
class TeamWhatIf:
    """A what-if answer for a team, and the evidence behind it."""

    team: str
    answer: WhatIfAnswer
    world: World
    snapshot_hash: str


def run_what_if(
    deps: Deps,
    *,
    team: str,
    terms: ScenarioTerms,
    weeks: int | None = None,
    rebalance_after: bool = True,
    wait_for_model: bool = True,
) -> TeamWhatIf:
    """Forecast ``team`` with and without the scenario; propose moves for the new world.

    Raises:
        LookupFailed: an unknown team, person, project or task.
        BadRequest: no scenario was given, or a term cannot be read or does not fit.
    """
    if not terms:
        raise BadRequest(
            "what-if without a scenario",
            user_message="Say what changes: someone out, a new project, a shift, a hire…",
        )
    world = load_world(deps, weeks=weeks, wait_for_model=wait_for_model)
    name = resolve_team(world.snapshot, team)
    snapshot = world.snapshot
    transforms = parse_terms(snapshot, terms, team=name)
    today = scenarios.World.from_frames(
        snapshot.people, snapshot.tasks, snapshot.time_off, today=world.today
    )
    options = None
    if rebalance_after:
        options = RebalanceOptions(
            pool=team_pool(snapshot, name),
            max_moves=deps.settings.max_moves,
            time_limit_s=deps.settings.solver_time_limit_s,
        )
    try:
        answer = answer_what_if(
            today,
            transforms,
            lambda w: world.forecast(w.tasks, people=w.people, time_off=w.time_off),
            rebalance_options=options,
            model=world.model,
        )
    except scenarios.ScenarioError as exc:
        raise BadRequest(str(exc), user_message=f"That scenario does not fit: {exc}") from exc
    return TeamWhatIf(name, answer, world, snapshot.content_hash())


def suggest_assignee(
    deps: Deps,
    *,
    task: str,
    hours: float | None = None,
    team: str | None = None,
    weeks: int | None = None,
    wait_for_model: bool = True,
) -> tuple[Suggestion, World]:
    """Ranked candidates for ``task`` (a gid or exact name), best first, with the reason.

    Raises:
        LookupFailed: an unknown task or team.
    """
    world = load_world(deps, weeks=weeks, wait_for_model=wait_for_model)
    snapshot = world.snapshot
    row = snapshot.tasks.loc[snapshot.tasks["gid"] == resolve_task(snapshot, task)]
    pool = team_pool(snapshot, resolve_team(snapshot, team)) if team else None
    settings = deps.settings
    suggestion = suggest_assignees(
        snapshot.people,
        snapshot.tasks,
        snapshot.time_off,
        row,
        today=world.today,
        hours=hours,
        pool=pool,
        weeks=world.weeks,
        model=world.model,
        threshold=settings.over_threshold,
        draws=settings.forecast_draws,
        seed=int(snapshot.content_hash()[:8], 16),
    )
    return suggestion, world


def plan_team_sprint(
    deps: Deps,
    *,
    team: str,
    backlog: str,
    start: date,
    end: date,
    section: str | None = None,
    focus: float = 1.0,
    wait_for_model: bool = True,
) -> tuple[SprintPlan, World]:
    """Which backlog items fit the team's forecast free capacity between ``start`` and ``end``.

    Raises:
        LookupFailed: an unknown team, project or section.
        BadRequest: the dates are reversed, in the past, or beyond the forecast horizon.
    """
    if end < start:
        raise BadRequest(
            f"sprint ends {end} before it starts {start}",
            user_message="The sprint must end on or after its first day.",
        )
    today = today_in(deps.clock, deps.settings.timezone)
    if end < today:
        raise BadRequest(f"sprint ended {end}", user_message="That sprint is already over.")
    monday = today - timedelta(days=today.weekday())
    weeks = (end - monday).days // 7 + 1
    if weeks > MAX_WEEKS:
        raise BadRequest(
            f"sprint end {end} is {weeks} weeks ahead",
            user_message=f"I can plan sprints ending within {MAX_WEEKS} weeks.",
        )
    world = load_world(deps, weeks=weeks, wait_for_model=wait_for_model)
    snapshot = world.snapshot
    name = resolve_team(snapshot, team)
    items = backlog_tasks(snapshot, backlog, section=section)
    plan = plan_sprint(
        snapshot.people,
        snapshot.tasks,
        snapshot.time_off,
        items,
        sprint_start=max(start, world.today),
        sprint_end=end,
        today=world.today,
        pool=team_pool(snapshot, name),
        forecast=world.forecast(),
        focus=focus,
        time_limit_s=deps.settings.solver_time_limit_s,
    )
    return plan, world


def backlog_tasks(snapshot: Snapshot, backlog: str, *, section: str | None = None) -> pd.DataFrame:
    """Open tasks of the project ``backlog`` names (gid or name), optionally one section."""
    wanted = backlog.strip().lower()
    gids = [g for g, n in snapshot.projects.items() if wanted in (str(g), str(n).lower())]
    if len(gids) != 1:
        raise LookupFailed(
            f"unknown project {backlog!r}", choices=sorted(snapshot.projects.values())
        )
    tasks = snapshot.tasks
    items = tasks.loc[(tasks["project_gid"] == gids[0]) & ~tasks["completed"].to_numpy(bool)]
    if section is not None:
        sections = items["section"].fillna("")
        items = items.loc[sections.str.lower() == section.strip().lower()]
        if items.empty:
            known = sorted({str(s) for s in sections if s})
            raise LookupFailed(f"no open tasks in section {section!r}", choices=known)
    return items
