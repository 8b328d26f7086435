"""Block Kit builders: valid per slack_sdk's own models, within Slack's limits, escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from slack_sdk.models.blocks import Block

from bot.domain import PersonRow, QualityNote, TopTask, WeekCell, WorkloadReport
from bot.slack import blocks

WEEKS = (date(2026, 11, 23), date(2026, 11, 30))


def a_row(name: str, *utilisations: float | None, top: tuple[TopTask, ...] = ()) -> PersonRow:
    cells = tuple(
        WeekCell(
            week_start=w,
            capacity_h=40.0,
            committed_h=(u or 0) * 40,
            utilisation=u,
            status="over" if (u or 0) > 1 else "ok",
            overdue_h=0.0,
        )
        for w, u in zip(WEEKS, utilisations, strict=True)
    )
    return PersonRow(gid=name, name=name, email=None, weeks=cells, top_tasks=top)


def a_report(*rows: PersonRow, quality: QualityNote | None = None) -> WorkloadReport:
    return WorkloadReport(
        title="Capacity · Platform · next 2 weeks",
        team="Platform",
        week_starts=WEEKS,
        rows=rows,
        quality=quality or QualityNote(),
        synced_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        snapshot_hash="abc",
        project_links=(("Billing", "https://app.asana.com/0/1/list"),),
    )


def assert_valid(rendered: list[dict[str, Any]]) -> None:
    assert 1 <= len(rendered) <= 50
    for block in rendered:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block  # runs slack_sdk's validators recursively


def test_workload_blocks_sort_people_most_loaded_first_when_rendered() -> None:
    report = a_report(a_row("Ann", 0.5, 0.6), a_row("Ben", 1.3, 0.9), a_row("Cy", None, 0.1))

    rendered = blocks.workload_blocks(report)

    assert_valid(rendered)
    names = [b["text"]["text"].split("\n")[0] for b in rendered if b["type"] == "section"]
    assert names == ["*Ben*", "*Ann*", "*Cy*"]
    assert rendered[3]["text"]["text"] == "*Ben*\n:red_circle: `130%`  :large_green_circle: ` 90%`"


def test_workload_blocks_escape_untrusted_names_when_they_contain_markup() -> None:
    evil = TopTask(gid="1", name="<!channel> & <https://evil|click>", hours=5, url=None)
    report = a_report(a_row("<@U123> Eve", 0.5, 0.5, top=(evil,)))

    text = blocks.workload_blocks(report)[3]["text"]["text"]

    assert "<!channel>" not in text and "<@U123>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in text


def test_workload_blocks_stay_within_fifty_blocks_when_the_team_is_large() -> None:
    report = a_report(*(a_row(f"P{i:03d}", 0.5, 0.5) for i in range(120)))

    rendered = blocks.workload_blocks(report)

    assert_valid(rendered)
    assert "…and 78 more people not shown." in str(rendered)


def test_workload_blocks_show_data_quality_gaps_when_present() -> None:
    report = a_report(a_row("Ann", 0.5, 0.5), quality=QualityNote(unestimated=3, overdue=1))

    footer = blocks.workload_blocks(report)[-2]["elements"][0]["text"]

    assert footer == (
        ":warning: Open tasks 3 unestimated (not counted); 1 overdue (counted this week)."
    )


def test_workload_text_names_overloaded_people_when_any() -> None:
    report = a_report(a_row("Ann", 0.5, 0.5), a_row("Ben", 1.2, 0.5))

    assert blocks.workload_text(report).endswith("over capacity — Ben")


def test_help_blocks_are_valid_block_kit_when_rendered() -> None:
    assert_valid(blocks.help_blocks())


def test_workload_blocks_show_range_and_chance_of_overload_when_forecast() -> None:
    cell = WeekCell(
        week_start=WEEKS[0],
        capacity_h=40.0,
        committed_h=36.0,
        utilisation=1.18,
        status="over",
        overdue_h=0.0,
        mean_h=47.2,
        p10_h=36.8,
        p90_h=56.0,
        p_over=0.81,
    )
    row = PersonRow(
        gid="1",
        name="Ann",
        email=None,
        weeks=(cell,),
        top_tasks=(TopTask(gid="7", name="Spike", hours=6.0, url=None, imputed=True),),
    )
    report = WorkloadReport(
        title="t",
        team=None,
        week_starts=WEEKS[:1],
        rows=(row,),
        quality=QualityNote(),
        synced_at=datetime(2026, 11, 25, tzinfo=UTC),
        snapshot_hash="abc",
        model_version="9ec2347bf7d8",
        model_note="learned from 4,779 completed tasks",
    )

    rendered = blocks.workload_blocks(report)

    assert_valid(rendered)
    assert rendered[3]["text"]["text"] == (
        "*Ann*\n:red_circle: `118%` 92–140 P81\n_top:_ Spike 6h (imputed)"
    )
    contexts = [b["elements"][0]["text"] for b in rendered if b["type"] == "context"]
    assert "Forecast model `9ec2347bf7d8` · learned from 4,779 completed tasks" in contexts
    assert any(c.startswith("`118%` expected load") for c in contexts)


def test_workload_blocks_say_why_there_is_no_forecast_when_the_model_is_missing() -> None:
    report = a_report(a_row("Ann", 0.5, 0.5))
    report = WorkloadReport(**{**report.__dict__, "model_note": "no completed history yet"})

    contexts = [
        b["elements"][0]["text"] for b in blocks.workload_blocks(report) if b["type"] == "context"
    ]

    assert "Committed load only, no forecast: no completed history yet" in contexts
