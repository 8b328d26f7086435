"""A local, recording Slack Web API that the real ``slack_sdk`` clients talk to (demo and tests).

Standard library only; must not import ``bot`` (the fake stands in for Slack, not for our code).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_TEAM_ID = re.compile(r"^T[A-Z0-9]{2,}$")
# Slack ts values are "<10-digit seconds>.<6-digit sequence>"; starting from a fixed epoch keeps
# demo output and test expectations stable across runs.
_TS_SECONDS = 1_700_000_000
_TS_STEP = 100
_API_PREFIX = "/api/"
_RESPONSE_PREFIX = "/response/"

Params = dict[str, Any]


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


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any] | str
    headers: tuple[tuple[str, str], ...] = ()


def _ok(**payload: Any) -> _Reply:
    return _Reply(200, {"ok": True, **payload})


def _error(error: str) -> _Reply:
    # Slack reports method errors as HTTP 200 with ok:false; slack_sdk turns them into
    # SlackApiError.
    return _Reply(200, {"ok": False, "error": error})


def _json_param(value: Any) -> Any:
    """Decode a parameter Slack accepts either as JSON or as a JSON-encoded string."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class LocalSlack:
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
        if not _TEAM_ID.match(team_id):
            raise ValueError(f"team_id {team_id!r} does not look like a Slack team id (T...)")
        self.bot_token = bot_token
        self.app_token = app_token
        self.socket_mode_url = socket_mode_url
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0LOCALBOT1"
        self.app_id = "A0LOCALAPP1"
        self._lock = threading.Condition()
        self._calls: list[SlackCall] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._dm_channels: dict[str, str] = {}
        self._ts = itertools.count(_TS_STEP, _TS_STEP)
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[Params], _Reply]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "conversations.open": self._conversations_open,
            "apps.connections.open": self._apps_connections_open,
        }
        self._add_bot_user()
        for user in users or []:
            missing = {"id", "email", "name"} - user.keys()
            if missing:
                raise ValueError(f"user {user!r} lacks {sorted(missing)}")
            self.add_user(
                user["id"], user["email"], user["name"], tz=user.get("tz", "Europe/London")
            )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Serve on ``host:port`` (port 0 picks a free one) from a daemon thread.

        Returns:
            This instance, so ``slack = LocalSlack().start()`` reads naturally.
        """
        if self._server is not None:
            raise RuntimeError("LocalSlack is already started")
        server = _Server((host, port), self)
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

    def add_user(self, user_id: str, email: str, name: str, *, tz: str = "Europe/London") -> None:
        """Make ``users.info`` and ``users.lookupByEmail`` know a person.

        Args:
            user_id: Slack user id (``U...`` or ``W...``).
            email: The profile email (needs ``users:read.email`` on real Slack).
            name: The person's real name, e.g. ``"Ana Lima"``.
            tz: IANA time zone name.
        """
        if not _USER_ID.match(user_id):
            raise ValueError(f"user id {user_id!r} does not match Slack's ^[UW][A-Z0-9]{{2,}}$")
        handle = email.split("@", 1)[0]
        profile = self._profile(real_name=name, display_name=handle)
        profile["email"] = email
        user = self._user_object(user_id, handle, name, profile, tz=tz, is_bot=False)
        with self._lock:
            self._users[user_id] = user

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
    ) -> _Reply:
        if path.startswith(_RESPONSE_PREFIX):
            method = "response_url"
        elif path.startswith(_API_PREFIX):
            method = path[len(_API_PREFIX) :]
        else:
            logger.warning("LocalSlack: no such path %s", path)
            return _Reply(404, "not_found")
        with self._lock:
            self._calls.append(SlackCall(method, params, headers, http_method, path))
            self._lock.notify_all()
        if method == "response_url":
            # response_url needs no token: the URL itself is the secret. Slack answers "ok".
            failure = self._pop_failure(method)
            return _Reply(failure.status, failure.error) if failure else _Reply(200, "ok")
        authorization = headers.get("authorization")
        if authorization is None:
            return _error("not_authed")
        # apps.connections.open takes the app-level token (xapp-), everything else the bot's.
        token = self.app_token if method == "apps.connections.open" else self.bot_token
        if authorization != f"Bearer {token}":
            return _error("invalid_auth")
        failure = self._pop_failure(method)
        if failure is not None:
            extra = (
                () if failure.retry_after is None else (("Retry-After", str(failure.retry_after)),)
            )
            return _Reply(failure.status, {"ok": False, "error": failure.error}, extra)
        handler = self._methods.get(method)
        if handler is None:
            return _error("unknown_method")
        reply = handler(params)
        # Real Slack reports the token's scopes on every Web API response.
        return _Reply(reply.status, reply.body, (("x-oauth-scopes", ",".join(GRANTED_SCOPES)),))

    def _pop_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None

    def _next_ts(self) -> str:
        with self._lock:
            n = next(self._ts)
        return f"{_TS_SECONDS + n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}0LOCAL{next(self._ids):04d}"

    def _dm_channel(self, user_id: str) -> tuple[str, bool]:
        with self._lock:
            existing = self._dm_channels.get(user_id)
            if existing is None:
                self._dm_channels[user_id] = self._next_id("D")
            return self._dm_channels[user_id], existing is not None

    def _resolve_channel(self, channel: Any) -> str | None:
        if not isinstance(channel, str) or not channel:
            return None
        # Posting to a user id opens (or reuses) the DM with that user, as Slack does.
        return self._dm_channel(channel)[0] if _USER_ID.match(channel) else channel

    def _message(self, params: Params, ts: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": params.get("text") or "",
            "team": self.team_id,
        }
        if ts is not None:
            message["ts"] = ts
        blocks = _json_param(params.get("blocks"))
        if blocks:
            message["blocks"] = blocks
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        return message

    # -- Web API methods -------------------------------------------------------------------

    def _auth_test(self, params: Params) -> _Reply:
        return _ok(
            url="https://capacity-copilot-local.slack.com/",
            team="Capacity Copilot Local",
            user="capacity-copilot",
            team_id=self.team_id,
            user_id=self.bot_user_id,
            bot_id=self.bot_id,
            is_enterprise_install=False,
        )

    def _apps_connections_open(self, params: Params) -> _Reply:
        if self.socket_mode_url is None:
            return _error("socket_mode_not_enabled")
        return _ok(url=self.socket_mode_url)

    def _chat_post_message(self, params: Params) -> _Reply:
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _error("no_text")
        ts = self._next_ts()
        return _ok(channel=channel, ts=ts, message=self._message(params, ts))

    def _chat_update(self, params: Params) -> _Reply:
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        ts = params.get("ts")
        if not ts:
            return _error("message_not_found")
        message = self._message(params, ts=None)
        return _ok(channel=channel, ts=ts, text=message["text"], message=message)

    def _chat_post_ephemeral(self, params: Params) -> _Reply:
        if self._resolve_channel(params.get("channel")) is None:
            return _error("channel_not_found")
        if not params.get("user"):
            return _error("user_not_in_channel")
        return _ok(message_ts=self._next_ts())

    def _users_info(self, params: Params) -> _Reply:
        with self._lock:
            user = self._users.get(str(params.get("user", "")))
        return _ok(user=user) if user else _error("user_not_found")

    def _users_lookup_by_email(self, params: Params) -> _Reply:
        email = str(params.get("email", "")).lower()
        with self._lock:
            found = [
                u for u in self._users.values() if u["profile"].get("email", "").lower() == email
            ]
        # Slack's error name here is plural, unlike users.info's.
        return _ok(user=found[0]) if found else _error("users_not_found")

    def _views_publish(self, params: Params) -> _Reply:
        view = _json_param(params.get("view"))
        if not params.get("user_id") or not isinstance(view, dict):
            return _error("invalid_arguments")
        return _ok(view=self._view(view))

    def _views_open(self, params: Params) -> _Reply:
        view = _json_param(params.get("view"))
        if not params.get("trigger_id") or not isinstance(view, dict):
            return _error("invalid_arguments")
        return _ok(view=self._view(view))

    def _view(self, view: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self._next_id("V"),
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "hash": f"{_TS_SECONDS}.{secrets.token_hex(4)}",
            "state": {"values": {}},
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            **view,
        }

    def _conversations_open(self, params: Params) -> _Reply:
        if params.get("channel"):
            return _ok(channel={"id": params["channel"]})
        users = params.get("users")
        user_ids = users if isinstance(users, list) else str(users or "").split(",")
        user_ids = [u.strip() for u in user_ids if u.strip()]
        if not user_ids:
            return _error("users_list_not_supplied")
        if len(user_ids) > 1:
            return _ok(channel={"id": self._next_id("G")})
        channel, already_open = self._dm_channel(user_ids[0])
        if already_open:
            return _ok(no_op=True, already_open=True, channel={"id": channel})
        return _ok(channel={"id": channel})

    # -- users -----------------------------------------------------------------------------

    def _add_bot_user(self) -> None:
        profile = self._profile(real_name="Capacity Copilot", display_name="")
        profile.update(bot_id=self.bot_id, api_app_id=self.app_id, always_active=True)
        self._users[self.bot_user_id] = self._user_object(
            self.bot_user_id,
            "capacity-copilot",
            "Capacity Copilot",
            profile,
            # Bot users carry Slack's default zone.
            tz="America/Los_Angeles",
            is_bot=True,
        )

    @staticmethod
    def _profile(*, real_name: str, display_name: str) -> dict[str, Any]:
        return {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "avatar_hash": "g0000000000a",
            "title": "",
            "phone": "",
            "skype": "",
            "status_text": "",
            "status_emoji": "",
            "fields": None,
        }

    def _user_object(
        self,
        user_id: str,
        handle: str,
        real_name: str,
        profile: dict[str, Any],
        *,
        tz: str,
        is_bot: bool,
    ) -> dict[str, Any]:
        profile["team"] = self.team_id
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": handle,
            "deleted": False,
            "real_name": real_name,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": _TS_SECONDS,
            "profile": profile,
        }
        # Slack computes the offset for "now", so a DST change moves it, as here.
        try:
            now = datetime.now(ZoneInfo(tz))
        except ZoneInfoNotFoundError as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        offset = now.utcoffset()
        user["tz"] = tz
        user["tz_label"] = now.tzname() or tz
        user["tz_offset"] = int(offset.total_seconds()) if offset else 0
        return user


class _Server(ThreadingHTTPServer):
    # Handler threads must not keep the interpreter alive or block server_close().
    daemon_threads = True

    def __init__(self, address: tuple[str, int], slack: LocalSlack) -> None:
        self.slack = slack
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
        slack = cast(_Server, self.server).slack
        if parse_error:
            reply = _error(parse_error)
        else:
            reply = slack._handle(url.path, self.command, headers, params)
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
