"""The human-in-the-loop use cases: propose, decide, apply exactly once, undo, recover.

The only path that changes a task's assignee or dates in Asana. Every step is a compare-and-set
on the move's record (:class:`bot.proposals.ProposalBook`); every decision, refusal and write is
an audit event; an intent record written before each Asana call lets a restart finish or fail a
move whose process died between the write and its audit event. Must not import Slack modules.

Callers import from here (``from bot import approvals``); the modules behind it, one noun each:
``proposing`` (a plan becomes a pending proposal), ``decisions`` (approve, reject, retry, undo,
once), ``writes`` (the Asana calls of one move), ``outcomes`` (what a move's end says and
records) and ``recovery`` (the intent log and the restart that reads it).
"""

from __future__ import annotations

from bot.approvals.decisions import Decision, decide, decide_all
from bot.approvals.outcomes import Outcome
from bot.approvals.proposing import propose
from bot.approvals.recovery import open_intents, recover_intents
from bot.rollout import (
    Actor,
    can_approve,
    current_mode,
    is_admin,
    set_mode,
    set_paused,
    writes_paused,
)

# The Slack listeners reach the rollout checks through this package, the one that writes.
__all__ = [
    "Actor",
    "Decision",
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
