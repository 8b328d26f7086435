"""Loads a ``SyntheticOrg`` into the sandbox Asana and writes the roster Asana cannot hold.

People, teams, projects, custom fields (Estimated time in minutes, Skills, Priority), open and
completed tasks with time tracking, and out-of-office entries, all with the generator's gids.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.synthetic import SyntheticOrg
from forecasting.synthetic_people import SKILLS
from sandbox.asana_server import SandboxState

PRIORITIES = ("High", "Medium", "Low")


@dataclass(frozen=True)
class DemoFields:
    """Gids of the custom fields the demo organisation uses."""

    estimate: str
    skills: str
    priority: str


def load_org(org: SyntheticOrg, state: SandboxState) -> DemoFields:
    """Create everything in ``org`` inside ``state`` (an empty sandbox workspace)."""
    people = _records(org.people)
    for p in people:
        state.add_user(p["name"], p["email"], gid=p["gid"])
    team_gid = {}
    for t in _records(org.teams):
        members = [p["gid"] for p in people if p["team"] == t["name"]]
        team_gid[t["name"]] = state.add_team(t["name"], members, gid=t["gid"])
    fields = DemoFields(
        estimate=state.add_custom_field(
            "Estimated time", "number", format="duration", asana_created_field="estimated_time"
        ),
        skills=state.add_custom_field("Skills", "multi_enum", enum_options=list(SKILLS)),
        priority=state.add_custom_field("Priority", "enum", enum_options=list(PRIORITIES)),
    )
    for pr in _records(org.projects):
        state.add_project(pr["name"], team_gid.get(pr["team"]), gid=pr["gid"])
        for field_gid in (fields.estimate, fields.skills, fields.priority):
            state.add_field_to_project(pr["gid"], field_gid)
    created: set[str] = set()
    for t in _records(_dependencies_first(org.tasks)):
        created.add(t["gid"])
        state.add_task(
            t["name"],
            projects=[t["project_gid"]] if t["project_gid"] else [],
            section=t["section"],
            assignee=t["assignee_gid"],
            start_on=_day(t["start_on"]),
            due_on=_day(t["due_on"]),
            completed=bool(t["completed"]),
            completed_at=_stamp(t["completed_at"]),
            created_at=_stamp(t["created_at"]),
            custom_fields=_values(t, fields, state),
            dependencies=[str(d) for d in t["depends_on"] if str(d) in created],
            gid=t["gid"],
        )
    for e in _records(org.time_entries):
        if int(e["minutes"]) <= 0:  # Asana accepts only positive durations; zero adds nothing
            continue
        state.add_time_entry(
            e["task_gid"], e["person_gid"], _day(e["entered_on"]) or "", int(e["minutes"])
        )
    for off in _records(org.time_off):
        state.add_ooo(off["person_gid"], _day(off["start_on"]) or "", _day(off["end_on"]) or "")
    return fields


def write_roster(org: SyntheticOrg, path: Path) -> Path:
    """Write the roster CSV (capacity, calendar, skills per email) that the bot reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["email", "team", "weekly_capacity_h", "workdays", "country", "timezone", "skills"]
        )
        for p in _records(org.people):
            skills = ";".join(f"{name}:{level}" for name, level in p["skills"])
            writer.writerow(
                [
                    p["email"],
                    p["team"],
                    f"{p['weekly_capacity_h']:g}",
                    p["workdays"],
                    p["country"] or "",
                    p["timezone"] or "",
                    skills,
                ]
            )
    return path


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, with every missing value (NaN, NaT) as None."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in clean.to_dict("records")]


def _dependencies_first(tasks: pd.DataFrame) -> pd.DataFrame:
    """Tasks ordered so that each one's dependencies come before it (Asana needs them to exist)."""
    remaining = dict(zip(tasks["gid"], tasks["depends_on"], strict=True))
    order: list[str] = []
    done: set[str] = set()
    while remaining:
        ready = [g for g, deps in remaining.items() if all(d in done for d in deps)]
        if not ready:  # a cycle: break it; load_org drops the links to tasks not yet created
            ready = list(remaining)
        for gid in ready:
            order.append(gid)
            done.add(gid)
            del remaining[gid]
    return tasks.set_index("gid", drop=False).loc[order].reset_index(drop=True)


def _values(task: dict[str, Any], fields: DemoFields, state: SandboxState) -> dict[str, object]:
    values: dict[str, object] = {}
    estimate = task["estimate_h"]
    if pd.notna(estimate):
        values[fields.estimate] = round(float(estimate) * 60)  # "Estimated time" is in minutes
    skills = task["required_skills"]
    if skills:
        values[fields.skills] = [state.enum_option_gid(fields.skills, s) for s in skills]
    priority = task["priority"]
    if isinstance(priority, str) and priority.capitalize() in PRIORITIES:
        values[fields.priority] = state.enum_option_gid(fields.priority, priority.capitalize())
    return values


def _day(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _stamp(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.000Z")
