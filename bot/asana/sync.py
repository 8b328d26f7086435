"""Full snapshot of the Asana data the planner needs, read with few calls and no per-task calls.

Reads teams and their members, the projects in scope (with who can see them), the workspace's
custom fields, every open task plus recently completed history per project, and out-of-office
entries per person; returns a ``Snapshot`` in the frame contracts of ``forecasting.frames``.
Owns ``SyncScope``, ``full_sync`` and the reads; the records become frames in
``bot.asana.sync_frames``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from bot.asana.client import AsanaGateway, Record
from bot.asana.sync_frames import (
    effort_field,
    named_field,
    people_frame,
    task_projects,
    tasks_frame,
)
from bot.domain import PUBLIC, Snapshot
from bot.errors import AsanaAuthError, AsanaError, AsanaNotFound, LookupFailed
from bot.roster import RosterEntry
from forecasting import frames

log = logging.getLogger(__name__)

TASK_FIELDS = (
    "name",
    "resource_subtype",
    "assignee",
    "start_on",
    "due_on",
    "due_at",
    "completed",
    "completed_at",
    "created_at",
    "modified_at",
    "actual_time_minutes",
    "dependencies",
    "memberships.project.name",
    "memberships.section.name",
    "custom_fields.number_value",
    "custom_fields.enum_value.name",
    "custom_fields.multi_enum_values.name",
    "permalink_url",
)
FIELD_FIELDS = ("name", "resource_subtype", "format", "asana_created_field")
# Who can see a project comes with the project listing the sync already makes (no extra call):
# its user members and its privacy setting, plus its team for "private_to_team".
PROJECT_FIELDS = ("name", "team", "privacy_setting", "members")


@dataclass(frozen=True)
class SyncScope:
    """What to read: the workspace, and the teams/projects/fields the settings name."""

    workspace_gid: str
    teams: tuple[str, ...] = ()  # names or gids; empty = all teams
    projects: tuple[str, ...] = ()  # gids; empty = portfolio, else the teams' projects
    portfolio_gid: str = ""
    effort_field: str = ""  # gid or name; empty = the "duration" field
    effort_unit: str = "hours"  # for a plain number effort field
    skills_field: str = "Skills"
    history_days: int = 365
    default_capacity_h: float = 40.0
    default_country: str = ""
    default_timezone: str = "UTC"


def full_sync(
    gateway: AsanaGateway,
    scope: SyncScope,
    *,
    today: date,
    now: datetime,
    roster: Mapping[str, RosterEntry] | None = None,
) -> Snapshot:
    """Read everything in ``scope`` and return a validated snapshot.

    Raises:
        AsanaError: Asana could not answer (auth, network, rate limit).
        LookupFailed: a configured team or project does not exist.
    """
    roster = roster or {}
    calls_before = gateway.api_calls
    warnings: list[str] = []
    ws = scope.workspace_gid
    teams = _teams(gateway, scope)
    members: dict[str, Record] = {}
    team_of: dict[str, str] = {}
    team_users: dict[str, set[str]] = {}
    for team in teams:
        for user in gateway.list(
            gateway.users.get_users, fields=("name", "email"), workspace=ws, team=team["gid"]
        ):
            members.setdefault(user["gid"], user)
            team_of.setdefault(user["gid"], team["name"])
            team_users.setdefault(team["gid"], set()).add(user["gid"])
    project_records = _projects(gateway, scope, teams)
    projects = {gid: str(p["name"]) for gid, p in project_records.items()}
    fields = gateway.list(
        gateway.custom_fields.get_custom_fields_for_workspace, ws, fields=FIELD_FIELDS
    )
    effort = effort_field(fields, scope, warnings)
    skills = named_field(fields, scope.skills_field)
    since = (now - timedelta(days=scope.history_days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    raw_tasks: dict[str, Record] = {}
    for project_gid in projects:
        for task in gateway.iterate(
            gateway.tasks.get_tasks_for_project,
            project_gid,
            fields=TASK_FIELDS,
            completed_since=since,
        ):
            raw_tasks.setdefault(task["gid"], task)
    time_off_rows = _time_off(gateway, ws, members, today, warnings)
    shared_members = _shared_members(gateway, project_records, team_users, warnings)
    tasks = tasks_frame(raw_tasks.values(), set(projects), effort, skills)
    people = people_frame(members, team_of, roster, tasks, scope)
    snapshot = Snapshot(
        workspace_gid=ws,
        synced_at=now,
        today=today,
        people=frames.validate("people", people),
        tasks=frames.validate("tasks", tasks),
        time_off=frames.validate(
            "time_off", pd.DataFrame(time_off_rows, columns=[c.name for c in frames.TIME_OFF])
        ),
        teams=tuple(t["name"] for t in teams),
        projects=projects,
        effort_field=effort,
        skills_field=skills,
        api_calls=gateway.api_calls - calls_before,
        warnings=tuple(warnings),
        project_members={
            gid: frozenset(m["gid"] for m in p.get("members") or [])
            for gid, p in project_records.items()
        },
        # Asana returns privacy_setting whenever it is asked for; if it ever does not, the
        # project counts as private (members only) rather than open to everyone.
        project_privacy={
            gid: str(p.get("privacy_setting") or "private") for gid, p in project_records.items()
        },
        project_team_members={
            gid: frozenset(team_users[team_gid])
            for gid, p in project_records.items()
            if (team_gid := (p.get("team") or {}).get("gid")) in team_users
        },
        project_shared_members=shared_members,
        task_projects=task_projects(raw_tasks.values(), set(projects)),
    )
    log.info(
        "asana sync: %d people, %d teams, %d projects, %d tasks, %d time-off entries, %d API calls",
        len(snapshot.people),
        len(teams),
        len(projects),
        len(snapshot.tasks),
        len(snapshot.time_off),
        snapshot.api_calls,
    )
    return snapshot


def _teams(gateway: AsanaGateway, scope: SyncScope) -> list[Record]:
    teams = gateway.list(
        gateway.teams.get_teams_for_workspace, scope.workspace_gid, fields=("name",)
    )
    if not scope.teams:
        return teams
    wanted = {t.lower() for t in scope.teams}
    chosen = [t for t in teams if t["gid"] in wanted or t["name"].lower() in wanted]
    found = {t["gid"] for t in chosen} | {t["name"].lower() for t in chosen}
    missing = sorted(w for w in wanted if w not in found)
    if missing:
        raise LookupFailed(
            f"ASANA_TEAMS names unknown team(s): {', '.join(missing)}",
            choices=sorted(t["name"] for t in teams),
        )
    return chosen


def _projects(gateway: AsanaGateway, scope: SyncScope, teams: list[Record]) -> dict[str, Record]:
    if scope.projects:
        out = {}
        for gid in scope.projects:
            try:
                out[gid] = gateway.get(gateway.projects.get_project, gid, fields=PROJECT_FIELDS)
            except AsanaNotFound:
                raise LookupFailed(
                    f"ASANA_PROJECTS names project {gid}, which does not exist "
                    "or is not visible to the token"
                ) from None
        return out
    if scope.portfolio_gid:
        items = gateway.list(
            gateway.portfolios.get_items_for_portfolio, scope.portfolio_gid, fields=PROJECT_FIELDS
        )
        return {p["gid"]: p for p in items if p.get("resource_type") == "project"}
    out = {}
    for team in teams:
        for project in gateway.list(
            gateway.projects.get_projects_for_team,
            team["gid"],
            fields=PROJECT_FIELDS,
            archived=False,
        ):
            out[project["gid"]] = project
    return out


def _shared_members(
    gateway: AsanaGateway,
    projects: Mapping[str, Record],
    team_users: Mapping[str, set[str]],
    warnings: list[str],
) -> dict[str, frozenset[str]]:
    """Members of the synced teams each non-public project is shared with (team memberships).

    The project listing names user members only; a project shared with a team is read from
    ``GET /memberships?parent=<project>``, one call per project that is not public (a public
    one is open to everyone anyway). Teams outside the sync add no one: their members are not
    known, so such a project stays hidden from them rather than shown to too many. A token
    that may not read memberships gets a warning and no team sharing (hidden, never shown).
    """
    shared: dict[str, frozenset[str]] = {}
    for gid, project in projects.items():
        if project.get("privacy_setting") == PUBLIC:
            continue
        try:
            memberships = gateway.list(gateway.memberships.get_memberships, parent=gid)
        except (AsanaAuthError, AsanaNotFound) as exc:
            warnings.append(
                f"project memberships unavailable ({exc.status}); projects shared with a team "
                "are shown to their user members only"
            )
            return {}
        users = {
            user
            for membership in memberships
            if (membership.get("member") or {}).get("resource_type") == "team"
            for user in team_users.get(membership["member"]["gid"], ())
        }
        if users:
            shared[gid] = frozenset(users)
    return shared


def _time_off(
    gateway: AsanaGateway,
    ws: str,
    members: Mapping[str, Record],
    today: date,
    warnings: list[str],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    start = (today - timedelta(days=31)).isoformat()
    for gid in members:
        try:
            entries = gateway.list(
                gateway.ooo.get_ooo_entries,
                gid,
                ws,
                fields=("start_date", "end_date"),
                start_date=start,
            )
        except (AsanaAuthError, AsanaNotFound) as exc:
            # Out-of-office needs the ooo_entries:read scope; plan without it rather than fail.
            warnings.append(
                f"out-of-office entries unavailable ({exc.status}); time off is not subtracted"
            )
            return []
        except AsanaError as exc:
            if exc.status == 402:
                warnings.append("out-of-office entries need a paid Asana plan; skipped")
                return []
            raise
        rows.extend(
            {
                "person_gid": gid,
                "start_on": e["start_date"],
                "end_on": e["end_date"],
                "hours_per_day": None,
            }
            for e in entries
        )
    return rows
