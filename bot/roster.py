"""The optional roster file: per-person capacity, team, calendar and skills Asana cannot hold.

Asana's API exposes no capacity, working days or skills for people (notes §4.4), so these come
from a CSV keyed by email. Every bad row is reported with its line number.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import holidays

from bot.errors import ConfigError

COLUMNS = (
    "email",
    "team",
    "weekly_capacity_h",
    "workdays",
    "country",
    "timezone",
    "skills",
    "approver",
)


@dataclass(frozen=True)
class RosterEntry:
    """What the roster says about one person; ``None`` = use the default."""

    email: str
    team: str | None = None
    weekly_capacity_h: float | None = None
    workdays: str | None = None
    country: str | None = None
    timezone: str | None = None
    skills: tuple[tuple[str, int], ...] | None = None
    approver: bool = False  # may approve moves of their team


def load_roster(path: Path) -> dict[str, RosterEntry]:
    """Read ``path`` into entries keyed by lower-case email.

    Raises:
        ConfigError: one problem per bad line, e.g. ``roster.csv:4: weekly_capacity_h …``.
    """
    problems: list[str] = []
    entries: dict[str, RosterEntry] = {}
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"ROSTER_PATH {path}: cannot read ({exc.strerror})"]) from None
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "email" not in reader.fieldnames:
            raise ConfigError([f"{path}: the header must include 'email' (columns: {COLUMNS})"])
        for line, row in enumerate(reader, start=2):
            try:
                entry = _entry(row)
            except ValueError as exc:
                problems.append(f"{path.name}:{line}: {exc}")
                continue
            entries[entry.email] = entry
    if problems:
        raise ConfigError(problems)
    return entries


def _entry(row: dict[str, str | None]) -> RosterEntry:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    email = cell("email").lower()
    if "@" not in email:
        raise ValueError(f"email {email!r} is not an email address")
    capacity = None
    if cell("weekly_capacity_h"):
        try:
            capacity = float(cell("weekly_capacity_h"))
        except ValueError:
            raise ValueError("weekly_capacity_h must be a number of hours") from None
        if not 0 <= capacity <= 168:
            raise ValueError("weekly_capacity_h must be between 0 and 168")
    workdays = cell("workdays") or None
    if workdays is not None and not re.fullmatch(r"[01]{7}", workdays):
        raise ValueError("workdays must be 7 digits 0/1 for Monday..Sunday, e.g. 1111100")
    country = cell("country").upper() or None
    if country is not None and country not in holidays.list_supported_countries():
        raise ValueError(f"country {country!r} is not an ISO code known to `holidays`")
    return RosterEntry(
        email=email,
        team=cell("team") or None,
        weekly_capacity_h=capacity,
        workdays=workdays,
        country=country,
        timezone=cell("timezone") or None,
        skills=_skills(cell("skills")) if cell("skills") else None,
        approver=_yes(cell("approver")),
    )


def _skills(raw: str) -> tuple[tuple[str, int], ...]:
    skills = []
    for part in raw.split(";"):
        if not part.strip():
            continue
        name, _, level = part.partition(":")
        try:
            value = int(level) if level.strip() else 3
        except ValueError:
            raise ValueError(f"skill level in {part.strip()!r} must be 1..5") from None
        if not 1 <= value <= 5:
            raise ValueError(f"skill level in {part.strip()!r} must be 1..5")
        skills.append((name.strip().lower(), value))
    return tuple(skills)


def team_approvers(roster: dict[str, RosterEntry], team: str) -> tuple[str, ...]:
    """Emails the roster names as approvers of ``team`` (case-insensitive team name)."""
    wanted = team.strip().lower()
    return tuple(
        e.email for e in roster.values() if e.approver and (e.team or "").lower() == wanted
    )


def _yes(raw: str) -> bool:
    if raw.lower() in ("", "no", "false", "0"):
        return False
    if raw.lower() in ("yes", "true", "1"):
        return True
    raise ValueError(f"approver must be yes or no, got {raw!r}")
