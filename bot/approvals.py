"""The human-in-the-loop use cases: propose, decide, apply exactly once, undo, recover.

The only path that writes to Asana. Every step is a compare-and-set on the move's record
(:class:`bot.proposals.ProposalBook`); every decision, refusal and write is an audit event;
an intent record written before each Asana call lets a restart finish or fail a move whose
process died between the write and its audit event. Must not import Slack modules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pandas as pd

from bot.ai_fields import publish_ai_fields
from bot.bootstrap import Deps
from bot.domain import Viewer
from bot.errors import AsanaError, AsanaNotFound
from bot.planning import propose_rebalance
from bot.proposals import (
    MoveRecord,
    Proposal,
    ProposedMove,
    TaskValues,
    new_proposal_id,
)
from bot.rollout import (
    Actor,
    audit_event,
    audit_refusal,
    can_approve,
    current_mode,
    is_admin,
    set_mode,
    set_paused,
    writes_paused,
)

log = logging.getLogger(__name__)

# The Slack listeners reach the rollout checks through this module, the one that writes.
__all__ = [
    "Actor",
    "Outcome",
    "can_approve",
    "current_mode",
    "decide",
    "decide_all",
    "is_admin",
    "open_intents",
    "propose",
    "recover_intents",
    "set_mode",
    "set_paused",
    "writes_paused",
]

Decision = Literal["approve", "reject", "undo", "retry"]
INTENT_LOG = "intents"  # append-only: "open" before an Asana write, "closed" after its record


@dataclass(frozen=True)
class Outcome:
    """What a decision did to one move, in words for the message and the clicker.

    Attributes:
        ok: the step landed (an approval applied, a rejection recorded, ...).
        state: the move's state afterwards (None for an unknown move).
        text: one sentence for people.
        retry: a Retry button makes sense (an Asana failure, not a stale task).
        stale: the task changed since the proposal; a fresh proposal is offered.
    """

    move_id: str
    ok: bool
    state: str | None
    text: str
    retry: bool = False
    stale: bool = False


# ---- proposing ----------------------------------------------------------------------------------


def propose(
    deps: Deps,
    *,
    team: str,
    requested_by: str,
    weeks: int | None = None,
    prompt_version: str | None = None,
    viewer: Viewer | None = None,
) -> Proposal:
    """Run the rebalancer for ``team`` and store its moves as one pending proposal.

    With a ``viewer`` who is not an admin, only tasks they can see may move (the proposal
    names them); see :func:`bot.planning.propose_rebalance`.
    """
    result = propose_rebalance(deps, team=team, weeks=weeks, viewer=viewer)
    now = deps.clock.now()
    snapshot = result.world.snapshot
    tasks = snapshot.tasks.set_index("gid")
    moves = []
    for number, move in enumerate(result.plan.moves, 1):
        row = tasks.loc[move.task_gid]
        before = TaskValues(move.from_gid, _day(row["start_on"]), _day(row["due_on"]))
        after = TaskValues(
            move.to_gid, move.new_start_on or before.start_on, move.new_due_on or before.due_on
        )
        lines = tuple(
            f"{result.world.names(gid)}: "
            + ", ".join(
                f"w/c {w.week_start:%d %b} {_pct(w.before_pct)}→{_pct(w.after_pct)}" for w in weeks_
            )
            for gid, weeks_ in (
                (move.from_gid, move.giver_weeks),
                (move.to_gid, move.receiver_weeks),
            )
            if move.kind == "reassign" or gid == move.from_gid
        )
        effort = row["remaining_h"]
        moves.append(
            ProposedMove(
                move_id=f"m{number}",
                task_gid=move.task_gid,
                task_name=move.task_name,
                url=move.url,
                kind=move.kind,
                from_gid=move.from_gid,
                to_gid=move.to_gid,
                from_name=result.world.names(move.from_gid),
                to_name=result.world.names(move.to_gid),
                hours=move.hours,
                reason=move.reason,
                before=before,
                after=after,
                effort_h=None if pd.isna(effort) else float(effort),
                lines=lines,
            )
        )
    plan = result.plan
    summary = (
        f"{len(moves)} move{'s' if len(moves) != 1 else ''} would remove "
        f"{plan.removed_h:.1f} h of {plan.overload_before_h:.1f} h expected overload."
        + ("" if not plan.explanation else " " + " ".join(plan.explanation[:2]))
    )
    proposal = Proposal(
        proposal_id=new_proposal_id(),
        team=result.team,
        created_at=now,
        expires_at=now + timedelta(hours=deps.settings.proposal_ttl_h),
        requested_by=requested_by,
        snapshot_hash=result.snapshot_hash,
        model_version=plan.model_version,
        prompt_version=prompt_version,
        moves=tuple(moves),
        summary=summary,
    )
    deps.book.save(proposal)
    publish_ai_fields(deps, team=result.team, forecast=result.forecast, plan=plan)  # auto mode
    for proposed in proposal.moves:
        audit_event(
            deps,
            Actor(requested_by),
            "proposed",
            target=proposed.task_gid,
            proposal=proposal,
            move=proposed,
            before=proposed.before.to_json(),
            after=proposed.after.to_json(),
        )
    return proposal


# ---- deciding -----------------------------------------------------------------------------------


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
        return _already(move_id, record)
    refusal = _write_refusal(deps)
    if refusal:
        audit_refusal(deps, actor, decision, move.task_gid, refusal, proposal, move)
        return Outcome(move_id, False, _state(deps, proposal, move), refusal)
    if decision == "approve":
        landed, record = deps.book.advance(
            proposal_id, move_id, "approved", actor=actor.slack_id, at=now
        )
        if not landed:
            return _already(move_id, record)
        audit_event(deps, actor, "approved", target=move.task_gid, proposal=proposal, move=move)
        return _apply(deps, actor, proposal, move)
    if decision == "retry":
        return _apply(deps, actor, proposal, move)
    return _undo(deps, actor, proposal, move)


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


def _apply(deps: Deps, actor: Actor, proposal: Proposal, move: ProposedMove) -> Outcome:
    """approved|failed → applying → applied|failed: re-read, intent, write, audit."""
    now = deps.clock.now()
    landed, record = deps.book.advance(
        proposal.proposal_id, move.move_id, "applying", actor=actor.slack_id, at=now
    )
    if not landed:
        return _already(move.move_id, record)
    try:
        current = deps.writer.read_task(move.task_gid)
    except AsanaError as exc:
        return _failed(deps, actor, proposal, move, f"could not read the task: {exc.user_message}")
    seen = TaskValues(current.assignee_gid, current.start_on, current.due_on)
    # After a failed comment the fields may already hold the move's values: finish, not stale.
    if seen not in (move.before, move.after) or _effort_changed(current.effort_h, move.effort_h):
        return _failed(deps, actor, proposal, move, "stale", stale=True, seen=seen)
    intent = f"{proposal.proposal_id}:{move.move_id}"
    _intent(deps, intent, "open", actor=actor.slack_id, email=actor.email, at=now.isoformat())
    try:
        written = _write(deps, actor, move, seen)
    except AsanaError as exc:
        _intent(deps, intent, "closed")
        return _failed(
            deps, actor, proposal, move, exc.user_message, retry=True, seen=_read(deps, move)
        )
    _record_applied(deps, actor, proposal, move, "ok" if written else "ok (no change needed)")
    _intent(deps, intent, "closed")
    return Outcome(move.move_id, True, "applied", f"Applied after approval by <@{actor.slack_id}>.")


def _record_applied(
    deps: Deps, actor: Actor, proposal: Proposal, move: ProposedMove, result: str
) -> None:
    """Audit the write, then mark the move applied (the audit event comes first: a crash in
    between leaves an applied event and an open intent, which recovery resolves)."""
    audit_event(
        deps,
        actor,
        "applied",
        target=move.task_gid,
        proposal=proposal,
        move=move,
        before=move.before.to_json(),
        after=move.after.to_json(),
        result=result,
    )
    deps.book.advance(
        proposal.proposal_id,
        move.move_id,
        "applied",
        actor=actor.slack_id,
        at=deps.clock.now(),
        result=f"applied ({result})",
    )


def _write(deps: Deps, actor: Actor, move: ProposedMove, seen: TaskValues) -> bool:
    """The Asana calls of one move: assignee or dates, then the comment; True if a field changed.

    Fields already at their new values (``seen``, e.g. after a failed comment) are not written
    again.
    """
    changed = False
    if seen.assignee_gid != move.after.assignee_gid and move.after.assignee_gid:
        deps.writer.reassign(move.task_gid, move.after.assignee_gid)
        changed = True
    if (seen.start_on, seen.due_on) != (move.after.start_on, move.after.due_on):
        deps.writer.set_dates(move.task_gid, start_on=move.after.start_on, due_on=move.after.due_on)
        changed = True
    who = f"<@{actor.slack_id}>" if not actor.email else actor.email
    if move.kind == "reassign":
        what = f"Reassigned from {move.from_name} to {move.to_name}"
    else:
        what = f"Due date moved to {move.after.due_on} for {move.from_name}"
    deps.writer.add_comment(
        move.task_gid,
        f"{what} by Capacity Copilot after approval by {who} in Slack — reason: {move.reason}",
    )
    return changed


def _read(deps: Deps, move: ProposedMove) -> TaskValues | None:
    """The task's values now, for an honest failure record (None when Asana cannot say)."""
    try:
        current = deps.writer.read_task(move.task_gid)
    except AsanaError:
        return None
    return TaskValues(current.assignee_gid, current.start_on, current.due_on)


def _undo(deps: Deps, actor: Actor, proposal: Proposal, move: ProposedMove) -> Outcome:
    record = deps.book.record(proposal.proposal_id, move.move_id)
    if record is None or record.state != "applied":
        return _already(move.move_id, record)
    applied_at = datetime.fromisoformat(record.at) if record.at else proposal.created_at
    if deps.clock.now() - applied_at > timedelta(hours=deps.settings.undo_window_h):
        return Outcome(
            move.move_id, False, "applied", "The undo window has passed; nothing was changed."
        )
    reverse = ProposedMove(
        **{
            **move.__dict__,
            "before": move.after,
            "after": move.before,
            "from_name": move.to_name,
            "to_name": move.from_name,
            "reason": "undo of an approved move",
        }
    )
    try:
        if move.before.assignee_gid and move.before.assignee_gid != move.after.assignee_gid:
            deps.writer.reassign(move.task_gid, move.before.assignee_gid)
        if (move.before.start_on, move.before.due_on) != (move.after.start_on, move.after.due_on):
            deps.writer.set_dates(
                move.task_gid, start_on=move.before.start_on, due_on=move.before.due_on
            )
    except AsanaError as exc:
        audit_event(
            deps,
            actor,
            "undo_failed",
            target=move.task_gid,
            proposal=proposal,
            move=move,
            result=exc.user_message,
        )
        return Outcome(move.move_id, False, "applied", f"Undo failed: {exc.user_message}")
    deps.book.advance(
        proposal.proposal_id, move.move_id, "undone", actor=actor.slack_id, at=deps.clock.now()
    )
    audit_event(
        deps,
        actor,
        "undone",
        target=move.task_gid,
        proposal=proposal,
        move=reverse,
        before=move.after.to_json(),
        after=move.before.to_json(),
    )
    return Outcome(move.move_id, True, "undone", f"Undone by <@{actor.slack_id}>.")


def _failed(
    deps: Deps,
    actor: Actor,
    proposal: Proposal,
    move: ProposedMove,
    why: str,
    *,
    retry: bool = False,
    stale: bool = False,
    seen: TaskValues | None = None,
) -> Outcome:
    deps.book.advance(
        proposal.proposal_id,
        move.move_id,
        "failed",
        actor=actor.slack_id,
        at=deps.clock.now(),
        result=why,
        extra={"retry": retry, "stale": stale},
    )
    audit_event(
        deps,
        actor,
        "failed",
        target=move.task_gid,
        proposal=proposal,
        move=move,
        before=move.before.to_json(),
        after=None if seen is None else seen.to_json(),
        result=why,
    )
    if stale:
        return Outcome(
            move.move_id,
            False,
            "failed",
            (
                "The task changed in Asana since this proposal; nothing was written. "
                "Ask for a fresh proposal."
            ),
            stale=True,
        )
    return Outcome(
        move.move_id,
        False,
        "failed",
        f"Asana did not accept the change ({why}); nothing was half-applied.",
        retry=retry,
    )


# ---- recovery -----------------------------------------------------------------------------------


def recover_intents(deps: Deps) -> int:
    """Finish moves whose process died between an Asana write and its audit event.

    For each intent left in the store, the task is read again: if it shows the move's after
    values, the write landed and the move is recorded applied (audited as recovered); otherwise
    it is recorded failed with a Retry. Returns how many intents were resolved.
    """
    resolved = 0
    for key, intent in open_intents(deps).items():
        proposal_id, move_id = key.split(":", 1)
        proposal = deps.book.get(proposal_id)
        if proposal is None:
            _intent(deps, key, "closed")
            continue
        move = proposal.move(move_id)
        actor = Actor(str(intent.get("actor", "unknown")), intent.get("email"))
        try:
            current = deps.writer.read_task(move.task_gid)
        except AsanaNotFound:
            current = None
        except AsanaError:
            continue  # Asana is down: try again on the next start
        seen = (
            None
            if current is None
            else TaskValues(current.assignee_gid, current.start_on, current.due_on)
        )
        record = deps.book.record(proposal_id, move_id)
        if record is not None and record.state == "applied":
            pass  # died after its record: only the intent was left open
        elif seen == move.after and _audited_applied(deps, proposal_id, move_id):
            deps.book.advance(
                proposal_id,
                move_id,
                "applied",
                actor=actor.slack_id,
                at=deps.clock.now(),
                result="applied (recovered after a restart)",
            )
        elif seen == move.after:
            _record_applied(deps, actor, proposal, move, "ok (recovered after a restart)")
        else:
            _failed(
                deps,
                actor,
                proposal,
                move,
                "interrupted before Asana confirmed the write",
                retry=True,
                seen=seen,
            )
        _intent(deps, key, "closed")
        resolved += 1
    return resolved


def _audited_applied(deps: Deps, proposal_id: str, move_id: str) -> bool:
    return any(
        r.action == "applied" and (r.proposal_id, r.move_id) == (proposal_id, move_id)
        for r in deps.audit.records()
    )


def open_intents(deps: Deps) -> dict[str, dict[str, Any]]:
    """Intents opened before an Asana write and never closed (a process died in between)."""
    pending: dict[str, dict[str, Any]] = {}
    for entry in deps.store.log_read(INTENT_LOG):
        if entry["state"] == "open":
            pending[entry["key"]] = entry
        else:
            pending.pop(entry["key"], None)
    return pending


def _intent(deps: Deps, key: str, state: str, **data: Any) -> None:
    deps.store.log_append(INTENT_LOG, lambda _last: {"key": key, "state": state, **data})


# ---- audit helpers ------------------------------------------------------------------------------


def _write_refusal(deps: Deps) -> str:
    if writes_paused(deps):
        return "Writes to Asana are paused by an admin; nothing was changed."
    if current_mode(deps) == "shadow":
        return "Shadow mode: Capacity Copilot writes nothing to Asana; nothing was changed."
    return ""


def _already(move_id: str, record: MoveRecord | None) -> Outcome:
    if record is None:
        return Outcome(move_id, False, None, "This move is no longer known.")
    who = f" by <@{record.actor}>" if record.actor else ""
    return Outcome(
        move_id, False, record.state, f"Already {record.state}{who}; nothing more was done."
    )


def _state(deps: Deps, proposal: Proposal, move: ProposedMove) -> str | None:
    record = deps.book.record(proposal.proposal_id, move.move_id)
    return None if record is None else record.state


def _effort_changed(now: float | None, then: float | None) -> bool:
    if now is None or then is None:
        return (now is None) != (then is None)
    return abs(now - then) > 1e-6


def _day(value: Any) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _pct(value: float | None) -> str:
    return "off" if value is None else f"{value:.0f}%"
