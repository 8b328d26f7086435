"""The ``/capacity`` slash command: ack at once, then answer with Block Kit via response_url."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import services
from bot.agent.intents import (
    BadWeeks,
    Intent,
    ShowHelp,
    ShowMyTeam,
    ShowPerson,
    ShowTeam,
    Unknown,
    parse_command,
)
from bot.bootstrap import Deps
from bot.domain import WorkloadReport
from bot.errors import CopilotError, LookupFailed
from bot.slack import blocks, ids, messages

log = logging.getLogger(__name__)
EMAIL_TTL_S = 24 * 3600


def register(app: App, deps: Deps) -> None:
    """Attach the ``/capacity`` listener to ``app``."""

    @app.command(ids.COMMAND)
    def capacity(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        intent = parse_command(str(body.get("text") or ""))
        immediate = _immediate_answer(intent)
        if immediate is not None:
            ack(text=immediate[0], blocks=immediate[1])  # answered within the 3-second ack
            return
        ack(text=messages.WORKING, response_type="ephemeral")
        user_id = str(body.get("user_id") or "")
        answer(
            respond,
            lambda: _workload(deps, intent, client, user_id, str(body.get("team_id") or "")),
            context=f"/capacity {body.get('text')!r} from {user_id}",
        )


def answer(
    respond: Respond, build: Callable[[], tuple[str, list[dict[str, Any]]]], *, context: str
) -> None:
    """Run ``build`` and respond with its text and blocks, or with a friendly error."""
    try:
        text, body = build()
    except LookupFailed as exc:
        log.info("%s: %s", context, exc)
        text = exc.user_message
        body = blocks.text_blocks(text)
    except CopilotError as exc:
        log.warning("%s failed: %s", context, exc)
        text = exc.user_message
        body = blocks.text_blocks(text)
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("%s failed (ref %s)", context, ref)
        text = messages.INTERNAL_ERROR.format(ref=ref)
        body = blocks.text_blocks(text)
    respond(text=text, blocks=body, response_type="ephemeral", replace_original=True)


def _immediate_answer(intent: Intent) -> tuple[str, list[dict[str, Any]]] | None:
    if isinstance(intent, ShowHelp):
        return messages.HELP, blocks.help_blocks()
    if isinstance(intent, Unknown):
        text = messages.unknown_command(intent.text, intent.suggestion)
        return text, blocks.text_blocks(text)
    if isinstance(intent, BadWeeks):
        text = messages.bad_weeks(intent.value)
        return text, blocks.text_blocks(text)
    return None


def _workload(
    deps: Deps, intent: Intent, client: WebClient, user_id: str, team_id: str
) -> tuple[str, list[dict[str, Any]]]:
    report: WorkloadReport
    if isinstance(intent, ShowTeam):
        try:
            report = services.get_team_workload(deps, team=intent.team, weeks=intent.weeks)
        except LookupFailed as exc:
            raise _friendly(exc, messages.unknown_team(intent.team, exc.choices)) from None
    elif isinstance(intent, ShowPerson):
        query = intent.query or slack_email(deps, client, intent.slack_user_id or "", team_id)
        if not query:
            failure = LookupFailed(f"user {intent.slack_user_id} has no email in Slack")
            raise _friendly(failure, messages.unknown_person("that user", []))
        try:
            report = services.get_person_workload(deps, person=query, weeks=intent.weeks)
        except LookupFailed as exc:
            raise _friendly(exc, messages.unknown_person(query, exc.choices)) from None
    elif isinstance(intent, ShowMyTeam):
        email = slack_email(deps, client, user_id, team_id)
        team = services.team_of_email(deps, email)
        if team is None:
            raise _friendly(
                LookupFailed(f"caller {user_id} not mapped"), messages.caller_not_mapped(email)
            )
        report = services.get_team_workload(deps, team=team, weeks=intent.weeks)
    else:  # pragma: no cover - _immediate_answer handled every other intent
        raise AssertionError(f"unexpected intent {intent!r}")
    return blocks.workload_text(report), blocks.workload_blocks(report)


def slack_email(deps: Deps, client: WebClient, user_id: str, team_id: str) -> str | None:
    """The email of a Slack user (``users.info``, scope users:read.email), cached for a day."""
    if not user_id:
        return None
    key = f"slack:email:{team_id}:{user_id}"
    cached = deps.store.get(key)
    if isinstance(cached, str):
        return cached or None
    try:
        profile = client.users_info(user=user_id)["user"].get("profile", {})
    except SlackApiError as exc:
        log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
        return None
    email = str(profile.get("email") or "").lower()
    deps.store.set(key, email, ttl_s=EMAIL_TTL_S)
    return email or None


def _friendly(exc: LookupFailed, text: str) -> LookupFailed:
    friendly = LookupFailed(str(exc), choices=exc.choices)
    friendly.user_message = text
    return friendly
