"""AI custom fields in auto mode: provisioned once, written only when they change, audited."""

from __future__ import annotations

from typing import Any

import pytest

from bot import planning
from bot.ai_fields import publish_ai_fields
from bot.approvals import Actor, set_mode, set_paused
from tests.asana_orgs import PlanningOrg, planning_org
from tests.scenarios.conftest import Bot
from tests.waiting import wait_until

ADMIN = Actor("U0ADMIN001", "admin@example.com")


@pytest.fixture
def org() -> PlanningOrg:
    return planning_org()


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"admins": (ADMIN.email,)}


def publish(bot: Bot) -> int:
    result = planning.propose_rebalance(bot.deps, team="Platform", weeks=2)
    return publish_ai_fields(bot.deps, team="Platform", forecast=result.forecast, plan=result.plan)


def field_values(bot: Bot, gid: str) -> dict[str, Any]:
    values = {}
    for field in bot.asana.state.task(gid)["custom_fields"]:
        if field["name"].startswith("AI "):
            values[field["name"]] = field.get("display_value")
    return values


def test_auto_mode_writes_score_flag_and_recommendation_on_tasks_at_risk(bot: Bot):
    set_mode(bot.deps, ADMIN, "auto")

    written = publish(bot)

    assert written == 2  # Ana's two tasks drive her week over capacity
    assert field_values(bot, bot.org.tax_report) == {
        "AI Capacity Score": "125.00",
        "AI Overload Flag": "over",
        "AI Recommended Reassignment": "Give to Ben Brook (20.0 h)",
    }
    events = [r for r in bot.deps.audit.records() if r.action == "ai_fields"]
    assert len(events) == 2
    assert bot.org.tax_report in {r.target for r in events}
    assert all(r.actor_slack == "capacity-copilot" for r in events)


def test_a_second_run_writes_nothing_when_nothing_changed(bot: Bot):
    set_mode(bot.deps, ADMIN, "auto")
    publish(bot)
    bot.asana.state.reset_log()

    assert publish(bot) == 0
    assert [e.method for e in bot.asana.state.log() if e.method in ("PUT", "POST")] == []


@pytest.mark.parametrize("mode", ["suggest", "shadow"])
def test_other_modes_write_no_ai_fields(bot: Bot, mode: str):
    set_mode(bot.deps, ADMIN, mode)

    assert publish(bot) == 0
    assert [e.method for e in bot.asana.state.log() if e.method in ("PUT", "POST")] == []


def test_paused_writes_stop_ai_fields_too(bot: Bot):
    set_mode(bot.deps, ADMIN, "auto")
    set_paused(bot.deps, ADMIN, True)

    assert publish(bot) == 0


def test_a_team_answer_in_slack_writes_the_ai_fields_in_the_background_in_auto_mode(bot: Bot):
    set_mode(bot.deps, ADMIN, "auto")

    reply = bot.sender.command(
        "team Platform 2", user_id="U0ANA00001", response_url=bot.slack.response_url()
    )

    assert reply.status == 200
    wait_until(lambda: field_values(bot, bot.org.tax_report).get("AI Overload Flag"), timeout=60)
    assert field_values(bot, bot.org.tax_report)["AI Overload Flag"] == "over"
