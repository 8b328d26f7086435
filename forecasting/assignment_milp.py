"""The assignment problem (or a part of it) as a mixed-integer program solved by HiGHS.

Uses only ``scipy.optimize.milp``; pure, no ``bot`` imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from forecasting.assignment_instance import BoolArray, FloatArray, Instance, IntArray

MilpStatus = Literal["optimal", "infeasible", "stopped", "failed"]

# HiGHS stops when (incumbent - bound) / |incumbent| falls below this; with integer costs it
# also stops as soon as the bound rounds up to the incumbent.
MIP_REL_GAP = 1e-6


@dataclass(frozen=True, eq=False)
class MilpOutcome:
    """What one HiGHS run returned.

    Attributes:
        plan: (n,) agent per job (jobs outside the freed set keep the incumbent's agent), or
            None when HiGHS found no plan.
        status: "optimal" (proven for the model solved), "infeasible" (proven), "stopped"
            (time limit) or "failed".
        bound: lower bound on the model's objective in the instance's units, when known.
    """

    plan: IntArray | None
    status: MilpStatus
    bound: float | None


def solve_milp(
    instance: Instance,
    *,
    keep: BoolArray,
    time_limit: float,
    incumbent: IntArray | None = None,
    free: BoolArray | None = None,
) -> MilpOutcome:
    """Solve the assignment MILP over the kept pairs, optionally only re-deciding some jobs.

    The model: a binary x per kept (agent, job) pair, one row per job (exactly one agent),
    one row per cell (group, resource) — ``load <= ceiling``, or where overload is priced
    ``load - overload <= capacity`` with a continuous ``0 <= overload <= ceiling - capacity``
    paid at the cell's price — and, with a move budget, one row counting the jobs that stay.

    HiGHS through scipy takes no starting solution, so a feasible ``incumbent`` is handed over
    by complementing its variables (x' = 1 - x on its pairs, overload shifted by its own):
    the incumbent becomes the all-zero point, which HiGHS tries first, so the search starts
    with it as the solution to beat and its sub-MIP heuristics work around it.

    Args:
        instance: the problem in minimisation form.
        keep: (m, n) pairs the model may use (the incumbent's pairs are always added).
        time_limit: seconds HiGHS may run.
        incumbent: a plan to start from; required when ``free`` is given.
        free: (n,) jobs to re-decide; the others stay where ``incumbent`` puts them.

    Returns:
        The plan, the status and the bound HiGHS reported.
    """
    n, resources = instance.n, instance.k
    jobs_all = np.arange(n)
    free_mask = np.ones(n, dtype=bool) if free is None else free
    if free is not None and incumbent is None:
        raise ValueError("freeing only some jobs needs an incumbent plan")
    pairs = keep & instance.allowed & free_mask[None, :]
    if incumbent is not None:
        pairs[incumbent[free_mask], jobs_all[free_mask]] = True
    agent_of, job_of = np.nonzero(pairs)
    nx = agent_of.size
    free_jobs = np.flatnonzero(free_mask)
    row_of_job = np.full(n, -1)
    row_of_job[free_jobs] = np.arange(free_jobs.size)

    settled = ~free_mask
    base_load = np.zeros_like(instance.capacity)
    constant = 0.0
    if incumbent is not None and settled.any():
        fixed_jobs = np.flatnonzero(settled)
        held = incumbent[fixed_jobs]
        base_load = instance.cell_loads(held, instance.weight[held, fixed_jobs])
        constant += float(instance.cost[held, fixed_jobs].sum())

    # One row per cell (group, resource): load - overload <= capacity where overload is
    # priced (overload <= ceiling - capacity then keeps the ceiling), load <= ceiling where it
    # is not; cells with neither (soft, unpriced, no limit) need no row.
    capacity, ceiling = instance.capacity, instance.ceiling
    priced = (instance.price > 0.0) & (ceiling > capacity)
    rhs = np.where(priced, capacity, ceiling).ravel()
    cells = np.flatnonzero(np.isfinite(rhs))
    row_of_cell = np.full(rhs.size, -1)
    row_of_cell[cells] = free_jobs.size + np.arange(cells.size)

    # Incumbent as the origin: only when it satisfies this model's hard rows.
    warm = np.zeros(nx)
    if incumbent is not None and instance.is_feasible(incumbent):
        warm = (incumbent[job_of] == agent_of).astype(np.float64)
    flip = 1.0 - 2.0 * warm

    cost = instance.cost[agent_of, job_of]
    weight = instance.weight[agent_of, job_of]  # (nx, k)
    cell_of = instance.group[agent_of][:, None] * resources + np.arange(resources)
    entry = (row_of_cell[cell_of] >= 0) & (weight != 0.0)
    pair_of = np.broadcast_to(np.arange(nx)[:, None], entry.shape)[entry]
    cell_weight = weight[entry]
    rows: list[IntArray] = [row_of_job[job_of], row_of_cell[cell_of[entry]]]
    cols: list[IntArray] = [np.arange(nx), pair_of]
    vals: list[FloatArray] = [flip, cell_weight * flip[pair_of]]
    nrows = free_jobs.size + cells.size
    lower: list[FloatArray] = [np.ones(free_jobs.size), np.full(cells.size, -np.inf)]
    upper: list[FloatArray] = [np.ones(free_jobs.size), rhs[cells] - base_load.ravel()[cells]]
    # Rows written in complemented variables: a row's bounds move by the incumbent's share.
    warm_load = np.bincount(
        cell_of[entry], weights=cell_weight * warm[pair_of], minlength=rhs.size
    ).astype(float)
    shift_rows: list[FloatArray] = [
        np.bincount(row_of_job[job_of], weights=warm, minlength=free_jobs.size).astype(float),
        warm_load[cells],
    ]
    objective: list[FloatArray] = [cost * flip]
    constant += float(cost @ warm)
    var_lower: list[FloatArray] = [np.zeros(nx)]
    var_upper: list[FloatArray] = [np.ones(nx)]
    integrality: list[FloatArray] = [np.ones(nx)]

    over_cells = np.flatnonzero(priced.ravel())
    if over_cells.size:
        # One continuous overload variable per priced cell, paid at the cell's price.
        count = over_cells.size
        start = np.zeros(count)
        if warm.any():
            assert incumbent is not None
            excess = instance.loads(incumbent) - capacity
            start = np.maximum(excess.ravel()[over_cells], 0.0)
        rows.append(row_of_cell[over_cells])
        cols.append(nx + np.arange(count))
        vals.append(-np.ones(count))
        shift_rows[1][row_of_cell[over_cells] - free_jobs.size] -= start
        price = instance.price.ravel()[over_cells]
        objective.append(price)
        constant += float(price @ start)
        var_lower.append(-start)
        var_upper.append((ceiling - capacity).ravel()[over_cells] - start)
        integrality.append(np.zeros(count))

    nvars = nx + over_cells.size
    if instance.max_moves is not None and instance.current is not None:
        # Moves budget as "enough jobs stay": sum of x on (current agent, job) pairs of the
        # freed jobs >= freed jobs with a current agent - moves still allowed.
        current = instance.current
        stays = (current[job_of] == agent_of) & (current[job_of] >= 0)
        counted = int(np.count_nonzero(current[free_jobs] >= 0))
        moved_elsewhere = 0
        if incumbent is not None and settled.any():
            moved_elsewhere = int(
                np.count_nonzero(settled & (current >= 0) & (incumbent != current))
            )
        budget = instance.max_moves - moved_elsewhere
        idx = np.flatnonzero(stays)
        rows.append(np.full(idx.size, nrows))
        cols.append(idx)
        vals.append(flip[idx])
        shift_rows.append(np.array([float(warm[idx].sum())]))
        lower.append(np.array([float(counted - budget)]))
        upper.append(np.array([np.inf]))
        nrows += 1

    matrix = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(nrows, nvars),
    )
    shift = np.concatenate(shift_rows)
    result = milp(
        np.concatenate(objective),
        integrality=np.concatenate(integrality),
        bounds=Bounds(np.concatenate(var_lower), np.concatenate(var_upper)),
        constraints=LinearConstraint(
            matrix, np.concatenate(lower) - shift, np.concatenate(upper) - shift
        ),
        options={"time_limit": max(time_limit, 1e-3), "disp": False, "mip_rel_gap": MIP_REL_GAP},
    )
    status: MilpStatus
    if result.status == 0:
        status = "optimal"
    elif result.status == 2:
        status = "infeasible"
    elif result.status == 1:
        status = "stopped"
    else:
        status = "failed"
    bound = getattr(result, "mip_dual_bound", None)
    bound_value = None if bound is None or not np.isfinite(bound) else constant + float(bound)
    if result.x is None:
        return MilpOutcome(plan=None, status=status, bound=bound_value)
    chosen = np.where(warm > 0.5, 1.0 - result.x[:nx], result.x[:nx]) > 0.5
    plan = np.full(n, -1, dtype=np.int64) if incumbent is None else incumbent.copy()
    plan[job_of[chosen]] = agent_of[chosen]
    if free_jobs.size and bool(np.any(plan[free_jobs] < 0)):
        return MilpOutcome(plan=None, status="failed", bound=bound_value)
    return MilpOutcome(plan=plan, status=status, bound=bound_value)


def objective_floor(bound: float, integral: bool) -> float:
    """A lower bound tightened to the next integer when every objective value is an integer."""
    if integral:
        return float(np.ceil(bound - 1e-6))
    return bound
