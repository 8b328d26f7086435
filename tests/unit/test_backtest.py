from __future__ import annotations

import functools
from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import BacktestResult, run_backtest
from forecasting.synthetic import generate_org

TODAY = date(2025, 3, 12)
SETTINGS = {"max_iter": 20, "min_train_rows": 20, "slip": False}


@functools.cache
def _result() -> BacktestResult:
    org = generate_org(2, today=TODAY, people=4, teams=1, open_tasks=10, history_months=8)
    log = pd.DataFrame(
        {
            "person_gid": org.time_entries["person_gid"],
            "day": org.time_entries["entered_on"],
            "hours": org.time_entries["minutes"] / 60.0,
        }
    )
    return run_backtest(
        org.tasks,
        time_log=log,
        people=org.people,
        first_origin=date(2024, 12, 2),
        last_origin=date(2025, 1, 20),
        refit_weeks=13,
        draws=20,
        model_params=SETTINGS,
    )


def test_backtest_to_json_has_exactly_the_published_keys_when_run():
    scores = _result().to_json()

    assert list(scores) == ["weeks_evaluated", "people", "model", "baselines", "slip_auc"]
    assert list(scores["model"]) == ["mae_1w", "mae_4w", "brier_over"]
    assert list(scores["baselines"]) == ["committed", "last_week", "ma4"]
    for baseline in scores["baselines"].values():
        assert list(baseline) == ["mae_1w", "mae_4w", "brier_over"]


def test_backtest_scores_model_and_baselines_on_the_same_rows_when_history_exists():
    result = _result()
    rows = result.rows.loc[result.rows["step"] == 1]

    assert result.weeks_evaluated == rows["origin"].nunique() >= 3
    assert result.people == 4
    ma4 = float(np.mean(np.abs(rows["realised_h"] - rows["ma4"])))
    assert result.baselines["ma4"]["mae_1w"] == pytest.approx(ma4)
    assert result.model["mae_1w"] is not None and result.model["mae_1w"] > 0
    assert (result.rows["origin"] >= pd.Timestamp(2024, 12, 2)).all()


def test_backtest_baselines_use_only_weeks_before_the_origin_when_scoring():
    rows = _result().rows
    one = rows.loc[rows["step"] == 4].iloc[0]
    same = rows.loc[
        (rows["step"] == 1)
        & (rows["person_gid"] == one["person_gid"])
        & (rows["origin"] == one["origin"])
    ].iloc[0]

    assert one["last_week"] == same["last_week"]
    assert one["ma4"] == same["ma4"]


def test_backtest_returns_nulls_when_history_is_too_short_to_score():
    org = generate_org(4, today=TODAY, people=2, teams=1, open_tasks=5, history_months=1)

    result = run_backtest(org.tasks, people=org.people, draws=10, model_params=SETTINGS)

    assert result.to_json()["model"] == {"mae_1w": None, "mae_4w": None, "brier_over": None}
    assert result.weeks_evaluated == 0
    assert result.brier_skill() is None
