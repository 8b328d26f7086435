"""``AuditLog``: the hash-chained record of every write: its format, verification and exports.

Uses the store only through the ``Store`` port; must not import a store implementation, Slack
or Asana.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal

from bot.clock import Clock
from bot.store.ports import Store

GENESIS_HASH = "0" * 64

ExportFormat = Literal["jsonl", "csv"]


@dataclass(frozen=True)
class AuditRecord:
    """One write, as stored: who, what changed, under which proposal and model, with what result.

    ``time`` is ISO 8601 in UTC with microseconds (``2025-01-06T09:00:00.000000+00:00``);
    ``before``/``after`` are JSON objects; every optional field is ``None`` when not known.
    """

    seq: int
    time: str
    actor_slack: str | None
    actor_asana: str | None
    action: str
    target: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    proposal_id: str | None
    move_id: str | None
    model_version: str | None
    prompt_version: str | None
    snapshot_hash: str | None
    result: str | None
    prev_hash: str
    hash: str

    @property
    def at(self) -> datetime:
        """``time`` as an aware datetime."""
        return datetime.fromisoformat(self.time)


# The CSV columns, in this order: every field of AuditRecord. ``before`` and ``after`` are
# canonical JSON text, and an empty cell is None.
CSV_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(AuditRecord))
# What ``append`` fills in; the caller gives the rest.
_FILLED = ("seq", "time", "prev_hash", "hash")
EVENT_FIELDS: tuple[str, ...] = tuple(c for c in CSV_COLUMNS if c not in _FILLED)
_OBJECT_FIELDS = ("before", "after")
_TEXT_FIELDS = tuple(f for f in EVENT_FIELDS if f not in _OBJECT_FIELDS)


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a chain.

    Attributes:
        ok: True when every record is intact and follows the one before.
        count: How many records the log holds.
        bad_seq: The first record that fails, by ``seq`` (None when ok).
        reason: What is wrong with it, e.g. "event 7 was edited (hash mismatch)".
        last_hash: The hash of the newest record (``GENESIS_HASH`` when empty); noted elsewhere,
            it shows a later truncation that the chain alone cannot.
    """

    ok: bool
    count: int
    bad_seq: int | None = None
    reason: str | None = None
    last_hash: str = GENESIS_HASH


class AuditLog:
    """The append-only, hash-chained audit trail kept in the store log ``name``.

    Records are numbered from 1 (``seq``); each carries the ``hash`` of the one before
    (``prev_hash``; ``GENESIS_HASH``, 64 zeros, for the first), and its own ``hash`` is the
    SHA-256 (hex) of the canonical JSON of every other field: ``json.dumps(fields,
    sort_keys=True, separators=(",", ":"))``, so non-ASCII is escaped and the bytes are ASCII.
    Any exported JSONL line can be checked with that rule alone (``verify_chain``).

    The chain shows an edited, removed, reordered or forked record; it cannot show that the
    newest records were cut off, so keep ``Verification.last_hash`` elsewhere when that
    matters. Appends from many threads and processes chain without gap or fork: the store
    appends each record atomically after the one it was built on (``Store.log_append``).

    Args:
        store: Where the records live (SQLite or Redis).
        clock: Stamps each record's ``time``; must return aware datetimes.
        name: The store log holding the records.
    """

    def __init__(self, store: Store, *, clock: Clock, name: str = "audit") -> None:
        self.store = store
        self.clock = clock
        self.name = name

    def append(self, event: Mapping[str, Any]) -> AuditRecord:
        """Record ``event`` as the next link of the chain; returns the record as stored.

        ``event`` holds ``action`` and any of the other fields in ``EVENT_FIELDS``; missing ones
        are None. ``seq``, ``time``, ``prev_hash`` and ``hash`` are filled in here.

        Raises:
            ValueError: ``event`` has unknown fields (all are named) or no ``action``.
            TypeError: A field has the wrong type, or ``before``/``after`` is not JSON.
            StoreError: The store failed; the event may or may not have been recorded.
        """
        body = _event_body(event)

        def link(last: dict[str, Any] | None) -> dict[str, Any]:
            # Runs again if another appender won the race, so the time is read in here, after
            # the predecessor was stored: on one clock, a record is never stamped before it.
            seq, prev_hash = _next_link(last)
            record = {**body, "seq": seq, "time": self._now(), "prev_hash": prev_hash}
            return {**record, "hash": record_hash(record)}

        return _record_from(self.store.log_append(self.name, link))

    def records(self, since: datetime | None = None) -> list[AuditRecord]:
        """Every record in chain order; with ``since``, only those stamped at or after it.

        Raises:
            ValueError: ``since`` is naive, or a stored record is malformed (run ``verify``).
        """
        records = [_record_from(entry) for entry in self.store.log_read(self.name)]
        if since is None:
            return records
        cutoff = _aware(since, "since")
        return [r for r in records if r.at >= cutoff]

    def verify(self) -> Verification:
        """Check the whole chain; stops at the first bad record and says what is wrong."""
        return verify_chain(self.store.log_read(self.name))

    def export(self, fmt: ExportFormat, *, since: datetime | None = None) -> str:
        """The records (from ``since``) as JSONL (one record per line) or CSV (``CSV_COLUMNS``).

        CSV cells hold the values as recorded: a spreadsheet may read a cell starting with
        ``=`` as a formula, so open exports as text when their origin is not trusted.

        Raises:
            ValueError: ``fmt`` is neither "jsonl" nor "csv".
        """
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"unknown audit export format {fmt!r}: expected 'jsonl' or 'csv'")
        records = self.records(since)
        if fmt == "jsonl":
            return "".join(_jsonl_line(r) for r in records)
        return _csv_text(records)

    def _now(self) -> str:
        now = _aware(self.clock.now(), "clock.now()")
        return now.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of every field of ``record`` but ``hash``."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def verify_chain(entries: Sequence[Mapping[str, Any]]) -> Verification:
    """Check records (as stored, or read back from a JSONL export) form one intact chain."""
    seqs = [e.get("seq") for e in entries]
    prev: Mapping[str, Any] | None = None
    for position, entry in enumerate(entries):
        expected = 1 if prev is None else int(prev["seq"]) + 1
        problem = _shape_problem(entry)
        if problem is not None:
            return _failed(entries, expected, f"event {expected} is malformed ({problem})")
        seq = int(entry["seq"])
        if record_hash(entry) != entry["hash"]:
            return _failed(entries, seq, f"event {seq} was edited (hash mismatch)")
        if seq != expected:
            if seq > expected and expected not in seqs[position + 1 :]:
                after = expected - 1
                return _failed(
                    entries,
                    expected,
                    f"event {expected} is missing (seq jumps from {after} to {seq})",
                )
            if seq in seqs[:position]:
                # Two records built on one predecessor: the chain forked.
                return _failed(entries, seq, f"event {seq} is recorded twice (fork)")
            return _failed(entries, seq, f"events out of order at {seq}")
        wanted = GENESIS_HASH if prev is None else prev["hash"]
        if entry["prev_hash"] != wanted:
            before = "the start of the log" if prev is None else f"event {prev['seq']}"
            return _failed(
                entries, seq, f"event {seq} does not follow {before} (prev_hash mismatch)"
            )
        prev = entry
    last_hash = GENESIS_HASH if prev is None else str(prev["hash"])
    return Verification(ok=True, count=len(entries), last_hash=last_hash)


def _failed(entries: Sequence[Mapping[str, Any]], seq: int, reason: str) -> Verification:
    last = entries[-1].get("hash") if entries else None
    last_hash = last if isinstance(last, str) else GENESIS_HASH
    return Verification(
        ok=False, count=len(entries), bad_seq=seq, reason=reason, last_hash=last_hash
    )


def _event_body(event: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(event) - set(EVENT_FIELDS))
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        raise ValueError(
            f"unknown audit event field(s): {names}; expected some of {', '.join(EVENT_FIELDS)}"
        )
    if not event.get("action"):
        raise ValueError("audit event has no 'action'")
    body: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = event.get(name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"audit event field {name!r} must be a str, got {type(value).__name__}")
        body[name] = value
    for name in _OBJECT_FIELDS:
        body[name] = _json_object(name, event.get(name))
    return body


def _json_object(name: str, value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"audit event field {name!r} must be a dict, got {type(value).__name__}")
    try:
        # Round trip now, so the hash covers exactly what the store will give back.
        copied: dict[str, Any] = json.loads(_canonical(dict(value)))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"audit event field {name!r} is not JSON-serialisable: {exc}") from exc
    return copied


def _next_link(last: Mapping[str, Any] | None) -> tuple[int, str]:
    if last is None:
        return 1, GENESIS_HASH
    seq, hash_ = last.get("seq"), last.get("hash")
    if not isinstance(seq, int) or not isinstance(hash_, str):
        raise ValueError(
            f"the last audit event is malformed (seq={seq!r}); run `capacity-copilot audit verify`"
        )
    return seq + 1, hash_


def _shape_problem(entry: Mapping[str, Any]) -> str | None:
    missing = [c for c in CSV_COLUMNS if c not in entry]
    if missing:
        return f"missing {', '.join(missing)}"
    extra = sorted(set(entry) - set(CSV_COLUMNS))
    if extra:
        return f"unexpected {', '.join(extra)}"
    if not isinstance(entry["seq"], int) or isinstance(entry["seq"], bool):
        return "seq is not an integer"
    for name in ("time", "action", "prev_hash", "hash"):
        if not isinstance(entry[name], str):
            return f"{name} is not text"
    for name in _TEXT_FIELDS:
        if entry[name] is not None and not isinstance(entry[name], str):
            return f"{name} is not text"
    for name in _OBJECT_FIELDS:
        if entry[name] is not None and not isinstance(entry[name], dict):
            return f"{name} is not an object"
    return None


def _record_from(entry: Mapping[str, Any]) -> AuditRecord:
    problem = _shape_problem(entry)
    if problem is not None:
        raise ValueError(
            f"audit event {entry.get('seq')!r} is malformed ({problem}); "
            "run `capacity-copilot audit verify`"
        )
    return AuditRecord(**entry)


def _jsonl_line(record: AuditRecord) -> str:
    return json.dumps(asdict(record), ensure_ascii=False, separators=(",", ":")) + "\n"


def _csv_text(records: Sequence[AuditRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow([_csv_cell(getattr(record, c)) for c in CSV_COLUMNS])
    return out.getvalue()


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment
