"""The AI custom fields as Asana holds them: names, types and flag options, finding or creating
them in a workspace, and the values one task's three fields take.

Reached through ``AsanaWriter.provision_ai_fields`` and ``write_ai_fields``; what to write, and
when, is ``bot.ai_fields``. Imports nothing from Slack, stores or services.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from bot.asana.client import AsanaGateway, Record, reworded
from bot.asana.task_fields import FieldValue, gid_of
from bot.errors import AsanaError, ConfigError

log = logging.getLogger(__name__)

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
_DEFINITION_FIELDS = (
    "name",
    "resource_subtype",
    "precision",
    "enum_options.name",
    "enum_options.enabled",
)


@dataclass(frozen=True)
class AiFields:
    """The workspace's AI custom fields; ``flag_options`` maps a week status to an option gid."""

    score_gid: str
    flag_gid: str
    recommendation_gid: str
    flag_options: Mapping[str, str]
    score_precision: int = AI_SCORE_PRECISION


def provision_ai_fields(
    gateway: AsanaGateway, *, workspace_gid: str, project_gids: Sequence[str]
) -> AiFields:
    """The work of ``AsanaWriter.provision_ai_fields`` (its docstring gives the contract)."""
    done: list[str] = []
    with _provisioning("listing the workspace's custom fields", done):
        existing = gateway.list(
            gateway.custom_fields.get_custom_fields_for_workspace,
            workspace_gid,
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
        score = _create_field(
            gateway,
            workspace_gid,
            done,
            AI_SCORE_FIELD,
            {"resource_subtype": "number", "precision": AI_SCORE_PRECISION},
        )
    if flag is None:
        options = [{"name": name, "color": color} for name, color in AI_FLAG_OPTIONS.values()]
        flag = _create_field(
            gateway,
            workspace_gid,
            done,
            AI_FLAG_FIELD,
            {"resource_subtype": "enum", "enum_options": options},
        )
    if recommendation is None:
        recommendation = _create_field(
            gateway, workspace_gid, done, AI_RECOMMENDATION_FIELD, {"resource_subtype": "text"}
        )
    for project in dict.fromkeys(project_gids):
        with _provisioning(f"reading the custom fields of project {project}", done):
            settings = gateway.list(
                gateway.custom_field_settings.get_custom_field_settings_for_project,
                project,
                fields=("custom_field",),
            )
        present = {gid_of(s.get("custom_field")) for s in settings}
        for custom in (score, flag, recommendation):
            if custom["gid"] in present:
                continue
            step = f"adding {custom['name']!r} to project {project}"
            with _provisioning(step, done):
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


def ai_field_values(
    fields: AiFields, *, score: float | None, flag: str | None, recommendation: str | None
) -> dict[str, FieldValue]:
    """The three fields' values as ``write_ai_fields`` sends them (field gid -> value)."""
    if score is not None and not math.isfinite(score):
        raise ValueError(f"write_ai_fields: score must be a finite number, not {score}")
    option = None
    if flag is not None:
        option = fields.flag_options.get(flag.strip().lower().replace(" ", "_"))
        if option is None:
            known = ", ".join(fields.flag_options)
            raise ValueError(f"write_ai_fields: unknown flag {flag!r} (one of {known})")
    return {
        fields.score_gid: None if score is None else round(score, fields.score_precision),
        fields.flag_gid: option,
        fields.recommendation_gid: recommendation or None,
    }


@contextmanager
def _provisioning(step: str, done: list[str]) -> Iterator[None]:
    try:
        yield
    except AsanaError as exc:
        so_far = "; ".join(done) or "nothing"
        raise reworded(
            exc,
            f"provision_ai_fields: {step} failed: {exc}. Done before: {so_far}. "
            "Calling it again finishes the job.",
        ) from exc


def _create_field(
    gateway: AsanaGateway,
    workspace_gid: str,
    done: list[str],
    name: str,
    spec: Mapping[str, Any],
) -> Record:
    body = {
        "data": {
            "workspace": workspace_gid,
            "name": name,
            "description": _AI_DESCRIPTION,
            **spec,
        }
    }
    with _provisioning(f"creating custom field {name!r}", done):
        created = gateway.write(
            gateway.custom_fields.create_custom_field, body, fields=_DEFINITION_FIELDS
        )
    done.append(f"created {name!r}")
    return created


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
