"""The App Home tab: published (``views.publish``) when a user opens it, and after their clicks.

It shows the viewer's own coming weeks, their team, the proposals they may decide and the mode.
Proposals come from the ``proposals:open`` index (:mod:`bot.slack.open_proposals`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import approvals, rollout, services
from bot.approvals import Actor
from bot.bootstrap import Deps
from bot.domain import WorkloadReport
from bot.errors import CopilotError, LookupFailed
from bot.proposals import MoveRecord, Proposal
from bot.slack import blocks, ids, messages, open_proposals
from bot.slack.background import BackgroundJobs
from bot.slack.users import actor_of

log = logging.getLogger(__name__)
MAX_HOME_PROPOSALS = 10


def register(app: App, deps: Deps, jobs: BackgroundJobs) -> None:
    """Attach the ``app_home_opened`` listener to ``app`` (events are acked by Bolt at once)."""

    @app.event(ids.APP_HOME_OPENED)
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab opened: nothing to publish
        user_id = str(event.get("user") or "")
        team_id = str(body.get("team_id") or "")
        if not user_id:
            return
        jobs.submit(
            lambda: publish_home(deps, client, user_id, team_id),
            context=f"App Home of {user_id}",
        )


def publish_home(
    deps: Deps, client: WebClient, user_id: str, team_id: str, *, notice: str | None = None
) -> None:
    """Build and publish ``user_id``'s Home; ``notice`` is shown on top (a refusal, say)."""
    actor = actor_of(deps, client, user_id, team_id)
    mine, mine_note, team = _workloads(deps, actor)
    # The Home's tables have no room of their own for it: say it above them.
    hidden = [f":lock: {r.hidden_note}" for r in (mine, team) if r and r.hidden_tasks]
    notice = "\n".join(n for n in (notice, *hidden) if n) or None
    view = {
        "type": "home",
        "blocks": blocks.home_blocks(
            mode=approvals.current_mode(deps),
            paused=approvals.writes_paused(deps),
            mine=mine,
            mine_note=mine_note,
            team=team,
            proposals=decidable(deps, actor),
            now=deps.clock.now(),
            undo_window=timedelta(hours=deps.settings.undo_window_h),
            notice=notice,
        ),
    }
    client.views_publish(user_id=user_id, view=view)


def decidable(deps: Deps, actor: Actor) -> list[tuple[Proposal, dict[str, MoveRecord]]]:
    """Open proposals ``actor`` may decide that still have a pending move, newest first.

    Proposals that are gone, expired or fully decided are dropped from the index on the way.
    """
    now = deps.clock.now()
    found: list[tuple[Proposal, dict[str, MoveRecord]]] = []
    closed: set[str] = set()
    for proposal_id in open_proposals.open_ids(deps.store):
        proposal = deps.book.get(proposal_id)
        if proposal is None or now >= proposal.expires_at:
            closed.add(proposal_id)
            continue
        records = records_of(deps, proposal)
        if not any(r.state == "pending" for r in records.values()):
            closed.add(proposal_id)
            continue
        if len(found) < MAX_HOME_PROPOSALS and approvals.can_approve(deps, actor, proposal.team):
            found.append((proposal, records))
    open_proposals.forget(deps.store, closed)
    return found


def records_of(deps: Deps, proposal: Proposal) -> dict[str, MoveRecord]:
    """Each move's record as stored (moves without one are left out: shown pending)."""
    records = {}
    for move in proposal.moves:
        record = deps.book.record(proposal.proposal_id, move.move_id)
        if record is not None:
            records[move.move_id] = record
    return records


def _workloads(
    deps: Deps, actor: Actor
) -> tuple[WorkloadReport | None, str | None, WorkloadReport | None]:
    """The viewer's own report (or why there is none) and their team's report, each without
    the tasks of projects the viewer cannot see (unless they are an admin)."""
    email = actor.email
    if not email:
        return None, messages.home_not_in_asana(None), None
    try:
        viewer = services.viewer_of(deps, email=email, is_admin=rollout.is_admin(deps, actor))
        mine = services.get_person_workload(deps, person=email, viewer=viewer)
    except LookupFailed:
        return None, messages.home_not_in_asana(email), None
    except CopilotError as exc:
        log.warning("App Home workload for %s failed: %s", email, exc)
        return None, exc.user_message, None
    team_name = services.team_of_email(deps, email)
    if team_name is None:
        return mine, None, None
    try:
        team = services.get_team_workload(deps, team=team_name, viewer=viewer)
    except CopilotError as exc:
        log.warning("App Home team workload for %s failed: %s", team_name, exc)
        team = None
    return mine, None, team
