"""The state-store port: what every implementation (SQLite, Redis) must provide.

Values are JSON-serialisable objects. Implementations raise ``bot.errors.StoreError`` when the
backing service fails, never a driver exception. Must not import an implementation.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol


class Store(Protocol):
    """Key/value state shared by every process of one deployment."""

    def get(self, key: str) -> Any | None:
        """The value stored at ``key``, or ``None`` when absent or expired."""

    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store ``value`` at ``key``, replacing any value; expire after ``ttl_s`` seconds."""

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when something was removed."""

    def set_if_absent(self, key: str, value: Any, *, ttl_s: float | None = None) -> bool:
        """Atomically store ``value`` only when ``key`` is absent or expired.

        Returns True for the one caller that stored it: the idempotency primitive used for
        Slack retries and button clicks.
        """

    def lock(
        self, name: str, *, ttl_s: float = 30.0, wait_s: float = 0.0
    ) -> AbstractContextManager[None]:
        """A mutual-exclusion lock across processes, released on exit or after ``ttl_s``.

        Raises ``bot.errors.LockNotAcquired`` when not acquired within ``wait_s`` seconds.
        """

    def ping(self) -> None:
        """Raise ``StoreError`` when the backing service is unreachable."""

    def close(self) -> None:
        """Release connections and files."""
