"""Proposing: run the rebalancer for a team and store its moves, each with its before and after
values and the weeks it changes, as one pending, audited proposal. Must not import Slack modules.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from bot.ai_fields import publish_ai_fields
from bot.bootstrap import Deps
from bot.domain import Viewer
from bot.planning import propose_rebalance
from bot.proposals import Proposal, ProposedMove, TaskValues, new_proposal_id
from bot.rollout import Actor, audit_event


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


def _day(value: Any) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _pct(value: float | None) -> str:
    return "off" if value is None else f"{value:.0f}%"
