"""The state-store port: what every implementation (SQLite, Redis) must provide.

Values are JSON-serialisable objects, stored as canonical JSON (sorted keys, no spaces), so two
equal values have one encoding: what ``compare_and_set`` compares. Implementations raise
``bot.errors.StoreError`` when the backing service fails, never a driver exception. Must not
import an implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

LogEntry = dict[str, Any]


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

    def compare_and_set(
        self, key: str, expected: Any | None, new: Any, *, ttl_s: float | None = None
    ) -> bool:
        """Atomically replace the value at ``key`` with ``new`` only when it equals ``expected``.

        Values are equal when their canonical JSON is equal (so ``1`` and ``1.0`` differ).
        ``expected=None`` matches whatever ``get`` reports as ``None``: absent, expired or a
        stored JSON ``null``, so a read-then-CAS loop never sticks. Like ``set``, the new value
        expires after ``ttl_s`` seconds, or never. Returns True for the one caller that won:
        the primitive behind proposal state transitions.
        """

    def log_append(self, name: str, make: Callable[[LogEntry | None], LogEntry]) -> LogEntry:
        """Atomically append ``make(last entry or None)`` to the append-only log ``name``.

        No other append lands between reading the last entry and appending the new one, across
        threads and processes, so entries can chain (each carrying its predecessor's hash)
        without a gap or a fork. ``make`` may run more than once, when a concurrent append won
        the race, and only its last result is stored: it must not have side effects or touch the
        store. Returns the entry as stored (after a JSON round trip).

        Raises:
            TypeError: ``make`` returned something other than a JSON-serialisable dict.
            StoreError: The backend failed, or (Redis) the append kept losing races.
        """

    def log_read(self, name: str, *, start: int = 0) -> list[LogEntry]:
        """The entries of log ``name`` in append order, from position ``start`` (0-based).

        An empty list when the log does not exist. Raises ``StoreError`` when an entry is not
        a JSON object (the stored text was damaged or edited).
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
