"""The sandbox's in-memory Asana workspace: stored records, builders, queries and the request log.

Knows nothing about HTTP; write-request rules live in `sandbox.asana_writes`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sandbox import asana_records, asana_writes
from sandbox.asana_fields import Ref, default_selection, render
from sandbox.asana_model import (
    DEFAULT_SECTION,
    PRIVACY_SETTINGS,
    SUBTYPES,
    AsanaError,
    CustomField,
    Exchange,
    Portfolio,
    Project,
    Task,
    Team,
    User,
    iso_datetime,
)

_T = TypeVar("_T")
_ENUM_COLORS = ("green", "yellow", "orange", "red", "purple", "blue", "cool-gray")

__all__ = ["AsanaError", "Exchange", "SandboxState"]


class SandboxState:
    """One Asana workspace held in memory, safe to share between server threads.

    Builder methods (`add_*`) raise ValueError on inconsistent input; the server holds `lock`
    while it reads or writes, so a request sees one consistent snapshot.
    """

    def __init__(
        self,
        workspace_name: str = "Sandbox Org",
        *,
        workspace_gid: str | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self._now = now or (lambda: datetime.now(UTC))
        self._gids = itertools.count(1_209_000_000_000_001)  # 16 digits, like real gids
        self._used: set[str] = set()
        self.workspace_gid = self.new_gid(workspace_gid)
        self.workspace_name = workspace_name
        self.me_gid: str | None = None  # whose token the sandbox serves; first user by default
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.projects: dict[str, Project] = {}
        self.sections: dict[str, tuple[str, str, str]] = {}  # gid -> (name, project, created_at)
        self.portfolios: dict[str, Portfolio] = {}
        self.fields: dict[str, CustomField] = {}
        self.options: dict[str, tuple[str, str, str]] = {}  # gid -> (field, name, color)
        self.settings: dict[str, tuple[str, str, bool]] = {}  # gid -> (project, field, important)
        # gid -> (project, member kind "user" or "team", member gid): GET /memberships records
        self.project_memberships: dict[str, tuple[str, str, str]] = {}
        self.tasks: dict[str, Task] = {}
        self.story_records: dict[str, dict[str, Any]] = {}  # story gid -> stored story
        self.task_stories: dict[str, list[str]] = {}  # task gid -> its story gids, oldest first
        self.ooo: dict[str, dict[str, str]] = {}
        self.time_entries: dict[str, dict[str, Any]] = {}
        # Indexes kept up to date by the builders, so rendering a task stays O(1) in org size.
        self.dependents: dict[str, list[str]] = {}  # task gid -> gids of tasks it blocks
        self.actual_minutes: dict[str, int] = {}  # task gid -> sum of its time entries
        self._log: list[Exchange] = []
        self._log_lock = threading.Lock()

    # ---- clock and ids -------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's current time (injectable for deterministic tests)."""
        return self._now()

    def now_iso(self) -> str:
        """The current time in Asana's timestamp format."""
        return iso_datetime(self._now())

    def new_gid(self, explicit: str | None = None) -> str:
        """A fresh numeric gid, or `explicit` if given.

        Raises:
            ValueError: `explicit` is already the gid of another record.
        """
        if explicit is not None and explicit in self._used:
            raise ValueError(f"gid {explicit} is already used")
        gid = explicit
        while gid is None or gid in self._used:  # skip numbers a builder already claimed
            gid = str(next(self._gids))
        self._used.add(gid)
        return gid

    # ---- builders ------------------------------------------------------------------------

    def add_user(self, name: str, email: str, *, gid: str | None = None) -> str:
        """Add a workspace member; the first user added is the token's owner ("me")."""
        with self.lock:
            user = User(self.new_gid(gid), name, email)
            self.users[user.gid] = user
            if self.me_gid is None:
                self.me_gid = user.gid
            return user.gid

    def add_team(self, name: str, members: Sequence[str] = (), *, gid: str | None = None) -> str:
        """Add a team whose members are the given user gids."""
        with self.lock:
            for member in members:
                self._need(self.users, member, "user")
            team = Team(self.new_gid(gid), name, list(members))
            self.teams[team.gid] = team
            return team.gid

    def add_project(
        self,
        name: str,
        team_gid: str | None,
        *,
        gid: str | None = None,
        archived: bool = False,
        privacy: str = "public_to_workspace",
        members: Sequence[str] = (),
        shared_with: Sequence[str] = (),
    ) -> str:
        """Add a project (with Asana's default section) owned by a team or by no team.

        `privacy` is its `privacy_setting`; the default, `public_to_workspace` (the spec's
        example value), lets everyone in the workspace see it. `members` are user gids;
        `shared_with` team gids whose members see it through a team membership (Asana's
        sharing of a project with teams). Each member and team gets a membership record.
        """
        with self.lock:
            if team_gid is not None:
                self._need(self.teams, team_gid, "team")
            if privacy not in PRIVACY_SETTINGS:
                raise ValueError(f"privacy must be one of {PRIVACY_SETTINGS}, not {privacy!r}")
            for member in members:
                self._need(self.users, member, "user")
            for team in shared_with:
                self._need(self.teams, team, "team")
            project = Project(
                self.new_gid(gid),
                name,
                team_gid,
                archived,
                self.now_iso(),
                privacy=privacy,
                members=list(members),
            )
            self.projects[project.gid] = project
            for kind, gids in (("user", members), ("team", shared_with)):
                for member in gids:
                    self.project_memberships[self.new_gid()] = (project.gid, kind, member)
            self.section_gid(project.gid, DEFAULT_SECTION)
            return project.gid

    def section_gid(self, project_gid: str, name: str) -> str:
        """The gid of a project's section with this name, created if missing."""
        with self.lock:
            project = self._need(self.projects, project_gid, "project")
            for gid in project.sections:
                if self.sections[gid][0] == name:
                    return gid
            gid = self.new_gid()
            self.sections[gid] = (name, project_gid, self.now_iso())
            project.sections.append(gid)
            return gid

    def add_portfolio(
        self, name: str, owner_gid: str, project_gids: Sequence[str], *, gid: str | None = None
    ) -> str:
        """Add a portfolio owned by a user and holding the given projects."""
        with self.lock:
            self._need(self.users, owner_gid, "user")
            for project in project_gids:
                self._need(self.projects, project, "project")
            portfolio = Portfolio(
                self.new_gid(gid), name, owner_gid, list(project_gids), self.now_iso()
            )
            self.portfolios[portfolio.gid] = portfolio
            return portfolio.gid

    def add_custom_field(
        self,
        name: str,
        subtype: str,
        *,
        format: str | None = None,
        asana_created_field: str | None = None,
        enum_options: Sequence[str] = (),
        gid: str | None = None,
        precision: int = 0,
    ) -> str:
        """Add a workspace custom field.

        A duration field (`format="duration"`, e.g. Asana's "Estimated time" with
        `asana_created_field="estimated_time"`) holds its number_value in minutes.
        """
        with self.lock:
            if subtype not in SUBTYPES:
                raise ValueError(f"subtype must be one of {SUBTYPES}, not {subtype!r}")
            if subtype == "number" and format is None:
                format = "none"
            custom = CustomField(
                self.new_gid(gid), name, subtype, format, asana_created_field, precision, []
            )
            self.fields[custom.gid] = custom
            for option in enum_options:
                self.add_enum_option(custom.gid, option)
            return custom.gid

    def add_enum_option(self, field_gid: str, name: str, *, color: str | None = None) -> str:
        """Add an option to an enum or multi_enum field (colours cycle when none is given)."""
        with self.lock:
            custom = self._need(self.fields, field_gid, "custom_field")
            if custom.subtype not in ("enum", "multi_enum"):
                raise ValueError(f"custom field {field_gid} is {custom.subtype}, not an enum")
            gid = self.new_gid()
            color = color or _ENUM_COLORS[len(custom.options) % len(_ENUM_COLORS)]
            self.options[gid] = (field_gid, name, color)
            custom.options.append(gid)
            return gid

    def enum_option_gid(self, field_gid: str, name: str) -> str:
        """The gid of an enum option, by the option's name."""
        with self.lock:
            custom = self._need(self.fields, field_gid, "custom_field")
            for gid in custom.options:
                if self.options[gid][1] == name:
                    return gid
            raise ValueError(f"custom field {field_gid} has no option named {name!r}")

    def add_field_to_project(
        self, project_gid: str, field_gid: str, *, is_important: bool = False
    ) -> str:
        """Attach a custom field to a project; returns the custom field setting's gid."""
        with self.lock:
            project = self._need(self.projects, project_gid, "project")
            self._need(self.fields, field_gid, "custom_field")
            if field_gid in self.project_field_gids(project_gid):
                raise ValueError(f"custom field {field_gid} is already on project {project_gid}")
            gid = self.new_gid()
            self.settings[gid] = (project_gid, field_gid, is_important)
            project.settings.append(gid)
            return gid

    def add_task(
        self,
        name: str,
        *,
        projects: Sequence[str] = (),
        section: str | None = None,
        assignee: str | None = None,
        start_on: str | None = None,
        due_on: str | None = None,
        completed: bool = False,
        completed_at: str | None = None,
        created_at: str | None = None,
        custom_fields: Mapping[str, object] | None = None,
        dependencies: Sequence[str] = (),
        notes: str = "",
        gid: str | None = None,
    ) -> str:
        """Add a task; every reference must already exist.

        Args:
            name: the task name.
            projects: project gids; the task is a member of each, in order.
            section: a section name in the first project (created if missing); the others
                use Asana's default section.
            assignee: a user gid or email, or None.
            custom_fields: values in PUT /tasks form (a number, an enum option gid, a list of
                option or user gids, a string, or None); the fields must be on a project.

        Raises:
            ValueError: an unknown reference, a malformed date or an invalid field value.
        """
        with self.lock:
            for dependency in dependencies:
                self._need(self.tasks, dependency, "task")
            if assignee is not None and not isinstance(assignee, str):
                # e.g. a pandas NaN for "no assignee": say so instead of failing on .lower().
                raise ValueError(f"assignee must be a user gid, email or None, not {assignee!r}")
            for date_text in (start_on, due_on):
                if date_text is not None:
                    date.fromisoformat(date_text)
            stamp = created_at or self.now_iso()
            memberships = [
                (p, self.section_gid(p, section if i == 0 and section else DEFAULT_SECTION))
                for i, p in enumerate(projects)
            ]
            task = Task("", name, stamp, stamp, memberships, notes=notes)
            task.assignee = self.user_gid(assignee) if assignee else None
            task.start_on, task.due_on = start_on, due_on
            task.completed = completed
            task.completed_at = (completed_at or stamp) if completed else None
            task.dependencies = list(dependencies)
            task.created_by = self.me_gid
            try:
                task.values = asana_writes.custom_values(self, task, dict(custom_fields or {}))
            except AsanaError as error:
                raise ValueError(error.message) from error
            # Checked everything: only now does the task take a gid and join its projects.
            task.gid = self.new_gid(gid)
            self.tasks[task.gid] = task
            for dependency in task.dependencies:
                self.dependents.setdefault(dependency, []).append(task.gid)
            for project_gid, _ in memberships:
                self.projects[project_gid].tasks.append(task.gid)
            return task.gid

    def delete_task(self, gid: str) -> None:
        """Delete a task as someone in Asana would: later requests naming it get 404."""
        with self.lock:
            task = self._need(self.tasks, gid, "task")
            del self.tasks[gid]
            for project_gid, _ in task.memberships:
                self.projects[project_gid].tasks.remove(gid)
            for blocker in task.dependencies:
                self.dependents[blocker].remove(gid)
            for other in self.tasks.values():
                if gid in other.dependencies:
                    other.dependencies.remove(gid)
            self.dependents.pop(gid, None)
            for story_gid in self.task_stories.pop(gid, []):
                del self.story_records[story_gid]
            for entry_gid in [g for g, e in self.time_entries.items() if e["task"] == gid]:
                del self.time_entries[entry_gid]
            self.actual_minutes.pop(gid, None)

    def add_ooo(self, user_gid: str, start_date: str, end_date: str) -> str:
        """Add an out-of-office entry (dates inclusive, YYYY-MM-DD)."""
        with self.lock:
            self._need(self.users, user_gid, "user")
            if date.fromisoformat(start_date) > date.fromisoformat(end_date):
                raise ValueError("start_date is after end_date")
            gid = self.new_gid()
            self.ooo[gid] = {
                "user": user_gid,
                "start_date": start_date,
                "end_date": end_date,
                "created_by": self.me_gid or user_gid,
            }
            return gid

    def add_time_entry(
        self,
        task_gid: str,
        user_gid: str,
        entered_on: str,
        minutes: int,
        *,
        attributable_to: str | None = None,
    ) -> str:
        """Record actual time on a task (adds to its `actual_time_minutes`)."""
        with self.lock:
            task = self._need(self.tasks, task_gid, "task")
            self._need(self.users, user_gid, "user")
            date.fromisoformat(entered_on)
            if attributable_to is None and task.memberships:
                attributable_to = task.memberships[0][0]  # time counts toward the home project
            if minutes <= 0:
                raise ValueError("minutes must be positive")
            gid = self.new_gid()
            self.time_entries[gid] = {
                "task": task_gid,
                "created_by": user_gid,
                "entered_on": entered_on,
                "duration_minutes": minutes,
                "created_at": self.now_iso(),
                "attributable_to": attributable_to,
                "description": "",
                "billable_status": "notApplicable",
            }
            self.actual_minutes[task_gid] = self.actual_minutes.get(task_gid, 0) + minutes
            return gid

    # ---- observation (tests) -------------------------------------------------------------

    def task(self, gid: str) -> dict[str, Any]:
        """The full stored task as Asana JSON, opt-in fields included (for assertions)."""
        with self.lock:
            self._need(self.tasks, gid, "task")
            selection = default_selection("task", include_opt_in=True)
            result: dict[str, Any] = render(Ref("task", gid), "task", selection, self.record)
            return result

    def stories(self, task_gid: str) -> list[dict[str, Any]]:
        """The task's stories as full Asana JSON, oldest first."""
        with self.lock:
            self._need(self.tasks, task_gid, "task")
            selection = default_selection("story")
            return [
                render(Ref("story", gid), "story", selection, self.record)
                for gid in self.task_stories.get(task_gid, [])
            ]

    def record_exchange(self, exchange: Exchange) -> None:
        """Append one request/response pair to the log (called by the server)."""
        with self._log_lock:
            self._log.append(exchange)

    def log(self) -> list[Exchange]:
        """A snapshot of every exchange since the last `reset_log()`, in arrival order."""
        with self._log_lock:
            return list(self._log)

    @property
    def request_count(self) -> int:
        """How many requests the server answered since the last `reset_log()`."""
        with self._log_lock:
            return len(self._log)

    def reset_log(self) -> None:
        """Forget the logged exchanges."""
        with self._log_lock:
            self._log.clear()

    # ---- lookups -------------------------------------------------------------------------

    def _need(self, table: Mapping[str, _T], gid: str, kind: str) -> _T:
        if gid not in table:
            raise ValueError(f"unknown {kind} {gid}")
        return table[gid]

    def require(self, kind: str, gid: str) -> None:
        """Raise a 404 unless a record of this kind exists."""
        tables: dict[str, Mapping[str, Any]] = {
            "user": self.users,
            "team": self.teams,
            "project": self.projects,
            "portfolio": self.portfolios,
            "custom_field": self.fields,
            "task": self.tasks,
            "workspace": {self.workspace_gid: True},
            "section": self.sections,
        }
        if gid not in tables[kind]:
            raise AsanaError(404, f"{kind}: Unknown object: {gid}")

    def user_gid(self, ident: str) -> str:
        """Resolve a user given as gid, email or "me"; ValueError if unknown."""
        if ident == "me" and self.me_gid is not None:
            return self.me_gid
        if ident in self.users:
            return ident
        for user in self.users.values():
            if user.email.lower() == ident.lower():
                return user.gid
        raise ValueError(f"unknown user {ident}")

    def project_field_gids(self, project_gid: str) -> list[str]:
        """Custom fields attached to a project, in setting order."""
        return [self.settings[s][1] for s in self.projects[project_gid].settings]

    def task_field_gids(self, task: Task) -> list[str]:
        """Custom fields a task carries: those of all its projects, without repeats."""
        gids = (self.project_field_gids(p) for p, _ in task.memberships)
        return list(dict.fromkeys(itertools.chain.from_iterable(gids)))

    def record(self, ref: Ref) -> dict[str, Any]:
        """The stored record behind a reference, with every field it can return."""
        return asana_records.record(self, ref)
