"""The HTTP entry: a WSGI app serving Slack's request URL and a health check, run by gunicorn.

Bodies above ``MAX_BODY_BYTES``, and bodies Bolt could not parse (not UTF-8, broken JSON, a
JSON value that is not an object), are refused with 400 before Bolt sees them; Bolt verifies
every signature (forged or older than five minutes → 401).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body

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
            raw = environ["wsgi.input"].read(length)
            problem = _malformed(raw, length, str(environ.get("CONTENT_TYPE") or ""))
            if problem:
                log.warning("refused a malformed Slack request: %s", problem)
                return _json(start_response, "400 Bad Request", {"error": "invalid body"})
            return slack({**environ, "wsgi.input": io.BytesIO(raw)}, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


def _malformed(raw: bytes, length: int, content_type: str) -> str | None:
    """Why Bolt could not parse this body (it would raise and answer 500), or None."""
    if len(raw) != length:
        return f"body shorter than its Content-Length ({len(raw)} < {length})"
    try:
        parsed = parse_body(raw.decode("utf-8"), content_type.split(";")[0] or None)
    except UnicodeDecodeError:
        return "body is not UTF-8"
    except ValueError as exc:  # json.JSONDecodeError
        return f"body is not valid JSON ({exc})"
    if not isinstance(parsed, dict):
        return f"body is JSON {type(parsed).__name__}, not an object"
    return _bad_shape(parsed)


def _bad_shape(body: dict[str, Any]) -> str | None:
    """The parts Bolt reads before any listener runs must have Slack's types, or Bolt raises."""
    if "event" in body and not isinstance(body["event"], dict):
        return "event is not an object"
    actions = body.get("actions")
    clicked = body.get("type") in ("block_actions", "interactive_message")
    if (actions is not None or clicked) and not (
        isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)
    ):
        return "actions is not a non-empty list of objects"
    for key in ("user", "team", "channel", "container", "message", "view"):
        if body.get(key) is not None and not isinstance(body[key], dict | str):
            return f"{key} is neither an object nor a string"
    return None


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
