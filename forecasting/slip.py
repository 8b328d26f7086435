"""Slip risk: the calibrated probability that a task finishes after its due date.

Owns the model (boosted trees, their time-ordered stopping and calibration, the fallbacks); its
inputs are built in ``forecasting.slip_features``. Pure numpy/pandas/scikit-learn, must not
import ``bot``.
"""

from __future__ import annotations

import logging
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

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Calibration = Literal["sigmoid", "isotonic"]

NOT_FITTED = "SlipModel is not fitted yet: call fit(X, y) before predict_proba(X)"


class SlipModel:
    """Calibrated P(task finishes after its due date) from a numeric feature frame.

    Gradient-boosted trees (NaN-aware) fitted on the earliest rows and calibrated on the latest
    ``calibration_fraction`` of rows; ``fit`` reads row order as time order, as
    :func:`forecasting.slip_features.slip_training_set` returns it. With ``refit`` the trees
    are then refitted on every row and keep the calibration map. Degenerate inputs fall back
    and say why in ``fallback_``: one class in ``y`` (or fewer than ``min_class_rows`` of one)
    gives the constant base rate; fewer than ``min_rows`` rows give a logistic regression.

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
    take the same branches in most trees (estimate and window come first in the slip features),
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
