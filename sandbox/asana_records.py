"""Stored sandbox records rendered as Asana JSON records, references left as `Ref` for projection.

Reads `SandboxState` tables; never mutates them.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sandbox.asana_fields import Embedded, Ref
from sandbox.asana_model import Task

if TYPE_CHECKING:
    from sandbox.asana_state import SandboxState


def record(state: SandboxState, ref: Ref) -> dict[str, Any]:
    """The stored record behind a reference, with every field the sandbox can return."""
    builder: Callable[[SandboxState, str], dict[str, Any]] = _BUILDERS[ref.kind]
    return builder(state, ref.gid)


def _workspace(state: SandboxState, gid: str) -> dict[str, Any]:
    return {
        "gid": gid,
        "resource_type": "workspace",
        "name": state.workspace_name,
        "email_domains": [],
        "is_organization": True,
    }


def _user(state: SandboxState, gid: str) -> dict[str, Any]:
    user = state.users[gid]
    return {
        "gid": gid,
        "resource_type": "user",
        "name": user.name,
        "email": user.email,
        "photo": None,
        "workspaces": [Ref("workspace", state.workspace_gid)],
    }


def _team(state: SandboxState, gid: str) -> dict[str, Any]:
    return {
        "gid": gid,
        "resource_type": "team",
        "name": state.teams[gid].name,
        "description": "",
        "html_description": "<body></body>",
        "organization": Ref("workspace", state.workspace_gid),
        "permalink_url": f"https://app.asana.com/0/{gid}/list",
        "visibility": "secret",
    }


def _project(state: SandboxState, gid: str) -> dict[str, Any]:
    project = state.projects[gid]
    team = Ref("team", project.team) if project.team else None
    return {
        "gid": gid,
        "resource_type": "project",
        "name": project.name,
        "archived": project.archived,
        "color": "none",
        "completed": False,
        "completed_at": None,
        "created_at": project.created_at,
        "modified_at": project.created_at,
        "notes": "",
        "due_on": None,
        "start_on": None,
        "owner": None,
        "team": team,
        "workspace": Ref("workspace", state.workspace_gid),
        "permalink_url": f"https://app.asana.com/0/{gid}/{gid}",
        "members": _refs("user", project.members),
        "followers": [],
        "custom_field_settings": _refs("custom_field_setting", project.settings),
        "privacy_setting": project.privacy,
        "public": project.privacy == "public_to_workspace",  # deprecated for privacy_setting
        "default_view": "list",
    }


def _section(state: SandboxState, gid: str) -> dict[str, Any]:
    name, project, created_at = state.sections[gid]
    return {
        "gid": gid,
        "resource_type": "section",
        "name": name,
        "created_at": created_at,
        "project": Ref("project", project),
    }


def _portfolio(state: SandboxState, gid: str) -> dict[str, Any]:
    portfolio = state.portfolios[gid]
    return {
        "gid": gid,
        "resource_type": "portfolio",
        "name": portfolio.name,
        "archived": False,
        "color": "none",
        "created_at": portfolio.created_at,
        "created_by": Ref("user", portfolio.owner),
        "owner": Ref("user", portfolio.owner),
        "workspace": Ref("workspace", state.workspace_gid),
        "members": [],
        "permalink_url": f"https://app.asana.com/0/portfolio/{gid}/list",
        "public": False,
    }


def _enum_option(state: SandboxState, gid: str) -> dict[str, Any]:
    _, name, color = state.options[gid]
    return {
        "gid": gid,
        "resource_type": "enum_option",
        "name": name,
        "enabled": True,
        "color": color,
    }


def _custom_field(state: SandboxState, gid: str) -> dict[str, Any]:
    custom = state.fields[gid]
    record: dict[str, Any] = {
        "gid": gid,
        "resource_type": "custom_field",
        "name": custom.name,
        "resource_subtype": custom.subtype,
        "type": custom.subtype,
        "description": custom.description,
        "enabled": True,
        "asana_created_field": custom.asana_created_field,
        "is_global_to_workspace": True,
        "has_notifications_enabled": True,
        "representation_type": custom.subtype,
        "is_formula_field": False,
        "is_value_read_only": False,
        "created_by": None,
        "privacy_setting": "public_with_guests",
        "default_access_level": "editor",
        "currency_code": None,
        "custom_label": None,
        "custom_label_position": None,
    }
    if custom.subtype == "number":
        record.update(precision=custom.precision, format=custom.format)
    if custom.subtype in ("enum", "multi_enum"):
        record["enum_options"] = _refs("enum_option", custom.options)
    return record


def _custom_field_setting(state: SandboxState, gid: str) -> dict[str, Any]:
    project, custom, important = state.settings[gid]
    return {
        "gid": gid,
        "resource_type": "custom_field_setting",
        "custom_field": Ref("custom_field", custom),
        "is_important": important,
        "project": Ref("project", project),
        "parent": Ref("project", project),
    }


def _task(state: SandboxState, gid: str) -> dict[str, Any]:
    task = state.tasks[gid]
    project = task.memberships[0][0] if task.memberships else "0"
    minutes = state.actual_minutes.get(gid, 0)
    dependents = state.dependents.get(gid, [])
    return {
        "gid": gid,
        "resource_type": "task",
        "name": task.name,
        "resource_subtype": task.subtype,
        "assignee": Ref("user", task.assignee) if task.assignee else None,
        "assignee_status": "upcoming" if task.assignee else "inbox",
        "completed": task.completed,
        "completed_at": task.completed_at,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "due_on": task.due_on,
        "start_at": task.start_at,
        "start_on": task.start_on,
        "modified_at": task.modified_at,
        "notes": task.notes,
        "html_notes": f"<body>{html.escape(task.notes, quote=False)}</body>",
        "num_subtasks": 0,
        "actual_time_minutes": minutes,
        "custom_fields": [_value_entry(state, f, task) for f in state.task_field_gids(task)],
        "followers": [],
        "parent": None,
        "memberships": [
            Embedded({"project": Ref("project", p), "section": Ref("section", s)})
            for p, s in task.memberships
        ],
        "projects": _refs("project", [p for p, _ in task.memberships]),
        "tags": [],
        "workspace": Ref("workspace", state.workspace_gid),
        "permalink_url": f"https://app.asana.com/0/{project}/{gid}",
        "liked": False,
        "likes": [],
        "num_likes": 0,
        "hearted": False,
        "hearts": [],
        "num_hearts": 0,
        "is_rendered_as_separator": False,
        "assignee_section": None,
        "created_by": Ref("user", task.created_by) if task.created_by else None,
        "completed_by": Ref("user", task.completed_by) if task.completed_by else None,
        "dependencies": _refs("task", task.dependencies),
        "dependents": _refs("task", dependents),
    }


def _value_entry(state: SandboxState, field_gid: str, task: Task) -> Embedded:
    custom = state.fields[field_gid]
    entry = _custom_field(state, field_gid)
    value = task.values.get(field_gid)
    display: str | None = None
    if custom.subtype == "number":
        entry["number_value"] = value
        display = None if value is None else f"{value:.{custom.precision}f}"
    elif custom.subtype == "text":
        entry["text_value"] = display = value
    elif custom.subtype == "enum":
        entry["enum_value"] = Ref("enum_option", value) if value else None
        display = state.options[value][1] if value else None
    elif custom.subtype == "multi_enum":
        entry["multi_enum_values"] = _refs("enum_option", value or [])
        display = ", ".join(state.options[o][1] for o in value) if value else None
    else:
        entry["people_value"] = _refs("user", value or [])
        display = ", ".join(state.users[u].name for u in value) if value else None
    entry["display_value"] = display
    return Embedded(entry)


def _story(state: SandboxState, gid: str) -> dict[str, Any]:
    story = state.story_records[gid]
    return {
        **story,
        "created_by": Ref("user", story["created_by"]),
        "target": Ref("task", story["target"]),
    }


def _ooo_entry(state: SandboxState, gid: str) -> dict[str, Any]:
    entry = state.ooo[gid]
    return {
        "gid": gid,
        "resource_type": "ooo_entry",
        "start_date": entry["start_date"],
        "end_date": entry["end_date"],
        "user": Ref("user", entry["user"]),
        "created_by": Ref("user", entry["created_by"]),
    }


def _time_tracking_entry(state: SandboxState, gid: str) -> dict[str, Any]:
    entry = state.time_entries[gid]
    record: dict[str, Any] = {
        "gid": gid,
        "resource_type": "time_tracking_entry",
        "duration_minutes": entry["duration_minutes"],
        "entered_on": entry["entered_on"],
        "created_by": Ref("user", entry["created_by"]),
        "task": Ref("task", entry["task"]),
        "created_at": entry["created_at"],
        "approval_status": "DRAFT",
        "billable_status": entry["billable_status"],
        "description": entry["description"],
        "categories": [],
    }
    if entry["attributable_to"]:
        # The spec does not let attributable_to be null; an entry on a task outside any project
        # is left without the property rather than given an invalid value.
        record["attributable_to"] = Ref("project", entry["attributable_to"])
    return record


def _project_membership(state: SandboxState, gid: str) -> dict[str, Any]:
    project, kind, member = state.project_memberships[gid]
    return {
        "gid": gid,
        "resource_type": "membership",
        "resource_subtype": "project_membership",
        "parent": Ref("project", project),
        "member": Ref(kind, member),
        "access_level": "editor",
    }


def _refs(kind: str, gids: Iterable[str]) -> list[Ref]:
    return [Ref(kind, gid) for gid in gids]


_BUILDERS: dict[str, Callable[[SandboxState, str], dict[str, Any]]] = {
    "workspace": _workspace,
    "user": _user,
    "team": _team,
    "project": _project,
    "section": _section,
    "portfolio": _portfolio,
    "enum_option": _enum_option,
    "custom_field": _custom_field,
    "custom_field_setting": _custom_field_setting,
    "task": _task,
    "story": _story,
    "ooo_entry": _ooo_entry,
    "time_tracking_entry": _time_tracking_entry,
    "project_membership": _project_membership,
}
