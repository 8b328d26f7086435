"""Column contracts of every frame the core accepts or returns, validated at the boundary.

Frames are long-format pandas DataFrames. Dates are day-precision ``datetime64[ns]`` columns
(``NaT`` when unknown) so the core can vectorise over them; scalar dates passed to functions are
``datetime.date``. Hours are floats. Must not import ``bot``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import pandas as pd

FULL_WEEK = "1111100"  # Monday..Sunday working-day mask: Mon-Fri on, Sat/Sun off.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3  # always on from pandas 3
_DATE = np.dtype("datetime64[ns]")
_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min
_NONE = np.array([None], dtype=object)
# (contract, frame) pairs that validate passes through inside a ``trusted`` block.
_TRUSTED: ContextVar[tuple[tuple[str, pd.DataFrame], ...]] = ContextVar("trusted", default=())


class FrameError(ValueError):
    """A frame does not satisfy its contract; the message names the frame, column and rows."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str", "str?", "float", "float?", "date?", "bool", "list"


PEOPLE: tuple[Column, ...] = (
    Column("gid", "str"),
    Column("name", "str"),
    Column("email", "str?"),
    Column("team", "str?"),
    Column("weekly_capacity_h", "float"),
    Column("workdays", "str"),  # 7-character mask Mon..Sun, "1" = working day
    Column("timezone", "str?"),
    Column("country", "str?"),  # ISO 3166 alpha-2 for public holidays; None = no holidays
    Column("skills", "list"),  # tuple of (skill, level 1..5)
    Column("is_active", "bool"),
)

TASKS: tuple[Column, ...] = (
    Column("gid", "str"),
    Column("name", "str"),
    Column("assignee_gid", "str?"),
    Column("project_gid", "str?"),
    Column("section", "str?"),
    Column("start_on", "date?"),
    Column("due_on", "date?"),
    Column("estimate_h", "float?"),  # total planned effort
    Column("actual_h", "float?"),  # time tracked so far
    Column("remaining_h", "float?"),  # open effort still to do; NaN = unestimated
    Column("completed", "bool"),
    Column("completed_at", "date?"),
    Column("created_at", "date?"),
    Column("modified_at", "date?"),
    Column("priority", "str?"),
    Column("required_skills", "list"),  # tuple of skill names
    Column("depends_on", "list"),  # tuple of task gids this task waits for
    Column("locked", "bool"),  # never moved by the rebalancer
    Column("url", "str?"),
)

TIME_OFF: tuple[Column, ...] = (
    Column("person_gid", "str"),
    Column("start_on", "date?"),
    Column("end_on", "date?"),
    Column("hours_per_day", "float?"),  # NaN = the whole working day
)

LOAD: tuple[Column, ...] = (
    Column("person_gid", "str"),
    Column("week_start", "date?"),
    Column("capacity_h", "float"),
    Column("committed_h", "float"),
    Column("utilisation", "float?"),  # committed / capacity; NaN when capacity is zero
    Column("status", "str"),  # over | at_risk | ok | under | off
    Column("overdue_h", "float"),  # part of committed_h that was already overdue
)

CONTRACTS: Mapping[str, tuple[Column, ...]] = {
    "people": PEOPLE,
    "tasks": TASKS,
    "time_off": TIME_OFF,
    "load": LOAD,
}


def empty(contract: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of ``contract``."""
    return validate(contract, pd.DataFrame({c.name: [] for c in CONTRACTS[contract]}))


@contextlib.contextmanager
def trusted(contract: str, *validated: pd.DataFrame) -> Iterator[None]:
    """Within the block, :func:`validate` passes these frame objects through unchecked.

    For a caller that validated the frames itself (or took rows of validated frames), does not
    change them, and calls functions that validate their inputs again: the forecast hands the
    same 10^5-row frames to the workload, the model and the slip features. Identity, not
    content, is what is trusted, so only the caller's own objects, and only inside the block.
    """
    token = _TRUSTED.set(_TRUSTED.get() + tuple((contract, frame) for frame in validated))
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def validate(contract: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` coerced to ``contract``, or raise :class:`FrameError`.

    Extra columns are kept; missing columns, nulls in required columns, unparseable dates and
    non-numeric hours are errors that name the first offending rows. A column that already
    satisfies its contract (the dtype, and nulls as the contract writes them) is checked, not
    converted, so validating a validated frame again is cheap; a frame inside a
    :func:`trusted` block is not checked at all.
    """
    if any(name == contract and known is frame for name, known in _TRUSTED.get()):
        return frame.copy(deep=not _COPY_ON_WRITE)
    columns = CONTRACTS[contract]
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise FrameError(f"{contract}: missing column(s) {', '.join(missing)}")
    coerced = {}
    for col in columns:
        values = frame[col.name]
        if not _conforms(col, values):
            coerced[col.name] = _coerce(contract, col, values)
    # Under copy-on-write a shallow copy is a copy: the caller's frame never sees a change.
    out = frame.copy(deep=not _COPY_ON_WRITE)
    for name, values in coerced.items():
        out[name] = values
    index = out.index
    if isinstance(index, pd.RangeIndex) and (index.start, index.step, index.name) == (0, 1, None):
        return out
    return out.reset_index(drop=True)


def _conforms(col: Column, values: pd.Series) -> bool:
    """True when ``values`` already are what :func:`_coerce` would return, nulls checked."""
    kind, dtype = col.kind, values.dtype
    if kind in ("float", "float?"):
        return dtype == np.float64 and (kind == "float?" or not bool(values.isna().any()))
    if kind == "bool":
        return dtype == np.bool_
    if kind == "date?":
        if dtype != _DATE:
            return False
        ticks = values.to_numpy().view(np.int64)
        return bool(((ticks % _DAY_NS == 0) | (ticks == _NAT)).all())
    if dtype != np.dtype(object):
        return False
    array = values.to_numpy()
    if kind == "list":
        return set(map(type, array)) <= {tuple}
    # infer_dtype is one pass in C; without skipping nulls, "string" also means "no null".
    if pd.api.types.infer_dtype(array, skipna=False) in ("string", "empty"):
        return True
    if kind == "str":
        return False
    # Optional: every null must already be None (NaN, pd.NA or NaT become None).
    present = array[np.not_equal(array, _NONE)]
    return pd.api.types.infer_dtype(present, skipna=False) in ("string", "empty")


def _coerce(contract: str, col: Column, values: pd.Series) -> pd.Series:
    where = f"{contract}.{col.name}"
    if col.kind in ("str", "str?"):
        result = values.astype(object).where(values.notna(), None)
        if col.kind == "str":
            _require(where, result.isna(), "must not be empty")
        # Frames that already hold strings (the common case) skip the per-value conversion.
        if pd.api.types.infer_dtype(result, skipna=True) in ("string", "empty"):
            return result
        return result.map(lambda v: None if v is None else str(v)).astype(object)
    if col.kind in ("float", "float?"):
        result = pd.to_numeric(values, errors="coerce").astype("float64")
        _require(where, result.isna() & values.notna(), "must be a number")
        if col.kind == "float":
            _require(where, result.isna(), "must not be empty")
        return result
    if col.kind == "date?":
        result = pd.to_datetime(values, errors="coerce", utc=False, format="mixed")
        if isinstance(result.dtype, pd.DatetimeTZDtype):
            result = result.dt.tz_convert(None)
        _require(where, result.isna() & values.notna(), "must be a date")
        return result.dt.normalize().astype("datetime64[ns]")
    if col.kind == "bool":
        _require(where, values.isna(), "must be true or false")
        return values.astype(bool)
    if col.kind == "list":
        if all(type(v) is tuple for v in values):
            return values.astype(object)
        return pd.Series([_as_tuple(v) for v in values], index=values.index, dtype=object)
    raise AssertionError(f"unknown column kind {col.kind}")


def _as_tuple(value: object) -> tuple[object, ...]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ()
    if isinstance(value, tuple):
        return value
    if isinstance(value, list | set | frozenset):
        return tuple(value)
    raise FrameError(f"expected a list, got {value!r}")


def _require(where: str, bad: pd.Series, what: str) -> None:
    if bool(bad.any()):
        rows = [int(i) for i in bad[bad].index[:5]]
        raise FrameError(f"{where} {what} (rows {rows})")
