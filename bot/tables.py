"""Plain-text tables of domain reports for the CLI (the Slack rendering lives in slack/blocks)."""

from __future__ import annotations

from bot.domain import WorkloadReport

MARKERS = {"over": "!!", "at_risk": "! ", "ok": "  ", "under": " .", "off": " -"}
LEGEND = "!! over capacity   ! at risk (>85%)   . under 50%   - not working"


def workload_table(report: WorkloadReport) -> str:
    """The report as a fixed-width table: one row per person, one column per week."""
    name_w = max([len(r.name) for r in report.rows] + [6])
    head = f"{'person':<{name_w}}  " + "  ".join(
        f"{'W' + str(w.isocalendar().week) + ' ' + w.strftime('%d %b'):>13}"
        for w in report.week_starts
    )
    lines = [report.title, f"Asana synced {report.synced_at:%Y-%m-%d %H:%M} UTC", "", head]
    lines.append("-" * len(head))
    rows = sorted(
        report.rows,
        key=lambda r: max((w.utilisation or 0 for w in r.weeks), default=0),
        reverse=True,
    )
    for row in rows:
        cells = [
            f"{w.label:>5} {w.committed_h:5.1f}h{MARKERS.get(w.status, '  ')}" for w in row.weeks
        ]
        lines.append(f"{row.name:<{name_w}}  " + "  ".join(f"{c:>13}" for c in cells))
    q = report.quality
    lines += [
        "",
        LEGEND,
        (
            f"Data quality: {q.unestimated} unestimated, {q.undated} undated, {q.overdue} overdue, "
            f"{q.invalid} invalid open tasks; {q.unassigned} unassigned; "
            f"{q.outside_scope} assigned outside these teams."
        ),
    ]
    return "\n".join(lines)
