"""Weighted local search for assignment problems: shift and swap moves under adaptive penalties.

Pure numpy, seeded; every neighbourhood is evaluated as whole arrays, never job by job.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from forecasting.assignment_bound import LagrangianBound, move_matrix
from forecasting.assignment_instance import FloatArray, Instance, IntArray, Method

# Neighbourhood sizes: a job may shift to its CANDIDATES cheapest agents at Lagrangian prices,
# and swap with jobs held by its SWAP_CANDIDATES cheapest; larger lists rarely help on GAP.
CANDIDATES = 16
SWAP_CANDIDATES = 4
# Penalty weights shrink by DECREASE when the search sits above the best plan (to let it cross
# infeasible ground) and grow by up to INCREASE on violated constraints otherwise.
DECREASE = 0.9
INCREASE = 0.2
# Moves are drawn among those whose gain is at least this share of the best move's gain.
GREED = 0.8
# Bound on the elements of one swap-evaluation block, to cap memory on lopsided plans.
_SWAP_BLOCK = 250_000
_EPS = 1e-9


class LocalSearch:
    """Weighting local search (shift + swap) that keeps the best plan it has seen.

    Capacities (when hard) and the move budget are relaxed into penalties whose per-agent
    weights adapt after every local optimum: the search oscillates across the feasibility
    boundary, where the good GAP plans are, and records every feasible plan it passes that
    beats the best. With priced (soft) capacity and no move budget there is nothing to adapt,
    so the search perturbs the best plan instead (iterated local search).
    """

    def __init__(self, instance: Instance, bound: LagrangianBound, *, seed: int) -> None:
        """Prepare candidate lists from the Lagrangian prices.

        Args:
            instance: the problem in minimisation form.
            bound: prices that rank each job's agents.
            seed: seed of the random choice among improving moves.
        """
        self.inst = instance
        self.rng = np.random.default_rng(seed)
        m, n = instance.m, instance.n
        self.jobs = np.arange(n)
        k = min(m, CANDIDATES)
        order = np.argsort(bound.priced_cost, axis=0, kind="stable")[:k].T
        self.cand: IntArray = np.ascontiguousarray(order, dtype=np.int64)
        col = self.jobs[:, None]
        self.valid = np.isfinite(bound.priced_cost[self.cand, col])
        self.cand_cost: FloatArray = np.where(self.valid, instance.cost[self.cand, col], 0.0)
        self.cand_weight: FloatArray = np.where(self.valid, instance.weight[self.cand, col], 0.0)
        self.moved = move_matrix(instance)
        self.cand_moved: FloatArray = self.moved[self.cand, col]
        self.swaps = min(k, SWAP_CANDIDATES)
        self.hard = instance.hard_capacity
        self.price = float(instance.overload_cost or 0.0)
        self.budget = -1 if instance.max_moves is None else instance.max_moves
        self.slack = instance.slack()
        scale = float(np.abs(np.where(instance.allowed, instance.cost, 0.0)).max(initial=0.0))
        self.scale = max(scale, 1e-9)
        self.best_plan: IntArray | None = None
        self.best_value = np.inf
        self.best_source: Method = "heuristic"
        self.plan: IntArray = self.cand[:, 0].copy()
        self._load_state(self.plan)
        self.weights = self._initial_weights()
        self.move_weight = self.scale

    def _load_state(self, plan: IntArray) -> None:
        inst = self.inst
        self.plan = plan.copy()
        self.w = inst.weight[plan, self.jobs].copy()
        self.cu = inst.cost[plan, self.jobs].copy()
        self.mv = self.moved[plan, self.jobs].copy()
        self.load = np.bincount(plan, weights=self.w, minlength=inst.m).astype(np.float64)
        self.cost = float(self.cu.sum())
        self.moves = float(self.mv.sum())

    def consider(self, plan: IntArray, source: Method = "heuristic") -> bool:
        """Keep ``plan`` as the best if it is feasible and better; return whether it was."""
        if not self.inst.is_feasible(plan):
            return False
        value = self.inst.objective(plan)
        if value < self.best_value - _EPS * max(1.0, abs(value)):
            self.best_value, self.best_plan, self.best_source = value, plan.copy(), source
            return True
        return False

    def adopt(self, plan: IntArray, source: Method) -> None:
        """Make ``plan`` (feasible, e.g. proven optimal) the best, even on a tie in value."""
        self.best_value, self.best_plan = self.inst.objective(plan), plan.copy()
        self.best_source = source

    def run(
        self,
        start: IntArray | None,
        *,
        deadline: float,
        patience: int,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        """Search until ``patience`` local optima pass without a better plan.

        Args:
            start: plan to restart from with fresh penalty weights (need not be feasible), or
                None to continue from where the previous run stopped.
            deadline: ``time.monotonic()`` value at which to stop regardless.
            patience: local optima allowed without improving the best plan.
            stop: checked after every local optimum; the search ends when it returns True.
        """
        if start is not None:
            self._load_state(start)
            self.weights = self._initial_weights()
            self.move_weight = self.scale
        self.consider(self.plan)
        floor = 1e-6 * self.scale
        adaptive = self.hard or self.budget >= 0
        idle = 0
        while idle < patience and time.monotonic() < deadline:
            if stop is not None and stop():
                return
            improved = self._descend(self.weights, self.move_weight, deadline)
            if self.consider(self.plan):
                improved = True
            idle = 0 if improved else idle + 1
            over = np.maximum(self.load - self.inst.capacity, 0.0)
            excess = max(self.moves - self.budget, 0.0) if self.budget >= 0 else 0.0
            if not adaptive:
                self._perturb()
                continue
            value = self.cost + float(self.move_weight * excess)
            value += float(self.weights @ over)
            if value >= self.best_value - _EPS:
                if self.hard:
                    self.weights = np.maximum(self.weights * DECREASE, floor)
                self.move_weight = max(self.move_weight * DECREASE, floor)
            else:
                worst = float(over.max(initial=0.0))
                if self.hard and worst > 0.0:
                    self.weights = self.weights * (1.0 + INCREASE * over / worst)
                if excess > 0.0:
                    self.move_weight *= 1.0 + INCREASE

    def _initial_weights(self) -> FloatArray:
        """Penalty per unit of overload: adaptive from the cost scale when capacity is hard,
        the true price when it is soft."""
        return np.full(self.inst.m, self.scale if self.hard else self.price)

    def _perturb(self) -> None:
        """Restart from the best plan with a few random shifts (only for unconstrained search)."""
        base = self.plan if self.best_plan is None else self.best_plan
        plan = base.copy()
        movable = np.flatnonzero(self.valid[:, 1]) if self.valid.shape[1] > 1 else np.array([])
        if movable.size:
            count = min(movable.size, max(2, movable.size // 20))
            picked = self.rng.choice(movable, size=count, replace=False)
            slots = self.rng.integers(0, self.valid[picked].sum(axis=1))
            plan[picked] = self.cand[picked, slots]
        self._load_state(plan)

    def _descend(self, weights: FloatArray, move_weight: float, deadline: float) -> bool:
        improved = False
        while time.monotonic() < deadline:
            found, better = self._shift(weights, move_weight)
            improved |= better
            if found:
                continue
            found, better = self._swap(weights, move_weight)
            improved |= better
            if not found:
                break
        return improved

    def _move_penalty(self, delta: FloatArray, move_weight: float) -> tuple[FloatArray, FloatArray]:
        if self.budget < 0:
            zero = np.zeros_like(delta)
            return zero, zero
        before = max(self.moves - self.budget, 0.0)
        after = np.maximum(self.moves + delta - self.budget, 0.0)
        return move_weight * (after - before), after

    def _true_better(
        self, dcost: FloatArray, dover: FloatArray, excess_after: FloatArray, tot: float
    ) -> FloatArray:
        """Mask of neighbours that are feasible and beat the best plan on the true objective."""
        value: FloatArray = self.cost + dcost
        ok = excess_after <= 0.0
        if self.hard:
            ok &= tot + dover <= float(self.slack.sum())
        else:
            charge: FloatArray = self.price * (tot + dover)
            value = value + charge
        return np.asarray(ok & (value < self.best_value - _EPS * max(1.0, abs(self.best_value))))

    def _shift(self, weights: FloatArray, move_weight: float) -> tuple[bool, bool]:
        inst, cand, plan = self.inst, self.cand, self.plan
        cap = inst.capacity
        over = np.maximum(self.load - cap, 0.0)
        tot = float(over.sum())
        src = np.maximum(self.load[plan] - self.w - cap[plan], 0.0) - over[plan]
        dst = np.maximum(self.load[cand] + self.cand_weight - cap[cand], 0.0) - over[cand]
        dcost = self.cand_cost - self.cu[:, None]
        dmove = self.cand_moved - self.mv[:, None]
        mpen, excess_after = self._move_penalty(dmove, move_weight)
        delta = dcost + weights[cand] * dst + (weights[plan] * src)[:, None] + mpen
        usable = self.valid & (cand != plan[:, None])
        delta = np.where(usable, delta, np.inf)
        better = False
        mask = usable & self._true_better(dcost, dst + src[:, None], excess_after, tot)
        if mask.any():
            j, s = divmod(int(np.argmin(np.where(mask, dcost, np.inf))), cand.shape[1])
            trial = plan.copy()
            trial[j] = cand[j, s]
            better = self.consider(trial)
        flat = self._pick(delta)
        if flat < 0:
            return False, better
        j, s = divmod(flat, cand.shape[1])
        self._apply(j, int(cand[j, s]))
        return True, better

    def _pick(self, delta: FloatArray) -> int:
        """Flat index of a move among those at least GREED times as good as the best; -1 if
        no move improves. Drawing among near-best moves keeps restarts from retracing."""
        flat = delta.ravel()
        top = int(np.argmin(flat))
        if not flat[top] < -_EPS * self.scale:
            return -1
        near = np.flatnonzero(flat <= GREED * flat[top])
        return int(near[self.rng.integers(near.size)]) if near.size > 1 else top

    def _apply(self, j: int, agent: int) -> None:
        inst = self.inst
        old = int(self.plan[j])
        self.load[old] -= self.w[j]
        self.w[j] = inst.weight[agent, j]
        self.load[agent] += self.w[j]
        self.cost += float(inst.cost[agent, j] - self.cu[j])
        self.cu[j] = inst.cost[agent, j]
        self.moves += float(self.moved[agent, j] - self.mv[j])
        self.mv[j] = self.moved[agent, j]
        self.plan[j] = agent

    def _holders(self) -> IntArray:
        """(m, L) jobs held by each agent, padded with -1."""
        m = self.inst.m
        order = np.argsort(self.plan, kind="stable")
        count = np.bincount(self.plan, minlength=m)
        held = np.full((m, max(int(count.max(initial=0)), 1)), -1, dtype=np.int64)
        starts = np.cumsum(count) - count
        held[self.plan[order], np.arange(order.size) - np.repeat(starts, count)] = order
        return held

    def _swap(self, weights: FloatArray, move_weight: float) -> tuple[bool, bool]:
        held = self._holders()
        width = held.shape[1] * self.swaps
        block = max(1, _SWAP_BLOCK // max(width, 1))
        best_delta, best_pair, better = -_EPS * self.scale, (-1, -1), False
        for start in range(0, self.inst.n, block):
            jobs = self.jobs[start : start + block]
            delta, pair, found_better = self._swap_block(jobs, held, weights, move_weight)
            better |= found_better
            if pair[0] >= 0 and delta < best_delta:
                best_delta, best_pair = delta, pair
        if best_pair[0] < 0:
            return False, better
        j, k = best_pair
        p, q = int(self.plan[j]), int(self.plan[k])
        self._apply(j, q)
        self._apply(k, p)
        return True, better

    def _swap_block(
        self, jobs: IntArray, held: IntArray, weights: FloatArray, move_weight: float
    ) -> tuple[float, tuple[int, int], bool]:
        """Best improving swap of a job in ``jobs`` with a job at one of its candidate agents."""
        inst, plan = self.inst, self.plan
        cost, weight, cap = inst.cost, inst.weight, inst.capacity
        q = self.cand[jobs, : self.swaps][:, :, None]
        partner = held[self.cand[jobs, : self.swaps]]
        p = plan[jobs][:, None, None]
        j = jobs[:, None, None]
        ok = (partner >= 0) & self.valid[jobs, : self.swaps][:, :, None] & (q != p)
        k = np.where(ok, partner, 0)
        ok &= inst.allowed[p, k]
        over = np.maximum(self.load - cap, 0.0)
        tot = float(over.sum())
        dcost = cost[q, j] + cost[p, k] - self.cu[j] - self.cu[k]
        dp = np.maximum(self.load[p] - self.w[j] + weight[p, k] - cap[p], 0.0) - over[p]
        dq = np.maximum(self.load[q] - self.w[k] + weight[q, j] - cap[q], 0.0) - over[q]
        dmove = self.moved[q, j] - self.mv[j] + self.moved[p, k] - self.mv[k]
        mpen, excess_after = self._move_penalty(dmove, move_weight)
        delta = np.where(ok, dcost + weights[p] * dp + weights[q] * dq + mpen, np.inf)
        better = False
        mask = ok & self._true_better(dcost, dp + dq, excess_after, tot)
        if mask.any():
            flat = int(np.argmin(np.where(mask, dcost, np.inf)))
            a, s, t = np.unravel_index(flat, mask.shape)
            trial = plan.copy()
            jj, kk = int(jobs[a]), int(partner[a, s, t])
            trial[jj], trial[kk] = plan[kk], plan[jj]
            better = self.consider(trial)
        flat = self._pick(delta)
        if flat < 0:
            return 0.0, (-1, -1), better
        a, s, t = np.unravel_index(flat, delta.shape)
        return float(delta[a, s, t]), (int(jobs[a]), int(partner[a, s, t])), better
