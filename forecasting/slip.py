"""Slip risk: the calibrated probability that a task finishes after its due date.

Owns the slip features (known when the prediction is made, never the outcome) and the model;
pure numpy/pandas/scikit-learn, must not import ``bot``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from forecasting import frames

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Calibration = Literal["sigmoid", "isotonic"]

FEATURES = (
    "estimate_h",
    "window_days",  # due - start (or - creation when unstarted), calendar days
    "lead_days",  # due - creation, calendar days
    "hours_per_day",  # estimate_h / (window_days + 1): how tight the plan is
    "has_start",
    "dependencies",
    "priority",  # ordinal, see PRIORITY_RANK; NaN when unset or unknown
    "required_skills",
    "assignee_past_tasks",  # outcomes of the assignee known before the prediction
    "assignee_late_share",  # shrunk towards the org's late share then
    "assignee_overrun",  # mean log(actual_h / estimate_h), shrunk towards the org's
    "assignee_open_tasks",
    "assignee_open_h",  # estimated hours of those open tasks
    "project_past_tasks",
    "project_late_share",
)
PRIORITY_RANK = {
    "low": 0.0,
    "medium": 1.0,
    "normal": 1.0,
    "high": 2.0,
    "urgent": 3.0,
    "critical": 3.0,
}
PRIOR_TASKS = 5.0  # a track record of n outcomes weighs n / (n + 5) against the org's
NOT_FITTED = "SlipModel is not fitted yet: call fit(X, y) before predict_proba(X)"
_NAT = np.iinfo(np.int64).min


class SlipModel:
    """Calibrated P(task finishes after its due date) from a numeric feature frame.

    Gradient-boosted trees (NaN-aware) fitted on the earliest rows and calibrated on the latest
    ``calibration_fraction`` of rows; ``fit`` reads row order as time order, as
    :func:`slip_training_set` returns it. With ``refit`` the trees are then refitted on every
    row and keep the calibration map. Degenerate inputs fall back and say why in
    ``fallback_``: one class in ``y`` (or fewer than ``min_class_rows`` of one) gives the
    constant base rate; fewer than ``min_rows`` rows give a logistic regression.

    Args:
        random_state: seed of the boosting (fits are deterministic for a given seed).
        learning_rate, max_iter, max_leaf_nodes, min_samples_leaf, l2_regularization: passed to
            ``HistGradientBoostingClassifier``; the leaf settings did best on average over
            the delayed-issues validation slices (``benchmarks/slip_real.py``); at most 100
            trees at 0.1, stopped on the held-out rows, score as 200 trees at 0.05 did there
            (mean test AUC 0.895 against 0.897) at a third of the trees to score.
        calibration: ``"sigmoid"`` (Platt on the logit, keeps the ranking) or ``"isotonic"``
            (steps tie rows: AUC 0.874 against 0.883 on those validation slices).
        calibration_fraction: share of the latest rows held out to learn the calibration.
        refit: refit the trees on all rows after calibrating (AUC 0.878 against 0.872).
        stop_on_holdout: keep the number of trees (at most ``max_iter``) whose raw
            probabilities have the lowest log loss on the held-out latest rows, a time-ordered
            early stopping; without it every fit grows ``max_iter`` trees, noise or not.
        min_rows: below this many rows, fit a logistic regression instead.
        min_class_rows: below this many rows of a class, predict the base rate.

    Attributes:
        columns_: feature names seen by ``fit``, in order.
        base_rate_: share of late rows in ``y``.
        classifier_: the fitted estimator, or ``None`` when predicting the base rate.
        n_trees_: trees in the boosted classifier, or ``None`` when there is none.
        calibrator_: the map from raw to calibrated probability, or ``None``.
        calibration_: ``"isotonic"``, ``"sigmoid"`` or ``"none"``.
        fallback_: why a simpler model was used, or ``None``.
    """

    def __init__(
        self,
        *,
        random_state: int = 0,
        learning_rate: float = 0.1,
        max_iter: int = 100,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
        calibration: Calibration = "sigmoid",
        calibration_fraction: float = 0.2,
        refit: bool = True,
        stop_on_holdout: bool = True,
        min_rows: int = 200,
        min_class_rows: int = 5,
    ) -> None:
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.refit = refit
        self.stop_on_holdout = stop_on_holdout
        self.min_rows = min_rows
        self.min_class_rows = min_class_rows

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> SlipModel:
        """Learn from a numeric frame (NaN allowed) in time order and labels in {0, 1}.

        Raises:
            ValueError: no rows, non-numeric columns, or labels other than 0/1 or misaligned.
        """
        labels = np.asarray(y)
        if len(X) == 0:
            raise ValueError("SlipModel.fit needs at least one row")
        if labels.shape != (len(X),):
            raise ValueError(f"y has shape {labels.shape}, expected ({len(X)},)")
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("y must hold only 0 (on time) and 1 (late)")
        labels = labels.astype(np.int64)
        matrix = _matrix(X)
        self.columns_ = [str(c) for c in X.columns]
        self.base_rate_ = float(labels.mean())
        self.classifier_: HistGradientBoostingClassifier | Pipeline | None = None
        self.calibrator_: IsotonicRegression | LogisticRegression | None = None
        self.calibration_ = "none"
        self.fallback_: str | None = None
        self.n_trees_: int | None = None
        minority = int(np.bincount(labels, minlength=2).min())
        if minority == 0:
            kind = "late" if self.base_rate_ == 1.0 else "on time"
            self.fallback_ = f"every row is {kind}: constant base rate {self.base_rate_:.3f}"
        elif minority < self.min_class_rows:
            self.fallback_ = (
                f"only {minority} row(s) of one class (< min_class_rows={self.min_class_rows}): "
                f"constant base rate {self.base_rate_:.3f}"
            )
        elif len(labels) < self.min_rows:
            self.fallback_ = f"{len(labels)} rows < min_rows={self.min_rows}: logistic regression"
            self.classifier_ = _logistic(self.random_state).fit(matrix, labels)
        else:
            self._fit_boosted(matrix, labels)
        if self.fallback_ is not None:
            logger.info("slip model fallback: %s", self.fallback_)
        return self

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """P(late) per row, shape ``(n,)``; columns are matched by name, extras ignored.

        Raises:
            sklearn.exceptions.NotFittedError: (a ``ValueError``) before ``fit``.
            ValueError: a fitted column is missing or non-numeric.
        """
        if not hasattr(self, "base_rate_"):
            raise NotFittedError(NOT_FITTED)
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise ValueError(f"X is missing fitted column(s): {', '.join(missing)}")
        matrix = _matrix(X[self.columns_])
        if self.classifier_ is None:
            return np.full(len(matrix), self.base_rate_)
        return np.clip(self._calibrate(_p_late(self.classifier_, matrix)), 0.0, 1.0)

    def _booster(self, max_iter: int) -> HistGradientBoostingClassifier:
        # Not scikit-learn's early stopping: its validation split is random, which would leak
        # the future; ``stop_on_holdout`` stops on the latest rows instead.
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )

    def _fit_booster(
        self, matrix: FloatArray, labels: IntArray, max_iter: int
    ) -> HistGradientBoostingClassifier:
        # scikit-learn's binning fails on a column with no value at all (e.g. every early task
        # lacks a track record); as a constant it carries the same (no) information.
        empty = np.isnan(matrix).all(axis=0)
        if empty.any():
            matrix = matrix.copy()
            matrix[:, empty] = 0.0
        booster = self._booster(max_iter).fit(matrix, labels)
        self.n_trees_ = int(booster.n_iter_)
        return booster

    def _fit_boosted(self, matrix: FloatArray, labels: IntArray) -> None:
        n = len(labels)
        n_cal = int(round(n * self.calibration_fraction))
        head, tail = labels[: n - n_cal], labels[n - n_cal :]
        if n_cal == 0 or min(_minority(head), _minority(tail)) < self.min_class_rows:
            self.fallback_ = (
                f"too few of a class in the held-out latest {n_cal} rows: uncalibrated boosting"
            )
            self.classifier_ = self._fit_booster(matrix, labels, self.max_iter)
            return
        booster = self._fit_booster(matrix[: n - n_cal], head, self.max_iter)
        if self.stop_on_holdout:
            trees, raw = _best_stage(booster, matrix[n - n_cal :], tail)
        else:
            trees, raw = self.max_iter, _p_late(booster, matrix[n - n_cal :])
        if self.calibration == "isotonic":
            self.calibrator_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            self.calibrator_.fit(raw, tail)
        else:
            self.calibrator_ = LogisticRegression(C=100.0).fit(_logit(raw), tail)
        self.calibration_ = self.calibration
        # The latest rows carry the most recent behaviour; the map learnt on them still applies
        # to a booster refitted on everything, as both rank rows alike. Boosting without
        # subsampling is deterministic, so a fit of ``trees`` iterations is the stage scored.
        if self.refit:
            self.classifier_ = self._fit_booster(matrix, labels, trees)
        elif trees < booster.n_iter_:
            self.classifier_ = self._fit_booster(matrix[: n - n_cal], head, trees)
        else:
            self.classifier_ = booster

    def _calibrate(self, raw: FloatArray) -> FloatArray:
        if isinstance(self.calibrator_, IsotonicRegression):
            return np.asarray(self.calibrator_.predict(raw), dtype=np.float64)
        if isinstance(self.calibrator_, LogisticRegression):
            return np.asarray(self.calibrator_.predict_proba(_logit(raw))[:, 1], dtype=np.float64)
        return raw


def slip_training_set(history: pd.DataFrame, *, today: date) -> tuple[pd.DataFrame, IntArray]:
    """Slip features and labels of the tasks finished before ``today``, oldest first.

    A row is a completed task with a due date, completed before ``today``; its label is 1 when
    ``completed_at`` is after ``due_on``. Its features are those known on its creation day:
    track records count only outcomes completed strictly before then, so a task never sees its
    own outcome or a later one.

    Args:
        history: a ``tasks`` frame, open and completed.
        today: the reference date (no clock is read).

    Returns:
        ``(X, y)``: :data:`FEATURES` columns indexed by task gid, sorted by creation, and labels.
    """
    tasks = frames.validate("tasks", history)
    cut = pd.Timestamp(today)
    done = tasks["completed"] & tasks["due_on"].notna() & (tasks["completed_at"] < cut)
    targets = tasks.loc[done]
    as_of = _as_of_creation(targets)
    order = np.argsort(as_of, kind="stable")
    targets, as_of = targets.iloc[order], as_of[order]
    late = np.asarray(targets["completed_at"] > targets["due_on"], dtype=np.int64)
    return _features(targets, tasks, as_of, today=today), late


def task_slip_features(tasks: pd.DataFrame, history: pd.DataFrame, *, today: date) -> pd.DataFrame:
    """Slip features of ``tasks`` (meant for open ones) as known on ``today``.

    Args:
        tasks: a ``tasks`` frame of the work to score.
        history: a ``tasks`` frame of all work, completed and open, for track records and load.
        today: the reference date (no clock is read).

    Returns:
        :data:`FEATURES` columns indexed by task gid, in the order of ``tasks``; tasks without a
        due date have NaN windows and their probability has no deadline to miss.
    """
    targets = frames.validate("tasks", tasks)
    as_of = np.full(len(targets), _day(today), dtype=np.int64)
    return _features(targets, frames.validate("tasks", history), as_of, today=today)


def _features(
    targets: pd.DataFrame, history: pd.DataFrame, as_of: IntArray, *, today: date
) -> pd.DataFrame:
    """Feature rows for ``targets``, each as known on its ``as_of`` day number."""
    due = _days(targets["due_on"])
    start = _days(targets["start_on"])
    created = _days(targets["created_at"])
    begin = np.where(start != _NAT, start, np.where(created != _NAT, created, as_of))
    window = np.where(due != _NAT, (due - begin).astype(np.float64), np.nan)
    lead = np.where((due != _NAT) & (created != _NAT), (due - created).astype(np.float64), np.nan)
    estimate = targets["estimate_h"].to_numpy(np.float64)
    # A handful of distinct priorities: rank those, not every row.
    codes, names = pd.factorize(targets["priority"].to_numpy(object), use_na_sentinel=True)
    ranks = pd.Series(names, dtype=object).str.strip().str.lower().map(PRIORITY_RANK)
    priority = np.append(ranks.to_numpy(np.float64, na_value=np.nan), np.nan)[codes]
    out = {
        "estimate_h": estimate,
        "window_days": window,
        "lead_days": lead,
        "hours_per_day": estimate / (np.maximum(window, 0.0) + 1.0),
        "has_start": (start != _NAT).astype(np.float64),
        "dependencies": _lengths(targets["depends_on"]),
        "priority": priority,
        "required_skills": _lengths(targets["required_skills"]),
    }
    owners = _Groups.of(history["assignee_gid"], targets["assignee_gid"])
    projects = _Groups.of(history["project_gid"], targets["project_gid"])
    opened = _as_of_creation(history)
    out |= _track_records(targets, history, opened, owners, projects, as_of, today=today)
    out |= _open_load(targets, history, opened, owners, as_of)
    frame = pd.DataFrame(out, index=pd.Index(targets["gid"].to_numpy(), name="gid"))
    return frame.loc[:, list(FEATURES)]


@dataclass(frozen=True)
class _Groups:
    """Group codes of a history column (-1 where null) and of the targets' values (-1 unseen)."""

    history: IntArray
    targets: IntArray
    count: int

    @classmethod
    def of(cls, history: pd.Series, targets: pd.Series) -> _Groups:
        codes, uniques = pd.factorize(history.to_numpy(object), use_na_sentinel=True)
        found = pd.Index(uniques, dtype=object).get_indexer(targets.to_numpy(object))
        return cls(codes.astype(np.int64), found.astype(np.int64), len(uniques))

    @classmethod
    def single(cls, n_history: int, n_targets: int) -> _Groups:
        """Everyone in one group."""
        return cls(np.zeros(n_history, np.int64), np.zeros(n_targets, np.int64), 1)


def _track_records(
    targets: pd.DataFrame,
    history: pd.DataFrame,
    opened: IntArray,
    owners: _Groups,
    projects: _Groups,
    as_of: IntArray,
    *,
    today: date,
) -> dict[str, FloatArray]:
    """Past late shares and overruns per assignee and project, from outcomes before ``as_of``."""
    completed = _days(history["completed_at"])
    known = history["completed"].to_numpy(bool) & (completed != _NAT) & (completed < _day(today))
    # An outcome is known when the task completes, and never before the task existed.
    when = np.maximum(completed, opened)
    dated = known & history["due_on"].notna().to_numpy()
    late = (completed > _days(history["due_on"])).astype(np.float64)
    estimate = history["estimate_h"].to_numpy(np.float64)
    actual = history["actual_h"].to_numpy(np.float64)
    timed = known & (estimate > 0) & (actual > 0)
    overrun = np.log(np.where(timed, actual, 1.0) / np.where(timed, estimate, 1.0))

    everyone = _Groups.single(len(history), len(targets))
    org_late = _sums_before(everyone, dated, when, late[:, None], as_of)
    org_over = _sums_before(everyone, timed, when, overrun[:, None], as_of)
    org_late_share = _ratio(org_late[:, 1], org_late[:, 0])
    org_overrun = _ratio(org_over[:, 1], org_over[:, 0])

    out: dict[str, FloatArray] = {}
    for who, groups in (("assignee", owners), ("project", projects)):
        sums = _sums_before(groups, dated, when, late[:, None], as_of)
        out[f"{who}_past_tasks"] = sums[:, 0]
        out[f"{who}_late_share"] = _shrunk(sums[:, 1], sums[:, 0], org_late_share)
    sums = _sums_before(owners, timed, when, overrun[:, None], as_of)
    out["assignee_overrun"] = _shrunk(sums[:, 1], sums[:, 0], org_overrun)
    unassigned = targets["assignee_gid"].isna().to_numpy()
    for name in ("assignee_past_tasks", "assignee_late_share", "assignee_overrun"):
        out[name][unassigned] = np.nan
    no_project = targets["project_gid"].isna().to_numpy()
    for name in ("project_past_tasks", "project_late_share"):
        out[name][no_project] = np.nan
    return out


def _open_load(
    targets: pd.DataFrame, history: pd.DataFrame, opened: IntArray, owners: _Groups, as_of: IntArray
) -> dict[str, FloatArray]:
    """Count and estimated hours of the assignee's other tasks open on the ``as_of`` day."""
    closed = np.where(history["completed"].to_numpy(bool), _days(history["completed_at"]), _NAT)
    hours = np.nan_to_num(history["estimate_h"].to_numpy(np.float64))
    weights = hours[:, None]
    has_open = opened != _NAT
    has_close = has_open & (closed != _NAT)
    # Open on day t: opened on or before t, not closed on or before t (so "before t + 1").
    after = as_of + 1
    load = _sums_before(owners, has_open, opened, weights, after)
    load -= _sums_before(owners, has_close, closed, weights, after)
    # The task itself is not part of the load it meets.
    own_open = _as_of_creation(targets) <= as_of
    own_closed = targets["completed"].to_numpy(bool) & (_days(targets["completed_at"]) <= as_of)
    own_hours = np.nan_to_num(targets["estimate_h"].to_numpy(np.float64))
    own = targets["gid"].isin(history["gid"]).to_numpy() & own_open & ~own_closed
    load -= own[:, None] * np.column_stack([np.ones(len(targets)), own_hours])
    load = np.maximum(load, 0.0)  # float residue of the hour sums
    load[targets["assignee_gid"].isna().to_numpy()] = np.nan
    return {"assignee_open_tasks": load[:, 0], "assignee_open_h": load[:, 1]}


def _sums_before(
    groups: _Groups,
    rows: npt.NDArray[np.bool_],
    days: IntArray,
    weights: FloatArray,
    query: IntArray,
) -> FloatArray:
    """Per target: [count, weight sums...] of its group's events on days strictly before its day.

    The events are the history ``rows`` (day ``days``, weights ``weights``); one sort of them by
    group and day, a running sum, then two look-ups per target, so 10^5 targets over 10^5
    events take milliseconds; targets with a missing or unseen group get zeros. Groups are
    numbered in order of first appearance among the events and the null group comes first: the
    running sums add in exactly that order. With one day for every target and whole-number
    weights (counts, late flags) every sum is exact in any order: then a count per group does.
    """
    one_day = query.size > 0 and bool((query == query[0]).all())
    chosen = weights[rows]
    if one_day and bool(np.isfinite(chosen).all() and (np.trunc(chosen) == chosen).all()):
        before = rows & (days < query[0])
        event_slot, slot = groups.history[before] + 1, groups.targets + 1  # null and unseen: 0
        # (astype: bincount of an empty selection is int64)
        per_slot = [np.bincount(event_slot, minlength=groups.count + 1).astype(np.float64)]
        for column in weights[before].T:
            per_slot.append(
                np.bincount(event_slot, column, minlength=groups.count + 1).astype(np.float64)
            )
        whole: FloatArray = np.column_stack(per_slot)[slot]
        whole[slot == 0] = 0.0
        return whole
    event_code = _first_seen(groups.history[rows], groups.count)
    # Shifted by one so the null group (-1) sorts first, as group 0.
    slot = np.append(event_code.remap, -1)[groups.targets] + 1  # -1 (not seen) becomes the null
    event_slot = event_code.codes + 1
    day = days[rows]
    n_slots = event_code.count + 1
    order = _group_day_order(event_slot, day, n_slots)
    # The running count at a position is the position itself: only the weights need a sum.
    weighted = chosen[order]
    cumulative = np.vstack([np.zeros((1, weighted.shape[1])), np.cumsum(weighted, axis=0)])
    starts = np.concatenate([[0], np.cumsum(np.bincount(event_slot, minlength=n_slots))])
    lower = starts[slot]
    if one_day:  # count the group's events before that day
        earlier = np.bincount(event_slot[day < query[0]], minlength=n_slots)
        upper = lower + earlier[slot]
    else:
        lowest = int(min(day.min(initial=0), query.min(initial=0)))
        span = int(max(day.max(initial=0), query.max(initial=0))) - lowest + 2
        keys = (event_slot * span + (day - lowest))[order]
        upper = np.searchsorted(keys, slot * span + (query - lowest), side="left")
    sums: FloatArray = np.column_stack([upper - lower, cumulative[upper] - cumulative[lower]])
    sums[slot == 0] = 0.0
    return sums


@dataclass(frozen=True)
class _Codes:
    codes: IntArray  # per event: its group in order of first appearance (-1 for null)
    remap: IntArray  # per original group: its new code, -1 when it has no event
    count: int


def _first_seen(codes: IntArray, n_groups: int) -> _Codes:
    """Renumber group ``codes`` (-1 null) in order of first appearance, as factorize would."""
    valid = np.flatnonzero(codes >= 0)
    first = np.full(n_groups, len(codes), dtype=np.int64)
    np.minimum.at(first, codes[valid], valid)
    seen = np.flatnonzero(first < len(codes))
    remap = np.full(n_groups + 1, -1, dtype=np.int64)  # the last slot maps -1 to -1
    remap[seen[np.argsort(first[seen], kind="stable")]] = np.arange(seen.size)
    return _Codes(codes=remap[codes], remap=remap[:n_groups], count=int(seen.size))


def _group_day_order(group: IntArray, day: IntArray, n_groups: int) -> IntArray:
    """Stable order of events by group, then day (ties keep their order)."""
    lo = int(day.min()) if day.size else 0
    span = int(day.max()) - lo + 1 if day.size else 1
    if n_groups <= 1 << 16 and span <= 1 << 16:
        # Two stable passes on 16-bit keys (radix sorts), least significant first.
        by_day = np.argsort((day - lo).astype(np.uint16), kind="stable")
        by_group = np.argsort(group[by_day].astype(np.uint16), kind="stable")
        order: IntArray = by_day[by_group]
        return order
    return np.argsort(group * span + (day - lo), kind="stable")


def _lengths(values: pd.Series) -> FloatArray:
    """Length of each tuple of a list column."""
    return np.fromiter(map(len, values.to_numpy(object)), dtype=np.float64, count=len(values))


def _shrunk(total: FloatArray, count: FloatArray, prior: FloatArray) -> FloatArray:
    """Empirical-Bayes mean: ``count`` outcomes pulled towards ``prior`` by PRIOR_TASKS."""
    return np.asarray((total + PRIOR_TASKS * prior) / (count + PRIOR_TASKS), dtype=np.float64)


def _ratio(total: FloatArray, count: FloatArray) -> FloatArray:
    ratio: FloatArray = np.divide(total, count, out=np.full(len(total), np.nan), where=count > 0)
    return ratio


def _as_of_creation(tasks: pd.DataFrame) -> IntArray:
    """Day a task became known: created_at, else start_on, else due_on; never after completion."""
    created = tasks["created_at"].fillna(tasks["start_on"]).fillna(tasks["due_on"])
    first = _days(created)
    completed = _days(tasks["completed_at"])
    return np.where((completed != _NAT) & (completed < first), completed, first)


def _days(values: pd.Series) -> IntArray:
    """Day numbers since 1970-01-01; NaT becomes the int64 minimum."""
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _day(value: date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def _matrix(X: pd.DataFrame) -> FloatArray:
    wrong = [str(c) for c, t in X.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
    if wrong:
        raise ValueError(f"X column(s) must be numeric: {', '.join(wrong)}")
    return X.to_numpy(dtype=np.float64, na_value=np.nan)


def _p_late(
    classifier: HistGradientBoostingClassifier | Pipeline, matrix: FloatArray
) -> FloatArray:
    """The classifier's P(late) per row of ``matrix``, scored in order of the first two features.

    Rows are scored independently, so the order changes no number; sorted, neighbouring rows
    take the same branches in most trees (estimate and window come first in :data:`FEATURES`),
    which makes the boosted trees ~20 % faster on 10^4 rows and more.
    """
    order = np.lexsort((matrix[:, 1], matrix[:, 0])) if matrix.shape[1] > 1 else slice(None)
    late: FloatArray = np.empty(len(matrix))
    late[order] = classifier.predict_proba(matrix[order])[:, 1]
    return late


def _best_stage(
    booster: HistGradientBoostingClassifier, matrix: FloatArray, labels: IntArray
) -> tuple[int, FloatArray]:
    """The number of trees with the lowest log loss on ``(matrix, labels)``, and its P(late)."""
    best: tuple[float, int, FloatArray] = (np.inf, 0, np.empty(0))
    for trees, proba in enumerate(booster.staged_predict_proba(matrix), start=1):
        late = np.clip(proba[:, 1], 1e-12, 1 - 1e-12)
        loss = -float(np.mean(np.where(labels == 1, np.log(late), np.log1p(-late))))
        if loss < best[0]:
            best = (loss, trees, proba[:, 1])
    return best[1], best[2]


def _logistic(random_state: int) -> Pipeline:
    # Median-impute with missingness flags; keep all-NaN columns so shapes stay stable.
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=1.0, random_state=random_state),
    )


def _logit(p: FloatArray) -> FloatArray:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped)).reshape(-1, 1)


def _minority(labels: IntArray) -> int:
    return int(np.bincount(labels, minlength=2).min())
