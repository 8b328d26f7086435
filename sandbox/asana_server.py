"""A local Asana-compatible HTTP server (`/api/1.0`) over a `SandboxState`, for tests and demos.

Owns the wire: bearer auth, rate limits, injected failures, paging, `{"data": …}` envelopes and
Asana's error bodies. Endpoint behaviour lives in `sandbox.asana_routes`.
"""

from __future__ import annotations

import collections
import contextlib
import hmac
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.asana_fields import Ref, UnknownFieldError, default_selection, parse_opt_fields, render
from sandbox.asana_model import INJECTED_HEADER, AsanaError, Exchange
from sandbox.asana_paging import Pager
from sandbox.asana_routes import GID_QUERY_PARAMS, Call, find_route
from sandbox.asana_state import SandboxState

__all__ = ["AsanaSandbox", "SandboxState"]

logger = logging.getLogger(__name__)

API_PREFIX = "/api/1.0"
ERRORS_HELP = (
    "For more information on API status codes and how to handle them, read the docs on "
    "errors: https://developers.asana.com/docs/errors"
)
RATE_LIMITED = (
    "You've made too many requests and hit a rate limit. Please retry after the given amount "
    "of time."
)
_JSON = "application/json; charset=UTF-8"


@dataclass
class _Failure:
    method: str
    path_prefix: str
    status: int
    remaining: int
    retry_after: int


class AsanaSandbox:
    """Serves a `SandboxState` as Asana's REST API on 127.0.0.1, in a daemon thread.

    Use as `with AsanaSandbox(state).start() as sandbox:` and point the SDK's
    `Configuration.host` at `sandbox.base_url`. Every exchange is logged on `state`.
    """

    def __init__(
        self,
        state: SandboxState,
        *,
        token: str = "sandbox-token",
        latency_s: float = 0.0,
        requests_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state
        self.token = token
        self.latency_s = latency_s
        self.requests_per_minute = requests_per_minute
        self._clock = clock  # drives the rate-limit window; injectable so tests need no sleeps
        self._pager = Pager()
        self._guard = threading.Lock()
        self._window: collections.deque[float] = collections.deque()
        self._failures: list[_Failure] = []
        self._forbidden: set[str] = set()
        self._phrases = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> AsanaSandbox:
        """Bind (port 0 picks a free port) and serve in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._server = _Server((host, port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop to notice
            name="asana-sandbox",
            daemon=True,
        )
        self._thread.start()
        logger.info("Asana sandbox serving at %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close open connections; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def wait(self) -> None:
        """Block until `stop()` is called from another thread (or Ctrl-C in the caller)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)  # a bounded join keeps KeyboardInterrupt deliverable

    def __enter__(self) -> AsanaSandbox:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What the SDK's `Configuration.host` takes, e.g. http://127.0.0.1:PORT/api/1.0."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{API_PREFIX}"

    # ---- fault injection ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int = 500,
        times: int = 1,
        *,
        retry_after: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `status` (e.g. 500, 503, 429).

        Args:
            method: HTTP method, or "*" for any.
            path_prefix: a path under /api/1.0, e.g. "/tasks/" (the prefix may include it).
            status: the status to answer with; 500 bodies carry a `phrase` like Asana's.
            times: how many requests to fail.
            retry_after: the Retry-After seconds sent with an injected 429.
        """
        prefix = path_prefix.removeprefix(API_PREFIX)
        with self._guard:
            self._failures.append(_Failure(method.upper(), prefix, status, times, retry_after))

    def forbid(self, gid: str) -> None:
        """Answer 403 for requests naming `gid` in the path or a resource query parameter."""
        with self._guard:
            self._forbidden.add(gid)

    # ---- request handling -----------------------------------------------------------------

    def respond(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request; returns (status, headers, body). Never raises."""
        if self.latency_s > 0:
            time.sleep(self.latency_s)  # simulated network/server latency, outside the lock
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            payload, status = self._dispatch(method, parts.path, query, headers, body)
            extra: dict[str, str] = {}
        except AsanaError as error:
            payload, status, extra = self._error_body(error), error.status, {}
            if error.retry_after is not None:
                extra["Retry-After"] = str(error.retry_after)
            if error.injected:
                extra[INJECTED_HEADER] = "injected"
        except Exception:
            logger.exception("sandbox failed on %s %s", method, target)
            payload, status, extra = self._error_body(AsanaError(500, "Server Error")), 500, {}
        indent = 2 if query.get("opt_pretty") in ("", "true") else None
        data = json.dumps(payload, indent=indent).encode()
        return status, {"Content-Type": _JSON, **extra}, data

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[dict[str, Any], int]:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not hmac.compare_digest(auth.encode(), f"Bearer {self.token}".encode()):
            raise AsanaError(401, "Not Authorized")
        self._check_budget()
        relative = path.removeprefix(API_PREFIX)
        self._check_injected(method, relative)
        found = find_route(method, relative) if path.startswith(API_PREFIX + "/") else None
        if found is None:
            raise AsanaError(404, "No matching route for request")
        route, params = found
        with self.state.lock:
            call = Call(self._resolve(params, query), query, _request_data(method, body))
            try:
                selection = parse_opt_fields(
                    query.get("opt_fields"), route.shape, listing=route.listing
                )
            except UnknownFieldError as error:
                raise AsanaError(400, f"opt_fields: Unknown field: {error}") from error
            result = route.handler(self.state, call)
            if isinstance(result, Ref):
                chosen = default_selection(route.shape) if selection is None else selection
                data = render(result, route.shape, chosen, self.state.record)
                return {"data": data}, route.status
            page, extra = self._pager.page(result, relative, query, self.base_url)
            data = render(list(page), route.shape, selection or {}, self.state.record)
            return {"data": data, **extra}, route.status

    def _resolve(self, params: dict[str, str], query: dict[str, str]) -> dict[str, str]:
        """Check path gids exist and are visible; users may be named by email or "me"."""
        with self._guard:
            forbidden = set(self._forbidden)
        resolved = {}
        for kind, value in params.items():
            if value in forbidden:
                raise AsanaError(403, "Forbidden")
            if kind == "user":
                try:
                    value = self.state.user_gid(value)
                except ValueError as error:
                    raise AsanaError(404, f"user: Unknown object: {value}") from error
            else:
                self.state.require(kind, value)
            if value in forbidden:
                raise AsanaError(403, "Forbidden")
            resolved[kind] = value
        if any(query.get(name) in forbidden for name in GID_QUERY_PARAMS):
            raise AsanaError(403, "Forbidden")
        return resolved

    def _check_budget(self) -> None:
        """Asana's per-minute request quota; rejected requests still count against it."""
        if self.requests_per_minute is None:
            return
        with self._guard:
            now = self._clock()
            while self._window and self._window[0] <= now - 60:
                self._window.popleft()
            self._window.append(now)
            excess = len(self._window) - self.requests_per_minute
            if excess <= 0:
                return
            # The next request fits once all but `limit - 1` logged requests (this refused one
            # included) have left the 60 s window: when the one at index `excess` leaves.
            wait = self._window[excess] + 60 - now
        raise AsanaError(429, RATE_LIMITED, retry_after=max(1, math.ceil(wait)))

    def _check_injected(self, method: str, path: str) -> None:
        with self._guard:
            for failure in self._failures:
                if failure.method in ("*", method) and path.startswith(failure.path_prefix):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    break
            else:
                return
        if failure.status == 429:
            raise AsanaError(429, RATE_LIMITED, retry_after=failure.retry_after, injected=True)
        message = "Server Error" if failure.status >= 500 else f"Injected {failure.status}"
        raise AsanaError(failure.status, message, injected=True)

    def _error_body(self, error: AsanaError) -> dict[str, Any]:
        entry: dict[str, Any] = {"message": error.message, "help": ERRORS_HELP}
        if error.status >= 500:
            # Asana's 500s carry a phrase that support uses to find the incident.
            with self._guard:
                self._phrases += 1
                entry["phrase"] = f"{self._phrases} sandbox squids snuggle softly"
        return {"errors": [entry]}


def _request_data(method: str, body: bytes) -> dict[str, Any]:
    """The `data` object of a write request's JSON body."""
    if method not in ("POST", "PUT"):
        return {}
    try:
        document = json.loads(body or b"null")
    except ValueError as error:
        raise AsanaError(400, "Could not parse request data, invalid JSON") from error
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise AsanaError(400, "Request data must be a JSON object with a 'data' object")
    return data


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[_Handler], sandbox: AsanaSandbox
    ) -> None:
        self.sandbox = sandbox
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._open_lock:
            self._open.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections so they exit."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # the peer may have closed it already
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's urllib3 pool expects
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        sandbox = self.server.sandbox
        status, response_headers, data = sandbox.respond(self.command, self.path, headers, body)
        parts = urlsplit(self.path)
        # Logged before the reply leaves, so a client that has its answer also finds it logged.
        sandbox.state.record_exchange(
            Exchange(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers,
                body,
                status,
                response_headers,
                data,
            )
        )
        self.send_response(status)
        for name, value in response_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)
