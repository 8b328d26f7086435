"""Backends for the ``Store`` contract suite: one SQLite file or one Redis prefix per test.

Each backend opens any number of stores on the same state (a second store stands for a second
process), knows how to let a short TTL run out (a controlled clock for SQLite, real time polled
with ``wait_until`` for Redis), edits stored log entries behind the store's back (tampering
tests) and starts real child processes on the same state. The fixtures here are shared by the
contract modules, which bind them by assignment (``backend = store_fixtures.backend``).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from typing import cast
from uuid import uuid4

import pytest
import redis

from bot.store.ports import LogEntry, Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.redis_server import RedisUnavailable, free_port, running_redis
from tests.waiting import wait_until

_REPO = Path(__file__).resolve().parents[2]


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

    def open_unavailable(self) -> Store:
        """A store whose database can no longer be used (its connection is closed)."""
        store = SqliteStore(self.path, clock=self.clock)
        store.close()
        return store

    def after_ttl(self, predicate: Callable[[], object]) -> None:
        """Move past ``ttl_s``; ``predicate`` must then hold at once."""
        self.clock.advance(self.ttl_s + 0.001)
        wait_until(predicate, timeout=0)

    def raw_log(self, name: str) -> list[str]:
        """The stored text of every entry of log ``name``, read with ``sqlite3`` directly."""
        with closing(sqlite3.connect(self.path)) as conn:
            rows = conn.execute(
                "SELECT entry FROM logs WHERE name = ? ORDER BY seq", (name,)
            ).fetchall()
        return [entry for (entry,) in rows]

    def write_raw(self, name: str, position: int, text: str) -> None:
        """Overwrite the stored text of entry ``position`` of log ``name``."""
        with closing(sqlite3.connect(self.path)) as conn, conn:
            conn.execute(
                "UPDATE logs SET entry = ? WHERE name = ? AND seq = "
                "(SELECT seq FROM logs WHERE name = ? ORDER BY seq LIMIT 1 OFFSET ?)",
                (text, name, name, position),
            )

    def remove_raw(self, name: str, position: int) -> None:
        """Delete entry ``position`` of log ``name``, leaving a gap."""
        with closing(sqlite3.connect(self.path)) as conn, conn:
            conn.execute(
                "DELETE FROM logs WHERE name = ? AND seq = "
                "(SELECT seq FROM logs WHERE name = ? ORDER BY seq LIMIT 1 OFFSET ?)",
                (name, name, position),
            )

    def child_args(self) -> list[str]:
        """How a child process (``run_appender``) opens a store on this state."""
        return ["sqlite", str(self.path), ""]

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

    def open_unavailable(self) -> Store:
        """A store pointing at a loopback port where no Redis listens."""
        store = RedisStore(
            f"redis://127.0.0.1:{free_port()}/0", prefix=self.prefix, connect_timeout_s=1
        )
        self._stores.append(store)
        return store

    def after_ttl(self, predicate: Callable[[], object]) -> None:
        """Wait for ``predicate`` to hold once ``ttl_s`` of real time has run out."""
        wait_until(predicate, timeout=self.ttl_s + 5.0)

    def raw_log(self, name: str) -> list[str]:
        """The stored text of every entry of log ``name``, read with ``LRANGE`` directly."""
        with closing(redis.Redis.from_url(self.url, decode_responses=True)) as client:
            return cast(list[str], client.lrange(self._log_key(name), 0, -1))

    def write_raw(self, name: str, position: int, text: str) -> None:
        """Overwrite the stored text of entry ``position`` of log ``name`` (``LSET``)."""
        with closing(redis.Redis.from_url(self.url)) as client:
            client.lset(self._log_key(name), position, text)

    def remove_raw(self, name: str, position: int) -> None:
        """Delete entry ``position`` of log ``name``: ``LSET`` a unique marker, ``LREM`` it."""
        marker = f"removed-{uuid4().hex}"
        with closing(redis.Redis.from_url(self.url)) as client:
            client.lset(self._log_key(name), position, marker)
            client.lrem(self._log_key(name), 1, marker)

    def child_args(self) -> list[str]:
        """How a child process (``run_appender``) opens a store on this state."""
        return ["redis", self.url, self.prefix]

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

    def _log_key(self, name: str) -> str:
        return f"{self.prefix}log:{name}"


Backend = SqliteBackend | RedisBackend


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """One real Redis for the session: ``TEST_REDIS_URL`` or a private ``redis-server``."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(running_redis())
        except RedisUnavailable as exc:
            problem = str(exc)  # failed below, outside this handler, so it is reported once
        else:
            yield url
            return
    pytest.fail(problem, pytrace=False)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    chosen: Backend = (
        SqliteBackend(tmp_path)
        if request.param == "sqlite"
        else RedisBackend(request.getfixturevalue("redis_url"))
    )
    yield chosen
    chosen.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()


@pytest.fixture
def other(backend: Backend) -> Store:
    """A second store on the same state: another process, as far as the contract goes."""
    return backend.open()


# --- logs and child processes ---------------------------------------------------------------


def chained(writer: str) -> Callable[[LogEntry | None], LogEntry]:
    """A ``make`` for ``log_append`` whose entries number themselves and name their predecessor.

    A log built only with it holds ``seq`` 0, 1, 2... and each ``prev`` is the ``seq`` before:
    any gap or fork shows up as a repeated or missing number.
    """

    def make(last: LogEntry | None) -> LogEntry:
        prev = None if last is None else int(last["seq"])
        return {"seq": 0 if prev is None else prev + 1, "prev": prev, "writer": writer}

    return make


def start_appenders(
    backend: Backend, *, log: str, writers: Sequence[str], count: int
) -> list[subprocess.Popen[str]]:
    """Start one child process per writer, each appending ``count`` ``chained`` entries to
    ``log``; they all begin at once when ``release_appenders`` is called.
    """
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, *backend.child_args(), log, writer, str(count)],
            cwd=_REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for writer in writers
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n", child.communicate(timeout=30)
    except BaseException:
        for child in children:  # never leave a child behind, blocked on its stdin
            child.kill()
            child.communicate(timeout=30)
        raise
    return children


def release_appenders(children: Sequence[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    """Let every child start appending; wait for them; their exit codes and error output."""
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outcomes = []
    for child in children:
        _, err = child.communicate(timeout=60)
        outcomes.append((child.returncode, err))
    return outcomes


def run_appender(argv: Sequence[str]) -> None:
    """The child side of ``start_appenders``: open a store, wait for "go", append."""
    kind, where, prefix, log, writer, count = argv
    store: Store = SqliteStore(where) if kind == "sqlite" else RedisStore(where, prefix=prefix)
    make = chained(writer)
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(int(count)):
        store.log_append(log, make)
    store.close()


_CHILD = (
    "import sys; from tests.contract.store_fixtures import run_appender; run_appender(sys.argv[1:])"
)
