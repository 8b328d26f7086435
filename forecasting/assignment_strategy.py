"""How time is split between local search and HiGHS, for exact-sized and for large problems.

Pure; no ``bot`` imports. Both schedules improve ``LocalSearch.best_plan`` in place.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from forecasting import assignment_columns
from forecasting.assignment_bound import LagrangianBound
from forecasting.assignment_instance import Instance, IntArray
from forecasting.assignment_milp import MilpOutcome, objective_floor, solve_milp
from forecasting.assignment_search import LocalSearch

# Beside the proof thread, this thread alternates search rounds and warm-started MILP rounds,
# each at most this share of the remaining time and this many seconds: short enough that the
# search restarts from what HiGHS finds (which is what moves type D instances), long enough
# for HiGHS's sub-MIP heuristics to get going.
SEARCH_SHARE = 0.3
SEARCH_ROUND_S = 1.0
MILP_SHARE = 0.2
MILP_ROUND_S = 2.0
PATIENCE = 1000  # local optima without a better plan before a search round ends
# A neighbourhood frees the jobs of a few agents, about this many (job, agent) pairs in all,
# and HiGHS may spend this long on it.
NEIGHBOURHOOD_PAIRS = 1_500
NEIGHBOURHOOD_SECONDS = 0.3
NEIGHBOURHOODS_PER_ROUND = 8
# The large schedule ends early after this many rounds without a better plan.
IDLE_ROUNDS = 3
# Where column generation applies (plain GAP), it may price its root LP for up to this share of
# the exact schedule's time and dive until this share has passed; the search and the MILP
# rounds have the rest.
ROOT_SHARE = 0.5
DIVE_SHARE = 0.85


def proven(value: float, lower: float) -> bool:
    """Whether a plan worth ``value`` is optimal given the lower bound ``lower``."""
    return math.isfinite(value) and value - lower <= 1e-9 * max(1.0, abs(value))


def improve_exact(
    instance: Instance,
    search: LocalSearch,
    bound: LagrangianBound,
    lower: float,
    *,
    deadline: float,
) -> tuple[bool, float, bool]:
    """A cold MILP in a worker thread proves; search and short MILPs improve here meanwhile.

    HiGHS releases the GIL, so both cores work. The worker's single run over the whole model
    is what proves optimality (it keeps its search tree, and a cold start was as fast as any
    warm start on the instances measured); a proof ends the solve and its plan is returned, so
    the answer does not depend on which thread got there first. This thread alternates the
    local search with MILP rounds warm-started from the best plan: over the whole model when
    the plan is new, over a few capacity groups' jobs when HiGHS has already seen it. Both
    models leave out the pairs that the Lagrangian reduced costs rule out for any plan as good
    as the best one (``LagrangianBound.useful``): on the slowest Chu & Beasley proofs
    (b10200, c20200) that saves about a third of the time.

    Args:
        instance: the problem in minimisation form.
        search: the local search holding the best plan so far.
        bound: the Lagrangian bound, whose reduced costs prune the MILPs.
        lower: the best lower bound so far.
        deadline: ``time.monotonic()`` value at which to stop.

    Returns:
        (proven optimal, best lower bound, proven that no plan exists).
    """
    integral = instance.integral_objective
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Pairs no plan as good as the best so far can use are left out (the best plan's
        # own pairs stay): the model still holds every optimal plan, so its proof stands.
        pruned = search.best_plan is not None
        proof = pool.submit(
            solve_milp,
            instance,
            keep=instance.allowed & bound.useful(search.best_value),
            time_limit=max(deadline - time.monotonic(), 0.05),
        )
        restart: IntArray | None = None  # None: resume the search where it stopped
        milp_seen = math.inf
        if assignment_columns.applicable(instance):
            now, left = time.monotonic(), deadline - time.monotonic()
            columns_bound = assignment_columns.dive_for_plans(
                instance,
                search,
                root_deadline=now + ROOT_SHARE * left,
                deadline=now + DIVE_SHARE * left,
                stop=proof.done,
            )
            lower = max(lower, objective_floor(columns_bound, integral))
        while not proof.done() and time.monotonic() < deadline:
            left = deadline - time.monotonic()
            search.run(
                restart,
                deadline=time.monotonic() + min(SEARCH_SHARE * left, SEARCH_ROUND_S),
                patience=PATIENCE,
                stop=proof.done,
            )
            restart = None
            left = deadline - time.monotonic()
            best = search.best_plan
            if proof.done() or left <= 0 or best is None:
                continue
            before = search.best_value
            seconds = min(MILP_SHARE * left, MILP_ROUND_S)
            if search.best_value < milp_seen:
                milp_seen = search.best_value
                outcome = solve_milp(
                    instance,
                    keep=instance.allowed & bound.useful(search.best_value),
                    time_limit=seconds,
                    incumbent=best,
                )
                if outcome.plan is not None:
                    search.consider(outcome.plan, "milp+heuristic")
                lower = max(lower, _bound(outcome, integral))
            else:
                neighbourhoods(instance, search, deadline=time.monotonic() + seconds)
            # The search resumes where it stopped unless HiGHS found a better plan to start from.
            if search.best_value < before:
                restart = search.best_plan
        outcome = proof.result()
    if outcome.status == "infeasible":
        # Only an unpruned model proves that no plan exists (a pruned one holds a plan).
        return False, lower, not pruned
    # HiGHS meets rows to its own tolerance (1e-7 absolute); a plan that only does so on
    # fractional weights is not adopted, so every returned plan passes ``violations``.
    if (
        outcome.status == "optimal"
        and outcome.plan is not None
        and instance.is_feasible(outcome.plan)
    ):
        search.adopt(outcome.plan, "milp")
        return True, search.best_value, False
    if outcome.plan is not None:
        search.consider(outcome.plan, "milp")
    lower = max(lower, _bound(outcome, integral))
    return proven(search.best_value, lower), lower, False


def improve_large(instance: Instance, search: LocalSearch, *, deadline: float) -> None:
    """Local search and MILP-solved neighbourhoods around the best plan, in turns.

    Ends at the deadline, or earlier once a plan is known and ``IDLE_ROUNDS`` rounds in a row
    found nothing better.
    """
    restart: IntArray | None = None
    idle = 0
    while time.monotonic() < deadline and idle < IDLE_ROUNDS:
        left = deadline - time.monotonic()
        before = search.best_value
        search.run(restart, deadline=time.monotonic() + 0.5 * left, patience=PATIENCE)
        searched = search.best_value
        left = deadline - time.monotonic()
        neighbourhoods(instance, search, deadline=time.monotonic() + 0.5 * left)
        # Stagnation ends only a search that has a plan to return.
        idle = 0 if search.best_value < before or search.best_plan is None else idle + 1
        # Resume the search where it stopped unless a neighbourhood found a better plan.
        restart = search.best_plan if search.best_value < searched else None


def neighbourhoods(instance: Instance, search: LocalSearch, *, deadline: float) -> None:
    """Re-split the jobs of a few random capacity groups exactly, warm-started with the best plan.

    Each neighbourhood frees every job held by the agents of a few groups (agents, in plain
    GAP) and lets HiGHS re-split them among those agents, starting from the best plan (so it
    never returns worse): an exact multi-job exchange that shift and swap moves cannot make in
    one step.
    """
    m, n, groups = instance.m, instance.n, instance.g
    if groups < 2 or m < 2:
        return
    # Freeing s of g groups frees about s n / g jobs over s m / g agents.
    per_group = max(1.0, n / groups) * max(1.0, m / groups)
    size = int(np.clip(round(math.sqrt(NEIGHBOURHOOD_PAIRS / per_group)), 2, groups))
    for _ in range(NEIGHBOURHOODS_PER_ROUND):
        best = search.best_plan
        left = deadline - time.monotonic()
        if best is None or left <= 0.02:
            return
        picked = search.rng.choice(groups, size=size, replace=False)
        chosen_group = np.zeros(groups, dtype=np.bool_)
        chosen_group[picked] = True
        chosen = chosen_group[instance.group]
        keep = np.zeros_like(instance.allowed)
        keep[chosen] = True
        outcome = solve_milp(
            instance,
            keep=keep,
            time_limit=min(NEIGHBOURHOOD_SECONDS, left),
            incumbent=best,
            free=chosen[best],
        )
        if outcome.plan is not None:
            search.consider(outcome.plan, "milp+heuristic")


def _bound(outcome: MilpOutcome, integral: bool) -> float:
    """The lower bound a MILP run over every allowed pair proves for the whole problem."""
    return -math.inf if outcome.bound is None else objective_floor(outcome.bound, integral)
