"""How a decision on a move ends: the ``Outcome`` people read, and the records an applied or
failed move leaves (its state in the book, its audit event). Calls no Asana method; must not
import Slack modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.bootstrap import Deps
from bot.proposals import MoveRecord, Proposal, ProposedMove, TaskValues
from bot.rollout import Actor, audit_event


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


def already_decided(move_id: str, record: MoveRecord | None) -> Outcome:
    """The answer to a step whose compare-and-set lost: the move is past it (or unknown)."""
    if record is None:
        return Outcome(move_id, False, None, "This move is no longer known.")
    who = f" by <@{record.actor}>" if record.actor else ""
    return Outcome(
        move_id, False, record.state, f"Already {record.state}{who}; nothing more was done."
    )


def record_applied(
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


def record_failure(
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
    """Mark the move failed and audit it with the task's values as ``seen`` (None when Asana
    could not say); the outcome offers a Retry or, for a stale task, a fresh proposal."""
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
