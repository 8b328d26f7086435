"""Planning use cases end to end: the sandbox Asana read through the SDK, plans, nothing written."""

from __future__ import annotations

from datetime import date

import pytest

from bot import planning
from bot.errors import BadRequest, LookupFailed
from bot.scenario_terms import ScenarioTerms
from tests.asana_orgs import PlanningOrg, planning_org
from tests.scenarios.conftest import Bot

NEXT_MONDAY = date(2026, 11, 30)


@pytest.fixture
def org() -> PlanningOrg:  # the bot fixture serves this organisation
    return planning_org()


def test_propose_rebalance_moves_the_smaller_backend_task_to_the_free_backend_colleague(bot: Bot):
    result = planning.propose_rebalance(bot.deps, team="platform", weeks=2)

    (move,) = result.plan.moves
    assert (move.task_name, move.from_gid, move.to_gid) == ("Tax report", bot.org.ana, bot.org.ben)
    assert result.plan.overload_before_h == pytest.approx(10.0)
    assert result.plan.overload_after_h == pytest.approx(0.0)
    week = next(w for w in move.receiver_weeks if w.week_start == NEXT_MONDAY)
    assert (week.before_h, week.after_h) == pytest.approx((8.0, 28.0))
    assert result.team == "Platform"


def test_propose_rebalance_writes_nothing_to_asana(bot: Bot):
    planning.propose_rebalance(bot.deps, team="Platform", weeks=2)

    assert bot.asana.state.task(bot.org.tax_report)["assignee"]["gid"] == bot.org.ana
    assert [e.method for e in bot.asana.state.log() if e.method != "GET"] == []


def test_run_what_if_shows_ben_over_when_he_is_out_and_nobody_can_take_his_work(bot: Bot):
    terms = ScenarioTerms(out=("ben@example.com:2026-11-30..2026-12-04",))

    result = planning.run_what_if(bot.deps, team="Platform", terms=terms, weeks=2)

    assert (bot.org.ben, NEXT_MONDAY) in result.answer.diff.newly_over
    assert result.answer.plan is not None
    assert all(m.to_gid != bot.org.ben for m in result.answer.plan.moves)


def test_run_what_if_explains_an_unreadable_term(bot: Bot):
    terms = ScenarioTerms(out=("ben@example.com:next week",))

    with pytest.raises(BadRequest) as caught:
        planning.run_what_if(bot.deps, team="Platform", terms=terms)

    assert caught.value.user_message == (
        "'next week' in 'ben@example.com:next week' is not a date: use YYYY-MM-DD."
    )


def test_suggest_assignee_ranks_the_free_backend_person_first_and_excludes_the_unskilled(
    bot: Bot,
):
    suggestion, _ = planning.suggest_assignee(bot.deps, task="Audit log", team="Platform")

    assert suggestion.ranked[0].person_gid == bot.org.ben
    assert [e.person_gid for e in suggestion.excluded] == [bot.org.cy]
    assert "Ben Brook" in suggestion.why


def test_suggest_assignee_names_close_tasks_when_the_task_is_unknown(bot: Bot):
    with pytest.raises(LookupFailed) as caught:
        planning.suggest_assignee(bot.deps, task="Audit lg")

    assert caught.value.choices == ["Audit log"]


def test_plan_team_sprint_plans_what_fits_and_says_why_the_rest_does_not(bot: Bot):
    plan, _ = planning.plan_team_sprint(
        bot.deps,
        team="Platform",
        backlog="Roadmap",
        start=date(2026, 12, 7),
        end=date(2026, 12, 11),
    )

    assert {(i.name, i.person_gid) for i in plan.planned if i.name == "Data export"} == {
        ("Data export", bot.org.cy)
    }
    assert "Search API" in {i.name for i in plan.planned}
    reasons = {n.name: n.reason for n in plan.not_planned}
    assert set(reasons) == {"Rust rewrite", "Unsized idea"}
    assert "rust" in reasons["Rust rewrite"]
    assert "estimate" in reasons["Unsized idea"]
    assert plan.optimal


def test_plan_team_sprint_refuses_a_sprint_that_ends_before_it_starts(bot: Bot):
    with pytest.raises(BadRequest) as caught:
        planning.plan_team_sprint(
            bot.deps,
            team="Platform",
            backlog="Roadmap",
            start=date(2026, 12, 11),
            end=date(2026, 12, 7),
        )

    assert caught.value.user_message == "The sprint must end on or after its first day."
