"""Scenario terms as people type them (``ana:2026-12-01..2026-12-12``) turned into transforms.

Shared by the CLI's ``whatif`` flags and, later, the Slack intent engine. Names are resolved
against the snapshot; anything unreadable raises :class:`BadRequest` naming the term and the
form expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain import Snapshot
from bot.errors import BadRequest
from bot.services import resolve_person, resolve_task
from forecasting.scenarios import (
    CapacityChange,
    DeferTask,
    NewHire,
    NewProject,
    PersonOut,
    RemoveTask,
    Shift,
    Transform,
)

FORMS = {
    "out": "PERSON:FROM..TO",
    "new-project": "HOURS:SKILL:FROM..TO",
    "shift": "PROJECT_OR_TASK:WORKING_DAYS",
    "capacity": "PERSON:WEEKLY_HOURS:FROM",
    "hire": "NAME:SKILL[/LEVEL][+SKILL...]:WEEKLY_HOURS:FROM",
    "remove": "TASK",
    "defer": "TASK:DATE",
}


@dataclass(frozen=True)
class ScenarioTerms:
    """The raw terms of one what-if question, one tuple per kind."""

    out: Sequence[str] = ()
    new_project: Sequence[str] = ()
    shift: Sequence[str] = ()
    capacity: Sequence[str] = ()
    hire: Sequence[str] = ()
    remove: Sequence[str] = ()
    defer: Sequence[str] = ()

    def __bool__(self) -> bool:
        return any(getattr(self, k.replace("-", "_")) for k in FORMS)


def parse_terms(snapshot: Snapshot, terms: ScenarioTerms, *, team: str) -> list[Transform]:
    """The transforms the terms describe, in the order: out, capacity, hire, new project,
    shift, defer, remove (hires come before new projects so they can take a share).

    Raises:
        BadRequest: a term does not have its form, or a date or number cannot be read.
        LookupFailed: a person, project or task is unknown.
    """
    pool = tuple(
        str(g)
        for g in snapshot.people.loc[
            (snapshot.people["team"] == team) & snapshot.people["is_active"].to_numpy(bool), "gid"
        ]
    )
    out: list[Transform] = []
    for raw in terms.out:
        who, span = _parts(raw, "out", 2)
        start, end = _span(span, "out", raw)
        out.append(PersonOut(_person(snapshot, who), start, end))
    for raw in terms.capacity:
        who, hours, since = _parts(raw, "capacity", 3)
        out.append(
            CapacityChange(
                _person(snapshot, who),
                _hours(hours, "capacity", raw),
                _date(since, "capacity", raw),
            )
        )
    for number, raw in enumerate(terms.hire, 1):
        name, skills, hours, since = _parts(raw, "hire", 4)
        out.append(
            NewHire(
                gid=f"whatif:hire:{number}",
                name=name,
                skills=_skills(skills, raw),
                weekly_hours=_hours(hours, "hire", raw),
                start=_date(since, "hire", raw),
                team=team,
            )
        )
        pool += (f"whatif:hire:{number}",)
    for number, raw in enumerate(terms.new_project, 1):
        hours, skill, span = _parts(raw, "new-project", 3)
        start, end = _span(span, "new-project", raw)
        out.append(
            NewProject(
                name=f"new project {number}",
                hours_by_skill={skill.strip(): _hours(hours, "new-project", raw)},
                start=start,
                end=end,
                pool=pool,
            )
        )
    for raw in terms.shift:
        target, days = _parts(raw, "shift", 2)
        out.append(_shift(snapshot, target, _int(days, "shift", raw)))
    for raw in terms.defer:
        task, until = _parts(raw, "defer", 2)
        out.append(DeferTask(resolve_task(snapshot, task), _date(until, "defer", raw)))
    out.extend(RemoveTask(resolve_task(snapshot, raw.strip())) for raw in terms.remove)
    return out


def _parts(raw: str, kind: str, count: int) -> list[str]:
    parts = raw.rsplit(":", count - 1) if kind != "hire" else raw.split(":")
    if len(parts) != count or not all(p.strip() for p in parts):
        raise BadRequest(
            f"--{kind} {raw!r}: expected {FORMS[kind]}",
            user_message=f"I could not read '{raw}': write it as {FORMS[kind]}.",
        )
    return [p.strip() for p in parts]


def _span(span: str, kind: str, raw: str) -> tuple[date, date]:
    first, _, last = span.partition("..")
    start = _date(first, kind, raw)
    return start, _date(last, kind, raw) if last else start


def _date(text: str, kind: str, raw: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest(
            f"--{kind} {raw!r}: {text!r} is not a date",
            user_message=f"'{text}' in '{raw}' is not a date: use YYYY-MM-DD.",
        ) from None


def _hours(text: str, kind: str, raw: str) -> float:
    try:
        value = float(text.strip().removesuffix("h"))
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise BadRequest(
            f"--{kind} {raw!r}: {text!r} is not a number of hours",
            user_message=f"'{text}' in '{raw}' is not a number of hours.",
        )
    return value


def _int(text: str, kind: str, raw: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise BadRequest(
            f"--{kind} {raw!r}: {text!r} is not a whole number",
            user_message=f"'{text}' in '{raw}' is not a whole number of working days.",
        ) from None


def _skills(text: str, raw: str) -> tuple[tuple[str, int], ...]:
    skills = []
    for part in text.split("+"):
        name, _, level = part.partition("/")
        value = _int(level, "hire", raw) if level else 3
        if not 1 <= value <= 5:
            raise BadRequest(
                f"--hire {raw!r}: skill level {value} outside 1..5",
                user_message=f"Skill levels run from 1 to 5 (in '{raw}').",
            )
        skills.append((name.strip(), value))
    return tuple(skills)


def _person(snapshot: Snapshot, query: str) -> str:
    return str(resolve_person(snapshot, query)["gid"])


def _shift(snapshot: Snapshot, target: str, days: int) -> Transform:
    for gid, name in snapshot.projects.items():
        if target.lower() in (str(gid), str(name).lower()):
            return Shift(days, project_gid=str(gid))
    return Shift(days, task_gid=resolve_task(snapshot, target))
