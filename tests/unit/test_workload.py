from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import frames
from forecasting.calendar import capacity_grid
from forecasting.spread import DUE_BEFORE_START, NEGATIVE_ESTIMATE, UNKNOWN_ASSIGNEE
from forecasting.workload import (
    EXTENT_DAYS,
    StatusBands,
    Workload,
    compute_workload,
    grid_end,
    spread_task_weeks,
)
from tests.builders import a_person, a_task, a_time_off, people_frame, tasks_frame, time_off_frame

WEDNESDAY = date(2025, 3, 12)  # "today" in most tests; the horizon starts on Monday 10 March


def _workload(*tasks: dict, people=None, time_off=None, today=WEDNESDAY, **kwargs) -> Workload:
    return compute_workload(
        people if people is not None else people_frame(a_person()),
        tasks_frame(*tasks),
        time_off if time_off is not None else time_off_frame(),
        today=today,
        **kwargs,
    )


def _days(workload: Workload, first: date, last: date, column: str = "committed_h") -> list:
    daily = workload.daily
    inside = daily["day"].between(pd.Timestamp(first), pd.Timestamp(last))
    return daily.loc[inside & (daily["person_gid"] == "p1"), column].round(6).tolist()


def _week(workload: Workload, monday: date, column: str, person: str = "p1") -> object:
    weekly = workload.weekly
    cell = weekly[(weekly["person_gid"] == person) & (weekly["week_start"] == pd.Timestamp(monday))]
    return cell[column].iloc[0]


def test_workload_spreads_evenly_over_working_days_when_task_has_start_and_due():
    task = a_task(start_on=date(2025, 3, 12), due_on=date(2025, 3, 14), remaining_h=24.0)

    workload = _workload(task)

    assert _days(workload, date(2025, 3, 10), date(2025, 3, 16)) == [0, 0, 8, 8, 8, 0, 0]


def test_workload_starts_at_today_when_start_is_in_the_past():
    task = a_task(start_on=date(2025, 3, 3), due_on=date(2025, 3, 14), remaining_h=9.0)

    workload = _workload(task)

    assert _days(workload, date(2025, 3, 10), date(2025, 3, 14)) == [0, 0, 3, 3, 3]


def test_workload_skips_days_off_when_leave_falls_inside_the_window():
    task = a_task(start_on=date(2025, 3, 12), due_on=date(2025, 3, 14), remaining_h=24.0)
    leave = time_off_frame(a_time_off(start_on=date(2025, 3, 13), end_on=date(2025, 3, 13)))

    workload = _workload(task, time_off=leave)

    assert _days(workload, date(2025, 3, 12), date(2025, 3, 14)) == [12, 0, 12]


def test_workload_uses_a_lead_window_ending_on_due_when_task_has_no_start():
    task = a_task(due_on=date(2025, 3, 21), remaining_h=10.0)

    workload = _workload(task)

    assert _days(workload, date(2025, 3, 10), date(2025, 3, 23)) == [0] * 7 + [2] * 5 + [0, 0]


def test_workload_rolls_the_lead_window_back_when_due_on_a_weekend():
    task = a_task(due_on=date(2025, 3, 23), remaining_h=10.0)

    workload = _workload(task)

    assert _days(workload, date(2025, 3, 14), date(2025, 3, 23)) == [0, 0, 0] + [2] * 5 + [0, 0]


def test_workload_honours_lead_days_when_set():
    task = a_task(due_on=date(2025, 3, 21), remaining_h=10.0)

    workload = _workload(task, lead_days=2)

    assert _days(workload, date(2025, 3, 17), date(2025, 3, 21)) == [0, 0, 0, 5, 5]


def test_workload_lands_overdue_work_in_the_rest_of_this_week_when_due_has_passed():
    task = a_task(gid="late", start_on=date(2025, 2, 24), due_on=date(2025, 3, 3), remaining_h=6.0)

    workload = _workload(task)

    assert _days(workload, date(2025, 3, 10), date(2025, 3, 16)) == [0, 0, 2, 2, 2, 0, 0]
    assert _days(workload, date(2025, 3, 10), date(2025, 3, 16), "overdue_h") == [
        0,
        0,
        2,
        2,
        2,
        0,
        0,
    ]
    assert _week(workload, date(2025, 3, 10), "overdue_h") == pytest.approx(6.0)
    assert workload.quality.overdue == ("late",)


def test_workload_puts_overdue_work_on_today_when_no_working_day_is_left_this_week():
    saturday = date(2025, 3, 15)
    task = a_task(due_on=date(2025, 3, 3), remaining_h=6.0)

    workload = _workload(task, today=saturday)

    assert _days(workload, date(2025, 3, 10), date(2025, 3, 16)) == [0, 0, 0, 0, 0, 6, 0]
    assert _week(workload, date(2025, 3, 10), "status") == "over"


def test_workload_spreads_from_due_and_flags_invalid_when_due_is_before_start():
    task = a_task(gid="bad", start_on=date(2025, 3, 14), due_on=date(2025, 3, 13), remaining_h=8.0)

    workload = _workload(task)

    assert _days(workload, date(2025, 3, 12), date(2025, 3, 14)) == [0, 8, 0]
    assert workload.quality.invalid == (("bad", DUE_BEFORE_START),)


def test_workload_schedules_zero_and_flags_invalid_when_estimate_is_negative():
    task = a_task(gid="neg", due_on=date(2025, 3, 14), remaining_h=-3.0)

    workload = _workload(task)

    assert workload.daily["committed_h"].sum() == 0.0
    assert workload.scheduled_h == 0.0
    assert workload.quality.invalid == (("neg", NEGATIVE_ESTIMATE),)


def test_workload_uses_calendar_days_when_window_has_no_working_day():
    task = a_task(start_on=date(2025, 3, 15), due_on=date(2025, 3, 16), remaining_h=8.0)

    workload = _workload(task)

    assert _days(workload, date(2025, 3, 14), date(2025, 3, 17)) == [0, 4, 4, 0]


def test_workload_uses_mask_days_when_every_working_day_is_off():
    task = a_task(start_on=date(2025, 3, 13), due_on=date(2025, 3, 16), remaining_h=8.0)
    leave = time_off_frame(a_time_off(start_on=date(2025, 3, 13), end_on=date(2025, 3, 14)))

    workload = _workload(task, time_off=leave)

    assert _days(workload, date(2025, 3, 13), date(2025, 3, 16)) == [4, 4, 0, 0]


def test_workload_is_over_with_no_utilisation_when_person_has_zero_capacity():
    people = people_frame(a_person(weekly_capacity_h=0.0))
    task = a_task(start_on=date(2025, 3, 17), due_on=date(2025, 3, 21), remaining_h=10.0)

    workload = _workload(task, people=people)

    assert _days(workload, date(2025, 3, 17), date(2025, 3, 21)) == [2] * 5
    assert _week(workload, date(2025, 3, 17), "status") == "over"
    assert np.isnan(_week(workload, date(2025, 3, 17), "utilisation"))


def test_workload_is_off_without_work_and_over_with_work_when_on_leave_all_horizon():
    task = a_task(start_on=date(2025, 3, 17), due_on=date(2025, 3, 21), remaining_h=10.0)
    leave = time_off_frame(a_time_off(start_on=date(2025, 3, 1), end_on=date(2025, 6, 30)))

    workload = _workload(task, time_off=leave)

    assert workload.weekly["status"].tolist() == ["off", "over", "off", "off"]
    assert workload.weekly["committed_h"].sum() == pytest.approx(10.0)


def test_workload_reports_hours_beyond_the_horizon_when_task_spans_a_year():
    due = date(2026, 3, 11)
    task = a_task(start_on=WEDNESDAY, due_on=due, remaining_h=2000.0)
    working_days = int(np.busday_count(WEDNESDAY, due + timedelta(days=1)))

    workload = _workload(task)

    in_horizon = 2000.0 * 18 / working_days  # Wed-Fri this week + three full weeks
    assert workload.daily["committed_h"].sum() == pytest.approx(in_horizon)
    assert workload.beyond_h["p1"] == pytest.approx(2000.0 - in_horizon)


def test_workload_counts_mask_days_past_the_modelled_year_when_due_is_years_away():
    due = date(2028, 6, 30)
    task = a_task(start_on=WEDNESDAY, due_on=due, remaining_h=3000.0)
    working_days = int(np.busday_count(WEDNESDAY, due + timedelta(days=1)))

    workload = _workload(task)

    assert workload.daily["committed_h"].sum() == pytest.approx(3000.0 * 18 / working_days)
    assert workload.daily["committed_h"].sum() + workload.beyond_h.sum() == pytest.approx(3000.0)


def test_workload_reports_undated_without_spreading_when_task_has_only_a_start():
    task = a_task(gid="s", start_on=date(2025, 3, 12), remaining_h=5.0)

    workload = _workload(task)

    assert workload.quality.undated == ("s",)
    assert workload.quality.undated_h == 5.0
    assert workload.daily["committed_h"].sum() == 0.0


def test_workload_reports_unestimated_without_spreading_when_remaining_is_missing():
    task = a_task(gid="u", due_on=date(2025, 3, 14), remaining_h=None)

    workload = _workload(task)

    assert workload.quality.unestimated == ("u",)
    assert workload.scheduled_h == 0.0


def test_workload_reports_unassigned_hours_when_task_has_no_assignee():
    task = a_task(gid="n", assignee_gid=None, due_on=date(2025, 3, 14), remaining_h=5.0)

    workload = _workload(task)

    assert workload.quality.unassigned == ("n",)
    assert workload.quality.unassigned_h == 5.0
    assert workload.quality.unscheduled_h == 5.0


def test_workload_flags_invalid_without_spreading_when_assignee_is_not_a_person():
    task = a_task(gid="x", assignee_gid="ghost", due_on=date(2025, 3, 14), remaining_h=5.0)

    workload = _workload(task)

    assert workload.quality.invalid == (("x", UNKNOWN_ASSIGNEE),)
    assert workload.quality.unscheduled_h == 5.0


def test_workload_ignores_completed_tasks_when_remaining_hours_are_left():
    task = a_task(due_on=date(2025, 3, 14), remaining_h=5.0, completed=True)

    workload = _workload(task)

    assert workload.scheduled_h == 0.0
    assert workload.quality.counts() == dict.fromkeys(workload.quality.counts(), 0)


def test_workload_has_no_capacity_before_today_when_today_is_mid_week():
    workload = _workload()

    assert _days(workload, date(2025, 3, 10), date(2025, 3, 14), "capacity_h") == [0, 0, 8, 8, 8]
    assert workload.weekly["capacity_h"].tolist() == [24.0, 40.0, 40.0, 40.0]


def test_workload_returns_the_load_contract_when_weeks_are_given():
    workload = _workload(weeks=3)

    assert list(workload.weekly.columns) == [c.name for c in frames.LOAD]
    assert frames.validate("load", workload.weekly).equals(workload.weekly)
    assert workload.weekly["week_start"].dt.day_of_week.eq(0).all()
    assert (workload.horizon_start, workload.horizon_end) == (date(2025, 3, 10), date(2025, 3, 30))


def test_workload_keeps_the_largest_drivers_when_more_tasks_than_top():
    tasks = [
        a_task(gid=gid, start_on=date(2025, 3, 12), due_on=date(2025, 3, 14), remaining_h=h)
        for gid, h in (("small", 1.0), ("big", 9.0), ("mid", 3.0))
    ]

    workload = _workload(*tasks, top_drivers=2)

    assert workload.drivers["task_gid"].tolist() == ["big", "mid"]
    assert workload.drivers["hours"].tolist() == pytest.approx([9.0, 3.0])


def test_workload_keeps_no_driver_but_every_task_week_when_top_is_zero():
    tasks = [a_task(gid="a", start_on=date(2025, 3, 12), due_on=date(2025, 3, 18), remaining_h=5.0)]

    workload = _workload(*tasks, top_drivers=0)

    assert workload.drivers.empty
    assert workload.task_weeks is not None
    assert workload.task_weeks.week.tolist() == [0, 1]
    assert workload.task_weeks.hours.sum() == pytest.approx(5.0)


def test_spread_task_weeks_gives_every_driver_as_arrays_when_tasks_are_spread():
    tasks = [
        a_task(gid="done", completed=True, due_on=date(2025, 3, 14), remaining_h=0.0),
        a_task(gid="long", start_on=date(2025, 3, 12), due_on=date(2025, 3, 26), remaining_h=22),
        a_task(gid="undated", remaining_h=4.0),
        a_task(gid="due", due_on=date(2025, 3, 17), remaining_h=3.0),
    ]
    drivers = _workload(*tasks, top_drivers=None).drivers

    spread = spread_task_weeks(
        people_frame(a_person()), tasks_frame(*tasks), time_off_frame(), today=WEDNESDAY
    )

    open_gids = np.array(["long", "undated", "due"], dtype=object)
    monday = np.datetime64(date(2025, 3, 10), "ns")
    rows = pd.DataFrame(
        {
            "person_gid": "p1",
            "week_start": monday + (7 * spread.week).astype("timedelta64[D]"),
            "task_gid": open_gids[spread.task],
            "hours": spread.hours,
        }
    )
    order = ["week_start", "task_gid"]
    pd.testing.assert_frame_equal(
        rows.sort_values(order, ignore_index=True), drivers.sort_values(order, ignore_index=True)
    )
    assert spread.person.tolist() == [0] * len(rows)


def test_status_bands_classify_by_utilisation_when_capacity_is_known():
    capacity = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 0.0, 0.0])
    committed = np.array([10.5, 9.0, 8.5, 5.0, 4.9, 0.0, 1.0])

    status = StatusBands().classify(capacity, committed)

    assert status.tolist() == ["over", "at_risk", "ok", "ok", "under", "off", "over"]


def test_status_bands_reject_thresholds_when_out_of_order():
    with pytest.raises(ValueError, match="status bands must satisfy"):
        StatusBands(over=0.8, at_risk=0.9)


def test_data_quality_summary_lists_non_empty_categories_when_gaps_exist():
    tasks = [a_task(assignee_gid=None, due_on=date(2025, 3, 14), remaining_h=2.5), a_task()]

    workload = _workload(*tasks)

    assert workload.quality.summary() == (
        "1 undated task (8.0 h known)",
        "1 unassigned task (2.5 h known)",
    )


_PERSON_GIDS = ("p1", "p2", "p3")


@st.composite
def _scenarios(draw: st.DrawFn) -> dict:
    n_people = draw(st.integers(1, 3))
    people = [
        a_person(
            gid=_PERSON_GIDS[i],
            weekly_capacity_h=draw(st.sampled_from([0.0, 8.0, 24.0, 40.0])),
            workdays="".join(draw(st.lists(st.sampled_from("01"), min_size=7, max_size=7))),
            country=draw(st.sampled_from([None, "GB", "DE", "XX"])),
            is_active=draw(st.booleans()),
        )
        for i in range(n_people)
    ]
    origin = date(2025, 1, 1)
    today = origin + timedelta(days=draw(st.integers(0, 364)))
    gids = st.sampled_from([*_PERSON_GIDS[:n_people], None, "ghost"])
    offset = st.one_of(st.none(), st.integers(-60, 900)).map(
        lambda d: None if d is None else today + timedelta(days=d)
    )
    tasks = [
        a_task(
            assignee_gid=draw(gids),
            start_on=draw(offset),
            due_on=draw(offset),
            remaining_h=draw(st.one_of(st.none(), st.floats(-5, 120))),
        )
        for _ in range(draw(st.integers(0, 15)))
    ]
    leave = [
        a_time_off(
            person_gid=draw(gids.filter(lambda g: g is not None)),
            start_on=(first := today + timedelta(days=draw(st.integers(-20, 120)))),
            end_on=first + timedelta(days=draw(st.integers(0, 30))),
            hours_per_day=draw(st.one_of(st.none(), st.floats(0, 10))),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    return {
        "people": people_frame(*people),
        "tasks": tasks_frame(*tasks),
        "time_off": time_off_frame(*leave),
        "today": today,
        "weeks": draw(st.integers(1, 6)),
        "lead_days": draw(st.integers(1, 10)),
    }


@settings(max_examples=60, deadline=None, database=None)
@given(_scenarios())
def test_workload_conserves_effort_exactly_when_tasks_people_and_leave_are_random(scenario):
    tasks = scenario["tasks"]
    known = set(scenario["people"]["gid"])
    schedulable = (
        tasks["remaining_h"].notna() & tasks["due_on"].notna() & tasks["assignee_gid"].isin(known)
    )
    expected = tasks.loc[schedulable, "remaining_h"].clip(lower=0).sum()

    workload = compute_workload(
        scenario["people"],
        tasks,
        scenario["time_off"],
        today=scenario["today"],
        weeks=scenario["weeks"],
        lead_days=scenario["lead_days"],
    )

    daily = workload.daily
    assert workload.scheduled_h == pytest.approx(expected, abs=1e-9)
    assert daily["committed_h"].sum() + workload.beyond_h.sum() == pytest.approx(expected, abs=1e-6)
    assert (daily["committed_h"] >= 0).all() and (workload.beyond_h >= -1e-9).all()
    assert (daily["overdue_h"] <= daily["committed_h"] + 1e-9).all()
    before_today = daily["day"] < pd.Timestamp(scenario["today"])
    assert daily.loc[before_today, "committed_h"].sum() == 0.0
    assert daily.loc[before_today, "capacity_h"].sum() == 0.0


@settings(max_examples=60, deadline=None, database=None)
@given(_scenarios(), st.integers(0, EXTENT_DAYS))
def test_workload_is_the_same_when_given_a_grid_that_reaches_further(scenario, extra_days):
    people, tasks, time_off = scenario["people"], scenario["tasks"], scenario["time_off"]
    today, weeks = scenario["today"], scenario["weeks"]
    latest = tasks["due_on"].max()
    end = grid_end(None if pd.isna(latest) else latest.date(), today=today, weeks=weeks)
    furthest = grid_end(end + timedelta(days=extra_days), today=today, weeks=weeks)
    grid = capacity_grid(people, time_off, today - timedelta(days=today.weekday()), furthest)
    settings_ = {"today": today, "weeks": weeks, "lead_days": scenario["lead_days"]}

    shared = compute_workload(people, tasks, time_off, grid=grid, **settings_)
    spread = spread_task_weeks(people, tasks, time_off, grid=grid, **settings_)

    alone = compute_workload(people, tasks, time_off, **settings_)
    pd.testing.assert_frame_equal(shared.daily, alone.daily, check_exact=True)
    pd.testing.assert_frame_equal(shared.weekly, alone.weekly, check_exact=True)
    pd.testing.assert_series_equal(shared.beyond_h, alone.beyond_h, check_exact=True)
    assert shared.warnings == alone.warnings
    assert alone.task_weeks is not None
    for name in ("task", "person", "week", "hours"):
        np.testing.assert_array_equal(getattr(spread, name), getattr(alone.task_weeks, name))


def test_workload_raises_when_the_grid_given_does_not_start_on_the_horizon_monday():
    people = people_frame(a_person())
    grid = capacity_grid(people, time_off_frame(), WEDNESDAY, WEDNESDAY + timedelta(days=60))

    with pytest.raises(ValueError, match=re.escape("must start on 2025-03-10")):
        _workload(a_task(due_on=WEDNESDAY), people=people, grid=grid)
