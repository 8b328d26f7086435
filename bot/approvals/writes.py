"""The Asana writes of one decided move: apply it (re-read, stale check, intent, write, comment,
record) and undo it. The only module that calls the writer's task writes (``reassign``,
``set_dates``, ``add_comment``); must not import Slack modules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.approvals.outcomes import Outcome, already_decided, record_applied, record_failure
from bot.approvals.recovery import append_intent
from bot.bootstrap import Deps
from bot.errors import AsanaError
from bot.proposals import Proposal, ProposedMove, TaskValues
from bot.rollout import Actor, audit_event


def apply_move(deps: Deps, actor: Actor, proposal: Proposal, move: ProposedMove) -> Outcome:
    """approved|failed → applying → applied|failed: re-read, intent, write, audit."""
    now = deps.clock.now()
    landed, record = deps.book.advance(
        proposal.proposal_id, move.move_id, "applying", actor=actor.slack_id, at=now
    )
    if not landed:
        return already_decided(move.move_id, record)
    try:
        current = deps.writer.read_task(move.task_gid)
    except AsanaError as exc:
        return record_failure(
            deps, actor, proposal, move, f"could not read the task: {exc.user_message}"
        )
    seen = TaskValues(current.assignee_gid, current.start_on, current.due_on)
    # After a failed comment the fields may already hold the move's values: finish, not stale.
    if seen not in (move.before, move.after) or _effort_changed(current.effort_h, move.effort_h):
        return record_failure(deps, actor, proposal, move, "stale", stale=True, seen=seen)
    intent = f"{proposal.proposal_id}:{move.move_id}"
    append_intent(deps, intent, "open", actor=actor.slack_id, email=actor.email, at=now.isoformat())
    try:
        written = _write(deps, actor, move, seen)
    except AsanaError as exc:
        append_intent(deps, intent, "closed")
        return record_failure(
            deps, actor, proposal, move, exc.user_message, retry=True, seen=_read(deps, move)
        )
    record_applied(deps, actor, proposal, move, "ok" if written else "ok (no change needed)")
    append_intent(deps, intent, "closed")
    return Outcome(move.move_id, True, "applied", f"Applied after approval by <@{actor.slack_id}>.")


def undo_move(deps: Deps, actor: Actor, proposal: Proposal, move: ProposedMove) -> Outcome:
    """applied → undone inside the undo window: the before values are written back."""
    record = deps.book.record(proposal.proposal_id, move.move_id)
    if record is None or record.state != "applied":
        return already_decided(move.move_id, record)
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


def _effort_changed(now: float | None, then: float | None) -> bool:
    if now is None or then is None:
        return (now is None) != (then is None)
    return abs(now - then) > 1e-6
