"""The plan under local search: its loads, cost and moves, the best plan seen, and what a move
changes in the objective and in the penalties of ceilings and the move budget.

Pure numpy; ``forecasting.assignment_search`` searches over it. Must not import ``bot`` (nor
the search).
"""

from __future__ import annotations

import numpy as np

from forecasting.assignment_bound import LagrangianBound, move_matrix
from forecasting.assignment_instance import FloatArray, Instance, IntArray, Method

# A job may shift to its CANDIDATES cheapest agents at Lagrangian prices; larger lists rarely
# help on GAP.
CANDIDATES = 16
EPS = 1e-9  # tolerance of the comparisons of objective values (relative to their size)


class SearchState:
    """A plan under search, kept per cell (capacity group, resource), and the best plan seen.

    With one resource, arrays drop the resource axis (loads are (g,), weights (m, n)): plain
    GAP then runs exactly the arithmetic of a one-dimensional search. Moves between two agents
    of one group change that group's load once, by the difference of the two weights.
    """

    def __init__(self, instance: Instance, bound: LagrangianBound) -> None:
        """Prepare candidate lists from the Lagrangian prices and the first plan.

        Args:
            instance: the problem in minimisation form.
            bound: prices that rank each job's agents.
        """
        self.inst = instance
        m, n = instance.m, instance.n
        self.jobs = np.arange(n)
        self.flat = instance.k == 1
        self.weight = _squeeze(instance.weight, self.flat)
        self.capacity = _squeeze(instance.capacity, self.flat)
        self.ceiling = _squeeze(instance.ceiling, self.flat)
        self.price = _squeeze(instance.price, self.flat)
        self.group = instance.group
        # Agents that share a group: moves within one group need the combined weight change.
        self.shared = not instance.own_groups
        k = min(m, CANDIDATES)
        order = np.argsort(bound.priced_cost, axis=0, kind="stable")[:k].T
        self.cand: IntArray = np.ascontiguousarray(order, dtype=np.int64)
        self.cand_group: IntArray = self.group[self.cand] if self.shared else self.cand
        col = self.jobs[:, None]
        self.valid = np.isfinite(bound.priced_cost[self.cand, col])
        self.cand_cost: FloatArray = np.where(self.valid, instance.cost[self.cand, col], 0.0)
        valid = self.valid if self.flat else self.valid[:, :, None]
        self.cand_weight: FloatArray = np.where(valid, self.weight[self.cand, col], 0.0)
        self.moved = move_matrix(instance)
        self.cand_moved: FloatArray = self.moved[self.cand, col]
        self.bounded = instance.bounded
        self.priced = instance.priced
        self.budget = -1 if instance.max_moves is None else instance.max_moves
        # Total rounding allowance over the cells that have a ceiling.
        slack = instance.ceiling_slack()
        self.slack = float(slack[np.isfinite(slack)].sum())
        scale = float(np.abs(np.where(instance.allowed, instance.cost, 0.0)).max(initial=0.0))
        self.scale = max(scale, 1e-9)
        self.best_plan: IntArray | None = None
        self.best_value = np.inf
        self.best_source: Method = "heuristic"
        self.plan: IntArray = self._start()
        self._load_state(self.plan)

    def _start(self) -> IntArray:
        """The first plan: each job at its cheapest agent at Lagrangian prices or, under a
        move budget, where it is today (when it may stay): then the search starts feasible
        or close to it, instead of hundreds of moves over a tight budget."""
        plan = self.cand[:, 0].copy()
        current = self.inst.current
        if current is not None and self.budget >= 0:
            stays = (current >= 0) & self.inst.allowed[np.maximum(current, 0), self.jobs]
            plan[stays] = current[stays]
        return plan

    def _load_state(self, plan: IntArray) -> None:
        inst = self.inst
        self.plan = plan.copy()
        # With agents as groups the plan is its own group map (and stays in step with it).
        self.plan_group = self.group[self.plan] if self.shared else self.plan
        self.w = self.weight[plan, self.jobs].copy()
        self.cu = inst.cost[plan, self.jobs].copy()
        self.mv = self.moved[plan, self.jobs].copy()
        self.load = _squeeze(inst.loads(plan), self.flat).copy()
        self.cost = float(self.cu.sum())
        self.moves = float(self.mv.sum())

    def consider(self, plan: IntArray, source: Method = "heuristic") -> bool:
        """Keep ``plan`` as the best if it is feasible and better; return whether it was."""
        if not self.inst.is_feasible(plan):
            return False
        value = self.inst.objective(plan)
        if value < self.best_value - EPS * max(1.0, abs(value)):
            self.best_value, self.best_plan, self.best_source = value, plan.copy(), source
            return True
        return False

    def adopt(self, plan: IntArray, source: Method) -> None:
        """Make ``plan`` (feasible, e.g. proven optimal) the best, even on a tie in value."""
        self.best_value, self.best_plan = self.inst.objective(plan), plan.copy()
        self.best_source = source

    def _excess(self, load: FloatArray) -> FloatArray:
        """Load above the ceiling, per cell (0 where within it or without one)."""
        return np.maximum(load - self.ceiling, 0.0)

    def _charge(self, load: FloatArray) -> FloatArray:
        """Overload charge per cell."""
        return self.price * np.maximum(load - self.capacity, 0.0)

    def _cells(self, values: FloatArray) -> FloatArray:
        """Sum over the resource axis (nothing to sum with one resource)."""
        return values if self.flat else values.sum(axis=-1)

    def _move_penalty(self, delta: FloatArray, move_weight: float) -> tuple[FloatArray, FloatArray]:
        if self.budget < 0:
            zero = np.zeros_like(delta)
            return zero, zero
        before = max(self.moves - self.budget, 0.0)
        after = np.maximum(self.moves + delta - self.budget, 0.0)
        return move_weight * (after - before), after

    def _rise(self, groups: IntArray, after: FloatArray, excess_now: FloatArray) -> FloatArray:
        """Change in load above the ceiling when the cells of ``groups`` take loads ``after``
        (per neighbour, and per resource when there are several)."""
        return np.maximum(after - self.ceiling[groups], 0.0) - excess_now[groups]

    def _weigh(self, weights: FloatArray, groups: IntArray, rise: FloatArray) -> FloatArray:
        """Penalty of a rise at the search's per-cell weights, summed over resources."""
        weighted: FloatArray = weights[groups] * rise
        return weighted if self.flat else weighted.sum(axis=-1)

    def _charge_delta(
        self, groups: IntArray, after: FloatArray, over_now: FloatArray
    ) -> FloatArray:
        """Change in overload charge when the cells of ``groups`` take loads ``after``."""
        over = np.maximum(after - self.capacity[groups], 0.0) - over_now[groups]
        change = self.price[groups] * over
        return change if self.flat else change.sum(axis=-1)

    def _true_better(
        self,
        dvalue: FloatArray,
        dexcess: FloatArray,
        excess_now: FloatArray,
        moves_after: FloatArray,
    ) -> FloatArray:
        """Mask of neighbours that are feasible and beat the best plan on the true objective.

        Args:
            dvalue: change in cost plus overload charge per neighbour.
            dexcess: change in total load above the ceilings per neighbour.
            excess_now: load above the ceilings per cell now.
            moves_after: moves above the budget per neighbour.
        """
        value: FloatArray = self.cost + dvalue
        ok = moves_after <= 0.0
        if self.bounded:
            ok &= float(excess_now.sum()) + dexcess <= self.slack
        if self.priced:
            value = value + float(self._charge(self.load).sum())
        return np.asarray(ok & (value < self.best_value - EPS * max(1.0, abs(self.best_value))))

    def _apply(self, j: int, agent: int) -> None:
        inst = self.inst
        self.load[self.plan_group[j]] -= self.w[j]
        self.w[j] = self.weight[agent, j]
        self.cost += float(inst.cost[agent, j] - self.cu[j])
        self.cu[j] = inst.cost[agent, j]
        self.moves += float(self.moved[agent, j] - self.mv[j])
        self.mv[j] = self.moved[agent, j]
        self.plan[j] = agent
        if self.shared:
            self.plan_group[j] = self.group[agent]
        self.load[self.plan_group[j]] += self.w[j]


def _squeeze(values: FloatArray, flat: bool) -> FloatArray:
    """``values`` without its last (resource) axis when there is one resource."""
    return values[..., 0] if flat else values
