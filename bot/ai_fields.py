"""AI custom fields on tasks, written after a forecast in ``auto`` mode (no approval needed).

For each open task of a team that puts hours into a week at risk: AI Capacity Score (the
assignee's peak expected utilisation in the task's weeks, percent), AI Overload Flag (the worst
status of those weeks) and AI Recommended Reassignment (the rebalancer's move for it, if any).
Only values that changed since the last run are written; every write is audited; shadow and
suggest modes and paused writes write nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from bot.bootstrap import Deps
from bot.errors import AsanaError, CopilotError
from bot.planning import propose_rebalance
from bot.rollout import Actor, audit_event, current_mode, writes_paused
from forecasting.forecast import Forecast
from forecasting.rebalance_plan import RebalancePlan

log = logging.getLogger(__name__)

MAX_WRITES_PER_RUN = 100  # one PUT per task: keep a run well inside Asana's rate limit
SYSTEM = Actor("capacity-copilot")  # the actor of writes made without a human decision
_SEVERITY = {"over": 3, "at_risk": 2, "ok": 1, "under": 0, "off": 0}
_FLAG = {"over": "over", "at_risk": "at_risk", "ok": "ok", "under": "under", "off": "under"}


def publish_ai_fields(
    deps: Deps,
    *,
    team: str,
    forecast: Forecast,
    plan: RebalancePlan | None = None,
) -> int:
    """Write the AI fields of ``team``'s tasks that drive weeks at risk; returns tasks written.

    Does nothing unless the mode is ``auto`` and writes are not paused. Asana failures are
    logged and audited and end the run; what was written stays written and recorded.
    """
    if current_mode(deps) != "auto" or writes_paused(deps):
        return 0
    snapshot = deps.snapshots.get()
    people = snapshot.people
    members = set(people.loc[people["team"] == team, "gid"])
    values = task_values(forecast, members, plan, names=_names(people))
    if not values:
        return 0
    tasks = snapshot.tasks.set_index("gid")
    projects = sorted({str(tasks.at[g, "project_gid"]) for g in values if g in tasks.index})
    writer = deps.writer
    written = 0
    try:
        fields = writer.provision_ai_fields([p for p in projects if p != "None"])
        for task_gid, (score, flag, text) in values.items():
            key = f"ai:last:{task_gid}"
            wanted = {"score": score, "flag": flag, "recommendation": text}
            if deps.store.get(key) == wanted:
                continue
            if written >= MAX_WRITES_PER_RUN:
                break
            result = writer.write_ai_fields(
                task_gid, score=score, flag=flag, recommendation=text, fields=fields
            )
            audit_event(
                deps,
                SYSTEM,
                "ai_fields",
                target=task_gid,
                before=dict(result.before),
                after=dict(result.after),
                model_version=forecast.model_version,
            )
            deps.store.set(key, wanted, ttl_s=30 * 86_400)
            written += 1
    except AsanaError as exc:
        log.warning("AI field write stopped after %d tasks: %s", written, exc)
        audit_event(deps, SYSTEM, "ai_fields", target=team, result=f"failed: {exc.user_message}")
    return written


def publish_team_ai_fields(deps: Deps, *, team: str) -> int:
    """Forecast and rebalance ``team`` (read-only), then :func:`publish_ai_fields`; for the
    background after a ``/capacity`` team answer in ``auto`` mode. Failures are logged."""
    if current_mode(deps) != "auto" or writes_paused(deps):
        return 0
    try:
        result = propose_rebalance(deps, team=team)
        return publish_ai_fields(deps, team=result.team, forecast=result.forecast, plan=result.plan)
    except CopilotError as exc:
        log.warning("AI fields for %s not written: %s", team, exc)
        return 0


def task_values(
    forecast: Forecast,
    members: set[str],
    plan: RebalancePlan | None,
    *,
    names: Mapping[str, str],
) -> dict[str, tuple[float, str, str]]:
    """``task gid -> (score %, flag, recommendation)`` for tasks in weeks at risk or over."""
    weekly = forecast.weekly.loc[forecast.weekly["person_gid"].isin(members)]
    drivers = forecast.drivers.loc[forecast.drivers["person_gid"].isin(members)]
    if drivers.empty:
        return {}
    cells = weekly.assign(
        utilisation=np.where(
            weekly["capacity_h"] > 0, 100.0 * weekly["mean_h"] / weekly["capacity_h"], np.nan
        ),
        severity=weekly["status"].map(_SEVERITY).fillna(0),
    )
    joined = drivers.merge(cells, on=["person_gid", "week_start"], how="left")
    joined = joined.loc[joined["severity"] >= _SEVERITY["at_risk"]]
    moves = {m.task_gid: m for m in (plan.moves if plan is not None else ())}
    out: dict[str, tuple[float, str, str]] = {}
    for task_gid, rows in joined.groupby("task_gid"):
        worst = rows.sort_values("severity", kind="stable").iloc[-1]["status"]
        peak = float(np.nan_to_num(rows["utilisation"].max(), nan=0.0))
        move = moves.get(str(task_gid))
        text = ""
        if move is not None:
            text = (
                f"Give to {names.get(move.to_gid, move.to_gid)} ({move.hours:.1f} h)"
                if move.kind == "reassign"
                else f"Move due date to {move.new_due_on}"
            )
        out[str(task_gid)] = (round(peak, 2), _FLAG[str(worst)], text)
    return out


def _names(people: pd.DataFrame) -> dict[str, str]:
    return dict(zip(people["gid"].astype(str), people["name"].astype(str), strict=True))
