from __future__ import annotations

import functools
from datetime import date

import pandas as pd
import pytest

from forecasting.model import CapacityModel
from forecasting.suggest import (
    ESTIMATE,
    GIVEN,
    IMPUTED,
    MISSING,
    Suggestion,
    suggest_assignees,
)
from forecasting.synthetic import SyntheticOrg, generate_org
from tests.builders import a_person, a_task, a_time_off, people_frame, tasks_frame, time_off_frame

# Wednesday of ISO week 48 (as tests/asana_orgs.NOW): Monday 23 and Tuesday 24 have passed.
TODAY = date(2026, 11, 25)
MON_30 = date(2026, 11, 30)
FRI_4 = date(2026, 12, 4)


def _people(*rows: dict) -> pd.DataFrame:
    return people_frame(*rows)


ANA = a_person(gid="ana", name="Ana Alves", skills=(("backend", 4),))
BEN = a_person(gid="ben", name="Ben Brook", skills=(("backend", 2),))
CLEO = a_person(gid="cleo", name="Cleo Costa", skills=(("backend", 3), ("data", 5)))


def _new_task(**overrides) -> pd.DataFrame:
    """An unassigned 16 h backend task planned in week 49 (Mon 30 Nov - Fri 4 Dec)."""
    row = {
        "gid": "new",
        "name": "Rate limiter",
        "assignee_gid": None,
        "start_on": MON_30,
        "due_on": FRI_4,
        "remaining_h": 16.0,
    }
    return tasks_frame(a_task(**(row | overrides)))


def _busy_ben() -> pd.DataFrame:
    """Ben has 36 h of his 40 h committed in week 49."""
    return tasks_frame(
        a_task(assignee_gid="ben", start_on=MON_30, due_on=FRI_4, remaining_h=36.0),
    )


def _suggest(people, tasks, task, time_off=None, **kwargs) -> Suggestion:
    return suggest_assignees(
        people,
        tasks,
        time_off if time_off is not None else time_off_frame(),
        task,
        today=TODAY,
        **kwargs,
    )


def test_suggest_ranks_the_free_person_first_when_the_other_is_busy():
    suggestion = _suggest(_people(ANA, BEN), _busy_ben(), _new_task())

    ana, ben = suggestion.ranked
    assert (ana.person_gid, ben.person_gid) == ("ana", "ben")
    assert (ana.max_p_over_after, ben.max_p_over_after) == (0.0, 1.0)
    assert (ana.finish_on, ben.finish_on) == (date(2026, 12, 1), date(2026, 12, 8))
    assert [w.week_start for w in ben.affected] == [MON_30]
    week = ben.affected[0]
    assert (week.added_h, week.before_h, week.after_h) == (16.0, 36.0, 52.0)
    assert ben.late and not ana.late
    assert suggestion.hours_source == ESTIMATE and suggestion.hours == 16.0


def test_suggest_explains_the_first_choice_over_the_runner_up_in_numbers():
    suggestion = _suggest(_people(ANA, BEN), _busy_ben(), _new_task())

    assert suggestion.why == (
        "Ana Alves can finish by Tue 1 Dec and would be at 40 % in week 49 (P(over) 0 %), "
        "while Ben Brook can finish by Tue 8 Dec and would be at 130 % in week 49 "
        "(P(over) 100 %); Ana Alves wins on a lower risk of going over (0 % vs 100 %)."
    )


def test_suggest_excludes_people_without_the_skill_with_the_reason():
    dana = a_person(gid="dana", name="Dana Diaz", skills=(("data", 5),))

    suggestion = _suggest(_people(ANA, dana), tasks_frame(), _new_task())

    assert [c.person_gid for c in suggestion.ranked] == ["ana"]
    assert [(e.person_gid, e.reason) for e in suggestion.excluded] == [
        ("dana", "lacks skill 'backend'")
    ]
    assert suggestion.why.endswith("; nobody else in the pool qualifies (1 other excluded).")


def test_suggest_excludes_people_below_min_level_when_a_level_is_required():
    strict = _suggest(_people(ANA, BEN), tasks_frame(), _new_task(), min_level=3)
    lenient = _suggest(_people(ANA, BEN), tasks_frame(), _new_task(), min_level=2)

    assert [c.person_gid for c in strict.ranked] == ["ana"]
    assert [(e.person_gid, e.reason) for e in strict.excluded] == [
        ("ben", "has 'backend' at level 2, below 3")
    ]
    assert [c.person_gid for c in lenient.ranked] == ["ana", "ben"]
    assert lenient.excluded == ()


def test_suggest_prefers_the_stronger_skill_when_load_and_finish_tie():
    suggestion = _suggest(_people(BEN, CLEO), tasks_frame(), _new_task())

    assert [c.person_gid for c in suggestion.ranked] == ["cleo", "ben"]
    assert [c.skill_score for c in suggestion.ranked] == [3.0, 2.0]
    assert suggestion.why.endswith("Cleo Costa wins on stronger skills (level 3.0 vs 2.0).")


def test_suggest_finish_dates_count_working_days_time_off_and_committed_work():
    # 20 h from today (Wed 25 Nov), undated. Cleo: 8 h Wed, Thu, Fri -> Fri 27. Ana: off Thu
    # and Fri, then the weekend -> 8 h Wed, 8 h Mon, 4 h Tue -> Tue 1 Dec. Ben: 12 h committed
    # Wed-Fri leaves 4 h a day -> 4, 4, 4, then 8 h Mon -> Mon 30 Nov.
    time_off = time_off_frame(
        a_time_off(person_gid="ana", start_on=date(2026, 11, 26), end_on=date(2026, 11, 27))
    )
    bens = tasks_frame(
        a_task(assignee_gid="ben", start_on=TODAY, due_on=date(2026, 11, 27), remaining_h=12.0)
    )
    task = _new_task(start_on=None, due_on=None, remaining_h=20.0)

    suggestion = _suggest(_people(ANA, BEN, CLEO), bens, task, time_off)

    finish = {c.person_gid: c.finish_on for c in suggestion.ranked}
    assert finish == {
        "cleo": date(2026, 11, 27),
        "ana": date(2026, 12, 1),
        "ben": date(2026, 11, 30),
    }
    # Ben's 12 h plus his 15 h share of the new task in week 48 exceed his 24 h left.
    assert [c.person_gid for c in suggestion.ranked] == ["cleo", "ana", "ben"]


def test_suggest_has_no_finish_date_when_the_hours_do_not_fit_in_the_horizon():
    suggestion = _suggest(_people(ANA), tasks_frame(), _new_task(remaining_h=60.0), weeks=1)

    (ana,) = suggestion.ranked
    assert ana.finish_on is None and ana.late
    assert suggestion.why.startswith("Ana Alves cannot finish within 1 week and would be at")


def test_suggest_p_over_rises_for_the_chosen_person_when_the_task_tips_them_over():
    anas = tasks_frame(
        a_task(assignee_gid="ana", start_on=MON_30, due_on=FRI_4, remaining_h=30.0),
    )

    suggestion = _suggest(_people(ANA), anas, _new_task())

    (ana,) = suggestion.ranked
    assert (ana.max_p_over_before, ana.max_p_over_after) == (0.0, 1.0)
    assert ana.affected[0].utilisation_before == 0.75
    assert ana.affected[0].utilisation_after == 1.15


def test_suggest_takes_the_task_out_of_its_current_assignees_load_when_reassigning():
    task = _new_task(assignee_gid="ana")
    tasks = pd.concat([_busy_ben(), task], ignore_index=True)

    suggestion = _suggest(_people(ANA, BEN), tasks, task)

    ana = next(c for c in suggestion.ranked if c.person_gid == "ana")
    assert [w.before_h for w in ana.weeks] == [0.0, 0.0, 0.0, 0.0]
    assert ana.added_h == 16.0


def test_suggest_explains_when_nobody_has_the_skill():
    task = _new_task(required_skills=("rust",))

    suggestion = _suggest(_people(ANA, BEN), tasks_frame(), task, min_level=3)

    assert suggestion.ranked == () and suggestion.best is None
    assert suggestion.why == "nobody in the pool has skill 'rust' at level ≥ 3"
    assert [e.person_gid for e in suggestion.excluded] == ["ana", "ben"]


def test_suggest_ranks_nobody_and_says_why_when_the_task_is_unestimated_without_a_model():
    suggestion = _suggest(_people(ANA), tasks_frame(), _new_task(remaining_h=None))

    assert suggestion.ranked == ()
    assert (suggestion.hours, suggestion.hours_source) == (None, MISSING)
    assert suggestion.why == (
        "'Rate limiter' has no estimate: give its hours, or a fitted model to impute them"
    )


def test_suggest_uses_the_given_hours_when_they_are_given():
    suggestion = _suggest(_people(ANA), tasks_frame(), _new_task(remaining_h=None), hours=6.0)

    assert (suggestion.hours, suggestion.hours_source) == (6.0, GIVEN)
    assert suggestion.ranked[0].added_h == 6.0


def test_suggest_defaults_the_pool_to_the_teams_active_people_when_the_team_is_known():
    eve = a_person(gid="eve", name="Eve Ekström", team="Data")
    gus = a_person(gid="gus", name="Gus Gray", is_active=False)
    # The project's other task is Eve's: the new task belongs to Data.
    sibling = tasks_frame(a_task(assignee_gid="eve", project_gid="pr9", due_on=FRI_4))

    by_project = _suggest(_people(ANA, eve, gus), sibling, _new_task(project_gid="pr9"))
    by_assignee = _suggest(_people(ANA, eve, gus), sibling, _new_task(assignee_gid="ana"))

    assert [c.person_gid for c in by_project.ranked] == ["eve"]
    assert [c.person_gid for c in by_assignee.ranked] == ["ana"]


def test_suggest_lists_unknown_and_inactive_people_of_an_explicit_pool():
    gus = a_person(gid="gus", name="Gus Gray", is_active=False)

    suggestion = _suggest(_people(ANA, gus), tasks_frame(), _new_task(), pool=["zed", "gus", "ana"])

    assert [c.person_gid for c in suggestion.ranked] == ["ana"]
    assert [(e.person_gid, e.reason) for e in suggestion.excluded] == [
        ("zed", "not in people"),
        ("gus", "inactive"),
    ]


def test_suggest_is_deterministic_and_breaks_exact_ties_by_gid():
    twin = a_person(gid="abe", name="Abe Ames", skills=(("backend", 4),))

    first = _suggest(_people(ANA, twin), tasks_frame(), _new_task())
    second = _suggest(_people(twin, ANA), tasks_frame(), _new_task())

    as_series = _suggest(_people(ANA, twin), tasks_frame(), _new_task().iloc[0])

    assert first == second == as_series
    assert [c.person_gid for c in first.ranked] == ["abe", "ana"]
    assert first.why.endswith("Abe Ames wins on a tie, broken by gid.")


@functools.cache
def _org() -> SyntheticOrg:
    return generate_org(11, today=TODAY, people=6, teams=2, open_tasks=120, history_months=6)


@functools.cache
def _model() -> CapacityModel:
    org = _org()
    return CapacityModel(max_iter=30, min_train_rows=20).fit(
        org.tasks, today=TODAY, people=org.people, time_off=org.time_off
    )


def test_suggest_imputes_hours_and_forecasts_a_higher_load_when_a_model_is_given():
    org = _org()
    open_tasks = org.tasks.loc[~org.tasks["completed"]]
    task = open_tasks.loc[open_tasks["remaining_h"].notna()].iloc[[0]]
    task = task.assign(remaining_h=float("nan"), assignee_gid=None)

    suggestion = suggest_assignees(
        org.people, org.tasks, org.time_off, task, today=TODAY, model=_model(), draws=300
    )

    expected = _model().corrected_effort(task)["expected_h"].iloc[0]
    assert suggestion.hours_source == IMPUTED
    assert suggestion.hours == pytest.approx(expected)
    assert suggestion.forecast_note is None
    best = suggestion.best
    assert best is not None and best.affected
    assert best.max_p_over_after >= best.max_p_over_before
    assert all(w.after_h > w.before_h for w in best.affected)
