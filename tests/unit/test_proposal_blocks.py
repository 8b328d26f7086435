"""The proposal message: valid Block Kit, the buttons each state allows, escaped, within limits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block

from bot.proposals import MoveRecord, Proposal, ProposedMove, TaskValues
from bot.slack import ids, messages
from bot.slack.proposal_blocks import button_value, parse_value, proposal_blocks

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
APPLIED_AT = "2026-11-25T14:03:00+00:00"
LEAD = "U0ANA00001"


def a_move(move_id: str = "m1", *, name: str = "Invoice export", **changes: Any) -> ProposedMove:
    values: dict[str, Any] = {
        "move_id": move_id,
        "task_gid": "1201",
        "task_name": name,
        "url": "https://app.asana.com/0/1/1201",
        "kind": "reassign",
        "from_gid": "11",
        "to_gid": "12",
        "from_name": "Ana Alves",
        "to_name": "Ben Brook",
        "hours": 12.0,
        "reason": "Ana is at 125% in w/c 23 Nov",
        "before": TaskValues("11", None, date(2026, 12, 4)),
        "after": TaskValues("12", None, date(2026, 12, 4)),
        "effort_h": 12.0,
        "lines": ("Ana Alves: w/c 23 Nov 125%→95%", "Ben Brook: w/c 23 Nov 40%→70%"),
    }
    values.update(changes)
    return ProposedMove(**values)


def a_proposal(*moves: ProposedMove, expires_at: datetime | None = None) -> Proposal:
    return Proposal(
        proposal_id="p0123456789ab",
        team="Platform",
        created_at=NOW - timedelta(hours=1),
        expires_at=expires_at or NOW + timedelta(hours=23),
        requested_by=LEAD,
        snapshot_hash="f00dfeed" * 8,
        model_version="9ec2347bf7d8",
        prompt_version=None,
        moves=moves or (a_move(),),
        summary="1 move would remove 12.0 h of 20.0 h expected overload.",
    )


def render(
    proposal: Proposal,
    records: Mapping[str, MoveRecord] | None = None,
    *,
    mode: str = "suggest",
    paused: bool = False,
    undo_window: timedelta = timedelta(hours=24),
    now: datetime = NOW,
) -> list[dict[str, Any]]:
    rendered = proposal_blocks(
        proposal, records or {}, now=now, mode=mode, paused=paused, undo_window=undo_window
    )
    assert_valid(rendered)
    return rendered


def assert_valid(rendered: list[dict[str, Any]]) -> None:
    assert 1 <= len(rendered) <= 50
    for block in rendered:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block  # runs slack_sdk's validators recursively


def buttons(rendered: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for block in rendered:
        if block["type"] == "actions":
            yield from block["elements"]
        if block.get("accessory", {}).get("type") == "button":
            yield block["accessory"]


def action_ids(rendered: list[dict[str, Any]]) -> list[str]:
    return [b["action_id"] for b in buttons(rendered)]


def texts(rendered: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in rendered:
        if block["type"] in ("section", "header"):
            found.append(block["text"]["text"])
        if block["type"] == "context":
            found += [e["text"] for e in block["elements"]]
    return found


def test_proposal_blocks_offer_approve_and_reject_per_move_when_pending() -> None:
    proposal = a_proposal(a_move("m1"), a_move("m2", name="Rate limiter"))

    rendered = render(proposal)

    assert action_ids(rendered) == [
        ids.APPROVE,
        ids.REJECT,
        ids.APPROVE,
        ids.REJECT,
        ids.APPROVE_ALL,
        ids.REJECT_ALL,
    ]
    approve = next(buttons(rendered))
    assert approve["value"] == "p0123456789ab:m1"
    assert approve["style"] == "primary"
    assert approve["confirm"]["text"]["text"] == (
        "Reassign “Invoice export” from Ana Alves to Ben Brook in Asana?"
    )
    assert set(approve["confirm"]) == {"title", "text", "confirm", "deny"}
    approve_all = [b for b in buttons(rendered) if b["action_id"] == ids.APPROVE_ALL][0]
    assert approve_all["value"] == "p0123456789ab"
    assert "confirm" in approve_all


def test_proposal_blocks_show_the_move_evidence_when_rendered() -> None:
    rendered = render(a_proposal())

    assert rendered[0]["text"]["text"] == "Rebalance proposal · Platform"
    assert texts(rendered)[1] == "1 move would remove 12.0 h of 20.0 h expected overload."
    assert texts(rendered)[2] == (
        "model `9ec2347bf7d8` · snapshot `f00dfeedf00d` · asked by <@U0ANA00001>"
        " · decide before 26 Nov 13:30 UTC"
    )
    assert texts(rendered)[3] == (
        "*1. <https://app.asana.com/0/1/1201|Invoice export>* · 12 h\n"
        "Ana Alves → Ben Brook\n"
        "_Why:_ Ana is at 125% in w/c 23 Nov\n"
        "• Ana Alves: w/c 23 Nov 125%→95%\n"
        "• Ben Brook: w/c 23 Nov 40%→70%"
    )


def test_proposal_blocks_show_who_applied_and_offer_undo_when_inside_the_undo_window() -> None:
    records = {"m1": MoveRecord("applied", actor=LEAD, at=APPLIED_AT, result="applied")}

    rendered = render(a_proposal(), records)

    assert "✅ Applied by <@U0ANA00001> at 14:03 UTC" in texts(rendered)[3]
    assert action_ids(rendered) == [ids.UNDO]
    assert next(buttons(rendered))["value"] == "p0123456789ab:m1"


def test_proposal_blocks_drop_undo_when_the_undo_window_has_passed() -> None:
    records = {"m1": MoveRecord("applied", actor=LEAD, at=APPLIED_AT)}

    rendered = render(a_proposal(), records, undo_window=timedelta(minutes=20))

    assert action_ids(rendered) == []


def test_proposal_blocks_offer_retry_when_a_move_failed_and_can_be_retried() -> None:
    records = {
        "m1": MoveRecord(
            "failed", actor=LEAD, at=APPLIED_AT, result="Asana is down", extra={"retry": True}
        )
    }

    rendered = render(a_proposal(), records)

    assert "⚠️ Failed: Asana is down" in texts(rendered)[3]
    assert action_ids(rendered) == [ids.RETRY]


def test_proposal_blocks_offer_no_retry_when_the_failure_cannot_be_retried() -> None:
    records = {"m1": MoveRecord("failed", result="forbidden", extra={"retry": False})}

    assert action_ids(render(a_proposal(), records)) == []


def test_proposal_blocks_offer_a_fresh_proposal_when_the_task_went_stale() -> None:
    records = {"m1": MoveRecord("failed", result="stale", extra={"retry": False, "stale": True})}

    rendered = render(a_proposal(), records)

    assert "Stale: the task changed in Asana" in texts(rendered)[3]
    assert action_ids(rendered) == [ids.FRESH_PROPOSAL]


def test_proposal_blocks_show_who_rejected_without_buttons_when_rejected() -> None:
    records = {"m1": MoveRecord("rejected", actor="U0BEN00001", at="2026-11-24T09:05:00+00:00")}

    rendered = render(a_proposal(), records)

    assert "❌ Rejected by <@U0BEN00001> at 24 Nov 09:05 UTC" in texts(rendered)[3]
    assert action_ids(rendered) == []


def test_proposal_blocks_show_who_undid_when_undone() -> None:
    records = {"m1": MoveRecord("undone", actor=LEAD, at=APPLIED_AT)}

    rendered = render(a_proposal(), records)

    assert "↩️ Undone by <@U0ANA00001> at 14:03 UTC" in texts(rendered)[3]
    assert action_ids(rendered) == []


def test_proposal_blocks_keep_deciding_the_rest_when_one_move_is_decided() -> None:
    proposal = a_proposal(a_move("m1"), a_move("m2"))
    records = {"m1": MoveRecord("rejected", actor=LEAD, at=APPLIED_AT), "m2": MoveRecord("pending")}

    rendered = render(proposal, records)

    assert [b["value"] for b in buttons(rendered)] == [
        "p0123456789ab:m2",
        "p0123456789ab:m2",
        "p0123456789ab",
        "p0123456789ab",
    ]
    assert "Apply all 1 pending move in Asana?" in str(rendered)


def test_proposal_blocks_have_no_buttons_and_say_so_when_expired() -> None:
    proposal = a_proposal(a_move("m1"), a_move("m2"), expires_at=NOW - timedelta(minutes=5))
    records = {"m1": MoveRecord("applied", actor=LEAD, at=APPLIED_AT)}

    rendered = render(proposal, records)

    assert action_ids(rendered) == []
    assert texts(rendered)[-1] == ":hourglass: Expired at 14:25 UTC — ask for a fresh proposal."
    assert ":hourglass: Expired before anyone decided" in texts(rendered)[4]


def test_proposal_blocks_offer_no_decision_and_say_why_when_in_shadow_mode() -> None:
    rendered = render(a_proposal(), mode="shadow")

    assert action_ids(rendered) == []
    assert texts(rendered)[-1] == messages.SHADOW_NOTE


def test_proposal_blocks_offer_only_rejection_and_say_why_when_writes_are_paused() -> None:
    records = {
        "m1": MoveRecord("pending"),
        "m2": MoveRecord("applied", actor=LEAD, at=APPLIED_AT),
    }

    rendered = render(a_proposal(a_move("m1"), a_move("m2")), records, paused=True)

    assert action_ids(rendered) == [ids.REJECT, ids.REJECT_ALL]
    assert texts(rendered)[-1] == messages.PAUSED_NOTE


def test_proposal_blocks_escape_hostile_task_names_when_rendered() -> None:
    hostile = a_move(
        name="<!channel> & <https://evil.example|click> <@U0EVIL0001> *bold*",
        from_name="<!here>",
        to_name="Eve <@U0EVIL0001>",
        reason="because <https://evil.example>",
        lines=("<!subteam^S123> 140%→90%",),
    )

    rendered = render(a_proposal(hostile))

    text = texts(rendered)[3]
    assert "<!" not in text and "<@" not in text and "<https://evil" not in text
    assert (
        "|&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; &lt;@U0EVIL0001&gt; *bold*>"
        in text
    )
    assert "&lt;!here&gt; → Eve &lt;@U0EVIL0001&gt;" in text
    section = rendered[4]
    assert section["text"]["verbatim"] is True  # no auto-linked URLs or @here in the text
    confirm = next(buttons(rendered))["confirm"]
    assert {confirm["text"]["type"], confirm["title"]["type"]} == {"plain_text"}


def test_proposal_blocks_do_not_link_a_url_that_could_break_out_of_the_link() -> None:
    move = a_move(name="Spike", url="https://evil.example/x|<!channel>")

    text = texts(render(a_proposal(move)))[3]

    assert text.startswith("*1. Spike* · 12 h")
    assert "evil" not in text


def test_proposal_blocks_do_not_mention_an_actor_that_is_not_a_slack_id() -> None:
    records = {"m1": MoveRecord("rejected", actor="<!channel>", at=APPLIED_AT)}

    assert "❌ Rejected by &lt;!channel&gt;" in texts(render(a_proposal(), records))[3]


def test_button_values_carry_proposal_and_move_ids_when_parsed_back() -> None:
    rendered = render(a_proposal(a_move("m1"), a_move("m12")))

    values = {b["value"] for b in buttons(rendered)}

    assert {parse_value(v) for v in values} == {
        ("p0123456789ab", "m1"),
        ("p0123456789ab", "m12"),
        ("p0123456789ab", None),
    }
    assert button_value("p0123456789ab", "m12") == "p0123456789ab:m12"
    assert all(len(v) <= 2000 for v in values)


def test_proposal_blocks_stay_within_fifty_blocks_when_there_are_many_moves() -> None:
    proposal = a_proposal(*(a_move(f"m{i}", name=f"Task {i}") for i in range(1, 61)))

    rendered = render(proposal)

    shown = [b for b in rendered if b["type"] == "actions" and b["block_id"].endswith(":m1")]
    assert len(shown) == 1
    move_sections = [t for t in texts(rendered) if t.startswith("*")]
    assert len(move_sections) == 21
    assert f"…and {60 - 21} more moves not shown. *Approve all* covers all 60." in texts(rendered)
    assert action_ids(rendered)[-2:] == [ids.APPROVE_ALL, ids.REJECT_ALL]
    assert "Apply all 60 pending moves in Asana?" in str(rendered[-1])


def test_proposal_blocks_fit_a_smaller_budget_when_embedded_in_app_home() -> None:
    proposal = a_proposal(*(a_move(f"m{i}") for i in range(1, 11)))

    rendered = proposal_blocks(proposal, {}, now=NOW, mode="suggest", paused=False, max_blocks=15)

    assert len(rendered) <= 15
    assert "…and 6 more moves not shown." in str(rendered)
