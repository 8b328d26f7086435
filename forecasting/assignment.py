"""Assign jobs to agents at least cost under capacities: the rebalancer's optimisation core.

Public API: ``AssignmentProblem``, ``AssignmentResult``, ``solve_assignment``,
``plan_violations``, ``plan_loads``. Pure (numpy + scipy's HiGHS); never imports ``bot``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from forecasting.assignment_bound import lagrangian_bound
from forecasting.assignment_instance import BoolArray, FloatArray, Instance, IntArray, Method
from forecasting.assignment_milp import objective_floor
from forecasting.assignment_search import LocalSearch
from forecasting.assignment_strategy import improve_exact, improve_large, proven

# Problems with at most this many usable (job, agent) pairs also get a whole-problem MILP (the
# proof thread and warm-started rounds); larger ones get local search plus MILP-solved
# neighbourhoods only. 20,000 pairs covers a team of 30 people with 600 tasks, whose LP
# relaxation HiGHS solves in well under a second; on Yagiura's 400-job instances (up to
# 16,000 pairs) the MILP still helps, while at 900+ jobs it only costs time.
EXACT_SIZE_LIMIT = 20_000

_Array = TypeVar("_Array", bound="np.ndarray[Any, Any]")


@dataclass(frozen=True, eq=False)
class AssignmentProblem:
    """Give each of n jobs to one of m agents (generalized assignment, with extensions).

    The model. Every job j goes to exactly one agent i (``plan[j] = i``). Agents belong to
    capacity groups (``group``, by default each agent is its own group) and each group has one
    capacity per resource k (e.g. per week); a job at an agent uses ``weight[i, j, k]`` of
    its group's resource k. The load of cell (g, k) is the total weight its group's agents
    carry, and a plan costs its pair costs plus, when capacity is soft, a price per unit of
    load above capacity::

        load[g, k] = sum of weight[plan_j, j, k] over the jobs j with group[plan_j] == g
        objective  = sum_j cost[plan_j, j]
                     + sum_{g,k} price[g, k] * max(load[g, k] - capacity[g, k], 0)

    minimised (or, with ``maximize``, ``sum_j cost`` is a profit and the overload charge is
    subtracted from it). Hard constraints: ``load <= capacity`` in every cell when
    ``overload_cost`` is None, ``load <= limit`` where a limit is given, no forbidden pair,
    fixed jobs at their agent, and at most ``max_moves`` jobs away from their ``current``
    agent. The plain generalized assignment problem is the special case of 2-D ``weight``,
    (m,) ``capacity`` and no extensions.

    The rebalancer's use: agents are (person, date-shift option) pairs, ``group`` maps each
    option to its person, resources are weeks, capacity is soft above a person's risk line
    and ``limit`` is the hard ceiling.

    Attributes:
        cost: (m, n) cost of giving job j to agent i (profit when ``maximize``).
        weight: (m, n) or (m, n, k) amount of resource k job j uses at agent i (>= 0, e.g.
            hours per week); 2-D means one resource.
        capacity: (g,) or (g, k) capacity of each group (per resource); (g,) applies to
            every resource. g is m unless ``group`` is given.
        forbidden: (m, n) True where agent i may not take job j (skills), or None.
        fixed: (n,) agent a job must keep (locked), -1 for a free job, or None.
        current: (n,) agent that holds each job today (-1 for none), or None.
        max_moves: at most this many jobs may leave their ``current`` agent, or None.
        overload_cost: None for hard capacities; otherwise capacity is soft and every unit of
            load above it costs this much: one number, or (g,) / (g, k) per group (and
            resource).
        maximize: maximise total ``cost`` (a profit) instead of minimising it.
        group: (m,) capacity group of each agent, in [0, g) where g = len(capacity); agents of
            one group share its capacity. None: every agent is its own group.
        limit: (g,) or (g, k) hard ceiling on each cell's load (may be +inf), or None; only
            with soft capacity (with hard capacity, capacity itself is the ceiling).
    """

    cost: FloatArray
    weight: FloatArray
    capacity: FloatArray
    forbidden: BoolArray | None = None
    fixed: IntArray | None = None
    current: IntArray | None = None
    max_moves: int | None = None
    overload_cost: float | FloatArray | None = None
    maximize: bool = False
    group: IntArray | None = None
    limit: FloatArray | None = None

    def __post_init__(self) -> None:
        cost = np.array(self.cost, dtype=np.float64)
        if cost.ndim != 2:
            raise ValueError(f"cost must be 2-D (agents x jobs), got shape {cost.shape}")
        m, n = cost.shape
        weight = np.array(self.weight, dtype=np.float64)
        capacity = np.array(self.capacity, dtype=np.float64)
        if weight.shape[:2] != (m, n) or weight.ndim not in (2, 3):
            raise ValueError(f"weight has shape {weight.shape}, expected {(m, n)} or ({m}, {n}, k)")
        resources = weight.shape[2] if weight.ndim == 3 else 1
        if resources < 1:
            raise ValueError("weight needs at least one resource (its third dimension is 0)")
        if self.group is None:
            groups = m
        else:
            group = np.array(self.group)
            if group.shape != (m,) or (group.size and group.dtype.kind not in "iu"):
                raise ValueError(
                    f"group must be {m} integers (one per agent), got {group.dtype} of shape "
                    f"{group.shape}"
                )
            groups = capacity.shape[0] if capacity.ndim else 0
            if np.any((group < 0) | (group >= groups)):
                raise ValueError(f"group must hold group indices in [0, {groups}) (capacity rows)")
            object.__setattr__(self, "group", _frozen(group.astype(np.int64)))
        _check_cells("capacity", capacity, groups, resources)
        for name, values in (("cost", cost), ("weight", weight), ("capacity", capacity)):
            if not np.all(np.isfinite(values)):
                raise ValueError(f"{name} must be finite")
        if np.any(weight < 0):
            raise ValueError("weight must be >= 0")
        object.__setattr__(self, "cost", _frozen(cost))
        object.__setattr__(self, "weight", _frozen(weight))
        object.__setattr__(self, "capacity", _frozen(capacity))
        if self.forbidden is not None:
            forbidden = np.array(self.forbidden, dtype=np.bool_)
            if forbidden.shape != (m, n):
                raise ValueError(f"forbidden has shape {forbidden.shape}, expected {(m, n)}")
            object.__setattr__(self, "forbidden", _frozen(forbidden))
        for name in ("fixed", "current"):
            given = getattr(self, name)
            if given is not None:
                agents = np.array(given, dtype=np.int64)
                if agents.shape != (n,):
                    raise ValueError(f"{name} has shape {agents.shape}, expected {(n,)}")
                if np.any((agents < -1) | (agents >= m)):
                    raise ValueError(f"{name} must hold agent indices in [-1, {m})")
                object.__setattr__(self, name, _frozen(agents))
        if self.max_moves is not None:
            if self.current is None:
                raise ValueError("max_moves needs the current assignment")
            if self.max_moves < 0:
                raise ValueError("max_moves must be >= 0")
        if self.overload_cost is not None:
            price = np.array(self.overload_cost, dtype=np.float64)
            if price.ndim:
                _check_cells("overload_cost", price, groups, resources, scalar=True)
            if not np.all(np.isfinite(price) & (price >= 0)):
                raise ValueError("overload_cost must be finite and >= 0")
            object.__setattr__(
                self, "overload_cost", _frozen(price) if price.ndim else float(price)
            )
        if self.limit is not None:
            if self.overload_cost is None:
                raise ValueError(
                    "limit needs soft capacity (overload_cost); with hard capacity, "
                    "capacity itself is the ceiling"
                )
            limit = np.array(self.limit, dtype=np.float64)
            _check_cells("limit", limit, groups, resources)
            if np.any(np.isnan(limit)):
                raise ValueError("limit must not be NaN (use inf for no ceiling)")
            object.__setattr__(self, "limit", _frozen(limit))


@dataclass(frozen=True, eq=False)
class AssignmentResult:
    """A plan and what is known about its quality.

    Attributes:
        assignment: (n,) agent index per job; all -1 when no feasible plan is known.
        objective: total cost (or profit) of the plan, overload charge included; NaN when
            there is no plan.
        feasible: whether the plan satisfies every hard constraint.
        optimal: whether the plan is proven optimal (within a relative gap of 1e-6).
        bound: best proven bound on the optimum (a lower bound when minimising, an upper
            bound when maximising), or None.
        seconds: wall-clock time spent.
        method: where the plan came from: "heuristic" (local search), "milp" (HiGHS on the
            whole problem, cold), "milp+heuristic" (HiGHS started from, and improving on, a
            local-search plan) or "columns" (a dive on the column-generation LP of a plain
            GAP, see ``assignment_columns``).
        gap: |objective - bound| / |objective| when both are known, else None.
        reason: why there is no plan, or why it is not proven optimal; '' when optimal.
    """

    assignment: IntArray
    objective: float
    feasible: bool
    optimal: bool
    bound: float | None
    seconds: float
    method: Method
    gap: float | None
    reason: str = ""


def plan_loads(problem: AssignmentProblem, assignment: IntArray) -> FloatArray:
    """(g, k) load of every group and resource when job j goes to agent ``assignment[j]``.

    Raises:
        ValueError: when ``assignment`` is not one agent index per job.
    """
    plan = np.asarray(assignment)
    m, n = problem.cost.shape
    integral = plan.dtype.kind in "iu" or plan.size == 0
    if plan.shape != (n,) or not integral or np.any((plan < 0) | (plan >= m)):
        raise ValueError(f"assignment must hold {n} agent indices in [0, {m})")
    instance, _ = _instance(problem, prune=False)
    return instance.loads(plan.astype(np.int64))


def plan_violations(problem: AssignmentProblem, assignment: IntArray) -> list[str]:
    """Every hard constraint ``assignment`` breaks, in words (empty when it is feasible)."""
    instance, conflict = _instance(problem, prune=False)
    found = instance.violations(np.asarray(assignment, dtype=np.int64))
    return [conflict, *found] if conflict else found


def solve_assignment(
    problem: AssignmentProblem,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    exact_size_limit: int = EXACT_SIZE_LIMIT,
) -> AssignmentResult:
    """Find a least-cost (or most-profitable) plan within the time limit.

    Every run starts with a Lagrangian bound (each cell's capacity or ceiling and the move
    budget priced in) and a short weighted local search. Problems with at most
    ``exact_size_limit`` usable (job, agent) pairs then get HiGHS on the whole model in a
    worker thread, which proves optimality, while this thread alternates the local search with
    MILP rounds warm-started from its best plan (see ``assignment_strategy``). Larger problems
    alternate the local search with MILP-solved neighbourhoods (the jobs of a few capacity
    groups re-split exactly).

    The result depends only on the problem and ``seed`` when the solve ends before the time
    limit (optimality proven, or the large-problem search stalled); a run cut short by the
    clock returns the best plan found by then.

    Args:
        problem: the problem.
        time_limit_s: wall-clock budget in seconds.
        seed: seed of the local search's random choices.
        exact_size_limit: largest number of usable (job, agent) pairs sent to the MILP.

    Returns:
        The plan with its objective, bound and gap, or ``feasible=False`` and a reason.
    """
    started = time.monotonic()
    deadline = started + max(time_limit_s, 0.0)
    sign = -1.0 if problem.maximize else 1.0
    instance, conflict = _instance(problem)
    reason = conflict or instance.infeasibility()
    if reason:
        return _no_plan(instance.n, started, "heuristic", f"infeasible: {reason}")
    if instance.n == 0:
        empty = _frozen(np.zeros(0, dtype=np.int64))
        value = sign * instance.objective(empty)  # soft capacity may still charge overload
        return AssignmentResult(empty, value, True, True, value, 0.0, "heuristic", 0.0)
    bound = lagrangian_bound(instance, deadline=started + 0.1 * time_limit_s)
    lower = objective_floor(bound.value, instance.integral_objective)
    search = LocalSearch(instance, bound, seed=seed)
    # A short first search: on most small problems its plan is optimal or nearly so.
    search.run(search.plan, deadline=started + 0.05 * time_limit_s, patience=50)
    pairs = int(np.count_nonzero(instance.allowed))
    optimal = proven(search.best_value, lower)
    if pairs <= exact_size_limit and not optimal:
        optimal, lower, proven_empty = improve_exact(
            instance, search, bound, lower, deadline=deadline
        )
        if proven_empty:
            return _no_plan(
                instance.n,
                started,
                "milp",
                "infeasible: no plan satisfies every constraint (proven by the MILP)",
            )
    elif not optimal:
        improve_large(instance, search, deadline=deadline)
        optimal = proven(search.best_value, lower)
    if search.best_plan is None:
        return _no_plan(
            instance.n,
            started,
            "heuristic" if pairs > exact_size_limit else "milp+heuristic",
            f"no feasible plan found within {time_limit_s:g} s "
            "(not proven infeasible); allow more time or soften the constraints",
        )
    value = search.best_value
    lower = value if optimal else min(lower, value)
    gap = (value - lower) / max(abs(value), 1e-9)
    return AssignmentResult(
        assignment=_frozen(search.best_plan),
        objective=sign * value,
        feasible=True,
        optimal=optimal,
        bound=sign * lower,
        seconds=time.monotonic() - started,
        method=search.best_source,
        gap=0.0 if optimal else float(gap),
        reason="" if optimal else f"not proven optimal: within {gap:.3%} of the best bound",
    )


def _instance(problem: AssignmentProblem, *, prune: bool = True) -> tuple[Instance, str]:
    """The minimisation form of ``problem`` and a contradiction in its locks ('' if none).

    Every capacity-like input becomes a (g, k) cell array; with ``prune``, pairs whose job
    alone outweighs a cell's whole ceiling are removed.
    """
    m, n = problem.cost.shape
    weight = problem.weight if problem.weight.ndim == 3 else problem.weight[:, :, None]
    resources = weight.shape[2]
    group = np.arange(m, dtype=np.int64) if problem.group is None else problem.group
    capacity = _as_cells(problem.capacity, resources)
    soft = problem.overload_cost is not None
    if soft:
        price = np.broadcast_to(
            _as_cells(np.asarray(problem.overload_cost, dtype=np.float64), resources),
            capacity.shape,
        ).astype(np.float64)
        ceiling = (
            np.full_like(capacity, np.inf)
            if problem.limit is None
            else _as_cells(problem.limit, resources)
        )
    else:
        price, ceiling = np.zeros_like(capacity), capacity
    allowed = np.ones((m, n), dtype=np.bool_)
    if problem.forbidden is not None:
        allowed &= ~problem.forbidden
    conflict = ""
    if problem.fixed is not None:
        locked = np.flatnonzero(problem.fixed >= 0)
        agents = problem.fixed[locked]
        barred = locked[~allowed[agents, locked]]
        if barred.size:
            j = int(barred[0])
            conflict = f"job {j} is fixed to agent {int(problem.fixed[j])}, which is forbidden"
        allowed[:, locked] = False
        allowed[agents, locked] = True
    if prune and np.isfinite(ceiling).any():
        # A job heavier than a cell's whole ceiling can never go to that cell's agents.
        room = ceiling[group] * (1 + 1e-9) + 1e-9
        allowed &= (weight <= room[:, None, :]).all(axis=2)
    cost = -problem.cost if problem.maximize else problem.cost
    instance = Instance(
        cost=np.asarray(cost, dtype=np.float64),
        weight=np.ascontiguousarray(weight, dtype=np.float64),
        group=np.asarray(group, dtype=np.int64),
        capacity=capacity,
        price=price,
        ceiling=ceiling,
        allowed=allowed,
        current=problem.current,
        max_moves=problem.max_moves,
        soft=soft,
    )
    return instance, conflict


def _check_cells(
    name: str, values: FloatArray, groups: int, resources: int, *, scalar: bool = False
) -> None:
    """Raise unless ``values`` has one entry per group, or per group and resource."""
    if values.shape not in ((groups,), (groups, resources)):
        number = "a number, " if scalar else ""
        raise ValueError(
            f"{name} has shape {values.shape}, expected {number}({groups},) or "
            f"({groups}, {resources})"
        )


def _as_cells(values: FloatArray, resources: int) -> FloatArray:
    """A (g,) or (g, k) array (or a number, taken as one column) as a (g, k) array."""
    cells = np.asarray(values, dtype=np.float64)
    if cells.ndim == 0:
        return cells.reshape(1, 1)
    if cells.ndim == 1:
        cells = np.repeat(cells[:, None], resources, axis=1)
    return np.ascontiguousarray(cells)


def _no_plan(n: int, started: float, method: Method, reason: str) -> AssignmentResult:
    return AssignmentResult(
        assignment=_frozen(np.full(n, -1, dtype=np.int64)),
        objective=math.nan,
        feasible=False,
        optimal=False,
        bound=None,
        seconds=time.monotonic() - started,
        method=method,
        gap=None,
        reason=reason,
    )


def _frozen(array: _Array) -> _Array:
    """A read-only copy, so that a frozen problem or result cannot change under its user."""
    frozen = array.copy()
    frozen.setflags(write=False)
    return frozen
