"""The fitted forecast model of this process: learned from the snapshot's history, cached.

A model is refitted only when the completed history or the day changes, on a thread of its
own so that no Slack answer waits behind a fit: until it is ready, answers show the committed
load and say the model is still learning. A failed fit is logged and the answer falls back the
same way. After a fit the same thread forecasts the snapshot once, so the model has scored its
rows before the first answer needs them (its memos are exact: numbers do not change).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import date

import pandas as pd

from bot.domain import Snapshot
from forecasting.forecast import forecast_load
from forecasting.model import CapacityModel

log = logging.getLogger(__name__)
HISTORY_COLUMNS = ["gid", "assignee_gid", "estimate_h", "actual_h", "completed_at", "due_on"]
LEARNING = "the forecast model is still learning from this history; try again in a minute"
WARM_UP_DRAWS = 8  # the warm-up wants the model's predictions of each row, not the draws


@dataclass(frozen=True)
class FittedModel:
    """A model ready to forecast, or None with the reason, and what it learned from."""

    model: CapacityModel | None
    note: str  # for people: "learned from 4,812 completed tasks …" or why there is no model


class ModelCache:
    """Fits ``CapacityModel`` on a snapshot's history once per (history, day)."""

    def __init__(
        self,
        executor: Executor | None = None,
        *,
        horizon_weeks: int = 4,
        lead_days: int = 5,
        random_state: int = 0,
        warm_up: bool = True,
    ) -> None:
        """Fits run on ``executor``, by default a thread of their own.

        Keep fits off the pool that serves Slack: a listener waiting for a fit queued behind
        it (or behind other waiting listeners) would wait forever. With ``warm_up``, each new
        model then forecasts its snapshot (``horizon_weeks``, ``lead_days``) on that executor.
        """
        self._owned: ThreadPoolExecutor | None = None
        if executor is None:
            executor = self._owned = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="copilot-fit"
            )
        self._executor = executor
        self._horizon = horizon_weeks
        self._lead_days = lead_days
        self._seed = random_state
        self._warm_up = warm_up
        self._lock = threading.Lock()
        self._fits: dict[tuple[str, date], Future[FittedModel]] = {}

    def get(self, snapshot: Snapshot, today: date, *, wait_s: float | None = 0.0) -> FittedModel:
        """The model for ``snapshot`` as of ``today``.

        Args:
            snapshot: what to learn from (its completed tasks).
            today: the training cut-off.
            wait_s: how long to wait for a fit in progress; None waits until it is done.
        """
        key = (history_hash(snapshot.tasks), today)
        with self._lock:
            fit = self._fits.get(key)
            if fit is None:
                self._fits = {key: self._executor.submit(self._fit, snapshot, today)}
                fit = self._fits[key]
        try:
            return fit.result(timeout=wait_s)
        except FutureTimeout:
            return FittedModel(None, LEARNING)

    def close(self) -> None:
        """Finish a running fit and stop the fit thread (when this cache made it)."""
        if self._owned is not None:
            self._owned.shutdown(wait=True, cancel_futures=True)

    def _fit(self, snapshot: Snapshot, today: date) -> FittedModel:
        done = int(snapshot.tasks["completed"].sum())
        try:
            model = CapacityModel(horizon_weeks=self._horizon, random_state=self._seed).fit(
                snapshot.tasks, today=today, people=snapshot.people, time_off=snapshot.time_off
            )
        except Exception as exc:  # a model that cannot learn must not stop the answer
            log.exception("forecast model fit failed on %d completed tasks", done)
            return FittedModel(None, f"the model could not learn from this history ({exc})")
        if model.fallback_:
            return FittedModel(None, f"{model.fallback_} to learn from yet")
        log.info("forecast model %s fitted on %d completed tasks", model.version, done)
        if self._warm_up:
            # Queued behind this fit, so the model is handed out first; none when closing.
            with contextlib.suppress(RuntimeError):
                self._executor.submit(self._warm, model, snapshot, today)
        return FittedModel(
            model, f"learned from {done:,} completed tasks (estimate bias, other work, slip risk)"
        )

    def _warm(self, model: CapacityModel, snapshot: Snapshot, today: date) -> None:
        """Forecast ``snapshot`` once so that ``model`` keeps the predictions of its rows."""
        started = time.perf_counter()
        try:
            forecast_load(
                snapshot.people,
                snapshot.tasks,
                snapshot.time_off,
                today=today,
                weeks=self._horizon,
                model=model,
                draws=WARM_UP_DRAWS,
                lead_days=self._lead_days,
            )
        except Exception:  # answers still forecast, only without the head start
            log.exception("forecast model %s warm-up failed", model.version)
            return
        log.info(
            "forecast model %s warmed up on the snapshot in %.2f s",
            model.version,
            time.perf_counter() - started,
        )


def history_hash(tasks: pd.DataFrame) -> str:
    """A hash of the completed tasks: what the model learns from."""
    done = tasks.loc[tasks["completed"].astype(bool), HISTORY_COLUMNS]
    hashed = pd.util.hash_pandas_object(done.astype(str), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:16]
