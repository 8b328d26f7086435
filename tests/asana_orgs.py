"""Hand-built sandbox organisations whose expected load can be worked out on paper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.asana_server import SandboxState

# Wednesday of ISO week 48; Monday and Tuesday of that week have passed.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SmallOrg:
    """Gids of everything in :func:`small_org`."""

    state: SandboxState
    platform: str
    data: str
    ana: str
    ben: str
    cleo: str
    billing: str
    pipeline: str
    estimate_field: str
    ana_big_task: str
    ben_due_only: str


def small_org() -> SmallOrg:
    """Two teams; Ana is over capacity this week, Ben is lightly loaded next week.

    Default capacity 40 h/week, Monday-Friday, no holidays: 8 h per working day.
    - Ana (Platform): 30 h from Wed 25 to Fri 27 Nov → week 48 has 3 × 8 = 24 h of capacity
      left and 30 h committed: 125 %, over.
    - Ben (Platform): 16 h due Fri 4 Dec with no start → spread over the 5 working days before
      (30 Nov-4 Dec): 16 h of 40 h in week 49, 40 %, under; plus one unestimated task.
    - Cleo (Data): 20 h, 30 Nov-1 Dec, time off on 1 Dec → all 20 h on 30 Nov (the only
      available day), 50 % of week 49's 32 h... see the tests for exact figures.
    - One unassigned task and one completed task (history) in Billing.
    """
    state = SandboxState("Acme", now=lambda: NOW)
    ana = state.add_user("Ana Alves", "ana@example.com")
    ben = state.add_user("Ben Brook", "ben@example.com")
    cleo = state.add_user("Cleo Costa", "cleo@example.com")
    platform = state.add_team("Platform", [ana, ben])
    data = state.add_team("Data", [cleo])
    estimate = state.add_custom_field(
        "Estimated time", "number", format="duration", asana_created_field="estimated_time"
    )
    skills = state.add_custom_field("Skills", "multi_enum", enum_options=["backend", "data"])
    billing = state.add_project("Billing", platform)
    pipeline = state.add_project("Pipeline", data)
    for project in (billing, pipeline):
        state.add_field_to_project(project, estimate)
        state.add_field_to_project(project, skills)
    big = state.add_task(
        "Invoice export",
        projects=[billing],
        assignee=ana,
        start_on="2026-11-25",
        due_on="2026-11-27",
        custom_fields={estimate: 30 * 60, skills: [state.enum_option_gid(skills, "backend")]},
    )
    due_only = state.add_task(
        "Rate limiter",
        projects=[billing],
        assignee=ben,
        due_on="2026-12-04",
        custom_fields={estimate: 16 * 60},
    )
    state.add_task("Unsized spike", projects=[billing], assignee=ben, due_on="2026-12-02")
    state.add_task(
        "Nobody's task", projects=[billing], due_on="2026-12-01", custom_fields={estimate: 120}
    )
    state.add_task(
        "Old migration",
        projects=[billing],
        assignee=ana,
        start_on="2026-10-05",
        due_on="2026-10-09",
        completed=True,
        completed_at="2026-10-09T16:00:00.000Z",
        custom_fields={estimate: 600},
    )
    state.add_task(
        "Backfill",
        projects=[pipeline],
        assignee=cleo,
        start_on="2026-11-30",
        due_on="2026-12-01",
        custom_fields={estimate: 20 * 60},
    )
    state.add_ooo(cleo, "2026-12-01", "2026-12-01")
    return SmallOrg(
        state, platform, data, ana, ben, cleo, billing, pipeline, estimate, big, due_only
    )


@dataclass(frozen=True)
class PlanningOrg:
    """Gids of everything in :func:`planning_org`."""

    state: SandboxState
    ana: str
    ben: str
    cy: str
    roadmap: str
    tax_report: str
    search_api: str
    audit_log: str


def planning_org(*, private_tax_report: bool = False) -> PlanningOrg:
    """One team to rebalance, a backlog to plan; every figure can be worked out on paper.

    Platform: Ana, Ben and Cy, 40 h/week each, Mon-Fri. Skills come from history: Ana and Ben
    completed backend work, Cy data work. Next week (30 Nov-4 Dec) Ana holds "Invoice export"
    30 h and "Tax report" 20 h (both backend): 50 h of 40, over. Ben holds "Rate limiter"
    8 h, Cy nothing; "Audit log" (16 h backend, next week) has no assignee. The Roadmap
    backlog: "Search API" 16 h backend, "Data export" 8 h data, "Rust rewrite" 24 h needing
    rust (nobody has it), "Unsized idea" without an estimate.

    ``private_tax_report``: "Tax report" lives in a private project "Legal" with no members
    instead of Billing (only its assignee Ana and admins can see it).
    """
    state = SandboxState("Acme", now=lambda: NOW)
    ana = state.add_user("Ana Alves", "ana@example.com")
    ben = state.add_user("Ben Brook", "ben@example.com")
    cy = state.add_user("Cy Chen", "cy@example.com")
    platform = state.add_team("Platform", [ana, ben, cy])
    estimate = state.add_custom_field(
        "Estimated time", "number", format="duration", asana_created_field="estimated_time"
    )
    skills = state.add_custom_field(
        "Skills", "multi_enum", enum_options=["backend", "data", "rust"]
    )
    billing = state.add_project("Billing", platform)
    roadmap = state.add_project("Roadmap", platform)
    for project in (billing, roadmap):
        state.add_field_to_project(project, estimate)
        state.add_field_to_project(project, skills)

    def needs(*names: str) -> list[str]:
        return [state.enum_option_gid(skills, n) for n in names]

    for who, skill in ((ana, "backend"), (ben, "backend"), (cy, "data")):
        state.add_task(
            f"Past {skill} work",
            projects=[billing],
            assignee=who,
            start_on="2026-10-05",
            due_on="2026-10-09",
            completed=True,
            completed_at="2026-10-09T16:00:00.000Z",
            custom_fields={estimate: 600, skills: needs(skill)},
        )
    week = {"start_on": "2026-11-30", "due_on": "2026-12-04"}
    state.add_task(
        "Invoice export",
        projects=[billing],
        assignee=ana,
        custom_fields={estimate: 30 * 60, skills: needs("backend")},
        **week,
    )
    legal = state.add_project("Legal", platform, privacy="private", members=[])
    state.add_field_to_project(legal, estimate)
    state.add_field_to_project(legal, skills)
    tax = state.add_task(
        "Tax report",
        projects=[legal if private_tax_report else billing],
        assignee=ana,
        custom_fields={estimate: 20 * 60, skills: needs("backend")},
        **week,
    )
    state.add_task(
        "Rate limiter",
        projects=[billing],
        assignee=ben,
        custom_fields={estimate: 8 * 60, skills: needs("backend")},
        **week,
    )
    audit = state.add_task(
        "Audit log",
        projects=[billing],
        custom_fields={estimate: 16 * 60, skills: needs("backend")},
        **week,
    )
    search = state.add_task(
        "Search API",
        projects=[roadmap],
        custom_fields={estimate: 16 * 60, skills: needs("backend")},
    )
    state.add_task(
        "Data export", projects=[roadmap], custom_fields={estimate: 8 * 60, skills: needs("data")}
    )
    state.add_task(
        "Rust rewrite",
        projects=[roadmap],
        custom_fields={estimate: 24 * 60, skills: needs("rust")},
    )
    state.add_task("Unsized idea", projects=[roadmap])
    return PlanningOrg(state, ana, ben, cy, roadmap, tax, search, audit)


@dataclass(frozen=True)
class VisibilityOrg:
    """Gids of everything :func:`visibility_org` adds to :func:`small_org`."""

    small: SmallOrg
    payroll: str
    infra: str
    exec_: str
    salary_run: str
    disk_upgrade: str
    board_deck: str
    tax_export: str


def visibility_org() -> VisibilityOrg:
    """:func:`small_org` plus Platform projects not everyone can see (public ones stay public).

    - Payroll, private, members: Ana. "Salary run": Ben, 8 h, 30 Nov-4 Dec (week 49).
    - Infra, private to the Platform team. "Disk upgrade": Ben, 20 h, 7-11 Dec (week 50).
    - Exec, private, no members. "Board deck": Ana, 6 h, 7-11 Dec (week 50).
    - "Tax export" lives in Payroll *and* in public Billing: Ana, 4 h, 7-11 Dec (week 50).

    `/capacity team platform 3` (weeks 48-50; 40 h a week, 8 h a day):
    - seeing everything: Ana 125 % · 0 % · 25 % (4 + 6 h); Ben 0 % · 60 % (16 + 8 h) · 50 %.
    - public projects only (Cleo, or anyone not in Asana): Ana 125 % · 0 % · 10 %;
      Ben 0 % · 40 % · 0 %; three tasks hidden.
    - Ben (assignee of his own tasks, in the Platform team): Ana's Board deck is hidden.
    """
    org = small_org()
    state = org.state
    payroll = state.add_project("Payroll", org.platform, privacy="private", members=[org.ana])
    infra = state.add_project("Infra", org.platform, privacy="private_to_team")
    exec_ = state.add_project("Exec", org.platform, privacy="private")
    for project in (payroll, infra, exec_):
        state.add_field_to_project(project, org.estimate_field)
    week_49 = {"start_on": "2026-11-30", "due_on": "2026-12-04"}
    week_50 = {"start_on": "2026-12-07", "due_on": "2026-12-11"}
    estimate = org.estimate_field
    salary = state.add_task(
        "Salary run",
        projects=[payroll],
        assignee=org.ben,
        custom_fields={estimate: 8 * 60},
        **week_49,
    )
    disk = state.add_task(
        "Disk upgrade",
        projects=[infra],
        assignee=org.ben,
        custom_fields={estimate: 20 * 60},
        **week_50,
    )
    deck = state.add_task(
        "Board deck",
        projects=[exec_],
        assignee=org.ana,
        custom_fields={estimate: 6 * 60},
        **week_50,
    )
    tax = state.add_task(
        "Tax export",
        projects=[payroll, org.billing],
        assignee=org.ana,
        custom_fields={estimate: 4 * 60},
        **week_50,
    )
    return VisibilityOrg(org, payroll, infra, exec_, salary, disk, deck, tax)
