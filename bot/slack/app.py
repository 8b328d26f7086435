"""The Bolt app factory: one ``register(app, deps)`` per Slack surface, nothing at import time."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.bootstrap import Deps
from bot.config import Settings
from bot.slack.listeners import commands

log = logging.getLogger(__name__)


def build_app(settings: Settings, deps: Deps, *, client: WebClient | None = None) -> App:
    """Build the Bolt app with every listener registered.

    Args:
        settings: Slack tokens, API URL and listener pool size.
        deps: the services' dependencies.
        client: a ready ``WebClient`` (tests and the demo point one at a local server).

    ``App()`` calls ``auth.test`` at construction, so a wrong bot token fails here, at start.
    """
    client = client or WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or None,
        # Bolt's default pool of 5 threads is shared by acks and slow listeners; a busy pool
        # makes acks miss Slack's 3-second deadline (notes §1.1).
        listener_executor=deps.workers,
        raise_error_for_unhandled_request=False,
    )
    commands.register(app, deps)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.error("unhandled Slack listener error: %s (type %s)", error, body.get("type"))
        return BoltResponse(status=500, body="", headers={"X-Slack-No-Retry": "1"})

    return app
