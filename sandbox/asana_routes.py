"""What each sandbox endpoint does: the route table and one handler per Asana operation.

Handlers read and write `SandboxState` and return references; HTTP concerns (auth, paging,
rendering, errors on the wire) belong to `sandbox.asana_server`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from sandbox import asana_writes
from sandbox.asana_fields import Ref
from sandbox.asana_model import AsanaError
from sandbox.asana_state import SandboxState

# Query parameters that name a resource: a forbidden gid there is refused like one in the path.
GID_QUERY_PARAMS = frozenset(
    {"workspace", "team", "project", "section", "assignee", "user", "owner", "organization"}
)


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it: resolved path gids, query values and body `data`."""

    params: dict[str, str]
    query: dict[str, str]
    data: dict[str, Any]


Handler = Callable[[SandboxState, Call], "Ref | list[Ref]"]


@dataclass(frozen=True)
class Route:
    """An Asana operation the sandbox serves."""

    method: str
    template: str  # "/tasks/{task}": each {name} is the kind of record the segment names
    shape: str  # the shape of the records returned (what `opt_fields` is checked against)
    handler: Handler
    listing: bool = False
    status: int = 200

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters if this route serves `method path`, else None."""
        if method != self.method:
            return None
        found = _pattern(self.template).fullmatch(path)
        # Clients percent-encode segments: an email as a user id arrives as ada%40example.com.
        return {k: unquote(v) for k, v in found.groupdict().items()} if found else None


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template))


def _one(kind: str) -> Handler:
    def handler(state: SandboxState, call: Call) -> Ref:
        return Ref(kind, call.params[kind])

    return handler


def _refs(kind: str, gids: Iterable[str]) -> list[Ref]:
    return [Ref(kind, gid) for gid in gids]


def _by_gid(gids: Iterable[str]) -> list[str]:
    """Numeric gids in numeric order ("Results are sorted by user ID")."""
    return sorted(gids, key=lambda gid: (len(gid), gid))


def _by_name(state: SandboxState, user_gids: Iterable[str]) -> list[str]:
    return sorted(user_gids, key=lambda gid: (state.users[gid].name.lower(), gid))


def _query_user(state: SandboxState, call: Call, key: str) -> str | None:
    if key not in call.query:
        return None
    try:
        return state.user_gid(call.query[key])
    except ValueError as error:
        raise AsanaError(400, f"{key}: Not a recognized ID: {call.query[key]}") from error


def _query_gid(state: SandboxState, call: Call, key: str, table: dict[str, Any]) -> str | None:
    value = call.query.get(key)
    if value is not None and value not in table:
        raise AsanaError(400, f"{key}: Not a recognized ID: {value}")
    return value


def _required(call: Call, key: str) -> str:
    if key not in call.query:
        raise AsanaError(400, f"{key}: Missing input")
    return call.query[key]


def _workspace_filter(state: SandboxState, call: Call, key: str = "workspace") -> None:
    if key in call.query and call.query[key] != state.workspace_gid:
        raise AsanaError(400, f"{key}: Not a recognized ID: {call.query[key]}")


def _archived(call: Call) -> bool | None:
    value = call.query.get("archived")
    if value is None:
        return None
    if value not in ("true", "false"):
        raise AsanaError(400, f"archived: Not a boolean: {value}")
    return value == "true"


def _since(state: SandboxState, call: Call, key: str) -> datetime | None:
    value = call.query.get(key)
    if value is None:
        return None
    if value == "now":
        return state.now()
    return asana_writes.parse_datetime(key, value)


def _at_or_after(stamp: str | None, since: datetime) -> bool:
    return stamp is not None and asana_writes.parse_datetime("", stamp) >= since


# ---- users, teams, workspaces ---------------------------------------------------------


def _list_workspaces(state: SandboxState, call: Call) -> list[Ref]:
    return [Ref("workspace", state.workspace_gid)]


def _list_users(state: SandboxState, call: Call) -> list[Ref]:
    _workspace_filter(state, call)
    team = _query_gid(state, call, "team", state.teams)
    users = state.teams[team].members if team else state.users
    return _refs("user", _by_gid(users))


def _workspace_users(state: SandboxState, call: Call) -> list[Ref]:
    return _refs("user", _by_name(state, state.users))


def _team_users(state: SandboxState, call: Call) -> list[Ref]:
    return _refs("user", _by_name(state, state.teams[call.params["team"]].members))


def _workspace_teams(state: SandboxState, call: Call) -> list[Ref]:
    return _refs("team", state.teams)


def _user_teams(state: SandboxState, call: Call) -> list[Ref]:
    _required(call, "organization")
    _workspace_filter(state, call, "organization")
    user = call.params["user"]
    return _refs("team", (t.gid for t in state.teams.values() if user in t.members))


# ---- projects, portfolios, custom fields ----------------------------------------------


def _projects(state: SandboxState, call: Call, team: str | None) -> list[Ref]:
    archived = _archived(call)
    return _refs(
        "project",
        (
            p.gid
            for p in state.projects.values()
            if (team is None or p.team == team) and archived in (None, p.archived)
        ),
    )


def _list_projects(state: SandboxState, call: Call) -> list[Ref]:
    _workspace_filter(state, call)
    return _projects(state, call, _query_gid(state, call, "team", state.teams))


def _team_projects(state: SandboxState, call: Call) -> list[Ref]:
    return _projects(state, call, call.params["team"])


def _workspace_projects(state: SandboxState, call: Call) -> list[Ref]:
    return _projects(state, call, None)


def _list_memberships(state: SandboxState, call: Call) -> list[Ref]:
    """Project memberships by ``parent`` (a project), optionally of one ``member``; or, with
    no parent, every project membership of a team ``member`` (``resource_subtype`` required)."""
    parent = _query_gid(state, call, "parent", state.projects)
    member = call.query.get("member")
    if parent is None:
        if call.query.get("resource_subtype") != "project_membership" or member is None:
            raise AsanaError(
                400, "parent: Missing input (or member and resource_subtype=project_membership)"
            )
        if member not in state.teams:
            raise AsanaError(400, f"member: without parent, must be a team: {member}")
    return _refs(
        "project_membership",
        (
            gid
            for gid, (project, _, who) in state.project_memberships.items()
            if parent in (None, project) and member in (None, who)
        ),
    )


def _list_portfolios(state: SandboxState, call: Call) -> list[Ref]:
    _required(call, "workspace")
    _workspace_filter(state, call)
    # "If the request is made from a regular API user (PAT or OAuth), then only portfolios
    # owned by the current API user are returned."
    owner = _query_user(state, call, "owner") or state.me_gid
    return _refs("portfolio", (p.gid for p in state.portfolios.values() if p.owner == owner))


def _portfolio_items(state: SandboxState, call: Call) -> list[Ref]:
    return _refs("project", state.portfolios[call.params["portfolio"]].items)


def _project_settings(state: SandboxState, call: Call) -> list[Ref]:
    return _refs("custom_field_setting", state.projects[call.params["project"]].settings)


def _workspace_fields(state: SandboxState, call: Call) -> list[Ref]:
    return _refs("custom_field", state.fields)


def _create_field(state: SandboxState, call: Call) -> Ref:
    return Ref("custom_field", asana_writes.create_custom_field(state, call.data))


def _add_setting(state: SandboxState, call: Call) -> Ref:
    project = call.params["project"]
    gid = asana_writes.add_custom_field_setting(state, project, call.data)
    return Ref("custom_field_setting", gid)


# ---- tasks, stories, time, out of office -----------------------------------------------


def _open_or_recent(state: SandboxState, call: Call, gids: Iterable[str]) -> list[Ref]:
    completed_since = _since(state, call, "completed_since")
    modified_since = _since(state, call, "modified_since")
    kept = []
    for gid in gids:
        task = state.tasks[gid]
        # completed_since: open tasks, plus those completed at or after the given time.
        if (
            completed_since is not None
            and task.completed
            and not _at_or_after(task.completed_at, completed_since)
        ):
            continue
        if modified_since is not None and not _at_or_after(task.modified_at, modified_since):
            continue
        kept.append(gid)
    return _refs("task", kept)


def _project_tasks(state: SandboxState, call: Call) -> list[Ref]:
    return _open_or_recent(state, call, state.projects[call.params["project"]].tasks)


def _list_tasks(state: SandboxState, call: Call) -> list[Ref]:
    project = _query_gid(state, call, "project", state.projects)
    section = _query_gid(state, call, "section", state.sections)
    assignee = _query_user(state, call, "assignee")
    if project is not None:
        gids: Iterable[str] = state.projects[project].tasks
    elif section is not None:
        gids = (t.gid for t in state.tasks.values() if any(s == section for _, s in t.memberships))
    elif assignee is not None and "workspace" in call.query:
        _workspace_filter(state, call)
        gids = (t.gid for t in state.tasks.values() if t.assignee == assignee)
    else:
        raise AsanaError(
            400,
            "Must specify exactly one of project, tag, section, user task list, or "
            "assignee + workspace",
        )
    return _open_or_recent(state, call, gids)


def _update_task(state: SandboxState, call: Call) -> Ref:
    asana_writes.update_task(state, call.params["task"], call.data)
    return Ref("task", call.params["task"])


def _create_task(state: SandboxState, call: Call) -> Ref:
    return Ref("task", asana_writes.create_task(state, call.data))


def _task_dependencies(state: SandboxState, call: Call) -> list[Ref]:
    return _refs("task", state.tasks[call.params["task"]].dependencies)


def _task_stories(state: SandboxState, call: Call) -> list[Ref]:
    return _refs("story", state.task_stories.get(call.params["task"], []))


def _create_story(state: SandboxState, call: Call) -> Ref:
    return Ref("story", asana_writes.create_story(state, call.params["task"], call.data))


def _list_ooo(state: SandboxState, call: Call) -> list[Ref]:
    _required(call, "workspace")
    _workspace_filter(state, call)
    if "user" not in call.query:
        raise AsanaError(400, "user: Missing input")
    user = _query_user(state, call, "user")
    start = asana_writes.parse_date("start_date", call.query.get("start_date", "0001-01-01"))
    end = asana_writes.parse_date("end_date", call.query.get("end_date", "9999-12-31"))
    return _refs(
        "ooo_entry",
        (
            gid
            for gid, entry in state.ooo.items()
            if entry["user"] == user and entry["start_date"] <= end and entry["end_date"] >= start
        ),
    )


def _create_ooo(state: SandboxState, call: Call) -> Ref:
    return Ref("ooo_entry", asana_writes.create_ooo(state, call.data))


def _task_time_entries(state: SandboxState, call: Call) -> list[Ref]:
    task = call.params["task"]
    return _refs(
        "time_tracking_entry",
        (gid for gid, entry in state.time_entries.items() if entry["task"] == task),
    )


def _create_time_entry(state: SandboxState, call: Call) -> Ref:
    gid = asana_writes.create_time_entry(state, call.params["task"], call.data)
    return Ref("time_tracking_entry", gid)


ROUTES: tuple[Route, ...] = (
    Route("GET", "/workspaces", "workspace", _list_workspaces, listing=True),
    Route("GET", "/workspaces/{workspace}", "workspace", _one("workspace")),
    Route("GET", "/users", "user", _list_users, listing=True),
    Route("GET", "/users/{user}", "user", _one("user")),
    Route("GET", "/workspaces/{workspace}/users", "user", _workspace_users, listing=True),
    Route("GET", "/teams/{team}/users", "user", _team_users, listing=True),
    Route("GET", "/workspaces/{workspace}/teams", "team", _workspace_teams, listing=True),
    Route("GET", "/teams/{team}", "team", _one("team")),
    Route("GET", "/users/{user}/teams", "team", _user_teams, listing=True),
    Route("GET", "/projects", "project", _list_projects, listing=True),
    Route("GET", "/teams/{team}/projects", "project", _team_projects, listing=True),
    Route("GET", "/workspaces/{workspace}/projects", "project", _workspace_projects, listing=True),
    Route("GET", "/projects/{project}", "project", _one("project")),
    Route("GET", "/memberships", "project_membership", _list_memberships, listing=True),
    Route("GET", "/portfolios", "portfolio", _list_portfolios, listing=True),
    Route("GET", "/portfolios/{portfolio}/items", "project", _portfolio_items, listing=True),
    Route(
        "GET",
        "/projects/{project}/custom_field_settings",
        "custom_field_setting",
        _project_settings,
        listing=True,
    ),
    Route(
        "GET",
        "/workspaces/{workspace}/custom_fields",
        "custom_field",
        _workspace_fields,
        listing=True,
    ),
    Route("GET", "/custom_fields/{custom_field}", "custom_field", _one("custom_field")),
    Route("POST", "/custom_fields", "custom_field", _create_field, status=201),
    Route(
        "POST", "/projects/{project}/addCustomFieldSetting", "custom_field_setting", _add_setting
    ),
    Route("GET", "/projects/{project}/tasks", "task", _project_tasks, listing=True),
    Route("GET", "/tasks", "task", _list_tasks, listing=True),
    Route("GET", "/tasks/{task}", "task", _one("task")),
    Route("PUT", "/tasks/{task}", "task", _update_task),
    Route("POST", "/tasks", "task", _create_task, status=201),
    Route("GET", "/tasks/{task}/dependencies", "task", _task_dependencies, listing=True),
    Route("GET", "/tasks/{task}/stories", "story", _task_stories, listing=True),
    Route("POST", "/tasks/{task}/stories", "story", _create_story, status=201),
    Route("GET", "/ooo_entries", "ooo_entry", _list_ooo, listing=True),
    Route("POST", "/ooo_entries", "ooo_entry", _create_ooo, status=201),
    Route(
        "GET",
        "/tasks/{task}/time_tracking_entries",
        "time_tracking_entry",
        _task_time_entries,
        listing=True,
    ),
    Route(
        "POST",
        "/tasks/{task}/time_tracking_entries",
        "time_tracking_entry",
        _create_time_entry,
        status=201,
    ),
)


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving `method path` (path relative to /api/1.0) and its path parameters."""
    for route in ROUTES:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None
