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
    plan_loads,
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
    """Best objective over every plan (all constraints), or None when no plan is feasible.

    Written from the model's definition, independently of the solver: loads per (group,
    resource) cell, overload priced per cell, limits and hard capacity as filters.
    """
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
    weight = problem.weight if problem.weight.ndim == 3 else problem.weight[:, :, None]
    weeks = weight.shape[2]
    group = np.arange(m) if problem.group is None else problem.group
    groups = len(problem.capacity)
    in_group = group[plans][:, :, None] == np.arange(groups)  # (plans, n, g)
    loads = np.einsum("png,pnk->pgk", in_group, weight[plans, jobs])
    capacity = cells(problem.capacity, groups, weeks)
    over = np.maximum(loads - capacity, 0.0)
    sign = -1.0 if problem.maximize else 1.0
    value = problem.cost[plans, jobs].sum(axis=1) * sign
    if problem.overload_cost is None:
        ok &= (over <= 1e-9).all(axis=(1, 2))
    else:
        price = cells(problem.overload_cost, groups, weeks)
        value = value + (price * over).sum(axis=(1, 2))
    if problem.limit is not None:
        ok &= (loads <= cells(problem.limit, groups, weeks) + 1e-9).all(axis=(1, 2))
    if not ok.any():
        return None
    return float(sign * value[ok].min())


def cells(values: object, groups: int, weeks: int) -> np.ndarray:
    """A number, (g,) or (g, k) array as (g, k)."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    return np.broadcast_to(array, (groups, weeks))


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


# Several resources (weeks), capacity groups, per-cell prices and limits.


def a_random_team_problem(
    seed: int,
    *,
    people: int = 3,
    options: int = 2,
    jobs: int = 6,
    weeks: int = 2,
    priced: bool = False,
    limited: bool = False,
    maximize: bool = False,
) -> AssignmentProblem:
    """Agents are (person, option) pairs sharing their person's capacity in every week;
    integer data, capacities near an even share (usually binding), limits a little above."""
    rng = np.random.default_rng(seed)
    agents = people * options
    weight = rng.integers(0, 8, size=(agents, jobs, weeks)).astype(float)
    cost = rng.integers(1, 20, size=(agents, jobs)).astype(float)
    share = weight.mean(axis=0).sum(axis=0) / people  # (weeks,)
    capacity = np.floor(rng.uniform(0.8, 1.4, size=(people, weeks)) * share)
    extensions: dict[str, object] = {"maximize": maximize}
    if options > 1:
        extensions["group"] = np.repeat(np.arange(people), options)
    if priced:
        extensions["overload_cost"] = rng.integers(1, 6, size=(people, weeks)).astype(float)
    if limited:
        extensions["limit"] = capacity + rng.integers(0, 4, size=(people, weeks))
    return AssignmentProblem(cost=cost, weight=weight, capacity=capacity, **extensions)  # type: ignore[arg-type]


def assert_optimal(
    problem: AssignmentProblem, result: AssignmentResult, *, proven: bool = True
) -> None:
    best = brute_force(problem)
    assert best is not None, "the generated problem should have a plan"
    assert result.feasible and (result.optimal or not proven), result.reason
    assert result.objective == pytest.approx(best)
    assert plan_violations(problem, result.assignment) == []


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_solve_assignment_matches_brute_force_when_jobs_span_several_weeks(seed, maximize):
    problem = a_random_team_problem(seed, options=1, jobs=7, weeks=3, maximize=maximize)

    result = solve_assignment(problem, time_limit_s=TIME, seed=seed)

    assert_optimal(problem, result)


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_solve_assignment_matches_brute_force_when_agents_share_a_group_capacity(seed, maximize):
    problem = a_random_team_problem(seed, weeks=1, maximize=maximize)

    result = solve_assignment(problem, time_limit_s=TIME, seed=seed)

    assert_optimal(problem, result)


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_solve_assignment_matches_brute_force_when_cells_are_priced_and_limited(seed, maximize):
    problem = a_random_team_problem(seed, priced=True, limited=True, maximize=maximize)

    result = solve_assignment(problem, time_limit_s=TIME, seed=seed)

    assert_optimal(problem, result)


@pytest.mark.parametrize("seed", range(3))
def test_heuristic_matches_brute_force_when_agents_share_weeks_and_limits(seed):
    problem = a_random_team_problem(seed, priced=True, limited=True)

    result = solve_assignment(problem, time_limit_s=TIME, seed=seed, exact_size_limit=0)

    assert result.method != "milp"
    assert_optimal(problem, result, proven=False)  # its bound is the Lagrangian one


def test_solve_assignment_keeps_a_cell_under_its_limit_when_overload_is_cheap():
    problem = a_problem(
        [[1, 1], [10, 10]],
        weight=[[6, 6], [6, 6]],
        capacity=[10, 10],
        overload_cost=1.0,
        limit=[11, 20],
    )

    result = solve_assignment(problem, time_limit_s=TIME)

    # Without the limit both jobs go to agent 0: cost 2 plus 2 units of overload at 1.
    assert result.assignment.tolist() == [0, 1] and result.objective == 11.0
    assert plan_loads(problem, result.assignment).tolist() == [[6.0], [6.0]]


def test_solve_assignment_shares_a_group_capacity_between_its_agents():
    problem = a_problem(
        [[1, 3], [2, 4], [10, 10]],
        weight=[[5, 5], [5, 5], [5, 5]],
        capacity=[5, 10],
        group=np.array([0, 0, 1]),
    )

    result = solve_assignment(problem, time_limit_s=TIME)

    # Agents 0 and 1 could each hold one job (cost 1 + 4), but together they hold one.
    assert result.assignment.tolist() == [0, 2] and result.objective == 11.0
    assert plan_loads(problem, result.assignment).tolist() == [[5.0], [5.0]]


def test_solve_assignment_keeps_every_week_under_capacity_when_only_a_later_week_binds():
    weight = [[[1, 6], [1, 6]], [[1, 1], [1, 1]]]  # agent, job, week
    problem = a_problem([[1, 1], [5, 6]], weight=weight, capacity=[[10, 10], [10, 10]])

    result = solve_assignment(problem, time_limit_s=TIME)

    # Week 0 alone would let agent 0 take both jobs (cost 2); week 1 would then carry 12.
    assert result.assignment.tolist() == [1, 0] and result.objective == 6.0
    assert plan_loads(problem, result.assignment).tolist() == [[1.0, 6.0], [1.0, 1.0]]


def test_solve_assignment_charges_each_cell_its_own_price():
    weight = [[[6, 0], [0, 6]], [[6, 0], [0, 6]]]  # job 0 needs week 0, job 1 week 1
    problem = a_problem(
        [[0, 0], [0, 0]],
        weight=weight,
        capacity=[[4, 4], [4, 4]],
        overload_cost=np.array([[1.0, 5.0], [5.0, 1.0]]),
    )

    result = solve_assignment(problem, time_limit_s=TIME)

    # Each job goes where its week's overload is cheap: 2 hours at 1, twice.
    assert result.assignment.tolist() == [0, 1] and result.objective == 4.0


@pytest.mark.parametrize(
    ("problem", "reason"),
    [
        (
            a_problem(
                [[1, 2, 3], [3, 2, 1]],
                weight=[[4, 4, 1], [4, 4, 1]],
                capacity=[2, 2],
                overload_cost=1.0,
                limit=[6, 20],
                fixed=np.array([0, 0, -1]),
            ),
            "infeasible: jobs that can only go to agent 0 need 8 but its limit is 6",
        ),
        (
            a_problem(
                [[1, 2, 3], [3, 2, 1], [1, 1, 1]],
                weight=[[[1, 4], [1, 4], [1, 1]]] * 3,
                capacity=[[6, 6], [6, 6]],
                group=np.array([0, 0, 1]),
                forbidden=np.array([[0, 0, 0], [0, 0, 0], [1, 1, 0]]),
            ),
            "infeasible: jobs that can only go to group 0 need 8 in resource 1 "
            "but its capacity is 6",
        ),
        (
            a_problem(
                [[1, 2, 3], [3, 2, 1], [1, 1, 1]],
                weight=[[[1, 5], [1, 5], [1, 5]]] * 3,
                capacity=[[6, 6], [6, 6]],
                group=np.array([0, 0, 1]),
            ),
            "infeasible: total weight exceeds total capacity in resource 1: the jobs need "
            "at least 15 and the groups have 12",
        ),
        (
            a_problem(
                [[1, 2, 3], [3, 2, 1]],
                weight=[[5, 5, 5], [5, 5, 5]],
                capacity=[0, 0],
                overload_cost=np.array([1.0, 2.0]),
                limit=[6, 6],
            ),
            "infeasible: total weight exceeds total limit: the jobs need at least 15 and the "
            "agents have 12",
        ),
    ],
)
def test_solve_assignment_explains_why_when_limits_or_groups_leave_no_plan(problem, reason):
    result = solve_assignment(problem, time_limit_s=TIME)

    assert not result.feasible and result.assignment.tolist() == [-1, -1, -1]
    assert re.fullmatch(re.escape(reason), result.reason)


def test_plan_violations_names_the_group_and_week_over_its_limit():
    problem = a_problem(
        [[1, 1], [1, 1], [1, 1]],
        weight=[[[1, 6], [1, 6]]] * 3,
        capacity=[[4, 4], [4, 4]],
        group=np.array([0, 0, 1]),
        overload_cost=1.0,
        limit=[[20, 11], [20, 20]],
    )

    assert plan_violations(problem, np.array([0, 1])) == [
        "group 0 is loaded 12 above its limit 11 in resource 1"
    ]
    assert plan_violations(problem, np.array([0, 2])) == []


def test_plan_loads_sums_each_group_and_week():
    problem = a_problem(
        [[0, 0, 0]] * 3,
        weight=[[[1, 2], [3, 4], [5, 6]], [[10, 20], [30, 40], [50, 60]], [[7, 7], [7, 7], [7, 7]]],
        capacity=[[100, 100], [100, 100]],
        group=np.array([1, 0, 1]),
    )

    loads = plan_loads(problem, np.array([0, 1, 2]))

    assert loads.tolist() == [[30.0, 40.0], [8.0, 9.0]]


@pytest.mark.parametrize("exact_size_limit", [20_000, 0])
def test_solve_assignment_returns_the_same_plan_when_run_twice_on_a_team_problem(
    exact_size_limit,
):
    problem = a_random_team_problem(
        21, people=6, options=3, jobs=40, weeks=4, priced=True, limited=True
    )

    first = solve_assignment(problem, time_limit_s=20.0, seed=7, exact_size_limit=exact_size_limit)
    second = solve_assignment(problem, time_limit_s=20.0, seed=7, exact_size_limit=exact_size_limit)

    assert first.feasible and first.seconds < 20.0  # proven, or ended by stagnation
    assert first.assignment.tolist() == second.assignment.tolist()
    assert plan_violations(problem, first.assignment) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"weight": np.ones((2, 3, 1, 1))},
            "weight has shape (2, 3, 1, 1), expected (2, 3) or (2, 3, k)",
        ),
        (
            {"weight": np.ones((2, 3, 0))},
            "weight needs at least one resource (its third dimension is 0)",
        ),
        ({"capacity": [1, 1, 1]}, "capacity has shape (3,), expected (2,) or (2, 1)"),
        (
            {"weight": np.ones((2, 3, 2)), "capacity": np.ones((2, 3))},
            "capacity has shape (2, 3), expected (2,) or (2, 2)",
        ),
        ({"group": [0]}, "group must be 2 integers (one per agent), got int64 of shape (1,)"),
        (
            {"group": [0.0, 1.0]},
            "group must be 2 integers (one per agent), got float64 of shape (2,)",
        ),
        ({"group": [0, 2]}, "group must hold group indices in [0, 2) (capacity rows)"),
        (
            {"overload_cost": [1.0, 1.0, 1.0]},
            "overload_cost has shape (3,), expected a number, (2,) or (2, 1)",
        ),
        ({"overload_cost": [1.0, -1.0]}, "overload_cost must be finite and >= 0"),
        (
            {"limit": [5, 5]},
            "limit needs soft capacity (overload_cost); with hard capacity, capacity itself is "
            "the ceiling",
        ),
        (
            {"overload_cost": 1.0, "limit": np.ones((2, 2))},
            "limit has shape (2, 2), expected (2,) or (2, 1)",
        ),
        (
            {"overload_cost": 1.0, "limit": [1.0, np.nan]},
            "limit must not be NaN (use inf for no ceiling)",
        ),
    ],
)
def test_assignment_problem_rejects_invalid_extensions(fields, message):
    base = {"cost": np.ones((2, 3)), "weight": np.ones((2, 3)), "capacity": [3.0, 3.0]}

    with pytest.raises(ValueError, match=re.escape(message)):
        AssignmentProblem(**(base | fields))  # type: ignore[arg-type]


def test_plan_loads_rejects_a_plan_with_an_unknown_agent():
    problem = a_problem([[1, 2, 3], [1, 2, 3]])

    with pytest.raises(
        ValueError, match=re.escape("assignment must hold 3 agent indices in [0, 2)")
    ):
        plan_loads(problem, np.array([0, 1, 2]))


@st.composite
def team_problems(draw: st.DrawFn) -> AssignmentProblem:
    """Problems of every new shape: weeks, groups, per-cell prices, limits, fractional data."""
    m = draw(st.integers(1, 4))
    n = draw(st.integers(0, 5))
    k = draw(st.integers(1, 3))
    unit = draw(st.sampled_from([1.0, 0.1]))

    def grid(shape: tuple[int, ...], high: int) -> np.ndarray:
        size = int(np.prod(shape))
        values = draw(st.lists(st.integers(0, high), min_size=size, max_size=size))
        return np.array(values, float).reshape(shape)

    cost = grid((m, n), 9)
    weight = unit * grid((m, n, k), 9)
    if k == 1 and draw(st.booleans()):
        weight = weight[:, :, 0]
    extensions: dict[str, object] = {"maximize": draw(st.booleans())}
    g = m
    if draw(st.booleans()):
        g = draw(st.integers(1, m))
        extensions["group"] = np.array(
            draw(st.lists(st.integers(0, g - 1), min_size=m, max_size=m)), np.int64
        )
    per_week = draw(st.booleans())
    capacity = unit * grid((g, k) if per_week else (g,), 20)
    price = draw(st.sampled_from(["none", "number", "group", "cell"]))
    if price == "number":
        extensions["overload_cost"] = float(draw(st.integers(0, 5)))
    elif price != "none":
        extensions["overload_cost"] = grid((g, k) if price == "cell" else (g,), 5)
    if price != "none" and draw(st.booleans()):
        limit = unit * grid((g, k), 25)
        limit[grid((g, k), 3) == 0] = np.inf
        extensions["limit"] = limit
    agent = st.integers(-1, m - 1)
    if draw(st.booleans()):
        extensions["forbidden"] = grid((m, n), 3) == 0
    if draw(st.booleans()):
        extensions["fixed"] = np.array(draw(st.lists(agent, min_size=n, max_size=n)), np.int64)
    if draw(st.booleans()):
        extensions["current"] = np.array(draw(st.lists(agent, min_size=n, max_size=n)), np.int64)
        extensions["max_moves"] = draw(st.none() | st.integers(0, n))
    return AssignmentProblem(cost=cost, weight=weight, capacity=capacity, **extensions)  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team_problems())
def test_solve_assignment_returns_an_optimal_plan_or_a_reason_for_every_shape(problem):
    result = solve_assignment(problem, time_limit_s=TIME)

    best = brute_force(problem)
    if best is None:
        assert not result.feasible and result.reason.startswith("infeasible: ")
    else:
        assert result.feasible and result.optimal, result.reason
        assert plan_violations(problem, result.assignment) == []
        assert result.objective == pytest.approx(best)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team_problems())
def test_heuristic_returns_only_plans_that_satisfy_every_constraint_for_every_shape(problem):
    result = solve_assignment(problem, time_limit_s=0.3, exact_size_limit=0)

    assert result.method != "milp"
    if result.feasible:
        assert plan_violations(problem, result.assignment) == []
    else:
        assert result.reason
