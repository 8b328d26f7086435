"""The Bolt app factory: one ``register(app, deps)`` per Slack surface, nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.bootstrap import Deps
from bot.config import Settings
from bot.errors import CopilotError
from bot.slack.background import BackgroundJobs
from bot.slack.listeners import approvals, commands, home

log = logging.getLogger(__name__)
SEEN_TTL_S = 3600  # Slack retries within minutes; an hour of keys is plenty
# Background jobs running at once, per lane (see bot.slack.background): answers (forecasts,
# rebalances, the App Home) are CPU-bound, decisions mostly wait on Asana.
ANSWER_JOBS = 2
DECISION_JOBS = 4


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
        # Every listener only acks and queues its work (bot.slack.background), so Bolt may run
        # it on the request thread: the answer leaves as soon as the listener returns, with no
        # hop to an executor and no polling for ack(). Slow work on Bolt's executor would make
        # acks miss Slack's 3 seconds (notes §1.1). The executor then serves lazy listeners
        # only (there are none); passing ours stops Bolt from building its own.
        process_before_response=True,
        listener_executor=deps.workers,
        raise_error_for_unhandled_request=False,
    )
    app.middleware(drop_duplicates(deps))
    answer_slots, decision_slots = background_slots(settings.slack_listener_threads)
    answers = BackgroundJobs(deps.workers, max_running=answer_slots)
    decisions = BackgroundJobs(deps.workers, max_running=decision_slots)
    commands.register(app, deps, answers)
    approvals.register(app, deps, decisions)
    home.register(app, deps, answers)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.error("unhandled Slack listener error: %s (type %s)", error, body.get("type"))
        return BoltResponse(status=500, body="", headers={"X-Slack-No-Retry": "1"})

    return app


def background_slots(workers: int) -> tuple[int, int]:
    """How many answer and decision jobs may run at once on ``workers`` threads, leaving one
    free for model fits when there are three or more."""
    spare = max(2, workers - 1)
    answers = max(1, min(ANSWER_JOBS, spare // 2))
    return answers, max(1, min(DECISION_JOBS, spare - answers))


def drop_duplicates(
    deps: Deps,
) -> Callable[[BoltRequest, BoltResponse, Callable[[], BoltResponse]], BoltResponse]:
    """A middleware that answers 200 without running anything for a delivery already seen.

    Slack retries an event (same ``event_id``) it thinks was not answered in 3 s, and Bolt
    has no dedupe. Events are keyed by ``event_id``, clicks by user and ``action_ts``; the key is
    kept in the store, so every process of a deployment sees it. Runs after signature checks,
    so forged requests cannot fill the store.
    """

    def middleware(
        req: BoltRequest, resp: BoltResponse, next_: Callable[[], BoltResponse]
    ) -> BoltResponse:
        key = delivery_key(req.body)
        if key is None:
            return next_()
        try:
            first = deps.store.set_if_absent(f"slack:seen:{key}", 1, ttl_s=SEEN_TTL_S)
        except CopilotError as exc:  # a store outage must not stop Slack traffic
            log.warning("could not record Slack delivery %s: %s", key, exc)
            return next_()
        if first:
            return next_()
        log.info(
            "dropped a duplicate Slack delivery %s (retry %s)",
            key,
            req.headers.get("x-slack-retry-num", ["-"])[0],
        )
        return BoltResponse(status=200, body="")

    return middleware


def delivery_key(body: Mapping[str, Any]) -> str | None:
    """The idempotency key of an event or a click; None for requests Slack does not retry."""
    event_id = body.get("event_id")
    if body.get("type") == "event_callback" and event_id:
        return f"event:{event_id}"
    if body.get("type") == "block_actions":
        actions, user = body.get("actions"), body.get("user")
        first = actions[0] if isinstance(actions, list) and actions else None
        action_ts = first.get("action_ts") if isinstance(first, Mapping) else None
        user_id = user.get("id") if isinstance(user, Mapping) else None
        if action_ts and user_id:
            return f"action:{user_id}:{action_ts}"
    return None
