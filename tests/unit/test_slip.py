from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from forecasting.slip import NOT_FITTED, SlipModel
from forecasting.slip_features import FEATURES, slip_training_set, task_slip_features
from forecasting.synthetic import generate_org
from tests.builders import a_task, tasks_frame

TODAY = date(2025, 6, 2)
JAN = date(2025, 1, 1)


@pytest.fixture(autouse=True, scope="module")
def one_openmp_thread() -> Iterator[None]:
    """Boosting's OpenMP threads busy-wait: on a shared 2-core box a 0.2 s fit can take 40 s."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def _day(n: int) -> date:
    return JAN + timedelta(days=n)


def _done(created: int, due: int, completed: int, **overrides) -> dict:
    """A completed task created, due and completed on day offsets from 1 January 2025."""
    dates = {"created_at": _day(created), "start_on": _day(created), "due_on": _day(due)}
    done = {"completed": True, "completed_at": _day(completed), "remaining_h": 0.0, "actual_h": 8.0}
    return a_task(**(dates | done | overrides))


def _known_probability(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    p = 1 / (1 + np.exp(-(1.5 * x[:, 0] - x[:, 1] - 1.0)))
    x[rng.random(n) < 0.1, 2] = np.nan  # an uninformative column with gaps
    X = pd.DataFrame(x, columns=["a", "b", "noise"])
    return X, (rng.random(n) < p).astype(np.int64), p


def test_slip_model_matches_observed_late_share_when_true_probability_is_known():
    X, y, _ = _known_probability(6000, seed=1)
    X_new, y_new, p_true = _known_probability(20000, seed=2)

    p = SlipModel(max_iter=100).fit(X, y).predict_proba(X_new)

    deciles = np.minimum((pd.Series(p).rank(pct=True).to_numpy() * 10).astype(int), 9)
    predicted = np.bincount(deciles, weights=p) / np.bincount(deciles)
    observed = np.bincount(deciles, weights=y_new) / np.bincount(deciles)
    assert np.abs(predicted - observed).max() < 0.05
    assert np.abs(p - p_true).mean() < 0.05


def test_slip_model_keeps_few_trees_when_the_labels_are_noise():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(4000, 3)), columns=["a", "b", "c"])
    y = (rng.random(4000) < 0.3).astype(np.int64)

    stopped = SlipModel(max_iter=100).fit(X, y)
    grown = SlipModel(max_iter=100, stop_on_holdout=False).fit(X, y)

    assert stopped.n_trees_ is not None and stopped.n_trees_ < 20
    assert grown.n_trees_ == 100


def test_slip_model_keeps_more_trees_when_the_labels_follow_the_features():
    X, y, _ = _known_probability(6000, seed=4)

    model = SlipModel(max_iter=100).fit(X, y)

    assert model.n_trees_ is not None and model.n_trees_ >= 20


def test_slip_model_scores_the_stage_it_keeps_when_it_is_not_refitted():
    X, y, _ = _known_probability(4000, seed=5)
    X_new, _, _ = _known_probability(500, seed=6)

    stopped = SlipModel(max_iter=100, refit=False).fit(X, y)
    again = SlipModel(max_iter=stopped.n_trees_ or 0, refit=False, stop_on_holdout=False)
    again.fit(X, y)

    assert stopped.n_trees_ is not None and stopped.n_trees_ < 100
    np.testing.assert_array_equal(stopped.predict_proba(X_new), again.predict_proba(X_new))


def test_slip_model_predicts_constant_base_rate_when_y_has_one_class():
    X, _, _ = _known_probability(300, seed=3)

    model = SlipModel().fit(X, np.zeros(300, dtype=int))

    assert model.fallback_ == "every row is on time: constant base rate 0.000"
    assert model.predict_proba(X).tolist() == [0.0] * 300


def test_slip_model_predicts_base_rate_when_a_class_has_too_few_rows():
    X, _, _ = _known_probability(100, seed=4)
    y = np.r_[np.ones(3, dtype=int), np.zeros(97, dtype=int)]

    model = SlipModel().fit(X, y)

    assert model.classifier_ is None
    assert model.fallback_.startswith("only 3 row(s) of one class")
    assert np.allclose(model.predict_proba(X), 0.03)


def test_slip_model_falls_back_to_logistic_regression_when_rows_are_few():
    X, y, _ = _known_probability(80, seed=5)

    model = SlipModel(min_rows=200).fit(X, y)

    probe = pd.DataFrame({"a": [-2.0, 0.0, 2.0], "b": [0.0] * 3, "noise": [np.nan] * 3})
    assert model.fallback_ == "80 rows < min_rows=200: logistic regression"
    p = model.predict_proba(probe)
    assert p[0] < p[1] < p[2]


def test_slip_model_raises_value_error_when_predicting_before_fit():
    X, _, _ = _known_probability(10, seed=6)

    with pytest.raises(ValueError, match=re.escape(NOT_FITTED)):
        SlipModel().predict_proba(X)


def test_slip_model_raises_when_a_fitted_column_is_missing():
    X, y, _ = _known_probability(300, seed=7)
    model = SlipModel().fit(X, y)

    with pytest.raises(ValueError, match=re.escape("X is missing fitted column(s): b")):
        model.predict_proba(X.drop(columns=["b"]))


def test_slip_model_raises_when_labels_are_not_binary():
    X, _, _ = _known_probability(5, seed=8)

    with pytest.raises(ValueError, match=re.escape("y must hold only 0 (on time) and 1 (late)")):
        SlipModel().fit(X, np.array([0, 1, 2, 0, 1]))


def test_slip_model_predicts_identically_when_fitted_twice_with_the_same_seed():
    X, y, _ = _known_probability(1500, seed=9)

    first = SlipModel(random_state=3, max_iter=50).fit(X, y).predict_proba(X)
    second = SlipModel(random_state=3, max_iter=50).fit(X, y).predict_proba(X)

    assert np.array_equal(first, second)


def test_slip_training_set_keeps_dated_tasks_completed_before_today_and_labels_late_ones():
    history = tasks_frame(
        _done(0, 10, 12, gid="late"),
        _done(1, 10, 10, gid="on_time"),
        _done(2, 10, 9, gid="no_due", due_on=None),
        _done(3, 200, (TODAY - JAN).days, gid="done_today"),
        a_task(gid="open", due_on=_day(10), created_at=_day(0)),
    )

    X, y = slip_training_set(history, today=TODAY)

    assert X.index.tolist() == ["late", "on_time"]
    assert y.tolist() == [1, 0]
    assert X.columns.tolist() == list(FEATURES)


def test_slip_training_set_counts_only_earlier_outcomes_when_building_the_track_record():
    history = tasks_frame(
        _done(0, 5, 9, gid="a"),  # late, known on day 9
        _done(4, 30, 20, gid="b"),  # created before "a" finished; on time, known on day 20
        _done(20, 20, 20, gid="e"),  # created and finished the day "b" finished
        _done(25, 40, 50, gid="c"),  # late
        _done(25, 60, 55, gid="d", assignee_gid="p2"),  # on time
    )

    X, _ = slip_training_set(history, today=TODAY)

    past = {"a": 0, "b": 0, "e": 1, "c": 3, "d": 0}
    assert X["assignee_past_tasks"].to_dict() == past
    assert X.loc[["a", "b"], "assignee_late_share"].isna().all()  # no outcome known anywhere
    # c: 1 late of 3 for p1, shrunk by 5 pseudo-outcomes towards the org's 1/3.
    assert X.loc["c", "assignee_late_share"] == pytest.approx((1 + 5 / 3) / (3 + 5))
    assert X.loc["c", "project_past_tasks"] == 3


def test_slip_training_set_features_ignore_the_outcome_when_it_changes():
    rows = [_done(0, 5, 9, gid="a"), _done(4, 30, 20, gid="b"), _done(25, 40, 50, gid="c")]
    flipped = [*rows[:2], rows[2] | {"completed_at": _day(35), "actual_h": 1.0}]

    X, y = slip_training_set(tasks_frame(*rows), today=TODAY)
    X_flipped, y_flipped = slip_training_set(tasks_frame(*flipped), today=TODAY)

    assert y.tolist() != y_flipped.tolist()
    pd.testing.assert_frame_equal(X, X_flipped)
    assert not {"actual_h", "remaining_h", "completed_at", "delay_days"} & set(FEATURES)


def test_slip_training_set_counts_open_load_without_the_task_itself_when_it_is_created():
    history = tasks_frame(
        _done(0, 30, 20, gid="early", estimate_h=6.0),
        _done(10, 12, 12, gid="closed_before", estimate_h=3.0),
        _done(15, 30, 25, gid="target", estimate_h=8.0),
        a_task(gid="still_open", created_at=_day(14), estimate_h=5.0),
    )

    X, _ = slip_training_set(history, today=TODAY)

    assert X.loc["target", "assignee_open_tasks"] == 2  # early and still_open
    assert X.loc["target", "assignee_open_h"] == 11.0


def test_task_slip_features_uses_every_outcome_before_today_when_scoring_open_work():
    history = tasks_frame(
        _done(0, 5, 9, gid="a"),
        _done(4, 30, 20, gid="b"),
        a_task(gid="open", created_at=_day(100), due_on=_day(160), start_on=_day(150)),
        a_task(gid="nobody", assignee_gid=None, created_at=_day(100), due_on=_day(160)),
    )
    open_tasks = history[~history["completed"]]

    X = task_slip_features(open_tasks, history, today=TODAY)

    assert X.index.tolist() == ["open", "nobody"]
    assert X.loc["open", "assignee_past_tasks"] == 2
    assert X.loc["open", "assignee_late_share"] == pytest.approx((1 + 5 * 0.5) / (2 + 5))
    assert X.loc["open", "window_days"] == 10
    assert X.loc["open", "lead_days"] == 60
    assert X.loc["nobody", ["assignee_past_tasks", "assignee_open_tasks"]].isna().all()


def test_slip_model_ranks_the_late_prone_assignee_first_when_one_person_is_always_late():
    rng = np.random.default_rng(0)
    rows = []
    for k in range(600):
        person = ["always_late", "p2", "p3"][k % 3]
        created = k // 2
        late = person == "always_late" or rng.random() < 0.05
        due = created + 10
        rows.append(_done(created, due, due + 3 if late else due - 1, assignee_gid=person))
    X, y = slip_training_set(tasks_frame(*rows), today=_day(400))
    cut = int(len(y) * 0.8)

    p = SlipModel(max_iter=50).fit(X.iloc[:cut], y[:cut]).predict_proba(X.iloc[cut:])

    assert roc_auc_score(y[cut:], p) > 0.8


def test_slip_training_set_builds_a_fittable_set_when_given_a_synthetic_org():
    org = generate_org(7, today=TODAY, people=8, open_tasks=100, history_months=4)
    tasks = org.tasks
    finished = tasks[tasks["completed"] & tasks["due_on"].notna()]

    X, y = slip_training_set(tasks, today=TODAY)
    open_features = task_slip_features(tasks[~tasks["completed"]], tasks, today=TODAY)
    p = SlipModel(max_iter=50).fit(X, y).predict_proba(open_features)

    labels = (finished["completed_at"] > finished["due_on"]).set_axis(finished["gid"])
    assert sorted(X.index) == sorted(finished["gid"])
    assert y.tolist() == labels.loc[X.index].astype(int).tolist()
    assert p.shape == (int((~tasks["completed"]).sum()),)
    assert ((p >= 0) & (p <= 1)).all()


def test_slip_model_fits_when_a_feature_has_no_value_in_any_row() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"size": rng.random(400), "track_record": np.full(400, np.nan)})
    y = (X["size"] + rng.normal(0, 0.2, 400) > 0.6).astype(int).to_numpy()

    p = SlipModel(random_state=0).fit(X, y).predict_proba(X)

    assert p.shape == (400,) and 0.0 < p.mean() < 1.0
