"""Proposal messages and their buttons: post, ack each click at once, decide on the workers,
then update the original message in place with ``chat.update``.

Refusals and failures go to the clicker only (``chat.postEphemeral``, or a note on their App
Home when they clicked there); nothing here shows a stack trace to anyone.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import approvals
from bot.approvals import Decision, Outcome
from bot.bootstrap import Deps
from bot.errors import CopilotError, LockNotAcquired
from bot.proposals import Proposal
from bot.slack import ids, messages, open_proposals
from bot.slack.background import BackgroundJobs
from bot.slack.listeners.home import publish_home, records_of
from bot.slack.proposal_blocks import Block, parse_value, proposal_blocks, proposal_text
from bot.slack.users import actor_of

log = logging.getLogger(__name__)
_ONE_MOVE: Mapping[str, Decision] = {
    ids.APPROVE: "approve",
    ids.REJECT: "reject",
    ids.RETRY: "retry",
    ids.UNDO: "undo",
}
_WHOLE: Mapping[str, Decision] = {ids.APPROVE_ALL: "approve", ids.REJECT_ALL: "reject"}


@dataclass(frozen=True)
class Click:
    """What a block_actions payload says, read defensively (the payload is untrusted shape)."""

    action_id: str
    value: str
    user_id: str
    team_id: str
    channel: str | None
    message_ts: str | None
    from_home: bool

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Click:
        actions = body.get("actions")
        action = _object(actions[0] if isinstance(actions, list) and actions else None)
        user = _object(body.get("user"))
        container = _object(body.get("container"))
        channel = container.get("channel_id") or _object(body.get("channel")).get("id")
        message_ts = container.get("message_ts") or _object(body.get("message")).get("ts")
        return cls(
            action_id=str(action.get("action_id") or ""),
            value=str(action.get("value") or ""),
            user_id=str(user.get("id") or ""),
            team_id=str(_object(body.get("team")).get("id") or user.get("team_id") or ""),
            channel=str(channel) if channel else None,
            message_ts=str(message_ts) if message_ts else None,
            from_home=container.get("type") == "view",
        )


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def register(app: App, deps: Deps, jobs: BackgroundJobs) -> None:
    """Attach one listener per proposal button to ``app``."""

    def on_click(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()  # before anything else: Slack's 3-second deadline (notes §1.1)
        click = Click.of(body)
        jobs.submit(
            lambda: handle_click(deps, client, click),
            context=f"{click.action_id} {click.value!r} by {click.user_id}",
        )

    for action_id in ids.PROPOSAL_ACTIONS:
        app.action(action_id)(on_click)


def handle_click(deps: Deps, client: WebClient, click: Click) -> None:
    """Decide, re-render the proposal message and tell the clicker what did not happen."""
    try:
        notice = _decide(deps, client, click)
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception(
            "%s %r by %s failed (ref %s)", click.action_id, click.value, click.user_id, ref
        )
        notice = messages.ACTION_FAILED.format(ref=ref)
    if notice:
        _tell(deps, client, click, notice)
    elif click.from_home:
        _republish_home(deps, client, click, None)


def post_proposal(deps: Deps, client: WebClient, proposal: Proposal, channel: str) -> Proposal:
    """Post ``proposal`` (to the shadow channel in shadow mode, when one is set) and store where.

    Raises:
        SlackApiError: Slack refused the post (e.g. the bot is not in the channel).
    """
    shadow = approvals.current_mode(deps) == "shadow"
    target = deps.settings.shadow_channel if shadow and deps.settings.shadow_channel else channel
    text, blocks = render_proposal(deps, proposal)
    reply = client.chat_postMessage(channel=target, text=text, blocks=blocks)
    posted = replace(proposal, channel=str(reply["channel"]), message_ts=str(reply["ts"]))
    deps.book.save(posted)
    open_proposals.remember(deps.store, posted.proposal_id)
    return posted


def render_proposal(
    deps: Deps, proposal: Proposal, *, max_blocks: int = 50
) -> tuple[str, list[Block]]:
    """The text and blocks of ``proposal`` as its records, the mode and the kill switch stand."""
    blocks = proposal_blocks(
        proposal,
        records_of(deps, proposal),
        now=deps.clock.now(),
        mode=approvals.current_mode(deps),
        paused=approvals.writes_paused(deps),
        undo_window=timedelta(hours=deps.settings.undo_window_h),
        max_blocks=max_blocks,
    )
    return proposal_text(proposal), blocks


def refresh_message(deps: Deps, client: WebClient, proposal_id: str, click: Click | None) -> None:
    """Re-render the proposal's message from the store (serialised per proposal, so the last
    update always shows the latest state)."""
    try:
        with deps.store.lock(f"slack:render:{proposal_id}", ttl_s=15, wait_s=10):
            proposal = deps.book.get(proposal_id)
            if proposal is None:
                return
            channel, ts = proposal.channel, proposal.message_ts
            if (channel is None or ts is None) and click is not None and not click.from_home:
                channel, ts = click.channel, click.message_ts
            if channel is None or ts is None:
                return
            text, blocks = render_proposal(deps, proposal)
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except LockNotAcquired:
        log.warning("proposal %s: message not refreshed, another update holds it", proposal_id)
    except SlackApiError as exc:
        log.warning("proposal %s: chat.update failed: %s", proposal_id, exc.response.get("error"))


def _decide(deps: Deps, client: WebClient, click: Click) -> str | None:
    """Run the click's decision; returns what to tell the clicker, or None."""
    proposal_id, move_id = parse_value(click.value)
    if not proposal_id or not click.user_id:
        return messages.UNKNOWN_BUTTON
    if click.action_id == ids.FRESH_PROPOSAL:
        return _fresh(deps, client, click, proposal_id)
    actor = actor_of(deps, client, click.user_id, click.team_id)
    outcomes: list[Outcome]
    if click.action_id in _WHOLE:
        outcomes = approvals.decide_all(deps, actor, proposal_id, _WHOLE[click.action_id])
        if not outcomes:
            outcomes = [Outcome("*", False, None, messages.NOTHING_PENDING)]
    elif click.action_id in _ONE_MOVE and move_id:
        decision = _ONE_MOVE[click.action_id]
        outcomes = [approvals.decide(deps, actor, proposal_id, move_id, decision)]
    else:
        return messages.UNKNOWN_BUTTON
    refresh_message(deps, client, proposal_id, click)
    if any(o.state is None for o in outcomes):
        open_proposals.forget(deps.store, {proposal_id})
    said = list(dict.fromkeys(o.text for o in outcomes if not o.ok))
    return "\n".join(said) if said else None


def _fresh(deps: Deps, client: WebClient, click: Click, proposal_id: str) -> str | None:
    old = deps.book.get(proposal_id)
    if old is None:
        return messages.NO_PROPOSAL
    channel = old.channel if click.from_home or not click.channel else click.channel
    if channel is None:
        return messages.NO_PROPOSAL
    try:
        proposal = approvals.propose(deps, team=old.team, requested_by=click.user_id)
    except CopilotError as exc:
        log.warning("fresh proposal for %s failed: %s", old.team, exc)
        return exc.user_message
    if not proposal.moves:
        return messages.nothing_to_rebalance(proposal.team, proposal.summary)
    try:
        post_proposal(deps, client, proposal, channel)
    except SlackApiError as exc:
        log.warning("posting a fresh proposal failed: %s", exc.response.get("error"))
        return messages.cannot_post(channel)
    return None


def _tell(deps: Deps, client: WebClient, click: Click, text: str) -> None:
    """Say ``text`` to the clicker only."""
    if not click.user_id:
        log.warning("a click without a user: %r not said", text)
        return
    if click.from_home or not click.channel:
        _republish_home(deps, client, click, text)
        return
    try:
        client.chat_postEphemeral(channel=click.channel, user=click.user_id, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s %r: %s", click.user_id, text, exc.response.get("error"))


def _republish_home(deps: Deps, client: WebClient, click: Click, notice: str | None) -> None:
    try:
        publish_home(deps, client, click.user_id, click.team_id, notice=notice)
    except Exception:
        log.exception("republishing the App Home of %s failed", click.user_id)
