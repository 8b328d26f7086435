"""Column generation for plain GAP: the knapsack pricing, the bound and the dives."""

from __future__ import annotations

import itertools
import time
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import linprog

from forecasting import assignment_columns
from forecasting.assignment import AssignmentProblem, _instance, solve_assignment
from forecasting.assignment_bound import lagrangian_bound
from forecasting.assignment_columns import _knapsacks, applicable, dive_for_plans
from forecasting.assignment_search import LocalSearch
from tests.unit.test_assignment import a_random_problem, brute_force


def test_knapsacks_pick_the_best_subset_for_every_agent_at_once() -> None:
    rng = np.random.default_rng(3)
    gain = rng.integers(-5, 20, size=(4, 9)).astype(float)
    weight = rng.integers(1, 9, size=(4, 9))
    capacity = np.array([0, 7, 13, 40])

    best, chosen = _knapsacks(gain, weight, capacity)

    for agent in range(4):
        expected = max(
            sum(gain[agent, j] for j in subset)
            for size in range(10)
            for subset in itertools.combinations(range(9), size)
            if sum(weight[agent, j] for j in subset) <= capacity[agent]
        )
        assert best[agent] == expected
        picked = np.flatnonzero(chosen[agent])
        assert gain[agent, picked].sum() == expected
        assert weight[agent, picked].sum() <= capacity[agent]


def test_applies_to_plain_gap_with_whole_units_only() -> None:
    plain = a_random_problem(1)
    halves = AssignmentProblem(cost=plain.cost, weight=plain.weight + 0.5, capacity=plain.capacity)
    weeks = AssignmentProblem(
        cost=plain.cost, weight=plain.weight[:, :, None].repeat(2, axis=2), capacity=plain.capacity
    )
    budget = AssignmentProblem(
        cost=plain.cost,
        weight=plain.weight,
        capacity=plain.capacity,
        current=np.zeros(plain.cost.shape[1], dtype=np.int64),
        max_moves=2,
    )
    soft = AssignmentProblem(
        cost=plain.cost, weight=plain.weight, capacity=plain.capacity, overload_cost=5.0
    )

    assert applicable(_instance(plain)[0])
    for other in (halves, weeks, budget, soft):
        assert not applicable(_instance(other)[0])


def compact_lp_bound(problem: AssignmentProblem) -> float:
    """The LP relaxation of the compact model (x_ij in [0, 1]), solved directly."""
    m, n = problem.cost.shape
    cover = np.kron(np.ones(m), np.eye(n))  # each job once
    load = np.kron(np.eye(m), np.ones(n)) * problem.weight.ravel()
    result = linprog(
        problem.cost.ravel(),
        A_ub=load,
        b_ub=problem.capacity,
        A_eq=cover,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    assert result.status == 0
    return float(result.fun)


@pytest.mark.parametrize("seed", range(6))
def test_dives_find_the_optimum_and_bound_it_at_least_as_tightly_as_the_lp(seed: int) -> None:
    problem = a_random_problem(seed, agents=3, jobs=8)
    optimum = brute_force(problem)
    assert optimum is not None
    instance, _ = _instance(problem)
    started = time.monotonic()
    search = LocalSearch(instance, lagrangian_bound(instance, deadline=started + 1), seed=0)
    search.run(search.plan, deadline=started + 0.2, patience=5)

    bound = dive_for_plans(
        instance, search, root_deadline=started + 5, deadline=time.monotonic() + 0.5
    )

    assert search.best_plan is not None and instance.is_feasible(search.best_plan)
    assert search.best_value == pytest.approx(optimum)
    assert compact_lp_bound(problem) - 1e-6 <= bound <= optimum + 1e-6


def test_a_failed_master_lp_costs_the_dives_only(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = a_random_problem(4, agents=3, jobs=8)
    instance, _ = _instance(problem)
    started = time.monotonic()
    search = LocalSearch(instance, lagrangian_bound(instance, deadline=started + 1), seed=0)
    search.run(search.plan, deadline=started + 0.2, patience=5)
    before = search.best_value
    failed = SimpleNamespace(status=4, message="numerical difficulties")
    monkeypatch.setattr(assignment_columns, "linprog", lambda *args, **kwargs: failed)

    bound = dive_for_plans(instance, search, root_deadline=started + 5, deadline=started + 5)

    assert bound == -np.inf
    assert search.best_value == before
    assert solve_assignment(problem, time_limit_s=5).objective == brute_force(problem)
