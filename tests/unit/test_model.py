from __future__ import annotations

import functools
import pickle
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from forecasting import row_memo
from forecasting.calendar import capacity_grid
from forecasting.effort import EstimateImputer, fit_bias
from forecasting.history import build_history
from forecasting.model import NO_HISTORY, NOT_FITTED, CapacityModel
from forecasting.panel import FEATURE_WEEKS, build_panel
from forecasting.slip import SlipModel
from forecasting.slip_features import slip_training_set, task_slip_features
from forecasting.synthetic import SyntheticOrg, generate_org
from tests.builders import a_person, a_task, people_frame, tasks_frame

TODAY = date(2025, 3, 12)


def _done(person: str, estimate: float, actual: float, days_ago: int, **extra: object) -> dict:
    day = TODAY - timedelta(days=days_ago)
    row = {
        "assignee_gid": person,
        "estimate_h": estimate,
        "actual_h": actual,
        "remaining_h": 0.0,
        "completed": True,
        "completed_at": day,
        "start_on": day - timedelta(days=2),
        "due_on": day,
        "created_at": day - timedelta(days=20),
    }
    return a_task(**(row | extra))


def _small_model(**settings: object) -> CapacityModel:
    return CapacityModel(max_iter=20, min_train_rows=20, slip=False, **settings)


def test_capacity_model_raises_when_used_before_fit():
    model = CapacityModel()

    with pytest.raises(ValueError, match=re.escape(NOT_FITTED)):
        model.corrected_effort(tasks_frame(a_task()))


def test_fit_bias_gives_the_team_value_when_a_person_has_three_tasks():
    ratios = np.log(np.r_[np.full(40, 1.2), np.full(3, 3.0)])
    person = pd.Series(["a"] * 20 + ["b"] * 20 + ["c"] * 3)
    teams = pd.Series({"a": "T", "b": "T", "c": "T"})

    table = fit_bias(ratios, person, teams, min_tasks=5).table.set_index("person_gid")

    assert table.loc["c", "shrunk_from"] == "team"
    assert table.loc["c", "bias"] < 1.5
    assert table.loc["a", "shrunk_from"] == "person"
    assert table.loc["a", "bias"] == pytest.approx(1.2, rel=0.05)


def test_fit_bias_shrinks_towards_the_team_when_people_differ_little():
    rng = np.random.default_rng(0)
    ratios = rng.normal(np.log(1.1), 0.3, size=60)
    person = pd.Series(np.repeat(["a", "b", "c"], 20))
    teams = pd.Series({"a": "T", "b": "T", "c": "T"})

    table = fit_bias(ratios, person, teams, min_tasks=5).table

    raw = pd.Series(ratios).groupby(person.to_numpy()).mean()
    assert np.ptp(table["log_bias"]) < np.ptp(raw.to_numpy())


def test_capacity_model_recovers_hidden_biases_when_fitted_on_the_demo_org():
    org = generate_org(3, today=TODAY, people=12, open_tasks=100, history_months=6)

    model = _small_model().fit(org.tasks, today=TODAY, people=org.people)

    joined = model.bias_.merge(org.truth, on="person_gid")
    rho = joined[["bias", "estimate_bias"]].corr(method="spearman").iloc[0, 1]
    assert rho >= 0.8
    assert set(model.bias_.columns) == {
        "person_gid",
        "team",
        "bias",
        "n_tasks",
        "shrunk_from",
        "log_sd",
    }


def test_capacity_model_has_no_history_fallback_when_nothing_was_completed():
    tasks = tasks_frame(a_task(due_on=date(2025, 3, 14)))

    model = CapacityModel().fit(tasks, today=TODAY)

    assert model.fallback_ == NO_HISTORY
    assert model.bias_["bias"].tolist() == [1.0]
    assert model.bias_["shrunk_from"].tolist() == ["org"]


def test_capacity_model_ignores_outcomes_after_today_when_fitting():
    past = [_done("p1", 4.0, 6.0, d) for d in range(3, 30, 3)]
    future = _done("p1", 4.0, 40.0, -5)

    before = _small_model().fit(tasks_frame(*past), today=TODAY)
    after = _small_model().fit(tasks_frame(*past, future), today=TODAY)

    assert after.bias_["bias"].iloc[0] == pytest.approx(before.bias_["bias"].iloc[0])


def test_capacity_model_version_is_stable_and_follows_settings_when_refitted():
    tasks = tasks_frame(*[_done("p1", 4.0, 5.0, d) for d in range(3, 30, 3)])

    first = _small_model().fit(tasks, today=TODAY).version
    again = _small_model().fit(tasks, today=TODAY).version
    other = _small_model(min_tasks_for_person=2).fit(tasks, today=TODAY).version

    assert re.fullmatch(r"[0-9a-f]{12}", first)
    assert first == again
    assert first != other


def test_corrected_effort_scales_by_bias_and_flags_imputed_when_tasks_are_unestimated():
    history = [_done("p1", 4.0, 8.0, d) for d in range(2, 60, 2)]
    open_tasks = [
        a_task(gid="known", due_on=date(2025, 3, 20), remaining_h=5.0),
        a_task(gid="blank", due_on=date(2025, 3, 20), remaining_h=None, estimate_h=None),
    ]
    model = _small_model().fit(tasks_frame(*history), today=TODAY)

    effort = model.corrected_effort(tasks_frame(*history, *open_tasks)).set_index("task_gid")

    assert effort.loc["known", "expected_h"] == pytest.approx(10.0, rel=0.1)
    assert not effort.loc["known", "imputed"]
    assert effort.loc["blank", "imputed"]
    assert effort.loc["blank", "expected_h"] > 0
    assert effort.loc["blank", "log_sd"] > effort.loc["known", "log_sd"]


def test_corrected_effort_imputes_from_actual_hours_when_nothing_was_ever_estimated():
    history = [a_task(**{**_done("p1", 1.0, 6.0, d), "estimate_h": None}) for d in range(2, 40, 2)]
    blank = a_task(gid="blank", due_on=date(2025, 3, 20), remaining_h=None, estimate_h=None)
    model = _small_model().fit(tasks_frame(*history), today=TODAY)

    effort = model.corrected_effort(tasks_frame(blank)).set_index("task_gid")

    assert model.imputer_.target_ == "actual_h"
    assert effort.loc["blank", "expected_h"] == pytest.approx(6.0, rel=0.2)


def test_capacity_model_fits_every_correction_when_history_has_a_single_person():
    org = generate_org(5, today=TODAY, people=1, teams=1, open_tasks=20, history_months=6)

    model = CapacityModel(max_iter=20, min_train_rows=10).fit(
        org.tasks, today=TODAY, people=org.people
    )

    assert len(model.bias_) == 1
    assert model.bias_["shrunk_from"].iloc[0] == "person"
    assert model.regressor_ is not None
    assert model.fallback_ is None


def test_capacity_model_learns_slip_days_when_late_tasks_exist():
    late = [_done("p1", 4.0, 4.0, d, due_on=TODAY - timedelta(days=d + 4)) for d in range(3, 60, 3)]

    model = _small_model().fit(tasks_frame(*late), today=TODAY, people=people_frame(a_person()))

    assert model.slip_days_ == 4


def test_panel_reads_the_days_before_the_origin_but_not_today_s_week_when_time_is_logged():
    log = pd.DataFrame(
        {
            "person_gid": ["p1"] * 4,
            "day": pd.to_datetime(["2025-03-03", "2025-03-07", "2025-03-09", "2025-03-11"]),
            "hours": [5.0, 2.0, 3.0, 4.0],
        }
    )
    history = build_history(tasks_frame(), today=TODAY, time_log=log)

    panel = build_panel(history, np.array([history.weeks]), 1, np.zeros(1), np.arange(1))

    row = panel.X.iloc[0]
    assert history.hours[0].tolist() == [10.0]  # the week of 3 March; today's week is not realised
    assert (row["hours_last3d"], row["active_days7"], row["days_since_work"]) == (5.0, 3.0, 1.0)


@functools.cache
def _demo() -> tuple[SyntheticOrg, CapacityModel]:
    org = generate_org(3, today=TODAY, people=12, open_tasks=100, history_months=6)
    return org, CapacityModel(max_iter=20, min_train_rows=20).fit(
        org.tasks, today=TODAY, people=org.people
    )


def _cold(model: CapacityModel) -> CapacityModel:
    """A copy that has scored nothing yet: the memos are not pickled."""
    copy: CapacityModel = pickle.loads(pickle.dumps(model))
    return copy


def _rows_scored(monkeypatch: pytest.MonkeyPatch, cls: type, method: str) -> list[int]:
    """The number of rows of every call of ``cls.method`` from now on."""
    calls: list[int] = []
    original = getattr(cls, method)

    def counted(self: object, X: pd.DataFrame, *args: object) -> object:
        calls.append(len(X))
        return original(self, X, *args)

    monkeypatch.setattr(cls, method, counted)
    return calls


def _open(tasks: pd.DataFrame) -> pd.DataFrame:
    return tasks[~tasks["completed"]]


def test_slip_probability_scores_no_row_again_when_the_same_tasks_come_back(monkeypatch):
    org, fitted = _demo()
    model = _cold(fitted)
    scored = _rows_scored(monkeypatch, SlipModel, "predict_proba")

    first = model.slip_probability(_open(org.tasks), org.tasks)
    again = model.slip_probability(_open(org.tasks), org.tasks)

    assert scored == [len(_open(org.tasks))]
    np.testing.assert_array_equal(again, first)


def test_slip_probability_scores_only_the_changed_task_when_its_due_date_moves(monkeypatch):
    org, fitted = _demo()
    model = _cold(fitted)
    model.slip_probability(_open(org.tasks), org.tasks)
    changed = org.tasks.copy()
    dated = _open(changed)["due_on"].notna() & _open(changed)["created_at"].notna()
    moved = changed["gid"] == _open(changed).loc[dated, "gid"].iloc[0]
    changed.loc[moved, "due_on"] += pd.Timedelta(days=9)
    scored = _rows_scored(monkeypatch, SlipModel, "predict_proba")

    p = model.slip_probability(_open(changed), changed)

    assert scored == [1]
    np.testing.assert_array_equal(p, _cold(fitted).slip_probability(_open(changed), changed))


def test_slip_probability_forgets_its_scores_when_the_model_is_refitted():
    org, _ = _demo()
    model = CapacityModel(max_iter=20, min_train_rows=20).fit(org.tasks, today=TODAY)
    before = model.slip_probability(_open(org.tasks), org.tasks)
    fewer = org.tasks.drop(index=org.tasks.index[org.tasks["completed"]][::2])

    after = model.fit(fewer, today=TODAY).slip_probability(_open(org.tasks), org.tasks)

    other = CapacityModel(max_iter=20, min_train_rows=20).fit(fewer, today=TODAY)
    assert not np.array_equal(after, before)
    np.testing.assert_array_equal(after, other.slip_probability(_open(org.tasks), org.tasks))


def test_slip_probability_forgets_its_scores_when_the_slip_model_is_refitted_in_place():
    org, fitted = _demo()
    model = _cold(fitted)
    model.slip_probability(_open(org.tasks), org.tasks)
    X, y = slip_training_set(org.tasks, today=TODAY)
    assert model.slip_ is not None
    model.slip_.fit(X.iloc[: len(y) // 2], y[: len(y) // 2])

    p = model.slip_probability(_open(org.tasks), org.tasks)

    features = task_slip_features(_open(org.tasks), org.tasks, today=TODAY)
    dated = _open(org.tasks)["due_on"].notna().to_numpy()
    np.testing.assert_array_equal(p, np.where(dated, model.slip_.predict_proba(features), 0.0))


def test_other_work_predicts_each_panel_row_once_when_asked_twice(monkeypatch):
    org, fitted = _demo()
    model = _cold(fitted)
    history = build_history(org.tasks, today=TODAY, people=org.people, max_weeks=FEATURE_WEEKS)
    predicted = _rows_scored(monkeypatch, HistGradientBoostingRegressor, "predict")

    first, _ = model.other_work(history, 4)
    again, _ = model.other_work(history, 4)

    assert predicted == [len(first)]
    pd.testing.assert_frame_equal(again, first)


def test_corrected_effort_imputes_each_task_once_when_asked_twice(monkeypatch):
    org, fitted = _demo()
    model = _cold(fitted)
    imputed = _rows_scored(monkeypatch, EstimateImputer, "predict_features")

    first = model.corrected_effort(org.tasks)
    again = model.corrected_effort(org.tasks)

    assert imputed == [int(first["imputed"].sum())] and imputed[0] > 0
    pd.testing.assert_frame_equal(again, first)


def test_build_history_gives_the_same_capacity_when_given_a_wider_grid():
    org = _demo()[0]
    grid = capacity_grid(
        org.people, org.time_off, TODAY - timedelta(weeks=60), TODAY + timedelta(weeks=30)
    )
    settings = {"today": TODAY, "people": org.people, "time_off": org.time_off, "horizon_weeks": 6}

    shared = build_history(org.tasks, max_weeks=FEATURE_WEEKS, grid=grid, **settings)

    alone = build_history(org.tasks, max_weeks=FEATURE_WEEKS, **settings)
    np.testing.assert_array_equal(shared.capacity, alone.capacity)
    np.testing.assert_array_equal(shared.hours, alone.hours)


class _Doubler:
    """A row-wise estimator whose every scored row is recorded."""

    def __init__(self) -> None:
        self.scored: list[int] = []

    def compute(self, matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
        self.scored.extend(rows.tolist())
        return np.asarray(2.0 * matrix[rows, 0], dtype=np.float64)


def test_row_memo_scores_only_unseen_rows_and_starts_again_when_full(monkeypatch):
    monkeypatch.setattr(row_memo, "MEMO_ROWS", 4)
    memo, estimator = row_memo.RowMemo(), _Doubler()
    first = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    second = np.array([[3.0, 0.0], [4.0, 0.0]])  # one seen, one new: 4 rows kept
    third = np.array([[5.0, 0.0], [1.0, 0.0]])  # a fifth row: start again from these two

    def apply(matrix: np.ndarray) -> np.ndarray:
        return memo.apply(estimator, matrix, functools.partial(estimator.compute, matrix))

    outputs = [apply(first), apply(second), apply(third), apply(third), apply(first)]

    for matrix, out in zip([first, second, third, third, first], outputs, strict=True):
        np.testing.assert_array_equal(out, 2.0 * matrix[:, 0])
    # Rows by position in each call: all 3, the new one, the new one, none, the two forgotten.
    assert estimator.scored == [0, 1, 2, 1, 0, 1, 2]
