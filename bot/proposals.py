"""Proposals and the life of each move in the store: the states, their compare-and-set steps.

A proposal is what one Slack message shows: moves a human may approve. Each move has its own
state record, changed only by compare-and-set, so a double click, a Slack retry or two processes
racing move it once. Must not import Slack or Asana modules.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

from bot.store.ports import Store

MoveState = Literal[
    "pending", "approved", "applying", "applied", "failed", "rejected", "expired", "undone"
]
# Every allowed step. failed -> applying is a retry; applied -> undone the undo.
TRANSITIONS: Mapping[MoveState, frozenset[MoveState]] = {
    "pending": frozenset({"approved", "rejected", "expired"}),
    "approved": frozenset({"applying"}),
    "applying": frozenset({"applied", "failed"}),
    "failed": frozenset({"applying"}),
    "applied": frozenset({"undone"}),
    "rejected": frozenset(),
    "expired": frozenset(),
    "undone": frozenset(),
}
FINAL: frozenset[MoveState] = frozenset({"rejected", "expired", "undone"})


@dataclass(frozen=True)
class TaskValues:
    """The fields of a task a move reads or writes (None where unset)."""

    assignee_gid: str | None
    start_on: date | None
    due_on: date | None

    def to_json(self) -> dict[str, Any]:
        return {
            "assignee_gid": self.assignee_gid,
            "start_on": None if self.start_on is None else self.start_on.isoformat(),
            "due_on": None if self.due_on is None else self.due_on.isoformat(),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TaskValues:
        def day(value: object) -> date | None:
            return None if value is None else date.fromisoformat(str(value))

        return cls(raw.get("assignee_gid"), day(raw.get("start_on")), day(raw.get("due_on")))


@dataclass(frozen=True)
class ProposedMove:
    """One move of a proposal, with the evidence shown to the approver.

    Attributes:
        move_id: unique within the proposal ("m1", "m2", ...).
        kind: "reassign" or "shift".
        before, after: the task's values when proposed and after the move.
        effort_h: the task's remaining estimate when proposed (a change makes the move stale).
        lines: utilisation before → after of both people, one line each, for the message.
    """

    move_id: str
    task_gid: str
    task_name: str
    url: str | None
    kind: str
    from_gid: str
    to_gid: str
    from_name: str
    to_name: str
    hours: float
    reason: str
    before: TaskValues
    after: TaskValues
    effort_h: float | None
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """Moves proposed together, and the evidence they were computed from."""

    proposal_id: str
    team: str
    created_at: datetime
    expires_at: datetime
    requested_by: str
    snapshot_hash: str
    model_version: str | None
    prompt_version: str | None
    moves: tuple[ProposedMove, ...]
    summary: str
    channel: str | None = None
    message_ts: str | None = None

    def move(self, move_id: str) -> ProposedMove:
        """The move ``move_id``; KeyError when the proposal has none."""
        for move in self.moves:
            if move.move_id == move_id:
                return move
        raise KeyError(move_id)


@dataclass(frozen=True)
class MoveRecord:
    """Where one move stands: its state, who changed it last, when, and the outcome."""

    state: MoveState
    actor: str | None = None
    at: str | None = None
    result: str | None = None
    version: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "extra": dict(self.extra)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> MoveRecord:
        return cls(
            state=raw["state"],
            actor=raw.get("actor"),
            at=raw.get("at"),
            result=raw.get("result"),
            version=int(raw.get("version", 0)),
            extra=dict(raw.get("extra") or {}),
        )


def new_proposal_id() -> str:
    """A short random id, safe in Slack button values."""
    return "p" + secrets.token_hex(6)


class ProposalBook:
    """Proposals and move records in the store (keys ``proposal:<id>`` and ``move:<id>:<m>``)."""

    def __init__(self, store: Store, *, keep_s: float = 90 * 86_400) -> None:
        self.store = store
        self.keep_s = keep_s  # proposals and their records are kept 90 days for the audit trail

    def save(self, proposal: Proposal) -> None:
        """Store a new proposal with every move pending (or refresh its message reference)."""
        self.store.set(
            f"proposal:{proposal.proposal_id}", _proposal_json(proposal), ttl_s=self.keep_s
        )
        for move in proposal.moves:
            self.store.compare_and_set(
                self._key(proposal.proposal_id, move.move_id),
                None,
                MoveRecord("pending").to_json(),
                ttl_s=self.keep_s,
            )

    def get(self, proposal_id: str) -> Proposal | None:
        """The proposal, or None when unknown or past its keeping time."""
        raw = self.store.get(f"proposal:{proposal_id}")
        return None if raw is None else _proposal_from_json(raw)

    def record(self, proposal_id: str, move_id: str) -> MoveRecord | None:
        """Where the move stands, or None when unknown."""
        raw = self.store.get(self._key(proposal_id, move_id))
        return None if raw is None else MoveRecord.from_json(raw)

    def advance(
        self,
        proposal_id: str,
        move_id: str,
        to: MoveState,
        *,
        actor: str | None,
        at: datetime,
        result: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> tuple[bool, MoveRecord | None]:
        """Move one step by compare-and-set from the state read now.

        Returns:
            (True, the new record) for the one caller whose step landed; (False, the record
            as it stands) when the step is not allowed from there or another caller won.
        """
        key = self._key(proposal_id, move_id)
        raw = self.store.get(key)
        if raw is None:
            return False, None
        current = MoveRecord.from_json(raw)
        if to not in TRANSITIONS[current.state]:
            return False, current
        new = MoveRecord(
            state=to,
            actor=actor,
            at=at.isoformat(),
            result=result,
            version=current.version + 1,
            extra=dict(extra if extra is not None else current.extra),
        )
        if self.store.compare_and_set(key, raw, new.to_json(), ttl_s=self.keep_s):
            return True, new
        latest = self.store.get(key)
        return False, None if latest is None else MoveRecord.from_json(latest)

    def _key(self, proposal_id: str, move_id: str) -> str:
        return f"move:{proposal_id}:{move_id}"


def _proposal_json(proposal: Proposal) -> dict[str, Any]:
    body = asdict(replace(proposal, moves=()))
    body["created_at"] = proposal.created_at.isoformat()
    body["expires_at"] = proposal.expires_at.isoformat()
    body["moves"] = [
        {
            **asdict(m),
            "before": m.before.to_json(),
            "after": m.after.to_json(),
            "lines": list(m.lines),
        }
        for m in proposal.moves
    ]
    return body


def _proposal_from_json(raw: Mapping[str, Any]) -> Proposal:
    moves = tuple(
        ProposedMove(
            **{
                **m,
                "before": TaskValues.from_json(m["before"]),
                "after": TaskValues.from_json(m["after"]),
                "lines": tuple(m.get("lines", ())),
            }
        )
        for m in raw["moves"]
    )
    return Proposal(
        **{
            **raw,
            "created_at": datetime.fromisoformat(raw["created_at"]),
            "expires_at": datetime.fromisoformat(raw["expires_at"]),
            "moves": moves,
        }
    )
