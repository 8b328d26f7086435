"""The assignment problem in one internal, minimising form, with plan evaluation and checks.

Shared by the bound, the MILP and the local search; pure numpy, imports nothing from ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
# Where a plan came from: the local search, a MILP over the whole problem, or a MILP that
# started from (and improved) a plan of the local search.
Method = Literal["milp", "heuristic", "milp+heuristic"]

# Loads are sums of user-given floats; a plan is within capacity up to this relative slack so
# that a plan the MILP certifies is not rejected for rounding in its last digits.
CAPACITY_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class Instance:
    """Minimisation form of an assignment problem (profits already negated).

    Attributes:
        cost: (m, n) cost of giving job j to agent i.
        weight: (m, n) capacity job j uses at agent i (>= 0).
        capacity: (m,) capacity of each agent.
        allowed: (m, n) pairs a plan may use (forbidden pairs, fixed jobs and, under hard
            capacity, jobs heavier than the agent's whole capacity are already removed).
        current: (n,) today's agent per job, -1 for none; None when moves are not counted.
        max_moves: cap on jobs that leave their current agent, or None.
        overload_cost: price per unit of load above capacity, or None for hard capacity.
    """

    cost: FloatArray
    weight: FloatArray
    capacity: FloatArray
    allowed: BoolArray
    current: IntArray | None
    max_moves: int | None
    overload_cost: float | None

    @property
    def m(self) -> int:
        """Number of agents."""
        return int(self.cost.shape[0])

    @property
    def n(self) -> int:
        """Number of jobs."""
        return int(self.cost.shape[1])

    @property
    def hard_capacity(self) -> bool:
        """Whether capacity is a constraint (True) or priced (False)."""
        return self.overload_cost is None

    @property
    def integral_objective(self) -> bool:
        """Whether every plan's objective is an integer, so that bounds may be rounded up."""
        if not np.all(np.mod(self.cost[self.allowed], 1.0) == 0.0):
            return False
        if self.overload_cost is None:
            return True
        integral_loads = bool(np.all(np.mod(self.weight[self.allowed], 1.0) == 0.0)) and bool(
            np.all(np.mod(self.capacity, 1.0) == 0.0)
        )
        return integral_loads and float(self.overload_cost) % 1.0 == 0.0

    def loads(self, plan: IntArray) -> FloatArray:
        """Load per agent under ``plan``."""
        jobs = np.arange(self.n)
        return np.bincount(plan, weights=self.weight[plan, jobs], minlength=self.m).astype(
            np.float64
        )

    def overload(self, plan: IntArray) -> FloatArray:
        """Load above capacity per agent under ``plan`` (0 where within capacity)."""
        excess = self.loads(plan) - self.capacity
        return np.where(excess > self.slack(), excess, 0.0)

    def slack(self) -> FloatArray:
        """Per-agent tolerance below which an excess load counts as rounding, not overload."""
        return CAPACITY_TOLERANCE * np.maximum(1.0, np.abs(self.capacity))

    def moves(self, plan: IntArray) -> int:
        """Jobs whose agent differs from their current one (0 when moves are not counted)."""
        if self.current is None:
            return 0
        return int(np.count_nonzero((self.current >= 0) & (plan != self.current)))

    def objective(self, plan: IntArray) -> float:
        """Cost of ``plan`` plus its overload charge when capacity is soft."""
        total = float(self.cost[plan, np.arange(self.n)].sum())
        if self.overload_cost is not None:
            total += self.overload_cost * float(self.overload(plan).sum())
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
        if self.hard_capacity:
            over = np.flatnonzero(self.overload(plan) > 0.0)
            if over.size:
                i = int(over[0])
                load = float(self.loads(plan)[i])
                problems.append(
                    f"agent {i} is loaded {load:g} above its capacity {self.capacity[i]:g}"
                )
        if self.max_moves is not None and self.moves(plan) > self.max_moves:
            problems.append(f"{self.moves(plan)} jobs move but max_moves is {self.max_moves}")
        return problems

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
        if not self.hard_capacity:
            return ""
        negative = np.flatnonzero(self.capacity < -self.slack())
        if negative.size:
            i = int(negative[0])
            return f"agent {i} has a negative capacity ({self.capacity[i]:g})"
        only = self.allowed.sum(axis=0) == 1
        if only.any():
            home = np.argmax(self.allowed, axis=0)
            jobs = np.flatnonzero(only)
            pinned = np.bincount(
                home[jobs], weights=self.weight[home[jobs], jobs], minlength=self.m
            )
            over = np.flatnonzero(pinned > self.capacity + self.slack())
            if over.size:
                i = int(over[0])
                return (
                    f"jobs that can only go to agent {i} need {pinned[i]:g} "
                    f"but its capacity is {self.capacity[i]:g}"
                )
        least = np.where(self.allowed, self.weight, np.inf).min(axis=0).sum()
        total = float(self.capacity.sum())
        if least > total + CAPACITY_TOLERANCE * max(1.0, total):
            return (
                f"total weight exceeds total capacity: the jobs need at least {least:g} "
                f"and the agents have {total:g}"
            )
        return ""
