"""``RedisStore``: the shared ``Store`` on Redis, for many web and worker processes.

Implements ``bot.store.ports.Store`` with the same semantics as ``SqliteStore``; must not import it.
"""

from __future__ import annotations

import json
import logging
import math
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from bot.errors import StoreError
from bot.store.encoding import encode_entry, encode_value
from bot.store.locking import acquire
from bot.store.ports import LogEntry

logger = logging.getLogger(__name__)

# Delete the lock only if it still holds our token: one round trip, so no other owner can slip
# in between the check and the delete.
_RELEASE_IF_OWNER = """
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"""

# Compare-and-set in one round trip. ARGV[1] is the expected canonical JSON, or "" (never a JSON
# text) for "absent", which also matches a stored null because ``get`` reports that as None too.
# ARGV[3] is the expiry in milliseconds, or "" for none: like SET, a CAS clears an earlier TTL.
_COMPARE_AND_SET = """
local current = redis.call("GET", KEYS[1])
if ARGV[1] == "" then
    if current and current ~= "null" then
        return 0
    end
elseif current ~= ARGV[1] then
    return 0
end
if ARGV[3] == "" then
    redis.call("SET", KEYS[1], ARGV[2])
else
    redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
end
return 1
"""

# log_append is optimistic (WATCH, read the last entry, MULTI/RPUSH/EXEC) because ``make`` runs in
# Python, between the read and the write. Each lost race retries after a jittered, growing pause;
# 200 attempts with pauses capped at 20 ms outlast dozens of busy appenders on one log.
_APPEND_ATTEMPTS = 200
_APPEND_PAUSE_FIRST_S = 0.001
_APPEND_PAUSE_MAX_S = 0.02


class RedisStore:
    """The ``Store`` port on Redis; every process pointing at one URL and prefix shares state.

    Values live at ``{prefix}kv:{key}``, locks at ``{prefix}lock:{name}`` and logs (lists) at
    ``{prefix}log:{name}``, so names never collide across kinds (as in SQLite's separate tables).
    A lock is a ``SET NX PX`` holding a random owner token, released by a compare-and-delete
    script; ``compare_and_set`` is a script comparing canonical JSON texts.

    Args:
        url: ``redis://`` or ``rediss://`` URL; its password never appears in an error.
        prefix: Namespace for every key, so deployments (or tests) can share one Redis.
        client: A ready client to use instead of one built from ``url``; the caller closes it.
        socket_timeout_s: Longest wait for a reply before ``StoreError``.
        connect_timeout_s: Longest wait for a TCP connection before ``StoreError``.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "copilot:",
        client: redis.Redis | None = None,
        socket_timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
    ) -> None:
        parts = urlsplit(url)
        try:
            port = parts.port or 6379
        except ValueError as exc:
            raise ValueError(f"malformed Redis URL: bad port for host {parts.hostname!r}") from exc
        self.address = f"{parts.hostname or 'localhost'}:{port}"
        self.prefix = prefix
        # redis-py sends the percent-decoded password; redact either spelling.
        self._secrets = [s for s in {parts.password, unquote(parts.password or "")} if s]
        self._owns_client = client is None
        if client is None:
            # One retry, only on ConnectionError: that recovers a pooled connection the server
            # closed. Never on timeouts: a timed-out SET NX may have been applied, and replaying it
            # would turn the one winner of set_if_absent or a lock into a loser.
            retry = Retry(
                ExponentialWithJitterBackoff(cap=0.2, base=0.02),
                retries=1,
                supported_errors=(redis.ConnectionError,),
            )
            client = redis.Redis.from_url(
                url,
                socket_timeout=socket_timeout_s,
                socket_connect_timeout=connect_timeout_s,
                retry=retry,
                health_check_interval=30,
                decode_responses=True,
            )
        self._client = client
        self._release_script = client.register_script(_RELEASE_IF_OWNER)
        self._cas_script = client.register_script(_COMPARE_AND_SET)

    def __repr__(self) -> str:
        return f"RedisStore({self.address!r}, prefix={self.prefix!r})"

    def get(self, key: str) -> Any | None:
        """The value stored at ``key``, or ``None`` when absent or expired."""
        with self._failures("get"):
            raw = self._client.get(self._key(key))
        if raw is None:
            return None
        return json.loads(raw)

    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store ``value`` at ``key``, replacing any value and any earlier expiry."""
        encoded = encode_value(key, value)
        px = None if ttl_s is None else _millis(ttl_s)
        with self._failures("set"):
            self._client.set(self._key(key), encoded, px=px)

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when a live (unexpired) value was removed."""
        with self._failures("delete"):
            return self._client.delete(self._key(key)) == 1

    def set_if_absent(self, key: str, value: Any, *, ttl_s: float | None = None) -> bool:
        """Atomically store ``value`` only when ``key`` is absent or expired; True if stored."""
        encoded = encode_value(key, value)
        px = None if ttl_s is None else _millis(ttl_s)
        with self._failures("set_if_absent"):
            return bool(self._client.set(self._key(key), encoded, px=px, nx=True))

    def compare_and_set(
        self, key: str, expected: Any | None, new: Any, *, ttl_s: float | None = None
    ) -> bool:
        """Atomically replace the value at ``key`` with ``new`` only when it equals ``expected``.

        ``expected=None`` matches an absent, expired or JSON-null value. Returns True if stored.
        """
        encoded = encode_value(key, new)
        wanted = "" if expected is None else encode_value(key, expected)
        px = "" if ttl_s is None else str(_millis(ttl_s))
        with self._failures("compare_and_set"):
            stored = self._cas_script(keys=[self._key(key)], args=[wanted, encoded, px])
        return bool(stored == 1)

    def log_append(self, name: str, make: Callable[[LogEntry | None], LogEntry]) -> LogEntry:
        """Append ``make(last entry or None)`` to log ``name``, retrying when another append won.

        ``WATCH`` makes ``EXEC`` fail if anyone appended after we read the last entry; then
        ``make`` runs again on the new last entry.

        Raises:
            StoreError: Redis failed, the connection dropped during ``EXEC`` (the entry may or
                may not have been appended), or every attempt lost a race.
        """
        key = self._log_key(name)
        pause = _APPEND_PAUSE_FIRST_S
        for _ in range(_APPEND_ATTEMPTS):
            with self._failures("log_append"), self._client.pipeline() as pipe:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]  # untyped in redis-py
                    raw = pipe.lindex(key, -1)
                    last = None if raw is None else self._decode_entry(name, "the last entry", raw)
                    encoded = encode_entry(name, make(last))
                    pipe.multi()
                    pipe.rpush(key, encoded)
                    pipe.execute()
                except redis.WatchError as exc:
                    # redis-py also raises WatchError when the connection drops while watching,
                    # with the connection error as context. Retrying then could append twice.
                    if exc.__context__ is not None:
                        raise self._error(
                            "log_append",
                            exc.__context__,
                            "the connection dropped during the append, which may or may not "
                            "have been stored",
                        ) from exc
                else:
                    decoded: LogEntry = json.loads(encoded)
                    return decoded
            time.sleep(pause * random.uniform(0.5, 1.0))  # jitter: losers must not re-collide
            pause = min(pause * 2, _APPEND_PAUSE_MAX_S)
        raise StoreError(
            f"redis log_append failed on {self.address}: log {name!r} kept changing; "
            f"lost the race {_APPEND_ATTEMPTS} times",
            user_message="The bot is very busy right now; please try again.",
        )

    def log_read(self, name: str, *, start: int = 0) -> list[LogEntry]:
        """The entries of log ``name`` in append order, from position ``start`` (0-based)."""
        if start < 0:
            raise ValueError(f"start must be a position >= 0, got {start!r}")
        with self._failures("log_read"):
            raws = self._client.lrange(self._log_key(name), start, -1)
        return [self._decode_entry(name, f"entry {start + i}", raw) for i, raw in enumerate(raws)]

    @contextmanager
    def lock(self, name: str, *, ttl_s: float = 30.0, wait_s: float = 0.0) -> Iterator[None]:
        """Hold the lock ``name`` for the ``with`` block, across every client of this Redis.

        The lock expires after ``ttl_s`` seconds so a crashed holder cannot block forever; on
        exit it is released only if this holder still owns it.

        Raises:
            LockNotAcquired: Another owner held it for all of ``wait_s`` seconds.
        """
        px = _millis(ttl_s)
        owner = secrets.token_hex(16)
        acquire(lambda: self._try_lock(name, owner, px), name=name, wait_s=wait_s)
        try:
            yield
        except BaseException:
            self._release_quietly(name, owner)
            raise
        self._release(name, owner)

    def ping(self) -> None:
        """Raise ``StoreError`` when Redis is unreachable or refuses our credentials."""
        with self._failures("ping"):
            self._client.ping()

    def close(self) -> None:
        """Close the connection pool, unless the client was handed in by the caller."""
        if self._owns_client:
            self._client.close()

    def _try_lock(self, name: str, owner: str, px: int) -> bool:
        with self._failures("lock"):
            return bool(self._client.set(self._lock_key(name), owner, px=px, nx=True))

    def _release(self, name: str, owner: str) -> None:
        with self._failures("unlock"):
            released = self._release_script(keys=[self._lock_key(name)], args=[owner])
        if released == 0:
            # Our TTL ran out and someone else may hold it now: theirs is not ours to release.
            logger.warning("lock %r expired before release; it was not released", name)

    def _release_quietly(self, name: str, owner: str) -> None:
        # The block's own exception matters more than a failed release, and the TTL frees the
        # lock anyway.
        try:
            self._release(name, owner)
        except StoreError:
            logger.warning("could not release lock %r; it will expire", name, exc_info=True)

    def _decode_entry(self, name: str, where: str, raw: str | bytes) -> LogEntry:
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            raise StoreError(
                f"redis log {name!r} on {self.address}: {where} is not a JSON object",
                user_message="A log in the bot's state store is damaged; tell an administrator.",
            )
        return entry

    def _key(self, key: str) -> str:
        return f"{self.prefix}kv:{key}"

    def _log_key(self, name: str) -> str:
        return f"{self.prefix}log:{name}"

    def _lock_key(self, name: str) -> str:
        return f"{self.prefix}lock:{name}"

    @contextmanager
    def _failures(self, operation: str) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:
            raise self._error(operation, exc) from exc

    def _error(self, operation: str, exc: BaseException, what: str = "") -> StoreError:
        detail = str(exc)
        # Belt and braces: no redis-py message is known to echo the password; logs must not.
        for secret in self._secrets:
            detail = detail.replace(secret, "***")
        return StoreError(
            f"redis {operation} failed on {self.address}: {what + ': ' if what else ''}"
            f"{type(exc).__name__}: {detail}",
            user_message="The bot's state store is unavailable right now; please try again.",
        )


def _millis(ttl_s: float) -> int:
    if not ttl_s > 0:
        raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
    # Round up: a TTL must never be shorter than asked for.
    return max(1, math.ceil(ttl_s * 1000))
