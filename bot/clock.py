"""The clock port: the shell's only source of "now" (the core takes dates as arguments)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Tells the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved (tests and reproducible demos)."""

    def __init__(self, at: datetime) -> None:
        self.at = at if at.tzinfo else at.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def today_in(clock: Clock, timezone: str) -> date:
    """Today's date in ``timezone`` (weeks start on Monday there)."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()
