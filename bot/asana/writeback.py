"""Writes back to Asana: reassignments, date moves, custom field values, comments and AI fields.

Every call goes through ``AsanaGateway``; each write reads the fields it changes first, so its
``WriteResult`` carries before and after. The values it reads and sends are in
``bot.asana.task_fields``, the AI fields' names and provisioning in ``bot.asana.ai_fields``.
Imports nothing from Slack, stores or services.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from bot.asana import ai_fields
from bot.asana.ai_fields import AiFields
from bot.asana.client import AsanaGateway, Record, reworded
from bot.asana.task_fields import (
    DATE_FIELDS,
    TASK_FIELDS,
    UNCHANGED,
    VALUE_FIELDS,
    DateArg,
    FieldValue,
    TaskFields,
    Unchanged,
    WriteResult,
    custom_values,
    gid_of,
    iso_day,
    parse_day,
)
from bot.domain import CustomField
from bot.errors import AsanaError, AsanaUnavailable, BadRequest

log = logging.getLogger(__name__)


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
        raw = self._fetch("read_task", gid, TASK_FIELDS)
        values = custom_values(raw)
        value = values.get(self.effort_field.gid) if self.effort_field else None
        effort = float(value) if isinstance(value, int | float) else None
        unit_h = self.effort_field.unit_h if self.effort_field else 1.0
        return TaskFields(
            gid=str(raw["gid"]),
            name=str(raw.get("name") or ""),
            assignee_gid=gid_of(raw.get("assignee")),
            start_on=parse_day(raw.get("start_on")),
            due_on=parse_day(raw.get("due_on")),
            effort=effort,
            effort_h=None if effort is None else effort * unit_h,
            custom_fields=values,
            modified_at=str(raw.get("modified_at") or ""),
        )

    # ---- task writes -----------------------------------------------------------------------

    def reassign(self, gid: str, assignee_gid: str | None) -> WriteResult:
        """Assign the task to a user (gid); None unassigns it."""
        call = "reassign"
        before = gid_of(self._fetch(call, gid, ("assignee",)).get("assignee"))
        answer = self._put(call, gid, {"assignee": assignee_gid}, ("assignee",))
        return self._result(
            call, gid, {"assignee": before}, {"assignee": gid_of(answer.get("assignee"))}
        )

    def set_dates(
        self,
        gid: str,
        *,
        start_on: DateArg | Unchanged = UNCHANGED,
        due_on: DateArg | Unchanged = UNCHANGED,
    ) -> WriteResult:
        """Move the task's start and/or due date; None clears one.

        Asana wants a due date in every request that sets or clears ``start_on``, so when only
        the start is given the current due date (``due_at`` for a timed task) is sent along.

        Raises:
            BadRequest: a date is not YYYY-MM-DD, or a start is given for a task with no due
                date and no ``due_on`` (nothing is written).
        """
        call = "set_dates"
        if isinstance(start_on, Unchanged) and isinstance(due_on, Unchanged):
            raise ValueError("set_dates needs start_on, due_on or both")
        data: dict[str, str | None] = {}
        if not isinstance(start_on, Unchanged):
            data["start_on"] = iso_day("start_on", start_on)
        if not isinstance(due_on, Unchanged):
            data["due_on"] = iso_day("due_on", due_on)
        current = self._fetch(call, gid, DATE_FIELDS)
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
        return ai_fields.provision_ai_fields(
            self._gateway, workspace_gid=self.workspace_gid, project_gids=project_gids
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
        values = ai_fields.ai_field_values(
            fields, score=score, flag=flag, recommendation=recommendation
        )
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
        current = custom_values(self._fetch(call, gid, VALUE_FIELDS))
        answer = custom_values(self._put(call, gid, {"custom_fields": dict(values)}, VALUE_FIELDS))
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
            raise reworded(exc, f"{call} task {gid}: reading the task failed{tail}: {exc}") from exc

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
            raise reworded(exc, f"{call} task {gid}: the write failed ({outcome}): {exc}") from exc

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
