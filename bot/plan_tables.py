"""Plain-text tables and JSON of planning results (rebalance, what-if, suggest, sprint)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from forecasting.rebalance_plan import Move, RebalancePlan, WeekChange
from forecasting.sprint import SprintPlan
from forecasting.suggest import Suggestion
from forecasting.whatif import WhatIfAnswer


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses and mappings as objects, dates as ISO strings,
    numpy scalars as numbers, NaN as null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {k: jsonable(v) for k, v in fields.items() if not k.startswith("_")}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def rebalance_json(plan: RebalancePlan, *, team: str, snapshot_hash: str) -> dict[str, Any]:
    """The plan as one JSON object, with the evidence it was computed from."""
    body: dict[str, Any] = jsonable(plan)
    body.update(team=team, removed_h=plan.removed_h, snapshot_hash=snapshot_hash)
    return body


def rebalance_table(
    plan: RebalancePlan, *, team: str, names: Callable[[str], str], weeks: int
) -> str:
    """The plan as numbered moves with their reasons, then what remains and why."""
    proof = "proven optimal" if plan.optimal else f"best found (gap {_gap(plan.gap)})"
    lines = [
        f"Rebalance · {team} · next {weeks} week{'s' if weeks != 1 else ''}",
        (
            f"Overload {plan.overload_before_h:.1f} h → {plan.overload_after_h:.1f} h "
            f"({plan.removed_h:.1f} h removed) with {len(plan.moves)} move"
            f"{'s' if len(plan.moves) != 1 else ''} · {proof} ({plan.method}, "
            f"{plan.seconds:.1f} s) · model {plan.model_version or 'none (committed load)'}"
        ),
        "",
    ]
    for number, move in enumerate(plan.moves, 1):
        lines.append(f"{number:>2}. {_headline(move, names)}")
        lines.append(f"    {move.reason}")
        lines.append(f"    {_weeks(names(move.from_gid), move.giver_weeks)}")
        if move.kind == "reassign":
            lines.append(f"    {_weeks(names(move.to_gid), move.receiver_weeks)}")
    if not plan.moves:
        lines.append("No moves proposed.")
    for sentence in plan.explanation:
        lines.append(f"Why: {sentence}")
    for note in plan.notes:
        lines.append(f"Note: {note}")
    lines.append("Nothing has been changed in Asana: approve moves in Slack to apply them.")
    return "\n".join(lines)


def whatif_json(answer: WhatIfAnswer, *, team: str, snapshot_hash: str) -> dict[str, Any]:
    """The answer as one JSON object: scenario, changed person-weeks, the plan after."""
    changes = answer.diff.changes.to_dict(orient="records")
    return {
        "team": team,
        "scenario": list(answer.scenario),
        "summary": answer.diff.summary(),
        "changes": jsonable(changes),
        "newly_over": jsonable(answer.diff.newly_over),
        "relieved": jsonable(answer.diff.relieved),
        "notes": list(answer.notes),
        "model_version": answer.after.model_version,
        "plan": None
        if answer.plan is None
        else rebalance_json(answer.plan, team=team, snapshot_hash=snapshot_hash),
        "snapshot_hash": snapshot_hash,
    }


def whatif_table(
    answer: WhatIfAnswer, *, team: str, names: Callable[[str], str], weeks: int, limit: int = 20
) -> str:
    """The scenario, who changes status and by how much, then the rebalancer's plan after."""
    lines = [
        f"What if · {team} · next {weeks} week{'s' if weeks != 1 else ''}",
        *(f"  - {step}" for step in answer.scenario),
        "",
        answer.diff.summary(),
    ]
    changes = answer.diff.changes
    if not changes.empty:
        name_w = max([len(str(n)) for n in changes["name"]] + [6])
        lines.append(
            f"{'person':<{name_w}}  {'week':<10}  {'status':<17}  {'load (h)':<15}  P(over)"
        )
        for row in changes.head(limit).to_dict(orient="records"):
            status = f"{row['status_before'] or '—'} → {row['status_after'] or '—'}"
            load = f"{_h(row['mean_h_before'])} → {_h(row['mean_h_after'])}"
            risk = f"{_p(row['p_over_before'])} → {_p(row['p_over_after'])}"
            week = f"w/c {pd.Timestamp(row['week_start']):%d %b}"
            lines.append(f"{row['name']!s:<{name_w}}  {week:<10}  {status:<17}  {load:<15}  {risk}")
        if len(changes) > limit:
            lines.append(f"… and {len(changes) - limit} more person-weeks (see --json).")
    lines += [f"Note: {note}" for note in answer.notes]
    if answer.plan is not None:
        lines += ["", "In that world, the rebalancer would propose:"]
        lines.append(rebalance_table(answer.plan, team=team, names=names, weeks=weeks))
    return "\n".join(lines)


def suggestion_table(suggestion: Suggestion) -> str:
    """Ranked candidates with finish date, peak load and P(over) after, then who is excluded."""
    hours = "unknown" if suggestion.hours is None else f"{suggestion.hours:.1f} h"
    lines = [
        f"Who should take '{suggestion.task_name}' ({hours}, {suggestion.hours_source})",
        suggestion.why,
        "",
    ]
    if suggestion.ranked:
        name_w = max([len(c.name) for c in suggestion.ranked] + [6])
        lines.append(
            f"{'#':>2}  {'person':<{name_w}}  {'skill':>5}  {'finish':<10}  {'peak after':>10}  "
            "P(over) before → after"
        )
        for rank, c in enumerate(suggestion.ranked, 1):
            finish = "beyond" if c.finish_on is None else f"{c.finish_on:%a %d %b}"
            peak = "—" if not math.isfinite(c.peak_after) else f"{c.peak_after:.0%}"
            late = " (late)" if c.late else ""
            lines.append(
                f"{rank:>2}  {c.name:<{name_w}}  {c.skill_score:5.1f}  {finish:<10}  {peak:>10}  "
                f"{c.max_p_over_before:.0%} → {c.max_p_over_after:.0%}{late}"
            )
    for excluded in suggestion.excluded:
        lines.append(f"Not ranked: {excluded.name}: {excluded.reason}")
    if suggestion.forecast_note:
        lines.append(f"Note: {suggestion.forecast_note}")
    return "\n".join(lines)


def sprint_table(plan: SprintPlan, *, team: str) -> str:
    """Planned items per person, capacity used, then what does not fit and why."""
    proof = "proven optimal" if plan.optimal else "best found within the time limit"
    lines = [
        f"Sprint · {team} · {plan.sprint_start:%a %d %b} – {plan.sprint_end:%a %d %b}",
        f"{len(plan.planned)} items planned, value {plan.total_value:g} · {proof} "
        f"({plan.seconds:.1f} s) · free capacity from the {plan.load_source} load",
        "",
    ]
    for person in plan.people:
        lines.append(
            f"{person.name}: {person.planned_h:.1f} h planned of {person.free_h:.1f} h free "
            f"(capacity {person.capacity_h:.1f} h, already committed {person.load_h:.1f} h)"
        )
        for item in plan.planned:
            if item.person_gid == person.person_gid:
                moved = " (reassigned)" if item.reassigned else ""
                priority = item.priority or "no priority"
                lines.append(f"    {item.hours:5.1f} h  {item.name} [{priority}]{moved}")
    if plan.not_planned:
        lines += ["", "Not planned:"]
        for left in plan.not_planned:
            size = "?" if left.hours is None else f"{left.hours:.1f}"
            lines.append(f"    {size:>5} h  {left.name}: {left.reason}")
    lines.append("Nothing has been changed in Asana.")
    return "\n".join(lines)


def _h(value: Any) -> str:
    return "—" if pd.isna(value) else f"{float(value):.1f}"


def _p(value: Any) -> str:
    return "—" if pd.isna(value) else f"{float(value):.0%}"


def _headline(move: Move, names: Callable[[str], str]) -> str:
    if move.kind == "shift":
        return (
            f"Shift '{move.task_name}' {move.shift_days} working days later "
            f"(due {move.new_due_on}) · {names(move.from_gid)}"
        )
    return (
        f"Reassign '{move.task_name}' ({move.hours:.1f} h) {names(move.from_gid)} → "
        f"{names(move.to_gid)} [{move.skill_match}]"
    )


def _weeks(name: str, weeks: tuple[WeekChange, ...]) -> str:
    cells = []
    for week in weeks:
        before, after = _pct(week.before_pct), _pct(week.after_pct)
        risk = (
            ""
            if week.p_over_after is None
            else f", P(over) {week.p_over_before:.0%}→{week.p_over_after:.0%}"
        )
        cells.append(f"w/c {week.week_start:%d %b}: {before}→{after}{risk}")
    return f"{name}: " + "; ".join(cells)


def _pct(value: float | None) -> str:
    return "off" if value is None else f"{value:.0f}%"


def _gap(gap: float | None) -> str:
    return "unknown" if gap is None else f"{gap:.2%}"
