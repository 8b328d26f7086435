from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecasting.forecast import Forecast, forecast_load
from forecasting.rebalance import rebalance
from forecasting.rebalance_model import RebalanceWeights, build_model
from forecasting.rebalance_plan import RebalanceOptions, RebalancePlan
from tests.builders import a_person, a_task, people_frame, tasks_frame, time_off_frame

TODAY = date(2026, 11, 25)  # a Wednesday
MON, FRI = date(2026, 11, 30), date(2026, 12, 4)  # next week, 5 working days, 40 h each


def ada(**o: Any) -> dict[str, Any]:
    return a_person(gid="ada", name="Ada", skills=(("backend", 4),)) | o


def ben(**o: Any) -> dict[str, Any]:
    return a_person(gid="ben", name="Ben", skills=(("backend", 3),)) | o


def cy(**o: Any) -> dict[str, Any]:
    return a_person(gid="cy", name="Cy", skills=(("frontend", 4),)) | o


def job(gid: str, who: str, hours: float, **o: Any) -> dict[str, Any]:
    """A task of ``hours`` spread over next week, needing backend."""
    return a_task(
        **{
            "gid": gid,
            "name": f"Task {gid}",
            "assignee_gid": who,
            "estimate_h": hours,
            "remaining_h": hours,
            "start_on": MON,
            "due_on": FRI,
        }
        | o
    )


def plan_for(
    people: list[dict[str, Any]],
    tasks: list[dict[str, Any]],
    *,
    pool: tuple[str, ...] | None = None,
    weeks: int = 2,
    **options: Any,
) -> RebalancePlan:
    p, t, off = people_frame(*people), tasks_frame(*tasks), time_off_frame()

    def forecast(frame: pd.DataFrame) -> Forecast:
        return forecast_load(p, frame, off, today=TODAY, weeks=weeks)

    chosen = pool or tuple(str(g) for g in p["gid"])
    return rebalance(
        p,
        t,
        off,
        forecast(t),
        RebalanceOptions(pool=chosen, **options),
        today=TODAY,
        reforecast=forecast,
    )


def moved(plan: RebalancePlan) -> dict[str, str]:
    return {m.task_gid: m.to_gid for m in plan.moves}


def test_rebalance_gives_the_cheapest_fitting_task_to_a_skilled_colleague():
    plan = plan_for(
        [ada(), ben(), cy()],
        [job("a1", "ada", 30), job("a2", "ada", 20), job("b1", "ben", 10), job("c1", "cy", 10)],
    )

    assert moved(plan) == {"a2": "ben"}
    assert plan.overload_before_h == pytest.approx(10.0)
    assert plan.overload_after_h == pytest.approx(0.0)
    assert plan.removed_h == pytest.approx(10.0)
    assert plan.optimal


def test_rebalance_reports_both_peoples_weeks_and_a_reason_with_numbers():
    plan = plan_for([ada(), ben()], [job("a1", "ada", 30), job("a2", "ada", 20)])

    (move,) = plan.moves
    week = next(w for w in move.giver_weeks if w.week_start == MON)
    assert (week.before_h, week.after_h) == pytest.approx((50.0, 30.0))
    assert (week.p_over_before, week.p_over_after) == (1.0, 0.0)
    received = next(w for w in move.receiver_weeks if w.week_start == MON)
    assert (received.before_h, received.after_h) == pytest.approx((0.0, 20.0))
    assert move.hours == pytest.approx(20.0)
    assert move.skill_match == "backend 3/5"
    assert move.reason == (
        "Ada is at 125 % in the week of Mon 30 Nov (P(over) 100%). Giving 'Task a2' (20.0 h) "
        "to Ben (backend 3/5): Ada goes to 75 %, Ben from 0 % to 50 % in the week of Mon 30 Nov."
    )


def test_rebalance_never_gives_a_task_to_someone_without_the_skill():
    plan = plan_for(
        [ada(), ben(), cy()],
        [job("a1", "ada", 30), job("a2", "ada", 20), job("b1", "ben", 38)],
    )

    assert plan.moves == ()
    assert plan.explanation == (
        "Ada stays 10.0 h over capacity (weeks of Mon 30 Nov): everyone who could take the "
        "other 2 task(s) is full in those weeks.",
    )


def test_rebalance_explains_when_nobody_else_has_the_skill():
    plan = plan_for(
        [ada(skills=(("rust", 5),)), ben()],
        [
            job("a1", "ada", 30, required_skills=("rust",)),
            job("a2", "ada", 20, required_skills=("rust",)),
        ],
    )

    assert plan.moves == ()
    assert "need skills nobody else in the pool has (rust)" in plan.explanation[0]


def test_rebalance_respects_the_proficiency_floor():
    people = [ada(), ben(), cy()]
    tasks = [job("a1", "ada", 30), job("a2", "ada", 20)]

    assert moved(plan_for(people, tasks, min_level=3)) == {"a2": "ben"}
    assert moved(plan_for(people, tasks, min_level=4)) == {}


def test_rebalance_never_moves_a_locked_task():
    plan = plan_for([ada(), ben()], [job("a1", "ada", 30), job("a2", "ada", 20, locked=True)])

    assert moved(plan) == {"a1": "ben"}
    assert "1 locked task(s) of people at risk stay where they are" in plan.notes


def test_rebalance_never_moves_a_completed_task():
    done = job("a0", "ada", 40, completed=True, completed_at=date(2026, 11, 20))
    plan = plan_for([ada(), ben()], [done, job("a1", "ada", 45)])

    assert "a0" not in moved(plan)


def test_rebalance_gives_work_only_to_people_in_the_pool():
    people = [ada(), ben(), a_person(gid="dee", name="Dee", skills=(("backend", 5),))]
    tasks = [job("a1", "ada", 30), job("a2", "ada", 20), job("b1", "ben", 35)]

    assert set(moved(plan_for(people, tasks)).values()) == {"dee"}
    assert moved(plan_for(people, tasks, pool=("ada", "ben"))) == {}


def test_rebalance_keeps_the_receiver_under_capacity():
    plan = plan_for(
        [ada(), ben()], [job("a1", "ada", 30), job("a2", "ada", 20), job("b1", "ben", 25)]
    )

    assert plan.moves == ()
    assert "full" in plan.explanation[0]


def test_rebalance_makes_at_most_max_moves():
    tasks = [job(f"a{i}", "ada", 15) for i in range(5)]  # 75 h: 35 h over
    people = [ada(), ben(), a_person(gid="bo", name="Bo", skills=(("backend", 3),))]

    unlimited = plan_for(people, tasks, max_moves=None)
    capped = plan_for(people, tasks, max_moves=1)

    assert len(unlimited.moves) == 3
    assert len(capped.moves) == 1
    assert (
        capped.explanation[0] == "The plan uses all 1 moves allowed; more moves could relieve more."
    )


def test_rebalance_spreads_relief_when_fairness_is_priced():
    people = [
        ada(),
        ben(skills=(("backend", 4),)),
        a_person(gid="bo", name="Bo", skills=(("backend", 3),)),
    ]
    tasks = [
        *(job(f"a{i}", "ada", 15) for i in range(4)),
        job("b1", "ben", 10),
        job("o1", "bo", 10),
    ]

    fair = plan_for(people, tasks)
    piled = plan_for(people, tasks, weights=RebalanceWeights(fairness_h=0.0))

    assert sorted(moved(fair).values()) == ["ben", "bo"]
    assert sorted(moved(piled).values()) == ["ben", "ben"]


def test_rebalance_shifts_a_due_date_when_allowed_and_nobody_can_take_the_task():
    people = [ada()]
    tasks = [job("a1", "ada", 30), job("a2", "ada", 20)]

    plan = plan_for(people, tasks, weeks=3, shift_weeks=1)

    (move,) = plan.moves
    assert (move.kind, move.shift_days, move.from_gid, move.to_gid) == ("shift", 5, "ada", "ada")
    assert (move.new_start_on, move.new_due_on) == (date(2026, 12, 7), date(2026, 12, 11))
    assert plan.overload_after_h == pytest.approx(0.0)
    assert plan_for(people, tasks, weeks=3).moves == ()


def test_rebalance_never_shifts_a_task_past_the_start_of_one_that_depends_on_it():
    later = job("a3", "ada", 20, start_on=date(2026, 12, 7), due_on=date(2026, 12, 11))
    tasks = [job("a1", "ada", 35), job("a2", "ada", 15), later]  # only a2 fits a week later
    waiting = a_task(
        gid="w1",
        assignee_gid="cy",
        start_on=date(2026, 12, 7),
        due_on=date(2026, 12, 9),
        depends_on=("a2",),
    )
    options = {"pool": ("ada",), "weeks": 3, "shift_weeks": 1}

    free = plan_for([ada(), cy()], tasks, **options)
    bound = plan_for([ada(), cy()], [*tasks, waiting], **options)

    assert moved(free) == {"a2": "ada"}
    assert bound.moves == ()


def test_rebalance_proposes_nothing_and_says_so_when_nobody_is_at_risk():
    plan = plan_for([ada(), ben()], [job("a1", "ada", 20)])

    assert plan.moves == ()
    assert plan.explanation == (
        "Nobody in the pool is over capacity or at risk in the next 2 weeks.",
    )


def test_rebalance_returns_the_same_plan_when_run_twice():
    people = [ada(), ben(), a_person(gid="bo", name="Bo", skills=(("backend", 3),))]
    tasks = [job(f"a{i}", "ada", 10 + i) for i in range(6)]

    first, second = plan_for(people, tasks), plan_for(people, tasks)

    assert [(m.task_gid, m.to_gid) for m in first.moves] == [
        (m.task_gid, m.to_gid) for m in second.moves
    ]


@pytest.mark.parametrize("seed", range(4))
def test_rebalance_finds_the_optimum_of_its_model_when_checked_by_brute_force(seed):
    rng = np.random.default_rng(seed)
    names = ["ada", "ben", "bo"]
    people = [
        a_person(gid=g, name=g, skills=(("backend", int(rng.integers(1, 6))),)) for g in names
    ]
    tasks = [job(f"t{i}", str(rng.choice(names)), float(rng.integers(4, 25))) for i in range(6)]
    p, t, off = people_frame(*people), tasks_frame(*tasks), time_off_frame()
    fc = forecast_load(p, t, off, today=TODAY, weeks=2)
    options = RebalanceOptions(pool=tuple(names), max_moves=None)
    built = build_model(
        p,
        t,
        off,
        fc,
        today=TODAY,
        pool=names,
        weights=options.weights,
        max_moves=None,
        shift_weeks=0,
        min_level=1,
        model=None,
    )

    best = min(
        (
            _objective(built, np.array(plan, dtype=np.int64))
            for plan in itertools.product(range(3), repeat=len(built.jobs))
        ),
        default=0.0,
    )
    plan = rebalance(p, t, off, fc, options, today=TODAY)

    chosen = np.array(
        [
            names.index(moved(plan).get(str(g), str(h)))
            for g, h in zip(built.jobs["gid"], built.jobs["assignee_gid"], strict=True)
        ],
        dtype=np.int64,
    )
    assert _objective(built, chosen) == pytest.approx(best)


def _objective(built: Any, plan: np.ndarray) -> float:
    """The rebalancer's objective written out independently: inf when a hard rule breaks."""
    problem = built.problem
    jobs = np.arange(plan.size)
    if plan.size and problem.forbidden[plan, jobs].any():
        return np.inf
    load = built.loads(plan) - built.base
    if (load > problem.limit + 1e-9).any():
        return np.inf
    over = np.maximum(load - problem.capacity, 0.0)
    return float(problem.cost[plan, jobs].sum() + (problem.overload_cost * over).sum())


def test_rebalance_gives_nothing_to_someone_over_capacity_even_while_relieving_them():
    people = [ada(), ben(), a_person(gid="dee", name="Dee", skills=(("data", 4),))]
    tasks = [
        job("a1", "ada", 30),
        job("a2", "ada", 20),
        job("b1", "ben", 20, required_skills=("data",)),
        job("b2", "ben", 24, locked=True),
    ]

    plan = plan_for(people, tasks)

    assert moved(plan) == {"b1": "dee"}  # a2 to Ben would leave him at 44 h of 40
