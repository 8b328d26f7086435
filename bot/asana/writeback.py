"""Writes back to Asana: reassignments, date moves, custom field values, comments and AI fields.

Every call goes through ``AsanaGateway``; each write reads the fields it changes first, so its
``WriteResult`` carries before and after. Imports nothing from Slack, stores or services.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from bot.asana.client import AsanaGateway, Record
from bot.domain import CustomField
from bot.errors import AsanaError, AsanaUnavailable, BadRequest, ConfigError

log = logging.getLogger(__name__)

# A custom field value as read: number, text, enum option gid, date (YYYY-MM-DD), or a tuple of
# option/user gids for multi_enum and people fields; None when empty.
CustomValue = float | str | tuple[str, ...] | None
# What `set_custom_fields` writes: a number, an enum option gid or a text; None clears.
FieldValue = float | str | None
DateArg = date | str | None

AI_SCORE_FIELD = "AI Capacity Score"
AI_FLAG_FIELD = "AI Overload Flag"
AI_RECOMMENDATION_FIELD = "AI Recommended Reassignment"
AI_SCORE_PRECISION = 2  # decimals Asana shows; scores are rounded to it before writing
# Week status (bot.domain.WeekCell.status) -> (enum option name in Asana, option colour).
AI_FLAG_OPTIONS: Final[Mapping[str, tuple[str, str]]] = {
    "over": ("over", "red"),
    "at_risk": ("at risk", "orange"),
    "ok": ("ok", "green"),
    "under": ("under", "blue"),
}
_AI_DESCRIPTION = "Written by Capacity Copilot; edits by hand are overwritten on its next run."

_VALUE_FIELDS = tuple(
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
_TASK_FIELDS = ("name", "assignee", "start_on", "due_on", "due_at", "modified_at", *_VALUE_FIELDS)
_DATE_FIELDS = ("start_on", "due_on", "due_at")
_DEFINITION_FIELDS = (
    "name",
    "resource_subtype",
    "precision",
    "enum_options.name",
    "enum_options.enabled",
)


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED: Final = _Unchanged.UNCHANGED  # `set_dates` default: leave that date as it is


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


@dataclass(frozen=True)
class AiFields:
    """The workspace's AI custom fields; ``flag_options`` maps a week status to an option gid."""

    score_gid: str
    flag_gid: str
    recommendation_gid: str
    flag_options: Mapping[str, str]
    score_precision: int = AI_SCORE_PRECISION


class AsanaWriter:
    """Task writes and AI field provisioning for one workspace.

    Args:
        gateway: the shared Asana gateway (pacing, retries, error translation).
        workspace_gid: where AI custom fields are looked up and created.
        effort_field: the effort custom field ``read_task`` reports (``Snapshot.effort_field``).

    Every method raises ``bot.errors.AsanaError`` subclasses (``AsanaNotFound`` for a deleted
    task, ``AsanaUnavailable`` for 5xx after retries, ...) whose message names the call, the
    step that failed and whether anything may have been written.
    """

    def __init__(
        self,
        gateway: AsanaGateway,
        *,
        workspace_gid: str,
        effort_field: CustomField | None = None,
    ) -> None:
        self._gateway = gateway
        self.workspace_gid = workspace_gid
        self.effort_field = effort_field

    # ---- reads -----------------------------------------------------------------------------

    def read_task(self, gid: str) -> TaskFields:
        """The task's current fields (one GET)."""
        raw = self._fetch("read_task", gid, _TASK_FIELDS)
        values = _custom_values(raw)
        value = values.get(self.effort_field.gid) if self.effort_field else None
        effort = float(value) if isinstance(value, int | float) else None
        unit_h = self.effort_field.unit_h if self.effort_field else 1.0
        return TaskFields(
            gid=str(raw["gid"]),
            name=str(raw.get("name") or ""),
            assignee_gid=_gid_of(raw.get("assignee")),
            start_on=_day(raw.get("start_on")),
            due_on=_day(raw.get("due_on")),
            effort=effort,
            effort_h=None if effort is None else effort * unit_h,
            custom_fields=values,
            modified_at=str(raw.get("modified_at") or ""),
        )

    # ---- task writes -----------------------------------------------------------------------

    def reassign(self, gid: str, assignee_gid: str | None) -> WriteResult:
        """Assign the task to a user (gid); None unassigns it."""
        call = "reassign"
        before = _gid_of(self._fetch(call, gid, ("assignee",)).get("assignee"))
        answer = self._put(call, gid, {"assignee": assignee_gid}, ("assignee",))
        return self._result(
            call, gid, {"assignee": before}, {"assignee": _gid_of(answer.get("assignee"))}
        )

    def set_dates(
        self,
        gid: str,
        *,
        start_on: DateArg | _Unchanged = UNCHANGED,
        due_on: DateArg | _Unchanged = UNCHANGED,
    ) -> WriteResult:
        """Move the task's start and/or due date; None clears one.

        Asana wants a due date in every request that sets or clears ``start_on``, so when only
        the start is given the current due date (``due_at`` for a timed task) is sent along.

        Raises:
            BadRequest: a date is not YYYY-MM-DD, or a start is given for a task with no due
                date and no ``due_on`` (nothing is written).
        """
        call = "set_dates"
        if isinstance(start_on, _Unchanged) and isinstance(due_on, _Unchanged):
            raise ValueError("set_dates needs start_on, due_on or both")
        data: dict[str, str | None] = {}
        if not isinstance(start_on, _Unchanged):
            data["start_on"] = _iso_day("start_on", start_on)
        if not isinstance(due_on, _Unchanged):
            data["due_on"] = _iso_day("due_on", due_on)
        current = self._fetch(call, gid, _DATE_FIELDS)
        if "start_on" in data and "due_on" not in data:
            if current.get("due_at"):
                data["due_at"] = current["due_at"]  # keeps the time of a timed due date
            else:
                data["due_on"] = current.get("due_on")
            if data["start_on"] is not None and not (data.get("due_at") or data.get("due_on")):
                raise BadRequest(
                    f"set_dates task {gid}: a start date needs a due date and the task has "
                    "none; give due_on as well",
                    user_message="That task has no due date, so it cannot get a start date. "
                    "Give it a due date too.",
                )
        before = {key: current.get(key) for key in data}
        answer = self._put(call, gid, data, tuple(data))
        return self._result(call, gid, before, {key: answer.get(key) for key in data})

    def set_custom_fields(self, gid: str, values: Mapping[str, FieldValue]) -> WriteResult:
        """Write custom field values: a number, an enum option gid (not its name) or a text.

        None clears a value. The fields must be on one of the task's projects.
        """
        return self._write_values("set_custom_fields", gid, values)

    def add_comment(self, gid: str, text: str) -> WriteResult:
        """Post a comment (a story) with ``text`` as plain text.

        The text is sent as ``text``, never ``html_text``, so markup or ``@here`` in it stays
        literal. POST is not retried: a failure surfaces at once rather than risk a double post.
        """
        call = "add_comment"
        if not text.strip():
            raise BadRequest(f"{call} task {gid}: the comment is empty")
        with self._writing(call, gid):
            story = self._gateway.write(
                self._gateway.stories.create_story_for_task,
                {"data": {"text": text}},
                gid,
                fields=("text",),
            )
        return self._result(
            call, gid, {"text": None}, {"text": story.get("text")}, created_gid=str(story["gid"])
        )

    # ---- AI custom fields ------------------------------------------------------------------

    def provision_ai_fields(self, project_gids: Sequence[str]) -> AiFields:
        """Find (by name) or create the AI fields and add them to every project lacking them.

        Idempotent: once done, a call only reads (one listing of the workspace's fields and
        one of each project's settings). If a step fails, the error says what was done
        already; calling again finishes the job.

        Raises:
            ConfigError: a field with an AI field's name exists with another type, or the flag
                field lacks one of its options (nothing is written).
        """
        done: list[str] = []
        gateway = self._gateway
        with self._provisioning("listing the workspace's custom fields", done):
            existing = gateway.list(
                gateway.custom_fields.get_custom_fields_for_workspace,
                self.workspace_gid,
                fields=_DEFINITION_FIELDS,
            )
        problems: list[str] = []
        score = _find_field(existing, AI_SCORE_FIELD, "number", problems)
        flag = _find_field(existing, AI_FLAG_FIELD, "enum", problems)
        recommendation = _find_field(existing, AI_RECOMMENDATION_FIELD, "text", problems)
        if flag is not None:
            _flag_options(flag, problems)
        if problems:
            raise ConfigError(problems)
        if score is None:
            score = self._create_field(
                done,
                AI_SCORE_FIELD,
                {"resource_subtype": "number", "precision": AI_SCORE_PRECISION},
            )
        if flag is None:
            options = [{"name": name, "color": color} for name, color in AI_FLAG_OPTIONS.values()]
            flag = self._create_field(
                done, AI_FLAG_FIELD, {"resource_subtype": "enum", "enum_options": options}
            )
        if recommendation is None:
            recommendation = self._create_field(
                done, AI_RECOMMENDATION_FIELD, {"resource_subtype": "text"}
            )
        for project in dict.fromkeys(project_gids):
            with self._provisioning(f"reading the custom fields of project {project}", done):
                settings = gateway.list(
                    gateway.custom_field_settings.get_custom_field_settings_for_project,
                    project,
                    fields=("custom_field",),
                )
            present = {_gid_of(s.get("custom_field")) for s in settings}
            for custom in (score, flag, recommendation):
                if custom["gid"] in present:
                    continue
                step = f"adding {custom['name']!r} to project {project}"
                with self._provisioning(step, done):
                    gateway.write(
                        gateway.projects.add_custom_field_setting_for_project,
                        {"data": {"custom_field": custom["gid"]}},
                        project,
                    )
                done.append(f"added {custom['name']!r} to project {project}")
        if done:
            log.info("asana provision_ai_fields: %s", "; ".join(done))
        return AiFields(
            score_gid=str(score["gid"]),
            flag_gid=str(flag["gid"]),
            recommendation_gid=str(recommendation["gid"]),
            flag_options=_flag_options(flag, []),
            score_precision=int(score.get("precision") or 0),
        )

    def write_ai_fields(
        self,
        task_gid: str,
        *,
        score: float | None,
        flag: str | None,
        recommendation: str | None,
        fields: AiFields,
    ) -> WriteResult:
        """Write the three AI fields of a task in one PUT; None clears a field.

        Args:
            score: rounded to the score field's precision.
            flag: a week status (``over``, ``at_risk``, ``ok``, ``under``), written as its
                enum option gid.
            recommendation: plain text.
        """
        if score is not None and not math.isfinite(score):
            raise ValueError(f"write_ai_fields: score must be a finite number, not {score}")
        option = None
        if flag is not None:
            option = fields.flag_options.get(flag.strip().lower().replace(" ", "_"))
            if option is None:
                known = ", ".join(fields.flag_options)
                raise ValueError(f"write_ai_fields: unknown flag {flag!r} (one of {known})")
        values: dict[str, FieldValue] = {
            fields.score_gid: None if score is None else round(score, fields.score_precision),
            fields.flag_gid: option,
            fields.recommendation_gid: recommendation or None,
        }
        return self._write_values("write_ai_fields", task_gid, values)

    # ---- internals -------------------------------------------------------------------------

    def _write_values(self, call: str, gid: str, values: Mapping[str, FieldValue]) -> WriteResult:
        if not values:
            raise ValueError(f"{call} needs at least one value")
        for field_gid, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float | str | None):
                raise TypeError(f"{call}: value for field {field_gid} is {type(value).__name__}")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{call}: value for field {field_gid} is {value}")
        current = _custom_values(self._fetch(call, gid, _VALUE_FIELDS))
        answer = _custom_values(
            self._put(call, gid, {"custom_fields": dict(values)}, _VALUE_FIELDS)
        )
        return self._result(
            call,
            gid,
            {key: current.get(key) for key in values},
            {key: answer.get(key) for key in values},
        )

    def _fetch(self, call: str, gid: str, fields: Sequence[str]) -> Record:
        try:
            return self._gateway.get(self._gateway.tasks.get_task, gid, fields=fields)
        except AsanaError as exc:
            tail = "" if call == "read_task" else ", nothing was written"
            raise _reworded(
                exc, f"{call} task {gid}: reading the task failed{tail}: {exc}"
            ) from exc

    def _put(self, call: str, gid: str, data: Mapping[str, Any], fields: Sequence[str]) -> Record:
        with self._writing(call, gid):
            return self._gateway.write(
                self._gateway.tasks.update_task, {"data": dict(data)}, gid, fields=fields
            )

    @contextmanager
    def _writing(self, call: str, gid: str) -> Iterator[None]:
        try:
            yield
        except AsanaError as exc:
            # 4xx and 429 answers mean Asana refused the write; after a 5xx or a lost
            # connection it may or may not have been applied.
            outcome = (
                "it may still have been applied: read the task to check"
                if isinstance(exc, AsanaUnavailable)
                else "nothing was written"
            )
            raise _reworded(exc, f"{call} task {gid}: the write failed ({outcome}): {exc}") from exc

    @contextmanager
    def _provisioning(self, step: str, done: list[str]) -> Iterator[None]:
        try:
            yield
        except AsanaError as exc:
            so_far = "; ".join(done) or "nothing"
            raise _reworded(
                exc,
                f"provision_ai_fields: {step} failed: {exc}. Done before: {so_far}. "
                "Calling it again finishes the job.",
            ) from exc

    def _create_field(self, done: list[str], name: str, spec: Mapping[str, Any]) -> Record:
        body = {
            "data": {
                "workspace": self.workspace_gid,
                "name": name,
                "description": _AI_DESCRIPTION,
                **spec,
            }
        }
        with self._provisioning(f"creating custom field {name!r}", done):
            created = self._gateway.write(
                self._gateway.custom_fields.create_custom_field, body, fields=_DEFINITION_FIELDS
            )
        done.append(f"created {name!r}")
        return created

    def _result(
        self,
        call: str,
        gid: str,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        *,
        created_gid: str | None = None,
    ) -> WriteResult:
        log.info("asana %s: task %s, fields %s", call, gid, ", ".join(after))
        return WriteResult(call, gid, dict(before), dict(after), created_gid)


def _reworded(exc: AsanaError, message: str) -> AsanaError:
    """The same kind of error (status, friendly message) with a message naming the call."""
    return type(exc)(message, status=exc.status, user_message=exc.user_message)


def _find_field(
    existing: Sequence[Record], name: str, subtype: str, problems: list[str]
) -> Record | None:
    named = [f for f in existing if str(f.get("name", "")).casefold() == name.casefold()]
    for custom in named:
        if custom.get("resource_subtype") == subtype:
            return custom
    if named:
        problems.append(
            f"Asana custom field {name!r} is a {named[0].get('resource_subtype')} field, "
            f"expected {subtype}: rename it in Asana so the AI field can be created"
        )
    return None


def _flag_options(flag: Record, problems: list[str]) -> dict[str, str]:
    enabled = {
        str(o.get("name", "")).casefold(): str(o["gid"])
        for o in flag.get("enum_options") or []
        if o.get("enabled", True)
    }
    found = {}
    for status, (name, _) in AI_FLAG_OPTIONS.items():
        if name.casefold() in enabled:
            found[status] = enabled[name.casefold()]
        else:
            problems.append(
                f"Asana custom field {AI_FLAG_FIELD!r} lacks the enabled option {name!r}: "
                "add it in Asana"
            )
    return found


def _custom_values(raw: Record) -> dict[str, CustomValue]:
    values: dict[str, CustomValue] = {}
    for entry in raw.get("custom_fields") or []:
        subtype = entry.get("resource_subtype") or entry.get("type")
        value: CustomValue
        if subtype == "number":
            value = entry.get("number_value")
        elif subtype == "text":
            value = entry.get("text_value")
        elif subtype == "enum":
            value = _gid_of(entry.get("enum_value"))
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


def _gid_of(ref: Any) -> str | None:
    return str(ref["gid"]) if isinstance(ref, dict) and ref.get("gid") else None


def _day(text: Any) -> date | None:
    return date.fromisoformat(str(text)) if text else None


def _iso_day(name: str, value: DateArg) -> str | None:
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
