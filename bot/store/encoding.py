"""How both stores write JSON: one canonical text per value (sorted keys, no spaces), so that
``compare_and_set`` can compare stored texts and equal values always compare equal."""

from __future__ import annotations

import json
from typing import Any


def encode_value(key: str, value: Any) -> str:
    """The stored text of ``value`` at ``key``; TypeError when it is not JSON."""
    try:
        return canonical(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"value for key {key!r} is not JSON-serialisable: {exc}") from exc


def encode_entry(name: str, entry: object) -> str:
    """The stored text of a log entry (a JSON object) of log ``name``; TypeError otherwise."""
    if not isinstance(entry, dict):
        raise TypeError(f"entry for log {name!r} must be a dict, got {type(entry).__name__}")
    try:
        return canonical(entry)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"entry for log {name!r} is not JSON-serialisable: {exc}") from exc


def canonical(value: Any) -> str:
    """One JSON text per value: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
