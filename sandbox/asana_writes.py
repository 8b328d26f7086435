"""Asana's rules for write requests (task updates and creation, comments, OOO, time, fields).

Each function checks a request's `data` object completely before changing `SandboxState`, so a
refused request (AsanaError) leaves the state untouched. The caller holds `state.lock`.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sandbox.asana_model import SUBTYPES, AsanaError, CustomField, Task, iso_datetime

if TYPE_CHECKING:
    from sandbox.asana_state import SandboxState

# What a task write may carry in the sandbox; anything else is refused rather than ignored, so
# a typo in product code ("asignee") fails loudly instead of silently doing nothing.
_TASK_FIELDS = frozenset(
    {"name", "notes", "completed", "assignee", "due_on", "due_at", "start_on", "start_at"}
    | {"custom_fields", "resource_subtype"}
)
_CREATE_ONLY = frozenset({"projects", "workspace"})
_FORMATS = ("currency", "identifier", "percentage", "custom", "duration", "none")


def update_task(state: SandboxState, gid: str, data: dict[str, Any]) -> None:
    """Apply a PUT /tasks/{gid} body; `modified_at` moves on every accepted write.

    Raises:
        AsanaError: 400 for unknown properties, bad values or Asana's date rules.
    """
    _reject_unknown(data, _TASK_FIELDS)
    task = state.tasks[gid]
    changes = _task_changes(state, task, data)
    values = custom_values(state, task, _object(data, "custom_fields"))
    for name, value in changes.items():
        setattr(task, name, value)
    task.values = values
    task.modified_at = state.now_iso()


def create_task(state: SandboxState, data: dict[str, Any]) -> str:
    """Apply a POST /tasks body; returns the new task's gid.

    Raises:
        AsanaError: 400 when neither `workspace` nor `projects` is given, or as `update_task`.
    """
    _reject_unknown(data, _TASK_FIELDS | _CREATE_ONLY)
    projects = data.get("projects", [])
    if "workspace" not in data and not projects:
        raise AsanaError(400, "You should specify one of workspace, parent, projects")
    if "workspace" in data and data["workspace"] != state.workspace_gid:
        raise AsanaError(400, f"workspace: Not a recognized ID: {data['workspace']}")
    if not isinstance(projects, list) or any(p not in state.projects for p in projects):
        raise AsanaError(400, f"projects: Not a recognized ID: {projects!r}")
    stamp = state.now_iso()
    draft = Task("", "", stamp, stamp, [(p, "") for p in projects], created_by=state.me_gid)
    changes = _task_changes(state, draft, data)
    values = custom_values(state, draft, _object(data, "custom_fields"))
    gid = state.add_task(_string(data, "name", ""), projects=projects, created_at=stamp)
    task = state.tasks[gid]
    for name, value in changes.items():
        setattr(task, name, value)
    task.values = values
    return gid


def custom_values(state: SandboxState, task: Task, raw: dict[str, Any]) -> dict[str, Any]:
    """Check PUT-form custom field values for a task; returns the task's new stored values.

    Raises:
        AsanaError: 400 for unknown fields, fields not on the task's projects, or values
            of the wrong type for the field.
    """
    values = dict(task.values)
    allowed = state.task_field_gids(task)
    for field_gid, value in raw.items():
        custom = state.fields.get(field_gid)
        if custom is None:
            raise AsanaError(400, f"custom_fields: Not a recognized ID: {field_gid}")
        if field_gid not in allowed:
            raise AsanaError(
                400, f"custom_fields: Custom field with ID {field_gid} is not on given object"
            )
        values[field_gid] = _custom_value(state, custom, value)
    return values


def _custom_value(state: SandboxState, custom: CustomField, value: Any) -> Any:
    """One value in stored form: enum values by option gid (not name), people by user gid."""
    bad = AsanaError(
        400, f"custom_fields: Invalid value for {custom.subtype} field {custom.gid}: {value!r}"
    )
    if value is None:
        return None
    if custom.subtype == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        return value
    if custom.subtype in ("text", "enum"):
        if not isinstance(value, str) or (custom.subtype == "enum" and value not in custom.options):
            raise bad
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad
    if custom.subtype == "people":
        try:
            value = [state.user_gid(v) for v in value]
        except ValueError as error:
            raise bad from error
    elif any(v not in custom.options for v in value):
        raise bad
    return list(dict.fromkeys(value))


def _task_changes(state: SandboxState, task: Task, data: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = _string(data, "name", "")
    if "notes" in data:
        changes["notes"] = _string(data, "notes", "")
    if "resource_subtype" in data:
        if data["resource_subtype"] not in ("default_task", "milestone"):
            raise AsanaError(400, f"resource_subtype: Invalid value: {data['resource_subtype']}")
        changes["subtype"] = data["resource_subtype"]
    if "assignee" in data:
        changes["assignee"] = _user(state, data["assignee"], "assignee")
    if "completed" in data:
        if not isinstance(data["completed"], bool):
            raise AsanaError(400, "completed: Must be a boolean")
        done = data["completed"]
        if done != task.completed:
            changes.update(
                completed=done,
                completed_at=state.now_iso() if done else None,
                completed_by=state.me_gid if done else None,
            )
    changes.update(_date_changes(task, data, changes.get("subtype", task.subtype)))
    return changes


def _date_changes(task: Task, data: dict[str, Any], subtype: str) -> dict[str, Any]:
    """Asana's date rules: one of *_on/*_at per end, start needs a due date in the same call."""
    for end in ("start", "due"):
        if data.get(f"{end}_on") is not None and data.get(f"{end}_at") is not None:
            raise AsanaError(400, f"You may only provide one of {end}_on or {end}_at")
    changes: dict[str, Any] = {}
    for end in ("start", "due"):
        for kind, parse in (("on", parse_date), ("at", _datetime)):
            key = f"{end}_{kind}"
            if key not in data:
                continue
            value = data[key]
            parsed = None if value is None else parse(key, value)
            changes[key] = parsed
            # Setting one form of a date clears the other; a *_at also sets *_on to its (UTC)
            # day, so readers of due_on see timed tasks too.
            other = f"{end}_{'at' if kind == 'on' else 'on'}"
            if kind == "on" or parsed is None:
                changes.setdefault(other, None)
            else:
                changes[other] = parsed[:10]
    starts = data.get("start_on") is not None or data.get("start_at") is not None
    dues = data.get("due_on") is not None or data.get("due_at") is not None
    if starts and not dues:
        raise AsanaError(
            400, "start_on: A due date (due_on or due_at) must be given in the same request"
        )
    start = changes.get("start_on", task.start_on)
    due = changes.get("due_on", task.due_on)
    if start is not None and due is None:
        raise AsanaError(400, "due_on: Cannot remove the due date of a task with a start date")
    if start is not None and subtype == "milestone":
        raise AsanaError(400, "start_on: Milestones cannot have a start date")
    if start is not None and due is not None and start > due:
        raise AsanaError(400, "start_on: The start date must be on or before the due date")
    return changes


def create_story(state: SandboxState, task_gid: str, data: dict[str, Any]) -> str:
    """Add a comment to a task (POST /tasks/{gid}/stories); the task's modified_at moves."""
    _reject_unknown(data, frozenset({"text", "html_text", "is_pinned"}))
    text = data.get("text")
    html_text = _string(data, "html_text", "")
    if text is None and html_text:
        text = _strip_tags(html_text)
    if not isinstance(text, str) or not text:
        raise AsanaError(400, "text: Missing input")
    gid = state.new_gid()
    now = state.now_iso()
    story = {
        "gid": gid,
        "resource_type": "story",
        "resource_subtype": "comment_added",
        "created_at": now,
        "created_by": state.me_gid,
        "text": text,
        "html_text": html_text or f"<body>{html.escape(text, quote=False)}</body>",
        "type": "comment",
        "is_pinned": bool(data.get("is_pinned", False)),
        "is_editable": True,
        "is_edited": False,
        "source": "api",
        "target": task_gid,
    }
    state.story_records[gid] = story
    state.task_stories.setdefault(task_gid, []).append(gid)
    state.tasks[task_gid].modified_at = now
    return gid


def create_ooo(state: SandboxState, data: dict[str, Any]) -> str:
    """Add an out-of-office entry (POST /ooo_entries)."""
    _reject_unknown(data, frozenset({"user", "workspace", "start_date", "end_date"}))
    for key in ("user", "workspace", "start_date", "end_date"):
        if key not in data:
            raise AsanaError(400, f"{key}: Missing input")
    if data["workspace"] != state.workspace_gid:
        raise AsanaError(400, f"workspace: Not a recognized ID: {data['workspace']}")
    user = _user(state, data["user"], "user")
    if user is None:
        raise AsanaError(400, "user: Missing input")
    start = parse_date("start_date", data["start_date"])
    end = parse_date("end_date", data["end_date"])
    if start > end:
        raise AsanaError(400, "end_date: Must be on or after start_date")
    gid = state.add_ooo(user, start, end)
    state.ooo[gid]["created_by"] = state.me_gid or user
    return gid


def create_time_entry(state: SandboxState, task_gid: str, data: dict[str, Any]) -> str:
    """Record actual time on a task (POST /tasks/{gid}/time_tracking_entries)."""
    known = {"duration_minutes", "entered_on", "attributable_to", "billable_status", "description"}
    _reject_unknown(data, frozenset(known))
    minutes = data.get("duration_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise AsanaError(400, "duration_minutes: Must be a positive integer")
    entered_on = parse_date("entered_on", data.get("entered_on", state.now().date().isoformat()))
    project = data.get("attributable_to")
    if project is not None and project not in state.projects:
        raise AsanaError(400, f"attributable_to: Not a recognized ID: {project}")
    billable = data.get("billable_status", "notApplicable")
    if billable not in ("billable", "nonBillable", "notApplicable"):
        raise AsanaError(400, f"billable_status: Invalid value: {billable}")
    if state.me_gid is None:
        raise AsanaError(403, "The sandbox has no users, so no one owns the token")
    gid = state.add_time_entry(task_gid, state.me_gid, entered_on, minutes, attributable_to=project)
    state.time_entries[gid].update(
        billable_status=billable, description=_string(data, "description", "")
    )
    return gid


def create_custom_field(state: SandboxState, data: dict[str, Any]) -> str:
    """Create a workspace custom field (POST /custom_fields)."""
    known = {"workspace", "resource_subtype", "name", "description", "enum_options", "precision"}
    _reject_unknown(data, frozenset(known | {"format"}))
    if data.get("workspace") != state.workspace_gid:
        raise AsanaError(400, f"workspace: Not a recognized ID: {data.get('workspace')}")
    subtype, name = data.get("resource_subtype"), _string(data, "name", "")
    if subtype not in SUBTYPES:
        raise AsanaError(400, f"resource_subtype: Invalid value: {subtype}")
    if not name:
        raise AsanaError(400, "name: Missing input")
    if any(f.name.lower() == name.lower() for f in state.fields.values()):
        raise AsanaError(400, f"name: A custom field named {name!r} already exists")
    precision = data.get("precision", 0)
    if not isinstance(precision, int) or not 0 <= precision <= 6:
        raise AsanaError(400, "precision: Must be an integer from 0 to 6")
    number_format = data.get("format", "none" if subtype == "number" else None)
    if number_format is not None and number_format not in _FORMATS:
        raise AsanaError(400, f"format: Invalid value: {number_format}")
    options = data.get("enum_options", [])
    if not isinstance(options, list) or not all(
        isinstance(o, dict)
        and isinstance(o.get("name"), str)
        and isinstance(o.get("color", ""), str)
        for o in options
    ):
        raise AsanaError(400, "enum_options: Each option needs a name")
    gid = state.add_custom_field(name, str(subtype), format=number_format, precision=precision)
    state.fields[gid].description = _string(data, "description", "")
    for option in options:
        state.add_enum_option(gid, option["name"], color=option.get("color") or None)
    return gid


def add_custom_field_setting(state: SandboxState, project_gid: str, data: dict[str, Any]) -> str:
    """Attach a custom field to a project (POST /projects/{gid}/addCustomFieldSetting)."""
    known = {"custom_field", "is_important", "insert_before", "insert_after"}
    _reject_unknown(data, frozenset(known))
    field_gid = data.get("custom_field")
    if not isinstance(field_gid, str) or field_gid not in state.fields:
        raise AsanaError(400, f"custom_field: Not a recognized ID: {field_gid}")
    if field_gid in state.project_field_gids(project_gid):
        raise AsanaError(400, f"custom_field: {field_gid} is already on this project")
    important = data.get("is_important", False)
    return state.add_field_to_project(project_gid, field_gid, is_important=bool(important))


def _reject_unknown(data: dict[str, Any], known: frozenset[str]) -> None:
    for key in data:
        if key not in known:
            raise AsanaError(400, f"{key}: Unknown or read-only property for this request")


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise AsanaError(400, f"{key}: Must be an object")
    return value


def _string(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise AsanaError(400, f"{key}: Must be a string")
    return value


def _user(state: SandboxState, ident: object, key: str) -> str | None:
    if ident is None:
        return None
    try:
        return state.user_gid(str(ident))
    except ValueError as error:
        raise AsanaError(400, f"{key}: Not a recognized ID: {ident}") from error


def parse_date(key: str, value: object) -> str:
    """Check a YYYY-MM-DD date strictly (Python also accepts 20240101, Asana does not).

    Raises:
        AsanaError: 400 when the value is not such a date.
    """
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise AsanaError(400, f"{key}: Invalid date: {value!r}")


def _datetime(key: str, value: object) -> str:
    """An ISO 8601 date-time; stored in Asana's UTC millisecond form."""
    return iso_datetime(parse_datetime(key, value))


def parse_datetime(key: str, value: object) -> datetime:
    """Parse an ISO 8601 date-time (a naive one is taken as UTC).

    Raises:
        AsanaError: 400 when the value is not a date-time.
    """
    try:
        if isinstance(value, str) and len(value) >= 16 and value[10] == "T":
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    raise AsanaError(400, f"{key}: Invalid date-time: {value!r}")


def _strip_tags(markup: str) -> str:
    out, inside = [], False
    for char in markup:
        if char in "<>":
            inside = char == "<"
        elif not inside:
            out.append(char)
    return "".join(out)
