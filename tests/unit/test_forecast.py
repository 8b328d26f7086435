from __future__ import annotations

import functools
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from forecasting.forecast import NO_MODEL, Forecast, RiskBands, forecast_load
from forecasting.model import NO_HISTORY, CapacityModel
from forecasting.synthetic import SyntheticOrg, generate_org
from tests.builders import a_person, a_task, a_time_off, people_frame, tasks_frame, time_off_frame

TODAY = date(2025, 3, 12)  # a Wednesday; the horizon starts on Monday 10 March
WEEKLY_COLUMNS = [
    "person_gid",
    "week_start",
    "capacity_h",
    "committed_h",
    "mean_h",
    "p10_h",
    "p50_h",
    "p90_h",
    "p_over",
    "status",
    "imputed_h",
    "overdue_h",
    "other_h",
]


@functools.cache
def _org() -> SyntheticOrg:
    return generate_org(11, today=TODAY, people=6, teams=2, open_tasks=120, history_months=6)


@functools.cache
def _model() -> CapacityModel:
    org = _org()
    return CapacityModel(max_iter=30, min_train_rows=20).fit(
        org.tasks, today=TODAY, people=org.people, time_off=org.time_off
    )


def _history(person: str = "p1", n: int = 30) -> list[dict]:
    rows = []
    for k in range(n):
        day = TODAY - timedelta(days=3 + 3 * k)
        rows.append(
            a_task(
                assignee_gid=person,
                estimate_h=4.0,
                actual_h=6.0,
                remaining_h=0.0,
                completed=True,
                completed_at=day,
                start_on=day - timedelta(days=1),
                due_on=day,
                created_at=day - timedelta(days=15),
            )
        )
    return rows


def _forecast(people, tasks, time_off=None, model=None, **kwargs) -> Forecast:
    return forecast_load(
        people,
        tasks,
        time_off if time_off is not None else time_off_frame(),
        today=TODAY,
        model=model,
        draws=kwargs.pop("draws", 300),
        **kwargs,
    )


def test_forecast_falls_back_to_the_arithmetic_load_when_there_is_no_model():
    task = a_task(start_on=date(2025, 3, 12), due_on=date(2025, 3, 14), remaining_h=30.0)

    forecast = _forecast(people_frame(a_person()), tasks_frame(task))

    week = forecast.weekly.iloc[0]
    assert forecast.fallback == NO_MODEL
    assert forecast.model_version is None
    assert (week["mean_h"], week["p10_h"], week["p90_h"]) == (30.0, 30.0, 30.0)
    assert week["p_over"] == 1.0
    assert list(forecast.weekly.columns) == WEEKLY_COLUMNS


def test_forecast_falls_back_and_says_why_when_the_model_had_no_history():
    task = a_task(due_on=date(2025, 3, 14), remaining_h=4.0)
    model = CapacityModel().fit(tasks_frame(task), today=TODAY)

    forecast = _forecast(people_frame(a_person()), tasks_frame(task), model=model)

    assert forecast.fallback == NO_HISTORY
    assert forecast.weekly["committed_h"].sum() == pytest.approx(4.0)


def test_forecast_returns_a_distribution_per_person_week_when_the_model_is_fitted():
    org = _org()

    forecast = _forecast(org.people, org.tasks, org.time_off, model=_model(), weeks=4)

    weekly = forecast.weekly
    assert forecast.fallback is None
    assert forecast.model_version == _model().version
    assert list(weekly.columns) == WEEKLY_COLUMNS
    assert len(weekly) == 6 * 4
    assert (weekly["p10_h"] <= weekly["p50_h"]).all() and (weekly["p50_h"] <= weekly["p90_h"]).all()
    assert weekly["p_over"].between(0, 1).all()
    assert set(weekly["status"]) <= {"over", "at_risk", "ok", "under", "off"}
    assert set(forecast.drivers.columns) == {
        "person_gid",
        "week_start",
        "task_gid",
        "hours",
        "imputed",
    }


def test_forecast_is_reproducible_when_the_seed_is_fixed():
    org = _org()

    first = _forecast(org.people, org.tasks, org.time_off, model=_model(), seed=3)
    second = _forecast(org.people, org.tasks, org.time_off, model=_model(), seed=3)

    pd.testing.assert_frame_equal(first.weekly, second.weekly)


def test_forecast_p_over_falls_when_the_threshold_rises():
    org = _org()

    strict = _forecast(org.people, org.tasks, org.time_off, model=_model(), threshold=0.8)
    loose = _forecast(org.people, org.tasks, org.time_off, model=_model(), threshold=1.5)

    assert (strict.weekly["p_over"] >= loose.weekly["p_over"]).all()
    assert strict.weekly["p_over"].sum() > loose.weekly["p_over"].sum()


def test_forecast_covers_a_new_hire_when_they_have_no_history():
    org = _org()
    hire = a_person(gid="new", team=org.people["team"].iloc[0])
    people = pd.concat([org.people, people_frame(hire)], ignore_index=True)
    task = a_task(assignee_gid="new", due_on=date(2025, 3, 21), remaining_h=10.0)
    tasks = pd.concat([org.tasks, tasks_frame(task)], ignore_index=True)

    forecast = _forecast(people, tasks, org.time_off, model=_model())

    mine = forecast.weekly.loc[forecast.weekly["person_gid"] == "new"]
    assert len(mine) == 4
    assert mine["mean_h"].sum() >= 10.0
    assert np.isfinite(mine[["mean_h", "p10_h", "p90_h", "p_over"]].to_numpy()).all()


def test_forecast_is_off_without_other_work_when_on_leave_for_the_whole_horizon():
    history = _history()
    model = CapacityModel(max_iter=20, min_train_rows=5, slip=False).fit(
        tasks_frame(*history), today=TODAY
    )
    leave = time_off_frame(a_time_off(start_on=date(2025, 3, 1), end_on=date(2025, 5, 1)))

    forecast = _forecast(people_frame(a_person()), tasks_frame(*history), leave, model=model)

    assert forecast.weekly["status"].tolist() == ["off"] * 4
    assert forecast.weekly["mean_h"].sum() == 0.0
    assert forecast.weekly["p_over"].sum() == 0.0


def test_forecast_is_over_when_a_person_with_zero_capacity_has_work():
    history = _history()
    model = CapacityModel(max_iter=20, min_train_rows=5, slip=False).fit(
        tasks_frame(*history), today=TODAY
    )
    task = a_task(start_on=date(2025, 3, 17), due_on=date(2025, 3, 21), remaining_h=5.0)
    people = people_frame(a_person(weekly_capacity_h=0.0))

    forecast = _forecast(people, tasks_frame(*history, task), model=model)

    week = forecast.weekly.iloc[1]
    assert week["capacity_h"] == 0.0
    assert week["status"] == "over"
    assert week["p_over"] == 1.0


def test_forecast_keeps_a_year_long_task_in_proportion_when_it_spans_a_year():
    history = _history()
    model = CapacityModel(max_iter=20, min_train_rows=5, slip=False).fit(
        tasks_frame(*history), today=TODAY
    )
    long = a_task(gid="long", start_on=TODAY, due_on=date(2026, 3, 11), remaining_h=2000.0)
    expected = model.corrected_effort(tasks_frame(long))["expected_h"].iloc[0]
    working_days = int(np.busday_count(TODAY, date(2026, 3, 12)))

    forecast = _forecast(people_frame(a_person()), tasks_frame(*history, long), model=model)

    in_horizon = forecast.drivers.loc[forecast.drivers["task_gid"] == "long", "hours"].sum()
    assert in_horizon == pytest.approx(expected * 18 / working_days)
    assert forecast.weekly["mean_h"].iloc[1] == pytest.approx(
        expected * 5 / working_days + forecast.weekly["other_h"].iloc[1], rel=0.1
    )


def test_forecast_flags_imputed_hours_when_all_open_tasks_are_unestimated():
    org = _org()
    tasks = org.tasks.copy()
    is_open = ~tasks["completed"]
    tasks.loc[is_open, ["estimate_h", "remaining_h"]] = np.nan

    forecast = _forecast(org.people, tasks, org.time_off, model=_model())

    assert forecast.weekly["committed_h"].sum() == 0.0
    assert forecast.weekly["imputed_h"].sum() > 0.0
    assert forecast.drivers["imputed"].all()
    assert len(forecast.quality.unestimated) == int(is_open.sum())


def test_forecast_moves_effort_later_when_slip_is_certain():
    task = a_task(gid="s", start_on=date(2025, 3, 17), due_on=date(2025, 3, 21), remaining_h=20.0)
    model = _model()
    people = people_frame(a_person())
    certain = CapacityModel(max_iter=20, min_train_rows=5, slip=False)
    certain.__dict__.update(model.__dict__)

    class Always:
        def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
            return np.ones(len(X))

    certain.slip_, certain.slip_days_ = Always(), 7  # type: ignore[assignment]
    never = _forecast(people, tasks_frame(task), model=model, draws=50)
    late = _forecast(people, tasks_frame(task), model=certain, draws=50)

    assert late.weekly["mean_h"].iloc[2] - late.weekly["other_h"].iloc[2] > 1.0
    assert (
        never.weekly["mean_h"].iloc[2] - never.weekly["other_h"].iloc[2]
        < late.weekly["mean_h"].iloc[2] - late.weekly["other_h"].iloc[2]
    )


def test_risk_bands_classify_by_p_over_when_capacity_is_known():
    capacity = np.array([40.0, 40.0, 40.0, 40.0, 0.0])
    p_over = np.array([0.6, 0.3, 0.05, 0.0, 0.0])
    mean = np.array([45.0, 38.0, 30.0, 5.0, 0.0])
    p90 = np.array([50.0, 44.0, 36.0, 10.0, 0.0])

    status = RiskBands().classify(capacity, p_over, mean, p90)

    assert status.tolist() == ["over", "at_risk", "ok", "under", "off"]


def test_risk_bands_reject_cut_offs_when_out_of_order():
    with pytest.raises(ValueError, match="risk bands must satisfy"):
        RiskBands(over=0.1, at_risk=0.3)
