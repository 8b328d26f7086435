"""The sandbox's in-memory Asana workspace: the builders that seed it and the views tests assert on.

Stored tables, clock, gids, lookups and the request log are `sandbox.asana_tables`. Knows
nothing about HTTP; write-request rules live in `sandbox.asana_writes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sandbox import asana_records, asana_writes
from sandbox.asana_fields import Ref, default_selection, render
from sandbox.asana_model import (
    DEFAULT_SECTION,
    PRIVACY_SETTINGS,
    SUBTYPES,
    AsanaError,
    CustomField,
    Portfolio,
    Project,
    Task,
    Team,
    User,
)
from sandbox.asana_tables import SandboxTables

_ENUM_COLORS = ("green", "yellow", "orange", "red", "purple", "blue", "cool-gray")

__all__ = ["SandboxState"]


class SandboxState(SandboxTables):
    """One Asana workspace held in memory, safe to share between server threads.

    Builder methods (`add_*`) raise ValueError on inconsistent input; the server holds `lock`
    while it reads or writes, so a request sees one consistent snapshot.
    """

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
                self.need(self.users, member, "user")
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
                self.need(self.teams, team_gid, "team")
            if privacy not in PRIVACY_SETTINGS:
                raise ValueError(f"privacy must be one of {PRIVACY_SETTINGS}, not {privacy!r}")
            for member in members:
                self.need(self.users, member, "user")
            for team in shared_with:
                self.need(self.teams, team, "team")
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
            project = self.need(self.projects, project_gid, "project")
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
            self.need(self.users, owner_gid, "user")
            for project in project_gids:
                self.need(self.projects, project, "project")
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
            custom = self.need(self.fields, field_gid, "custom_field")
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
            custom = self.need(self.fields, field_gid, "custom_field")
            for gid in custom.options:
                if self.options[gid][1] == name:
                    return gid
            raise ValueError(f"custom field {field_gid} has no option named {name!r}")

    def add_field_to_project(
        self, project_gid: str, field_gid: str, *, is_important: bool = False
    ) -> str:
        """Attach a custom field to a project; returns the custom field setting's gid."""
        with self.lock:
            project = self.need(self.projects, project_gid, "project")
            self.need(self.fields, field_gid, "custom_field")
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
                self.need(self.tasks, dependency, "task")
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
            task = self.need(self.tasks, gid, "task")
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
            self.need(self.users, user_gid, "user")
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
            task = self.need(self.tasks, task_gid, "task")
            self.need(self.users, user_gid, "user")
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
            self.need(self.tasks, gid, "task")
            selection = default_selection("task", include_opt_in=True)
            result: dict[str, Any] = render(Ref("task", gid), "task", selection, self.record)
            return result

    def stories(self, task_gid: str) -> list[dict[str, Any]]:
        """The task's stories as full Asana JSON, oldest first."""
        with self.lock:
            self.need(self.tasks, task_gid, "task")
            selection = default_selection("story")
            return [
                render(Ref("story", gid), "story", selection, self.record)
                for gid in self.task_stories.get(task_gid, [])
            ]

    def record(self, ref: Ref) -> dict[str, Any]:
        """The stored record behind a reference, with every field it can return."""
        return asana_records.record(self, ref)
