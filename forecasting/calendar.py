"""Capacity hours per person-day: weekday masks, public holidays and time off.

Pure numpy/pandas/holidays over the ``people`` and ``time_off`` contracts; must not import ``bot``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting import frames

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DAY = np.timedelta64(1, "D")
# Kinds of day a task can be spread over, in fallback order (see ``forecasting.workload``).
AVAILABLE, WORKDAY, CALENDAR = 0, 1, 2


@dataclass(frozen=True)
class CapacityGrid:
    """Capacity of every person on every calendar day of ``[start, end]``, as dense arrays.

    Rows follow the order of the ``people`` frame, columns are consecutive calendar days; day
    positions ("offsets") count from the first day, and windows ``[first, last]`` of offsets
    are inclusive. :attr:`cumulative` counts days in any window in O(1) per window.

    Attributes:
        person_gids: ``(P,)`` person gids, in ``people`` order.
        days: ``(D,)`` consecutive ``datetime64[D]`` days from start to end inclusive.
        weekmask: ``(P, 7)`` True on the weekdays (Mon..Sun) the person works.
        workday: ``(P, D)`` True where the person's weekday mask says they work, whatever their
            holidays, time off or active flag (the fallback when nothing else is available).
        capacity_h: ``(P, D)`` hours the person can work that day (0 on days off).
        warnings: problems found in the input that were tolerated (unknown country codes,
            malformed masks, time off for unknown people …), one sentence each.
    """

    person_gids: npt.NDArray[np.object_]
    days: npt.NDArray[np.datetime64]
    weekmask: BoolArray
    workday: BoolArray
    capacity_h: FloatArray
    warnings: tuple[str, ...]

    @property
    def available(self) -> BoolArray:
        """``(P, D)`` True on days the person can take work: capacity left after holidays/leave."""
        return self.capacity_h > 0.0

    @functools.cached_property
    def cumulative(self) -> IntArray:
        """``(3, P, D + 1)`` days of each kind before each offset: AVAILABLE, WORKDAY, CALENDAR.

        Days of kind ``k`` in ``[first, last]`` = ``cumulative[k, p, last + 1] -
        cumulative[k, p, first]``.
        """
        n_people, n_days = self.capacity_h.shape
        cum = np.zeros((3, n_people, n_days + 1), dtype=np.int64)
        np.cumsum(self.available, axis=1, out=cum[AVAILABLE, :, 1:])
        np.cumsum(self.workday, axis=1, out=cum[WORKDAY, :, 1:])
        cum[CALENDAR] = np.arange(n_days + 1)
        return cum

    @functools.cached_property
    def mask_groups(self) -> tuple[BoolArray, IntArray]:
        """Distinct weekday masks ``(M, 7)`` and each person's mask number ``(P,)``.

        Lets weekday arithmetic run once per distinct mask (a handful) instead of per person.
        """
        masks, inverse = np.unique(self.weekmask.reshape(-1, 7), axis=0, return_inverse=True)
        return masks, inverse.reshape(-1).astype(np.int64)

    def between(self, first: date, last: date) -> CapacityGrid:
        """The days ``[first, last]`` of this grid, as views of its arrays.

        Raises:
            ValueError: some of those days are not in the grid.
        """
        lo = int((np.datetime64(first, "D") - self.days[0]) // _DAY)
        hi = int((np.datetime64(last, "D") - self.days[0]) // _DAY) + 1
        if not 0 <= lo < hi <= len(self.days):
            raise ValueError(
                f"days {first}..{last} are not all in the grid ({self.days[0]}..{self.days[-1]})"
            )
        return CapacityGrid(
            person_gids=self.person_gids,
            days=self.days[lo:hi],
            weekmask=self.weekmask,
            workday=self.workday[:, lo:hi],
            capacity_h=self.capacity_h[:, lo:hi],
            warnings=self.warnings,
        )

    def is_of(self, people: pd.DataFrame) -> bool:
        """True when the grid's rows are the people of ``people``, in its order."""
        return bool(np.array_equal(self.person_gids, people["gid"].to_numpy(dtype=object)))

    def person_index(self, gids: pd.Series | npt.ArrayLike) -> IntArray:
        """Row of each gid in the grid, or -1 for gids that are not in ``people`` (or null)."""
        return _index_of(self.person_gids, gids)

    def day_offset(self, dates: pd.Series | npt.ArrayLike) -> IntArray:
        """Whole days from the grid's start to each date (negative before, >= D after)."""
        return _offsets(self.days[0], dates)

    def count_days(self, person: IntArray, first: IntArray, last: IntArray) -> IntArray:
        """``(3, n)`` days of each kind in each window ``[first, last]`` of person ``person``.

        Windows start inside the grid (``0 <= first <= last``) but may end past it: days past
        the grid are counted on the weekday mask alone (no holidays or leave), and count as
        available only for people with some capacity in the grid.
        """
        n_days = self.capacity_h.shape[1]
        lo, hi = np.minimum(first, n_days), np.minimum(last, n_days - 1) + 1
        counts = self.cumulative[:, person, hi] - self.cumulative[:, person, lo]
        spill = np.flatnonzero(last >= n_days)
        if spill.size:
            begin = self.days[0] + np.maximum(first[spill], n_days)
            end = self.days[0] + last[spill] + 1
            extra = np.zeros(spill.size, dtype=np.int64)
            masks, group = self.mask_groups
            for number, mask in enumerate(masks):
                same = group[person[spill]] == number
                if mask.any() and same.any():  # busday_count rejects an all-zero weekmask
                    extra[same] = np.busday_count(
                        begin[same], end[same], weekmask=numpy_weekmask(mask)
                    )
            can_work = np.asarray(self.capacity_h.any(axis=1), dtype=bool)[person[spill]]
            counts[AVAILABLE, spill] += np.where(can_work, extra, 0)
            counts[WORKDAY, spill] += extra
            counts[CALENDAR, spill] += ((end - begin) // _DAY).astype(np.int64)
        return counts

    def lead_start(self, person: IntArray, due: IntArray, lead_days: int) -> IntArray:
        """Offset where ``lead_days`` of the person's mask working days ending on ``due`` begin.

        A non-working ``due`` rolls back to the previous working day first; a person who works
        no weekday gets ``lead_days`` calendar days.
        """
        out = due - (lead_days - 1)
        due_days = self.days[0] + due
        masks, group = self.mask_groups
        for number, mask in enumerate(masks):
            same = group[person] == number
            if mask.any() and same.any():
                begin = np.busday_offset(
                    due_days[same], -(lead_days - 1), roll="backward", weekmask=numpy_weekmask(mask)
                )
                out[same] = _offsets(self.days[0], begin)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Long format: ``person_gid, day (datetime64[ns]), capacity_h`` per person × day."""
        n_people, n_days = self.capacity_h.shape
        return pd.DataFrame(
            {
                "person_gid": np.repeat(self.person_gids, n_days).astype(object),
                "day": np.tile(self.days, n_people).astype("datetime64[ns]"),
                "capacity_h": self.capacity_h.reshape(-1),
            }
        )


def capacity_grid(
    people: pd.DataFrame, time_off: pd.DataFrame, start: date, end: date
) -> CapacityGrid:
    """Compute capacity hours for every person × calendar day in ``[start, end]`` (inclusive).

    On a working day of the person's ``workdays`` mask, capacity is ``weekly_capacity_h``
    divided by the number of working days in the mask; it is 0 on other weekdays, on public
    holidays of the person's ``country`` and for inactive people. Time off with a null
    ``hours_per_day`` clears the whole day; partial time off subtracts its hours, never below 0.
    Input problems (unknown country code, malformed mask, time off for an unknown person or
    without a start) are tolerated and reported in :attr:`CapacityGrid.warnings`.

    Args:
        people: the ``people`` contract (validated here).
        time_off: the ``time_off`` contract (validated here).
        start: first day of the grid.
        end: last day of the grid, inclusive; must not be before ``start``.

    Returns:
        The dense grid; see :func:`capacity_days` for the long-format frame.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    people = frames.validate("people", people)
    time_off = frames.validate("time_off", time_off)
    duplicated = people["gid"].duplicated()
    if bool(duplicated.any()):
        raise frames.FrameError(f"people.gid must be unique (rows {_rows(duplicated)})")
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + _DAY, _DAY)
    warnings: list[str] = []

    weekmask, mask_warnings = weekday_masks(people["workdays"], people["gid"])
    warnings += mask_warnings
    weekday = _weekday(days)  # 0 = Monday, matching the mask order Mon..Sun
    workday = weekmask[:, weekday]

    weekly = people["weekly_capacity_h"].to_numpy(dtype=np.float64)
    if bool((weekly < 0).any()):
        bad = people.loc[weekly < 0, "gid"].tolist()
        warnings.append(f"negative weekly capacity treated as 0 for {_few(bad)}")
        weekly = np.maximum(weekly, 0.0)
    n_workdays = weekmask.sum(axis=1)
    # Hours per working day: the week's hours shared evenly over the mask's days.
    per_day = np.divide(weekly, n_workdays, out=np.zeros_like(weekly), where=n_workdays > 0)
    active = people["is_active"].to_numpy(dtype=bool)
    capacity = np.where(workday & active[:, None], per_day[:, None], 0.0)

    holiday, holiday_warnings = _holiday_matrix(people, days)
    warnings += holiday_warnings
    capacity[holiday] = 0.0

    capacity, leave_warnings = _subtract_time_off(people["gid"], days, time_off, capacity)
    warnings += leave_warnings
    return CapacityGrid(
        person_gids=people["gid"].to_numpy(dtype=object),
        days=days,
        weekmask=weekmask,
        workday=workday,
        capacity_h=capacity,
        warnings=tuple(warnings),
    )


def capacity_days(
    people: pd.DataFrame, time_off: pd.DataFrame, start: date, end: date
) -> pd.DataFrame:
    """Capacity per person × calendar day in ``[start, end]`` as a long frame.

    Same rules as :func:`capacity_grid` (which also returns the input warnings).

    Returns:
        ``person_gid, day (datetime64[ns]), capacity_h (float, hours)``, one row per person and
        calendar day, people in input order, days ascending.
    """
    return capacity_grid(people, time_off, start, end).to_frame()


def weekday_masks(workdays: pd.Series, gids: pd.Series) -> tuple[BoolArray, list[str]]:
    """Parse Mon..Sun ``"1111100"`` masks into a ``(P, 7)`` bool array.

    A malformed mask (not seven 0/1 characters) falls back to Monday-Friday and is reported.

    Returns:
        The masks and one warning per malformed mask (empty when all are valid).
    """
    text = workdays.astype(object).where(workdays.notna(), "").map(str).to_numpy(dtype=object)
    valid = np.array([len(m) == 7 and set(m) <= {"0", "1"} for m in text], dtype=bool)
    warnings = [
        f"malformed workdays mask {m!r} for person {g}; using {frames.FULL_WEEK}"
        for m, g in zip(text[~valid], gids.to_numpy(dtype=object)[~valid], strict=True)
    ]
    text = np.where(valid, text, frames.FULL_WEEK)
    # One byte per character: "1" is 49, so compare the raw bytes of the fixed-width strings.
    raw = np.asarray(text.astype("S7")).view(np.uint8).reshape(-1, 7)
    return raw == ord("1"), warnings


def numpy_weekmask(mask: BoolArray) -> str:
    """A ``(7,)`` bool mask as the ``"1111100"`` string ``np.busday_count`` accepts."""
    return "".join("1" if on else "0" for on in mask)


def _weekday(days: npt.NDArray[np.datetime64]) -> IntArray:
    # 1970-01-01 was a Thursday (weekday 3 counting Monday as 0).
    return ((days.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(np.int64)


def _holiday_matrix(
    people: pd.DataFrame, days: npt.NDArray[np.datetime64]
) -> tuple[BoolArray, list[str]]:
    """``(P, D)`` True on public holidays of each person's country; unknown codes reported."""
    holiday = np.zeros((len(people), len(days)), dtype=bool)
    if len(days) == 0 or len(people) == 0:
        return holiday, []
    first_year = int(str(days[0])[:4])
    last_year = int(str(days[-1])[:4])
    country = people["country"].map(lambda c: None if c is None else str(c).strip().upper())
    warnings: list[str] = []
    for code, rows in country.groupby(country, sort=True).groups.items():
        dates = _holiday_dates(str(code), first_year, last_year)
        if dates is None:
            gids = people.loc[rows, "gid"].tolist()
            warnings.append(
                f"unknown country code {code!r}: no public holidays applied for {_few(gids)}"
            )
            continue
        holiday[np.asarray(rows)] = np.isin(days, dates)
    return holiday, warnings


@functools.lru_cache(maxsize=256)
def _holiday_dates(
    country: str, first_year: int, last_year: int
) -> npt.NDArray[np.datetime64] | None:
    # Cached because building a holidays calendar costs milliseconds per country-year and the
    # same few countries recur on every call; the result is read-only so sharing is safe.
    if not country:
        return np.array([], dtype="datetime64[D]")
    try:
        calendar = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    except NotImplementedError:
        return None
    dates = np.array(sorted(calendar.keys()), dtype="datetime64[D]")
    dates.flags.writeable = False
    return dates


def _subtract_time_off(
    gids: pd.Series,
    days: npt.NDArray[np.datetime64],
    time_off: pd.DataFrame,
    capacity: FloatArray,
) -> tuple[FloatArray, list[str]]:
    """Clear full days and subtract partial hours of time off, vectorised over expanded days."""
    warnings: list[str] = []
    if time_off.empty or len(days) == 0:
        return capacity, warnings
    person = _index_of(gids.to_numpy(dtype=object), time_off["person_gid"])
    unknown = person < 0
    if bool(unknown.any()):
        strangers = time_off.loc[unknown, "person_gid"].unique().tolist()
        warnings.append(f"time off ignored for unknown people {_few(strangers)}")
    no_start = time_off["start_on"].isna().to_numpy()
    if bool(no_start.any()):
        warnings.append(f"time off without start_on ignored (rows {_rows(no_start)})")
    # A missing end means a single day off.
    end_on = time_off["end_on"].fillna(time_off["start_on"])
    first = _offsets(days[0], time_off["start_on"].fillna(pd.Timestamp(days[0])))
    last = _offsets(days[0], end_on.fillna(pd.Timestamp(days[0])))
    reversed_ = last < first
    if bool((reversed_ & ~no_start).any()):
        warnings.append(
            f"time off ending before it starts ignored (rows {_rows(reversed_ & ~no_start)})"
        )
    hours = time_off["hours_per_day"].to_numpy(dtype=np.float64)
    negative = hours < 0
    if bool(negative.any()):
        warnings.append(f"negative time-off hours ignored (rows {_rows(negative)})")
    keep = ~unknown & ~no_start & ~reversed_ & ~negative
    n_days = capacity.shape[1]
    first = np.clip(first, 0, None)
    last = np.clip(last, None, n_days - 1)
    lengths = np.where(keep, np.maximum(last - first + 1, 0), 0)
    rows = np.repeat(np.arange(len(time_off)), lengths)
    # Position of each expanded day inside its own run: global index minus the run's offset.
    run_offset = np.repeat(np.cumsum(lengths) - lengths, lengths)
    day = first[rows] + np.arange(rows.size) - run_offset
    who = person[rows]
    full = np.isnan(hours[rows])
    cleared = capacity.copy()
    cleared[who[full], day[full]] = 0.0
    partial_h = np.zeros_like(capacity)
    np.add.at(partial_h, (who[~full], day[~full]), hours[rows][~full])
    return np.maximum(cleared - partial_h, 0.0), warnings


def _index_of(gids: npt.NDArray[np.object_], wanted: pd.Series | npt.ArrayLike) -> IntArray:
    lookup = pd.Index(gids)
    return lookup.get_indexer(pd.Index(np.asarray(wanted, dtype=object))).astype(np.int64)


def _offsets(origin: np.datetime64, dates: pd.Series | npt.ArrayLike) -> IntArray:
    as_days = np.asarray(dates, dtype="datetime64[D]")
    offsets: IntArray = ((as_days - origin) // _DAY).astype(np.int64)
    return offsets


def _rows(bad: pd.Series | BoolArray) -> list[int]:
    return [int(i) for i in np.flatnonzero(np.asarray(bad))[:5]]


def _few(items: list[object], limit: int = 5) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
