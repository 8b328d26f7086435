"""Rolling-origin evaluation of the forecast against baselines, on any team's history.

Pure numpy/pandas/scikit-learn over the frame contracts; must not import ``bot``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from forecasting import frames
from forecasting.forecast import forecast_load
from forecasting.history import NAT, build_history, day_numbers, tasks_as_of, validate_time_log
from forecasting.model import CapacityModel

MIN_HISTORY_WEEKS = 4  # a person is scored from their 5th week on, when MA4 exists
DEFAULT_CAPACITY_H = 40.0  # weekly capacity of people the caller did not describe
BASELINES = ("committed", "last_week", "ma4")


@dataclass(frozen=True)
class BacktestResult:
    """Scores of one rolling-origin backtest, and the scored rows behind them.

    Attributes:
        weeks_evaluated: origins (Mondays) with at least one scored person.
        people: distinct people scored.
        model: ``mae_1w``, ``mae_4w`` (of the median, p50_h), ``brier_over`` (of ``p_over``).
        baselines: the same for ``committed`` (the arithmetic load as known at the origin),
            ``last_week`` (the week before the origin) and ``ma4`` (mean of the 4 weeks before);
            their ``brier_over`` scores the 0/1 call "point forecast above threshold".
        slip_auc: AUC of P(late) for dated tasks open at a refit and completed later, or None.
        rows: one row per origin × person × step: ``origin, person_gid, step, realised_h,
            capacity_h, over, p50_h, mean_h, p_over, committed, last_week, ma4``.
    """

    weeks_evaluated: int
    people: int
    model: dict[str, float | None]
    baselines: dict[str, dict[str, float | None]]
    slip_auc: float | None
    rows: pd.DataFrame = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """The scores as JSON-ready values (None where not computable)."""
        return {
            "weeks_evaluated": self.weeks_evaluated,
            "people": self.people,
            "model": dict(self.model),
            "baselines": {name: dict(scores) for name, scores in self.baselines.items()},
            "slip_auc": self.slip_auc,
        }

    def brier_skill(self) -> float | None:
        """Brier skill of ``p_over`` against the base rate of the scored rows (1 = perfect)."""
        if self.rows.empty:
            return None
        over = self.rows["over"].to_numpy(np.float64)
        reference = float(np.mean((over - over.mean()) ** 2))
        if reference == 0.0:
            return None
        return 1.0 - float(np.mean((self.rows["p_over"] - over) ** 2)) / reference


def run_backtest(
    tasks: pd.DataFrame,
    *,
    time_log: pd.DataFrame | None = None,
    horizon_weeks: int = 4,
    people: pd.DataFrame | None = None,
    seed: int = 0,
    time_off: pd.DataFrame | None = None,
    refit_weeks: int = 13,
    min_train_weeks: int = 26,
    first_origin: date | None = None,
    last_origin: date | None = None,
    draws: int = 200,
    threshold: float = 1.0,
    model_params: Mapping[str, Any] | None = None,
) -> BacktestResult:
    """Forecast from every Monday of the history with only what was known then; score it.

    At each origin the model (refitted every ``refit_weeks`` weeks, on data before the refit
    day) forecasts ``horizon_weeks`` weeks with :func:`forecasting.forecast.forecast_load`
    from the tasks as they stood (:func:`forecasting.history.tasks_as_of`) and the time logged
    before it. Realised load per person-week is the time log when given, otherwise actual
    hours spread over start..completion working days. A person-week is scored when it lies
    between the person's first and last realised week (gap weeks count as 0) and the person
    has :data:`MIN_HISTORY_WEEKS` realised weeks before the origin. "Over" means realised
    load above ``threshold`` × capacity (above 0 at zero capacity).

    Args:
        tasks: the ``tasks`` contract: completed and open tasks of the whole period.
        time_log: ``person_gid, day, hours`` (optionally ``task_gid``).
        horizon_weeks: weeks forecast from each origin; ``mae_4w`` needs >= 4.
        people: the ``people`` contract; without it everyone gets
            :data:`DEFAULT_CAPACITY_H` hours over Mon-Fri and no team.
        seed: seeds the model and the Monte Carlo.
        time_off: the ``time_off`` contract.
        refit_weeks: weeks between refits of the model.
        min_train_weeks: realised weeks before the first origin.
        first_origin, last_origin: bound the origins (their Mondays).
        draws: Monte Carlo draws per forecast.
        threshold: over = load > threshold × capacity.
        model_params: extra :class:`CapacityModel` settings.
    """
    tasks = frames.validate("tasks", tasks)
    log = None if time_log is None else validate_time_log(time_log)
    people = _people(tasks, log) if people is None else frames.validate("people", people)
    time_off = frames.empty("time_off") if time_off is None else time_off
    end = _end_of_data(tasks, log)
    full = build_history(
        tasks, today=end, people=people, time_off=time_off, time_log=log, horizon_weeks=1
    )
    n_people = len(people)
    first, last = full.first[:n_people], full.last[:n_people]
    origins = np.arange(min_train_weeks, full.weeks, dtype=np.int64)
    origin_days = [_date(full.start + 7 * int(o)) for o in origins]
    keep = [
        (first_origin is None or d >= first_origin - timedelta(days=first_origin.weekday()))
        and (last_origin is None or d <= last_origin)
        for d in origin_days
    ]
    rows: list[pd.DataFrame] = []
    slip_scores: dict[str, tuple[float, int]] = {}
    model: CapacityModel | None = None
    fitted_at = -(10**9)
    for o, day, wanted in zip(origins, origin_days, keep, strict=True):
        scored = (first <= o - MIN_HISTORY_WEEKS) & (o <= last)
        if not wanted or not scored.any():
            continue
        known = tasks_as_of(tasks, day)
        logged = None if log is None else log.loc[log["day"] < pd.Timestamp(day)]
        if model is None or o - fitted_at >= refit_weeks:
            params = dict(model_params or {})
            model = CapacityModel(horizon_weeks=horizon_weeks, random_state=seed, **params)
            model.fit(tasks, today=day, people=people, time_off=time_off, time_log=log)
            fitted_at = int(o)
            _score_slip(model, tasks, known, slip_scores)
        forecast = forecast_load(
            people,
            known,
            time_off,
            today=day,
            weeks=horizon_weeks,
            model=model,
            draws=draws,
            seed=seed,
            threshold=threshold,
            time_log=logged,
        )
        rows.append(_rows(forecast.weekly, full.hours[:n_people], int(o), first, last, day))
    scored_rows = pd.concat(rows, ignore_index=True) if rows else _empty_rows()
    scored_rows["over"] = np.where(
        scored_rows["capacity_h"] > 0,
        scored_rows["realised_h"] > threshold * scored_rows["capacity_h"],
        scored_rows["realised_h"] > 0,
    )
    return _result(scored_rows, horizon_weeks, threshold, slip_scores)


def _rows(
    weekly: pd.DataFrame,
    hours: np.ndarray,
    origin: int,
    first: np.ndarray,
    last: np.ndarray,
    day: date,
) -> pd.DataFrame:
    n_people, n_weeks = hours.shape
    steps = len(weekly) // max(n_people, 1)
    person = np.repeat(np.arange(n_people), steps)
    step = np.tile(np.arange(1, steps + 1), n_people)
    target = origin + step - 1
    ok = (first[person] <= origin - MIN_HISTORY_WEEKS) & (target <= last[person])
    ok &= target < n_weeks
    before = hours[:, origin - MIN_HISTORY_WEEKS : origin]
    return pd.DataFrame(
        {
            "origin": pd.Timestamp(day),
            "person_gid": weekly["person_gid"].to_numpy()[ok],
            "step": step[ok],
            "realised_h": hours[person[ok], target[ok]],
            "capacity_h": weekly["capacity_h"].to_numpy()[ok],
            "p50_h": weekly["p50_h"].to_numpy()[ok],
            "mean_h": weekly["mean_h"].to_numpy()[ok],
            "p_over": weekly["p_over"].to_numpy()[ok],
            "committed": weekly["committed_h"].to_numpy()[ok],
            "last_week": before[person[ok], -1],
            "ma4": before[person[ok]].mean(axis=1),
        }
    )


def _empty_rows() -> pd.DataFrame:
    columns = "origin person_gid step realised_h capacity_h p50_h mean_h p_over committed"
    return pd.DataFrame({c: [] for c in (*columns.split(), "last_week", "ma4")})


def _result(
    rows: pd.DataFrame, horizon: int, threshold: float, slip: dict[str, tuple[float, int]]
) -> BacktestResult:
    def mae(column: str, step: int) -> float | None:
        at = rows.loc[rows["step"] == step]
        if at.empty or step > horizon:
            return None
        return float(np.mean(np.abs(at["realised_h"] - at[column])))

    def brier(p: pd.Series) -> float | None:
        if rows.empty:
            return None
        return float(np.mean((p.to_numpy(np.float64) - rows["over"].to_numpy(np.float64)) ** 2))

    limit = threshold * rows["capacity_h"]

    def called(column: str) -> pd.Series:
        point = rows[column]
        return pd.Series(np.where(limit > 0, point > limit, point > 0), dtype="float64")

    model = {
        "mae_1w": mae("p50_h", 1),
        "mae_4w": mae("p50_h", 4),
        "brier_over": brier(rows["p_over"]),
    }
    baselines = {
        name: {"mae_1w": mae(name, 1), "mae_4w": mae(name, 4), "brier_over": brier(called(name))}
        for name in BASELINES
    }
    auc = None
    if slip:
        p, y = (np.array(v) for v in zip(*slip.values(), strict=True))
        if 0 < y.sum() < y.size:
            auc = float(roc_auc_score(y, p))
    first_step = rows.loc[rows["step"] == 1]
    return BacktestResult(
        weeks_evaluated=int(first_step["origin"].nunique()),
        people=int(rows["person_gid"].nunique()),
        model=model,
        baselines=baselines,
        slip_auc=auc,
        rows=rows,
    )


def _score_slip(
    model: CapacityModel,
    tasks: pd.DataFrame,
    known: pd.DataFrame,
    scores: dict[str, tuple[float, int]],
) -> None:
    """First P(late) of each dated task open at a refit whose completion is known later."""
    if model.slip_ is None:
        return
    open_now = known.loc[~known["completed"] & known["due_on"].notna()]
    truth = tasks.set_index("gid")
    outcome = truth.reindex(open_now["gid"])
    done = outcome["completed"].fillna(False).astype(bool) & outcome["completed_at"].notna()
    done &= ~open_now["gid"].isin(scores).to_numpy()
    candidates = open_now.loc[done.to_numpy()]
    if candidates.empty:
        return
    p = model.slip_probability(candidates, known)
    late = day_numbers(truth.loc[candidates["gid"], "completed_at"]) > day_numbers(
        candidates["due_on"]
    )
    for gid, prob, y in zip(candidates["gid"], p, late, strict=True):
        scores[str(gid)] = (float(prob), int(y))


def _people(tasks: pd.DataFrame, log: pd.DataFrame | None) -> pd.DataFrame:
    gids = pd.unique(
        pd.Series([*tasks["assignee_gid"].dropna(), *(() if log is None else log["person_gid"])])
    )
    return frames.validate(
        "people",
        pd.DataFrame(
            {
                "gid": gids,
                "name": gids,
                "email": None,
                "team": None,
                "weekly_capacity_h": DEFAULT_CAPACITY_H,
                "workdays": frames.FULL_WEEK,
                "timezone": None,
                "country": None,
                "skills": [()] * len(gids),
                "is_active": True,
            }
        ),
    )


def _end_of_data(tasks: pd.DataFrame, log: pd.DataFrame | None) -> date:
    """The Monday after the last dated event (completion or log day)."""
    days = [day_numbers(tasks["completed_at"])]
    if log is not None:
        days.append(day_numbers(log["day"]))
    every = np.concatenate(days)
    latest = int(every[every != NAT].max(initial=0))
    monday = latest - (latest + 3) % 7  # 1970-01-01 was a Thursday
    return _date(monday + 7)


def _date(day_number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day_number))
