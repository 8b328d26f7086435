"""``AuditLog`` on a real SQLite file (no sockets): record format, hashing, validation, exports,
and ``verify_chain`` on records held in memory."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.audit import (
    CSV_COLUMNS,
    EVENT_FIELDS,
    GENESIS_HASH,
    AuditLog,
    AuditRecord,
    Verification,
    record_hash,
    verify_chain,
)
from bot.clock import FixedClock
from bot.store.sqlite import SqliteStore

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def an_event(**overrides: Any) -> dict[str, Any]:
    """A reassignment as the apply step records it."""
    event: dict[str, Any] = {
        "actor_slack": "U_LEAD",
        "actor_asana": "1201",
        "action": "reassign",
        "target": "t2",
        "before": {"assignee": "ana", "due_on": "2025-01-10"},
        "after": {"assignee": "ben", "due_on": "2025-01-10"},
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
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "state.sqlite3")
    yield store
    store.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def audit(store: SqliteStore, clock: FixedClock) -> AuditLog:
    return AuditLog(store, clock=clock)


def append_at(audit: AuditLog, clock: FixedClock, count: int) -> list[AuditRecord]:
    """``count`` events, one minute apart from T0."""
    appended = []
    for i in range(count):
        clock.at = T0 + timedelta(minutes=i)
        appended.append(audit.append(an_event(move_id=f"m{i + 1}")))
    return appended


# --- append ---------------------------------------------------------------------------------


def test_append_returns_first_record_linked_to_zeros_when_log_is_empty(audit: AuditLog) -> None:
    record = audit.append(an_event())

    assert (record.seq, record.time, record.prev_hash) == (
        1,
        "2025-01-06T09:00:00.000000+00:00",
        GENESIS_HASH,
    )
    assert GENESIS_HASH == "0" * 64


def test_append_hashes_canonical_json_of_every_other_field_when_recording(
    audit: AuditLog,
) -> None:
    record = audit.append(an_event(target="tâche-2"))

    fields = {k: v for k, v in vars(record).items() if k != "hash"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert record.hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert '"target":"t\\u00e2che-2"' in canonical


def test_append_links_each_record_to_the_previous_hash_when_appending_again(
    audit: AuditLog, clock: FixedClock
) -> None:
    first, second, third = append_at(audit, clock, 3)

    assert [r.seq for r in (first, second, third)] == [1, 2, 3]
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)


def test_append_fills_missing_fields_with_none_when_only_action_given(audit: AuditLog) -> None:
    record = audit.append({"action": "mode_changed"})

    assert [getattr(record, name) for name in EVENT_FIELDS if name != "action"] == [None] * 11


def test_append_stores_the_record_it_returns_when_read_back(audit: AuditLog) -> None:
    record = audit.append(an_event(before={"hours": (1, 2)}))

    assert audit.records() == [record]
    assert record.before == {"hours": [1, 2]}


def test_append_stamps_utc_when_clock_has_another_offset(
    store: SqliteStore,
) -> None:
    paris = datetime(2025, 1, 6, 10, 0, 0, 123, tzinfo=timezone(timedelta(hours=1)))
    audit = AuditLog(store, clock=FixedClock(paris))

    assert audit.append(an_event()).time == "2025-01-06T09:00:00.000123+00:00"


def test_append_raises_value_error_naming_every_unknown_field_when_event_has_extras(
    audit: AuditLog,
) -> None:
    message = "unknown audit event field(s): 'hash', 'proposal', 'seq'; expected some of "
    with pytest.raises(ValueError, match=re.escape(message)):
        audit.append(an_event(proposal="p1", seq=3, hash="x"))

    assert audit.records() == []


def test_append_raises_value_error_when_action_is_missing(audit: AuditLog) -> None:
    with pytest.raises(ValueError, match=re.escape("audit event has no 'action'")):
        audit.append({"actor_slack": "U_LEAD"})


def test_append_raises_type_error_when_a_text_field_is_not_text(audit: AuditLog) -> None:
    with pytest.raises(
        TypeError, match=re.escape("audit event field 'target' must be a str, got int")
    ):
        audit.append(an_event(target=42))


def test_append_raises_type_error_when_before_is_not_a_dict(audit: AuditLog) -> None:
    with pytest.raises(
        TypeError, match=re.escape("audit event field 'before' must be a dict, got list")
    ):
        audit.append(an_event(before=["ana"]))


def test_append_raises_type_error_when_after_is_not_json(audit: AuditLog) -> None:
    with pytest.raises(
        TypeError, match=re.escape("audit event field 'after' is not JSON-serialisable")
    ):
        audit.append(an_event(after={"hours": float("nan")}))


def test_append_raises_value_error_and_stores_nothing_when_clock_is_naive(
    store: SqliteStore,
) -> None:
    clock = FixedClock(T0)
    clock.at = datetime(2025, 1, 6, 9, 0)  # FixedClock only fixes what it is built with
    audit = AuditLog(store, clock=clock)

    with pytest.raises(
        ValueError, match=re.escape("clock.now() must be timezone-aware, got 2025-01-06T09:00:00")
    ):
        audit.append(an_event())

    assert audit.records() == []


def test_append_keeps_logs_apart_when_names_differ(store: SqliteStore, clock: FixedClock) -> None:
    AuditLog(store, clock=clock, name="audit").append(an_event())
    other = AuditLog(store, clock=clock, name="audit-test").append(an_event())

    assert (other.seq, other.prev_hash) == (1, GENESIS_HASH)


def test_append_stores_event_n_in_sqlite_row_n_when_inspected_by_hand(
    store: SqliteStore, audit: AuditLog, clock: FixedClock
) -> None:
    records = append_at(audit, clock, 3)

    with closing(sqlite3.connect(store.path)) as db:
        rows = db.execute(
            "SELECT seq, entry FROM logs WHERE name = 'audit' ORDER BY seq"
        ).fetchall()

    assert [(seq, json.loads(entry)["hash"]) for seq, entry in rows] == [
        (r.seq, r.hash) for r in records
    ]


# --- records --------------------------------------------------------------------------------


def test_records_returns_records_at_or_after_since_when_since_given(
    audit: AuditLog, clock: FixedClock
) -> None:
    append_at(audit, clock, 5)

    seqs = [r.seq for r in audit.records(since=T0 + timedelta(minutes=2))]

    assert seqs == [3, 4, 5]


def test_records_raises_value_error_when_since_is_naive(audit: AuditLog) -> None:
    with pytest.raises(ValueError, match=re.escape("since must be timezone-aware")):
        audit.records(since=datetime(2025, 1, 6))


def test_records_raises_value_error_when_a_stored_record_is_malformed(
    store: SqliteStore, audit: AuditLog
) -> None:
    store.log_append("audit", lambda last: {"seq": 1, "action": "forged"})

    with pytest.raises(ValueError, match=re.escape("audit event 1 is malformed (missing time")):
        audit.records()


# --- verify ---------------------------------------------------------------------------------


def test_verify_returns_ok_with_zero_count_when_log_is_empty(audit: AuditLog) -> None:
    assert audit.verify() == Verification(ok=True, count=0, last_hash=GENESIS_HASH)


def test_verify_returns_ok_with_last_hash_when_chain_is_intact(
    audit: AuditLog, clock: FixedClock
) -> None:
    records = append_at(audit, clock, 3)

    assert audit.verify() == Verification(ok=True, count=3, last_hash=records[-1].hash)


def _chain(count: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for seq in range(1, count + 1):
        body: dict[str, Any] = dict.fromkeys(EVENT_FIELDS)
        body.update(action="reassign", seq=seq, time=T0.isoformat())
        body["prev_hash"] = entries[-1]["hash"] if entries else GENESIS_HASH
        entries.append({**body, "hash": record_hash(body)})
    return entries


def _rehashed(entry: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = {**entry, **changes}
    return {**changed, "hash": record_hash(changed)}


def test_verify_chain_reports_missing_first_event_when_log_starts_at_2() -> None:
    entries = _chain(3)[1:]

    assert verify_chain(entries) == Verification(
        ok=False,
        count=2,
        bad_seq=1,
        reason="event 1 is missing (seq jumps from 0 to 2)",
        last_hash=entries[-1]["hash"],
    )


def test_verify_chain_reports_first_event_not_following_start_when_prev_hash_not_zeros() -> None:
    entries = _chain(2)
    entries[0] = _rehashed(entries[0], prev_hash="1" * 64)

    result = verify_chain(entries)

    assert (result.bad_seq, result.reason) == (
        1,
        "event 1 does not follow the start of the log (prev_hash mismatch)",
    )


def test_verify_chain_reports_fork_when_two_records_share_a_seq() -> None:
    entries = _chain(3)
    twin = _rehashed(entries[1], action="reassign-again")
    entries.insert(2, twin)

    result = verify_chain(entries)

    assert (result.ok, result.bad_seq, result.reason) == (
        False,
        2,
        "event 2 is recorded twice (fork)",
    )


def test_verify_chain_reports_malformed_record_when_fields_are_missing() -> None:
    entries = _chain(3)
    del entries[2]["hash"]

    result = verify_chain(entries)

    assert (result.bad_seq, result.reason) == (3, "event 3 is malformed (missing hash)")


def test_verify_chain_reports_edit_when_seq_was_changed_without_rehashing() -> None:
    entries = _chain(3)
    entries[1] = {**entries[1], "seq": 5}

    result = verify_chain(entries)

    assert (result.bad_seq, result.reason) == (5, "event 5 was edited (hash mismatch)")


# --- export ---------------------------------------------------------------------------------


def test_export_jsonl_reads_back_as_the_records_and_verifies_when_parsed(
    audit: AuditLog, clock: FixedClock
) -> None:
    records = append_at(audit, clock, 3)

    lines = audit.export("jsonl").splitlines()

    parsed = [json.loads(line) for line in lines]
    assert [AuditRecord(**p) for p in parsed] == records
    assert verify_chain(parsed).ok


def test_export_csv_writes_fixed_columns_and_json_cells_when_exporting(
    audit: AuditLog,
) -> None:
    audit.append(an_event(result='failed: Asana said "no",\nretry later'))
    audit.append({"action": "mode_changed", "after": {"mode": "suggest"}})

    text = audit.export("csv")

    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert [r["seq"] for r in rows] == ["1", "2"]
    assert rows[0]["before"] == '{"assignee":"ana","due_on":"2025-01-10"}'
    assert rows[0]["result"] == 'failed: Asana said "no",\nretry later'
    assert (rows[1]["before"], rows[1]["actor_slack"], rows[1]["after"]) == (
        "",
        "",
        '{"mode":"suggest"}',
    )


def test_export_includes_only_records_from_since_when_since_given(
    audit: AuditLog, clock: FixedClock
) -> None:
    append_at(audit, clock, 4)

    text = audit.export("csv", since=T0 + timedelta(minutes=3))

    assert [row[0] for row in csv.reader(io.StringIO(text))] == ["seq", "4"]


def test_export_raises_value_error_when_format_is_unknown(audit: AuditLog) -> None:
    with pytest.raises(
        ValueError, match=re.escape("unknown audit export format 'xml': expected 'jsonl' or 'csv'")
    ):
        audit.export("xml")  # type: ignore[arg-type]
