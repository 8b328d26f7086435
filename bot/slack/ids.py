"""Every Slack identifier the app registers or sends, typed once."""

from __future__ import annotations

COMMAND = "/capacity"
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
