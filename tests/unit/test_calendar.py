from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from forecasting.calendar import capacity_days, capacity_grid
from tests.builders import a_person, a_time_off, people_frame, time_off_frame

MONDAY = date(2025, 3, 10)
SUNDAY = date(2025, 3, 16)


def _hours(frame: pd.DataFrame, person: str = "p1") -> list[float]:
    return frame.loc[frame["person_gid"] == person, "capacity_h"].round(6).tolist()


def test_capacity_days_spreads_weekly_hours_over_mask_days_when_full_week():
    people = people_frame(a_person(weekly_capacity_h=40.0))

    frame = capacity_days(people, time_off_frame(), MONDAY, SUNDAY)

    assert _hours(frame) == [8.0, 8.0, 8.0, 8.0, 8.0, 0.0, 0.0]


def test_capacity_days_uses_four_working_days_when_mask_is_four_day_week():
    people = people_frame(a_person(weekly_capacity_h=32.0, workdays="0111100"))

    frame = capacity_days(people, time_off_frame(), MONDAY, SUNDAY)

    assert _hours(frame) == [0.0, 8.0, 8.0, 8.0, 8.0, 0.0, 0.0]


def test_capacity_days_returns_every_person_and_day_when_range_is_inclusive():
    people = people_frame(a_person(gid="p1"), a_person(gid="p2"))

    frame = capacity_days(people, time_off_frame(), MONDAY, date(2025, 3, 23))

    assert list(frame.columns) == ["person_gid", "day", "capacity_h"]
    assert len(frame) == 2 * 14
    assert frame["day"].dtype == "datetime64[ns]"
    assert frame["day"].min() == pd.Timestamp(MONDAY)
    assert frame["day"].max() == pd.Timestamp("2025-03-23")


def test_capacity_days_is_zero_when_public_holiday_of_the_country():
    good_friday = date(2025, 4, 18)
    people = people_frame(a_person(gid="uk", country="GB"), a_person(gid="none", country=None))

    frame = capacity_days(people, time_off_frame(), good_friday, good_friday)

    assert _hours(frame, "uk") == [0.0]
    assert _hours(frame, "none") == [8.0]


def test_capacity_grid_warns_and_applies_no_holidays_when_country_unknown():
    christmas = date(2025, 12, 25)
    people = people_frame(a_person(gid="p9", country="XX"))

    grid = capacity_grid(people, time_off_frame(), christmas, christmas)

    assert grid.capacity_h.tolist() == [[8.0]]
    assert grid.warnings == ("unknown country code 'XX': no public holidays applied for p9",)


def test_capacity_days_is_zero_when_whole_day_off():
    people = people_frame(a_person())
    leave = time_off_frame(a_time_off(start_on=date(2025, 3, 11), end_on=date(2025, 3, 12)))

    frame = capacity_days(people, leave, MONDAY, SUNDAY)

    assert _hours(frame) == [8.0, 0.0, 0.0, 8.0, 8.0, 0.0, 0.0]


def test_capacity_days_subtracts_hours_never_below_zero_when_partial_days_off():
    people = people_frame(a_person())
    leave = time_off_frame(
        a_time_off(start_on=MONDAY, end_on=MONDAY, hours_per_day=3.0),
        a_time_off(start_on=date(2025, 3, 11), end_on=date(2025, 3, 11), hours_per_day=6.0),
        a_time_off(start_on=date(2025, 3, 11), end_on=date(2025, 3, 11), hours_per_day=6.0),
    )

    frame = capacity_days(people, leave, MONDAY, SUNDAY)

    assert _hours(frame) == [5.0, 0.0, 8.0, 8.0, 8.0, 0.0, 0.0]


def test_capacity_days_clips_time_off_to_the_range_when_leave_spans_it():
    people = people_frame(a_person())
    leave = time_off_frame(a_time_off(start_on=date(2025, 2, 1), end_on=date(2025, 3, 11)))

    frame = capacity_days(people, leave, MONDAY, SUNDAY)

    assert _hours(frame) == [0.0, 0.0, 8.0, 8.0, 8.0, 0.0, 0.0]


def test_capacity_days_is_zero_when_person_inactive():
    people = people_frame(a_person(is_active=False))

    frame = capacity_days(people, time_off_frame(), MONDAY, SUNDAY)

    assert _hours(frame) == [0.0] * 7


def test_capacity_grid_warns_and_ignores_leave_when_person_unknown():
    people = people_frame(a_person())
    leave = time_off_frame(a_time_off(person_gid="ghost", start_on=MONDAY, end_on=MONDAY))

    grid = capacity_grid(people, leave, MONDAY, MONDAY)

    assert grid.capacity_h.tolist() == [[8.0]]
    assert grid.warnings == ("time off ignored for unknown people ghost",)


def test_capacity_grid_falls_back_to_weekdays_when_mask_malformed():
    people = people_frame(a_person(gid="p7", workdays="weekdays"))

    grid = capacity_grid(people, time_off_frame(), MONDAY, SUNDAY)

    assert grid.workday.tolist() == [[True] * 5 + [False] * 2]
    assert grid.warnings == ("malformed workdays mask 'weekdays' for person p7; using 1111100",)


def test_capacity_grid_keeps_mask_days_but_no_availability_when_on_leave():
    people = people_frame(a_person())
    leave = time_off_frame(a_time_off(start_on=MONDAY, end_on=SUNDAY))

    grid = capacity_grid(people, leave, MONDAY, SUNDAY)

    assert grid.workday.tolist() == [[True] * 5 + [False] * 2]
    assert not grid.available.any()


def test_capacity_grid_indexes_people_and_days_when_asked_for_offsets():
    people = people_frame(a_person(gid="a"), a_person(gid="b"))

    grid = capacity_grid(people, time_off_frame(), MONDAY, SUNDAY)

    assert grid.person_index(["b", "zz", None]).tolist() == [1, -1, -1]
    days = np.array(["2025-03-09", "2025-03-12"], dtype="datetime64[D]")
    assert grid.day_offset(days).tolist() == [-1, 2]


def test_capacity_grid_between_gives_the_grid_of_those_days_when_inside():
    people = people_frame(a_person(gid="a", country="GB"), a_person(gid="b", workdays="1111000"))
    leave = time_off_frame(a_time_off(person_gid="b", start_on=MONDAY, end_on=date(2025, 3, 20)))
    grid = capacity_grid(people, leave, MONDAY - timedelta(days=28), SUNDAY + timedelta(days=60))

    part = grid.between(MONDAY, SUNDAY + timedelta(days=7))

    alone = capacity_grid(people, leave, MONDAY, SUNDAY + timedelta(days=7))
    np.testing.assert_array_equal(part.days, alone.days)
    np.testing.assert_array_equal(part.capacity_h, alone.capacity_h)
    np.testing.assert_array_equal(part.workday, alone.workday)
    np.testing.assert_array_equal(part.cumulative, alone.cumulative)
    assert part.is_of(people) and part.warnings == alone.warnings


def test_capacity_grid_between_raises_when_days_fall_outside_the_grid():
    grid = capacity_grid(people_frame(a_person()), time_off_frame(), MONDAY, SUNDAY)

    with pytest.raises(ValueError, match="are not all in the grid"):
        grid.between(MONDAY, SUNDAY + timedelta(days=1))
