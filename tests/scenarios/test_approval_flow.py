"""The approval loop through Slack: signed commands and clicks in, the recording Slack API out."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from slack_sdk.models.views import View

from bot.slack import ids, open_proposals
from sandbox.asana_writes import update_task
from sandbox.slack_sender import HttpReply
from tests.asana_orgs import PlanningOrg, planning_org
from tests.scenarios.conftest import Bot
from tests.waiting import wait_until

LEAD = "U0ANA00001"  # ana@example.com, an approver
ADMIN = "U0BEN00001"  # ben@example.com, an admin
STRANGER = "U0OUTSIDER"
CHANNEL = "C0LOCAL0001"


@pytest.fixture
def org() -> PlanningOrg:
    return planning_org()


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"approvers": (LEAD,), "admins": ("ben@example.com",), "shadow_channel": "G0SHADOW01"}


def propose(bot: Bot) -> tuple[str, str]:
    """``/capacity rebalance Platform 2`` by the lead; returns (proposal id, message ts)."""
    posted = len(bot.slack.calls("chat.postMessage"))
    reply = bot.sender.command(
        "rebalance Platform 2", user_id=LEAD, response_url=bot.slack.response_url()
    )
    assert reply.status == 200, reply.body
    bot.slack.wait_for("chat.postMessage", count=posted + 1, timeout=60)
    wait_until(lambda: open_proposals.open_ids(bot.deps.store), timeout=10)
    pid = open_proposals.open_ids(bot.deps.store)[-1]
    proposal = bot.deps.book.get(pid)
    assert proposal is not None and proposal.message_ts is not None
    return pid, proposal.message_ts


def click(
    bot: Bot,
    action_id: str,
    value: str,
    *,
    user: str,
    ts: str,
    action_ts: str | None = None,
    retry: int | None = None,
) -> HttpReply:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T0LOCAL0001"},
        "team": {"id": "T0LOCAL0001"},
        "api_app_id": "A0LOCAL0001",
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": ts},
        "channel": {"id": CHANNEL},
        "message": {"ts": ts},
        "response_url": bot.slack.response_url(),
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
    }
    extra = (
        {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
    )
    reply = bot.sender.post(
        "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded", extra
    )
    assert reply.status == 200, reply.body
    return reply


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found = []
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found.append((element["action_id"], element.get("value", "")))
    return found


def assignee(bot: Bot) -> str:
    return str(bot.asana.state.task(bot.org.tax_report)["assignee"]["gid"])


def puts(bot: Bot) -> int:
    return sum(1 for e in bot.asana.state.log() if e.method == "PUT")


def test_rebalance_posts_a_proposal_with_approve_and_reject_buttons(bot: Bot):
    pid, _ = propose(bot)

    message = bot.slack.calls("chat.postMessage")[-1]
    assert message.params["channel"] == CHANNEL
    assert (ids.APPROVE, f"{pid}:m1") in buttons(message.params["blocks"])
    assert (ids.REJECT, f"{pid}:m1") in buttons(message.params["blocks"])
    assert (ids.APPROVE_ALL, pid) in buttons(message.params["blocks"])
    approve = next(
        e
        for b in message.params["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ids.APPROVE
    )
    assert "confirm" in approve


def test_approve_applies_once_updates_the_message_and_ignores_slack_retries(bot: Bot):
    pid, ts = propose(bot)

    click(bot, ids.APPROVE, f"{pid}:m1", user=LEAD, ts=ts, action_ts="111.1")
    update = bot.slack.wait_for("chat.update", timeout=30)[-1]
    click(bot, ids.APPROVE, f"{pid}:m1", user=LEAD, ts=ts, action_ts="111.1", retry=1)
    click(bot, ids.APPROVE, f"{pid}:m1", user=LEAD, ts=ts, action_ts="222.2")
    refusal = bot.slack.wait_for("chat.postEphemeral", timeout=30)[-1]

    assert assignee(bot) == bot.org.ben
    assert puts(bot) == 1
    text = json.dumps(update.params["blocks"])
    assert "Applied" in text and f"<@{LEAD}>" in text
    assert (ids.APPROVE, f"{pid}:m1") not in buttons(update.params["blocks"])
    assert refusal.params["user"] == LEAD
    assert refusal.params["text"].startswith("Already applied")


def test_a_click_by_a_non_approver_gets_an_ephemeral_refusal_and_changes_nothing(bot: Bot):
    pid, ts = propose(bot)

    click(bot, ids.APPROVE, f"{pid}:m1", user=STRANGER, ts=ts)
    refusal = bot.slack.wait_for("chat.postEphemeral", timeout=30)[-1]

    assert refusal.params["user"] == STRANGER
    assert "Only approvers of Platform" in refusal.params["text"]
    assert assignee(bot) == bot.org.ana
    assert bot.deps.audit.records()[-1].action == "refused:approve"


def test_reject_all_records_every_move_and_writes_nothing(bot: Bot):
    pid, ts = propose(bot)

    click(bot, ids.REJECT_ALL, pid, user=LEAD, ts=ts)
    update = bot.slack.wait_for("chat.update", timeout=30)[-1]

    assert "Rejected" in json.dumps(update.params["blocks"])
    assert puts(bot) == 0
    record = bot.deps.book.record(pid, "m1")
    assert record is not None and record.state == "rejected"


def test_paused_writes_refuse_a_click_until_an_admin_resumes(bot: Bot):
    pid, ts = propose(bot)
    bot.sender.command("pause-writes", user_id=ADMIN, response_url=bot.slack.response_url())
    wait_until(lambda: bool(bot.deps.store.get("flag:writes_paused")), timeout=10)

    click(bot, ids.APPROVE, f"{pid}:m1", user=LEAD, ts=ts)
    refusal = bot.slack.wait_for("chat.postEphemeral", timeout=30)[-1]

    assert refusal.params["text"] == "Writes to Asana are paused by an admin; nothing was changed."
    assert assignee(bot) == bot.org.ana


def test_shadow_mode_posts_to_the_private_channel_without_approve_buttons(bot: Bot):
    bot.sender.command("mode shadow", user_id=ADMIN, response_url=bot.slack.response_url())
    wait_until(lambda: bot.deps.store.get("flag:mode") == "shadow", timeout=10)

    propose(bot)

    message = bot.slack.calls("chat.postMessage")[-1]
    assert message.params["channel"] == "G0SHADOW01"
    assert [a for a, _ in buttons(message.params["blocks"]) if a == ids.APPROVE] == []


def test_app_home_shows_the_proposals_the_user_can_decide(bot: Bot):
    pid, _ = propose(bot)
    event = {
        "type": "app_home_opened",
        "user": LEAD,
        "channel": "D1",
        "tab": "home",
        "event_ts": "1.1",
    }

    reply = bot.sender.event(event, event_id="Ev1")
    view = bot.slack.wait_for("views.publish", timeout=30)[-1].params["view"]

    assert reply.status == 200
    View(**view).validate_json()
    assert (ids.APPROVE, f"{pid}:m1") in buttons(view["blocks"])
    assert "suggest" in json.dumps(view["blocks"])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bbad", "application/x-www-form-urlencoded"),
        ("[1,2]", "application/json"),
        ("{bad", "application/json"),
    ],
)
def test_malformed_payloads_get_400_and_no_crash(bot: Bot, body: str, content_type: str):
    assert bot.sender.post(body, content_type).status == 400


def test_a_stale_task_is_refused_and_a_fresh_proposal_is_offered(bot: Bot):
    pid, ts = propose(bot)
    update_task(bot.asana.state, bot.org.tax_report, {"assignee": bot.org.cy})

    click(bot, ids.APPROVE, f"{pid}:m1", user=LEAD, ts=ts)
    refusal = bot.slack.wait_for("chat.postEphemeral", timeout=30)[-1]
    update = bot.slack.wait_for("chat.update", timeout=30)[-1]

    assert "changed in Asana since this proposal" in refusal.params["text"]
    assert (ids.FRESH_PROPOSAL, f"{pid}:m1") in buttons(update.params["blocks"])
    assert assignee(bot) == bot.org.cy


def test_an_asana_failure_offers_retry_and_retry_applies(bot: Bot):
    pid, ts = propose(bot)
    bot.asana.fail_next("PUT", "/tasks/", status=500, times=4)  # the first try and 3 retries

    click(bot, ids.APPROVE, f"{pid}:m1", user=LEAD, ts=ts)
    failed = bot.slack.wait_for("chat.update", timeout=60)[-1]
    click(bot, ids.RETRY, f"{pid}:m1", user=LEAD, ts=ts)
    bot.slack.wait_for("chat.update", count=2, timeout=60)

    assert (ids.RETRY, f"{pid}:m1") in buttons(failed.params["blocks"])
    wait_until(lambda: assignee(bot) == bot.org.ben, timeout=30)
    record = bot.deps.book.record(pid, "m1")
    assert record is not None and record.state == "applied"


def test_undo_restores_the_task_from_the_message(bot: Bot):
    pid, ts = propose(bot)
    click(bot, ids.APPROVE, f"{pid}:m1", user=LEAD, ts=ts)
    applied = bot.slack.wait_for("chat.update", timeout=30)[-1]

    click(bot, ids.UNDO, f"{pid}:m1", user=LEAD, ts=ts)
    bot.slack.wait_for("chat.update", count=2, timeout=30)

    assert (ids.UNDO, f"{pid}:m1") in buttons(applied.params["blocks"])
    wait_until(lambda: assignee(bot) == bot.org.ana, timeout=30)
    assert bot.deps.audit.records()[-1].action == "undone"


def test_an_expired_proposal_loses_its_buttons_and_writes_nothing(bot: Bot):
    pid, ts = propose(bot)
    bot.deps.clock.at += timedelta(hours=25)  # type: ignore[attr-defined]

    click(bot, ids.APPROVE, f"{pid}:m1", user=LEAD, ts=ts)
    update = bot.slack.wait_for("chat.update", timeout=30)[-1]

    assert buttons(update.params["blocks"]) == []
    assert "Expired" in json.dumps(update.params["blocks"])
    assert puts(bot) == 0


def test_approve_all_applies_every_pending_move_and_audit_verify_passes(bot: Bot):
    pid, ts = propose(bot)

    click(bot, ids.APPROVE_ALL, pid, user=LEAD, ts=ts)
    update = bot.slack.wait_for("chat.update", timeout=30)[-1]

    wait_until(lambda: assignee(bot) == bot.org.ben, timeout=30)
    assert "Applied" in json.dumps(update.params["blocks"])
    assert [a for a, _ in buttons(update.params["blocks"]) if a == ids.APPROVE_ALL] == []
    assert bot.deps.audit.verify().ok
