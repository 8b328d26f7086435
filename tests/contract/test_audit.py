"""``AuditLog`` on both real stores (a SQLite file and a real Redis): the chain holds under
concurrent appends, and ``verify`` names the first record that was edited, removed, reordered or
forked behind the store's back (with ``sqlite3`` or ``LSET``/``LREM``, not through the bot).
"""

from __future__ import annotations

import csv
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.audit import CSV_COLUMNS, AuditLog, AuditRecord, Verification, record_hash
from bot.clock import FixedClock, SystemClock
from bot.store.ports import Store
from tests.contract import store_fixtures
from tests.contract.store_fixtures import Backend

redis_url = store_fixtures.redis_url
backend = store_fixtures.backend
store = store_fixtures.store
other = store_fixtures.other

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def an_event(**overrides: Any) -> dict[str, Any]:
    """A reassignment as the apply step records it."""
    event: dict[str, Any] = {
        "actor_slack": "U_LEAD",
        "actor_asana": "1201",
        "action": "reassign",
        "target": "t2",
        "before": {"assignee": "ana"},
        "after": {"assignee": "ben"},
        "proposal_id": "p1",
        "move_id": "m1",
        "model_version": "effort-2025.01",
        "prompt_version": "rebalance-v3",
        "snapshot_hash": "snap-9f2",
        "result": "applied",
    }
    event.update(overrides)
    return event


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def audit(store: Store, clock: FixedClock) -> AuditLog:
    return AuditLog(store, clock=clock)


@pytest.fixture
def fifty(audit: AuditLog, clock: FixedClock) -> list[AuditRecord]:
    """50 records, one minute apart from T0, moves m1..m50."""
    appended = []
    for i in range(50):
        clock.at = T0 + timedelta(minutes=i)
        appended.append(audit.append(an_event(move_id=f"m{i + 1}")))
    return appended


def test_verify_returns_ok_when_50_events_were_appended(
    audit: AuditLog, fifty: list[AuditRecord]
) -> None:
    assert audit.verify() == Verification(ok=True, count=50, last_hash=fifty[-1].hash)
    assert audit.records() == fifty


def test_verify_returns_ok_when_threads_on_two_clients_append_at_once(
    store: Store, other: Store
) -> None:
    logs = (AuditLog(store, clock=SystemClock()), AuditLog(other, clock=SystemClock()))
    start = threading.Barrier(8, timeout=10)

    def append_5(i: int) -> None:
        start.wait()
        for n in range(5):
            logs[i % 2].append(an_event(move_id=f"m{i}-{n}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(append_5, range(8)))

    result = logs[0].verify()
    assert (result.ok, result.count, result.reason) == (True, 40, None)
    assert [r.seq for r in logs[1].records()] == list(range(1, 41))


def test_verify_reports_edit_when_one_byte_of_a_stored_event_changed(
    backend: Backend, audit: AuditLog, fifty: list[AuditRecord]
) -> None:
    text = backend.raw_log("audit")[6]
    backend.write_raw("audit", 6, text.replace('"U_LEAD"', '"U_LEAF"'))

    assert audit.verify() == Verification(
        ok=False,
        count=50,
        bad_seq=7,
        reason="event 7 was edited (hash mismatch)",
        last_hash=fifty[-1].hash,
    )


def test_verify_reports_missing_event_when_one_was_removed(
    backend: Backend, audit: AuditLog, fifty: list[AuditRecord]
) -> None:
    backend.remove_raw("audit", 6)

    assert audit.verify() == Verification(
        ok=False,
        count=49,
        bad_seq=7,
        reason="event 7 is missing (seq jumps from 6 to 8)",
        last_hash=fifty[-1].hash,
    )


def test_verify_reports_out_of_order_when_two_events_were_swapped(
    backend: Backend, audit: AuditLog, fifty: list[AuditRecord]
) -> None:
    raw = backend.raw_log("audit")
    backend.write_raw("audit", 6, raw[7])
    backend.write_raw("audit", 7, raw[6])

    result = audit.verify()

    assert (result.ok, result.count, result.bad_seq, result.reason) == (
        False,
        50,
        8,
        "events out of order at 8",
    )


def test_verify_reports_fork_when_an_event_names_another_predecessor(
    backend: Backend, audit: AuditLog, fifty: list[AuditRecord]
) -> None:
    # A record that hashes correctly but was built on a sibling of event 6, not on event 6.
    forged = json.loads(backend.raw_log("audit")[6])
    forged["prev_hash"] = fifty[4].hash
    forged["hash"] = record_hash(forged)
    backend.write_raw("audit", 6, json.dumps(forged))

    result = audit.verify()

    assert (result.ok, result.bad_seq, result.reason) == (
        False,
        7,
        "event 7 does not follow event 6 (prev_hash mismatch)",
    )


def test_export_jsonl_round_trips_every_record_when_exported(
    audit: AuditLog, fifty: list[AuditRecord]
) -> None:
    lines = audit.export("jsonl").splitlines()

    assert [AuditRecord(**json.loads(line)) for line in lines] == fifty


def test_export_csv_has_a_header_and_one_line_per_event_when_exported(
    audit: AuditLog, fifty: list[AuditRecord]
) -> None:
    text = audit.export("csv")

    lines = text.splitlines()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert (lines[0], len(lines)) == (",".join(CSV_COLUMNS), 51)
    assert [(r["seq"], r["move_id"], r["hash"]) for r in rows] == [
        (str(r.seq), r.move_id, r.hash) for r in fifty
    ]


def test_records_and_export_include_only_events_from_since_when_since_given(
    audit: AuditLog, fifty: list[AuditRecord]
) -> None:
    since = T0 + timedelta(minutes=45)

    seqs = [r.seq for r in audit.records(since=since)]
    exported = [json.loads(line)["seq"] for line in audit.export("jsonl", since=since).splitlines()]

    assert seqs == exported == [46, 47, 48, 49, 50]
