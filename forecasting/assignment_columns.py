"""Column generation and randomized dives for the plain generalized assignment problem.

A *column* is one agent's whole share of the jobs (a subset that fits its capacity). The
set-partitioning LP over all columns bounds GAP far tighter than the compact LP that HiGHS
branches on (Chu & Beasley d20100: 6,176 against 6,142, optimum 6,185) and its solution points
at good plans. Columns are priced by one 0-1 knapsack per agent (dynamic programming over the
integral capacities, all agents at once); the restricted master LP is HiGHS through
``linprog``. Subgradient steps on the same Lagrangian start the prices near the optimum, so the
first master LP is already close (each master is a cold solve: scipy's HiGHS takes no warm
start).

A dive fixes the jobs the LP (nearly) assigns whole plus one of the most-assigned fractional
jobs, re-prices a few rounds and repeats until every job is fixed; a fix that leaves the LP no
solution is undone and the pair banned. The first dive takes the most-assigned job, later ones
pick at random among the three most-assigned, and every finished dive hands its plan to the
local search. Used by the exact schedule (``assignment_strategy``) where it applies
(``applicable``): one resource, every agent its own group, hard integral capacities, no move
budget. Pure numpy + scipy; never imports ``bot``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csc_matrix

from forecasting.assignment_instance import BoolArray, FloatArray, Instance, IntArray
from forecasting.assignment_search import LocalSearch

# Knapsack tables hold one boolean per (job, agent, unit of capacity); larger problems skip
# column generation.
MAX_TABLE_CELLS = 20_000_000
# Subgradient steps before the first master LP; the step halves after this many steps without
# a better bound. Columns kept per agent from those steps: the lowest reduced costs.
SUBGRADIENT_STEPS = 150
SUBGRADIENT_PATIENCE = 20
KEEP_PER_AGENT = 8
# Wentges smoothing: columns are priced at this mix of the best prices so far and the master's
# duals (about half the master solves on type D).
SMOOTHING = 0.7
# The root stops once its LP is this close to the Lagrangian bound (a dive needs a good LP
# solution, not a proof); each dive step re-prices at most DIVE_ROUNDS times.
ROOT_TOLERANCE = 3e-4
DIVE_ROUNDS = 3
# A job the LP gives this share of to one agent is fixed there; the dive also fixes one more
# job, drawn among the PICKS most-assigned fractional ones (the first dive takes the top one).
WHOLE = 0.9
PICKS = 3
MAX_BACKTRACKS = 30
# Each dive's plan is polished by the local search for this long.
POLISH_S = 0.3
_EPS = 1e-9


def applicable(instance: Instance) -> bool:
    """Whether ``instance`` is a plain GAP the knapsack pricing can handle."""
    if instance.k != 1 or not instance.own_groups or instance.priced:
        return False
    if instance.max_moves is not None:
        return False
    capacity = instance.ceiling[:, 0]
    if not np.all(np.isfinite(capacity)) or np.any(capacity < 0):
        return False
    weight = instance.weight[:, :, 0][instance.allowed]
    if np.any(np.mod(weight, 1.0) != 0.0) or np.any(np.mod(capacity, 1.0) != 0.0):
        return False  # the knapsack tables count whole units of capacity
    cells = instance.m * instance.n * (float(capacity.max(initial=0.0)) + 1.0)
    return cells <= MAX_TABLE_CELLS


def dive_for_plans(
    instance: Instance,
    search: LocalSearch,
    *,
    root_deadline: float,
    deadline: float,
    stop: Callable[[], bool] = lambda: False,
) -> float:
    """Price the root LP (until ``root_deadline``), then dive until ``deadline``.

    Every finished dive's plan goes to ``search`` (``consider``) and is polished by it. Diving
    ends early when ``stop()`` says so or the best plan meets the bound (it is optimal).

    Args:
        instance: an ``applicable`` problem.
        search: the local search; its best plan (required) seeds the columns.
        root_deadline: ``time.monotonic()`` value by which the root LP must be priced, or
            the dives are skipped.
        deadline: ``time.monotonic()`` value at which to stop diving.
        stop: checked before each dive (e.g. "the MILP has proven its plan optimal").

    Returns:
        A valid lower bound on every plan's cost (-inf when none was found).
    """
    start = search.best_plan
    if start is None:
        return -np.inf
    try:
        return _price_and_dive(instance, search, start, root_deadline, deadline, stop)
    except _MasterFailed:
        return -np.inf  # a heuristic and a bound lost; the schedule goes on without them


def _price_and_dive(
    instance: Instance,
    search: LocalSearch,
    start: IntArray,
    root_deadline: float,
    deadline: float,
    stop: Callable[[], bool],
) -> float:
    """``dive_for_plans`` once a start plan is known (a failed master LP raises)."""
    pool = _Columns(instance)
    prices, bound = _subgradient(pool, search.best_value, root_deadline)
    pool = pool.purged(prices, keep=start)
    root, bound, converged = _generate(pool, prices, bound, root_deadline, tolerance=ROOT_TOLERANCE)
    if not converged or root.uncovered > _EPS:
        return bound
    rng = np.random.default_rng(int(search.rng.integers(2**62)))  # the caller's seed decides
    first = True
    floor = np.ceil(bound - 1e-6) if instance.integral_objective else bound
    while time.monotonic() < deadline and not stop():
        if search.best_value <= floor + _EPS * max(1.0, abs(floor)):
            break  # the best plan meets the bound: no dive can beat it
        plan = _dive(pool, root, rng if not first else None, deadline)
        first = False
        if plan is None or not instance.is_feasible(plan):
            continue
        search.consider(plan, "columns")
        search.run(plan, deadline=min(deadline, time.monotonic() + POLISH_S), patience=200)
    return bound


class _MasterFailed(RuntimeError):
    """HiGHS could not solve a master LP (column generation then stops, nothing else does)."""


@dataclass(frozen=True)
class _Master:
    """The restricted master LP's solution over the admissible columns."""

    value: float
    duals: FloatArray  # (n,) price of covering each job
    agent_duals: FloatArray  # (m,) price of each agent's one-column row (<= 0)
    pairs: FloatArray  # (m, n) LP weight of every (agent, job) pair
    uncovered: float  # total weight on the artificial "nobody" columns


class _Columns:
    """The column pool, the knapsack pricing and the master LP, under the dive's fixes."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.m, self.n = instance.m, instance.n
        self.cost = instance.cost
        self.weight = np.rint(instance.weight[:, :, 0]).astype(np.int64)
        self.capacity = np.rint(instance.ceiling[:, 0]).astype(np.int64)
        self.allowed = instance.allowed
        # Uncovering a job costs more than any plan, so the LP covers with columns when it can.
        self.big = 1.0 + float(np.abs(self.cost).max(initial=0.0)) * (self.n + 1)
        self.agent: list[int] = []
        self.entry_col: list[IntArray] = []
        self.entry_job: list[IntArray] = []
        self.col_cost: list[float] = []
        self.seen: set[bytes] = set()
        self.forced: IntArray = np.full(self.n, -1, dtype=np.int64)
        self.banned: BoolArray = np.zeros((self.m, self.n), dtype=np.bool_)

    def add(self, agent: int, jobs: IntArray) -> bool:
        """Add the column (agent, jobs) unless the pool has it; whether it was new."""
        key = np.int64(agent).tobytes() + np.sort(jobs).astype(np.int64).tobytes()
        if key in self.seen:
            return False
        self.seen.add(key)
        self.entry_col.append(np.full(jobs.size, len(self.agent), dtype=np.int64))
        self.entry_job.append(jobs.astype(np.int64))
        self.agent.append(agent)
        self.col_cost.append(float(self.cost[agent, jobs].sum()))
        return True

    def add_plan(self, plan: IntArray) -> None:
        """Every agent's share of ``plan`` as a column."""
        for agent in range(self.m):
            self.add(agent, np.flatnonzero(plan == agent))

    def purged(self, prices: FloatArray, *, keep: IntArray) -> _Columns:
        """A pool of ``keep``'s columns plus each agent's ``KEEP_PER_AGENT`` columns of lowest
        reduced cost at ``prices`` (small masters solve faster)."""
        fresh = _Columns(self.instance)
        fresh.add_plan(keep)
        agents = np.asarray(self.agent, dtype=np.int64)
        if agents.size == 0:
            return fresh
        cols = np.concatenate(self.entry_col)
        jobs = np.concatenate(self.entry_job)
        reduced = np.asarray(self.col_cost) - np.bincount(cols, prices[jobs], minlength=agents.size)
        order = np.lexsort((reduced, agents))
        first = np.searchsorted(agents[order], agents[order])
        rank = np.empty(agents.size, dtype=np.int64)
        rank[order] = np.arange(agents.size) - first
        for column in np.flatnonzero(rank < KEEP_PER_AGENT):
            fresh.add(int(agents[column]), self.entry_job[column])
        return fresh

    def usable(self) -> BoolArray:
        """(m, n) pairs a column may hold under the current fixes and bans."""
        fixed_here = self.forced[None, :] == np.arange(self.m)[:, None]
        usable: BoolArray = self.allowed & ~self.banned & ((self.forced[None, :] < 0) | fixed_here)
        return usable

    def master(self) -> _Master:
        """Solve the LP over the columns that respect the fixes, plus one artificial per job."""
        cols = np.concatenate(self.entry_col) if self.entry_col else np.zeros(0, np.int64)
        jobs = np.concatenate(self.entry_job) if self.entry_job else np.zeros(0, np.int64)
        agents = np.asarray(self.agent, dtype=np.int64)
        total = agents.size
        owner = agents[cols]
        bad = np.bincount(cols, ~self.usable()[owner, jobs], minlength=total)
        fixed_here = self.forced[jobs] == owner
        held = np.bincount(cols, fixed_here, minlength=total)
        needed = np.bincount(self.forced[self.forced >= 0], minlength=self.m)
        live = np.flatnonzero((bad == 0) & (held == needed[agents]))
        index = np.full(total, -1, dtype=np.int64)
        index[live] = np.arange(live.size)
        keep = index[cols] >= 0
        width = live.size + self.n
        rows = np.concatenate([jobs[keep], np.arange(self.n)])
        columns = np.concatenate([index[cols[keep]], live.size + np.arange(self.n)])
        cover = csc_matrix((np.ones(rows.size), (rows, columns)), shape=(self.n, width))
        once = csc_matrix(
            (np.ones(live.size), (agents[live], np.arange(live.size))), shape=(self.m, width)
        )
        objective = np.concatenate([np.asarray(self.col_cost)[live], np.full(self.n, self.big)])
        result = linprog(
            objective,
            A_ub=once,
            b_ub=np.ones(self.m),
            A_eq=cover,
            b_eq=np.ones(self.n),
            bounds=(0, None),
            method="highs",
        )
        if result.status != 0:  # it always has a bounded solution (artificials); numerics aside
            raise _MasterFailed(result.message)
        weights = result.x[: live.size]
        entry_weight = np.where(keep, weights[np.maximum(index[cols], 0)], 0.0)
        flat = np.bincount(owner * self.n + jobs, entry_weight, minlength=self.m * self.n)
        pairs: FloatArray = flat.astype(np.float64).reshape(self.m, self.n)
        return _Master(
            value=float(result.fun),
            duals=np.asarray(result.eqlin.marginals, dtype=np.float64),
            agent_duals=np.asarray(result.ineqlin.marginals, dtype=np.float64),
            pairs=pairs,
            uncovered=float(result.x[live.size :].sum()),
        )

    def price(self, duals: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Each agent's best column at ``duals``: (gain over its cost, (m, n) chosen jobs).

        Jobs fixed to an agent get an overwhelming gain there (so its column holds them when
        they fit); jobs it may not hold get none.
        """
        usable = self.usable()
        gain = np.where(usable, duals[None, :] - self.cost, 0.0)
        fixed_here = self.forced[None, :] == np.arange(self.m)[:, None]
        return _knapsacks(np.where(fixed_here, self.big, gain), self.weight, self.capacity)


def _subgradient(pool: _Columns, upper: float, deadline: float) -> tuple[FloatArray, float]:
    """Near-optimal job prices by subgradient steps on the Lagrangian; (prices, best bound).

    Each step prices every agent's best column (which joins the pool) and moves each job's
    price by how often it is left out (up) or covered twice (down), with Polyak's step towards
    ``upper``: far cheaper per step than a master LP.
    """
    cheapest = np.where(pool.allowed, pool.cost, np.inf).min(axis=0, initial=np.inf)
    prices: FloatArray = np.where(np.isfinite(cheapest), cheapest, 0.0)
    best, best_prices = -np.inf, prices.copy()
    factor, stalled = 2.0, 0
    for _ in range(SUBGRADIENT_STEPS):
        if time.monotonic() >= deadline:
            break
        gains, chosen = pool.price(prices)
        value = _lagrangian(pool, prices, gains)
        for agent in np.flatnonzero(gains > 0):
            pool.add(int(agent), np.flatnonzero(chosen[agent]))
        if value > best + _EPS * max(1.0, abs(value)):
            best, best_prices, stalled = value, prices.copy(), 0
        else:
            stalled += 1
            if stalled >= SUBGRADIENT_PATIENCE:
                factor, stalled = factor / 2.0, 0
        direction = 1.0 - (chosen & (gains > 0)[:, None]).sum(axis=0)
        norm = float(direction @ direction)
        if norm == 0.0 or upper - value <= _EPS * max(1.0, abs(upper)):
            break  # every job covered once: nothing left to price
        prices = prices + factor * (upper - value) / norm * direction
    return best_prices, best


def _lagrangian(pool: _Columns, prices: FloatArray, gains: FloatArray) -> float:
    """The Lagrangian bound at ``prices`` given each agent's best column gain.

    An agent with jobs fixed to it must take a column (its gain includes ``big`` per fixed
    job); any other may take none.
    """
    fixed = np.bincount(pool.forced[pool.forced >= 0], minlength=pool.m)
    net = gains - pool.big * fixed
    return float(prices.sum() - np.where(fixed > 0, net, np.maximum(net, 0.0)).sum())


def _generate(
    pool: _Columns,
    centre: FloatArray,
    bound: float,
    deadline: float,
    *,
    tolerance: float = 0.0,
    rounds: int | None = None,
) -> tuple[_Master, float, bool]:
    """Add columns until none prices out, the LP is within ``tolerance`` of the bound, or
    ``rounds`` master solves were made; (master, best Lagrangian bound, before the deadline).

    Prices are smoothed towards ``centre`` (the best prices so far); a smoothed price that
    finds no column is retried at the master's own duals.
    """
    solves = 0
    while True:
        master = pool.master()
        solves += 1
        gap = master.value - bound
        if master.uncovered <= _EPS and gap <= tolerance * abs(master.value):
            return master, bound, True
        if time.monotonic() >= deadline:
            return master, bound, False
        if rounds is not None and solves >= rounds:
            return master, bound, True
        added = False
        for prices in (SMOOTHING * centre + (1.0 - SMOOTHING) * master.duals, master.duals):
            gains, chosen = pool.price(prices)
            value = _lagrangian(pool, prices, gains)
            if value > bound:
                bound, centre = value, prices
            reduced = (chosen * (pool.cost - master.duals[None, :])).sum(axis=1)
            reduced -= master.agent_duals
            for agent in np.flatnonzero(reduced < -_EPS * max(1.0, abs(master.value))):
                added |= pool.add(int(agent), np.flatnonzero(chosen[agent]))
            if added:
                break
        if not added:
            return master, max(bound, master.value), True


def _dive(
    pool: _Columns, root: _Master, rng: np.random.Generator | None, deadline: float
) -> IntArray | None:
    """One dive from the root LP to a plan (every job fixed), or None."""
    pool.forced[:] = -1
    pool.banned[:] = False
    master, backtracks = root, 0
    while np.any(pool.forced < 0):
        before = pool.forced.copy()
        pick = _fix(pool, master.pairs, rng)
        master, _, in_time = _generate(pool, master.duals, -np.inf, deadline, rounds=DIVE_ROUNDS)
        if not in_time:
            return None
        if master.uncovered > _EPS:
            backtracks += 1
            pool.forced = before
            if pick is None or backtracks > MAX_BACKTRACKS:
                return None
            pool.banned[pick] = True
            master, _, in_time = _generate(
                pool, master.duals, -np.inf, deadline, rounds=DIVE_ROUNDS
            )
            if not in_time or master.uncovered > _EPS:
                return None
    return pool.forced.copy()


def _fix(
    pool: _Columns, pairs: FloatArray, rng: np.random.Generator | None
) -> tuple[int, int] | None:
    """Fix the free jobs the LP gives one agent at least ``WHOLE`` of, and one more among the
    most-assigned others (the top one without ``rng``); that pick, or None."""
    free = pool.forced < 0
    agent = pairs.argmax(axis=0)
    share = pairs.max(axis=0)
    whole = free & (share >= WHOLE)
    pool.forced[whole] = agent[whole]
    split = np.flatnonzero(free & ~whole)
    if split.size == 0:
        return None
    ranked = split[np.argsort(-share[split], kind="stable")]
    job = int(ranked[0] if rng is None else rng.choice(ranked[:PICKS]))
    pool.forced[job] = agent[job]
    return int(agent[job]), job


def _knapsacks(
    gain: FloatArray, weight: IntArray, capacity: IntArray
) -> tuple[FloatArray, BoolArray]:
    """Per agent, the subset of jobs with the largest total gain that fits its capacity.

    Only jobs with a positive gain are ever taken. One dynamic program per agent, run for
    all agents at once job by job; the choices are kept to trace the best subsets back.

    Returns:
        ((m,) best total gain, (m, n) chosen jobs).
    """
    m, n = gain.shape
    width = int(capacity.max(initial=0)) + 1
    best = np.zeros((m, width))
    took = np.zeros((n, m, width), dtype=np.bool_)
    rows = np.arange(m)[:, None]
    room = np.arange(width)[None, :]
    for job in np.flatnonzero((gain > 0).any(axis=0)):
        value = gain[:, job, None]
        source = room - weight[:, job, None]
        candidate = np.where(
            (source >= 0) & (value > 0), best[rows, np.maximum(source, 0)] + value, -np.inf
        )
        took[job] = candidate > best
        np.maximum(best, candidate, out=best)
    agents = np.arange(m)
    left = capacity.copy()
    chosen = np.zeros((m, n), dtype=np.bool_)
    for back in range(n - 1, -1, -1):
        taken = took[back, agents, left]
        chosen[:, back] = taken
        left -= weight[:, back] * taken
    return best[agents, capacity], chosen
