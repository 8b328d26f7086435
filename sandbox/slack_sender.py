"""Plays Slack's side of the request URL: signed slash commands, clicks and events over HTTP.

Used by the offline demo and the scenario tests; signatures are the real ``v0`` HMAC scheme.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from slack_sdk.signature import SignatureVerifier


@dataclass(frozen=True)
class HttpReply:
    """What the app answered."""

    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class SlackSender:
    """Sends signed requests to an app's Slack request URL.

    Args:
        url: the app's request URL, e.g. ``http://127.0.0.1:PORT/slack/events``.
        signing_secret: the secret the app verifies with.
        team_id: the workspace id put in every payload.
    """

    def __init__(self, url: str, signing_secret: str, *, team_id: str = "T0LOCAL0001") -> None:
        self.url = url
        self.team_id = team_id
        self._verifier = SignatureVerifier(signing_secret)

    def command(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str = "C0LOCAL0001",
        response_url: str,
        command: str = "/capacity",
    ) -> HttpReply:
        """A slash command, form-encoded as Slack sends it."""
        form = {
            "token": "unused-legacy-token",
            "team_id": self.team_id,
            "team_domain": "local",
            "channel_id": channel_id,
            "channel_name": "capacity",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0LOCAL0001",
            "response_url": response_url,
            "trigger_id": f"{int(time.time())}.1.local",
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> HttpReply:
        """A block action / view submission: ``payload=<url-encoded JSON>``."""
        return self.post(
            "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded"
        )

    def event(
        self, event: dict[str, Any], *, event_id: str, retry_num: int | None = None
    ) -> HttpReply:
        """An Events API ``event_callback`` envelope."""
        envelope = {
            "token": "unused-legacy-token",
            "team_id": self.team_id,
            "api_app_id": "A0LOCAL0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
        }
        extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(envelope), "application/json", extra if retry_num else None)

    def post(
        self,
        body: str,
        content_type: str,
        extra_headers: dict[str, str] | None = None,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> HttpReply:
        """POST ``body`` signed now (or with the given timestamp/signature, to test forgeries)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers: dict[str, str] = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature
            or str(self._verifier.generate_signature(timestamp=ts, body=body)),
            **(extra_headers or {}),
        }
        request = urllib.request.Request(self.url, body.encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return HttpReply(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as exc:
            with exc:
                return HttpReply(exc.code, exc.read().decode(), dict(exc.headers))
