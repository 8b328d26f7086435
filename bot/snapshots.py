"""The current Asana snapshot of this process: synced on demand, reused for a TTL.

One sync runs at a time (others wait for its result); a failed sync leaves the last good
snapshot in place and raises, so a caller can still say why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from bot.clock import Clock
from bot.domain import Snapshot

log = logging.getLogger(__name__)


class SnapshotCache:
    """Holds the latest snapshot and refreshes it when older than ``ttl_s``."""

    def __init__(self, sync: Callable[[], Snapshot], clock: Clock, *, ttl_s: float) -> None:
        self._sync = sync
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._lock = threading.Lock()
        self._current: Snapshot | None = None

    def get(self, *, force: bool = False) -> Snapshot:
        """The current snapshot, syncing first when missing, stale or ``force``."""
        with self._lock:
            current = self._current
            if force or current is None or self._clock.now() - current.synced_at > self._ttl:
                current = self._sync()
                self._current = current
            return current

    def peek(self) -> Snapshot | None:
        """The cached snapshot without syncing (None before the first sync)."""
        return self._current
