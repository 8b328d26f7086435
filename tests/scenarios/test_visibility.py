"""Forecasts show a Slack user only the tasks of projects they can see in Asana, unless admin.

The organisation is :func:`tests.asana_orgs.visibility_org`: its docstring works out every
figure below. Cells are the utilisation labels of weeks 48, 49 and 50.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.slack_api import SlackCall
from tests.asana_orgs import SmallOrg, VisibilityOrg, visibility_org
from tests.scenarios.conftest import Bot
from tests.scenarios.test_capacity_command import ask, footer, sections

ANA = "U0ANA00001"  # Platform; a member of the private Payroll project
BEN = "U0BEN00001"  # Platform; assignee of tasks in Payroll and Infra
CLEO = "U0CLEO0001"  # Data; a member of no Platform project
ADMIN = "U0OUTSIDER"  # an admin with no Asana user
GUEST = "U0GUEST001"  # neither an admin nor an Asana user

EVERYTHING = {"Ana Alves": ["125%", "  0%", " 25%"], "Ben Brook": ["  0%", " 60%", " 50%"]}
PUBLIC_ONLY = {"Ana Alves": ["125%", "  0%", " 10%"], "Ben Brook": ["  0%", " 40%", "  0%"]}


@pytest.fixture
def world() -> VisibilityOrg:
    return visibility_org()


@pytest.fixture
def org(world: VisibilityOrg) -> SmallOrg:
    return world.small


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"admins": (ADMIN,)}


def cells(answer: SlackCall) -> dict[str, list[str]]:
    """Each person's week labels, by name."""
    rows = {}
    for text in sections(answer):
        name, weeks = text.split("\n")[:2]
        rows[name.strip("*")] = re.findall(r"`([^`]*)`", weeks)
    return rows


def locks(answer: SlackCall) -> list[str]:
    return [line for line in footer(answer) if line.startswith(":lock:")]


def test_team_forecast_leaves_out_private_projects_when_the_viewer_is_not_a_member(
    bot: Bot,
) -> None:
    answer = ask(bot, "team platform 3", user=CLEO)

    assert cells(answer) == PUBLIC_ONLY
    assert locks(answer) == [":lock: 3 tasks in projects you cannot see are not shown."]
    assert "Board deck" not in str(answer.params["blocks"])


def test_team_forecast_shows_everything_the_viewer_can_see_when_a_member_of_the_team(
    bot: Bot,
) -> None:
    # Ana: a member of Payroll, in Infra's team, and the assignee of Exec's Board deck.
    answer = ask(bot, "team platform 3", user=ANA)

    assert cells(answer) == EVERYTHING
    assert locks(answer) == []


def test_team_forecast_shows_every_project_when_the_viewer_is_an_admin(bot: Bot) -> None:
    answer = ask(bot, "team platform 3", user=ADMIN)

    assert cells(answer) == EVERYTHING
    assert locks(answer) == []


def test_team_forecast_shows_own_tasks_but_not_others_private_ones_when_the_viewer_is_assignee(
    bot: Bot,
) -> None:
    answer = ask(bot, "team platform 3", user=BEN)

    assert cells(answer) == {
        "Ana Alves": PUBLIC_ONLY["Ana Alves"],
        "Ben Brook": EVERYTHING["Ben Brook"],
    }
    assert locks(answer) == [":lock: 1 task in a project you cannot see is not shown."]


def test_team_forecast_shows_public_projects_only_when_the_viewer_is_not_in_asana(
    bot: Bot,
) -> None:
    bot.slack.add_user(GUEST, "guest@elsewhere.com", "Guest")

    answer = ask(bot, "team platform 3", user=GUEST)

    assert cells(answer) == PUBLIC_ONLY
    assert locks(answer) == [":lock: 3 tasks in projects you cannot see are not shown."]


def test_team_forecast_shows_a_project_shared_with_the_viewers_team(bot: Bot) -> None:
    # Platform's private Ledger is shared with the Data team: Cleo (Data) sees Ben's 10 h
    # there in week 49 (16 + 10 h of 40: 65 %); a guest outside Asana does not.
    org = bot.org
    ledger = org.state.add_project(
        "Ledger", org.platform, privacy="private", shared_with=[org.data]
    )
    org.state.add_field_to_project(ledger, org.estimate_field)
    org.state.add_task(
        "Close books",
        projects=[ledger],
        assignee=org.ben,
        custom_fields={org.estimate_field: 10 * 60},
        start_on="2026-11-30",
        due_on="2026-12-04",
    )
    bot.slack.add_user(GUEST, "guest@elsewhere.com", "Guest")

    cleo = ask(bot, "team platform 3", user=CLEO)
    guest = ask(bot, "team platform 3", user=GUEST)

    assert cells(cleo) == PUBLIC_ONLY | {"Ben Brook": ["  0%", " 65%", "  0%"]}
    assert locks(cleo) == [":lock: 3 tasks in projects you cannot see are not shown."]
    assert cells(guest) == PUBLIC_ONLY
    assert locks(guest) == [":lock: 4 tasks in projects you cannot see are not shown."]


def test_person_forecast_leaves_out_private_projects_when_the_viewer_is_not_a_member(
    bot: Bot,
) -> None:
    answer = ask(bot, f"<@{BEN}|ben> 3", user=CLEO)

    assert cells(answer) == {"Ben Brook": PUBLIC_ONLY["Ben Brook"]}
    assert locks(answer) == [":lock: 2 tasks in projects you cannot see are not shown."]


def test_app_home_says_how_many_team_tasks_are_hidden_when_the_viewer_cannot_see_them(
    bot: Bot,
) -> None:
    event = {"type": "app_home_opened", "user": BEN, "channel": "D1", "tab": "home"}

    reply = bot.sender.event(event | {"event_ts": "1.1"}, event_id="EvHome1")
    view = bot.slack.wait_for("views.publish", timeout=30)[-1].params["view"]

    assert reply.status == 200
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert ":lock: 1 task in a project you cannot see is not shown." in texts
    assert "Board deck" not in str(view["blocks"])
