from __future__ import annotations

import functools
import pickle
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import sparse, special, stats

from forecasting.forecast import NO_MODEL, Forecast, RiskBands, forecast_load
from forecasting.model import NO_HISTORY, CapacityModel
from forecasting.montecarlo import OtherWork, _standard_normal, committed_load, simulate_load
from forecasting.spread import EPS_H
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


def test_forecast_gives_the_same_numbers_when_the_model_has_forecast_the_data_before():
    org = _org()
    model = pickle.loads(pickle.dumps(_model()))  # a copy that has scored nothing yet
    cold = _forecast(org.people, org.tasks, org.time_off, model=model, weeks=6)

    warm = _forecast(org.people, org.tasks, org.time_off, model=model, weeks=6)

    pd.testing.assert_frame_equal(warm.weekly, cold.weekly)
    pd.testing.assert_frame_equal(warm.drivers, cold.drivers)


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


def _cell_case(seed: int = 4) -> dict:
    """3 people × 4 weeks: 45 tasks spanning one or two weeks, two thirds of them slip-prone.

    A late task moves part of its hours a week later (out of the horizon from the last week);
    person 3's last week has zero capacity and only work that arrives by slipping.
    """
    rng = np.random.default_rng(seed)
    n_tasks, weeks = 45, 4
    on, late = np.zeros((12, n_tasks)), np.zeros((12, n_tasks))
    for t in range(n_tasks):
        person, week = rng.integers(0, 3), rng.integers(0, weeks - 1 if t % 9 == 0 else weeks)
        hours, share = rng.uniform(2.0, 12.0), rng.choice([1.0, rng.uniform(0.3, 0.8)])
        if person == 2 and week >= 2:  # nothing reaches the last week on time
            week, share = 2, 1.0
        cell = person * weeks + week
        on[cell, t] = hours * share
        if week + 1 < weeks:
            on[cell + 1, t] = hours * (1 - share)
        moved = rng.uniform(0.2, 0.6) * on[cell, t]
        late[:, t] = on[:, t]
        late[cell, t] -= moved
        if week + 1 < weeks:
            late[cell + 1, t] += moved
    slipping = np.flatnonzero(np.arange(n_tasks) % 3 != 0)
    capacity = np.tile([20.0, 25.0, 30.0, 18.0], 3)
    capacity[11] = 0.0
    return {
        "on": on,
        "late": late[:, slipping],
        "slipping": slipping,
        "slip_p": rng.uniform(0.05, 0.7, slipping.size),
        "log_sd": rng.uniform(0.2, 0.7, n_tasks),
        "other": OtherWork(
            centre=np.where(capacity > 0, 3.0, 0.0),
            sd=np.where(capacity > 0, 2.0, 0.0),
            z=special.ndtri(np.linspace(0.0025, 0.9975, 201)),
        ),
        "limit": np.where(capacity > 0, capacity, EPS_H),
    }


def _per_task_totals(case: dict, draws: int, seed: int) -> np.ndarray:
    """``(cells, draws)`` totals simulated task by task (the forecast before per-cell draws)."""
    rng = np.random.default_rng(seed)
    sd, n_tasks = case["log_sd"], case["on"].shape[1]
    multiplier = np.exp(sd * rng.standard_normal((draws, n_tasks)) - sd**2 / 2)
    slipped = np.zeros((draws, n_tasks))
    slipped[:, case["slipping"]] = rng.random((draws, case["slipping"].size)) < case["slip_p"]
    delta = np.zeros_like(case["on"])
    delta[:, case["slipping"]] = case["late"] - case["on"][:, case["slipping"]]
    committed = (multiplier @ case["on"].T + (multiplier * slipped) @ delta.T).T
    other = case["other"]
    noise = other.z[rng.integers(0, other.z.size, size=committed.shape)]
    return np.maximum(committed + other.centre[:, None] + other.sd[:, None] * noise, 0.0)


def _per_cell(case: dict, draws: int, seed: int):
    committed = committed_load(
        sparse.csr_matrix(case["on"]),
        sparse.csr_matrix(case["late"]),
        case["slipping"],
        case["slip_p"],
        case["log_sd"],
    )
    rng = np.random.default_rng(seed)
    return simulate_load(rng, committed, case["other"], draws=draws, limit=case["limit"])


def test_committed_load_has_the_exact_moments_of_the_task_sum_when_tasks_slip():
    # One cell, two tasks: a slip-prone 10 h task that leaves 6 h in the cell when late, and
    # a 4 h task that never slips.
    on = sparse.csr_matrix(np.array([[10.0, 4.0]]))
    late = sparse.csr_matrix(np.array([[6.0]]))
    p, sd = 0.3, np.array([0.5, 0.4])
    second, third = np.exp(sd**2), np.exp(3 * sd**2)  # E[m²], E[m³] of a mean-one lognormal
    slip_mean = 0.7 * 10 + 0.3 * 6
    slip_second = second[0] * (0.7 * 10**2 + 0.3 * 6**2)
    slip_third = third[0] * (0.7 * 10**3 + 0.3 * 6**3)
    mean = slip_mean + 4
    var = slip_second - slip_mean**2 + 4**2 * (second[1] - 1)
    third_moment = (slip_third - 3 * slip_mean * slip_second + 2 * slip_mean**3) + 4**3 * (
        third[1] - 3 * second[1] + 2
    )

    load = committed_load(on, late, np.array([0]), np.array([p]), sd)

    assert load.mean[0] == pytest.approx(mean, rel=1e-12)
    assert load.var[0] == pytest.approx(var, rel=1e-12)
    assert load.third[0] == pytest.approx(third_moment, rel=1e-9)


def test_committed_load_is_the_same_when_slipping_tasks_come_in_any_order():
    case = _cell_case()
    shuffled = np.random.default_rng(0).permutation(case["slipping"].size)

    load = committed_load(
        sparse.csr_matrix(case["on"]),
        sparse.csr_matrix(case["late"][:, shuffled]),
        case["slipping"][shuffled],
        case["slip_p"][shuffled],
        case["log_sd"],
    )

    ordered = committed_load(
        sparse.csr_matrix(case["on"]),
        sparse.csr_matrix(case["late"]),
        case["slipping"],
        case["slip_p"],
        case["log_sd"],
    )
    for name in ("mean", "var", "third", "p_late", "zero", "offset", "factor", "shape"):
        np.testing.assert_array_equal(getattr(load, name), getattr(ordered, name))


def test_per_cell_draws_agree_with_per_task_draws_when_many_tasks_share_cells():
    case = _cell_case()
    totals = _per_task_totals(case, draws=40_000, seed=1)

    load = _per_cell(case, draws=40_000, seed=2)

    scale = np.maximum(np.quantile(totals, 0.9, axis=1), 1.0)
    np.testing.assert_allclose(load.mean, totals.mean(axis=1), rtol=0.01, atol=0.01)
    for got, q in ((load.p10, 0.1), (load.p50, 0.5), (load.p90, 0.9)):
        assert np.all(np.abs(got - np.quantile(totals, q, axis=1)) <= 0.03 * scale)
    over = (totals > case["limit"][:, None]).mean(axis=1)
    np.testing.assert_allclose(load.p_over, over, atol=0.03)
    assert 0.0 < over[11] < 1.0  # the zero-capacity cell: work arrives only by slipping


def test_per_cell_draws_keep_the_chance_of_an_empty_week_when_its_tasks_may_slip_away():
    # Cell 0: two tasks that only arrive when late (p 0.2, 0.3); cell 1: two tasks that leave
    # entirely when late (p 0.6, 0.5). No other work, zero capacity: P(over) = P(any work).
    on = sparse.csr_matrix(np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 5.0, 3.0]]))
    late = sparse.csr_matrix(np.array([[4.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    committed = committed_load(
        on, late, np.arange(4), np.array([0.2, 0.3, 0.6, 0.5]), np.full(4, 0.3)
    )
    nothing = OtherWork(centre=np.zeros(2), sd=np.zeros(2), z=np.zeros(201))

    load = simulate_load(
        np.random.default_rng(0), committed, nothing, draws=20_000, limit=np.full(2, EPS_H)
    )

    np.testing.assert_allclose(load.p_over, [1 - 0.8 * 0.7, 1 - 0.6 * 0.5], atol=0.015)
    assert load.p10.tolist() == [0.0, 0.0]


def test_per_cell_draws_give_other_work_alone_when_no_task_can_reach_the_cell():
    # Cell 0: a 10 h task; cell 1: none. Both have the same other work.
    on = sparse.csr_matrix(np.array([[10.0], [0.0]]))
    late = sparse.csr_matrix(np.zeros((2, 0)))
    committed = committed_load(on, late, np.zeros(0, dtype=np.int64), np.zeros(0), np.full(1, 0.3))
    z = special.ndtri(np.linspace(0.0025, 0.9975, 201))
    other = OtherWork(centre=np.full(2, 3.0), sd=np.full(2, 2.0), z=z)
    idle = np.maximum(3.0 + 2.0 * z, 0.0)  # the equally likely loads of cell 1

    load = simulate_load(
        np.random.default_rng(0), committed, other, draws=40_000, limit=np.full(2, 5.0)
    )

    assert committed.busy.tolist() == [True, False]
    assert load.mean[1] == pytest.approx(idle.mean(), rel=0.01)
    for got, q in ((load.p10, 0.1), (load.p50, 0.5), (load.p90, 0.9)):
        assert got[1] == pytest.approx(np.quantile(idle, q), abs=0.03 * idle.max())
    assert load.p_over[1] == pytest.approx((idle > 5.0).mean(), abs=0.01)
    assert load.mean[0] == pytest.approx(10.0 + idle.mean(), rel=0.01)


def test_standard_normals_follow_the_normal_distribution_when_drawn_in_float32():
    values = _standard_normal(np.random.default_rng(0), (401, 999)).astype(np.float64).ravel()

    assert values.size == 401 * 999
    assert abs(values.mean()) < 0.01 and abs(values.std() - 1.0) < 0.01
    assert stats.kstest(values, "norm").pvalue > 0.05
