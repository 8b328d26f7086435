"""Asana records as the snapshot's frames: which custom fields hold effort and skills, the tasks
frame (hours, required skills, home project), each task's projects in scope, and the people
frame (the roster over Asana, skills learned from completed tasks).

Plain records in, frames out: makes no Asana call (the reads are ``bot.asana.sync``) and imports
nothing from Slack, stores or services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from bot.asana.client import Record
from bot.domain import CustomField
from bot.errors import LookupFailed
from bot.roster import RosterEntry
from forecasting import frames

if TYPE_CHECKING:
    from bot.asana.sync import SyncScope


def effort_field(fields: list[Record], scope: SyncScope, warnings: list[str]) -> CustomField | None:
    """The field holding effort: the configured one, else Asana's duration field (minutes)."""
    if scope.effort_field:
        plain_unit_h = 1 / 60 if scope.effort_unit == "minutes" else 1.0
        found = named_field(fields, scope.effort_field, plain_unit_h=plain_unit_h)
        if found is None:
            raise LookupFailed(
                f"ASANA_EFFORT_FIELD {scope.effort_field!r} matches no custom field",
                choices=sorted(f["name"] for f in fields if f.get("resource_subtype") == "number"),
            )
        return found
    durations = [f for f in fields if f.get("format") == "duration"]
    durations.sort(key=lambda f: f.get("asana_created_field") != "estimated_time")
    if not durations:
        warnings.append(
            "no effort field found: every task counts as unestimated (set ASANA_EFFORT_FIELD)"
        )
        return None
    f = durations[0]
    # Asana's "Estimated time" (format duration) holds minutes; budgets use the same unit.
    return CustomField(gid=f["gid"], name=f["name"], subtype="number", unit_h=1 / 60)


def named_field(
    fields: list[Record], wanted: str, *, plain_unit_h: float = 1.0
) -> CustomField | None:
    """The field named ``wanted`` (gid or case-blind name), None when unset or absent."""
    if not wanted:
        return None
    for f in fields:
        if f["gid"] == wanted or f["name"].lower() == wanted.lower():
            minutes = f.get("format") == "duration"  # duration fields always hold minutes
            return CustomField(
                gid=f["gid"],
                name=f["name"],
                subtype=f["resource_subtype"],
                unit_h=1 / 60 if minutes else plain_unit_h,
            )
    return None


def tasks_frame(
    raw: Iterable[Record],
    in_scope: set[str],
    effort: CustomField | None,
    skills: CustomField | None,
) -> pd.DataFrame:
    """The ``tasks`` frame of the raw task records (hours from ``effort``'s unit)."""
    rows = []
    for t in raw:
        values = {cf["gid"]: cf for cf in t.get("custom_fields") or []}
        estimate = None
        if effort is not None and effort.gid in values:
            number = values[effort.gid].get("number_value")
            estimate = None if number is None else float(number) * effort.unit_h
        actual_min = t.get("actual_time_minutes")
        actual = None if actual_min is None else float(actual_min) / 60
        remaining = None
        if estimate is not None:
            remaining = estimate if estimate < 0 else max(estimate - (actual or 0.0), 0.0)
        memberships = [m for m in t.get("memberships") or [] if m.get("project")]
        home = next((m for m in memberships if m["project"]["gid"] in in_scope), None)
        due_on = t.get("due_on") or (t.get("due_at") or "")[:10] or None
        rows.append(
            {
                "gid": t["gid"],
                "name": t.get("name") or "(untitled task)",
                "assignee_gid": (t.get("assignee") or {}).get("gid"),
                "project_gid": home["project"]["gid"] if home else None,
                "section": ((home or {}).get("section") or {}).get("name"),
                "start_on": t.get("start_on"),
                "due_on": due_on,
                "estimate_h": estimate,
                "actual_h": actual,
                "remaining_h": remaining,
                "completed": bool(t.get("completed")),
                "completed_at": t.get("completed_at"),
                "created_at": t.get("created_at"),
                "modified_at": t.get("modified_at"),
                "priority": None,
                "required_skills": _skill_names(values.get(skills.gid) if skills else None),
                "depends_on": tuple(d["gid"] for d in t.get("dependencies") or []),
                "locked": t.get("resource_subtype") == "milestone",
                "url": t.get("permalink_url"),
            }
        )
    return pd.DataFrame(rows, columns=[c.name for c in frames.TASKS])


def task_projects(raw: Iterable[Record], in_scope: set[str]) -> dict[str, frozenset[str]]:
    """Every in-scope project of each task: a task is visible through any of them."""
    return {
        t["gid"]: frozenset(
            m["project"]["gid"]
            for m in t.get("memberships") or []
            if m.get("project") and m["project"]["gid"] in in_scope
        )
        for t in raw
    }


def _skill_names(value: Record | None) -> tuple[str, ...]:
    if not value:
        return ()
    options = value.get("multi_enum_values") or []
    if value.get("enum_value"):
        options = [value["enum_value"]]
    return tuple(str(o["name"]).lower() for o in options if o and o.get("name"))


def people_frame(
    members: Mapping[str, Record],
    team_of: Mapping[str, str],
    roster: Mapping[str, RosterEntry],
    tasks: pd.DataFrame,
    scope: SyncScope,
) -> pd.DataFrame:
    """The ``people`` frame: roster values where given, else Asana's and ``scope``'s defaults."""
    learned = _skills_from_history(tasks)
    rows = []
    for gid, user in members.items():
        email = (user.get("email") or "").lower() or None
        entry = roster.get(email or "") or RosterEntry(email=email or "")
        rows.append(
            {
                "gid": gid,
                "name": user.get("name") or email or gid,
                "email": email,
                "team": entry.team or team_of.get(gid),
                "weekly_capacity_h": (
                    entry.weekly_capacity_h
                    if entry.weekly_capacity_h is not None
                    else scope.default_capacity_h
                ),
                "workdays": entry.workdays or frames.FULL_WEEK,
                "timezone": entry.timezone or scope.default_timezone,
                "country": entry.country or scope.default_country or None,
                "skills": entry.skills if entry.skills is not None else learned.get(gid, ()),
                "is_active": True,
            }
        )
    return pd.DataFrame(rows, columns=[c.name for c in frames.PEOPLE])


def _skills_from_history(tasks: pd.DataFrame) -> dict[str, tuple[tuple[str, int], ...]]:
    """Skill levels 1..5 from how many completed tasks needing each skill a person finished."""
    done = tasks[tasks["completed"].astype(bool) & tasks["assignee_gid"].notna()]
    exploded = done[["assignee_gid", "required_skills"]].explode("required_skills").dropna()
    counts = exploded.groupby(["assignee_gid", "required_skills"]).size()
    out: dict[str, list[tuple[str, int]]] = {}
    for (person, skill), n in zip(counts.index.tolist(), counts.tolist(), strict=True):
        out.setdefault(str(person), []).append((str(skill), int(min(5, 1 + n // 4))))
    return {p: tuple(sorted(s)) for p, s in out.items()}
