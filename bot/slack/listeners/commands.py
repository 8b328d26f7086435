"""The ``/capacity`` slash command: ack at once, then answer with Block Kit via response_url.

Everything after ``ack()`` runs on the workers (:mod:`bot.slack.background`), so a slow Asana or
solver never holds up the next request's ack.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import approvals, rollout, services
from bot.agent.intents import (
    BadCount,
    BadMode,
    BadWeeks,
    Intent,
    Rebalance,
    SetMode,
    SetPaused,
    ShowAudit,
    ShowHelp,
    ShowMode,
    ShowMyTeam,
    ShowPerson,
    ShowTeam,
    Unknown,
    parse_command,
)
from bot.ai_fields import publish_team_ai_fields
from bot.bootstrap import Deps
from bot.domain import Viewer, WorkloadReport
from bot.errors import CopilotError, LookupFailed
from bot.slack import blocks, ids, messages
from bot.slack.background import BackgroundJobs
from bot.slack.listeners.approvals import post_proposal
from bot.slack.users import actor_of, slack_email

log = logging.getLogger(__name__)
Answer = tuple[str, list[dict[str, Any]]]


def register(app: App, deps: Deps, jobs: BackgroundJobs) -> None:
    """Attach the ``/capacity`` listener to ``app``."""

    @app.command(ids.COMMAND)
    def capacity(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        intent = parse_command(str(body.get("text") or ""))
        immediate = _immediate_answer(intent)
        if immediate is not None:
            ack(text=immediate[0], blocks=immediate[1])  # answered within the 3-second ack
            return
        ack(text=messages.WORKING, response_type="ephemeral")
        request = _Request(
            user_id=str(body.get("user_id") or ""),
            team_id=str(body.get("team_id") or ""),
            channel_id=str(body.get("channel_id") or ""),
        )
        context = f"/capacity {body.get('text')!r} from {request.user_id}"
        jobs.submit(
            lambda: answer(respond, lambda: _build(deps, intent, client, request), context=context),
            context=context,
        )


@dataclass(frozen=True)
class _Request:
    user_id: str
    team_id: str
    channel_id: str


def answer(respond: Respond, build: Callable[[], Answer], *, context: str) -> None:
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


def _immediate_answer(intent: Intent) -> Answer | None:
    if isinstance(intent, ShowHelp):
        return messages.HELP, blocks.help_blocks()
    if isinstance(intent, Unknown):
        text = messages.unknown_command(intent.text, intent.suggestion)
        return text, blocks.text_blocks(text)
    if isinstance(intent, BadWeeks):
        text = messages.bad_weeks(intent.value)
        return text, blocks.text_blocks(text)
    if isinstance(intent, BadMode):
        text = messages.bad_mode(intent.value)
        return text, blocks.text_blocks(text)
    if isinstance(intent, BadCount):
        text = messages.bad_count(intent.value)
        return text, blocks.text_blocks(text)
    return None


def _build(deps: Deps, intent: Intent, client: WebClient, request: _Request) -> Answer:
    """The answer to an intent that needs Asana, the store or the caller's identity."""
    if isinstance(intent, Rebalance):
        return _rebalance(deps, intent, client, request)
    if isinstance(intent, ShowMode | SetMode | SetPaused | ShowAudit):
        return _admin(deps, intent, client, request)
    return _workload(deps, intent, client, request.user_id, request.team_id)


def _rebalance(deps: Deps, intent: Rebalance, client: WebClient, request: _Request) -> Answer:
    team = intent.team or _callers_team(deps, client, request.user_id, request.team_id)
    try:
        proposal = approvals.propose(
            deps,
            team=team,
            requested_by=request.user_id,
            weeks=intent.weeks,
            viewer=_viewer(deps, client, request.user_id, request.team_id),
        )
    except LookupFailed as exc:
        raise _friendly(exc, messages.unknown_team(team, exc.choices)) from None
    if not proposal.moves:
        text = messages.nothing_to_rebalance(proposal.team, proposal.summary)
        return text, blocks.text_blocks(text)
    try:
        posted = post_proposal(deps, client, proposal, request.channel_id)
    except SlackApiError as exc:
        log.warning(
            "posting proposal %s failed: %s", proposal.proposal_id, exc.response.get("error")
        )
        text = messages.cannot_post(request.channel_id)
        return text, blocks.text_blocks(text)
    shadow = approvals.current_mode(deps) == "shadow"
    text = messages.proposal_posted(posted.channel or "", len(posted.moves), shadow=shadow)
    return text, blocks.text_blocks(text)


def _admin(
    deps: Deps,
    intent: ShowMode | SetMode | SetPaused | ShowAudit,
    client: WebClient,
    request: _Request,
) -> Answer:
    if isinstance(intent, ShowMode):
        text = messages.mode_status(approvals.current_mode(deps), approvals.writes_paused(deps))
        return text, blocks.text_blocks(text)
    actor = actor_of(deps, client, request.user_id, request.team_id)
    if isinstance(intent, SetMode):
        text = approvals.set_mode(deps, actor, intent.mode)
    elif isinstance(intent, SetPaused):
        text = approvals.set_paused(deps, actor, intent.paused)
    elif not approvals.is_admin(deps, actor):
        text = messages.AUDIT_ADMINS_ONLY
    else:
        recent = list(deps.audit.records())[-intent.count :]
        return blocks.audit_text(recent), blocks.audit_blocks(recent)
    return text, blocks.text_blocks(text)


def _callers_team(deps: Deps, client: WebClient, user_id: str, team_id: str) -> str:
    email = slack_email(deps, client, user_id, team_id)
    team = services.team_of_email(deps, email)
    if team is None:
        raise _friendly(
            LookupFailed(f"caller {user_id} not mapped"), messages.caller_not_mapped(email)
        )
    return team


def _workload(deps: Deps, intent: Intent, client: WebClient, user_id: str, team_id: str) -> Answer:
    report: WorkloadReport
    viewer = _viewer(deps, client, user_id, team_id)
    if isinstance(intent, ShowTeam):
        try:
            report = services.get_team_workload(
                deps, team=intent.team, weeks=intent.weeks, viewer=viewer
            )
        except LookupFailed as exc:
            raise _friendly(exc, messages.unknown_team(intent.team, exc.choices)) from None
    elif isinstance(intent, ShowPerson):
        query = intent.query or slack_email(deps, client, intent.slack_user_id or "", team_id)
        if not query:
            failure = LookupFailed(f"user {intent.slack_user_id} has no email in Slack")
            raise _friendly(failure, messages.unknown_person("that user", []))
        try:
            report = services.get_person_workload(
                deps, person=query, weeks=intent.weeks, viewer=viewer
            )
        except LookupFailed as exc:
            raise _friendly(exc, messages.unknown_person(query, exc.choices)) from None
    elif isinstance(intent, ShowMyTeam):
        team = _callers_team(deps, client, user_id, team_id)
        report = services.get_team_workload(deps, team=team, weeks=intent.weeks, viewer=viewer)
    else:  # pragma: no cover - _immediate_answer handled every other intent
        raise AssertionError(f"unexpected intent {intent!r}")
    if report.team and not isinstance(intent, ShowPerson) and rollout.current_mode(deps) == "auto":
        deps.workers.submit(publish_team_ai_fields, deps, team=report.team)  # after each forecast
    return blocks.workload_text(report), _workload_blocks(report)


def _viewer(deps: Deps, client: WebClient, user_id: str, team_id: str) -> Viewer:
    """The caller as forecasts see them: their Asana user and whether they are an admin. A
    caller whose email Slack will not give counts as unknown (public projects only)."""
    actor = actor_of(deps, client, user_id, team_id)
    return services.viewer_of(deps, email=actor.email, is_admin=rollout.is_admin(deps, actor))


def _workload_blocks(report: WorkloadReport) -> list[dict[str, Any]]:
    """The report's blocks, with a footer saying how many tasks the viewer may not see."""
    if not report.hidden_tasks:
        return blocks.workload_blocks(report)
    # One row fewer keeps the extra footer within Slack's 50 blocks.
    body = blocks.workload_blocks(report, max_rows=blocks.MAX_ROWS - 1)
    note = f":lock: {report.hidden_note}"
    body.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return body


def _friendly(exc: LookupFailed, text: str) -> LookupFailed:
    friendly = LookupFailed(str(exc), choices=exc.choices)
    friendly.user_message = text
    return friendly
