"""The process's model cache: one fit per (history, day), then a warm-up forecast."""

from __future__ import annotations

import logging
import pickle
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from bot.domain import Snapshot
from bot.forecasts import ModelCache
from forecasting.forecast import forecast_load
from forecasting.model import CapacityModel
from forecasting.synthetic import generate_org

TODAY = date(2026, 11, 25)


def _snapshot(seed: int) -> Snapshot:
    org = generate_org(seed, today=TODAY, people=12, open_tasks=150, history_months=6)
    return Snapshot(
        workspace_gid="1",
        synced_at=datetime(2026, 11, 25, 8, tzinfo=UTC),
        today=TODAY,
        people=org.people,
        tasks=org.tasks,
        time_off=org.time_off,
        teams=tuple(org.teams["name"]),
        projects=dict(zip(org.projects["gid"], org.projects["name"], strict=True)),
        effort_field=None,
        skills_field=None,
        api_calls=0,
    )


def _forecast(model: CapacityModel, snapshot: Snapshot) -> pd.DataFrame:
    return forecast_load(
        snapshot.people, snapshot.tasks, snapshot.time_off, today=TODAY, weeks=4, model=model
    ).weekly


def _fitted(cache: ModelCache, executor: ThreadPoolExecutor, snapshot: Snapshot) -> CapacityModel:
    model = cache.get(snapshot, TODAY, wait_s=None).model
    executor.shutdown(wait=True)  # the warm-up queued behind the fit has run
    assert model is not None
    return model


def test_model_cache_warms_a_new_model_up_without_changing_its_forecast(
    caplog: pytest.LogCaptureFixture,
) -> None:
    snapshot = _snapshot(3)
    executor = ThreadPoolExecutor(max_workers=1)
    with caplog.at_level(logging.INFO, logger="bot.forecasts"):
        model = _fitted(ModelCache(executor, horizon_weeks=4), executor, snapshot)
    cold: CapacityModel = pickle.loads(pickle.dumps(model))  # a copy keeps no predictions

    assert f"forecast model {model.version} warmed up on the snapshot" in caplog.text
    pd.testing.assert_frame_equal(_forecast(model, snapshot), _forecast(cold, snapshot))


def test_model_cache_skips_the_warm_up_when_told_to(caplog: pytest.LogCaptureFixture) -> None:
    executor = ThreadPoolExecutor(max_workers=1)
    with caplog.at_level(logging.INFO, logger="bot.forecasts"):
        _fitted(ModelCache(executor, horizon_weeks=4, warm_up=False), executor, _snapshot(4))

    assert "fitted on" in caplog.text
    assert "warmed up" not in caplog.text


def test_model_cache_keeps_the_model_when_its_warm_up_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    executor = ThreadPoolExecutor(max_workers=1)
    cache = ModelCache(executor, horizon_weeks=4, lead_days=0)  # no forecast takes lead_days 0
    with caplog.at_level(logging.INFO, logger="bot.forecasts"):
        model = _fitted(cache, executor, _snapshot(5))

    assert "warm-up failed" in caplog.text
    assert model.fallback_ is None
