"""The local Slack's wire: replies, the threading HTTP server and the parsing of requests.

Standard library only; imports nothing from ``sandbox`` (the server is handed the function that
answers a request) and must not import ``bot``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

Params = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What goes back on the wire: a JSON object, or text (``response_url`` answers "ok")."""

    status: int
    body: dict[str, Any] | str
    headers: tuple[tuple[str, str], ...] = ()


# Answers one request: (path, HTTP method, lower-cased headers, parsed params) -> reply.
Handle = Callable[[str, str, dict[str, str], Params], Reply]


def ok(**payload: Any) -> Reply:
    return Reply(200, {"ok": True, **payload})


def error(code: str) -> Reply:
    # Slack reports method errors as HTTP 200 with ok:false; slack_sdk turns them into
    # SlackApiError.
    return Reply(200, {"ok": False, "error": code})


class SlackServer(ThreadingHTTPServer):
    """Serves every request to ``handle``, one thread a request."""

    # Handler threads must not keep the interpreter alive or block server_close().
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handle: Handle) -> None:
        self.handle = handle
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so no idle keep-alive socket outlives a test.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._respond()

    def do_POST(self) -> None:
        self._respond()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("LocalSlack %s", format % args)

    def _respond(self) -> None:
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        params, parse_error = self._read_params(url.query, headers)
        handle = cast(SlackServer, self.server).handle
        if parse_error:
            reply = error(parse_error)
        else:
            reply = handle(url.path, self.command, headers, params)
        if isinstance(reply.body, str):
            body, content_type = reply.body.encode(), "text/plain; charset=utf-8"
        else:
            body, content_type = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        logger.debug("LocalSlack %s %s -> %d", self.command, url.path, reply.status)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_params(self, query: str, headers: dict[str, str]) -> tuple[Params, str | None]:
        params: Params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        length = int(headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return params, None
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        text = raw.decode("utf-8", errors="replace")
        if content_type == "application/json":
            try:
                decoded = json.loads(text)
            except json.JSONDecodeError:
                return params, "invalid_json"
            if isinstance(decoded, dict):
                params.update(decoded)
            return params, None
        if content_type == "application/x-www-form-urlencoded":
            form = parse_qs(text, keep_blank_values=True)
            params.update({k: v[-1] for k, v in form.items()})
            return params, None
        logger.warning("LocalSlack: ignoring a %s body", content_type or "untyped")
        return params, None
