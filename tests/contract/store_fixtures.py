"""Backends for the ``Store`` contract suite: one SQLite file or one Redis prefix per test.

Each backend opens any number of stores on the same state (a second store stands for a second
process) and knows how to let a short TTL run out: a controlled clock for SQLite, real time
polled with ``wait_until`` for Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import redis

from bot.store.ports import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.waiting import wait_until


class FakeClock:
    """Wall-clock epoch seconds that move only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SqliteBackend:
    """Stores on one real SQLite file in ``directory``, all reading one ``FakeClock``."""

    name = "sqlite"
    ttl_s = 10.0  # the clock is ours, so a "short" TTL need not be short in real time

    def __init__(self, directory: Path) -> None:
        self.path = directory / "state.sqlite3"
        self.clock = FakeClock()
        self._stores: list[SqliteStore] = []

    def open(self) -> Store:
        store = SqliteStore(self.path, clock=self.clock)
        self._stores.append(store)
        return store

    def after_ttl(self, predicate: Callable[[], object]) -> None:
        """Move past ``ttl_s``; ``predicate`` must then hold at once."""
        self.clock.advance(self.ttl_s + 0.001)
        wait_until(predicate, timeout=0)

    def close(self) -> None:
        for store in self._stores:
            store.close()


class RedisBackend:
    """Stores on a real Redis under a prefix of their own, so tests can share one server."""

    name = "redis"
    ttl_s = 0.05  # real time: short enough to wait for, long enough to be set first

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"test:{uuid4().hex}:"
        self._stores: list[RedisStore] = []

    def open(self) -> Store:
        store = RedisStore(self.url, prefix=self.prefix)
        self._stores.append(store)
        return store

    def after_ttl(self, predicate: Callable[[], object]) -> None:
        """Wait for ``predicate`` to hold once ``ttl_s`` of real time has run out."""
        wait_until(predicate, timeout=self.ttl_s + 5.0)

    def close(self) -> None:
        for store in self._stores:
            store.close()
        # Only this test's keys: FLUSHDB would wipe tests running in parallel on the same server.
        client = redis.Redis.from_url(self.url)
        try:
            keys = list(client.scan_iter(match=f"{self.prefix}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


Backend = SqliteBackend | RedisBackend
