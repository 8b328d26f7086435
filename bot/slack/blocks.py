"""Block Kit builders: domain values in, Slack block dicts out (no I/O).

Slack caps a message at 50 blocks, section text at 3,000 characters and headers at 150, so the
builders budget for those; untrusted text (names, task titles) is escaped before it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.audit import AuditRecord
from bot.domain import PersonRow, WorkloadReport
from bot.proposals import MoveRecord, Proposal
from bot.slack import messages
from bot.slack.messages import escape
from bot.slack.proposal_blocks import proposal_blocks

Block = dict[str, Any]
MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_ROWS = MAX_BLOCKS - 8  # header, context, divider, legend, quality, links, overflow note
HOME_TEAM_ROWS = 15
MIN_PROPOSAL_BLOCKS = 12  # below this a proposal would show no move at all


def help_blocks() -> list[Block]:
    """The ``/capacity help`` answer."""
    return [_section(messages.HELP)]


def text_blocks(text: str) -> list[Block]:
    """A plain one-section answer (errors, hints)."""
    return [_section(text[:3000])]


def workload_blocks(report: WorkloadReport, *, max_rows: int = MAX_ROWS) -> list[Block]:
    """A header, one row per person (most loaded first), a legend and a data-quality footer."""
    weeks = " · ".join(f"W{w.isocalendar().week} ({w:%d %b})" for w in report.week_starts)
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": report.title[:150]}},
        _context(f"{weeks}  ·  Asana synced {report.synced_at:%d %b %H:%M} UTC"),
        {"type": "divider"},
    ]
    rows = sorted(report.rows, key=_peak, reverse=True)
    blocks += [_person(row) for row in rows[:max_rows]]
    if len(rows) > max_rows:
        blocks.append(_context(f"…and {len(rows) - max_rows} more people not shown."))
    if not rows:
        blocks.append(_section("Nobody in this team has capacity or work in these weeks."))
    blocks.append(_context(messages.FORECAST_LEGEND if report.model_version else messages.LEGEND))
    blocks.append(_context(_model_line(report)))
    blocks.append(_context(_quality_line(report)))
    if report.project_links:
        links = " · ".join(f"<{url}|{escape(name)}>" for name, url in report.project_links[:10])
        blocks.append(_context(f"Projects: {links}"))
    return blocks


def home_blocks(
    *,
    mode: str,
    paused: bool,
    mine: WorkloadReport | None,
    mine_note: str | None,
    team: WorkloadReport | None,
    proposals: Sequence[tuple[Proposal, Mapping[str, MoveRecord]]],
    now: datetime,
    undo_window: timedelta,
    notice: str | None = None,
) -> list[Block]:
    """The App Home: the mode, the viewer's own weeks, their team, and the proposals they can
    decide (with the same buttons as the messages), within the Home's 100 blocks."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": messages.HOME_TITLE}},
        _context(messages.mode_status(mode, paused)),
    ]
    if notice:
        blocks.append(_section(notice[:3000]))
    blocks.append(_section(messages.HOME_YOU))
    if mine is not None:
        blocks += workload_blocks(mine, max_rows=1)
    else:
        blocks.append(_section(mine_note or messages.home_not_in_asana(None)))
    if team is not None:
        blocks += [{"type": "divider"}, _section(messages.HOME_TEAM)]
        blocks += workload_blocks(team, max_rows=HOME_TEAM_ROWS)
    blocks += [{"type": "divider"}, _section(messages.HOME_PROPOSALS)]
    if not proposals:
        blocks.append(_context(messages.HOME_NO_PROPOSALS))
    for shown, (proposal, records) in enumerate(proposals):
        room = MAX_HOME_BLOCKS - len(blocks) - 1  # keep one for the "more proposals" note
        if room < MIN_PROPOSAL_BLOCKS:
            blocks.append(_context(messages.home_more_proposals(len(proposals) - shown)))
            break
        blocks += proposal_blocks(
            proposal,
            records,
            now=now,
            mode=mode,
            paused=paused,
            undo_window=undo_window,
            max_blocks=min(MAX_BLOCKS, room),
        )
    return blocks


def audit_blocks(records: Sequence[AuditRecord]) -> list[Block]:
    """Audit events one line each, oldest first, in as many sections as 3,000 characters need."""
    if not records:
        return [_section(messages.AUDIT_EMPTY)]
    sections = [messages.audit_header(len(records))]
    for record in records:
        line = _audit_line(record)[:1000]
        if len(sections[-1]) + 1 + len(line) > 3000:
            sections.append(line)
        else:
            sections[-1] += "\n" + line
    return [_section(text) for text in sections]


def audit_text(records: Sequence[AuditRecord]) -> str:
    """The notification/fallback text of an audit answer."""
    return messages.audit_header(len(records)) if records else messages.AUDIT_EMPTY


def _audit_line(record: AuditRecord) -> str:
    ref = ":".join(p for p in (record.proposal_id, record.move_id) if p)
    return messages.audit_line(
        record.time[:16].replace("T", " "),
        record.actor_slack,
        record.action,
        record.target or "",
        ref,
        record.result or "",
    )


def workload_text(report: WorkloadReport) -> str:
    """The notification/fallback text of a workload message."""
    over = [r.name for r in report.rows if any(w.status == "over" for w in r.weeks)]
    if over:
        return f"{report.title}: over capacity — {', '.join(over[:10])}"
    return f"{report.title}: nobody over capacity"


def _person(row: PersonRow) -> Block:
    cells = []
    for week in row.weeks:
        cell = f"{messages.STATUS_EMOJI.get(week.status, '')} `{week.label}`"
        if week.range_label:
            cell += f" {week.range_label}"
        if week.p_over is not None:
            cell += f" P{week.p_over * 100:.0f}"
        cells.append(cell)
    text = f"*{escape(row.name)}*\n" + "  ".join(cells)
    if row.top_tasks:
        tops = " · ".join(
            (f"<{t.url}|{escape(_short(t.name))}>" if t.url else escape(_short(t.name)))
            + f" {t.hours:.0f}h"
            + (" (imputed)" if t.imputed else "")
            for t in row.top_tasks[:3]
        )
        text += f"\n_top:_ {tops}"
    return _section(text[:3000])


def _model_line(report: WorkloadReport) -> str:
    if report.model_version:
        return f"Forecast model `{report.model_version}` · {report.model_note}"
    return f"Committed load only, no forecast: {report.model_note or 'no model'}"


def _quality_line(report: WorkloadReport) -> str:
    q = report.quality
    parts = [
        (q.unestimated, "unestimated (not counted)"),
        (q.undated, "without due date (not counted)"),
        (q.overdue, "overdue (counted this week)"),
        (q.unassigned, "unassigned"),
        (q.invalid, "with invalid dates or estimates"),
        (q.outside_scope, "assigned outside these teams"),
    ]
    shown = [f"{n} {label}" for n, label in parts if n]
    if not shown:
        return ":white_check_mark: Data quality: every open task has an estimate and a due date."
    return ":warning: Open tasks " + "; ".join(shown) + "."


def _peak(row: PersonRow) -> float:
    return max((w.utilisation or 0.0 for w in row.weeks), default=0.0)


def _short(name: str, limit: int = 60) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}
