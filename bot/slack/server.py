"""Run the Slack app: HTTP under gunicorn (production) or Socket Mode (no public URL)."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.slack.web import WSGIApp

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn with our WSGI app object and options instead of a command line."""

    def __init__(self, wsgi: WSGIApp, options: dict[str, Any]) -> None:
        self._wsgi = wsgi
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self._wsgi


def serve_http(wsgi: WSGIApp, *, host: str, port: int, threads: int) -> None:
    """Serve ``wsgi`` with gunicorn until stopped.

    One worker process with threads: the app object (and its SQLite store) lives in this
    process; scale out with more processes sharing Redis (docs/architecture.md §6).
    """
    log.info("serving Slack on http://%s:%d%s", host, port, "/slack/events")
    _Gunicorn(
        wsgi,
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 60,
            "accesslog": None,
            "loglevel": "warning",
        },
    ).run()


def serve_socket(app: App, app_token: str) -> None:
    """Connect to Slack over Socket Mode (an ``xapp-`` token) and block until stopped."""
    SocketModeHandler(app, app_token).start()  # type: ignore[no-untyped-call]
