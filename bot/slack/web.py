"""The HTTP entry: a WSGI app serving Slack's request URL and a health check, run by gunicorn.

Bodies above ``MAX_BODY_BYTES`` are refused before Bolt parses them; Bolt verifies every
signature (forged or older than five minutes → 401).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack import ids
from bot.store.ports import Store

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1_000_000  # Slack payloads are far smaller; a larger body is not from Slack

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def create_wsgi_app(app: App, store: Store) -> WSGIApp:
    """Route ``/slack/events`` to Bolt and ``/healthz`` to a store check; 404 otherwise."""
    slack = SlackRequestHandler(app, path=ids.EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == ids.HEALTH_PATH and method in ("GET", "HEAD"):
            return _health(store, start_response)
        if path == ids.EVENTS_PATH and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if not 0 < length <= MAX_BODY_BYTES:
                log.warning(
                    "refused Slack request with body length %r", environ.get("CONTENT_LENGTH")
                )
                return _json(start_response, "400 Bad Request", {"error": "invalid body"})
            return slack(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


def _health(store: Store, start_response: StartResponse) -> Iterable[bytes]:
    try:
        store.ping()
    except Exception as exc:  # any failure means unhealthy; the reason goes to the log
        log.error("health check failed: %s", exc)
        return _json(start_response, "503 Service Unavailable", {"ok": False, "store": "down"})
    return _json(start_response, "200 OK", {"ok": True})


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]
