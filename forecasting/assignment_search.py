"""Weighted local search for assignment problems: shift and swap moves under adaptive penalties.

Owns the search (penalty weights, descent, perturbation) and its two neighbourhoods; the plan
it moves and the arithmetic of a move are ``forecasting.assignment_state``. Pure numpy, seeded;
every neighbourhood is evaluated as whole arrays, never job by job; must not import ``bot``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from forecasting.assignment_bound import LagrangianBound
from forecasting.assignment_instance import BoolArray, FloatArray, Instance, IntArray
from forecasting.assignment_state import EPS, SearchState

# A job may swap with jobs held by its SWAP_CANDIDATES cheapest agents at Lagrangian prices (it
# may shift to its CANDIDATES cheapest, see assignment_state); larger lists rarely help on GAP.
SWAP_CANDIDATES = 4
# Penalty weights shrink by DECREASE when the search sits above the best plan (to let it cross
# infeasible ground) and grow by up to INCREASE on violated constraints otherwise.
DECREASE = 0.9
INCREASE = 0.2
# Moves are drawn among those whose gain is at least this share of the best move's gain.
GREED = 0.8
# Bound on the elements of one swap-evaluation block, to cap memory on lopsided plans.
_SWAP_BLOCK = 250_000


class LocalSearch(SearchState):
    """Weighting local search (shift + swap) that keeps the best plan it has seen.

    Loads are kept per cell (capacity group, resource). Ceilings (hard capacities or limits)
    and the move budget are relaxed into penalties whose per-cell weights adapt after every
    local optimum: the search oscillates across the feasibility boundary, where the good GAP
    plans are, and records every feasible plan it passes that beats the best. Overload above
    a soft capacity is charged at its true price throughout. With no ceiling and no move
    budget there is nothing to adapt, so the search perturbs the best plan instead (iterated
    local search).
    """

    def __init__(self, instance: Instance, bound: LagrangianBound, *, seed: int) -> None:
        """Prepare candidate lists from the Lagrangian prices.

        Args:
            instance: the problem in minimisation form.
            bound: prices that rank each job's agents.
            seed: seed of the random choice among improving moves.
        """
        self.rng = np.random.default_rng(seed)
        super().__init__(instance, bound)
        m, n = instance.m, instance.n
        self.swaps = min(self.cand.shape[1], SWAP_CANDIDATES)
        # Flat views for gathering (agent, job) pairs by flat index in the swap evaluation.
        self.tail: tuple[int, ...] = () if self.flat else (instance.k,)
        self.weight_rows = self.weight.reshape(m * n, *self.tail)
        self.cost_flat = instance.cost.reshape(m * n)
        self.allowed_flat = instance.allowed.reshape(m * n)
        self.moved_flat = self.moved.reshape(m * n)
        self.scratch = Scratch()
        self.weights = self._initial_weights()
        self.move_weight = self.scale

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
        adaptive = self.bounded or self.budget >= 0
        idle = 0
        while idle < patience and time.monotonic() < deadline:
            if stop is not None and stop():
                return
            improved = self._descend(self.weights, self.move_weight, deadline)
            if self.consider(self.plan):
                improved = True
            idle = 0 if improved else idle + 1
            if not adaptive:
                self._perturb()
                continue
            over = self._excess(self.load)
            excess = max(self.moves - self.budget, 0.0) if self.budget >= 0 else 0.0
            value = self.cost + float(self.move_weight * excess)
            value += float(self.weights.ravel() @ over.ravel())
            if self.priced:
                value += float(self._charge(self.load).sum())
            if value >= self.best_value - EPS:
                if self.bounded:
                    self.weights = np.maximum(self.weights * DECREASE, floor)
                self.move_weight = max(self.move_weight * DECREASE, floor)
            else:
                worst = float(over.max(initial=0.0))
                if self.bounded and worst > 0.0:
                    self.weights = self.weights * (1.0 + INCREASE * over / worst)
                if excess > 0.0:
                    self.move_weight *= 1.0 + INCREASE

    def _initial_weights(self) -> FloatArray:
        """Penalty per unit of load above a ceiling, adaptive from the cost scale."""
        return np.full(self.load.shape, self.scale)

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

    def _shift(self, weights: FloatArray, move_weight: float) -> tuple[bool, bool]:
        cand, plan, groups, held = self.cand, self.plan, self.cand_group, self.plan_group
        excess_now = self._excess(self.load)
        arrive = self.load[groups] + self.cand_weight
        same: BoolArray | None = None
        if self.shared:
            # Within one group the destination cell also loses the job's old weight, and the
            # source cell is that same cell: count it once, at the destination.
            same = groups == held[:, None]
            w = self.w[:, None] if self.flat else self.w[:, None, :]
            arrive = arrive - np.where(same if self.flat else same[:, :, None], w, 0.0)
        leave = self.load[held] - self.w
        dst = self._rise(groups, arrive, excess_now)
        src = self._rise(held, leave, excess_now)
        # The change in the true objective: cost, plus the overload charge where it is priced.
        dvalue = self.cand_cost - self.cu[:, None]
        if self.priced:
            over_now = np.maximum(self.load - self.capacity, 0.0)
            dvalue = dvalue + self._charge_delta(groups, arrive, over_now)
            dvalue = dvalue + _outside(self._charge_delta(held, leave, over_now), same)
        del arrive, leave
        dmove = self.cand_moved - self.mv[:, None]
        mpen, moves_after = self._move_penalty(dmove, move_weight)
        delta = (
            dvalue
            + self._weigh(weights, groups, dst)
            + _outside(self._weigh(weights, held, src), same)
            + mpen
        )
        usable = self.valid & (cand != plan[:, None])
        delta = np.where(usable, delta, np.inf)
        better = False
        dexcess = self._cells(dst) + _outside(self._cells(src), same)
        mask = usable & self._true_better(dvalue, dexcess, excess_now, moves_after)
        if mask.any():
            j, s = divmod(int(np.argmin(np.where(mask, dvalue, np.inf))), cand.shape[1])
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
        if not flat[top] < -EPS * self.scale:
            return -1
        near = np.flatnonzero(flat <= GREED * flat[top])
        return int(near[self.rng.integers(near.size)]) if near.size > 1 else top

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
        width = held.shape[1] * self.swaps * self.inst.k
        block = max(1, _SWAP_BLOCK // max(width, 1))
        best_delta, best_pair, better = -EPS * self.scale, (-1, -1), False
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
        """Best improving swap of a job in ``jobs`` with a job at one of its candidate agents.

        Evaluated over (job, candidate agent, holder slot) arrays, written into reused buffers
        (see ``Scratch``): the arithmetic of a shift, at both ends of the swap.
        """
        inst, plan, buf = self.inst, self.plan, self.scratch
        cand = self.cand[jobs, : self.swaps]
        shape = (*cand.shape, held.shape[1])
        cells = shape + self.tail
        q, p, j = cand[:, :, None], plan[jobs][:, None, None], jobs[:, None, None]
        partner = np.take(held, cand, axis=0, out=buf.ints("partner", shape), mode="clip")
        ok = np.greater_equal(partner, 0, out=buf.bools("ok", shape))
        ok &= self.valid[jobs, : self.swaps][:, :, None] & (q != p)
        k = np.multiply(partner, ok, out=buf.ints("k", shape))  # padding becomes job 0, barred
        pk = np.add(k, p * inst.n, out=buf.ints("pk", shape))  # flat index of pair (p, k)
        ok &= np.take(self.allowed_flat, pk, out=buf.bools("allowed", shape), mode="clip")
        gp, gq = p, q
        same: BoolArray | None = None
        if self.shared:
            gp = self.plan_group[jobs][:, None, None]
            gq = self.cand_group[jobs, : self.swaps][:, :, None]
            same = np.broadcast_to(gp == gq, shape)
        spare = buf.floats("spare", shape)
        # p's cell loses j and gains k; q's cell loses k and gains j.
        after_p = np.take(self.weight_rows, pk, axis=0, out=buf.floats("p", cells), mode="clip")
        after_p += self.load[gp] - self.w[j]
        after_q = np.take(self.w, k, axis=0, out=buf.floats("q", cells), mode="clip")
        np.subtract(self.load[gq], after_q, out=after_q)
        after_q += self.weight[q, j]
        if same is not None:
            # Two agents of one group: its cell changes once, by both jobs' differences.
            wide = same if self.flat else same[..., None]
            after_q += np.where(wide, after_p - self.load[gp], 0.0)
        # The change in the true objective: cost, plus the overload charge where it is priced.
        dvalue = np.take(self.cost_flat, pk, out=buf.floats("value", shape), mode="clip")
        dvalue += inst.cost[q, j]
        dvalue -= self.cu[j]
        dvalue -= np.take(self.cu, k, out=spare, mode="clip")
        if self.priced:
            over_now = np.maximum(self.load - self.capacity, 0.0)
            dvalue += _outside(self._charge_delta(gp, after_p, over_now), same)
            dvalue += self._charge_delta(gq, after_q, over_now)
        excess_now = self._excess(self.load)
        dp = self._rise_in_place(gp, after_p, excess_now)
        dq = self._rise_in_place(gq, after_q, excess_now)
        if same is not None:
            np.copyto(dp, 0.0, where=same if self.flat else same[..., None])
        moves_after: FloatArray | None = None
        delta = self._weigh_into(buf.floats("delta", shape), weights, gp, dp)
        delta += dvalue
        delta += self._weigh_into(spare, weights, gq, dq)
        if self.budget >= 0:
            dmove = np.take(self.moved_flat, pk, out=spare, mode="clip")
            dmove += self.moved[q, j] - self.mv[j]
            dmove -= np.take(self.mv, k, out=buf.floats("mv", shape), mode="clip")
            mpen, moves_after = self._move_penalty(dmove, move_weight)
            delta += mpen
        np.copyto(delta, np.inf, where=np.logical_not(ok, out=buf.bools("barred", shape)))
        # Neighbours that are feasible and beat the best plan outright.
        mask = buf.bools("mask", shape)
        np.copyto(mask, ok)
        if self.bounded:
            dexcess = self._cells_into(buf.floats("excess", shape), dp, dq)
            dexcess += float(excess_now.sum())
            mask &= np.less_equal(dexcess, self.slack, out=buf.bools("test", shape))
        value = np.add(dvalue, self.cost, out=spare)
        if self.priced:
            value += float(self._charge(self.load).sum())
        threshold = self.best_value - EPS * max(1.0, abs(self.best_value))
        mask &= np.less(value, threshold, out=buf.bools("test", shape))
        if moves_after is not None:
            mask &= moves_after <= 0.0
        better = False
        if mask.any():
            flat = int(np.argmin(np.where(mask, dvalue, np.inf)))
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

    def _rise_in_place(
        self, groups: IntArray, after: FloatArray, excess_now: FloatArray
    ) -> FloatArray:
        """``_rise`` written over ``after``."""
        after -= self.ceiling[groups]
        np.maximum(after, 0.0, out=after)
        after -= excess_now[groups]
        return after

    def _weigh_into(
        self, out: FloatArray, weights: FloatArray, groups: IntArray, rise: FloatArray
    ) -> FloatArray:
        """``_weigh`` written into ``out``."""
        if self.flat:
            return np.multiply(rise, weights[groups], out=out)
        cells = self.scratch.floats("weighed", rise.shape)
        np.multiply(rise, weights[groups], out=cells)
        return np.sum(cells, axis=-1, out=out)

    def _cells_into(self, out: FloatArray, first: FloatArray, second: FloatArray) -> FloatArray:
        """``_cells(first) + _cells(second)`` written into ``out``."""
        if self.flat:
            return np.add(first, second, out=out)
        np.sum(first, axis=-1, out=out)
        out += second.sum(axis=-1)
        return out


class Scratch:
    """Named arrays reused from call to call, grown as needed.

    The swap neighbourhood's (jobs, candidates, holders) arrays run to megabytes. Allocated
    afresh on every call they cost more than the arithmetic done on them: the allocator hands
    freed memory back to the operating system and every new array faults its pages in again
    (measured: 2-4x slower swap evaluation on 200-1,600-job instances).
    """

    def __init__(self) -> None:
        self._flat: dict[tuple[str, str], np.ndarray[Any, Any]] = {}

    def floats(self, name: str, shape: tuple[int, ...]) -> FloatArray:
        """A float array of ``shape`` (contents undefined)."""
        return cast(FloatArray, self._view(name, shape, np.float64))

    def ints(self, name: str, shape: tuple[int, ...]) -> IntArray:
        """An int64 array of ``shape`` (contents undefined)."""
        return cast(IntArray, self._view(name, shape, np.int64))

    def bools(self, name: str, shape: tuple[int, ...]) -> BoolArray:
        """A bool array of ``shape`` (contents undefined)."""
        return cast(BoolArray, self._view(name, shape, np.bool_))

    def _view(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray[Any, Any]:
        size = math.prod(shape)
        key = (name, np.dtype(dtype).str)
        flat = self._flat.get(key)
        if flat is None or flat.size < size:
            flat = np.empty(size + size // 2, dtype=dtype)  # half again, to grow rarely
            self._flat[key] = flat
        return flat[:size].reshape(shape)


def _outside(change: FloatArray, same: BoolArray | None) -> FloatArray:
    """A source cell's change, broadcast over the neighbours, and zero where the destination
    is the same cell (the caller has counted it there)."""
    if change.ndim == 1:
        change = change[:, None]
    return change if same is None else np.where(same, 0.0, change)
