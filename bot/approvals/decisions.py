"""Deciding a move: approve (and apply), reject, retry or undo, exactly once whoever races; every
refusal (not an approver, shadow mode, writes paused, expired) is audited and changes nothing.
Must not import Slack modules.
"""

from __future__ import annotations

from typing import Literal

from bot.approvals.outcomes import Outcome, already_decided
from bot.approvals.writes import apply_move, undo_move
from bot.bootstrap import Deps
from bot.proposals import Proposal, ProposedMove
from bot.rollout import Actor, audit_event, audit_refusal, can_approve, current_mode, writes_paused

Decision = Literal["approve", "reject", "undo", "retry"]


def decide(deps: Deps, actor: Actor, proposal_id: str, move_id: str, decision: Decision) -> Outcome:
    """Approve (and apply), reject, retry or undo one move, exactly once whoever races.

    Refusals (not an approver, shadow mode, writes paused, expired, already decided) change
    nothing in Asana and are audited.
    """
    proposal = deps.book.get(proposal_id)
    if proposal is None:
        return Outcome(
            move_id, False, None, "This proposal is no longer known; ask for a fresh one."
        )
    try:
        move = proposal.move(move_id)
    except KeyError:
        return Outcome(move_id, False, None, "This move is not part of the proposal.")
    if not can_approve(deps, actor, proposal.team):
        audit_refusal(deps, actor, decision, move.task_gid, "not an approver", proposal, move)
        return Outcome(
            move_id,
            False,
            _state(deps, proposal, move),
            (f"Only approvers of {proposal.team} can decide these moves; nothing was changed."),
        )
    now = deps.clock.now()
    if decision in ("approve", "reject") and now >= proposal.expires_at:
        deps.book.advance(proposal_id, move_id, "expired", actor=None, at=now, result="expired")
        return Outcome(move_id, False, "expired", "This proposal has expired; ask for a fresh one.")
    if decision == "reject":
        landed, record = deps.book.advance(
            proposal_id, move_id, "rejected", actor=actor.slack_id, at=now
        )
        if landed:
            audit_event(deps, actor, "rejected", target=move.task_gid, proposal=proposal, move=move)
            return Outcome(move_id, True, "rejected", f"Rejected by <@{actor.slack_id}>.")
        return already_decided(move_id, record)
    refusal = _write_refusal(deps)
    if refusal:
        audit_refusal(deps, actor, decision, move.task_gid, refusal, proposal, move)
        return Outcome(move_id, False, _state(deps, proposal, move), refusal)
    if decision == "approve":
        landed, record = deps.book.advance(
            proposal_id, move_id, "approved", actor=actor.slack_id, at=now
        )
        if not landed:
            return already_decided(move_id, record)
        audit_event(deps, actor, "approved", target=move.task_gid, proposal=proposal, move=move)
        return apply_move(deps, actor, proposal, move)
    if decision == "retry":
        return apply_move(deps, actor, proposal, move)
    return undo_move(deps, actor, proposal, move)


def decide_all(deps: Deps, actor: Actor, proposal_id: str, decision: Decision) -> list[Outcome]:
    """Approve or reject every still-pending move of a proposal (others are left as they are)."""
    proposal = deps.book.get(proposal_id)
    if proposal is None:
        return [Outcome("*", False, None, "This proposal is no longer known; ask for a fresh one.")]
    outcomes = []
    for move in proposal.moves:
        record = deps.book.record(proposal_id, move.move_id)
        if record is not None and record.state == "pending":
            outcomes.append(decide(deps, actor, proposal_id, move.move_id, decision))
    return outcomes


def _write_refusal(deps: Deps) -> str:
    if writes_paused(deps):
        return "Writes to Asana are paused by an admin; nothing was changed."
    if current_mode(deps) == "shadow":
        return "Shadow mode: Capacity Copilot writes nothing to Asana; nothing was changed."
    return ""


def _state(deps: Deps, proposal: Proposal, move: ProposedMove) -> str | None:
    record = deps.book.record(proposal.proposal_id, move.move_id)
    return None if record is None else record.state
