"""The workspace the local Slack answers for: its ids, users, DM channels, ``ts`` values and the
Web API methods that read and build them.

Standard library and ``sandbox.slack_http`` only; must not import ``bot``. Authentication, the
call log and programmed failures belong to ``sandbox.slack_api``.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.slack_http import Params, Reply, error, ok

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_TEAM_ID = re.compile(r"^T[A-Z0-9]{2,}$")
# Slack ts values are "<10-digit seconds>.<6-digit sequence>"; starting from a fixed epoch keeps
# demo output and test expectations stable across runs.
_TS_SECONDS = 1_700_000_000
_TS_STEP = 100


def _json_param(value: Any) -> Any:
    """Decode a parameter Slack accepts either as JSON or as a JSON-encoded string."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class SlackWorkspace:
    """One Slack workspace with its bot user, answering the Web API methods the bot calls."""

    def __init__(
        self,
        *,
        users: list[dict[str, Any]] | None,
        team_id: str,
        bot_user_id: str,
        socket_mode_url: str | None,
    ) -> None:
        """Create the workspace with its bot user and ``users``.

        Args:
            users: Users to know, each ``{"id", "email", "name"}`` plus optional ``"tz"``.
            team_id: Workspace id (``T...``).
            bot_user_id: The bot's own user id, returned by ``auth.test``.
            socket_mode_url: The websocket URL ``apps.connections.open`` hands out (a local
                Socket Mode server); None answers that call with an error.
        """
        if not _TEAM_ID.match(team_id):
            raise ValueError(f"team_id {team_id!r} does not look like a Slack team id (T...)")
        self.socket_mode_url = socket_mode_url
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0LOCALBOT1"
        self.app_id = "A0LOCALAPP1"
        # Re-entrant: a DM channel's id is drawn from the id sequence under the same lock.
        self._workspace_lock = threading.RLock()
        self._users: dict[str, dict[str, Any]] = {}
        self._dm_channels: dict[str, str] = {}
        self._ts = itertools.count(_TS_STEP, _TS_STEP)
        self._ids = itertools.count(1)
        self._methods: dict[str, Callable[[Params], Reply]] = {
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
        with self._workspace_lock:
            self._users[user_id] = user

    def answer(self, method: str, params: Params) -> Reply:
        """Answer an authenticated call to a Web API ``method``."""
        handler = self._methods.get(method)
        if handler is None:
            return error("unknown_method")
        return handler(params)

    # -- sequences and channels --------------------------------------------------------------

    def _next_ts(self) -> str:
        with self._workspace_lock:
            n = next(self._ts)
        return f"{_TS_SECONDS + n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        with self._workspace_lock:
            return f"{prefix}0LOCAL{next(self._ids):04d}"

    def _dm_channel(self, user_id: str) -> tuple[str, bool]:
        with self._workspace_lock:
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

    def _auth_test(self, params: Params) -> Reply:
        return ok(
            url="https://capacity-copilot-local.slack.com/",
            team="Capacity Copilot Local",
            user="capacity-copilot",
            team_id=self.team_id,
            user_id=self.bot_user_id,
            bot_id=self.bot_id,
            is_enterprise_install=False,
        )

    def _apps_connections_open(self, params: Params) -> Reply:
        if self.socket_mode_url is None:
            return error("socket_mode_not_enabled")
        return ok(url=self.socket_mode_url)

    def _chat_post_message(self, params: Params) -> Reply:
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            return error("channel_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return error("no_text")
        ts = self._next_ts()
        return ok(channel=channel, ts=ts, message=self._message(params, ts))

    def _chat_update(self, params: Params) -> Reply:
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            return error("channel_not_found")
        ts = params.get("ts")
        if not ts:
            return error("message_not_found")
        message = self._message(params, ts=None)
        return ok(channel=channel, ts=ts, text=message["text"], message=message)

    def _chat_post_ephemeral(self, params: Params) -> Reply:
        if self._resolve_channel(params.get("channel")) is None:
            return error("channel_not_found")
        if not params.get("user"):
            return error("user_not_in_channel")
        return ok(message_ts=self._next_ts())

    def _users_info(self, params: Params) -> Reply:
        with self._workspace_lock:
            user = self._users.get(str(params.get("user", "")))
        return ok(user=user) if user else error("user_not_found")

    def _users_lookup_by_email(self, params: Params) -> Reply:
        email = str(params.get("email", "")).lower()
        with self._workspace_lock:
            found = [
                u for u in self._users.values() if u["profile"].get("email", "").lower() == email
            ]
        # Slack's error name here is plural, unlike users.info's.
        return ok(user=found[0]) if found else error("users_not_found")

    def _views_publish(self, params: Params) -> Reply:
        view = _json_param(params.get("view"))
        if not params.get("user_id") or not isinstance(view, dict):
            return error("invalid_arguments")
        return ok(view=self._view(view))

    def _views_open(self, params: Params) -> Reply:
        view = _json_param(params.get("view"))
        if not params.get("trigger_id") or not isinstance(view, dict):
            return error("invalid_arguments")
        return ok(view=self._view(view))

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

    def _conversations_open(self, params: Params) -> Reply:
        if params.get("channel"):
            return ok(channel={"id": params["channel"]})
        users = params.get("users")
        user_ids = users if isinstance(users, list) else str(users or "").split(",")
        user_ids = [u.strip() for u in user_ids if u.strip()]
        if not user_ids:
            return error("users_list_not_supplied")
        if len(user_ids) > 1:
            return ok(channel={"id": self._next_id("G")})
        channel, already_open = self._dm_channel(user_ids[0])
        if already_open:
            return ok(no_op=True, already_open=True, channel={"id": channel})
        return ok(channel={"id": channel})

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
