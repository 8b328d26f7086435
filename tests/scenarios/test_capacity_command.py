"""/capacity end to end: a signed request in, Block Kit out through the local Slack Web API."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from sandbox.slack_api import SlackCall
from tests.scenarios.conftest import Bot


def ask(bot: Bot, text: str, *, user: str = "U0ANA00001") -> SlackCall:
    """Send /capacity and return the answer posted to its response_url."""
    key = f"q{time.monotonic_ns()}"
    before = len(bot.slack.calls("response_url"))
    reply = bot.sender.command(text, user_id=user, response_url=bot.slack.response_url(key))
    assert reply.status == 200, reply.body
    assert json.loads(reply.body)["text"] == "Crunching the numbers…"
    answers = bot.slack.wait_for("response_url", count=before + 1, timeout=20)
    mine = [c for c in answers if c.path.endswith(key)]
    assert len(mine) == 1, answers
    return mine[0]


def sections(call: SlackCall) -> list[str]:
    return [b["text"]["text"] for b in call.params["blocks"] if b["type"] == "section"]


def footer(call: SlackCall) -> list[str]:
    return [b["elements"][0]["text"] for b in call.params["blocks"] if b["type"] == "context"]


def test_capacity_team_answers_with_a_row_per_person_when_asked_for_a_team(bot: Bot) -> None:
    answer = ask(bot, "team platform 2")

    blocks: list[dict[str, Any]] = answer.params["blocks"]
    assert blocks[0]["text"]["text"] == "Capacity · Platform · next 2 weeks"
    org = bot.org
    assert sections(answer) == [
        "*Ana Alves*\n:red_circle: `125%`  :white_circle: `  0%`\n_top:_ "
        f"<https://app.asana.com/0/{org.billing}/{org.ana_big_task}|Invoice export> 30h",
        "*Ben Brook*\n:white_circle: `  0%`  :white_circle: ` 40%`\n_top:_ "
        f"<https://app.asana.com/0/{org.billing}/{org.ben_due_only}|Rate limiter> 16h",
    ]
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["replace_original"] is True
    assert ":warning: Open tasks 1 unestimated (not counted); 1 unassigned." in footer(answer)


def test_capacity_answers_for_the_callers_team_when_no_team_is_named(bot: Bot) -> None:
    answer = ask(bot, "", user="U0CLEO0001")

    assert answer.params["blocks"][0]["text"]["text"] == "Capacity · Data · next 4 weeks"
    assert sections(answer)[0].startswith(
        "*Cleo Costa*\n:white_circle: `  0%`  :large_green_circle: ` 62%`  "
        ":white_circle: `  0%`  :white_circle: `  0%`\n_top:_ <https://"
    )
    assert [c.params["user"] for c in bot.slack.calls("users.info")] == ["U0CLEO0001"]


def test_capacity_answers_for_one_person_when_a_user_is_mentioned(bot: Bot) -> None:
    answer = ask(bot, "<@U0BEN00001|ben> 2")

    assert answer.params["blocks"][0]["text"]["text"] == "Capacity · Ben Brook · next 2 weeks"
    assert len(sections(answer)) == 1


def test_capacity_lists_known_teams_when_the_team_is_unknown(bot: Bot) -> None:
    answer = ask(bot, "team Marketing")

    assert answer.params["text"] == (
        "I can't find a team called *Marketing*. Teams I know: `Data`, `Platform`."
    )


def test_capacity_explains_when_the_caller_is_not_in_asana(bot: Bot) -> None:
    answer = ask(bot, "", user="U0OUTSIDER")

    assert answer.params["text"].startswith(
        "I couldn't match your Slack email (zed@elsewhere.com) to an Asana user"
    )


def test_capacity_says_asana_is_unreachable_without_a_stack_trace_when_it_fails(
    bot: Bot,
) -> None:
    bot.asana.stop()

    answer = ask(bot, "team Platform")

    assert answer.params["text"] == (
        "I couldn't reach Asana just now. Please try again in a minute."
    )
    assert "Traceback" not in json.dumps(answer.params)


def test_capacity_help_is_answered_in_the_ack_when_asked(bot: Bot) -> None:
    reply = bot.sender.command("help", user_id="U0ANA00001", response_url=bot.slack.response_url())

    body = json.loads(reply.body)
    assert reply.status == 200
    assert body["text"].startswith("*Capacity Copilot*")
    assert bot.slack.calls("response_url") == []


def test_capacity_suggests_a_subcommand_when_misspelt(bot: Bot) -> None:
    reply = bot.sender.command(
        "tema Data", user_id="U0ANA00001", response_url=bot.slack.response_url()
    )

    assert "Did you mean `/capacity team …`?" in json.loads(reply.body)["text"]


def test_app_refuses_a_forged_signature_when_posted(bot: Bot) -> None:
    reply = bot.sender.post(
        "command=%2Fcapacity&text=", "application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )

    assert reply.status == 401
    assert bot.slack.calls("response_url") == []


def test_app_refuses_a_stale_signature_when_older_than_five_minutes(bot: Bot) -> None:
    reply = bot.sender.post(
        "command=%2Fcapacity&text=",
        "application/x-www-form-urlencoded",
        timestamp=int(time.time()) - 301,
    )

    assert reply.status == 401


def test_app_refuses_an_oversized_body_when_posted(bot: Bot) -> None:
    reply = bot.sender.post("x" * 1_000_001, "application/x-www-form-urlencoded")

    assert reply.status == 400


def test_health_check_answers_ok_when_the_store_is_up(bot: Bot) -> None:
    with urllib.request.urlopen(bot.url + "/healthz", timeout=5) as response:
        assert (response.status, json.loads(response.read())) == (200, {"ok": True})


def test_capacity_reports_invalid_tasks_instead_of_failing_when_dates_or_estimates_are_bad(
    bot: Bot,
) -> None:
    org = bot.org
    org.state.add_task(
        "Backwards dates",
        projects=[org.pipeline],
        assignee=org.cleo,
        start_on="2026-12-10",
        due_on="2026-12-08",
        custom_fields={org.estimate_field: 240},
    )
    org.state.add_task(
        "Negative estimate",
        projects=[org.pipeline],
        assignee=org.cleo,
        due_on="2026-12-09",
        custom_fields={org.estimate_field: -60},
    )

    answer = ask(bot, "team Data 3")

    assert ":warning: Open tasks 1 unassigned; 2 with invalid dates or estimates." in footer(answer)
    # The backwards task is spread as if it started on its due date: 4 h on Tue 8 Dec.
    assert sections(answer)[0].startswith(
        "*Cleo Costa*\n:white_circle: `  0%`  :large_green_circle: ` 62%`  :white_circle: ` 10%`"
    )


def test_capacity_suggests_close_names_when_the_person_is_unknown(bot: Bot) -> None:
    answer = ask(bot, "@ana.alvez")

    assert answer.params["text"] == (
        "I can't find *ana.alvez* in the Asana teams I plan for. Did you mean Ana Alves?"
    )
