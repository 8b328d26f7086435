"""How time is split between local search and HiGHS, for exact-sized and for large problems.

Pure; no ``bot`` imports. Both schedules improve ``LocalSearch.best_plan`` in place.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from forecasting.assignment_instance import FloatArray, Instance
from forecasting.assignment_milp import MilpOutcome, objective_floor, reduced_pairs, solve_milp
from forecasting.assignment_search import LocalSearch

# Exact schedule (this thread, beside the worker's long MILP): search rounds and short
# warm-started MILP rounds, each at most this share of the remaining time and this long.
SEARCH_SHARE = 0.3
SEARCH_ROUND_S = 1.0
MILP_SHARE = 0.2
MILP_ROUND_S = 2.0
COLD = True
REDUCE_ROUNDS = False
# Large schedule: each MILP neighbourhood frees the jobs of a few agents, sized to about this
# many (job, agent) pairs, and may run this long.
NEIGHBOURHOOD_PAIRS = 1_500
NEIGHBOURHOOD_SECONDS = 0.3
NEIGHBOURHOODS_PER_ROUND = 8


def proven(value: float, lower: float) -> bool:
    """Whether a plan worth ``value`` is optimal given the lower bound ``lower``."""
    return math.isfinite(value) and value - lower <= 1e-9 * max(1.0, abs(value))


def improve_exact(
    instance: Instance,
    search: LocalSearch,
    reduced: FloatArray,
    lagrangian: float,
    *,
    deadline: float,
) -> tuple[bool, float, bool]:
    """One long MILP in a worker thread while local search and short MILPs take turns here.

    HiGHS releases the GIL, so the two cores work at once: the worker's single long run is
    what proves optimality (it keeps its search tree; splitting it loses that), while this
    thread's search restarts from whatever the short warm-started MILP rounds find, which is
    what moves the hardest (type D) instances. A proof from the worker ends the solve, and its
    plan is returned so that the answer does not depend on which thread got there first.

    Args:
        instance: the problem in minimisation form.
        search: the local search holding the best plan so far.
        reduced: Lagrangian reduced costs, to drop pairs that cannot improve the incumbent.
        lagrangian: the Lagrangian bound those reduced costs belong to.
        deadline: ``time.monotonic()`` value at which to stop.

    Returns:
        (proven optimal, best lower bound, proven that no plan exists).
    """
    integral = instance.integral_objective
    lower = objective_floor(lagrangian, integral)
    with ThreadPoolExecutor(max_workers=1) as pool:
        proof = pool.submit(
            _milp_round, instance, search, None if COLD else reduced, lagrangian, deadline - time.monotonic(), not COLD
        )
        restart = search.best_plan
        milp_from = None
        while not proof.done() and time.monotonic() < deadline:
            left = deadline - time.monotonic()
            search.run(
                restart,
                deadline=time.monotonic() + min(SEARCH_SHARE * left, SEARCH_ROUND_S),
                patience=1000,
                stop=proof.done,
            )
            left = deadline - time.monotonic()
            best = search.best_plan
            if proof.done() or left <= 0 or best is None:
                continue
            before = search.best_value
            if milp_from is None or search.best_value < milp_from:
                # A new best plan: let HiGHS improve the whole problem around it.
                milp_from = search.best_value
                outcome, cap = _milp_round(
                    instance, search, None, lagrangian, min(MILP_SHARE * left, MILP_ROUND_S)
                )
                if outcome.plan is not None:
                    search.consider(outcome.plan)
                lower = max(lower, _global_bound(outcome, cap, integral))
            else:
                # HiGHS already had this plan: re-split the jobs of a few agents instead.
                _neighbourhoods(instance, search, deadline=time.monotonic() + min(MILP_SHARE * left, MILP_ROUND_S))
            restart = search.best_plan if search.best_value < before else None
        outcome, cap = proof.result()
    if outcome.status == "infeasible" and cap is None:
        return False, lower, True
    if outcome.status == "optimal" and outcome.plan is not None:
        search.adopt(outcome.plan)
        return True, search.best_value, False
    if outcome.plan is not None:
        search.consider(outcome.plan)
    lower = max(lower, _global_bound(outcome, cap, integral))
    return proven(search.best_value, lower), lower, False


def _milp_round(
    instance: Instance,
    search: LocalSearch,
    reduced: FloatArray | None,
    lagrangian: float,
    seconds: float,
    warm: bool = True,
) -> tuple[MilpOutcome, float | None]:
    """A warm-started MILP over the pairs that can still improve the best plan.

    Returns:
        The outcome and the incumbent value the pairs were reduced against (None: all pairs).
    """
    incumbent = search.best_plan if warm else None
    keep = instance.allowed
    cap = None
    if incumbent is not None and reduced is not None:
        cap = search.best_value
        keep = reduced_pairs(reduced, lagrangian, cap, instance.integral_objective)
        keep &= instance.allowed
    outcome = solve_milp(instance, keep=keep, time_limit=max(seconds, 0.05), incumbent=incumbent)
    return outcome, cap


def _global_bound(outcome: MilpOutcome, cap: float | None, integral: bool) -> float:
    """A lower bound on the whole problem from a MILP run over reduced pairs.

    Dropped pairs only appear in plans no better than ``cap`` (minus 1 for integer
    objectives), so the reduced model's bound holds globally once capped there.
    """
    if outcome.bound is None:
        return -np.inf
    bound = outcome.bound
    if cap is not None:
        bound = min(bound, cap - (1.0 - 1e-6 if integral else 0.0))
    return objective_floor(bound, integral)


def improve_large(instance: Instance, search: LocalSearch, *, deadline: float) -> None:
    """Local search, then MILP-solved neighbourhoods around the best plan, in turns."""
    restart = search.plan
    while time.monotonic() < deadline:
        left = deadline - time.monotonic()
        before = search.best_value
        search.run(restart, deadline=time.monotonic() + 0.5 * left, patience=1000)
        if search.best_plan is None or instance.m < 2:
            restart = None
            continue
        _neighbourhoods(
            instance, search, deadline=min(deadline, time.monotonic() + 0.5 * left)
        )
        restart = search.best_plan if search.best_value < before else None


def _neighbourhoods(instance: Instance, search: LocalSearch, *, deadline: float) -> None:
    """Re-split the jobs of a few random agents exactly, warm-started with the best plan.

    A neighbourhood frees every job of a few agents and lets HiGHS re-split them among those
    agents (so it never returns worse): an exact multi-job exchange that shift and swap moves
    cannot make in one step.
    """
    m, n = instance.m, instance.n
    if m < 2 or search.best_plan is None:
        return
    per_agent = max(1.0, n / m)
    size = int(np.clip(round(math.sqrt(NEIGHBOURHOOD_PAIRS / per_agent)), 2, m))
    for _ in range(NEIGHBOURHOODS_PER_ROUND):
        left = deadline - time.monotonic()
        if left <= 0.02:
            return
        best = search.best_plan
        agents = search.rng.choice(m, size=size, replace=False)
        chosen = np.zeros(m, dtype=np.bool_)
        chosen[agents] = True
        keep = np.zeros_like(instance.allowed)
        keep[agents] = True
        outcome = solve_milp(
            instance,
            keep=keep,
            time_limit=min(NEIGHBOURHOOD_SECONDS, left),
            incumbent=best,
            free=chosen[best],
        )
        if outcome.plan is not None:
            search.consider(outcome.plan)
