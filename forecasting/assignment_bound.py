"""Lagrangian lower bound of an assignment problem: cell capacities and the move budget priced in.

Pure numpy; gives the bound and the prices that rank each job's agents for the local search.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from forecasting.assignment_instance import BoolArray, FloatArray, Instance

# Subgradient schedule: halve the step after this many rounds without a better bound, and stop
# once the step factor is this small (the bound then moves by well under 0.01 %).
_PATIENCE = 30
_MIN_STEP = 1e-4


@dataclass(frozen=True, eq=False)
class LagrangianBound:
    """A valid lower bound and the prices that produced it.

    Attributes:
        value: no feasible plan costs less than this.
        prices: (g, k) price per unit of load in each cell (>= 0; at most the cell's overload
            price when it has no ceiling).
        move_price: price of one move (0 without a move budget).
        priced_cost: (m, n) cost plus prices, +inf on pairs a plan may not use; each job's
            agents in this order are the local search's candidates.
    """

    value: float
    prices: FloatArray
    move_price: float
    priced_cost: FloatArray

    def useful(self, upper: float) -> BoolArray:
        """(m, n) pairs that a plan worth at most ``upper`` may use (all usable pairs when
        ``upper`` is not finite).

        Every plan is worth at least ``value`` plus the reduced cost (priced cost above the
        job's cheapest) of each pair it uses, so a pair whose reduced cost alone exceeds
        ``upper - value`` is in no such plan: reduced-cost fixing, which on tight problems
        leaves HiGHS a fraction of the pairs to branch on.
        """
        usable = np.isfinite(self.priced_cost)
        if not np.isfinite(upper) or not usable.any():
            return usable
        reduced = self.priced_cost - np.where(usable, self.priced_cost, np.inf).min(axis=0)
        room = upper - self.value + 1e-6 * max(1.0, abs(upper))
        kept: BoolArray = usable & (reduced <= room)
        return kept


def move_matrix(instance: Instance) -> FloatArray:
    """(m, n) 1.0 where giving job j to agent i counts as a move, else 0.0."""
    moved = np.zeros((instance.m, instance.n))
    if instance.current is not None:
        known = instance.current >= 0
        moved[:, known] = 1.0
        moved[instance.current[known], np.flatnonzero(known)] = 0.0
    return moved


def lagrangian_bound(
    instance: Instance, *, deadline: float, max_rounds: int = 3000
) -> LagrangianBound:
    """Maximise the Lagrangian dual of the cell rows (and the move budget) by subgradient steps.

    Relaxing the capacity rows leaves one cheapest-agent choice per job, so each round is a
    few vectorised passes over the (m, n) matrices. The bound equals the LP relaxation's at
    the optimum prices and is valid at any prices, so stopping early only weakens it.

    A cell has two rows, ``load - overload <= capacity`` (overload priced ``price``) and
    ``load <= ceiling``; their multipliers add up to one price per unit of load, of which the
    capacity row takes at most ``price`` (beyond it the overload variable would pay off), so
    the relaxed problem charges ``min(pi, price) * capacity + max(pi - price, 0) * ceiling``.
    Hard capacity is the case price = 0, ceiling = capacity.

    Args:
        instance: the problem in minimisation form.
        deadline: ``time.monotonic()`` value at which to stop.
        max_rounds: cap on subgradient rounds (keeps the result independent of the clock on
            all but the largest problems).

    Returns:
        The best bound found and its prices.
    """
    n = instance.n
    jobs = np.arange(n)
    base = np.where(instance.allowed, instance.cost, np.inf)
    moved = move_matrix(instance)
    counts_moves = instance.max_moves is not None
    price, ceiling = instance.price, instance.ceiling
    unbounded = ~np.isfinite(ceiling)
    # Without a ceiling a price above the overload price would make overload free.
    cap_price = np.where(unbounded, price, np.inf)
    below = np.minimum(instance.capacity, ceiling)
    top = np.where(unbounded, 0.0, ceiling)
    soft = instance.priced
    scale = max(1.0, float(np.abs(np.where(instance.allowed, instance.cost, 0.0)).max(initial=0)))
    prices = np.zeros_like(instance.capacity)
    move_price = 0.0
    best = (-np.inf, prices.copy(), move_price)
    step, stall = 2.0, 0
    for rounds in range(max_rounds):
        priced = base + instance.price_weight(prices)
        if counts_moves:
            priced = priced + move_price * moved
        choice = np.argmin(priced, axis=0)
        load = instance.cell_loads(choice, instance.weight[choice, jobs])
        if soft:
            on_capacity = np.minimum(prices, price)
            charged = on_capacity.ravel() @ below.ravel()
            charged += (prices - on_capacity).ravel() @ top.ravel()
            low, high = load - below, load - ceiling
            # The subgradient of the charge: capacity below the overload price, ceiling above
            # it, and at it whichever row the load breaks (none when within both).
            at_price = np.where(high > 0.0, high, np.where(low < 0.0, low, 0.0))
            grad = np.where(prices < price, low, np.where(prices > price, high, at_price))
        else:
            # No cell is priced: every multiplier prices its ceiling alone (plain GAP).
            charged = prices.ravel() @ top.ravel()
            grad = load - top
        value = float(priced[choice, jobs].sum() - charged)
        # A price at a bound cannot move further that way: drop that part of the subgradient.
        grad = np.where((prices <= 0.0) & (grad < 0.0), 0.0, grad)
        grad = np.where((prices >= cap_price) & (grad > 0.0), 0.0, grad)
        move_grad = 0.0
        if counts_moves:
            assert instance.max_moves is not None
            move_grad = float(moved[choice, jobs].sum() - instance.max_moves)
            value -= move_price * instance.max_moves
            if move_price <= 0.0 and move_grad < 0.0:
                move_grad = 0.0
        if value > best[0] + 1e-12 * max(1.0, abs(value)):
            best, stall = (value, prices.copy(), move_price), 0
        else:
            stall += 1
            if stall >= _PATIENCE:
                step, stall = step / 2.0, 0
        norm = float(grad.ravel() @ grad.ravel()) + move_grad * move_grad
        if norm <= 0.0 or step < _MIN_STEP or (rounds % 16 == 0 and time.monotonic() > deadline):
            break
        # Polyak step towards a target slightly above the best bound so far.
        target = best[0] + 0.01 * max(abs(best[0]), scale)
        factor = step * (target - value) / norm
        prices = np.clip(prices + factor * grad, 0.0, cap_price)
        move_price = max(0.0, move_price + factor * move_grad)
    value, prices, move_price = best
    return LagrangianBound(
        value=float(value) if n else 0.0,
        prices=prices,
        move_price=float(move_price),
        priced_cost=base + instance.price_weight(prices) + move_price * moved,
    )
