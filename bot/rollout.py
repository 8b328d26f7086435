"""Who may act and how writes are allowed: actors, approvers and admins, the rollout mode and
the kill switch (both in the store, so every process sees a change at once), and the audit
record of each decision. Must not import Slack modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.bootstrap import Deps
from bot.config import MODES, Mode
from bot.proposals import Proposal, ProposedMove
from bot.roster import team_approvers

MODE_FLAG = "flag:mode"
PAUSE_FLAG = "flag:writes_paused"


@dataclass(frozen=True)
class Actor:
    """Who clicked: the Slack user and, when known, their email and Asana user."""

    slack_id: str
    email: str | None = None
    asana_gid: str | None = None


# ---- modes and the kill switch ----------------------------------------------------------------


def current_mode(deps: Deps) -> Mode:
    """The rollout mode: the store's value when an admin set one, else the setting."""
    stored = deps.store.get(MODE_FLAG)
    return stored if stored in MODES else deps.settings.mode


def writes_paused(deps: Deps) -> bool:
    """Whether the kill switch stops every write (checked by every process at apply time)."""
    return bool(deps.store.get(PAUSE_FLAG))


def set_mode(deps: Deps, actor: Actor, mode: str) -> str:
    """Change the mode (admins only); returns the sentence to show."""
    if not is_admin(deps, actor):
        audit_refusal(deps, actor, "set_mode", mode, "not an admin")
        return "Only admins can change the mode."
    if mode not in MODES:
        return f"Unknown mode '{mode}': use one of {', '.join(MODES)}."
    before = current_mode(deps)
    deps.store.set(MODE_FLAG, mode)
    audit_event(
        deps, actor, "set_mode", target="mode", before={"mode": before}, after={"mode": mode}
    )
    return f"Mode is now *{mode}* (was {before})."


def set_paused(deps: Deps, actor: Actor, paused: bool) -> str:
    """Stop or resume every write (admins only); returns the sentence to show."""
    action = "pause_writes" if paused else "resume_writes"
    if not is_admin(deps, actor):
        audit_refusal(deps, actor, action, "writes", "not an admin")
        return "Only admins can pause or resume writes."
    before = writes_paused(deps)
    deps.store.set(PAUSE_FLAG, paused)
    audit_event(
        deps, actor, action, target="writes", before={"paused": before}, after={"paused": paused}
    )
    return "All writes to Asana are paused." if paused else "Writes to Asana are resumed."


# ---- authorisation ------------------------------------------------------------------------------


def is_admin(deps: Deps, actor: Actor) -> bool:
    """Whether ``actor`` is named in ADMINS (by Slack id or email)."""
    return _named(actor, deps.settings.admins)


def can_approve(deps: Deps, actor: Actor, team: str) -> bool:
    """Whether ``actor`` may decide moves of ``team``: an admin, or named in APPROVERS or as the
    team's approver in the roster."""
    if is_admin(deps, actor) or _named(actor, deps.settings.approvers):
        return True
    return _named(actor, team_approvers(deps.roster, team))


def _named(actor: Actor, names: tuple[str, ...]) -> bool:
    wanted = {n.strip().lower() for n in names if n.strip()}
    return actor.slack_id.lower() in wanted or (actor.email or "").lower() in wanted


def audit_event(
    deps: Deps,
    actor: Actor,
    action: str,
    *,
    target: str,
    proposal: Proposal | None = None,
    move: ProposedMove | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    result: str = "ok",
    model_version: str | None = None,
) -> None:
    """Append one event to the audit chain; the proposal supplies model, prompt and snapshot."""
    deps.audit.append(
        {
            "actor_slack": actor.slack_id,
            "actor_asana": actor.asana_gid,
            "action": action,
            "target": target,
            "before": before,
            "after": after,
            "proposal_id": None if proposal is None else proposal.proposal_id,
            "move_id": None if move is None else move.move_id,
            "model_version": model_version if proposal is None else proposal.model_version,
            "prompt_version": None if proposal is None else proposal.prompt_version,
            "snapshot_hash": None if proposal is None else proposal.snapshot_hash,
            "result": result,
        }
    )


def audit_refusal(
    deps: Deps,
    actor: Actor,
    action: str,
    target: str,
    why: str,
    proposal: Proposal | None = None,
    move: ProposedMove | None = None,
) -> None:
    """Audit a refused action: who tried what, and why it was refused."""
    audit_event(
        deps,
        actor,
        f"refused:{action}",
        target=target,
        proposal=proposal,
        move=move,
        result=f"refused: {why}",
    )
