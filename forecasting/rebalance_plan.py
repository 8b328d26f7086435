"""The rebalancer's values: what it may do (``RebalanceOptions``) and the plan it returns, move
by move with the weeks each one changes.

Frozen dataclasses only; built by ``forecasting.rebalance``, worded by
``forecasting.rebalance_reasons``. Must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from forecasting.rebalance_model import RebalanceWeights
from forecasting.skills import TOP_LEVEL

MoveKind = Literal["reassign", "shift"]


@dataclass(frozen=True)
class RebalanceOptions:
    """What the rebalancer may do.

    Attributes:
        pool: person gids who may give and receive work (the team, by the caller's choice).
        max_moves: at most this many tasks change (a reassignment or a date shift each).
        shift_weeks: due dates of tasks may move up to this many working weeks later (0: never).
        min_level: a receiver needs every required skill at this proficiency (1..5) or better.
        time_limit_s: wall-clock budget of the solver.
        seed: seed of the solver's local search (same input and seed, same plan).
        weights: prices of the objective.
    """

    pool: tuple[str, ...]
    max_moves: int | None = 10
    shift_weeks: int = 0
    min_level: int = 1
    time_limit_s: float = 10.0
    seed: int = 0
    weights: RebalanceWeights = field(default_factory=RebalanceWeights)

    def __post_init__(self) -> None:
        if self.max_moves is not None and self.max_moves < 0:
            raise ValueError(f"max_moves must be >= 0, got {self.max_moves}")
        if not 0 <= self.shift_weeks <= 8:
            raise ValueError(f"shift_weeks must be 0..8, got {self.shift_weeks}")
        if not 1 <= self.min_level <= TOP_LEVEL:
            raise ValueError(f"min_level must be 1..{TOP_LEVEL}, got {self.min_level}")


@dataclass(frozen=True)
class WeekChange:
    """One person-week before and after a plan (hours are expected load)."""

    week_start: date
    capacity_h: float
    before_h: float
    after_h: float
    p_over_before: float
    p_over_after: float | None  # from a forecast of the planned world, when one was made

    @property
    def before_pct(self) -> float | None:
        """Utilisation before, in percent; None at zero capacity."""
        return None if self.capacity_h <= 0 else 100.0 * self.before_h / self.capacity_h

    @property
    def after_pct(self) -> float | None:
        """Utilisation after, in percent; None at zero capacity."""
        return None if self.capacity_h <= 0 else 100.0 * self.after_h / self.capacity_h


@dataclass(frozen=True)
class Move:
    """One proposed change to one task, with its evidence.

    Attributes:
        kind: "reassign" (new assignee, same dates) or "shift" (same assignee, later dates).
        hours: expected hours the move takes out of the giver's horizon.
        shift_days: working days the dates move (0 for a reassignment).
        new_start_on, new_due_on: the task's dates after the move.
        skill_match: the receiver's level in each required skill, in words.
        giver_weeks, receiver_weeks: the affected weeks of both people (the same person for a
            shift), before and after the whole plan.
        reason: why, in one or two sentences with the numbers.
    """

    task_gid: str
    task_name: str
    project_gid: str | None
    url: str | None
    kind: MoveKind
    from_gid: str
    to_gid: str
    hours: float
    shift_days: int
    new_start_on: date | None
    new_due_on: date | None
    skill_match: str
    giver_weeks: tuple[WeekChange, ...]
    receiver_weeks: tuple[WeekChange, ...]
    reason: str


@dataclass(frozen=True)
class RebalancePlan:
    """The proposed moves and what they achieve.

    Attributes:
        moves: the moves, largest relief first.
        overload_before_h, overload_after_h: expected hours above capacity summed over the
            pool's person-weeks, today and with every move applied.
        optimal: whether the solver proved the plan optimal for the model.
        gap: relative distance to the solver's bound (0 when optimal), None when unknown.
        method: "milp", "heuristic", "milp+heuristic" or "columns" (see ``AssignmentResult``).
        seconds: solver wall-clock time.
        explanation: why overload remains (or why nothing is proposed), in sentences.
        notes: facts about the input (tasks left out and why).
        model_version: the forecast model behind the numbers, None in fallback.
    """

    moves: tuple[Move, ...]
    overload_before_h: float
    overload_after_h: float
    optimal: bool
    gap: float | None
    method: str
    seconds: float
    explanation: tuple[str, ...]
    notes: tuple[str, ...]
    model_version: str | None
    weeks: tuple[date, ...]

    @property
    def removed_h(self) -> float:
        """Expected overload hours the plan removes."""
        return max(self.overload_before_h - self.overload_after_h, 0.0)
