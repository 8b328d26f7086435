"""The ``Store`` contract, run against ``SqliteStore`` on a real file and ``RedisStore`` on a real
Redis, plus what only one of them (or ``open_store``) promises.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from bot.errors import LockNotAcquired, StoreError
from bot.store.factory import open_store
from bot.store.ports import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.contract import store_fixtures
from tests.contract.store_fixtures import (
    Backend,
    RedisBackend,
    SqliteBackend,
    chained,
    release_appenders,
    start_appenders,
)
from tests.redis_server import free_port

# --- fixtures (shared with test_audit.py) ---------------------------------------------------

redis_url = store_fixtures.redis_url
backend = store_fixtures.backend
store = store_fixtures.store
other = store_fixtures.other


def entered(stack: ExitStack, lock: AbstractContextManager[None]) -> bool:
    """Enter ``lock`` into ``stack`` (so it stays held); False when someone else holds it."""
    try:
        stack.enter_context(lock)
    except LockNotAcquired:
        return False
    return True


# --- get / set / delete ---------------------------------------------------------------------


def test_get_returns_none_when_key_never_set(store: Store) -> None:
    assert store.get("missing") is None


def test_get_returns_value_when_set_by_another_client(store: Store, other: Store) -> None:
    store.set("proposal:1", {"status": "proposed"})

    assert other.get("proposal:1") == {"status": "proposed"}


def test_set_replaces_value_when_key_exists(store: Store) -> None:
    store.set("k", "first")
    store.set("k", "second")

    assert store.get("k") == "second"


def test_delete_returns_true_and_removes_when_key_exists(store: Store) -> None:
    store.set("k", 1)

    assert store.delete("k") is True
    assert store.get("k") is None


def test_delete_returns_false_when_key_absent(store: Store) -> None:
    assert store.delete("never-set") is False


def test_get_round_trips_json_when_value_is_nested(store: Store) -> None:
    value = {
        "moves": [{"task": "t2", "from": "ana", "to": "ben", "hours": 7.5}],
        "weeks": 4,
        "approved": False,
        "note": None,
        "team": "Plateforme — équipe ☕",
        "empty": {"list": [], "dict": {}},
        "big": 2**62,
    }
    store.set("proposal:2", value)

    assert store.get("proposal:2") == value


def test_set_raises_type_error_when_value_is_not_json(store: Store) -> None:
    with pytest.raises(TypeError, match=re.escape("value for key 'k' is not JSON-serialisable")):
        store.set("k", {"when": object()})


@pytest.mark.parametrize("ttl_s", [0, -1.0])
def test_set_raises_value_error_when_ttl_is_not_positive(store: Store, ttl_s: float) -> None:
    message = f"ttl_s must be a positive number of seconds, got {ttl_s!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        store.set("k", 1, ttl_s=ttl_s)


# --- expiry ---------------------------------------------------------------------------------


def test_get_returns_value_when_ttl_not_elapsed(store: Store) -> None:
    store.set("k", "v", ttl_s=60)

    assert store.get("k") == "v"


def test_get_returns_none_when_ttl_elapsed(backend: Backend, store: Store) -> None:
    store.set("k", "v", ttl_s=backend.ttl_s)

    backend.after_ttl(lambda: store.get("k") is None)


def test_delete_returns_false_when_value_expired(backend: Backend, store: Store) -> None:
    store.set("k", "v", ttl_s=backend.ttl_s)
    store.set("marker", 1, ttl_s=backend.ttl_s)
    backend.after_ttl(lambda: store.get("marker") is None)

    assert store.delete("k") is False


def test_set_clears_earlier_ttl_when_overwritten_without_ttl(
    backend: Backend, store: Store
) -> None:
    store.set("k", "old", ttl_s=backend.ttl_s)
    store.set("marker", 1, ttl_s=backend.ttl_s)
    store.set("k", "new")

    backend.after_ttl(lambda: store.get("marker") is None)

    assert store.get("k") == "new"


# --- set_if_absent --------------------------------------------------------------------------


def test_set_if_absent_returns_true_once_when_20_threads_on_two_clients_race(
    store: Store, other: Store
) -> None:
    start = threading.Barrier(20, timeout=10)

    def claim(i: int) -> bool:
        start.wait()
        return (store, other)[i % 2].set_if_absent("slack:event:Ev1", {"by": i}, ttl_s=60)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(claim, range(20)))

    assert results.count(True) == 1
    assert store.get("slack:event:Ev1") == {"by": results.index(True)}


def test_set_if_absent_returns_false_and_keeps_value_when_key_present(store: Store) -> None:
    store.set("k", "first")

    assert store.set_if_absent("k", "second") is False
    assert store.get("k") == "first"


def test_set_if_absent_returns_true_when_previous_value_expired(
    backend: Backend, store: Store, other: Store
) -> None:
    assert store.set_if_absent("click:A1", "first", ttl_s=backend.ttl_s) is True

    backend.after_ttl(lambda: store.get("click:A1") is None)

    assert other.set_if_absent("click:A1", "second", ttl_s=60) is True
    assert store.get("click:A1") == "second"


# --- lock -----------------------------------------------------------------------------------


def test_lock_serialises_read_modify_write_when_threads_on_two_clients_contend(
    store: Store, other: Store
) -> None:
    store.set("counter", 0)
    inside = 0
    most_inside = 0
    tally = threading.Lock()

    def bump(i: int) -> None:
        nonlocal inside, most_inside
        mine = (store, other)[i % 2]
        for _ in range(5):
            with mine.lock("counter", ttl_s=30, wait_s=30):
                with tally:
                    inside += 1
                    most_inside = max(most_inside, inside)
                # Two round trips with the lock as the only guard: lost updates without it.
                mine.set("counter", cast(int, mine.get("counter")) + 1)
                with tally:
                    inside -= 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(bump, range(8)))

    assert (store.get("counter"), most_inside) == (40, 1)


def test_lock_raises_lock_not_acquired_when_held_by_another_client(
    store: Store, other: Store
) -> None:
    with (
        store.lock("digest-leader"),
        pytest.raises(
            LockNotAcquired,
            match=re.escape("lock 'digest-leader' is held by another owner (waited 0s)"),
        ),
        other.lock("digest-leader", wait_s=0),
    ):
        pass


def test_lock_waits_for_wait_s_when_held_by_another_client(store: Store, other: Store) -> None:
    started = time.monotonic()
    with (
        store.lock("digest-leader"),
        pytest.raises(LockNotAcquired, match=re.escape("(waited 0.2s)")),
        other.lock("digest-leader", wait_s=0.2),
    ):
        pass

    assert time.monotonic() - started >= 0.2


def test_lock_is_released_when_block_raises(store: Store, other: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"), store.lock("sync"):
        raise RuntimeError("boom")

    with ExitStack() as stack:
        assert entered(stack, other.lock("sync", wait_s=0))


def test_lock_is_taken_over_when_holder_ttl_elapsed(
    backend: Backend, store: Store, other: Store
) -> None:
    with ExitStack() as crashed, ExitStack() as taker:
        crashed.enter_context(store.lock("sync", ttl_s=backend.ttl_s))
        assert not entered(taker, other.lock("sync", ttl_s=30))

        backend.after_ttl(lambda: entered(taker, other.lock("sync", ttl_s=30)))


def test_lock_stays_with_new_owner_when_expired_holder_exits(
    backend: Backend, store: Store, other: Store
) -> None:
    with ExitStack() as new_owner:
        with store.lock("sync", ttl_s=backend.ttl_s):
            backend.after_ttl(lambda: entered(new_owner, other.lock("sync", ttl_s=30)))
        # The expired holder has exited: its release must not have removed the new owner's lock.

        with ExitStack() as third:
            assert not entered(third, store.lock("sync", wait_s=0))


def test_lock_leaves_key_alone_when_names_are_equal(store: Store) -> None:
    with store.lock("same-name"):
        assert store.set_if_absent("same-name", "value") is True

    assert store.get("same-name") == "value"


# --- compare_and_set ------------------------------------------------------------------------


def test_compare_and_set_returns_true_once_when_20_threads_on_two_clients_race(
    store: Store, other: Store
) -> None:
    store.set("move:p1:m1", {"state": "pending", "version": 0})
    start = threading.Barrier(20, timeout=10)

    def approve(i: int) -> bool:
        start.wait()
        return (store, other)[i % 2].compare_and_set(
            "move:p1:m1",
            {"state": "pending", "version": 0},
            {"state": "approved", "version": 1, "by": i},
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(approve, range(20)))

    assert results.count(True) == 1
    assert store.get("move:p1:m1") == {"state": "approved", "version": 1, "by": results.index(True)}


def test_compare_and_set_returns_true_once_when_20_threads_race_on_an_absent_key(
    store: Store, other: Store
) -> None:
    start = threading.Barrier(20, timeout=10)

    def claim(i: int) -> bool:
        start.wait()
        return (store, other)[i % 2].compare_and_set("move:p1:m2", None, {"by": i})

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(claim, range(20)))

    assert results.count(True) == 1
    assert store.get("move:p1:m2") == {"by": results.index(True)}


def test_compare_and_set_stores_when_expected_is_none_and_key_absent(store: Store) -> None:
    assert store.compare_and_set("k", None, {"state": "pending"}) is True
    assert store.get("k") == {"state": "pending"}


def test_compare_and_set_returns_false_and_keeps_value_when_expected_none_but_key_present(
    store: Store,
) -> None:
    store.set("k", "first")

    assert store.compare_and_set("k", None, "second") is False
    assert store.get("k") == "first"


def test_compare_and_set_returns_false_and_keeps_value_when_value_differs(store: Store) -> None:
    store.set("k", {"state": "approved"})

    assert store.compare_and_set("k", {"state": "pending"}, {"state": "applying"}) is False
    assert store.get("k") == {"state": "approved"}


def test_compare_and_set_returns_false_when_expected_given_but_key_absent(store: Store) -> None:
    assert store.compare_and_set("k", {"state": "pending"}, {"state": "approved"}) is False
    assert store.get("k") is None


def test_compare_and_set_matches_when_expected_has_keys_in_another_order(store: Store) -> None:
    store.set(
        "k", {"state": "pending", "version": 3, "extra": {"b": 1, "a": [1, {"y": 2, "x": 1}]}}
    )

    swapped = {"extra": {"a": [1, {"x": 1, "y": 2}], "b": 1}, "version": 3, "state": "pending"}

    assert store.compare_and_set("k", swapped, "next") is True
    assert store.get("k") == "next"


def test_compare_and_set_matches_when_expected_is_the_value_just_read(
    store: Store, other: Store
) -> None:
    other.set("k", {"zeta": 1, "alpha": [2.5, None, "é"], "big": 2**62})
    read = store.get("k")

    assert store.compare_and_set("k", read, {"done": True}) is True


def test_compare_and_set_returns_false_when_int_expected_but_float_stored(store: Store) -> None:
    store.set("k", {"hours": 1.0})

    assert store.compare_and_set("k", {"hours": 1}, {"hours": 2}) is False


def test_compare_and_set_treats_stored_null_as_absent_when_expected_is_none(store: Store) -> None:
    store.set("k", None)

    assert store.compare_and_set("k", None, "claimed") is True
    assert store.get("k") == "claimed"


def test_compare_and_set_returns_true_when_expected_none_and_value_expired(
    backend: Backend, store: Store, other: Store
) -> None:
    store.set("k", "old", ttl_s=backend.ttl_s)

    backend.after_ttl(lambda: store.get("k") is None)

    assert other.compare_and_set("k", None, "new") is True
    assert store.get("k") == "new"


def test_compare_and_set_returns_false_when_expected_value_expired(
    backend: Backend, store: Store
) -> None:
    store.set("k", "old", ttl_s=backend.ttl_s)

    backend.after_ttl(lambda: store.get("k") is None)

    assert store.compare_and_set("k", "old", "new") is False
    assert store.get("k") is None


def test_compare_and_set_expires_new_value_when_ttl_given(backend: Backend, store: Store) -> None:
    store.set("k", "old")

    assert store.compare_and_set("k", "old", "new", ttl_s=backend.ttl_s) is True
    assert store.get("k") == "new"
    backend.after_ttl(lambda: store.get("k") is None)


def test_compare_and_set_clears_earlier_ttl_when_no_ttl_given(
    backend: Backend, store: Store
) -> None:
    store.set("k", "old", ttl_s=backend.ttl_s)
    store.set("marker", 1, ttl_s=backend.ttl_s)

    assert store.compare_and_set("k", "old", "new") is True
    backend.after_ttl(lambda: store.get("marker") is None)

    assert store.get("k") == "new"


def test_compare_and_set_raises_type_error_when_new_value_is_not_json(store: Store) -> None:
    with pytest.raises(TypeError, match=re.escape("value for key 'k' is not JSON-serialisable")):
        store.compare_and_set("k", None, {"when": object()})


def test_compare_and_set_raises_value_error_when_ttl_is_not_positive(store: Store) -> None:
    message = "ttl_s must be a positive number of seconds, got 0"
    with pytest.raises(ValueError, match=re.escape(message)):
        store.compare_and_set("k", None, 1, ttl_s=0)


# --- log_append / log_read ------------------------------------------------------------------


def test_log_append_chains_200_entries_when_10_threads_on_two_clients_append(
    store: Store, other: Store
) -> None:
    start = threading.Barrier(10, timeout=10)

    def append_20(i: int) -> None:
        mine, make = (store, other)[i % 2], chained(f"w{i}")
        start.wait()
        for _ in range(20):
            mine.log_append("audit", make)

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(append_20, range(10)))

    entries = store.log_read("audit")
    # Each make saw its predecessor, and no predecessor was seen twice: no gap, no fork.
    assert [e["seq"] for e in entries] == list(range(200))
    assert [e["prev"] for e in entries] == [None, *range(199)]
    assert Counter(e["writer"] for e in entries) == {f"w{i}": 20 for i in range(10)}


def test_log_append_chains_entries_when_two_processes_append_at_once(backend: Backend) -> None:
    children = start_appenders(backend, log="audit", writers=["a", "b"], count=100)

    outcomes = release_appenders(children)

    assert outcomes == [(0, ""), (0, "")]
    entries = backend.open().log_read("audit")
    assert [e["seq"] for e in entries] == list(range(200))
    assert [e["prev"] for e in entries] == [None, *range(199)]
    assert Counter(e["writer"] for e in entries) == {"a": 100, "b": 100}


def test_log_append_passes_none_to_make_when_log_is_empty(store: Store) -> None:
    seen: list[Any] = []

    def make(last: dict[str, Any] | None) -> dict[str, Any]:
        seen.append(last)
        return {"n": 1}

    store.log_append("audit", make)

    assert seen == [None]


def test_log_append_returns_the_entry_as_stored_when_appended(store: Store, other: Store) -> None:
    appended = store.log_append("audit", lambda last: {"b": (1, 2), "a": "é"})

    assert appended == {"a": "é", "b": [1, 2]}
    assert other.log_read("audit") == [appended]


def test_log_read_returns_entries_from_start_when_start_given(store: Store) -> None:
    for _ in range(5):
        store.log_append("audit", chained("w"))

    seqs = [[e["seq"] for e in store.log_read("audit", start=start)] for start in (0, 3, 5, 9)]

    assert seqs == [[0, 1, 2, 3, 4], [3, 4], [], []]


def test_log_read_returns_empty_list_when_log_never_written(store: Store) -> None:
    assert store.log_read("never") == []


def test_log_read_raises_value_error_when_start_is_negative(store: Store) -> None:
    with pytest.raises(ValueError, match=re.escape("start must be a position >= 0, got -1")):
        store.log_read("audit", start=-1)


def test_log_append_keeps_logs_apart_when_names_differ_or_match_a_key(store: Store) -> None:
    store.set("audit", "a value")
    store.log_append("audit", chained("a"))
    store.log_append("other", chained("o"))
    store.log_append("audit", chained("a"))

    assert [e["seq"] for e in store.log_read("audit")] == [0, 1]
    assert [e["writer"] for e in store.log_read("other")] == ["o"]
    assert store.get("audit") == "a value"


def test_log_append_raises_type_error_and_appends_nothing_when_entry_is_not_json(
    store: Store,
) -> None:
    with pytest.raises(
        TypeError, match=re.escape("entry for log 'audit' is not JSON-serialisable")
    ):
        store.log_append("audit", lambda last: {"when": object()})

    assert store.log_read("audit") == []


def test_log_append_raises_type_error_when_make_returns_a_list(store: Store) -> None:
    with pytest.raises(
        TypeError, match=re.escape("entry for log 'audit' must be a dict, got list")
    ):
        store.log_append("audit", lambda last: cast(dict[str, Any], [1]))


def test_log_append_raises_makes_error_and_appends_nothing_when_make_fails(
    store: Store, other: Store
) -> None:
    def make(last: dict[str, Any] | None) -> dict[str, Any]:
        raise RuntimeError("no entry for you")

    with pytest.raises(RuntimeError, match="no entry for you"):
        store.log_append("audit", make)
    other.log_append("audit", chained("o"))  # nothing was left locked or half-written

    assert [e["writer"] for e in store.log_read("audit")] == ["o"]


def test_log_read_raises_store_error_when_stored_entry_is_not_a_json_object(
    backend: Backend, store: Store
) -> None:
    for _ in range(3):
        store.log_append("audit", chained("w"))
    backend.write_raw("audit", 1, '{"seq": 1, "prev"')

    with pytest.raises(
        StoreError,
        match=re.escape("log 'audit' on ") + r".*" + re.escape(": entry 1 is not a JSON object"),
    ):
        store.log_read("audit")


def test_log_append_raises_store_error_and_appends_nothing_when_last_entry_is_damaged(
    backend: Backend, store: Store
) -> None:
    store.log_append("audit", chained("w"))
    backend.write_raw("audit", 0, "[1, 2]")

    with pytest.raises(StoreError, match=re.escape(": the last entry is not a JSON object")):
        store.log_append("audit", chained("w"))

    assert backend.raw_log("audit") == ["[1, 2]"]


# --- unavailable backend --------------------------------------------------------------------

_UNAVAILABLE_CALLS: dict[str, Callable[[Store], object]] = {
    "compare_and_set": lambda s: s.compare_and_set("k", None, 1),
    "log_append": lambda s: s.log_append("audit", chained("w")),
    "log_read": lambda s: s.log_read("audit"),
}


@pytest.mark.parametrize("operation", list(_UNAVAILABLE_CALLS))
def test_store_raises_store_error_when_backend_unavailable(
    backend: Backend, operation: str
) -> None:
    unavailable = backend.open_unavailable()

    with pytest.raises(StoreError, match=re.escape(f"{backend.name} {operation} failed on ")):
        _UNAVAILABLE_CALLS[operation](unavailable)


# --- health ---------------------------------------------------------------------------------


def test_ping_returns_none_when_backend_reachable(store: Store) -> None:
    store.ping()  # raises StoreError when unreachable


# --- SqliteStore only -----------------------------------------------------------------------


def test_sqlite_store_raises_store_error_when_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(
        StoreError,
        match=re.escape(f"sqlite open failed on {tmp_path}: unable to open database file"),
    ):
        SqliteStore(tmp_path)


def test_sqlite_store_raises_store_error_when_file_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some words " * 100)

    with pytest.raises(
        StoreError, match=re.escape(f"sqlite open failed on {path}: file is not a database")
    ):
        SqliteStore(path)


def test_sqlite_store_raises_store_error_when_used_after_close(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite3")
    store.close()

    with pytest.raises(StoreError, match=re.escape(f"sqlite get failed on {store.path}: ")):
        store.get("k")


def test_sqlite_store_uses_wal_when_opened_on_a_file(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "state.sqlite3").close()

    with sqlite3.connect(tmp_path / "state.sqlite3") as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()
    conn.close()

    assert mode == ("wal",)


def test_sqlite_store_expires_value_at_exact_ttl_when_clock_passes_it(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path)
    store = backend.open()
    store.set("k", "v", ttl_s=60)
    seen = []

    backend.clock.advance(59.999)
    seen.append(store.get("k"))
    backend.clock.advance(0.001)
    seen.append(store.get("k"))
    backend.close()

    assert seen == ["v", None]


def test_sqlite_store_keeps_state_in_memory_when_path_is_memory() -> None:
    store = SqliteStore(":memory:")
    store.set("k", [1, 2])
    value = store.get("k")
    store.close()

    assert value == [1, 2]


def test_sqlite_store_purges_expired_rows_when_asked(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path)
    store = backend.open()
    assert isinstance(store, SqliteStore)
    store.set("old", 1, ttl_s=1)
    store.set("kept", 2)
    backend.clock.advance(2)

    purged = store.purge_expired()
    remaining = (store.get("kept"), store.delete("old"))
    backend.close()

    assert (purged, remaining) == (1, (2, False))


# --- RedisStore only ------------------------------------------------------------------------


def _with_credentials(url: str, user: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    host = rest.rsplit("@", 1)[-1]
    return f"{scheme}://{user}:{password}@{host}"


def _assert_secret_free(error: BaseException, secret: str) -> None:
    chain: list[BaseException] = [error]
    while chain[-1].__cause__ is not None:
        chain.append(chain[-1].__cause__)
    assert not [e for e in chain if secret in str(e) or secret in repr(e)]


def test_redis_store_raises_store_error_naming_host_not_password_when_unreachable() -> None:
    port = free_port()
    store = RedisStore(f"redis://:hunter2-secret@127.0.0.1:{port}/0", connect_timeout_s=1)

    with pytest.raises(StoreError) as caught:
        store.ping()
    store.close()

    _assert_secret_free(caught.value, "hunter2-secret")
    assert str(caught.value).startswith(f"redis ping failed on 127.0.0.1:{port}: ConnectionError")


@pytest.mark.redis
def test_redis_store_raises_store_error_without_password_when_credentials_are_wrong(
    redis_url: str,
) -> None:
    # An unknown ACL user: redis-py ignores a rejected password for the default user when the
    # server has none, so only a named user is refused on every server.
    store = RedisStore(_with_credentials(redis_url, "no-such-user", "wrong-secret-pw"))

    with pytest.raises(StoreError, match=re.escape("redis get failed on ")) as caught:
        store.get("k")
    store.close()

    _assert_secret_free(caught.value, "wrong-secret-pw")


@pytest.mark.redis
def test_redis_store_sets_expiry_in_milliseconds_when_ttl_given(redis_url: str) -> None:
    backend = RedisBackend(redis_url)
    backend.open().set("k", "v", ttl_s=60)
    client = redis.Redis.from_url(redis_url)
    pttl = client.pttl(f"{backend.prefix}kv:k")
    client.close()
    backend.close()

    assert 59_000 < pttl <= 60_000


@pytest.mark.redis
def test_redis_store_hides_keys_of_another_prefix_when_sharing_a_server(redis_url: str) -> None:
    first, second = RedisBackend(redis_url), RedisBackend(redis_url)
    first.open().set("k", "first")

    seen = second.open().get("k")
    first.close()
    second.close()

    assert seen is None


@pytest.mark.redis
def test_redis_store_stores_canonical_json_when_keys_arrive_unsorted(redis_url: str) -> None:
    backend = RedisBackend(redis_url)
    backend.open().set("k", {"b": 1, "a": {"d": 2, "c": 3}})
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    stored = client.get(f"{backend.prefix}kv:k")
    client.close()
    backend.close()

    assert stored == '{"a":{"c":3,"d":2},"b":1}'


@pytest.mark.redis
def test_redis_store_raises_store_error_when_log_append_keeps_losing_races(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.redis._APPEND_ATTEMPTS", 3)
    backend = RedisBackend(redis_url)
    store = backend.open()
    rival = redis.Redis.from_url(redis_url)
    calls = 0

    def make(last: dict[str, Any] | None) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        rival.rpush(f"{backend.prefix}log:audit", '{"rival":true}')  # lands between read and EXEC
        return {"mine": True}

    with pytest.raises(
        StoreError, match=re.escape("log 'audit' kept changing; lost the race 3 times")
    ):
        store.log_append("audit", make)
    entries = store.log_read("audit")
    rival.close()
    backend.close()

    assert (calls, entries) == (3, [{"rival": True}] * 3)


@pytest.mark.redis
def test_redis_store_raises_store_error_when_connection_drops_during_log_append(
    redis_url: str,
) -> None:
    # A dropped connection while WATCHing is ambiguous after EXEC was sent: no silent retry.
    backend = RedisBackend(redis_url)
    name = f"victim-{backend.prefix}"
    client = redis.Redis.from_url(redis_url, client_name=name, decode_responses=True)
    store = RedisStore(redis_url, prefix=backend.prefix, client=client)
    admin = redis.Redis.from_url(redis_url, decode_responses=True)

    def make(last: dict[str, Any] | None) -> dict[str, Any]:
        for seen in admin.client_list():
            if seen["name"] == name:
                admin.client_kill_filter(_id=seen["id"])
        return {"n": 1}

    with pytest.raises(
        StoreError,
        match=re.escape("the connection dropped during the append, which may or may not have"),
    ):
        store.log_append("audit", make)
    client.close()
    admin.close()
    backend.close()


# --- open_store -----------------------------------------------------------------------------


def _round_trip(store: Store) -> Any:
    store.set("k", {"ok": True})
    value = store.get("k")
    store.close()
    return value


def test_open_store_creates_parent_directory_when_sqlite_path_is_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///var/state/copilot.sqlite3")

    assert (isinstance(store, SqliteStore), _round_trip(store)) == (True, {"ok": True})
    assert (tmp_path / "var" / "state" / "copilot.sqlite3").is_file()


def test_open_store_uses_absolute_path_when_sqlite_url_has_four_slashes(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "copilot.sqlite3"
    store = open_store(f"sqlite:///{path}")  # path starts with "/": four slashes in all

    assert _round_trip(store) == {"ok": True}
    assert path.is_file()


def test_open_store_returns_memory_store_when_sqlite_path_is_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///:memory:")

    assert _round_trip(store) == {"ok": True}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_open_store_returns_redis_store_without_connecting_when_url_is_redis(scheme: str) -> None:
    store = open_store(f"{scheme}://:pw@127.0.0.1:{free_port()}/3")
    store.close()

    assert isinstance(store, RedisStore)


def test_open_store_raises_store_error_when_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")

    with pytest.raises(StoreError, match=re.escape("cannot create directory")):
        open_store(f"sqlite:///{tmp_path}/file/state.sqlite3")


_EXPECTED = (
    "expected sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3, "
    "sqlite:///:memory:, redis://host:port/db or rediss://host:port/db"
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgres://admin:pw-secret@db/copilot",
            f"unsupported state URL scheme 'postgres': {_EXPECTED}",
        ),
        ("state.sqlite3", f"state URL has no scheme: {_EXPECTED}"),
        ("sqlite://host/state.sqlite3", f"malformed sqlite state URL: {_EXPECTED}"),
        ("sqlite:///", f"sqlite state URL has no path: {_EXPECTED}"),
    ],
)
def test_open_store_raises_value_error_when_url_is_not_supported(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        open_store(url)

    assert "pw-secret" not in str(caught.value)
