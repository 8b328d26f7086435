"""The Block Kit of a rebalance proposal: one message whose buttons follow each move's state.

Pure rendering (no I/O). Slack caps a message at 50 blocks and about 12,000 characters of block
text, so moves past that budget are counted, not shown; *Approve all* still covers them. Task
names, people's names and reasons come from Asana and are escaped, and sections are
``verbatim`` so bare URLs or ``@here`` in them are not turned into links or mentions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.proposals import MoveRecord, Proposal, ProposedMove
from bot.slack import ids, messages
from bot.slack.messages import escape

Block = dict[str, Any]
MAX_BLOCKS = 50
MAX_TEXT = 10_000  # well under the ~12k characters at which Slack answers msg_blocks_too_long
_FIXED = 7  # header, summary, context, divider; overflow note, mode note, bottom actions
_SEPARATOR = ":"


def button_value(proposal_id: str, move_id: str | None = None) -> str:
    """What a button carries: ``proposal_id:move_id``, or the proposal id alone."""
    return proposal_id if move_id is None else f"{proposal_id}{_SEPARATOR}{move_id}"


def parse_value(value: str) -> tuple[str, str | None]:
    """The ``(proposal_id, move_id)`` a button carries (``move_id`` None for whole-proposal)."""
    proposal_id, _, move_id = value.partition(_SEPARATOR)
    return proposal_id, move_id or None


def proposal_text(proposal: Proposal) -> str:
    """The notification/fallback text of a proposal message."""
    return messages.proposal_text(proposal.team, proposal.summary)[:3000]


def proposal_blocks(
    proposal: Proposal,
    records: Mapping[str, MoveRecord],
    *,
    now: datetime,
    mode: str,
    paused: bool,
    undo_window: timedelta = timedelta(0),
    max_blocks: int = MAX_BLOCKS,
) -> list[Block]:
    """Render ``proposal`` with each move's state and the buttons that state allows.

    Args:
        proposal: the proposal as stored.
        records: move id → its record; a move without one is shown pending.
        now: decides expiry and the undo window.
        mode: the rollout mode; ``shadow`` shows no decision buttons.
        paused: writes are paused: no Approve, Retry or Undo (rejecting writes nothing).
        undo_window: how long after being applied a move offers Undo.
        max_blocks: the block budget (50 for a message; less when embedded in App Home).
    """
    now = _aware(now)
    expired = now >= _aware(proposal.expires_at)
    controls = _Controls(
        decide=mode != "shadow" and not expired,
        write=mode != "shadow" and not paused and not expired,
        fresh=not expired,
    )
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": messages.proposal_header(proposal.team)[:150]},
        },
        _section(escape(proposal.summary)[:3000]),
        _context(
            messages.proposal_context(
                proposal.model_version,
                proposal.snapshot_hash,
                proposal.requested_by,
                proposal.expires_at,
                now,
            )
        ),
        {"type": "divider"},
    ]
    budget = max(0, max_blocks - _FIXED)
    text_left = MAX_TEXT
    pending = 0
    shown = 0
    for number, move in enumerate(proposal.moves, 1):
        record = records.get(move.move_id) or MoveRecord("pending")
        if record.state == "pending":
            pending += 1
        rendered = _move(proposal, move, number, record, controls, now, undo_window)
        size = sum(len(b.get("text", {}).get("text", "")) for b in rendered)
        if shown < number - 1 or len(rendered) > budget or size > text_left:
            continue  # past the budget: counted below, covered by Approve all
        blocks += rendered
        budget -= len(rendered)
        text_left -= size
        shown += 1
    approve_all = controls.write and pending > 0
    if shown < len(proposal.moves):
        hidden = len(proposal.moves) - shown
        blocks.append(
            _context(messages.more_moves(hidden, len(proposal.moves), approve_all=approve_all))
        )
    note = _note(proposal, now, mode=mode, paused=paused, expired=expired)
    if note:
        blocks.append(_context(note))
    if controls.decide and pending > 0:
        buttons = []
        if approve_all:
            buttons.append(
                _button(
                    messages.APPROVE_ALL,
                    ids.APPROVE_ALL,
                    button_value(proposal.proposal_id),
                    style="primary",
                    confirm=_confirm(
                        messages.CONFIRM_APPROVE_ALL_TITLE, messages.confirm_all(pending)
                    ),
                )
            )
        buttons.append(
            _button(messages.REJECT_ALL, ids.REJECT_ALL, button_value(proposal.proposal_id))
        )
        blocks.append(
            {"type": "actions", "block_id": f"{proposal.proposal_id}:all", "elements": buttons}
        )
    return blocks


@dataclass(frozen=True)
class _Controls:
    """Which kinds of buttons the proposal may show now."""

    decide: bool  # approve or reject at all (not in shadow mode, not expired)
    write: bool  # buttons that write to Asana (also off while writes are paused)
    fresh: bool  # ask for a fresh proposal (not once expired: no buttons at all then)


def _move(
    proposal: Proposal,
    move: ProposedMove,
    number: int,
    record: MoveRecord,
    controls: _Controls,
    now: datetime,
    undo_window: timedelta,
) -> list[Block]:
    """The move's section (its state and any single button as accessory), plus Approve/Reject
    in an actions block while it is pending."""
    value = button_value(proposal.proposal_id, move.move_id)
    text = _describe(move, number)
    state = _state_line(record, now, expired=now >= _aware(proposal.expires_at))
    if state:
        text += "\n" + state
    section = _section(text)
    accessory = _accessory(record, controls, value, now, undo_window)
    if accessory is not None:
        section["accessory"] = accessory
    if record.state != "pending" or not controls.decide:
        return [section]
    buttons = []
    if controls.write:
        buttons.append(
            _button(
                messages.APPROVE,
                ids.APPROVE,
                value,
                style="primary",
                confirm=_confirm(
                    messages.CONFIRM_APPROVE_TITLE,
                    messages.confirm_move(
                        _short(move.task_name, 120), move.from_name, move.to_name, move.kind
                    ),
                ),
            )
        )
    buttons.append(_button(messages.REJECT, ids.REJECT, value))
    return [
        section,
        {
            "type": "actions",
            "block_id": f"{proposal.proposal_id}:{move.move_id}"[:255],
            "elements": buttons,
        },
    ]


def _describe(move: ProposedMove, number: int) -> str:
    name = escape(_short(move.task_name, 80))
    task = f"<{move.url}|{name}>" if _safe_url(move.url) else name
    lines = [messages.move_heading(number, task, move.hours)]
    if move.kind == "reassign":
        lines.append(messages.reassign_line(move.from_name, move.to_name))
    else:
        lines.append(
            messages.shift_line(move.from_name, _day(move.before.due_on), _day(move.after.due_on))
        )
    if move.reason:
        lines.append(messages.reason_line(_short(move.reason, 300)))
    lines += [f"• {escape(_short(line, 200))}" for line in move.lines[:6]]
    return "\n".join(lines)


def _state_line(record: MoveRecord, now: datetime, *, expired: bool) -> str:
    at = _parse_at(record.at)
    match record.state:
        case "pending":
            return messages.expired_move_state() if expired else ""
        case "approved" | "applying":
            return messages.approved_state(record.actor, at, now)
        case "applied":
            return messages.applied_state(record.actor, at, now)
        case "rejected":
            return messages.rejected_state(record.actor, at, now)
        case "failed":
            return (
                messages.STALE
                if record.extra.get("stale")
                else messages.failed_state(record.result)
            )
        case "undone":
            return messages.undone_state(record.actor, at, now)
        case "expired":
            return messages.expired_move_state()
    return ""


def _accessory(
    record: MoveRecord, controls: _Controls, value: str, now: datetime, undo_window: timedelta
) -> Block | None:
    if record.state == "failed":
        if record.extra.get("stale"):
            return (
                _button(messages.FRESH_PROPOSAL, ids.FRESH_PROPOSAL, value)
                if controls.fresh
                else None
            )
        if record.extra.get("retry") and controls.write:
            return _button(messages.RETRY, ids.RETRY, value)
    if record.state == "applied" and controls.write:
        at = _parse_at(record.at)
        if at is not None and now < at + undo_window:
            return _button(messages.UNDO, ids.UNDO, value)
    return None


def _note(
    proposal: Proposal, now: datetime, *, mode: str, paused: bool, expired: bool
) -> str | None:
    if expired:
        return messages.expired_note(proposal.expires_at, now)
    if mode == "shadow":
        return messages.SHADOW_NOTE
    if paused:
        return messages.PAUSED_NOTE
    return None


def _button(
    text: str, action_id: str, value: str, *, style: str | None = None, confirm: Block | None = None
) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75]},
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def _confirm(title: str, text: str) -> Block:
    # plain_text everywhere: a dialog shows untrusted task names, and plain text cannot link
    return {
        "title": {"type": "plain_text", "text": title[:100]},
        "text": {"type": "plain_text", "text": text[:300]},
        "confirm": {"type": "plain_text", "text": messages.CONFIRM_YES[:30]},
        "deny": {"type": "plain_text", "text": messages.CONFIRM_NO[:30]},
    }


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000], "verbatim": True}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def _safe_url(url: str | None) -> bool:
    """Only plain https links: anything that could break out of ``<url|name>`` is not linked."""
    return bool(
        url
        and url.startswith("https://")
        and len(url) <= 500
        and not any(c in url for c in "<>| \n\t\"'")
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _day(day: object) -> str:
    return "no date" if day is None else f"{day:%d %b}"


def _parse_at(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return _aware(datetime.fromisoformat(raw))
    except ValueError:
        return None


def _aware(at: datetime) -> datetime:
    """Naive times are UTC (the store writes ISO strings from the clock, which is UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
