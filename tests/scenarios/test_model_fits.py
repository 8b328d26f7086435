"""Model fits run beside the Slack worker pool, so listeners waiting for a fit cannot starve it."""

from __future__ import annotations

from typing import Any

import pytest

from bot import services
from tests.scenarios.conftest import Bot


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"slack_listener_threads": 2}  # the smallest pool the settings allow


def test_every_listener_waiting_for_the_model_gets_it(bot: Bot) -> None:
    # Both listener threads wait for the same fit; were it queued on their pool, it would
    # never start.
    waiting = [
        bot.deps.workers.submit(services.prepare_model, bot.deps, wait=True) for _ in range(2)
    ]
    first, second = (future.result(timeout=60) for future in waiting)
    assert first is second
    assert first.note
