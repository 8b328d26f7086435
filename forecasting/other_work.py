"""Other work: the rows its regressor learns from and the spread of that regressor's residuals.

Other work is a person-week's realised hours minus the bias-corrected plan known at the origin
(unplanned work, work outside the plan's windows); ``forecasting.model`` fits the regressor.
Pure numpy/pandas; must not import ``bot`` (nor ``forecasting.model``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.calendar import FloatArray, IntArray
from forecasting.history import History
from forecasting.panel import Panel, build_panel

Z_QUANTILES = 201  # resolution of the stored distribution of standardised residuals
RESIDUAL_PRIOR = 8.0  # pseudo-rows pulling a person's residual scale towards everyone's


@dataclass(frozen=True)
class ResidualSpread:
    """How far realised other work falls from the regressor's median.

    Attributes:
        step_scale: mean absolute residual per step (weeks ahead, from 1).
        person_scale: per person gid, a factor on it (shrunk to 1 by :data:`RESIDUAL_PRIOR`).
        z: :data:`Z_QUANTILES` quantiles of the standardised residuals, centred on the median.
    """

    step_scale: list[float]
    person_scale: dict[str, float]
    z: FloatArray


def training_rows(
    history: History,
    log_bias: FloatArray,
    *,
    train_weeks: int,
    horizon_weeks: int,
    gap_weeks: int,
    max_train_rows: int,
) -> tuple[Panel, FloatArray]:
    """Panel rows of the latest ``train_weeks`` origins and their other work (the target).

    Args:
        history: realised weeks and the plans known at each origin.
        log_bias: per person of ``history``, the log estimation bias the plan is corrected by.
        train_weeks: origins this many weeks back at most.
        horizon_weeks: steps (weeks ahead) per origin.
        gap_weeks: weeks after a person's last realised week that still count as zeros.
        max_train_rows: rows kept at most, the most recent first.
    """
    n_w = history.weeks
    # Origins late enough in the window for complete features (unless data starts later).
    origins = np.arange(max(1, n_w - train_weeks), n_w, dtype=np.int64)
    people = np.flatnonzero(history.first < n_w - 1)
    if origins.size == 0 or people.size == 0:
        empty = build_panel(history, np.zeros(0, np.int64), 1, np.zeros(0), people[:0])
        return empty, np.zeros(0)
    panel = build_panel(history, origins, horizon_weeks, log_bias, people)
    # A row needs a realised target inside the person's working life so far: weeks before
    # someone's first or after their last logged week are not zeros to learn from.
    p, t = panel.person, panel.target_week
    keep = (t < n_w) & (panel.origin > history.first[p])
    keep &= t <= history.last[p] + gap_weeks
    rows = np.flatnonzero(keep)
    if rows.size > max_train_rows:  # the most recent rows matter most
        rows = rows[np.argsort(-panel.origin[rows], kind="stable")[:max_train_rows]]
        rows.sort()
    panel = _subset(panel, rows)
    realised = history.hours[panel.person, panel.target_week]
    return panel, realised - panel.plan_h * np.exp(log_bias[panel.person])


def residual_spread(
    resid: FloatArray, step: IntArray, gids: np.ndarray, *, horizon_weeks: int
) -> ResidualSpread:
    """Per-step mean absolute residual, per-person factor (shrunk to 1), residual shape."""
    scale = []
    for s in range(1, horizon_weeks + 1):
        at = resid[step == s]
        scale.append(float(np.mean(np.abs(at))) if at.size else float(np.mean(np.abs(resid))))
    by_step = np.maximum(np.asarray(scale), 1e-6)
    ratio = np.abs(resid) / by_step[step - 1]
    stats = pd.DataFrame({"g": gids, "r": ratio}).groupby("g")["r"].agg(["sum", "count"])
    factor = (stats["sum"] + RESIDUAL_PRIOR) / (stats["count"] + RESIDUAL_PRIOR)
    z = resid / (by_step[step - 1] * factor.reindex(gids).to_numpy())
    # Centred on the median: the shape of the spread comes from the holdout, the centre from
    # the regressor refitted on every row (the holdout model lags behind recent weeks).
    return ResidualSpread(
        step_scale=[float(v) for v in by_step],
        person_scale={str(g): float(v) for g, v in factor.items()},
        z=np.quantile(z - np.median(z), np.linspace(0.0, 1.0, Z_QUANTILES)),
    )


def residual_scale(
    panel: Panel, gids: np.ndarray, step_scale: list[float], person_scale: dict[str, float]
) -> FloatArray:
    """Residual scale (hours) of each panel row: its step's scale times its person's factor."""
    by_step = np.asarray(step_scale, dtype=np.float64)
    step = np.minimum(panel.step, len(by_step)) - 1
    person = pd.Series(gids[panel.person], dtype=object).map(person_scale)
    factor = person.astype("float64").fillna(1.0).to_numpy()
    return np.asarray(by_step[step] * factor, dtype=np.float64)


def _subset(panel: Panel, rows: IntArray) -> Panel:
    return Panel(
        X=panel.X.iloc[rows].reset_index(drop=True),
        person=panel.person[rows],
        origin=panel.origin[rows],
        step=panel.step[rows],
        target_week=panel.target_week[rows],
        plan_h=panel.plan_h[rows],
    )
