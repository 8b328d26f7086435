"""A local, recording Slack Web API that the real ``slack_sdk`` clients talk to (demo and tests).

Owns ``LocalSlack``: its lifecycle, authentication, the call log and programmed failures; the
workspace it answers for is ``sandbox.slack_workspace``, the wire ``sandbox.slack_http``.
Standard library only; must not import ``bot`` (the fake stands in for Slack, not for our code).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from sandbox.slack_http import Params, Reply, SlackServer, error
from sandbox.slack_workspace import SlackWorkspace

logger = logging.getLogger(__name__)

#: The least-privilege bot scopes of ``slack_manifest.yml``, echoed in ``x-oauth-scopes``.
GRANTED_SCOPES = (
    "commands",
    "chat:write",
    "app_mentions:read",
    "im:history",
    "users:read",
    "users:read.email",
)

_API_PREFIX = "/api/"
_RESPONSE_PREFIX = "/response/"


@dataclass(frozen=True)
class SlackCall:
    """One request as it reached the local Slack.

    Attributes:
        method: Web API method such as ``"chat.postMessage"``, or ``"response_url"``.
        params: The parsed JSON body, form body or query string (form and query values are
            strings, exactly as sent on the wire).
        headers: Request headers with lower-cased names.
        http_method: ``"POST"`` or ``"GET"``.
        path: The request path, e.g. ``"/api/chat.update"`` or ``"/response/<key>"``.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    http_method: str
    path: str = ""


@dataclass(frozen=True)
class _Failure:
    error: str
    status: int
    retry_after: int | None


class LocalSlack(SlackWorkspace):
    """A local Slack Web API on 127.0.0.1 that records every call it receives.

    Point ``slack_sdk.WebClient(token=..., base_url=local.base_url)`` at it. Behaviour can be
    programmed per test with ``fail_next``; ``reset`` clears calls and programmed failures but
    keeps users and keeps ``ts`` values increasing.

    Example:
        with LocalSlack(users=[{"id": "U0ANA00001", "email": "ana@example.com",
                                "name": "Ana Lima"}]) as slack:
            WebClient(token="xoxb-local", base_url=slack.base_url).auth_test()
            assert slack.calls("auth.test")
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-local",
        users: list[dict[str, Any]] | None = None,
        team_id: str = "T0LOCAL0001",
        bot_user_id: str = "U0BOT00001",
        app_token: str = "xapp-local",
        socket_mode_url: str | None = None,
    ) -> None:
        """Configure the workspace; nothing listens until ``start``.

        Args:
            bot_token: The only token accepted in ``Authorization: Bearer ...``.
            app_token: The app-level token accepted by ``apps.connections.open`` only.
            socket_mode_url: The websocket URL ``apps.connections.open`` hands out (a local
                Socket Mode server); None answers that call with an error.
            users: Users to know, each ``{"id", "email", "name"}`` plus optional ``"tz"``.
            team_id: Workspace id (``T...``).
            bot_user_id: The bot's own user id, returned by ``auth.test``.
        """
        super().__init__(
            users=users, team_id=team_id, bot_user_id=bot_user_id, socket_mode_url=socket_mode_url
        )
        self.bot_token = bot_token
        self.app_token = app_token
        self._lock = threading.Condition()
        self._calls: list[SlackCall] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._server: SlackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Serve on ``host:port`` (port 0 picks a free one) from a daemon thread.

        Returns:
            This instance, so ``slack = LocalSlack().start()`` reads naturally.
        """
        if self._server is not None:
            raise RuntimeError("LocalSlack is already started")
        server = SlackServer((host, port), self._handle)
        thread = threading.Thread(
            # A short poll interval keeps stop() fast; the default 0.5 s adds up over a suite.
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"LocalSlack:{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        logger.debug("LocalSlack listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``, for ``WebClient(base_url=...)``."""
        return f"{self._origin()}{_API_PREFIX}"

    def response_url(self, key: str | None = None) -> str:
        """A URL on this server that acts as an interaction's ``response_url``.

        POSTs to it are recorded as method ``"response_url"`` with path ``/response/<key>``.

        Args:
            key: Names the URL; a fresh random key when omitted.
        """
        return f"{self._origin()}{_RESPONSE_PREFIX}{key or secrets.token_hex(8)}"

    def _origin(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalSlack is not started; call start() or use it as a context")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- inspection and programming ------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[SlackCall]:
        """A snapshot of the calls received so far, oldest first, optionally for one method."""
        with self._lock:
            return self._matching(method)

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Block until at least ``count`` calls to ``method`` arrived, then return them all.

        Raises:
            AssertionError: After ``timeout`` seconds, naming what arrived instead.
        """
        with self._lock:
            # Woken by every recorded call, so this returns as soon as the call lands.
            done = self._lock.wait_for(lambda: len(self._matching(method)) >= count, timeout)
            matching = self._matching(method)
            if not done:
                arrived = [call.method for call in self._calls]
                raise AssertionError(
                    f"expected {count} {method!r} call(s) within {timeout}s, got "
                    f"{len(matching)}; calls received: {arrived}"
                )
            return matching

    def reset(self) -> None:
        """Forget recorded calls and programmed failures (users and ts sequence are kept)."""
        with self._lock:
            self._calls.clear()
            self._failures.clear()

    def fail_next(
        self,
        method: str,
        error: str = "channel_not_found",
        *,
        status: int = 200,
        retry_after: int | None = None,
    ) -> None:
        """Make the next authenticated call to ``method`` fail once (calls queue up).

        Args:
            method: Web API method, or ``"response_url"``.
            error: The ``error`` field (or the text body for ``response_url``); Slack sends
                ``"ratelimited"`` with 429.
            status: HTTP status; 200 gives ``ok: false``, 429 a rate limit.
            retry_after: Seconds for the ``Retry-After`` header, when given.
        """
        with self._lock:
            self._failures.setdefault(method, deque()).append(_Failure(error, status, retry_after))

    def _matching(self, method: str | None) -> list[SlackCall]:
        return [call for call in self._calls if method is None or call.method == method]

    # -- request handling ------------------------------------------------------------------

    def _handle(
        self, path: str, http_method: str, headers: dict[str, str], params: Params
    ) -> Reply:
        if path.startswith(_RESPONSE_PREFIX):
            method = "response_url"
        elif path.startswith(_API_PREFIX):
            method = path[len(_API_PREFIX) :]
        else:
            logger.warning("LocalSlack: no such path %s", path)
            return Reply(404, "not_found")
        with self._lock:
            self._calls.append(SlackCall(method, params, headers, http_method, path))
            self._lock.notify_all()
        if method == "response_url":
            # response_url needs no token: the URL itself is the secret. Slack answers "ok".
            failure = self._pop_failure(method)
            return Reply(failure.status, failure.error) if failure else Reply(200, "ok")
        authorization = headers.get("authorization")
        if authorization is None:
            return error("not_authed")
        # apps.connections.open takes the app-level token (xapp-), everything else the bot's.
        token = self.app_token if method == "apps.connections.open" else self.bot_token
        if authorization != f"Bearer {token}":
            return error("invalid_auth")
        failure = self._pop_failure(method)
        if failure is not None:
            extra = (
                () if failure.retry_after is None else (("Retry-After", str(failure.retry_after)),)
            )
            return Reply(failure.status, {"ok": False, "error": failure.error}, extra)
        reply = self.answer(method, params)
        # Real Slack reports the token's scopes on every Web API response.
        return Reply(reply.status, reply.body, (("x-oauth-scopes", ",".join(GRANTED_SCOPES)),))

    def _pop_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None
