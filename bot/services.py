"""Use cases: each a function taking the deps it needs, returning domain values (no Slack).

The Slack listeners and the CLI both call these, so a question gets the same answer anywhere.
"""

from __future__ import annotations

import difflib
import logging
from datetime import date

import pandas as pd

from bot.bootstrap import Deps
from bot.clock import today_in
from bot.domain import (
    PUBLIC,
    TEAM_VISIBLE,
    PersonRow,
    QualityNote,
    Snapshot,
    TopTask,
    Viewer,
    WeekCell,
    WorkloadReport,
)
from bot.errors import LookupFailed
from bot.forecasts import FittedModel
from forecasting.forecast import Forecast, forecast_load
from forecasting.spread import UNKNOWN_ASSIGNEE, DataQuality

log = logging.getLogger(__name__)
ASANA_PROJECT_URL = "https://app.asana.com/0/{gid}/list"
MODEL_WAIT_S = 20.0


def sync_now(deps: Deps) -> Snapshot:
    """Re-read Asana now, whatever the age of the cached snapshot."""
    return deps.snapshots.get(force=True)


def prepare_model(deps: Deps, *, wait: bool) -> FittedModel:
    """Sync if needed and start (or wait for) the forecast model on that history."""
    snapshot = deps.snapshots.get()
    today = today_in(deps.clock, deps.settings.timezone)
    return deps.models.get(snapshot, today, wait_s=None if wait else 0.0)


def list_teams(deps: Deps) -> list[str]:
    """Names of the teams in scope that have at least one person."""
    people = deps.snapshots.get().people
    return sorted(str(t) for t in people["team"].dropna().unique())


def get_team_workload(
    deps: Deps,
    *,
    team: str,
    weeks: int | None = None,
    wait_for_model: bool = False,
    viewer: Viewer | None = None,
) -> WorkloadReport:
    """Forecast load of every active person in ``team`` over the next ``weeks`` weeks.

    With a ``viewer`` who is not an admin, tasks of projects they cannot see in Asana are left
    out (:func:`visible_projects`) and counted in ``hidden_tasks``; None shows everything.

    Raises:
        LookupFailed: no team of that name (``choices`` lists the known teams).
    """
    snapshot = deps.snapshots.get()
    name = resolve_team(snapshot, team)
    members = snapshot.people[snapshot.people["team"] == name]
    return _report(
        deps,
        snapshot,
        members,
        title=name,
        team=name,
        weeks=weeks,
        wait=wait_for_model,
        viewer=viewer,
    )


def get_person_workload(
    deps: Deps,
    *,
    person: str,
    weeks: int | None = None,
    wait_for_model: bool = False,
    viewer: Viewer | None = None,
) -> WorkloadReport:
    """Forecast load of one person, named by email, name or Asana gid.

    ``viewer`` hides tasks of projects they cannot see, as in :func:`get_team_workload`.

    Raises:
        LookupFailed: nobody matches (``choices`` holds the closest names).
    """
    snapshot = deps.snapshots.get()
    row = resolve_person(snapshot, person)
    members = snapshot.people[snapshot.people["gid"] == row["gid"]]
    return _report(
        deps,
        snapshot,
        members,
        title=str(row["name"]),
        team=row["team"],
        weeks=weeks,
        wait=wait_for_model,
        viewer=viewer,
    )


def viewer_of(deps: Deps, *, email: str | None, is_admin: bool) -> Viewer:
    """The viewer with this email: their Asana user is the person in scope with that email
    (None when there is none: they then see public projects only; admins need none)."""
    user_gid = None
    if email and not is_admin:
        people = deps.snapshots.get().people
        match = people.loc[people["email"].fillna("").str.lower() == email.lower(), "gid"]
        user_gid = str(match.iloc[0]) if len(match) else None
    return Viewer(user_gid=user_gid, is_admin=is_admin)


def visible_projects(snapshot: Snapshot, viewer: Viewer) -> frozenset[str]:
    """The projects in scope that ``viewer`` can see in Asana.

    The rule: an admin sees every project. Anyone else sees a project when its
    ``privacy_setting`` is ``public_to_workspace``; or they are one of its members; or it is
    ``private_to_team`` and they are a member of its team; or it is shared (a team
    membership) with a synced team they are a member of. A viewer with no Asana user sees
    public projects only. Teams outside the sync are unknown, so a project shared only with
    one of them is hidden from its members rather than shown to too many.
    """
    if viewer.is_admin:
        return frozenset(snapshot.projects)
    user = viewer.user_gid
    seen = set()
    for gid in snapshot.projects:
        privacy = snapshot.project_privacy.get(gid, "private")
        if (
            privacy == PUBLIC
            or (user is not None and user in snapshot.project_members.get(gid, ()))
            or (user is not None and user in snapshot.project_shared_members.get(gid, ()))
            or (
                privacy == TEAM_VISIBLE
                and user is not None
                and user in snapshot.project_team_members.get(gid, ())
            )
        ):
            seen.add(gid)
    return frozenset(seen)


def visible_tasks(snapshot: Snapshot, viewer: Viewer) -> pd.Series:
    """Which of ``snapshot.tasks`` ``viewer`` can see: those in at least one project they can
    see, and those assigned to them (Asana shows a task to its assignee wherever it lives)."""
    projects = visible_projects(snapshot, viewer)
    tasks = snapshot.tasks
    seen = [
        (viewer.user_gid is not None and assignee == viewer.user_gid)
        or not projects.isdisjoint(
            snapshot.task_projects.get(gid) or ({home} if isinstance(home, str) else ())
        )
        for gid, home, assignee in zip(
            tasks["gid"], tasks["project_gid"], tasks["assignee_gid"], strict=True
        )
    ]
    return pd.Series(seen, index=tasks.index, dtype=bool)


def team_of_email(deps: Deps, email: str | None) -> str | None:
    """The team of the person with ``email``, or None when they are not in scope."""
    if not email:
        return None
    people = deps.snapshots.get().people
    match = people[people["email"].fillna("").str.lower() == email.lower()]
    if match.empty or match.iloc[0]["team"] is None:
        return None
    return str(match.iloc[0]["team"])


def resolve_team(snapshot: Snapshot, query: str) -> str:
    """The canonical name of the team ``query`` names (case-insensitive, gid or name)."""
    teams = sorted({str(t) for t in snapshot.people["team"].dropna()})
    wanted = query.strip().lower()
    for team in teams:
        if team.lower() == wanted:
            return team
    starts = [t for t in teams if t.lower().startswith(wanted)] if wanted else []
    if len(starts) == 1:
        return starts[0]
    raise LookupFailed(f"unknown team {query!r}", choices=teams)


def resolve_person(snapshot: Snapshot, query: str) -> pd.Series:
    """The ``people`` row that ``query`` names: email, gid, full name or a unique name part."""
    people = snapshot.people
    wanted = query.strip().lower().lstrip("@")
    emails = people["email"].fillna("").str.lower()
    names = people["name"].str.lower()
    for candidates in (
        people[emails == wanted],
        people[people["gid"] == wanted],
        people[names == wanted],
        people[emails.str.split("@").str[0] == wanted],
        people[names.str.replace(" ", ".") == wanted],
        people[names.str.contains(wanted, regex=False)] if wanted else people.iloc[0:0],
    ):
        if len(candidates) == 1:
            return candidates.iloc[0]
    close = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.5)
    choices = [str(people[names == c].iloc[0]["name"]) for c in close]
    raise LookupFailed(f"unknown person {query!r}", choices=choices)


def resolve_task(snapshot: Snapshot, query: str) -> str:
    """The gid of the task ``query`` names: its gid, or its exact name (case-insensitive)."""
    tasks = snapshot.tasks
    wanted = query.strip()
    if (tasks["gid"] == wanted).any():
        return wanted
    match = tasks.loc[tasks["name"].str.lower() == wanted.lower(), "gid"]
    if len(match) == 1:
        return str(match.iloc[0])
    close = difflib.get_close_matches(wanted, list(tasks["name"]), n=3, cutoff=0.6)
    raise LookupFailed(f"unknown task {query!r}", choices=close)


def _report(
    deps: Deps,
    snapshot: Snapshot,
    members: pd.DataFrame,
    *,
    title: str,
    team: str | None,
    weeks: int | None,
    wait: bool,
    viewer: Viewer | None,
) -> WorkloadReport:
    settings = deps.settings
    weeks = weeks or settings.forecast_weeks
    today = today_in(deps.clock, settings.timezone)
    gids = set(members["gid"])
    tasks = snapshot.tasks
    hidden = 0
    if viewer is not None and not viewer.is_admin:
        seen = visible_tasks(snapshot, viewer)
        hidden_open = ~seen & ~tasks["completed"].astype(bool) & tasks["assignee_gid"].isin(gids)
        hidden = int(hidden_open.sum())
        tasks = tasks[seen]
    # Slack answers never wait long behind a fit (the ack went out, but people are waiting).
    # One model per snapshot, whoever asks: it holds what history taught (biases, slip, other
    # work), not tasks; a viewer's forecast leaves out exactly the tasks they cannot see.
    fitted = deps.models.get(snapshot, today, wait_s=None if wait else MODEL_WAIT_S)
    forecast = forecast_load(
        snapshot.people,
        tasks,
        snapshot.time_off,
        today=today,
        weeks=weeks,
        model=fitted.model,
        draws=settings.forecast_draws,
        seed=int(snapshot.content_hash()[:8], 16),  # same snapshot, same numbers
        threshold=settings.over_threshold,
        lead_days=settings.lead_days,
    )
    rows = tuple(_person_row(p, forecast, tasks) for _, p in members.iterrows())
    plural = "s" if weeks != 1 else ""
    return WorkloadReport(
        title=f"Capacity · {title} · next {weeks} week{plural}",
        team=team,
        week_starts=_week_starts(forecast),
        rows=rows,
        quality=_quality(forecast.quality, tasks, gids),
        synced_at=snapshot.synced_at,
        snapshot_hash=snapshot.content_hash(),
        project_links=_project_links(snapshot, tasks, gids),
        model_version=forecast.model_version,
        model_note=fitted.note,
        threshold=forecast.threshold,
        hidden_tasks=hidden,
    )


def _week_starts(forecast: Forecast) -> tuple[date, ...]:
    starts = pd.to_datetime(forecast.weekly["week_start"]).drop_duplicates().sort_values()
    return tuple(d.date() for d in starts)


def _person_row(person: pd.Series, forecast: Forecast, tasks: pd.DataFrame) -> PersonRow:
    gid = person["gid"]
    weekly = forecast.weekly[forecast.weekly["person_gid"] == gid].sort_values("week_start")
    probabilistic = forecast.fallback is None
    cells = tuple(
        WeekCell(
            week_start=pd.Timestamp(w["week_start"]).date(),
            capacity_h=float(w["capacity_h"]),
            committed_h=float(w["committed_h"]),
            utilisation=float(w["mean_h"]) / float(w["capacity_h"])
            if w["capacity_h"] > 0
            else None,
            status=str(w["status"]),
            overdue_h=float(w["overdue_h"]),
            mean_h=float(w["mean_h"]) if probabilistic else None,
            p10_h=float(w["p10_h"]) if probabilistic else None,
            p90_h=float(w["p90_h"]) if probabilistic else None,
            p_over=float(w["p_over"]) if probabilistic else None,
            imputed_h=float(w["imputed_h"]),
        )
        for _, w in weekly.iterrows()
    )
    drivers = forecast.drivers[forecast.drivers["person_gid"] == gid]
    totals = (
        drivers.groupby("task_gid")
        .agg(hours=("hours", "sum"), imputed=("imputed", "any"))
        .sort_values("hours", ascending=False)
        .head(3)
    )
    by_gid = tasks.set_index("gid")
    top = tuple(
        TopTask(
            gid=str(task_gid),
            name=str(by_gid.at[task_gid, "name"]),
            hours=float(row["hours"]),
            url=_optional_str(by_gid.at[task_gid, "url"]),
            imputed=bool(row["imputed"]),
        )
        for task_gid, row in totals.iterrows()
    )
    return PersonRow(
        gid=str(gid), name=str(person["name"]), email=person["email"], weeks=cells, top_tasks=top
    )


def _quality(q: DataQuality, tasks: pd.DataFrame, gids: set[str]) -> QualityNote:
    """Gaps among the open tasks assigned to these people (unassigned: across the scope)."""
    mine = set(tasks.loc[tasks["assignee_gid"].isin(gids), "gid"])
    invalid = [gid for gid, reason in q.invalid if gid in mine and reason != UNKNOWN_ASSIGNEE]
    outside = [gid for gid, reason in q.invalid if reason == UNKNOWN_ASSIGNEE]
    return QualityNote(
        unestimated=sum(1 for g in q.unestimated if g in mine),
        undated=sum(1 for g in q.undated if g in mine),
        unassigned=len(q.unassigned),
        overdue=sum(1 for g in q.overdue if g in mine),
        invalid=len(set(invalid)),
        outside_scope=len(set(outside)),
    )


def _project_links(
    snapshot: Snapshot, tasks: pd.DataFrame, gids: set[str]
) -> tuple[tuple[str, str], ...]:
    open_mine = tasks[~tasks["completed"] & tasks["assignee_gid"].isin(gids)]
    counts = open_mine["project_gid"].dropna().value_counts()
    return tuple(
        (snapshot.projects.get(str(gid), str(gid)), ASANA_PROJECT_URL.format(gid=gid))
        for gid in counts.index[:6]
    )


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
