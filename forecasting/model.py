"""Learned corrections to the committed load: estimate bias, imputed effort, other work, slip.

Owns ``CapacityModel``, which composes them (the other-work rows and residual spread are
``forecasting.other_work``, the prediction memo ``forecasting.row_memo``). scikit-learn
conventions (settings in ``__init__``, ``fit`` returns self, learned state ends in ``_``). Pure
numpy/pandas/scikit-learn; must not import ``bot``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from forecasting import frames
from forecasting.calendar import FloatArray, IntArray
from forecasting.effort import BiasFit, EstimateImputer, fit_bias, person_teams
from forecasting.history import (
    History,
    build_history,
    day_numbers,
    tasks_as_of,
    validate_time_log,
)
from forecasting.other_work import (
    Z_QUANTILES,
    residual_scale,
    residual_spread,
    training_rows,
)
from forecasting.panel import FEATURE_WEEKS, build_panel, informative
from forecasting.row_memo import RowMemo
from forecasting.slip import SlipModel
from forecasting.slip_features import slip_training_set, task_slip_features

NOT_FITTED = "CapacityModel is not fitted: call fit(history, today=...) first"
NO_HISTORY = "no completed history"
DEFAULT_SLIP_DAYS = 5  # calendar days a late task overruns its due date, before any history
MIN_SLIP_ROWS = 30  # completed dated tasks needed to learn slip risk at all


class CapacityModel:
    """What the committed load misses, learned from history before ``today``.

    ``fit`` learns four corrections:

    * ``bias_``: actual ÷ estimated hours per person, shrunk to team and organisation
      (:func:`forecasting.effort.fit_bias`);
    * ``imputer_``: effort of unestimated tasks from project, assignee and task fields;
    * ``regressor_``: the median *other work* of a person-week (realised hours minus the
      bias-corrected plan known at the origin: unplanned work, work outside the plan's
      windows), by gradient boosting with absolute-error loss on rows person × origin week ×
      weeks ahead, every origin strictly before ``today``; its residuals on the latest
      ``holdout_share`` of origins (model fitted without them) give the spread;
    * ``slip_``: calibrated P(finishes after its due date) (:class:`forecasting.slip.SlipModel`)
      and ``slip_days_``, the median overrun of late tasks.

    A fitted model keeps the predictions of the feature rows it has scored (slip risk, other
    work, imputed effort; exact, see :class:`forecasting.row_memo.RowMemo`), so forecasting the
    same or slightly changed data again skips the unchanged rows' trees. A pickled or copied
    model starts without them.

    Attributes:
        bias_: ``person_gid, team, bias, n_tasks, shrunk_from, log_sd, log_bias``.
        fallback_: why there is nothing to learn from (then forecasts are arithmetic), or None.
        today_: the training cut-off. Everything else is internal to the forecast.
    """

    def __init__(
        self,
        *,
        horizon_weeks: int = 4,
        min_tasks_for_person: int = 5,
        random_state: int = 0,
        train_weeks: int = 104,
        max_train_rows: int = 60_000,
        holdout_share: float = 0.2,
        max_iter: int = 150,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 100,
        min_train_rows: int = 200,
        gap_weeks: int = 13,
        slip: bool = True,
        n_threads: int | None = 1,
    ) -> None:
        self.horizon_weeks = horizon_weeks
        self.min_tasks_for_person = min_tasks_for_person
        self.random_state = random_state
        self.train_weeks = train_weeks
        self.max_train_rows = max_train_rows
        self.holdout_share = holdout_share
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.min_train_rows = min_train_rows
        self.gap_weeks = gap_weeks
        self.slip = slip
        self.n_threads = n_threads

    def fit(
        self,
        history: pd.DataFrame,
        *,
        today: date,
        people: pd.DataFrame | None = None,
        time_off: pd.DataFrame | None = None,
        time_log: pd.DataFrame | None = None,
    ) -> CapacityModel:
        """Learn the corrections from data dated before ``today``.

        Args:
            history: the ``tasks`` contract, completed and open tasks; completed ones carry
                ``estimate_h``, ``actual_h`` and ``completed_at``.
            today: the cut-off: tasks completed, created or logged on or after it are ignored.
            people: the ``people`` contract (teams for shrinkage, capacity as a feature).
            time_off: the ``time_off`` contract (capacity as a feature).
            time_log: ``person_gid, day, hours`` realised time; without it, realised hours are
                completed tasks' actual hours spread over their start..completion working days.
        """
        if self.horizon_weeks < 1 or self.min_tasks_for_person < 0:
            raise ValueError("horizon_weeks must be >= 1 and min_tasks_for_person >= 0")
        with self._threads():
            return self._fit(history, today, people, time_off, time_log)

    def _fit(
        self,
        history: pd.DataFrame,
        today: date,
        people: pd.DataFrame | None,
        time_off: pd.DataFrame | None,
        time_log: pd.DataFrame | None,
    ) -> CapacityModel:
        tasks = tasks_as_of(frames.validate("tasks", history), today)
        people = None if people is None else frames.validate("people", people)
        log = None if time_log is None else validate_time_log(time_log)
        self.today_ = today
        self._memos = _memos()
        done = tasks["completed"].to_numpy(bool)
        logged = log is not None and bool((log["day"] < pd.Timestamp(today)).any())
        self.fallback_ = None if (done.any() or logged) else NO_HISTORY

        teams = person_teams(tasks, people)
        estimate, actual = tasks["estimate_h"].to_numpy(), tasks["actual_h"].to_numpy()
        timed = done & (estimate > 0) & (actual > 0)
        self._bias: BiasFit = fit_bias(
            np.log(actual[timed] / estimate[timed]),
            tasks.loc[timed, "assignee_gid"],
            teams,
            min_tasks=self.min_tasks_for_person,
        )
        self.bias_ = self._bias.table.drop(columns="log_bias")
        self.imputer_ = EstimateImputer(random_state=self.random_state).fit(tasks)
        self._fit_slip(tasks, today)
        self._fit_other(tasks, people, time_off, log, today)
        self._version = _digest(self.get_params(), today, tasks, log)
        return self

    def __getstate__(self) -> dict[str, object]:
        # The memos are a cache of this process: a pickled or copied model starts cold.
        state = self.__dict__.copy()
        state.pop("_memos", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        if hasattr(self, "today_"):
            self._memos = _memos()

    def get_params(self) -> dict[str, object]:
        """Constructor settings (scikit-learn style)."""
        names = (
            "horizon_weeks",
            "min_tasks_for_person",
            "random_state",
            "train_weeks",
            "max_train_rows",
            "holdout_share",
            "max_iter",
            "learning_rate",
            "max_leaf_nodes",
            "min_samples_leaf",
            "min_train_rows",
            "gap_weeks",
            "slip",
            "n_threads",
        )
        return {name: getattr(self, name) for name in names}

    @property
    def version(self) -> str:
        """12 hex characters: a hash of the settings, the cut-off day and the training data."""
        self._check()
        return self._version

    def corrected_effort(self, tasks: pd.DataFrame) -> pd.DataFrame:
        """Expected remaining hours of each open task after bias and imputation.

        A task's remaining estimate is multiplied by its assignee's mean multiplier
        ``exp(log_bias + log_sd²/2)`` (unassigned or unknown people get the organisation's);
        an unestimated task (NaN ``remaining_h``) gets the imputed effort, which is also
        bias-corrected when the imputer learnt *estimates*, and is flagged ``imputed``.

        Returns:
            ``task_gid, person_gid, remaining_h, expected_h, imputed, log_sd`` in input order,
            open tasks only.
        """
        self._check()
        tasks = frames.validate("tasks", tasks)
        tasks = tasks.loc[~tasks["completed"].to_numpy(bool)].reset_index(drop=True)
        table = self._bias.table
        who = tasks["assignee_gid"]
        # One look-up of the assignees serves both columns; -1 (unknown) picks the NaN after
        # the table, which takes the organisation's value.
        row = pd.Index(table["person_gid"]).get_indexer(who)

        def per_task(column: str, org: float) -> FloatArray:
            values = np.append(table[column].to_numpy(np.float64), np.nan)[row]
            return np.where(np.isnan(values), org, values)

        log_bias = per_task("log_bias", self._bias.org_log_bias)
        log_sd = per_task("log_sd", self._bias.within_log_sd)
        remaining = tasks["remaining_h"].to_numpy(np.float64)
        imputed = np.isnan(remaining)
        base = remaining.copy()
        if imputed.any():
            imputer, X = self.imputer_, self.imputer_.features(tasks.loc[imputed])

            def impute(rows: IntArray) -> FloatArray:
                with self._threads():
                    return imputer.predict_features(X.iloc[rows])

            log_h = self._memos["effort"].apply(imputer, X.to_numpy(np.float64), impute)
            base[imputed] = np.exp(log_h)
            spread = self.imputer_.log_sd_
            log_sd = np.where(imputed, np.hypot(log_sd, spread), log_sd)
        corrected = imputed & (self.imputer_.target_ == "actual_h")  # already actual hours
        factor = np.where(corrected, 1.0, np.exp(log_bias))
        return pd.DataFrame(
            {
                "task_gid": tasks["gid"].to_numpy(object),
                "person_gid": who.to_numpy(object),
                "remaining_h": remaining,
                "expected_h": np.maximum(base, 0.0) * factor * np.exp(log_sd**2 / 2),
                "imputed": imputed,
                "log_sd": log_sd,
            }
        )

    def slip_probability(self, open_tasks: pd.DataFrame, history: pd.DataFrame) -> FloatArray:
        """P(finishes after due) per task of ``open_tasks`` (0 where unlearnt or undated)."""
        self._check()
        tasks = frames.validate("tasks", open_tasks)
        if self.slip_ is None or tasks.empty:
            return np.zeros(len(tasks))
        with frames.trusted("tasks", tasks):
            features = task_slip_features(tasks, history, today=self.today_)
        slip = self.slip_

        def score(rows: IntArray) -> FloatArray:
            with self._threads():
                return np.asarray(slip.predict_proba(features.iloc[rows]), dtype=np.float64)

        p = self._memos["slip"].apply(slip, features.to_numpy(np.float64), score)
        return np.where(tasks["due_on"].notna().to_numpy(), p, 0.0)

    def other_work(self, history: History, steps: int) -> tuple[pd.DataFrame, FloatArray]:
        """Median other work and residual scale per person × step at ``history``'s today.

        Returns:
            ``(frame, z)``: ``frame`` has ``person, step, other_h, scale_h`` for every person
            of ``history`` (rows person-major); ``z`` the quantiles of standardised residuals.
        """
        self._check()
        people = np.arange(len(history.person_gids))
        log_bias = self._log_bias_for(history.person_gids)
        panel = build_panel(history, np.array([history.weeks]), steps, log_bias, people)
        other = np.zeros(len(panel.person))
        if self.regressor_ is not None:
            regressor, X = self.regressor_, panel.X[self.columns_]

            def predict(rows: IntArray) -> FloatArray:
                with self._threads():
                    return np.asarray(regressor.predict(X.iloc[rows]), np.float64)

            other = self._memos["other"].apply(regressor, X.to_numpy(np.float64), predict)
        scale = residual_scale(panel, history.person_gids, self.step_scale_, self.person_scale_)
        frame = pd.DataFrame(
            {"person": panel.person, "step": panel.step, "other_h": other, "scale_h": scale}
        )
        return frame, self.z_

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        # Gradient boosting spins OpenMP threads; on a busy 2-core host, contention makes
        # small fits and predictions tens of times slower, so the count is a setting.
        if self.n_threads is None:
            yield
            return
        with _thread_pools().limit(limits=self.n_threads, user_api="openmp"):
            yield

    def _check(self) -> None:
        if not hasattr(self, "today_"):
            raise ValueError(NOT_FITTED)

    def _log_bias_for(self, gids: np.ndarray) -> FloatArray:
        table = self._bias.table.set_index("person_gid")["log_bias"]
        values = pd.Series(gids, dtype=object).map(table).astype("float64")
        return np.asarray(values.fillna(self._bias.org_log_bias).to_numpy(), dtype=np.float64)

    def _fit_slip(self, tasks: pd.DataFrame, today: date) -> None:
        self.slip_: SlipModel | None = None
        done = tasks["completed"] & tasks["due_on"].notna()
        late = day_numbers(tasks.loc[done, "completed_at"]) - day_numbers(tasks.loc[done, "due_on"])
        late = late[late > 0]
        self.slip_days_ = int(np.median(late)) if late.size else DEFAULT_SLIP_DAYS
        if not self.slip or int(done.sum()) < MIN_SLIP_ROWS:
            return
        X, y = slip_training_set(tasks, today=today)
        if len(y) >= MIN_SLIP_ROWS:
            self.slip_ = SlipModel(random_state=self.random_state).fit(X, y)

    def _fit_other(
        self,
        tasks: pd.DataFrame,
        people: pd.DataFrame | None,
        time_off: pd.DataFrame | None,
        log: pd.DataFrame | None,
        today: date,
    ) -> None:
        """Fit the other-work regressor and its residual spread on rolling origins."""
        self.regressor_: HistGradientBoostingRegressor | None = None
        self.step_scale_: list[float] = [0.0] * self.horizon_weeks
        self.person_scale_: dict[str, float] = {}
        self.z_ = np.zeros(Z_QUANTILES)
        history = build_history(
            tasks,
            today=today,
            people=people,
            time_off=time_off,
            time_log=log,
            horizon_weeks=self.horizon_weeks,
            max_weeks=self.train_weeks + FEATURE_WEEKS,
        )
        panel, target = training_rows(
            history,
            self._log_bias_for(history.person_gids),
            train_weeks=self.train_weeks,
            horizon_weeks=self.horizon_weeks,
            gap_weeks=self.gap_weeks,
            max_train_rows=self.max_train_rows,
        )
        if len(target) < self.min_train_rows:
            return
        # Hold out the latest origins for the residual spread, then refit on everything.
        self.columns_ = informative(panel.X)
        X = panel.X[self.columns_]
        order = np.argsort(panel.origin, kind="stable")
        cut = panel.origin[order[int(len(order) * (1 - self.holdout_share))]]
        early = panel.origin < cut
        if early.sum() >= self.min_train_rows and (~early).sum() > 0:
            model = self._booster().fit(X[early], target[early])
            resid = target[~early] - model.predict(X[~early])
            spread = residual_spread(
                resid,
                panel.step[~early],
                history.person_gids[panel.person[~early]],
                horizon_weeks=self.horizon_weeks,
            )
            self.step_scale_, self.person_scale_ = spread.step_scale, spread.person_scale
            self.z_ = spread.z
        self.regressor_ = self._booster().fit(X, target)

    def _booster(self) -> HistGradientBoostingRegressor:
        # Absolute error: MAE is the score that matters and weekly hours are heavy-tailed;
        # no early stopping, whose random validation split would leak later weeks.
        return HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            early_stopping=False,
            random_state=self.random_state,
        )


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The process's thread pools, looked up once: a lookup costs ~3 ms, a limit ~10 µs."""
    return ThreadpoolController()


def _memos() -> dict[str, RowMemo]:
    return {"slip": RowMemo(), "other": RowMemo(), "effort": RowMemo()}


def _digest(params: dict[str, object], today: date, tasks: pd.DataFrame, log: object) -> str:
    content = hashlib.sha256()
    content.update(json.dumps(params, sort_keys=True, default=str).encode())
    content.update(today.isoformat().encode())
    columns = ["gid", "estimate_h", "actual_h", "completed_at"]
    content.update(pd.util.hash_pandas_object(tasks[columns], index=False).to_numpy().tobytes())
    if isinstance(log, pd.DataFrame):
        content.update(pd.util.hash_pandas_object(log, index=False).to_numpy().tobytes())
    return content.hexdigest()[:12]
