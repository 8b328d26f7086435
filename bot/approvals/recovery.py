"""The intent log and recovery from it: an intent is opened before an Asana write and closed
after the move's record, so a restart can finish or fail a move whose process died in between.
Reads tasks, never writes them; must not import Slack modules.
"""

from __future__ import annotations

from typing import Any

from bot.approvals.outcomes import record_applied, record_failure
from bot.bootstrap import Deps
from bot.errors import AsanaError, AsanaNotFound
from bot.proposals import TaskValues
from bot.rollout import Actor

INTENT_LOG = "intents"  # append-only: "open" before an Asana write, "closed" after its record


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
            append_intent(deps, key, "closed")
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
            record_applied(deps, actor, proposal, move, "ok (recovered after a restart)")
        else:
            record_failure(
                deps,
                actor,
                proposal,
                move,
                "interrupted before Asana confirmed the write",
                retry=True,
                seen=seen,
            )
        append_intent(deps, key, "closed")
        resolved += 1
    return resolved


def open_intents(deps: Deps) -> dict[str, dict[str, Any]]:
    """Intents opened before an Asana write and never closed (a process died in between)."""
    pending: dict[str, dict[str, Any]] = {}
    for entry in deps.store.log_read(INTENT_LOG):
        if entry["state"] == "open":
            pending[entry["key"]] = entry
        else:
            pending.pop(entry["key"], None)
    return pending


def append_intent(deps: Deps, key: str, state: str, **data: Any) -> None:
    """Open (``state="open"``) or close the intent ``key`` (``proposal_id:move_id``)."""
    deps.store.log_append(INTENT_LOG, lambda _last: {"key": key, "state": state, **data})


def _audited_applied(deps: Deps, proposal_id: str, move_id: str) -> bool:
    return any(
        r.action == "applied" and (r.proposal_id, r.move_id) == (proposal_id, move_id)
        for r in deps.audit.records()
    )
