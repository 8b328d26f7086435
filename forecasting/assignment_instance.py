"""The assignment problem in one internal, minimising form, with plan evaluation and checks.

Shared by the bound, the MILP and the local search; pure numpy, imports nothing from ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
# Where a plan came from: the local search, a MILP over the whole problem, a MILP that started
# from (and improved) a plan of the local search, or a dive on the column-generation LP.
Method = Literal["milp", "heuristic", "milp+heuristic", "columns"]

# Loads are sums of user-given floats; a plan is within capacity up to this relative slack so
# that a plan the MILP certifies is not rejected for rounding in its last digits.
CAPACITY_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class Instance:
    """Minimisation form of an assignment problem (profits already negated).

    Capacity is kept per *cell* (group g, resource k). Every cell has a ``ceiling`` its load
    may not exceed (the capacity itself when capacity is hard, the limit or +inf when it is
    soft) and a ``price`` per unit of load above ``capacity`` (0 when capacity is hard), so
    hard and soft capacity, limits and per-cell prices are one model:

        objective = sum_j cost[plan_j, j] + sum_{g,k} price[g,k] * max(load[g,k] - capacity[g,k], 0)
        load[g,k] <= ceiling[g,k] for every cell

    Attributes:
        cost: (m, n) cost of giving job j to agent i.
        weight: (m, n, k) amount of resource k job j uses at agent i (>= 0).
        group: (m,) capacity group of each agent.
        capacity: (g, k) load above which a cell's load is charged ``price``.
        price: (g, k) charge per unit above capacity (0 everywhere when capacity is hard).
        ceiling: (g, k) hard bound on each cell's load (+inf for none).
        allowed: (m, n) pairs a plan may use (forbidden pairs, fixed jobs and jobs heavier than
            a cell's whole ceiling are already removed).
        current: (n,) today's agent per job, -1 for none; None when moves are not counted.
        max_moves: cap on jobs that leave their current agent, or None.
        soft: whether capacity was given as soft (overload priced, ceilings are limits).
    """

    cost: FloatArray
    weight: FloatArray
    group: IntArray
    capacity: FloatArray
    price: FloatArray
    ceiling: FloatArray
    allowed: BoolArray
    current: IntArray | None
    max_moves: int | None
    soft: bool

    @property
    def m(self) -> int:
        """Number of agents."""
        return int(self.cost.shape[0])

    @property
    def n(self) -> int:
        """Number of jobs."""
        return int(self.cost.shape[1])

    @property
    def g(self) -> int:
        """Number of capacity groups."""
        return int(self.capacity.shape[0])

    @property
    def k(self) -> int:
        """Number of resources (weeks) per group."""
        return int(self.capacity.shape[1])

    @cached_property
    def own_groups(self) -> bool:
        """Whether every agent is its own group (plain GAP: no capacity is shared)."""
        return self.g == self.m and bool(np.array_equal(self.group, np.arange(self.m)))

    @cached_property
    def priced(self) -> bool:
        """Whether any cell charges for overload."""
        return bool(np.any(self.price > 0.0))

    @cached_property
    def bounded(self) -> bool:
        """Whether any cell has a finite ceiling (a hard capacity or a limit)."""
        return bool(np.any(np.isfinite(self.ceiling)))

    @cached_property
    def integral_objective(self) -> bool:
        """Whether every plan's objective is an integer, so that bounds may be rounded up."""
        if not np.all(np.mod(self.cost[self.allowed], 1.0) == 0.0):
            return False
        if not self.priced:
            return True
        integral = (self.weight[self.allowed], self.capacity, self.price)
        return all(bool(np.all(np.mod(values, 1.0) == 0.0)) for values in integral)

    def price_weight(self, prices: FloatArray) -> FloatArray:
        """(m, n) sum over resources of ``prices`` (g, k) at agent i's group times weight."""
        at_agent = prices if self.own_groups else prices[self.group]
        if self.k == 1:
            return at_agent[:, 0][:, None] * self.weight[:, :, 0]
        priced: FloatArray = np.einsum("ijk,ik->ij", self.weight, at_agent)
        return priced

    def cell_loads(self, agents: IntArray, weights: FloatArray) -> FloatArray:
        """(g, k) load when jobs sit at ``agents`` (p,) using ``weights`` (p, k)."""
        groups = agents if self.own_groups else self.group[agents]
        if self.k == 1:
            load = np.bincount(groups, weights=weights[:, 0], minlength=self.g)
            return load.astype(np.float64, copy=False)[:, None]
        cells = (groups[:, None] * self.k + np.arange(self.k)).ravel()
        flat = np.bincount(cells, weights=weights.ravel(), minlength=self.g * self.k)
        return flat.astype(np.float64, copy=False).reshape(self.g, self.k)

    def loads(self, plan: IntArray) -> FloatArray:
        """(g, k) load per cell under ``plan``."""
        return self.cell_loads(plan, self.weight[plan, np.arange(self.n)])

    def slack(self) -> FloatArray:
        """(g, k) tolerance below which a load above capacity counts as rounding, not overload."""
        return CAPACITY_TOLERANCE * np.maximum(1.0, np.abs(self.capacity))

    def ceiling_slack(self) -> FloatArray:
        """(g, k) the same tolerance for ceilings (+inf where there is no ceiling)."""
        return CAPACITY_TOLERANCE * np.maximum(1.0, np.abs(self.ceiling))

    def overload(self, plan: IntArray) -> FloatArray:
        """(g, k) load above capacity under ``plan`` (0 where within capacity)."""
        excess = self.loads(plan) - self.capacity
        return np.where(excess > self.slack(), excess, 0.0)

    def moves(self, plan: IntArray) -> int:
        """Jobs whose agent differs from their current one (0 when moves are not counted)."""
        if self.current is None:
            return 0
        return int(np.count_nonzero((self.current >= 0) & (plan != self.current)))

    def objective(self, plan: IntArray) -> float:
        """Cost of ``plan`` plus its overload charge."""
        total = float(self.cost[plan, np.arange(self.n)].sum())
        if self.priced:
            total += float((self.price * self.overload(plan)).sum())
        return total

    def is_feasible(self, plan: IntArray) -> bool:
        """Whether ``plan`` satisfies every hard constraint."""
        return not self.violations(plan)

    def violations(self, plan: IntArray) -> list[str]:
        """Each hard constraint ``plan`` breaks, in words (empty when feasible)."""
        problems: list[str] = []
        if plan.shape != (self.n,):
            return [f"plan has shape {plan.shape}, expected ({self.n},)"]
        outside = np.flatnonzero((plan < 0) | (plan >= self.m))
        if outside.size:
            return [f"job {int(outside[0])} has no agent"]
        jobs = np.arange(self.n)
        barred = np.flatnonzero(~self.allowed[plan, jobs])
        if barred.size:
            j = int(barred[0])
            problems.append(f"job {j} may not go to agent {int(plan[j])}")
        if self.bounded:
            loads = self.loads(plan)
            over = np.argwhere(loads - self.ceiling > self.ceiling_slack())
            if over.size:
                g, k = (int(v) for v in over[0])
                more = f" (and {len(over) - 1} more)" if len(over) > 1 else ""
                problems.append(
                    f"{self.unit(g)} is loaded {loads[g, k]:g} above its {self.ceiling_word} "
                    f"{self.ceiling[g, k]:g}{self.where(k)}{more}"
                )
        if self.max_moves is not None and self.moves(plan) > self.max_moves:
            problems.append(f"{self.moves(plan)} jobs move but max_moves is {self.max_moves}")
        return problems

    @property
    def ceiling_word(self) -> str:
        """What a cell's ceiling is called in messages."""
        return "limit" if self.soft else "capacity"

    def unit(self, g: int) -> str:
        """A capacity group in messages: 'agent 3' when agents are their own groups."""
        return f"agent {g}" if self.own_groups else f"group {g}"

    def where(self, k: int) -> str:
        """The resource of a cell in messages ('' when there is only one)."""
        return f" in resource {k}" if self.k > 1 else ""

    def infeasibility(self) -> str:
        """Why no plan can exist, found by cheap counting arguments; '' when none applies."""
        if self.n and not self.m:
            return "there are jobs but no agents"
        homeless = np.flatnonzero(~self.allowed.any(axis=0))
        if homeless.size:
            j = int(homeless[0])
            more = f" (and {homeless.size - 1} more)" if homeless.size > 1 else ""
            return f"job {j} fits no agent{more}: every agent is forbidden or lacks the capacity"
        if self.max_moves is not None and self.current is not None:
            stuck = (self.current >= 0) & ~self.allowed[
                np.maximum(self.current, 0), np.arange(self.n)
            ]
            forced = int(np.count_nonzero(stuck))
            if forced > self.max_moves:
                return (
                    f"{forced} jobs must leave their current agent (forbidden or fixed "
                    f"elsewhere) but max_moves is {self.max_moves}"
                )
        if not self.bounded:
            return ""
        return self._ceiling_infeasibility()

    def _ceiling_infeasibility(self) -> str:
        word, slack = self.ceiling_word, self.ceiling_slack()
        negative = np.argwhere(self.ceiling < -slack)
        if negative.size:
            g, k = (int(v) for v in negative[0])
            return f"{self.unit(g)} has a negative {word} ({self.ceiling[g, k]:g}){self.where(k)}"
        if not self.n:
            return ""
        # Jobs whose allowed agents all share one group put at least their lightest weight
        # there (with agents as groups: the jobs that can go to one agent only).
        least = np.where(self.allowed[:, :, None], self.weight, np.inf).min(axis=0)
        home = self.group[np.argmax(self.allowed, axis=0)]
        tied = np.where(self.allowed, self.group[:, None], home[None, :])
        only = np.flatnonzero((tied == home[None, :]).all(axis=0))
        if only.size:
            pinned = self.cell_loads(np.argmax(self.allowed[:, only], axis=0), least[only])
            over = np.argwhere(pinned > self.ceiling + slack)
            if over.size:
                g, k = (int(v) for v in over[0])
                return (
                    f"jobs that can only go to {self.unit(g)} need {pinned[g, k]:g}"
                    f"{self.where(k)} but its {word} is {self.ceiling[g, k]:g}"
                )
        need = least.sum(axis=0)
        have = self.ceiling.sum(axis=0)
        short = np.flatnonzero(need > have + CAPACITY_TOLERANCE * np.maximum(1.0, have))
        if short.size:
            k = int(short[0])
            holders = "agents" if self.own_groups else "groups"
            return (
                f"total weight exceeds total {word}{self.where(k)}: the jobs need at least "
                f"{need[k]:g} and the {holders} have {have[k]:g}"
            )
        return ""
