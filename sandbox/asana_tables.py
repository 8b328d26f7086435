"""The sandbox Asana workspace's stored tables, with its clock and gids, the lookups over them and
the request log.

Knows nothing about HTTP; records enter through the builders of `sandbox.asana_state` and the
write rules of `sandbox.asana_writes`. Imports only `sandbox.asana_model`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sandbox.asana_model import (
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


class SandboxTables:
    """The records of one Asana workspace, held in memory and guarded by `lock`.

    Tables are keyed by gid; the indexes (`dependents`, `actual_minutes`) are kept up to date by
    whoever writes the tables. The request log has a lock of its own.
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

    # ---- request log ---------------------------------------------------------------------

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

    def need(self, table: Mapping[str, _T], gid: str, kind: str) -> _T:
        """The record `gid` of `table`; ValueError naming the `kind` if there is none."""
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
