from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting.assignment import (
    AssignmentProblem,
    AssignmentResult,
    plan_violations,
    solve_assignment,
)

TIME = 5.0  # seconds; every small problem here is proven optimal in well under one


def a_problem(
    cost: list[list[float]],
    weight: list[list[float]] | None = None,
    capacity: list[float] | None = None,
    **extensions: object,
) -> AssignmentProblem:
    """A problem from nested lists: unit weights and ample capacity unless given."""
    c = np.array(cost, dtype=float)
    w = np.ones_like(c) if weight is None else np.array(weight, dtype=float)
    b = np.full(c.shape[0], float(c.shape[1])) if capacity is None else np.array(capacity)
    return AssignmentProblem(cost=c, weight=w, capacity=b, **extensions)  # type: ignore[arg-type]


def a_random_problem(seed: int, agents: int = 3, jobs: int = 8, **extensions: object):
    """Integer costs and weights, capacities at 60 % of an even share (usually binding)."""
    rng = np.random.default_rng(seed)
    weight = rng.integers(1, 10, size=(agents, jobs)).astype(float)
    cost = rng.integers(1, 30, size=(agents, jobs)).astype(float)
    capacity = np.ceil(0.6 * weight.sum(axis=1) / agents * 1.5)
    return AssignmentProblem(cost=cost, weight=weight, capacity=capacity, **extensions)  # type: ignore[arg-type]


def brute_force(problem: AssignmentProblem) -> float | None:
    """Best objective over every plan (all constraints), or None when no plan is feasible."""
    m, n = problem.cost.shape
    plans = np.array(list(itertools.product(range(m), repeat=n)) or [()], dtype=np.int64)
    plans = plans.reshape(-1, n) if n else np.zeros((1, 0), dtype=np.int64)
    jobs = np.arange(n)
    ok = np.ones(len(plans), dtype=bool)
    if problem.forbidden is not None:
        ok &= ~problem.forbidden[plans, jobs].any(axis=1)
    if problem.fixed is not None:
        ok &= ((problem.fixed < 0) | (plans == problem.fixed)).all(axis=1)
    if problem.max_moves is not None:
        assert problem.current is not None
        moves = ((problem.current >= 0) & (plans != problem.current)).sum(axis=1)
        ok &= moves <= problem.max_moves
    loads = np.stack([(problem.weight[i] * (plans == i)).sum(axis=1) for i in range(m)], axis=1)
    over = np.maximum(loads - problem.capacity, 0.0)
    sign = -1.0 if problem.maximize else 1.0
    value = problem.cost[plans, jobs].sum(axis=1) * sign
    if problem.overload_cost is None:
        ok &= (over <= 1e-9).all(axis=1)
    else:
        value = value + problem.overload_cost * over.sum(axis=1)
    if not ok.any():
        return None
    return float(sign * value[ok].min())


def loads(problem: AssignmentProblem, result: AssignmentResult) -> np.ndarray:
    jobs = np.arange(problem.cost.shape[1])
    plan = result.assignment
    return np.bincount(plan, weights=problem.weight[plan, jobs], minlength=len(problem.capacity))


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_solve_assignment_matches_brute_force_when_problem_is_small(seed, maximize):
    problem = a_random_problem(seed, maximize=maximize)

    result = solve_assignment(problem, time_limit_s=TIME)

    assert result.feasible and result.optimal
    assert result.objective == pytest.approx(brute_force(problem))
    assert result.bound == pytest.approx(result.objective) and result.gap == 0.0
    assert plan_violations(problem, result.assignment) == []


def test_solve_assignment_respects_capacity_when_the_cheap_agent_is_small():
    problem = a_problem([[1, 1, 1], [5, 6, 7]], weight=[[4, 4, 4], [4, 4, 4]], capacity=[8, 12])

    result = solve_assignment(problem, time_limit_s=TIME)

    assert loads(problem, result).tolist() == [8.0, 4.0]  # without capacity: [12, 0], cost 3
    assert result.assignment.tolist() == [1, 0, 0] and result.objective == 7.0


def test_solve_assignment_avoids_forbidden_pairs_when_they_are_cheapest():
    forbidden = np.array([[False, True, False], [False, False, False]])
    problem = a_problem([[1, 1, 1], [5, 6, 7]], forbidden=forbidden)

    result = solve_assignment(problem, time_limit_s=TIME)

    assert result.assignment.tolist() == [0, 1, 0] and result.objective == 8.0


def test_solve_assignment_keeps_fixed_jobs_when_another_agent_is_cheaper():
    problem = a_problem([[1, 1, 1], [5, 6, 7]], fixed=np.array([-1, -1, 1]))

    result = solve_assignment(problem, time_limit_s=TIME)

    assert result.assignment.tolist() == [0, 0, 1] and result.objective == 9.0


def test_solve_assignment_moves_only_the_best_jobs_when_moves_are_capped():
    current = np.array([1, 1, 1])
    problem = a_problem([[1, 1, 1], [5, 9, 7]], current=current, max_moves=1)

    result = solve_assignment(problem, time_limit_s=TIME)

    assert result.assignment.tolist() == [1, 0, 1]  # the biggest saving (8) is the one move
    assert result.objective == 13.0


def test_solve_assignment_moves_freely_when_the_budget_allows():
    current = np.array([1, 1, 1])
    problem = a_problem([[1, 1, 1], [5, 9, 7]], current=current, max_moves=3)

    result = solve_assignment(problem, time_limit_s=TIME)

    assert result.assignment.tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("overload_cost", "plan", "objective"),
    [(1.0, [0, 0], 2.0 + 2.0), (100.0, [0, 1], 1.0 + 10.0)],
)
def test_solve_assignment_trades_overload_against_cost(overload_cost, plan, objective):
    problem = a_problem(
        [[1, 1], [10, 10]], weight=[[6, 6], [6, 6]], capacity=[10, 10], overload_cost=overload_cost
    )

    result = solve_assignment(problem, time_limit_s=TIME)

    assert result.assignment.tolist() == plan
    assert result.objective == objective  # cost plus overload_cost per unit above capacity


def test_solve_assignment_subtracts_overload_from_profit_when_maximising():
    problem = a_problem(
        [[10, 10], [1, 1]],
        weight=[[6, 6], [6, 6]],
        capacity=[10, 10],
        overload_cost=1.0,
        maximize=True,
    )

    result = solve_assignment(problem, time_limit_s=TIME)

    assert result.assignment.tolist() == [0, 0] and result.objective == 20.0 - 2.0


@pytest.mark.parametrize(
    ("extensions", "reason"),
    [
        (
            {"forbidden": np.array([[False, False, True], [False, False, True]])},
            "infeasible: job 2 fits no agent: every agent is forbidden or lacks the capacity",
        ),
        (
            {"weight": [[1, 1, 20], [1, 1, 20]]},
            "infeasible: job 2 fits no agent: every agent is forbidden or lacks the capacity",
        ),
        (
            {"weight": [[5, 5, 5], [5, 5, 5]]},
            "infeasible: total weight exceeds total capacity: the jobs need at least 15 and "
            "the agents have 12",
        ),
        (
            {"fixed": np.array([1, -1, -1]), "forbidden": np.array([[0, 0, 0], [1, 0, 0]])},
            "infeasible: job 0 is fixed to agent 1, which is forbidden",
        ),
        (
            {"fixed": np.array([0, 0, -1]), "weight": [[4, 4, 1], [4, 4, 1]]},
            "infeasible: jobs that can only go to agent 0 need 8 but its capacity is 6",
        ),
        (
            {
                "forbidden": np.array([[1, 1, 0], [0, 0, 0]]),
                "current": np.array([0, 0, 1]),
                "max_moves": 1,
            },
            "infeasible: 2 jobs must leave their current agent (forbidden or fixed elsewhere) "
            "but max_moves is 1",
        ),
        (
            {"weight": [[4, 4, 4], [4, 4, 4]], "capacity": [6, 7]},
            "infeasible: no plan satisfies every constraint (proven by the MILP)",
        ),
    ],
)
def test_solve_assignment_explains_why_when_no_plan_exists(extensions, reason):
    base = {"cost": [[1, 2, 3], [3, 2, 1]], "weight": [[1, 1, 1], [1, 1, 1]], "capacity": [6, 6]}
    fields = base | extensions
    problem = a_problem(fields.pop("cost"), fields.pop("weight"), fields.pop("capacity"), **fields)

    result = solve_assignment(problem, time_limit_s=TIME)

    assert not result.feasible and not result.optimal
    assert result.assignment.tolist() == [-1, -1, -1] and math.isnan(result.objective)
    assert re.fullmatch(re.escape(reason), result.reason)


def test_solve_assignment_returns_the_same_plan_when_run_twice_with_a_seed():
    problem = a_random_problem(11, agents=5, jobs=30)

    first = solve_assignment(problem, time_limit_s=20.0, seed=3)
    second = solve_assignment(problem, time_limit_s=20.0, seed=3)

    assert first.optimal and second.optimal
    assert first.assignment.tolist() == second.assignment.tolist()


def test_heuristic_returns_the_same_plan_when_run_twice_with_a_seed():
    problem = a_random_problem(12, agents=4, jobs=15)

    first = solve_assignment(problem, time_limit_s=30.0, seed=5, exact_size_limit=0)
    second = solve_assignment(problem, time_limit_s=30.0, seed=5, exact_size_limit=0)

    assert first.method != "milp" and first.seconds < 30.0  # no exact MILP; ended by stagnation
    assert first.assignment.tolist() == second.assignment.tolist()


def test_heuristic_comes_within_two_percent_of_the_milp_optimum_on_a_larger_problem():
    problem = a_random_problem(13, agents=8, jobs=80)
    exact = solve_assignment(problem, time_limit_s=20.0)

    result = solve_assignment(problem, time_limit_s=2.0, exact_size_limit=0)

    assert exact.optimal and result.method != "milp"
    assert plan_violations(problem, result.assignment) == []
    assert result.objective <= exact.objective * 1.02


def test_plan_violations_names_each_broken_constraint():
    problem = a_problem(
        [[1, 1], [1, 1]],
        weight=[[5, 5], [1, 1]],
        capacity=[6, 6],
        forbidden=np.array([[False, False], [True, False]]),
        current=np.array([1, 1]),
        max_moves=1,
    )

    found = plan_violations(problem, np.array([0, 0]))

    assert found == [
        "agent 0 is loaded 10 above its capacity 6",
        "2 jobs move but max_moves is 1",
    ]
    assert plan_violations(problem, np.array([1, 0])) == ["job 0 may not go to agent 1"]


def test_assignment_problem_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=re.escape("weight has shape (2, 2), expected (2, 3)")):
        a_problem([[1, 2, 3], [1, 2, 3]], weight=[[1, 1], [1, 1]])


def test_assignment_problem_rejects_a_move_budget_without_current_agents():
    with pytest.raises(ValueError, match=re.escape("max_moves needs the current assignment")):
        a_problem([[1, 2, 3]], max_moves=1)


@st.composite
def problems(draw: st.DrawFn) -> AssignmentProblem:
    m = draw(st.integers(1, 3))
    n = draw(st.integers(0, 6))
    ints = st.integers(0, 9)
    cost = np.array(draw(st.lists(ints, min_size=m * n, max_size=m * n)), float).reshape(m, n)
    weight = np.array(draw(st.lists(ints, min_size=m * n, max_size=m * n)), float).reshape(m, n)
    capacity = np.array(draw(st.lists(st.integers(0, 20), min_size=m, max_size=m)), float)
    agent = st.integers(-1, m - 1)
    extensions: dict[str, object] = {"maximize": draw(st.booleans())}
    if draw(st.booleans()):
        extensions["forbidden"] = np.array(
            draw(st.lists(st.booleans(), min_size=m * n, max_size=m * n)), bool
        ).reshape(m, n)
    if draw(st.booleans()):
        extensions["fixed"] = np.array(draw(st.lists(agent, min_size=n, max_size=n)), np.int64)
    if draw(st.booleans()):
        extensions["current"] = np.array(draw(st.lists(agent, min_size=n, max_size=n)), np.int64)
        extensions["max_moves"] = draw(st.none() | st.integers(0, n))
    if draw(st.booleans()):
        extensions["overload_cost"] = float(draw(st.integers(0, 5)))
    return AssignmentProblem(cost=cost, weight=weight, capacity=capacity, **extensions)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_solve_assignment_returns_a_feasible_optimal_plan_or_a_reason(problem):
    result = solve_assignment(problem, time_limit_s=TIME)

    best = brute_force(problem)
    if best is None:
        assert not result.feasible and result.reason.startswith("infeasible: ")
    else:
        assert result.feasible and result.optimal
        assert plan_violations(problem, result.assignment) == []
        assert result.objective == pytest.approx(best)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_heuristic_returns_only_plans_that_satisfy_every_constraint(problem):
    result = solve_assignment(problem, time_limit_s=0.3, exact_size_limit=0)

    assert result.method != "milp"
    if result.feasible:
        assert plan_violations(problem, result.assignment) == []
    else:
        assert result.reason
