"""A task's fields as the writer reads and sends them: ``TaskFields``, ``WriteResult``, custom
field values and date arguments, decoded from and encoded to Asana's JSON.

Plain values and their parsing; imports nothing from the gateway, Slack, stores or services.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from bot.errors import BadRequest

# A custom field value as read: number, text, enum option gid, date (YYYY-MM-DD), or a tuple of
# option/user gids for multi_enum and people fields; None when empty.
CustomValue = float | str | tuple[str, ...] | None
# What `set_custom_fields` writes: a number, an enum option gid or a text; None clears.
FieldValue = float | str | None
DateArg = date | str | None

VALUE_FIELDS = tuple(
    f"custom_fields.{name}"
    for name in (
        "name",
        "resource_subtype",
        "number_value",
        "text_value",
        "enum_value",
        "multi_enum_values",
        "people_value",
        "date_value",
        "display_value",
    )
)
TASK_FIELDS = ("name", "assignee", "start_on", "due_on", "due_at", "modified_at", *VALUE_FIELDS)
DATE_FIELDS = ("start_on", "due_on", "due_at")


class Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED  # `set_dates` default: leave that date as it is


@dataclass(frozen=True)
class TaskFields:
    """What a staleness check compares before a write: the task as Asana has it now.

    ``effort`` is the effort field's ``number_value`` in that field's own unit (minutes for
    Asana's duration field "Estimated time", else the unit configured for a plain number
    field); ``effort_h`` is the same in hours (``effort × CustomField.unit_h``, as the
    snapshot's ``estimate_h``). Both are None without an effort field or value.
    ``modified_at`` is Asana's timestamp string: compare it for equality.
    """

    gid: str
    name: str
    assignee_gid: str | None
    start_on: date | None
    due_on: date | None
    effort: float | None
    effort_h: float | None
    custom_fields: Mapping[str, CustomValue]  # field gid -> value (see CustomValue)
    modified_at: str


@dataclass(frozen=True)
class WriteResult:
    """One applied write: exactly the fields written, as read before and as Asana answered.

    Keys are the fields as sent: ``assignee`` (a user gid), ``start_on``/``due_on``/``due_at``,
    custom field gids, or ``text`` for a comment (whose ``before`` is None).
    """

    call: str
    task_gid: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    created_gid: str | None = None  # the story a comment created

    @property
    def changed(self) -> bool:
        """Whether Asana now holds something other than before."""
        return dict(self.before) != dict(self.after)


def custom_values(raw: Mapping[str, Any]) -> dict[str, CustomValue]:
    """A task's custom field values by field gid (see ``CustomValue``)."""
    values: dict[str, CustomValue] = {}
    for entry in raw.get("custom_fields") or []:
        subtype = entry.get("resource_subtype") or entry.get("type")
        value: CustomValue
        if subtype == "number":
            value = entry.get("number_value")
        elif subtype == "text":
            value = entry.get("text_value")
        elif subtype == "enum":
            value = gid_of(entry.get("enum_value"))
        elif subtype == "multi_enum":
            value = tuple(str(o["gid"]) for o in entry.get("multi_enum_values") or [])
        elif subtype == "people":
            value = tuple(str(u["gid"]) for u in entry.get("people_value") or [])
        elif subtype == "date":
            value = (entry.get("date_value") or {}).get("date")
        else:
            value = entry.get("display_value")
        values[str(entry["gid"])] = value
    return values


def gid_of(ref: Any) -> str | None:
    """The gid of a compact record (``{"gid": ...}``), or None for an empty reference."""
    return str(ref["gid"]) if isinstance(ref, dict) and ref.get("gid") else None


def parse_day(text: Any) -> date | None:
    """Asana's YYYY-MM-DD as a date; None when empty."""
    return date.fromisoformat(str(text)) if text else None


def iso_day(name: str, value: DateArg) -> str | None:
    """A date argument as Asana's YYYY-MM-DD (a datetime counts by its own calendar day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        if len(value) == 10 and value[4] == value[7] == "-":
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise BadRequest(f"{name}: {value!r} is not a date; use YYYY-MM-DD")
