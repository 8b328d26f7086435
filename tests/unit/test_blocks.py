"""Block Kit builders: valid per slack_sdk's own models, within Slack's limits, escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.audit import AuditRecord
from bot.domain import PersonRow, QualityNote, TopTask, WeekCell, WorkloadReport
from bot.proposals import MoveRecord, Proposal, ProposedMove, TaskValues
from bot.slack import blocks, messages

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


# ---- App Home and audit -------------------------------------------------------------------


def a_proposal(proposal_id: str, moves: int = 1) -> Proposal:
    return Proposal(
        proposal_id=proposal_id,
        team="Platform",
        created_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        expires_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
        requested_by="U0ANA00001",
        snapshot_hash="abc",
        model_version=None,
        prompt_version=None,
        moves=tuple(
            ProposedMove(
                move_id=f"m{i}",
                task_gid=str(i),
                task_name=f"Task {i}",
                url=None,
                kind="reassign",
                from_gid="1",
                to_gid="2",
                from_name="Ann",
                to_name="Ben",
                hours=8.0,
                reason="Ann is over",
                before=TaskValues("1", None, None),
                after=TaskValues("2", None, None),
                effort_h=8.0,
            )
            for i in range(1, moves + 1)
        ),
        summary=f"{moves} moves",
    )


def render_home(**changes: Any) -> list[dict[str, Any]]:
    arguments: dict[str, Any] = {
        "mode": "suggest",
        "paused": False,
        "mine": a_report(a_row("Ann", 0.5, 0.6)),
        "mine_note": None,
        "team": a_report(a_row("Ann", 0.5, 0.6), a_row("Ben", 1.3, 0.9)),
        "proposals": (),
        "now": datetime(2026, 11, 25, 14, 0, tzinfo=UTC),
        "undo_window": timedelta(hours=24),
    }
    arguments.update(changes)
    rendered = blocks.home_blocks(**arguments)
    View(type="home", blocks=rendered).validate_json()  # the Home's 100-block limit
    for block in rendered:
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict() == block
    return rendered


def home_texts(rendered: list[dict[str, Any]]) -> list[str]:
    return [
        b["text"]["text"] if "text" in b else b["elements"][0]["text"]
        for b in rendered
        if b["type"] in ("section", "header", "context")
    ]


def test_home_blocks_show_mode_own_weeks_team_and_no_proposals_when_nothing_waits() -> None:
    rendered = render_home(paused=True)

    texts = home_texts(rendered)
    assert texts[:3] == [
        "Capacity Copilot",
        "Mode: *suggest* · writes to Asana: paused :octagonal_sign:",
        "*Your next weeks*",
    ]
    assert "*Your team*" in texts
    assert texts[-1] == "Nothing is waiting for your decision."


def test_home_blocks_say_why_there_are_no_own_weeks_when_the_viewer_is_not_in_asana() -> None:
    note = messages.home_not_in_asana("zed@elsewhere.com")

    texts = home_texts(render_home(mine=None, mine_note=note, team=None))

    assert "I couldn't match your Slack email (zed@elsewhere.com) to anyone" in texts[3]
    assert "*Your team*" not in texts


def test_home_blocks_show_proposals_with_their_buttons_within_a_hundred_blocks() -> None:
    proposals: list[tuple[Proposal, dict[str, MoveRecord]]] = [
        (a_proposal(f"p{i:012d}", moves=6), {}) for i in range(8)
    ]

    rendered = render_home(proposals=proposals, notice="Only approvers of Platform can decide.")

    assert len(rendered) <= 100
    assert home_texts(rendered)[2] == "Only approvers of Platform can decide."
    values = {
        e["value"].split(":")[0] for b in rendered if b["type"] == "actions" for e in b["elements"]
    }
    assert "p000000000000" in values
    assert home_texts(rendered)[-1].startswith("…and ")
    assert home_texts(rendered)[-1].endswith("more proposals in their channels.")


def test_audit_blocks_show_one_line_per_event_when_there_are_events() -> None:
    records = [
        an_audit_record(1, "approved"),
        an_audit_record(2, "refused:approve", actor="<!here>"),
    ]

    rendered = blocks.audit_blocks(records)

    assert rendered[0]["text"]["text"] == (
        "*Last 2 audit events* (oldest first)\n"
        "`2026-11-25 14:03` <@U0ANA00001> *approved* 1201 (p1:m1) → ok\n"
        "`2026-11-25 14:03` &lt;!here&gt; *refused:approve* 1201 (p1:m1) → ok"
    )
    assert blocks.audit_text(records) == "*Last 2 audit events* (oldest first)"


def test_audit_blocks_split_into_sections_when_the_lines_pass_3000_characters() -> None:
    records = [an_audit_record(i, "applied", result="x" * 200) for i in range(50)]

    rendered = blocks.audit_blocks(records)

    assert len(rendered) > 1
    assert all(len(b["text"]["text"]) <= 3000 for b in rendered)
    assert sum(b["text"]["text"].count("*applied*") for b in rendered) == 50


def test_audit_blocks_say_the_log_is_empty_when_there_are_no_events() -> None:
    assert blocks.audit_blocks([]) == blocks.text_blocks("The audit log is empty.")


def an_audit_record(
    seq: int, action: str, *, actor: str = "U0ANA00001", result: str = "ok"
) -> AuditRecord:
    return AuditRecord(
        seq=seq,
        time="2026-11-25T14:03:07.000000+00:00",
        actor_slack=actor,
        actor_asana=None,
        action=action,
        target="1201",
        before=None,
        after=None,
        proposal_id="p1",
        move_id="m1",
        model_version=None,
        prompt_version=None,
        snapshot_hash=None,
        result=result,
        prev_hash="0" * 64,
        hash="1" * 64,
    )
