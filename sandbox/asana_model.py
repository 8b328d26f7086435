"""Primitives of the sandbox Asana: stored record types, the error type and the log entry.

Imports nothing from `sandbox`; every other sandbox module builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

DEFAULT_SECTION = "Untitled section"  # the section Asana puts new projects' tasks in
SUBTYPES = ("number", "enum", "multi_enum", "text", "people")
INJECTED_HEADER = "X-Sandbox-Fault"  # on responses forced by fail_next(), value "injected"


class AsanaError(Exception):
    """A request Asana would refuse: HTTP status, error message, Retry-After for a 429.

    `injected` marks a fault a test asked for (`AsanaSandbox.fail_next`) rather than one the
    request earned; the server labels those responses with `INJECTED_HEADER`.
    """

    def __init__(
        self, status: int, message: str, *, retry_after: int | None = None, injected: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.injected = injected


class Exchange(NamedTuple):
    """One request/response pair as it crossed the wire (bodies and headers verbatim)."""

    method: str
    path: str
    query: dict[str, str]
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


def iso_datetime(moment: datetime) -> str:
    """Asana's timestamp format: UTC, milliseconds, `Z` suffix."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class User:
    """A workspace member."""

    gid: str
    name: str
    email: str


@dataclass
class Team:
    """A team and its member gids."""

    gid: str
    name: str
    members: list[str]


PRIVACY_SETTINGS = ("public_to_workspace", "private_to_team", "private")


@dataclass
class Project:
    """A project with its sections, custom field settings and tasks (gids, in order).

    `privacy` is Asana's `privacy_setting`; `members` are the user gids that are its members
    (the teams it is shared with live in `SandboxState.project_memberships`).
    """

    gid: str
    name: str
    team: str | None
    archived: bool
    created_at: str
    privacy: str = "public_to_workspace"
    members: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


@dataclass
class Portfolio:
    """A portfolio: its owner and the projects it holds."""

    gid: str
    name: str
    owner: str
    items: list[str]
    created_at: str


@dataclass
class CustomField:
    """A workspace custom field definition; `options` are enum option gids."""

    gid: str
    name: str
    subtype: str
    format: str | None
    asana_created_field: str | None
    precision: int
    options: list[str]
    description: str = ""


@dataclass
class Task:
    """A stored task; references are gids, `values` holds custom field values by field gid."""

    gid: str
    name: str
    created_at: str
    modified_at: str
    memberships: list[tuple[str, str]]  # (project gid, section gid)
    subtype: str = "default_task"
    assignee: str | None = None
    start_on: str | None = None
    start_at: str | None = None
    due_on: str | None = None
    due_at: str | None = None
    completed: bool = False
    completed_at: str | None = None
    completed_by: str | None = None
    notes: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # field gid -> stored value
    dependencies: list[str] = field(default_factory=list)
    created_by: str | None = None
