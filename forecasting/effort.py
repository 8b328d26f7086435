"""Effort corrections learned from completed tasks: estimate bias (shrunk) and imputed estimates.

Pure numpy/pandas/scikit-learn; must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from forecasting.calendar import FloatArray
from forecasting.history import NAT, day_numbers
from forecasting.panel import informative

MAX_LOG_RATIO = np.log(20.0)  # actual/estimate beyond 20x either way is a typo, not a habit
DEFAULT_LOG_SD = 0.35  # spread of log(actual/estimate) assumed before any history exists
DEFAULT_EFFORT_H = 4.0  # imputed effort when nothing at all has been estimated or tracked
DEFAULT_IMPUTE_LOG_SD = 1.0
MIN_VARIANCE = 1e-4  # floor of between-group variances (log units squared)
PRIOR_TASKS = 5.0  # pseudo-count of the encodings' shrinkage towards the organisation
MIN_BOOSTED_ROWS = 200  # below this the imputer averages shrunk means instead of boosting
PRIORITY_RANK = {"low": 0.0, "medium": 1.0, "normal": 1.0, "high": 2.0, "urgent": 3.0}
IMPUTE_FEATURES = (
    "person_mean",
    "project_mean",
    "window_days",
    "lead_days",
    "has_start",
    "priority",
    "skills",
    "dependencies",
)


@dataclass(frozen=True)
class BiasFit:
    """Per-person bias table and the organisation's figures it was shrunk towards."""

    table: pd.DataFrame  # person_gid, team, bias, n_tasks, shrunk_from, log_sd, log_bias
    org_log_bias: float
    within_log_sd: float


def fit_bias(
    log_ratio: FloatArray,
    person: pd.Series,
    person_team: pd.Series,
    *,
    min_tasks: int,
) -> BiasFit:
    """Empirical-Bayes estimate bias per person, shrunk to the team, the team to the organisation.

    ``log_ratio`` is ``log(actual_h / estimate_h)`` of completed tasks, with their assignee
    gids in ``person``. Variances come from the data by the method of moments: within-person
    ``σ²`` (pooled), between-person ``τ²`` and between-team ``τ_t²``. A team's mean is pulled
    towards the organisation's with ``σ²/τ_t²`` pseudo-tasks, a person's towards the team's
    with ``σ²/τ²``. People with fewer than ``min_tasks`` tasks are not judged on them: they
    get their team's bias (``shrunk_from="team"``), or the organisation's when the team has
    fewer than ``min_tasks`` tasks too (``"org"``). ``bias = exp(mean)`` is the median
    multiplier of actual over estimated hours; ``log_sd`` is the predictive spread of one new
    task's log ratio (within-person noise plus the uncertainty of the person's mean).

    Args:
        log_ratio: ``(n,)`` log ratios (clipped here to ±log 20).
        person: ``(n,)`` assignee gid of each ratio.
        person_team: team name per person gid (index), for everyone to report.
        min_tasks: tasks a person needs to be judged on their own.
    """
    r = np.clip(np.asarray(log_ratio, dtype=np.float64), -MAX_LOG_RATIO, MAX_LOG_RATIO)
    people = pd.Index(person_team.index)
    teams = person_team.reindex(people).fillna("").map(str).to_numpy(object)
    p = people.get_indexer(pd.Index(np.asarray(person, dtype=object)))
    r, p = r[p >= 0], p[p >= 0]
    n_p = np.bincount(p, minlength=len(people)).astype(np.float64)
    sum_p = np.bincount(p, weights=r, minlength=len(people)).astype(np.float64)
    mean_p = np.divide(sum_p, n_p, out=np.zeros_like(sum_p), where=n_p > 0)
    if r.size == 0:
        org, sigma2, tau2, team_mean = 0.0, DEFAULT_LOG_SD**2, MIN_VARIANCE, {}
    else:
        org = float(r.mean())
        dof = r.size - int((n_p > 0).sum())
        resid = float(((r - mean_p[p]) ** 2).sum())
        sigma2 = resid / dof if dof > 0 else DEFAULT_LOG_SD**2
        sigma2 = max(sigma2, MIN_VARIANCE)
        several = n_p >= 2
        tau2 = MIN_VARIANCE
        if several.sum() >= 2:
            tau2 = float(np.var(mean_p[several]) - np.mean(sigma2 / n_p[several]))
            tau2 = max(tau2, MIN_VARIANCE)
        team_mean = _team_means(r, teams[p], org, sigma2)
    team_n = pd.Series(n_p).groupby(teams).sum()
    prior = np.array([team_mean.get(t, org) for t in teams])
    k_person = sigma2 / tau2
    own = n_p >= min_tasks
    post = np.where(own, (sum_p + k_person * prior) / (n_p + k_person), prior)
    team_ok = np.array([team_n.get(t, 0.0) >= min_tasks and t in team_mean for t in teams])
    if team_mean:
        prior_var = np.where(team_ok, sigma2 / (team_n.reindex(teams).to_numpy() + 1.0), 0.0)
    else:
        prior_var = np.zeros(len(people))
    post_var = np.where(own, sigma2 / (n_p + k_person), tau2 + prior_var)
    post = np.where(own | team_ok, post, org)
    table = pd.DataFrame(
        {
            "person_gid": people.to_numpy(object),
            "team": teams,
            "bias": np.exp(post),
            "n_tasks": n_p.astype(np.int64),
            "shrunk_from": np.where(own, "person", np.where(team_ok, "team", "org")).astype(object),
            "log_sd": np.sqrt(sigma2 + post_var),
            "log_bias": post,
        }
    )
    return BiasFit(table=table, org_log_bias=org, within_log_sd=float(np.sqrt(sigma2)))


def person_teams(tasks: pd.DataFrame, people: pd.DataFrame | None) -> pd.Series:
    """Team per person gid: those of ``people``, then ``""`` for other assignees of ``tasks``."""
    gids = list(pd.unique(tasks["assignee_gid"].dropna()))
    teams = pd.Series("", index=pd.Index(gids, dtype=object), dtype=object)
    if people is not None:
        known = people.set_index("gid")["team"].fillna("")
        teams = pd.concat([known.astype(object), teams[~teams.index.isin(known.index)]])
    return teams


def _team_means(r: FloatArray, team: np.ndarray, org: float, sigma2: float) -> dict[str, float]:
    """Team means of log ratios shrunk towards ``org`` with ``σ²/τ_t²`` pseudo-tasks."""
    frame = pd.DataFrame({"r": r, "team": team}).groupby("team")["r"].agg(["sum", "count"])
    means = frame["sum"] / frame["count"]
    tau2_team = MIN_VARIANCE
    if len(frame) >= 2:
        tau2_team = float(np.var(means) - np.mean(sigma2 / frame["count"]))
        tau2_team = max(tau2_team, MIN_VARIANCE)
    k = sigma2 / tau2_team
    shrunk = (frame["sum"] + k * org) / (frame["count"] + k)
    return {str(t): float(v) for t, v in shrunk.items()}


class EstimateImputer:
    """Log estimate of a task from its project, assignee and own fields (see ``fit``).

    Attributes:
        target_: ``"estimate_h"`` or ``"actual_h"`` (when nothing was ever estimated), or
            ``"default"`` (nothing estimated or tracked: :data:`DEFAULT_EFFORT_H`).
        log_sd_: residual spread of log effort around the imputation.
    """

    def __init__(self, *, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, tasks: pd.DataFrame) -> EstimateImputer:
        """Learn from tasks with a positive ``estimate_h`` (else completed ``actual_h``).

        Project and assignee enter as leave-one-out means of log effort shrunk towards the
        organisation, so a project seen once does not explain its own estimate.
        """
        estimate = tasks["estimate_h"].to_numpy(np.float64)
        actual = tasks["actual_h"].to_numpy(np.float64)
        done = tasks["completed"].to_numpy(bool)
        if (estimate > 0).any():
            self.target_, use = "estimate_h", estimate > 0
            y = np.log(estimate[use])
        elif (done & (actual > 0)).any():
            self.target_, use = "actual_h", done & (actual > 0)
            y = np.log(actual[use])
        else:
            self.target_, self.org_, self.log_sd_ = "default", np.log(DEFAULT_EFFORT_H), 1.0
            self.log_sd_ = DEFAULT_IMPUTE_LOG_SD
            self.booster_: HistGradientBoostingRegressor | None = None
            self.encodings_: dict[str, pd.DataFrame] = {}
            return self
        rows = tasks.loc[use]
        self.org_ = float(y.mean())
        self.encodings_ = {
            key: pd.DataFrame({"y": y, "g": rows[key].fillna("").to_numpy(object)})
            .groupby("g")["y"]
            .agg(["sum", "count"])
            for key in ("assignee_gid", "project_gid")
        }
        X = self._features(rows, leave_out=y)
        self.columns_ = informative(X)
        self.booster_ = None
        if len(y) >= MIN_BOOSTED_ROWS:
            self.booster_ = HistGradientBoostingRegressor(
                max_iter=100, learning_rate=0.1, max_leaf_nodes=15, random_state=self.random_state
            ).fit(X[self.columns_], y)
        fitted = self._predict(X)
        self.log_sd_ = float(max(np.std(y - fitted), 0.1))
        return self

    def predict_log(self, tasks: pd.DataFrame) -> FloatArray:
        """Imputed log effort (hours) per task."""
        return self.predict_features(self.features(tasks))

    def features(self, tasks: pd.DataFrame) -> pd.DataFrame:
        """The feature rows of ``tasks`` that :meth:`predict_features` reads, one per task.

        No columns when the imputer predicts a constant.
        """
        if self.target_ == "default":
            return pd.DataFrame(index=pd.RangeIndex(len(tasks)))
        return self._features(tasks, leave_out=None)

    def predict_features(self, X: pd.DataFrame) -> FloatArray:
        """Imputed log effort (hours) per row of :meth:`features`; rows are independent."""
        if self.target_ == "default":
            return np.full(len(X), self.org_)
        return self._predict(X)

    def _predict(self, X: pd.DataFrame) -> FloatArray:
        if self.booster_ is not None:
            return np.asarray(self.booster_.predict(X[self.columns_]), dtype=np.float64)
        return np.asarray((X["person_mean"] + X["project_mean"]).to_numpy() / 2.0, dtype=np.float64)

    def _features(self, tasks: pd.DataFrame, *, leave_out: FloatArray | None) -> pd.DataFrame:
        out: dict[str, FloatArray] = {}
        for name, key in (("person_mean", "assignee_gid"), ("project_mean", "project_gid")):
            stats = self.encodings_[key]
            found = stats.reindex(tasks[key].fillna("").to_numpy(object)).fillna(0.0)
            total = found["sum"].to_numpy(np.float64)
            count = found["count"].to_numpy(np.float64)
            if leave_out is not None:
                total, count = total - leave_out, count - 1.0
            out[name] = (total + PRIOR_TASKS * self.org_) / (count + PRIOR_TASKS)
        due, start = day_numbers(tasks["due_on"]), day_numbers(tasks["start_on"])
        created = day_numbers(tasks["created_at"])
        has_due, has_start = due != NAT, start != NAT
        out["window_days"] = np.where(has_due & has_start, (due - start).astype(float), np.nan)
        out["lead_days"] = np.where(has_due & (created != NAT), (due - created) * 1.0, np.nan)
        out["has_start"] = has_start.astype(np.float64)
        # A handful of distinct priorities: rank those, not every row.
        codes, names = pd.factorize(tasks["priority"].fillna("").to_numpy(object))
        rank = pd.Series(names, dtype=object).map(str).str.lower().map(PRIORITY_RANK)
        out["priority"] = np.asarray(rank.to_numpy(np.float64, na_value=np.nan), np.float64)[codes]
        out["skills"] = _lengths(tasks["required_skills"])
        out["dependencies"] = _lengths(tasks["depends_on"])
        return pd.DataFrame({name: out[name] for name in IMPUTE_FEATURES})


def _lengths(values: pd.Series) -> FloatArray:
    """Length of each tuple of a list column."""
    return np.fromiter(map(len, values.to_numpy(object)), dtype=np.float64, count=len(values))
