"""Probabilistic weekly load: Monte Carlo over the learned corrections, P(over capacity), status.

Owns ``RiskBands``, ``Forecast`` and ``forecast_load``: the model's corrections (effort, slip,
other work) composed over the spreads of :mod:`forecasting.forecast_horizon` and drawn by
:mod:`forecasting.montecarlo`, or the arithmetic fallback. Pure numpy/pandas/scipy over the
frame contracts; must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from forecasting import frames
from forecasting.calendar import FloatArray
from forecasting.forecast_horizon import Horizon, cell_drivers, spreads
from forecasting.history import build_history, validate_time_log
from forecasting.model import CapacityModel
from forecasting.montecarlo import OtherWork, committed_load, simulate_load
from forecasting.panel import FEATURE_WEEKS
from forecasting.spread import EPS_H, DataQuality
from forecasting.workload import Workload

NO_MODEL = "no model: the arithmetic committed load is shown"
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

    The model: every open task's expected remaining hours (bias-corrected, imputed when
    unestimated; :meth:`CapacityModel.corrected_effort`) times a mean-one lognormal multiplier
    with the task's ``log_sd``; with its slip probability the task slips, and its effort is then
    spread over a window extended by ``model.slip_days_`` past its due date (so part of it
    moves later); the hours follow the committed-load rules of
    :func:`forecasting.workload.compute_workload`. Each person-week then adds other work: the
    model's median plus a draw from its residual distribution, scaled to the person, its spread
    reduced by the variance the task multipliers already carry (moment matching, never below
    half). Other work is scaled by the week's capacity over the contracted weekly hours (leave,
    holidays and the days of today's week already gone remove their share; none at zero
    capacity). Loads are clipped at 0.

    Draws are per person-week, not per task: the committed hours of a week come from a
    lognormal mixture with the exact mean and variance of its task sum, conditioned on the
    week's most variable slip and with an atom at zero
    (:func:`forecasting.montecarlo.committed_load`), so the cost is the spreads plus weeks ×
    draws. Weeks are drawn independently: what is reported per week (mean, p10/p50/p90,
    ``p_over``) keeps its distribution, but the correlation between a person's weeks (one
    task's overrun felt in every week it spans) is not represented, so sums of draws across
    weeks would understate their spread.

    Without a model, or with one that had no history, the arithmetic committed load is returned
    (``mean = p10 = p50 = p90 = committed``, ``p_over`` 0 or 1) and ``fallback`` says why.

    Args:
        people, tasks, time_off: the frame contracts; ``tasks`` holds open and completed tasks
            (the completed ones feed the other-work features when there is no ``time_log``).
        today: the reference date.
        weeks: weeks in the horizon (>= 1).
        model: a fitted :class:`CapacityModel`, or None.
        draws: Monte Carlo draws per person-week (>= 1).
        seed: seed of the numpy generator.
        threshold: over means load > ``threshold`` × capacity (> 0 h at zero capacity).
        lead_days: lead window of due-only tasks, as in the committed load.
        bands: status cut-offs; default :class:`RiskBands`.
        time_log: realised time ``person_gid, day, hours`` for the other-work features.
        top_drivers: tasks kept per person-week in ``drivers``.
    """
    if draws < 1 or threshold <= 0:
        raise ValueError(f"draws must be >= 1 and threshold > 0 (got {draws}, {threshold})")
    people = frames.validate("people", people)
    tasks = frames.validate("tasks", tasks)
    time_off = frames.validate("time_off", time_off)
    open_tasks = tasks.loc[~tasks["completed"].to_numpy(bool)].reset_index(drop=True)
    # The workload, the model and the slip features validate their inputs again; these frames
    # (and rows of them) were validated just above, so they pass through.
    with (
        frames.trusted("people", people),
        frames.trusted("tasks", tasks, open_tasks),
        frames.trusted("time_off", time_off),
    ):
        return _forecast(
            people,
            tasks,
            open_tasks,
            time_off,
            today=today,
            weeks=weeks,
            model=model,
            draws=draws,
            seed=seed,
            threshold=threshold,
            lead_days=lead_days,
            bands=bands or RiskBands(),
            time_log=time_log,
            top_drivers=top_drivers,
        )


def _forecast(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    open_tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    *,
    today: date,
    weeks: int,
    model: CapacityModel | None,
    draws: int,
    seed: int,
    threshold: float,
    lead_days: int,
    bands: RiskBands,
    time_log: pd.DataFrame | None,
    top_drivers: int,
) -> Forecast:
    # Late spreads move due dates later: the capacity grid must reach them too.
    slip_days = 0 if model is None or model.fallback_ is not None else max(model.slip_days_, 0)
    latest = open_tasks["due_on"].max()
    horizon = Horizon(
        people,
        time_off,
        today=today,
        weeks=weeks,
        lead_days=lead_days,
        latest_due=None if pd.isna(latest) else latest.date() + timedelta(days=slip_days),
    )
    # Completed tasks are not spread.
    if model is None:
        base = horizon.workload(open_tasks, top_drivers)
        return _arithmetic(base, threshold, NO_MODEL, top_drivers)
    if model.fallback_ is not None:
        base = horizon.workload(open_tasks, top_drivers)
        return _arithmetic(base, threshold, model.fallback_, top_drivers)
    base = horizon.workload(open_tasks, 0)  # drivers come from the corrected effort below

    effort = model.corrected_effort(open_tasks)
    on, late, candidates = spreads(horizon, open_tasks, base, effort, model.slip_days_)
    # Slip risk only matters for tasks whose late spread differs inside the horizon.
    delta = (late - on[:, candidates]).tocsc()
    delta.data[np.abs(delta.data) <= EPS_H] = 0.0
    delta.eliminate_zeros()
    moved = np.flatnonzero(np.diff(delta.indptr) > 0)
    slip_p = np.zeros(0)
    if moved.size:  # scoring is the costliest step of a forecast: only where it matters
        scored = open_tasks.iloc[candidates[moved]].reset_index(drop=True)
        with frames.trusted("tasks", scored):
            slip_p = model.slip_probability(scored, tasks)
    slips = moved[slip_p > 0]
    log_sd = effort["log_sd"].to_numpy(np.float64)
    committed = committed_load(on, late[:, slips], candidates[slips], slip_p[slip_p > 0], log_sd)

    capacity = base.weekly["capacity_h"].to_numpy()
    other = _other_work(model, horizon, tasks, time_log, capacity, on, log_sd)
    limit = np.where(capacity > 0, threshold * capacity, EPS_H)  # any work at zero capacity
    rng = np.random.default_rng(seed)
    load = simulate_load(rng, committed, other, draws=draws, limit=limit)

    imputed = effort["imputed"].to_numpy(bool)
    weekly = base.weekly[["person_gid", "week_start", "capacity_h", "committed_h"]].copy()
    weekly["mean_h"], weekly["p10_h"], weekly["p50_h"] = load.mean, load.p10, load.p50
    weekly["p90_h"], weekly["p_over"] = load.p90, load.p_over
    status = bands.classify(capacity, load.p_over, load.mean, load.p90)
    weekly["status"] = status.astype(object)
    weekly["imputed_h"] = on @ imputed.astype(np.float64)
    weekly["overdue_h"] = base.weekly["overdue_h"].to_numpy()
    weekly["other_h"] = other.mean
    return Forecast(
        weekly=weekly,
        drivers=cell_drivers(horizon, on, open_tasks["gid"].to_numpy(object), imputed, top_drivers),
        model_version=model.version,
        fallback=None,
        quality=base.quality,
        threshold=threshold,
        draws=draws,
    )


def _other_work(
    model: CapacityModel,
    horizon: Horizon,
    tasks: pd.DataFrame,
    time_log: pd.DataFrame | None,
    capacity: FloatArray,
    on: sparse.csr_matrix,
    log_sd: FloatArray,
) -> OtherWork:
    """The model's other work per cell, scaled to the capacity present."""
    history = build_history(
        tasks,
        today=horizon.today,
        people=horizon.people,
        time_off=horizon.time_off,
        time_log=None if time_log is None else validate_time_log(time_log),
        horizon_weeks=horizon.weeks,
        max_weeks=FEATURE_WEEKS,
        grid=horizon.history_grid,
    )
    other, z = model.other_work(history, horizon.weeks)
    other = other.loc[other["person"] < len(horizon.people)]
    # Other work arrives in proportion to the capacity present: a week of leave, a holiday or
    # the days of today's week already gone take their share of it away.
    contract = np.repeat(horizon.people["weekly_capacity_h"].to_numpy(np.float64), horizon.weeks)
    share = np.divide(capacity, contract, out=np.zeros(horizon.n_cells), where=contract > 0)
    share = np.clip(share, 0.0, 1.0)
    scale = other["scale_h"].to_numpy() * share * MAD_TO_SD
    task_var = on.multiply(on) @ np.expm1(log_sd**2)
    keep = np.sqrt(np.clip(1.0 - task_var / np.maximum(scale, EPS_H) ** 2, MIN_OTHER_SHARE**2, 1))
    return OtherWork(centre=other["other_h"].to_numpy() * share, sd=scale * keep / MAD_TO_SD, z=z)


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
