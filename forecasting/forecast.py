"""Probabilistic weekly load: Monte Carlo over the learned corrections, P(over capacity), status.

Pure numpy/pandas/scipy over the frame contracts; must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from forecasting import frames
from forecasting.calendar import FloatArray
from forecasting.history import build_history, validate_time_log
from forecasting.model import CapacityModel
from forecasting.panel import FEATURE_WEEKS
from forecasting.workload import EPS_H, DataQuality, Workload, compute_workload

NO_MODEL = "no model: the arithmetic committed load is shown"
CHUNK_CELLS_X_DRAWS = 4_000_000  # task × draw values generated at once (~16 MB as float32)
MAD_TO_SD = 1.25  # a normal's standard deviation over its mean absolute deviation
MIN_OTHER_SHARE = 0.5  # the other-work spread never shrinks below half its fitted scale


@dataclass(frozen=True)
class RiskBands:
    """Cut-offs of the weekly status on P(load > threshold × capacity).

    ``over`` when ``p_over >= over`` (more likely than not); ``at_risk`` when ``p_over >=
    at_risk`` (one chance in five or more); ``under`` when even the p90 load is below
    ``under`` × capacity; ``off`` when capacity is zero and no load is expected; else ``ok``.
    """

    over: float = 0.5
    at_risk: float = 0.2
    under: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.at_risk <= self.over <= 1.0 or self.under < 0.0:
            raise ValueError(f"risk bands must satisfy 0 < at_risk <= over <= 1: {self}")

    def classify(
        self, capacity_h: FloatArray, p_over: FloatArray, mean_h: FloatArray, p90_h: FloatArray
    ) -> npt.NDArray[np.str_]:
        """Status per cell (arrays of one shape)."""
        return np.select(
            [
                (capacity_h <= 0) & (mean_h <= EPS_H),
                p_over >= self.over,
                p_over >= self.at_risk,
                p90_h < self.under * capacity_h,
            ],
            ["off", "over", "at_risk", "under"],
            default="ok",
        )


@dataclass(frozen=True)
class Forecast:
    """Weekly load distribution per person.

    Attributes:
        weekly: ``person_gid, week_start, capacity_h, committed_h`` (arithmetic), ``mean_h,
            p10_h, p50_h, p90_h`` (hours), ``p_over``, ``status`` (see :class:`RiskBands`),
            ``imputed_h`` (expected hours of imputed tasks), ``overdue_h``, ``other_h`` (mean
            work beyond the committed tasks).
        drivers: ``person_gid, week_start, task_gid, hours`` (expected), ``imputed``: the
            largest tasks of each cell.
        model_version: the model's version, None in fallback.
        fallback: why the arithmetic load is shown, else None.
        quality: data quality of the open tasks (from the committed load).
        threshold: load counts as over above ``threshold`` × capacity.
        draws: Monte Carlo draws (0 in fallback).
    """

    weekly: pd.DataFrame
    drivers: pd.DataFrame
    model_version: str | None
    fallback: str | None
    quality: DataQuality
    threshold: float
    draws: int


def forecast_load(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    *,
    today: date,
    weeks: int = 4,
    model: CapacityModel | None = None,
    draws: int = 1000,
    seed: int = 0,
    threshold: float = 1.0,
    lead_days: int = 5,
    bands: RiskBands | None = None,
    time_log: pd.DataFrame | None = None,
    top_drivers: int = 5,
) -> Forecast:
    """Forecast each person's weekly load as a distribution over ``weeks`` weeks from today.

    Each draw: every open task's expected remaining hours (bias-corrected, imputed when
    unestimated; :meth:`CapacityModel.corrected_effort`) times a mean-one lognormal multiplier
    with the task's ``log_sd``; with its slip probability the task slips, and its effort is then
    spread over a window extended by ``model.slip_days_`` past its due date (so part of it
    moves later); the hours follow the committed-load rules of
    :func:`forecasting.workload.compute_workload`. Each person-week then adds other work: the
    model's median plus a draw from its residual distribution, scaled to the person, its spread
    reduced by the variance the task draws already carry (moment matching, never below half).
    Other work is scaled by the week's capacity over the contracted weekly hours (leave,
    holidays and the days of today's week already gone remove their share; none at zero
    capacity). Loads are clipped at 0.

    Without a model, or with one that had no history, the arithmetic committed load is returned
    (``mean = p10 = p50 = p90 = committed``, ``p_over`` 0 or 1) and ``fallback`` says why.

    Args:
        people, tasks, time_off: the frame contracts; ``tasks`` holds open and completed tasks
            (the completed ones feed the other-work features when there is no ``time_log``).
        today: the reference date.
        weeks: weeks in the horizon (>= 1).
        model: a fitted :class:`CapacityModel`, or None.
        draws: Monte Carlo draws (>= 1).
        seed: seed of the numpy generator.
        threshold: over means load > ``threshold`` × capacity (> 0 h at zero capacity).
        lead_days: lead window of due-only tasks, as in the committed load.
        bands: status cut-offs; default :class:`RiskBands`.
        time_log: realised time ``person_gid, day, hours`` for the other-work features.
        top_drivers: tasks kept per person-week in ``drivers``.
    """
    if draws < 1 or threshold <= 0:
        raise ValueError(f"draws must be >= 1 and threshold > 0 (got {draws}, {threshold})")
    bands = bands or RiskBands()
    people = frames.validate("people", people)
    tasks = frames.validate("tasks", tasks)
    time_off = frames.validate("time_off", time_off)
    base = compute_workload(
        people, tasks, time_off, today=today, weeks=weeks, lead_days=lead_days, top_drivers=None
    )
    if model is None:
        return _arithmetic(base, threshold, NO_MODEL, top_drivers)
    if model.fallback_ is not None:
        return _arithmetic(base, threshold, model.fallback_, top_drivers)

    effort = model.corrected_effort(tasks)
    open_tasks = tasks.loc[~tasks["completed"].to_numpy(bool)].reset_index(drop=True)
    corrected = open_tasks.assign(remaining_h=effort["expected_h"].to_numpy())
    on = _spread(people, corrected, time_off, today, weeks, lead_days)
    slip_p = model.slip_probability(open_tasks, tasks)
    slipping = np.flatnonzero(slip_p > 0)
    late = corrected.iloc[slipping].copy()
    late["due_on"] = late["due_on"] + pd.Timedelta(days=model.slip_days_)
    shifted = _spread(people, late, time_off, today, weeks, lead_days)

    n_cells = len(people) * weeks
    cells = _cells(on.drivers, people, weeks, base.horizon_start)
    task_of = pd.Index(open_tasks["gid"]).get_indexer(on.drivers["task_gid"])
    a_on = sparse.csr_matrix(
        (on.drivers["hours"].to_numpy(), (cells, task_of)), shape=(n_cells, len(open_tasks))
    )
    a_late = sparse.csr_matrix(
        (
            shifted.drivers["hours"].to_numpy(),
            (
                _cells(shifted.drivers, people, weeks, base.horizon_start),
                pd.Index(late["gid"]).get_indexer(shifted.drivers["task_gid"]),
            ),
        ),
        shape=(n_cells, len(slipping)),
    )
    # What slipping changes per cell: the late spread minus the on-time spread of those tasks.
    a_delta = (a_late - a_on[:, slipping]).tocsr()
    log_sd = effort["log_sd"].to_numpy()
    rng = np.random.default_rng(seed)
    committed = _task_draws(rng, a_on, a_delta, slipping, slip_p, log_sd, draws)

    history = build_history(
        tasks,
        today=today,
        people=people,
        time_off=time_off,
        time_log=None if time_log is None else validate_time_log(time_log),
        horizon_weeks=weeks,
        max_weeks=FEATURE_WEEKS,
    )
    other, z = model.other_work(history, weeks)
    other = other.loc[other["person"] < len(people)]
    capacity = base.weekly["capacity_h"].to_numpy()
    # Other work arrives in proportion to the capacity present: a week of leave, a holiday or
    # the days of today's week already gone take their share of it away.
    contract = np.repeat(people["weekly_capacity_h"].to_numpy(np.float64), weeks)
    share = np.divide(capacity, contract, out=np.zeros(n_cells), where=contract > 0)
    share = np.clip(share, 0.0, 1.0)
    centre = other["other_h"].to_numpy() * share
    scale = other["scale_h"].to_numpy() * share * MAD_TO_SD
    task_var = (a_on.multiply(a_on)) @ np.expm1(log_sd**2)
    keep = np.sqrt(np.clip(1.0 - task_var / np.maximum(scale, EPS_H) ** 2, MIN_OTHER_SHARE**2, 1))
    # The stored quantiles are equally likely values of the residual: picking one at random
    # samples its distribution (to 1/200 resolution) without per-value interpolation.
    noise = z[rng.integers(0, z.size, size=(n_cells, draws))]
    other_draws = centre[:, None] + (scale * keep / MAD_TO_SD)[:, None] * noise
    total = np.maximum(committed + other_draws, 0.0)

    limit = threshold * capacity
    p_over = np.where(
        capacity > 0, (total > limit[:, None]).mean(axis=1), (total > EPS_H).mean(axis=1)
    )
    mean = total.mean(axis=1)
    p10, p50, p90 = _quantiles(total, (0.1, 0.5, 0.9))
    imputed = effort["imputed"].to_numpy()
    weekly = base.weekly[["person_gid", "week_start", "capacity_h", "committed_h"]].copy()
    weekly["mean_h"], weekly["p10_h"], weekly["p50_h"], weekly["p90_h"] = mean, p10, p50, p90
    weekly["p_over"] = p_over
    weekly["status"] = bands.classify(capacity, p_over, mean, p90).astype(object)
    weekly["imputed_h"] = a_on @ imputed.astype(np.float64)
    weekly["overdue_h"] = base.weekly["overdue_h"].to_numpy()
    weekly["other_h"] = other_draws.mean(axis=1)
    drivers = _top(on.drivers, top_drivers)
    drivers["imputed"] = imputed[pd.Index(open_tasks["gid"]).get_indexer(drivers["task_gid"])]
    return Forecast(
        weekly=weekly,
        drivers=drivers,
        model_version=model.version,
        fallback=None,
        quality=base.quality,
        threshold=threshold,
        draws=draws,
    )


def _spread(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    today: date,
    weeks: int,
    lead_days: int,
) -> Workload:
    return compute_workload(
        people, tasks, time_off, today=today, weeks=weeks, lead_days=lead_days, top_drivers=None
    )


def _cells(drivers: pd.DataFrame, people: pd.DataFrame, weeks: int, start: date) -> np.ndarray:
    """Cell number ``person row × weeks + week`` of each driver row."""
    person = pd.Index(people["gid"]).get_indexer(drivers["person_gid"])
    week = (drivers["week_start"] - pd.Timestamp(start)).dt.days.to_numpy() // 7
    return np.asarray(person * weeks + week, dtype=np.int64)


def _task_draws(
    rng: np.random.Generator,
    a_on: sparse.csr_matrix,
    a_delta: sparse.csr_matrix,
    slipping: np.ndarray,
    slip_p: FloatArray,
    log_sd: FloatArray,
    draws: int,
) -> FloatArray:
    """``(cells, draws)`` committed hours: lognormal effort multipliers and slips per task.

    Draws are generated per task in chunks of draws, never per task × day, and summed into
    cells through the sparse spread matrices.
    """
    n_cells, n_tasks = a_on.shape
    out = np.empty((n_cells, draws))
    sd = log_sd.astype(np.float32)[:, None]
    p = slip_p[slipping].astype(np.float32)[:, None]
    step = max(1, min(draws, CHUNK_CELLS_X_DRAWS // max(n_tasks, 1)))
    for lo in range(0, draws, step):
        k = min(step, draws - lo)
        multiplier = np.exp(sd * rng.standard_normal((n_tasks, k), dtype=np.float32) - sd * sd / 2)
        load = a_on @ multiplier
        if slipping.size:
            slipped = rng.random((slipping.size, k), dtype=np.float32) < p
            load += a_delta @ (multiplier[slipping] * slipped)
        out[:, lo : lo + k] = load
    return out


def _quantiles(values: FloatArray, levels: tuple[float, ...]) -> list[FloatArray]:
    """Row quantiles (nearest rank) with one partition of the draws instead of one per level."""
    n = values.shape[1]
    ranks = [min(int(round(q * (n - 1))), n - 1) for q in levels]
    parted = np.partition(values, sorted(set(ranks)), axis=1)
    return [np.asarray(parted[:, r], dtype=np.float64) for r in ranks]


def _top(drivers: pd.DataFrame, top: int) -> pd.DataFrame:
    ordered = drivers.sort_values(
        ["person_gid", "week_start", "hours"], ascending=[True, True, False], kind="stable"
    )
    return (
        ordered.groupby(["person_gid", "week_start"], sort=False).head(top).reset_index(drop=True)
    )


def _arithmetic(base: Workload, threshold: float, why: str, top: int) -> Forecast:
    weekly = base.weekly[["person_gid", "week_start", "capacity_h", "committed_h"]].copy()
    committed = weekly["committed_h"].to_numpy()
    capacity = weekly["capacity_h"].to_numpy()
    for column in ("mean_h", "p10_h", "p50_h", "p90_h"):
        weekly[column] = committed
    over = np.where(capacity > 0, committed > threshold * capacity, committed > EPS_H)
    weekly["p_over"] = over.astype(np.float64)
    weekly["status"] = base.weekly["status"].to_numpy()
    weekly["imputed_h"] = 0.0
    weekly["overdue_h"] = base.weekly["overdue_h"].to_numpy()
    weekly["other_h"] = 0.0
    drivers = _top(base.drivers, top)
    drivers["imputed"] = False
    return Forecast(
        weekly=weekly,
        drivers=drivers,
        model_version=None,
        fallback=why,
        quality=base.quality,
        threshold=threshold,
        draws=0,
    )
