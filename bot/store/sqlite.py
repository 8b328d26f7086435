"""``SqliteStore``: the embedded ``Store`` on one SQLite file in WAL mode (stdlib only).

Implements ``bot.store.ports.Store``; must not import the Redis implementation or any service.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import StoreError
from bot.store.encoding import encode_entry, encode_value
from bot.store.locking import acquire
from bot.store.ports import LogEntry

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (name, seq)
) WITHOUT ROWID;
"""

# Upserts that only overwrite an expired row: one statement, so atomic across connections and
# processes without holding a transaction open in Python.
_SET_IF_ABSENT = """
INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?
"""
# Compare-and-set as one statement each, for the same reason. "Absent" also matches a stored JSON
# null, which ``get`` reports as None too.
_SET_IF_NONE = """
INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
WHERE (kv.expires_at IS NOT NULL AND kv.expires_at <= ?) OR kv.value = 'null'
"""
_SET_IF_EQUAL = """
UPDATE kv SET value = ?, expires_at = ?
WHERE key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)
"""
_TAKE_LOCK = """
INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE locks.expires_at <= ?
"""

# Expired rows are invisible at once but only removed now and then, to keep writes cheap.
_PURGE_EVERY_WRITES = 500
# Lock polling backoff, in seconds: short first so an in-process handover is quick.


class SqliteStore:
    """The ``Store`` port on one SQLite file, shared by threads and by processes on one host.

    One connection guarded by a mutex serves every thread of a process; other processes open
    their own connection and SQLite's file locks plus ``busy_timeout`` serialise the writes. Every
    key/value write is a single autocommit statement, so ``set_if_absent``, ``compare_and_set``
    and lock takeover are atomic; ``log_append`` is one ``BEGIN IMMEDIATE`` transaction.

    Args:
        path: The database file (created if missing; its directory must exist) or ``":memory:"``.
        clock: Wall-clock epoch seconds used for expiry. Wall clock, not monotonic, because
            ``expires_at`` is compared by other processes; injectable so tests control expiry.
        busy_timeout_s: How long a statement waits for another process's write lock.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 5.0,
    ) -> None:
        self.path = str(path)
        self._clock = clock
        self._mutex = threading.Lock()
        self._writes = 0
        try:
            # isolation_level=None: autocommit, so no implicit BEGIN holds a lock between calls;
            # timeout= is SQLite's busy_timeout.
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._error("open", exc) from exc
        deadline = time.monotonic() + busy_timeout_s
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL is durable across application crashes in WAL mode; FULL only adds
                # power-loss safety for the last transactions, at an fsync per write.
                self._conn.execute("PRAGMA synchronous = NORMAL")
                self._conn.executescript(_SCHEMA)
                break
            except sqlite3.OperationalError as exc:
                # Switching a new file to WAL takes an exclusive lock without SQLite's busy
                # handler, so processes opening one file at once retry here instead.
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    self._conn.close()
                    raise self._error("open", exc) from exc
                time.sleep(0.01)
            except sqlite3.Error as exc:
                self._conn.close()
                raise self._error("open", exc) from exc

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    def get(self, key: str) -> Any | None:
        """The value stored at ``key``, or ``None`` when absent or expired."""
        row = self._run(
            "get",
            lambda c: c.execute(
                "SELECT value FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
                (key, self._clock()),
            ).fetchone(),
        )
        return None if row is None else json.loads(row[0])

    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store ``value`` at ``key``, replacing any value and any earlier expiry."""
        encoded = encode_value(key, value)
        expires_at = self._expires_at(ttl_s)
        self._run(
            "set",
            lambda c: c.execute(
                "INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                (key, encoded, expires_at),
            ),
        )
        self._count_write()

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when a live (unexpired) value was removed."""
        now = self._clock()
        # Params inside RETURNING are mis-bound by SQLite 3.40, so the expiry test stays in Python.
        rows = self._run(
            "delete",
            lambda c: c.execute(
                "DELETE FROM kv WHERE key = ? RETURNING expires_at", (key,)
            ).fetchall(),
        )
        return any(expires_at is None or expires_at > now for (expires_at,) in rows)

    def set_if_absent(self, key: str, value: Any, *, ttl_s: float | None = None) -> bool:
        """Atomically store ``value`` only when ``key`` is absent or expired; True if stored."""
        encoded = encode_value(key, value)
        expires_at = self._expires_at(ttl_s)
        now = self._clock()
        cursor = self._run(
            "set_if_absent",
            lambda c: c.execute(_SET_IF_ABSENT, (key, encoded, expires_at, now)),
        )
        self._count_write()
        return cursor.rowcount == 1

    def compare_and_set(
        self, key: str, expected: Any | None, new: Any, *, ttl_s: float | None = None
    ) -> bool:
        """Atomically replace the value at ``key`` with ``new`` only when it equals ``expected``.

        ``expected=None`` matches an absent, expired or JSON-null value. Returns True if stored.
        """
        encoded = encode_value(key, new)
        expires_at = self._expires_at(ttl_s)
        now = self._clock()
        if expected is None:
            params: tuple[Any, ...] = (key, encoded, expires_at, now)
            statement = _SET_IF_NONE
        else:
            params = (encoded, expires_at, key, encode_value(key, expected), now)
            statement = _SET_IF_EQUAL
        cursor = self._run("compare_and_set", lambda c: c.execute(statement, params))
        self._count_write()
        return cursor.rowcount == 1

    def log_append(self, name: str, make: Callable[[LogEntry | None], LogEntry]) -> LogEntry:
        """Append ``make(last entry or None)`` to log ``name`` in one write transaction.

        ``BEGIN IMMEDIATE`` takes the database's write lock before the last entry is read, so
        no other thread or process can append in between; ``make`` runs exactly once.
        """
        with self._mutex:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error("log_append", exc) from exc
            try:
                row = self._conn.execute(
                    "SELECT seq, entry FROM logs WHERE name = ? ORDER BY seq DESC LIMIT 1",
                    (name,),
                ).fetchone()
                last = None if row is None else self._decode_entry(name, "the last entry", row[1])
                encoded = encode_entry(name, make(last))
                # Rows count from 1, as audit records do, so "event 7" is ``WHERE seq = 7``.
                self._conn.execute(
                    "INSERT INTO logs (name, seq, entry) VALUES (?, ?, ?)",
                    (name, 1 if row is None else row[0] + 1, encoded),
                )
                self._conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback_quietly()
                if isinstance(exc, sqlite3.Error):
                    raise self._error("log_append", exc) from exc
                raise
        decoded: LogEntry = json.loads(encoded)
        return decoded

    def log_read(self, name: str, *, start: int = 0) -> list[LogEntry]:
        """The entries of log ``name`` in append order, from position ``start`` (0-based)."""
        _check_start(start)
        # OFFSET, not seq >= start: positions stay positions even if a row was deleted by hand.
        rows = self._run(
            "log_read",
            lambda c: c.execute(
                "SELECT seq, entry FROM logs WHERE name = ? ORDER BY seq LIMIT -1 OFFSET ?",
                (name, start),
            ).fetchall(),
        )
        return [
            self._decode_entry(name, f"entry {start + i}", entry)
            for i, (_, entry) in enumerate(rows)
        ]

    @contextmanager
    def lock(self, name: str, *, ttl_s: float = 30.0, wait_s: float = 0.0) -> Iterator[None]:
        """Hold the lock ``name`` for the ``with`` block, across threads and processes.

        The lock expires after ``ttl_s`` seconds so a crashed holder cannot block forever; on
        exit it is released only if this holder still owns it.

        Raises:
            LockNotAcquired: Another owner held it for all of ``wait_s`` seconds.
        """
        _check_ttl(ttl_s)
        owner = secrets.token_hex(16)
        acquire(lambda: self._try_lock(name, owner, ttl_s), name=name, wait_s=wait_s)
        try:
            yield
        except BaseException:
            self._release_quietly(name, owner)
            raise
        self._release(name, owner)

    def ping(self) -> None:
        """Raise ``StoreError`` when the database cannot be read."""
        self._run("ping", lambda c: c.execute("SELECT 1 FROM kv LIMIT 1").fetchall())

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        with self._mutex:
            self._conn.close()

    def purge_expired(self) -> int:
        """Delete expired values and locks now; returns how many values were removed."""
        now = self._clock()
        cursor = self._run(
            "purge_expired", lambda c: c.execute("DELETE FROM kv WHERE expires_at <= ?", (now,))
        )
        self._run(
            "purge_expired", lambda c: c.execute("DELETE FROM locks WHERE expires_at <= ?", (now,))
        )
        return cursor.rowcount

    def _try_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        now = self._clock()
        cursor = self._run("lock", lambda c: c.execute(_TAKE_LOCK, (name, owner, now + ttl_s, now)))
        return cursor.rowcount == 1

    def _release(self, name: str, owner: str) -> None:
        cursor = self._run(
            "unlock",
            lambda c: c.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner)),
        )
        if cursor.rowcount == 0:
            # Our TTL ran out and someone else may hold it now: theirs is not ours to release.
            logger.warning("lock %r expired before release; it was not released", name)

    def _release_quietly(self, name: str, owner: str) -> None:
        # The block's own exception matters more than a failed release, and the TTL frees the
        # lock anyway.
        try:
            self._release(name, owner)
        except StoreError:
            logger.warning("could not release lock %r; it will expire", name, exc_info=True)

    def _rollback_quietly(self) -> None:
        # Called with the mutex held, on the way out with another exception that matters more.
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            logger.warning("sqlite rollback failed on %s", self.path, exc_info=True)

    def _decode_entry(self, name: str, where: str, text: str) -> LogEntry:
        entry = _decode_log_entry(text)
        if entry is None:
            raise StoreError(
                f"sqlite log {name!r} on {self.path}: {where} is not a JSON object",
                user_message="A log in the bot's state store is damaged; tell an administrator.",
            )
        return entry

    def _count_write(self) -> None:
        self._writes += 1
        if self._writes % _PURGE_EVERY_WRITES == 0:
            self.purge_expired()

    def _expires_at(self, ttl_s: float | None) -> float | None:
        if ttl_s is None:
            return None
        _check_ttl(ttl_s)
        return self._clock() + ttl_s

    def _run(self, operation: str, statement: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._mutex:
            try:
                return statement(self._conn)
            except sqlite3.Error as exc:
                raise self._error(operation, exc) from exc

    def _error(self, operation: str, exc: sqlite3.Error) -> StoreError:
        return StoreError(
            f"sqlite {operation} failed on {self.path}: {exc}",
            user_message="The bot's state store is unavailable right now; please try again.",
        )


def _decode_log_entry(text: str) -> LogEntry | None:
    try:
        entry = json.loads(text)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _check_start(start: int) -> None:
    if start < 0:
        raise ValueError(f"start must be a position >= 0, got {start!r}")


def _check_ttl(ttl_s: float) -> None:
    if not ttl_s > 0:
        raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
