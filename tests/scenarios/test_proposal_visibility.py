"""A rebalance proposal only moves (and so only names) tasks its requester can see in Asana.

The organisation is :func:`tests.asana_orgs.planning_org` with "Tax report" (Ana, 20 h next
week) in the private project Legal, which has no members. Ana holds 50 h of 40 next week.
Seeing everything, the cheapest relief is to give Ben the 20 h Tax report; a requester who
cannot see Legal gets Invoice export (30 h, public Billing) moved instead, and Tax report
stays with Ana but still counts in her load.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.domain import Viewer
from bot.planning import propose_rebalance
from bot.slack import open_proposals
from tests.asana_orgs import PlanningOrg, planning_org
from tests.scenarios.conftest import Bot
from tests.waiting import wait_until

ADMIN = "U0BEN00001"  # ben@example.com
OUTSIDER = "U0OUTSIDER"  # no Asana user: public projects only


@pytest.fixture
def org() -> PlanningOrg:
    return planning_org(private_tax_report=True)


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"admins": ("ben@example.com",)}


def request_rebalance(bot: Bot, user: str) -> tuple[list[str], str]:
    """``/capacity rebalance Platform 2`` by ``user``: (moved task gids, posted message JSON)."""
    before = set(open_proposals.open_ids(bot.deps.store))
    posted = len(bot.slack.calls("chat.postMessage"))
    reply = bot.sender.command(
        "rebalance Platform 2", user_id=user, response_url=bot.slack.response_url()
    )
    assert reply.status == 200, reply.body
    bot.slack.wait_for("chat.postMessage", count=posted + 1, timeout=60)
    wait_until(lambda: set(open_proposals.open_ids(bot.deps.store)) - before, timeout=10)
    (pid,) = set(open_proposals.open_ids(bot.deps.store)) - before
    proposal = bot.deps.book.get(pid)
    assert proposal is not None
    message = json.dumps(bot.slack.calls("chat.postMessage")[posted].params)
    return [move.task_gid for move in proposal.moves], message


def test_a_requester_who_cannot_see_a_task_gets_no_move_of_it(bot: Bot) -> None:
    moved, message = request_rebalance(bot, OUTSIDER)
    assert moved, "Ana is still over: a visible task should move"
    assert bot.org.tax_report not in moved
    assert "Tax report" not in message


def test_an_admin_sees_and_may_move_every_task(bot: Bot) -> None:
    moved, message = request_rebalance(bot, ADMIN)
    assert moved == [bot.org.tax_report]
    assert "Tax report" in message


def test_the_assignee_sees_her_own_private_task(bot: Bot) -> None:
    snapshot = bot.deps.snapshots.get()
    ana = str(snapshot.people.loc[snapshot.people["email"] == "ana@example.com", "gid"].iloc[0])
    plan = propose_rebalance(
        bot.deps, team="Platform", weeks=2, viewer=Viewer(user_gid=ana, is_admin=False)
    )
    assert [m.task_gid for m in plan.plan.moves] == [bot.org.tax_report]
