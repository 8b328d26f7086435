from __future__ import annotations

import dataclasses
import itertools
from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecasting.forecast import forecast_load
from forecasting.sprint import COMMITTED, FORECAST, SprintPlan, plan_sprint
from forecasting.sprint_backlog import NO_ESTIMATE, priority_value
from tests.builders import a_person, a_task, a_time_off, people_frame, tasks_frame, time_off_frame

# Wednesday of ISO week 48 (as tests/asana_orgs.NOW); the sprint is week 49.
TODAY = date(2026, 11, 25)
MON_30 = date(2026, 11, 30)
FRI_4 = date(2026, 12, 4)
CROWDED_OUT = "capacity used by items of equal or higher value"

ANA = a_person(gid="ana", name="Ana Alves", skills=(("backend", 4),))
BEN = a_person(gid="ben", name="Ben Brook", skills=(("backend", 2),))
CLEO = a_person(gid="cleo", name="Cleo Costa", skills=(("data", 4),))


def _item(gid: str, hours: float | None = 8.0, **overrides) -> dict:
    """An unassigned, undated backlog item needing backend."""
    row = {"gid": gid, "name": gid.upper(), "assignee_gid": None, "remaining_h": hours}
    return a_task(**(row | overrides))


def _plan(people, backlog, tasks=None, time_off=None, **kwargs) -> SprintPlan:
    return plan_sprint(
        people_frame(*people),
        tasks if tasks is not None else tasks_frame(),
        time_off if time_off is not None else time_off_frame(),
        tasks_frame(*backlog),
        sprint_start=kwargs.pop("sprint_start", MON_30),
        sprint_end=kwargs.pop("sprint_end", FRI_4),
        today=TODAY,
        **kwargs,
    )


def _who(plan: SprintPlan) -> dict[str, str]:
    return {item.task_gid: item.person_gid for item in plan.planned}


def _why(plan: SprintPlan) -> dict[str, str]:
    return {item.task_gid: item.reason for item in plan.not_planned}


def _free(plan: SprintPlan) -> dict[str, float]:
    return {p.person_gid: p.free_h for p in plan.people}


# --- optimality -------------------------------------------------------------------------------

SKILLS = ("backend", "data")
PRIORITIES = ("high", "medium", "low", None)


def _random_world(seed: int) -> tuple[list[dict], list[dict], int]:
    rng = np.random.default_rng(seed)
    people = []
    for k in range(int(rng.integers(2, 4))):
        skills = tuple((s, int(rng.integers(1, 6))) for s in SKILLS if rng.random() < 0.7)
        capacity = float(rng.choice([4.0, 8.0, 12.0, 16.0]))
        people.append(
            a_person(gid=f"p{k}", name=f"P{k}", skills=skills, weekly_capacity_h=capacity)
        )
    backlog = []
    for b in range(int(rng.integers(3, 7))):
        needs = tuple(s for s in SKILLS if rng.random() < 0.4)
        depends = (f"b{int(rng.integers(0, b))}",) if b and rng.random() < 0.35 else ()
        locked = rng.random() < 0.15
        owner = f"p{int(rng.integers(0, len(people)))}" if locked or rng.random() < 0.3 else None
        backlog.append(
            _item(
                f"b{b}",
                float(rng.choice([2.0, 4.0, 6.0, 8.0, 12.0])),
                priority=PRIORITIES[int(rng.integers(0, 4))],
                required_skills=needs,
                depends_on=depends,
                locked=locked,
                assignee_gid=owner,
            )
        )
    return people, backlog, int(rng.integers(1, 4))


def _feasible(choice, people, backlog, min_level) -> bool:
    """Every constraint, written independently of the planner. ``choice[b]`` is a person or None."""
    load = dict.fromkeys((p["gid"] for p in people), 0.0)
    for item, who in zip(backlog, choice, strict=True):
        if who is None:
            continue
        if item["locked"] and who != item["assignee_gid"]:
            return False
        levels = dict(next(p for p in people if p["gid"] == who)["skills"])
        if not item["locked"] and any(
            levels.get(s, 0) < min_level for s in item["required_skills"]
        ):
            return False
        gid_of = {i["gid"]: i for i in backlog}
        if any(choice[backlog.index(gid_of[d])] is None for d in item["depends_on"]):
            return False
        load[who] += item["remaining_h"]
    capacity = {p["gid"]: p["weekly_capacity_h"] for p in people}
    return all(load[g] <= capacity[g] + 1e-9 for g in load)


def _brute_force(people, backlog, min_level) -> float:
    options = [None, *(p["gid"] for p in people)]
    best = 0.0
    for choice in itertools.product(options, repeat=len(backlog)):
        if _feasible(choice, people, backlog, min_level):
            value = sum(
                priority_value(i["priority"]) for i, w in zip(backlog, choice, strict=True) if w
            )
            best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(30))
def test_plan_sprint_matches_brute_force_when_the_backlog_is_small(seed):
    people, backlog, min_level = _random_world(seed)

    plan = _plan(people, backlog, min_level=min_level)

    who = _who(plan)
    choice = [who.get(item["gid"]) for item in backlog]
    assert plan.optimal
    assert _feasible(choice, people, backlog, min_level)
    assert plan.total_value == _brute_force(people, backlog, min_level)
    assert len(plan.planned) + len(plan.not_planned) == len(backlog)


# --- each constraint --------------------------------------------------------------------------


def test_plan_sprint_plans_an_item_once_when_several_people_could_take_it():
    # Were an item allowed twice, the high one would fill both people's 8 h.
    ana, ben = (p | {"weekly_capacity_h": 8.0} for p in (ANA, BEN))
    backlog = [_item("a", priority="high"), _item("b", priority="low")]

    plan = _plan([ana, ben], backlog)

    assert sorted(item.task_gid for item in plan.planned) == ["a", "b"]
    assert plan.total_value == 10.0
    assert [p.planned_h for p in plan.people] == [8.0, 8.0]


def test_plan_sprint_keeps_hours_within_free_capacity():
    small = a_person(gid="ana", name="Ana Alves", weekly_capacity_h=10.0)

    plan = _plan([small], [_item("a", 6.0), _item("b", 6.0), _item("c", 12.0)])

    assert list(_who(plan)) == ["a"]
    assert plan.people[0].planned_h == 6.0
    assert _why(plan) == {
        "b": CROWDED_OUT,
        "c": "larger than any skilled person's free capacity (10.0 h)",
    }


def test_plan_sprint_gives_items_only_to_people_with_the_skill():
    backlog = [_item("a", required_skills=("data",)), _item("b", required_skills=("rust",))]

    plan = _plan([ANA, CLEO], backlog)

    assert _who(plan) == {"a": "cleo"}
    assert _why(plan) == {"b": "no one in the pool has skill 'rust'"}


def test_plan_sprint_ignores_skills_below_min_level():
    plan = _plan([BEN], [_item("a")], min_level=3)

    assert plan.planned == ()
    assert _why(plan) == {"a": "no one in the pool has skill 'backend' at level ≥ 3"}


def test_plan_sprint_leaves_out_an_item_whose_dependency_is_not_planned():
    small = a_person(gid="ana", name="Ana Alves", weekly_capacity_h=10.0)
    backlog = [_item("a", 20.0, priority="high"), _item("b", 4.0, depends_on=("a",))]

    plan = _plan([small], backlog)

    assert plan.planned == ()
    assert _why(plan)["b"] == "depends on A, which is not planned"


def test_plan_sprint_plans_an_item_with_its_dependency_when_both_fit():
    backlog = [_item("b", 4.0, priority="high", depends_on=("a",)), _item("a", 4.0, priority="low")]

    plan = _plan([ANA], backlog)

    assert _who(plan) == {"a": "ana", "b": "ana"}


def test_plan_sprint_accepts_dependencies_done_or_due_before_the_sprint_ends():
    tasks = tasks_frame(
        _item("done", completed=True, remaining_h=0.0),
        _item("soon", assignee_gid="ben", due_on=date(2026, 12, 3)),
        _item("later", assignee_gid="ben", due_on=date(2026, 12, 9)),
    )
    backlog = [
        _item("x", 2.0, depends_on=("done",)),
        _item("y", 2.0, depends_on=("soon",)),
        _item("z", 2.0, depends_on=("later",)),
        _item("w", 2.0, depends_on=("ghost",)),
    ]

    plan = _plan([ANA], backlog, tasks=tasks)

    assert set(_who(plan)) == {"x", "y"}
    assert _why(plan) == {
        "z": "depends on LATER, which is not done and not due by Fri 4 Dec",
        "w": "depends on ghost, which is not in the snapshot",
    }


def test_plan_sprint_plans_a_locked_item_only_for_its_assignee():
    no_room = a_person(gid="ben", name="Ben Brook", weekly_capacity_h=0.0)
    backlog = [_item("a", assignee_gid="ben", locked=True, priority="high")]

    plan = _plan([ANA, no_room], backlog)

    assert plan.planned == ()
    assert _why(plan) == {"a": "larger than Ben Brook's free capacity (0.0 h)"}


def test_plan_sprint_reports_locked_items_whose_assignee_is_not_in_the_pool():
    backlog = [_item("a", assignee_gid="ben", locked=True), _item("b", locked=True)]

    plan = _plan([ANA, BEN], backlog, pool=["ana"])

    assert _why(plan) == {
        "a": "locked to Ben Brook, who is not in the pool",
        "b": "locked without an assignee",
    }


def test_plan_sprint_reports_unestimated_items_as_not_fitting():
    plan = _plan([ANA], [_item("a", None), _item("b", 4.0)])

    assert list(_who(plan)) == ["b"]
    (missing,) = plan.not_planned
    assert (missing.task_gid, missing.hours, missing.reason) == ("a", None, NO_ESTIMATE)


# --- value ------------------------------------------------------------------------------------


def test_plan_sprint_prefers_one_high_item_over_two_low_ones():
    small = a_person(gid="ana", name="Ana Alves", weekly_capacity_h=8.0)
    backlog = [
        _item("l1", 4.0, priority="low"),
        _item("l2", 4.0, priority="low"),
        _item("h", 8.0, priority="high"),
    ]

    plan = _plan([small], backlog)

    assert list(_who(plan)) == ["h"]
    assert plan.total_value == 8.0
    assert [item.priority for item in plan.planned] == ["high"]


def test_plan_sprint_breaks_value_ties_by_earlier_due_date_then_smaller_size():
    small = a_person(gid="ana", name="Ana Alves", weekly_capacity_h=8.0)
    by_due = [_item("late", due_on=date(2026, 12, 10)), _item("soon", due_on=date(2026, 12, 3))]
    by_size = [_item("big", 8.0), _item("tiny", 4.0)]

    assert list(_who(_plan([small], by_due))) == ["soon"]
    assert list(_who(_plan([small], by_size))) == ["tiny"]


def test_plan_sprint_keeps_an_item_with_its_assignee_unless_it_must_move():
    # Cleo lacks backend, and Ben has room for one item: his own stays, Cleo's moves to Ana.
    ben = BEN | {"weekly_capacity_h": 8.0}
    backlog = [_item("a", assignee_gid="ben"), _item("b", 4.0, assignee_gid="cleo")]

    plan = _plan([ANA, ben, CLEO], backlog)

    assert [(i.task_gid, i.person_gid, i.reassigned) for i in plan.planned] == [
        ("b", "ana", True),
        ("a", "ben", False),
    ]


# --- free capacity ----------------------------------------------------------------------------


def test_plan_sprint_free_capacity_accounts_for_time_off_existing_load_and_focus():
    time_off = time_off_frame(a_time_off(person_gid="ana", start_on=MON_30, end_on=MON_30))
    tasks = tasks_frame(
        a_task(
            assignee_gid="ana",
            start_on=date(2026, 12, 1),
            due_on=date(2026, 12, 2),
            remaining_h=10.0,
        ),
        a_task(
            assignee_gid="ana",
            start_on=date(2026, 12, 7),
            due_on=date(2026, 12, 8),
            remaining_h=9.0,
        ),
    )

    plan = _plan([ANA], [], tasks=tasks, time_off=time_off, focus=0.5)

    (ana,) = plan.people
    assert (ana.capacity_h, ana.load_h, ana.free_h) == (32.0, 10.0, 11.0)
    assert plan.load_source == COMMITTED


def test_plan_sprint_counts_only_the_days_left_when_the_sprint_has_begun():
    plan = _plan([ANA], [], sprint_start=date(2026, 11, 23), sprint_end=date(2026, 11, 27))

    assert _free(plan) == {"ana": 24.0}


def test_plan_sprint_does_not_count_backlog_items_as_existing_load():
    backlog = [_item("a", 30.0, assignee_gid="ana", start_on=MON_30, due_on=FRI_4)]

    plan = _plan([ANA], backlog, tasks=tasks_frame(*backlog))

    assert _free(plan) == {"ana": 40.0}
    assert _who(plan) == {"a": "ana"}


def test_plan_sprint_takes_the_forecast_load_prorated_when_a_forecast_is_given():
    # Sprint Wed 2 - Fri 4 Dec: 3 of week 49's 5 days. The forecast expects 20 h in week 49
    # (committed: 10 h), of which 3/5 fall in the sprint; the backlog's own 5 h are taken out.
    existing = a_task(assignee_gid="ana", start_on=MON_30, due_on=FRI_4, remaining_h=10.0)
    backlog = [_item("a", 5.0, assignee_gid="ana", start_on=MON_30, due_on=FRI_4)]
    tasks = tasks_frame(existing, *backlog)
    forecast = forecast_load(people_frame(ANA), tasks, time_off_frame(), today=TODAY)
    weekly = forecast.weekly.copy()
    week_49 = weekly["week_start"] == pd.Timestamp(MON_30)
    weekly.loc[week_49, "mean_h"] = 25.0  # 10 h committed + 5 h backlog + 10 h more expected
    forecast = dataclasses.replace(forecast, weekly=weekly)

    plan = _plan([ANA], backlog, tasks=tasks, forecast=forecast, sprint_start=date(2026, 12, 2))

    (ana,) = plan.people
    assert (ana.capacity_h, ana.load_h) == (24.0, pytest.approx(12.0))
    assert ana.free_h == pytest.approx(12.0)
    assert plan.load_source == FORECAST


def test_plan_sprint_reports_per_person_hours_planned_against_free():
    plan = _plan([ANA, CLEO], [_item("a", 6.0), _item("b", 3.0, required_skills=("data",))])

    assert [(p.person_gid, p.planned_h, p.free_h) for p in plan.people] == [
        ("ana", 6.0, 40.0),
        ("cleo", 3.0, 40.0),
    ]
    assert plan.seconds > 0


def test_plan_sprint_is_deterministic():
    people, backlog, min_level = _random_world(99)

    first = _plan(people, backlog, min_level=min_level)
    second = _plan(people, backlog, min_level=min_level)

    assert dataclasses.replace(first, seconds=0.0) == dataclasses.replace(second, seconds=0.0)
