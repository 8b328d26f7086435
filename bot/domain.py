"""Frozen domain values shared by services, Slack and the CLI (no I/O, no behaviour)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd


@dataclass(frozen=True)
class CustomField:
    """An Asana custom field the product reads; ``unit_h`` converts its number to hours."""

    gid: str
    name: str
    subtype: str
    unit_h: float = 1.0


# Asana's project privacy settings that open a project beyond its members.
PUBLIC = "public_to_workspace"  # everyone in the workspace
TEAM_VISIBLE = "private_to_team"  # the members of the project's team


@dataclass(frozen=True)
class Snapshot:
    """Everything read from Asana in one sync, in the frame contracts of ``forecasting``."""

    workspace_gid: str
    synced_at: datetime
    today: date
    people: pd.DataFrame
    tasks: pd.DataFrame
    time_off: pd.DataFrame
    teams: tuple[str, ...]
    projects: Mapping[str, str]  # gid -> name
    effort_field: CustomField | None
    skills_field: CustomField | None
    api_calls: int
    warnings: tuple[str, ...] = ()
    digest: str = field(default="", compare=False)
    # Who can see each project in Asana (the rule: ``bot.services.visible_projects``): its user
    # members, its ``privacy_setting`` (public_to_workspace | private_to_team | private), the
    # members of its team (when that team is synced), the members of the synced teams it is
    # shared with (team memberships); and each task's in-scope projects.
    project_members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    project_privacy: Mapping[str, str] = field(default_factory=dict)
    project_team_members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    project_shared_members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    task_projects: Mapping[str, frozenset[str]] = field(default_factory=dict)  # in scope

    def content_hash(self) -> str:
        """A short hash of the frames' content: the evidence a forecast was computed from."""
        if self.digest:
            return self.digest
        h = hashlib.sha256()
        for frame in (self.people, self.tasks, self.time_off):
            hashed = pd.util.hash_pandas_object(frame.astype(str), index=False)
            h.update(hashed.to_numpy().tobytes())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class Viewer:
    """Who a forecast is shown to: their Asana user (None when no Asana user has their email)
    and whether they are an admin (admins see every project)."""

    user_gid: str | None
    is_admin: bool = False


@dataclass(frozen=True)
class WeekCell:
    """One person-week of a workload table: committed load and, when learned, the forecast.

    ``mean_h``/``p10_h``/``p90_h``/``p_over`` are None when no model could be fitted (the
    table then shows the arithmetic committed load only).
    """

    week_start: date
    capacity_h: float
    committed_h: float
    utilisation: float | None  # of the expected load (forecast mean, else committed)
    status: str  # over | at_risk | ok | under | off
    overdue_h: float
    mean_h: float | None = None
    p10_h: float | None = None
    p90_h: float | None = None
    p_over: float | None = None
    imputed_h: float = 0.0

    @property
    def load_h(self) -> float:
        """Expected hours: the forecast mean when there is one, else the committed load."""
        return self.committed_h if self.mean_h is None else self.mean_h

    @property
    def label(self) -> str:
        """Utilisation as a 4-character cell: ``125%``, `` 40%``, ``  —`` or ``+8h``.

        ``+8h`` is work planned in a week with no capacity (leave, holidays, not working).
        """
        if self.utilisation is not None:
            return f"{self.utilisation * 100:3.0f}%"
        if self.load_h >= 0.5:
            return f"+{self.load_h:.0f}h".rjust(4)
        return "  —"

    @property
    def range_label(self) -> str:
        """The likely range (p10–p90) as % of capacity, e.g. ``92–140``; empty when unknown."""
        if self.p10_h is None or self.p90_h is None or self.capacity_h <= 0:
            return ""
        low, high = (100 * h / self.capacity_h for h in (self.p10_h, self.p90_h))
        return f"{low:.0f}–{high:.0f}"


@dataclass(frozen=True)
class TopTask:
    """A task that drives a person's load, with a link to it in Asana."""

    gid: str
    name: str
    hours: float
    url: str | None
    imputed: bool = False  # the estimate came from the model, not from Asana


@dataclass(frozen=True)
class PersonRow:
    """One person in a workload table."""

    gid: str
    name: str
    email: str | None
    weeks: tuple[WeekCell, ...]
    top_tasks: tuple[TopTask, ...]


@dataclass(frozen=True)
class QualityNote:
    """Data-quality gaps in what the table is based on (counts of tasks)."""

    unestimated: int = 0
    undated: int = 0
    unassigned: int = 0
    overdue: int = 0
    invalid: int = 0
    outside_scope: int = 0


@dataclass(frozen=True)
class WorkloadReport:
    """The answer to "how loaded is this team / person over the next weeks"."""

    title: str
    team: str | None
    week_starts: tuple[date, ...]
    rows: tuple[PersonRow, ...]
    quality: QualityNote
    synced_at: datetime
    snapshot_hash: str
    project_links: tuple[tuple[str, str], ...] = ()  # (name, url)
    model_version: str | None = None  # the forecast model behind the numbers, if any
    model_note: str = ""  # what the model learned from, or why there is none
    threshold: float = 1.0  # P(over) means P(load > threshold x capacity)
    hidden_tasks: int = 0  # open tasks of these people left out: in projects the viewer can't see

    @property
    def hidden_note(self) -> str:
        """What the viewer is not shown, e.g. ``3 tasks in projects you cannot see are not
        shown.``; empty when nothing is hidden."""
        if not self.hidden_tasks:
            return ""
        if self.hidden_tasks == 1:
            return "1 task in a project you cannot see is not shown."
        return f"{self.hidden_tasks} tasks in projects you cannot see are not shown."
