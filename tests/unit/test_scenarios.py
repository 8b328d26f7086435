from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import frames
from forecasting.calendar import capacity_days
from forecasting.forecast import Forecast, forecast_load
from forecasting.scenarios import (
    CapacityChange,
    DeferTask,
    NewHire,
    NewProject,
    PersonOut,
    RemoveTask,
    ScenarioError,
    Shift,
    Transform,
    World,
    apply_all,
)
from forecasting.whatif import compare
from forecasting.workload import Workload, compute_workload
from tests.builders import a_person, a_task, a_time_off, people_frame, tasks_frame, time_off_frame

TODAY = date(2026, 11, 25)  # Wednesday of ISO week 48, as tests.asana_orgs.NOW
W48, W49, W50, W51, W52 = (
    date(2026, 11, 23),
    date(2026, 11, 30),
    date(2026, 12, 7),
    date(2026, 12, 14),
    date(2026, 12, 21),
)


def _people() -> pd.DataFrame:
    return people_frame(
        a_person(gid="p1", name="Ada", skills=(("backend", 4),)),
        a_person(
            gid="p2", name="Ben", weekly_capacity_h=20.0, skills=(("backend", 3), ("data", 2))
        ),
        a_person(gid="p3", name="Cleo", team="Data", skills=(("data", 4),)),
        a_person(gid="p4", name="Dan", is_active=False, skills=(("backend", 5),)),
    )


def _tasks(*extra: dict) -> pd.DataFrame:
    return tasks_frame(
        a_task(
            gid="ta",
            name="Invoice export",
            assignee_gid="p1",
            project_gid="billing",
            start_on=W49,
            due_on=date(2026, 12, 4),
            remaining_h=20.0,
        ),
        a_task(
            gid="tb",
            name="Rate limiter",
            assignee_gid="p2",
            project_gid="billing",
            start_on=W50,
            due_on=date(2026, 12, 11),
            remaining_h=10.0,
            depends_on=("ta",),
        ),
        a_task(
            gid="tc",
            name="Pipeline",
            assignee_gid="p3",
            project_gid="pipeline",
            due_on=date(2026, 12, 4),
            remaining_h=16.0,
            required_skills=("data",),
        ),
        a_task(
            gid="done",
            name="Old migration",
            assignee_gid="p1",
            project_gid="billing",
            start_on=date(2026, 11, 16),
            due_on=date(2026, 11, 20),
            remaining_h=0.0,
            actual_h=8.0,
            completed=True,
            completed_at=date(2026, 11, 20),
        ),
        *extra,
    )


def _world(*extra_tasks: dict, people: pd.DataFrame | None = None) -> World:
    return World.from_frames(
        _people() if people is None else people,
        _tasks(*extra_tasks),
        time_off_frame(a_time_off(person_gid="p3", start_on=W51, end_on=W51)),
        today=TODAY,
    )


def _load(world: World, weeks: int = 4) -> Workload:
    return compute_workload(
        world.people, world.tasks, world.time_off, today=world.today, weeks=weeks
    )


def _forecast(world: World) -> Forecast:
    return forecast_load(world.people, world.tasks, world.time_off, today=world.today, weeks=4)


def _cell(load: Workload, person: str, monday: date, column: str = "committed_h") -> object:
    weekly = load.weekly
    hit = weekly.loc[
        (weekly["person_gid"] == person) & (weekly["week_start"] == pd.Timestamp(monday)), column
    ]
    assert len(hit) == 1, (person, monday)
    value = hit.iloc[0]
    return value if isinstance(value, str) else round(float(value), 6)


def _weeks(load: Workload, person: str, column: str = "committed_h") -> list[float]:
    return [_cell(load, person, monday, column) for monday in (W48, W49, W50, W51)]


def _task(world: World, gid: str) -> pd.Series:
    return world.tasks.set_index("gid").loc[gid]


# --- World -------------------------------------------------------------------------------------


def test_world_validates_its_frames_when_constructed():
    with pytest.raises(frames.FrameError, match=re.escape("tasks: missing column(s) due_on")):
        World.from_frames(_people(), _tasks().drop(columns=["due_on"]), today=TODAY)


def test_world_rejects_duplicate_person_gids():
    people = people_frame(a_person(gid="p1"), a_person(gid="p1", name="Twin"))

    with pytest.raises(frames.FrameError, match=re.escape("people.gid must be unique (rows [1])")):
        World.from_frames(people, _tasks(), today=TODAY)


def test_world_from_frames_has_no_time_off_when_none_is_given():
    world = World.from_frames(_people(), _tasks(), today=TODAY)

    assert world.time_off.empty
    assert list(world.time_off.columns) == [c.name for c in frames.TIME_OFF]
    assert world.notes == ()


# --- PersonOut ---------------------------------------------------------------------------------


def test_person_out_clears_capacity_of_those_weeks_and_nothing_else():
    world = _world()
    before = _load(world)

    after = _load(PersonOut("p1", W49, date(2026, 12, 4)).apply(world))

    assert _weeks(after, "p1", "capacity_h") == [24.0, 0.0, 40.0, 40.0]
    assert _weeks(after, "p1") == _weeks(before, "p1")  # effort is never lost
    assert _cell(after, "p1", W49, "status") == "over"
    others = before.weekly["person_gid"] != "p1"
    pd.testing.assert_frame_equal(after.weekly.loc[others], before.weekly.loc[others])


# --- NewProject --------------------------------------------------------------------------------


def test_new_project_splits_a_skill_over_the_skilled_people_in_proportion_to_capacity():
    world = _world()
    before = _load(world)

    after = _load(
        NewProject("Apollo", {"backend": 90.0}, start=W50, end=date(2026, 12, 11)).apply(world)
    )

    # Ada 40 h and Ben 20 h have backend; Dan is inactive; Cleo has only data.
    added = {p: _cell(after, p, W50) - _cell(before, p, W50) for p in ("p1", "p2", "p3", "p4")}
    assert added == {"p1": 60.0, "p2": 30.0, "p3": 0.0, "p4": 0.0}
    assert after.scheduled_h == pytest.approx(before.scheduled_h + 90.0)


def test_new_project_writes_hypothetical_tasks_over_the_range():
    world = NewProject("Apollo", {"backend": 90.0}, start=W50, end=date(2026, 12, 11)).apply(
        _world()
    )

    new = world.tasks.loc[world.tasks["project_gid"] == "whatif:Apollo"]
    assert new["gid"].tolist() == ["whatif:Apollo:backend:p1", "whatif:Apollo:backend:p2"]
    assert new["assignee_gid"].tolist() == ["p1", "p2"]
    assert new["estimate_h"].tolist() == new["remaining_h"].tolist() == [60.0, 30.0]
    assert new["start_on"].tolist() == [pd.Timestamp(W50)] * 2
    assert new["due_on"].tolist() == [pd.Timestamp(2026, 12, 11)] * 2
    assert new["required_skills"].tolist() == [("backend",), ("backend",)]
    assert not new["completed"].any()


def test_new_project_gives_hours_only_to_the_pool_when_a_pool_is_given():
    transform = NewProject(
        "Apollo",
        {"backend": 12.0, "data": 30.0},
        start=W50,
        end=date(2026, 12, 11),
        pool=("p2", "p3"),
    )

    world = transform.apply(_world())

    new = world.tasks.loc[world.tasks["project_gid"] == "whatif:Apollo"]
    hours = new.groupby(["assignee_gid", "required_skills"])["remaining_h"].sum().to_dict()
    assert hours == {("p2", ("backend",)): 12.0, ("p2", ("data",)): 10.0, ("p3", ("data",)): 20.0}


def test_new_project_makes_one_unassigned_task_and_a_note_when_nobody_has_the_skill():
    transform = NewProject("Apollo", {"backend": 6.0, "ml": 24.0}, start=W50, end=W51)

    world = transform.apply(_world())

    ml = world.tasks.loc[world.tasks["gid"] == "whatif:Apollo:ml"]
    assert ml["assignee_gid"].tolist() == [None]
    assert ml["remaining_h"].tolist() == [24.0]
    assert world.notes == (
        "New project Apollo: nobody in the pool has skill 'ml', "
        "so its 24 h are one unassigned task",
    )
    assert _load(world).quality.unassigned_h == 24.0


def test_new_project_from_tasks_prefixes_gids_and_their_dependencies():
    given = tasks_frame(
        a_task(
            gid="x1", assignee_gid="p3", start_on=W50, due_on=date(2026, 12, 11), remaining_h=15.0
        ),
        a_task(gid="x2", assignee_gid=None, due_on=W51, depends_on=("x1", "ta")),
    )
    world = _world()

    after = NewProject("Apollo", tasks=given).apply(world)

    new = after.tasks.loc[after.tasks["project_gid"] == "whatif:Apollo"]
    assert new["gid"].tolist() == ["whatif:x1", "whatif:x2"]
    assert new["depends_on"].tolist() == [(), ("whatif:x1", "ta")]
    assert _cell(_load(after), "p3", W50) - _cell(_load(world), "p3", W50) == 15.0


# --- Shift -------------------------------------------------------------------------------------


def test_shift_by_five_working_days_moves_a_projects_hours_a_week_later():
    world = _world()

    after = _load(Shift(5, project_gid="billing").apply(world))

    assert _weeks(after, "p1") == [0.0, 0.0, 20.0, 0.0]
    assert _weeks(after, "p2") == [0.0, 0.0, 0.0, 10.0]
    assert _weeks(after, "p3") == _weeks(_load(world), "p3")


def test_shift_never_moves_completed_tasks():
    world = _world()

    after = Shift(5, project_gid="billing").apply(world)

    pd.testing.assert_series_equal(_task(after, "done"), _task(world, "done"))
    assert _task(after, "ta")["start_on"] == pd.Timestamp(W50)


def test_shift_of_one_task_moves_only_that_task_and_may_move_it_earlier():
    world = _world()

    after = Shift(-5, task_gid="tb").apply(world)

    assert _task(after, "tb")[["start_on", "due_on"]].tolist() == [
        pd.Timestamp(W49),
        pd.Timestamp(2026, 12, 4),
    ]
    assert _weeks(_load(after), "p2") == [0.0, 10.0, 0.0, 0.0]
    pd.testing.assert_series_equal(_task(after, "ta"), _task(world, "ta"))


@pytest.mark.parametrize(
    ("days", "moved"), [(1, date(2026, 12, 7)), (-1, date(2026, 12, 4)), (2, date(2026, 12, 8))]
)
def test_shift_moves_a_weekend_date_to_the_nth_working_day_past_it(days, moved):
    world = _world(a_task(gid="sat", start_on=None, due_on=date(2026, 12, 5)))

    after = Shift(days, task_gid="sat").apply(world)

    assert _task(after, "sat")["due_on"] == pd.Timestamp(moved)
    assert pd.isna(_task(after, "sat")["start_on"])


def test_shift_notes_that_nothing_moved_when_the_project_has_no_open_tasks():
    world = _world(a_task(gid="old", project_gid="legacy", completed=True, remaining_h=0.0))

    after = Shift(3, project_gid="legacy").apply(world)

    assert after.notes == ("Project legacy has no open tasks: nothing moved",)
    pd.testing.assert_frame_equal(after.tasks, world.tasks)


# --- CapacityChange ----------------------------------------------------------------------------


def test_capacity_change_halves_capacity_from_start_and_not_before():
    after = _load(CapacityChange("p1", 20.0, W50).apply(_world()))

    assert _weeks(after, "p1", "capacity_h") == [24.0, 40.0, 20.0, 20.0]


def test_capacity_change_raises_capacity_from_start_and_leaves_the_past_unchanged():
    world = CapacityChange("p1", 60.0, W50).apply(_world())

    assert _weeks(_load(world), "p1", "capacity_h") == [24.0, 40.0, 60.0, 60.0]
    assert world.people.set_index("gid").at["p1", "weekly_capacity_h"] == 60.0
    a_year_ago = capacity_days(world.people, world.time_off, date(2025, 12, 1), date(2025, 12, 7))
    assert a_year_ago.loc[a_year_ago["person_gid"] == "p1", "capacity_h"].sum() == 40.0


def test_capacity_change_to_zero_leaves_no_capacity_from_start():
    after = _load(CapacityChange("p2", 0.0, W49).apply(_world()))

    assert _weeks(after, "p2", "capacity_h") == [12.0, 0.0, 0.0, 0.0]


def test_capacity_change_respects_a_four_day_week():
    people = _people()
    people.loc[people["gid"] == "p1", "workdays"] = "1111000"
    world = CapacityChange("p1", 16.0, W50).apply(_world(people=people))

    assert _weeks(_load(world), "p1", "capacity_h") == [20.0, 40.0, 16.0, 16.0]


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # The later transform wins from its own start on.
        ((50.0, W51), (30.0, W50), [24.0, 40.0, 30.0, 30.0]),
        ((30.0, W50), (50.0, W51), [24.0, 40.0, 30.0, 50.0]),
        ((20.0, W49), (40.0, W50), [24.0, 20.0, 40.0, 40.0]),
        ((60.0, W49), (10.0, W51), [24.0, 60.0, 60.0, 10.0]),
    ],
)
def test_capacity_changes_compose_in_order_the_latest_winning_from_its_start(
    first, second, expected
):
    world = apply_all(_world(), [CapacityChange("p1", *first), CapacityChange("p1", *second)])

    assert _weeks(_load(world), "p1", "capacity_h") == expected


# --- NewHire -----------------------------------------------------------------------------------


def test_new_hire_has_capacity_only_from_start():
    world = NewHire("p9", "Zoe", (("backend", 3),), 32.0, W50, team="Platform").apply(_world())

    assert _weeks(_load(world), "p9", "capacity_h") == [0.0, 0.0, 32.0, 32.0]
    hire = world.people.set_index("gid").loc["p9"]
    assert (hire["name"], hire["team"], hire["skills"], bool(hire["is_active"])) == (
        "Zoe",
        "Platform",
        (("backend", 3),),
        True,
    )


# --- RemoveTask / DeferTask --------------------------------------------------------------------


def test_remove_task_takes_its_hours_out_of_the_load_and_the_dependencies():
    world = _world()

    after = RemoveTask("ta").apply(world)

    assert _weeks(_load(after), "p1") == [0.0, 0.0, 0.0, 0.0]
    assert _load(after).scheduled_h == _load(world).scheduled_h - 20.0
    assert "ta" not in set(after.tasks["gid"])
    assert _task(after, "tb")["depends_on"] == ()


def test_defer_task_starts_at_until_and_keeps_its_working_days():
    world = DeferTask("ta", until=date(2026, 12, 16)).apply(_world())

    assert _task(world, "ta")[["start_on", "due_on"]].tolist() == [
        pd.Timestamp(2026, 12, 16),
        pd.Timestamp(2026, 12, 22),
    ]
    load = _load(world, weeks=5)
    assert _weeks(load, "p1") == [0.0, 0.0, 0.0, 12.0]
    assert _cell(load, "p1", W52) == 8.0


def test_defer_task_leaves_a_task_that_already_starts_after_until():
    world = _world()

    after = DeferTask("tb", until=W49).apply(world)

    pd.testing.assert_frame_equal(after.tasks, world.tasks)


def test_defer_task_gives_a_due_only_task_its_lead_window_from_until():
    world = DeferTask("tc", until=W50).apply(_world())

    assert _task(world, "tc")[["start_on", "due_on"]].tolist() == [
        pd.Timestamp(W50),
        pd.Timestamp(2026, 12, 11),
    ]
    assert _weeks(_load(world), "p3") == [0.0, 0.0, 16.0, 0.0]


# --- purity and composition --------------------------------------------------------------------

TRANSFORMS: list[Transform] = [
    PersonOut("p1", W49, W50),
    NewProject("Apollo", {"backend": 30.0, "ml": 5.0}, start=W50, end=W51),
    NewProject("Hermes", tasks=tasks_frame(a_task(gid="h1", due_on=W51))),
    Shift(5, project_gid="billing"),
    Shift(-2, task_gid="tc"),
    CapacityChange("p1", 20.0, W50),
    CapacityChange("p2", 30.0, W50),
    CapacityChange("p1", 30.0, W51),
    NewHire("p9", "Zoe", (("backend", 3),), 40.0, W50),
    RemoveTask("ta"),
    DeferTask("tb", until=W51),
]


def _frames(world: World) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return world.people, world.tasks, world.time_off


def _lived_in() -> World:
    """A world earlier what-ifs already changed: capacity rows, a hire, a project."""
    return apply_all(
        _world(),
        [
            CapacityChange("p1", 30.0, W49),
            CapacityChange("p2", 25.0, W49),
            NewHire("p8", "Yan", (("data", 2),), 20.0, W49),
            NewProject("Zeus", {"data": 10.0}, start=W49, end=W50),
        ],
    )


@pytest.mark.parametrize("make_world", [_world, _lived_in])
@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: type(t).__name__)
def test_transforms_leave_the_input_world_unchanged(transform, make_world):
    world = make_world()
    kept = copy.deepcopy(_frames(world))
    notes = world.notes

    after = transform.apply(world)
    for frame in _frames(after):  # the result shares nothing the caller could see change
        frame.iloc[:, 0] = "mutated"

    for frame, original in zip(_frames(world), kept, strict=True):
        pd.testing.assert_frame_equal(frame, original)
    assert (world.today, world.notes) == (TODAY, notes)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: type(t).__name__)
def test_transforms_change_the_world_they_return(transform):
    world = _world()

    after = transform.apply(world)

    assert any(not a.equals(b) for a, b in zip(_frames(after), _frames(world), strict=True)), (
        transform
    )


def _outcome(run: Callable[[], World]) -> tuple[pd.DataFrame, ...] | str:
    try:
        world = run()
    except ScenarioError as error:
        return str(error)
    return (*_frames(world), pd.DataFrame({"notes": world.notes}))


@settings(max_examples=40, deadline=None, database=None)
@given(st.lists(st.sampled_from(TRANSFORMS), max_size=4))
def test_apply_all_equals_sequential_application_and_leaves_the_input_unchanged(chosen):
    world = _world()
    kept = copy.deepcopy(_frames(world))

    def sequential() -> World:
        current = world
        for transform in chosen:
            current = transform.apply(current)
        return current

    composed, stepped = _outcome(lambda: apply_all(world, chosen)), _outcome(sequential)

    if isinstance(composed, str):
        assert composed == stepped
    else:
        assert not isinstance(stepped, str)
        for a, b in zip(composed, stepped, strict=True):
            pd.testing.assert_frame_equal(a, b)
    for frame, original in zip(_frames(world), kept, strict=True):
        pd.testing.assert_frame_equal(frame, original)


def test_apply_all_order_matters_when_a_hire_joins_before_a_project_is_split():
    hire = NewHire("p9", "Zoe", (("backend", 3),), 40.0, W49)
    project = NewProject("Apollo", {"backend": 100.0}, start=W50, end=W51)

    hired_first = apply_all(_world(), [hire, project])
    split_first = apply_all(_world(), [project, hire])

    def shares(world: World) -> dict[str, float]:
        new = world.tasks.loc[world.tasks["project_gid"] == "whatif:Apollo"]
        return dict(zip(new["assignee_gid"], new["remaining_h"], strict=True))

    assert shares(hired_first) == {"p1": 40.0, "p2": 20.0, "p9": 40.0}
    assert shares(split_first) == {"p1": pytest.approx(200 / 3), "p2": pytest.approx(100 / 3)}


def test_apply_all_commutes_for_changes_to_different_things():
    out, shift = PersonOut("p2", W50, W50), Shift(5, project_gid="billing")

    one = apply_all(_world(), [out, shift])
    other = apply_all(_world(), [shift, out])

    for a, b in zip(_frames(one), _frames(other), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_apply_all_keeps_the_notes_of_every_transform_in_order():
    world = apply_all(
        _world(a_task(gid="old", project_gid="legacy", completed=True, remaining_h=0.0)),
        [
            Shift(1, project_gid="legacy"),
            NewProject("Apollo", {"ml": 8.0}, start=W50, end=W50),
        ],
    )

    assert world.notes == (
        "Project legacy has no open tasks: nothing moved",
        "New project Apollo: nobody in the pool has skill 'ml', so its 8 h are one unassigned task",
    )


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PersonOut("p1", W50, W49), "PersonOut: start 2026-12-07 is after end 2026-11-30"),
        (
            lambda: NewProject("Apollo", {"backend": -5.0}, start=W49, end=W50),
            "NewProject: hours for skill 'backend' must be positive (got -5.0)",
        ),
        (
            lambda: NewProject("Apollo", {"backend": 5.0}, start=W50, end=W49),
            "NewProject: start 2026-12-07 is after end 2026-11-30",
        ),
        (lambda: NewProject("Apollo"), "NewProject: give either hours_by_skill or tasks"),
        (
            lambda: NewProject("Apollo", {"backend": 5.0}, tasks=tasks_frame()),
            "NewProject: give either hours_by_skill or tasks",
        ),
        (
            lambda: NewProject("Apollo", {"backend": 5.0}),
            "NewProject: hours_by_skill needs start and end",
        ),
        (
            lambda: NewProject("Apollo", {}, start=W49, end=W50),
            "NewProject: hours_by_skill is empty",
        ),
        (
            lambda: NewProject(" ", {"backend": 5.0}, start=W49, end=W50),
            "NewProject: name must not be empty",
        ),
        (
            lambda: NewProject("Apollo", {"backend": 5.0}, start=W49, end=W50, pool=()),
            "NewProject: pool must be a non-empty list of person gids",
        ),
        (
            lambda: NewProject("Apollo", tasks=tasks_frame(), start=W49),
            "NewProject: start, end and pool go with hours_by_skill only",
        ),
        (lambda: Shift(5), "Shift: give either project_gid or task_gid"),
        (
            lambda: Shift(5, project_gid="billing", task_gid="ta"),
            "Shift: give either project_gid or task_gid",
        ),
        (lambda: Shift(1.5, task_gid="ta"), "Shift: working_days must be a whole number (got 1.5)"),  # type: ignore[arg-type]
        (
            lambda: CapacityChange("p1", -1.0, W50),
            "CapacityChange: weekly_hours must not be negative (got -1.0)",
        ),
        (
            lambda: CapacityChange("p1", math.nan, W50),
            "CapacityChange: weekly_hours must not be negative (got nan)",
        ),
        (
            lambda: NewHire("p9", "Zoe", (("backend", 6),), 40.0, W50),
            "NewHire: level of skill 'backend' must be 1..5 (got 6)",
        ),
        (
            lambda: NewHire("p9", "Zoe", (), -40.0, W50),
            "NewHire: weekly_hours must not be negative (got -40.0)",
        ),
        (lambda: DeferTask("ta", W50, lead_days=0), "DeferTask: lead_days must be >= 1 (got 0)"),
    ],
)
def test_transforms_reject_bad_arguments_with_a_precise_message(make, message):
    with pytest.raises(ScenarioError, match=f"^{re.escape(message)}$"):
        make()


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (PersonOut("nobody", W49, W50), "PersonOut: unknown person 'nobody'"),
        (
            NewProject("Apollo", {"backend": 5.0}, start=W49, end=W50, pool=("p1", "p7")),
            "NewProject: unknown person 'p7'",
        ),
        (
            NewProject("Apollo", {"backend": 5.0}, start=W49, end=W50, pool=("p4",)),
            "NewProject: person 'p4' in the pool is not active",
        ),
        (
            NewProject("Apollo", tasks=tasks_frame(a_task(gid="whatif:x", assignee_gid="p7"))),
            "NewProject: task 'whatif:x' is assigned to unknown person 'p7'",
        ),
        (Shift(5, project_gid="nope"), "Shift: unknown project 'nope'"),
        (Shift(5, task_gid="nope"), "Shift: unknown task 'nope'"),
        (Shift(5, task_gid="done"), "Shift: task 'done' is completed; completed tasks never move"),
        (CapacityChange("nobody", 20.0, W50), "CapacityChange: unknown person 'nobody'"),
        (CapacityChange("p4", 20.0, W50), "CapacityChange: person 'p4' is not active"),
        (NewHire("p1", "Ada again", (), 40.0, W50), "NewHire: person 'p1' already exists"),
        (RemoveTask("nope"), "RemoveTask: unknown task 'nope'"),
        (DeferTask("nope", W50), "DeferTask: unknown task 'nope'"),
        (
            DeferTask("done", W50),
            "DeferTask: task 'done' is completed; completed tasks never move",
        ),
    ],
)
def test_transforms_reject_what_the_world_does_not_hold(transform, message):
    with pytest.raises(ScenarioError, match=f"^{re.escape(message)}$"):
        transform.apply(_world())


def test_new_project_refuses_to_be_added_twice():
    project = NewProject("Apollo", {"backend": 5.0}, start=W49, end=W50)

    with pytest.raises(ScenarioError, match=re.escape("project 'whatif:Apollo' already exists")):
        apply_all(_world(), [project, project])


def test_new_project_refuses_tasks_whose_prefixed_gids_exist():
    world = _world(a_task(gid="whatif:h1"))

    with pytest.raises(
        ScenarioError, match=re.escape("NewProject: task 'whatif:h1' already exists")
    ):
        NewProject("Hermes", tasks=tasks_frame(a_task(gid="h1"))).apply(world)


# --- describe ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transform", "with_world", "without_world"),
    [
        (
            PersonOut("p1", W49, date(2026, 12, 4)),
            "Ada is out from 30 Nov 2026 to 4 Dec 2026",
            "p1 is out from 30 Nov 2026 to 4 Dec 2026",
        ),
        (PersonOut("p1", W49, W49), "Ada is out on 30 Nov 2026", "p1 is out on 30 Nov 2026"),
        (
            NewProject("Apollo", {"backend": 120.0, "data": 40.0}, start=W49, end=W51),
            "New project Apollo: 120 h backend and 40 h data from 30 Nov 2026 to 14 Dec 2026",
            "New project Apollo: 120 h backend and 40 h data from 30 Nov 2026 to 14 Dec 2026",
        ),
        (
            NewProject("Hermes", tasks=tasks_frame(a_task(), a_task(remaining_h=4.5))),
            "New project Hermes: 2 tasks, 12.5 h",
            "New project Hermes: 2 tasks, 12.5 h",
        ),
        (
            Shift(5, project_gid="billing"),
            "Open tasks of project billing move 5 working days later",
            "Open tasks of project billing move 5 working days later",
        ),
        (
            Shift(-1, task_gid="ta"),
            "Task Invoice export moves 1 working day earlier",
            "Task ta moves 1 working day earlier",
        ),
        (
            CapacityChange("p2", 10.0, W50),
            "Ben works 10 h a week from 7 Dec 2026",
            "p2 works 10 h a week from 7 Dec 2026",
        ),
        (
            NewHire("p9", "Zoe", (("backend", 3), ("data", 2)), 32.0, W50),
            "New hire Zoe (backend, data) works 32 h a week from 7 Dec 2026",
            "New hire Zoe (backend, data) works 32 h a week from 7 Dec 2026",
        ),
        (RemoveTask("ta"), "Task Invoice export is dropped", "Task ta is dropped"),
        (
            DeferTask("tb", W51),
            "Task Rate limiter starts no earlier than 14 Dec 2026",
            "Task tb starts no earlier than 14 Dec 2026",
        ),
    ],
)
def test_describe_is_one_plain_line_naming_people_and_tasks_from_the_world(
    transform, with_world, without_world
):
    assert (transform.describe(_world()), transform.describe()) == (with_world, without_world)


# --- compare -----------------------------------------------------------------------------------


def _pushed_over() -> tuple[World, World]:
    world = _world()
    # Ben (20 h a week) already has 10 h in week 50; 30 h more of backend put him at 40 h.
    project = NewProject(
        "Apollo", {"backend": 30.0}, start=W50, end=date(2026, 12, 11), pool=["p2"]
    )
    return world, project.apply(world)


def test_compare_lists_exactly_the_person_week_pushed_over_as_newly_over():
    world, after = _pushed_over()

    diff = compare(_forecast(world), _forecast(after), after.people)

    assert diff.newly_over == [("p2", W50)]
    assert diff.relieved == []
    first = diff.changes.iloc[0]
    assert (
        first["person_gid"],
        first["week_start"],
        first["status_before"],
        first["status_after"],
    ) == (
        "p2",
        pd.Timestamp(W50),
        "ok",
        "over",
    )
    assert (first["mean_h_before"], first["mean_h_after"], first["delta_h"]) == (10.0, 40.0, 30.0)
    assert (first["p_over_before"], first["p_over_after"]) == (0.0, 1.0)
    assert len(diff.changes) == 1


def test_compare_lists_the_person_weeks_relieved_when_the_scenario_is_undone():
    world, after = _pushed_over()

    diff = compare(_forecast(after), _forecast(world), world.people)

    assert diff.relieved == [("p2", W50)]
    assert diff.newly_over == []


def test_compare_shows_a_new_hire_with_nothing_before():
    world = _world()
    after = NewHire("p9", "Zoe", (("backend", 3),), 40.0, W50).apply(world)

    diff = compare(_forecast(world), _forecast(after), after.people)

    hire = diff.rows.loc[diff.rows["person_gid"] == "p9"]
    assert len(hire) == 4
    assert hire["status_before"].tolist() == [None] * 4
    assert hire["mean_h_before"].isna().all()
    assert hire["status_after"].tolist() == ["off", "off", "under", "under"]
    assert diff.added_people == ["p9"]
    assert set(diff.changes["person_gid"]) == {"p9"}
    assert diff.newly_over == []


def test_compare_counts_a_mean_move_as_a_change_from_min_change_h():
    world = _world()
    after = _world(
        a_task(gid="small", assignee_gid="p1", start_on=W50, due_on=W50, remaining_h=0.5)
    )

    default = compare(_forecast(world), _forecast(after), after.people)
    finer = compare(_forecast(world), _forecast(after), after.people, min_change_h=0.5)

    assert default.changes.empty
    assert finer.changes[["person_gid", "week_start", "delta_h"]].values.tolist() == [
        ["p1", pd.Timestamp(W50), 0.5]
    ]


def test_compare_sorts_the_most_severe_changes_first():
    # Ada is already over in week 49 (50 h of 40).
    world = _world(
        a_task(
            gid="big", assignee_gid="p1", start_on=W49, due_on=date(2026, 12, 4), remaining_h=30.0
        )
    )
    after = apply_all(
        world,
        [
            NewProject("Small", {"data": 4.0}, start=W51, end=W51, pool=["p3"]),  # mean only
            NewProject("More", {"backend": 10.0}, start=W49, end=W49, pool=["p1"]),  # over, still
            NewProject("Risky", {"backend": 36.0}, start=W51, end=W51, pool=["p1"]),  # at risk
            NewProject("Big", {"backend": 30.0}, start=W50, end=W50, pool=["p2"]),  # over
        ],
    )

    diff = compare(_forecast(world), _forecast(after), after.people)

    order = diff.changes[["person_gid", "week_start", "status_before", "status_after"]]
    assert order.values.tolist() == [
        ["p2", pd.Timestamp(W50), "ok", "over"],
        ["p1", pd.Timestamp(W51), "under", "at_risk"],
        ["p1", pd.Timestamp(W49), "over", "over"],
        ["p3", pd.Timestamp(W51), "under", "under"],
    ]


def test_compare_summary_names_who_goes_over():
    world, after = _pushed_over()

    diff = compare(_forecast(world), _forecast(after), after.people)

    assert (
        diff.summary() == "Over capacity: Ben (week of 7 Dec 2026). 1 person-week changes in all."
    )


def test_compare_summary_says_so_when_nothing_changes():
    world = _world()

    diff = compare(_forecast(world), _forecast(world), world.people)

    assert diff.rows["delta_h"].eq(0.0).all()
    assert diff.summary() == "No person-week changes status or moves by 1 h or more."


def test_compare_summary_cuts_long_lists():
    world = _world()
    after = NewProject("Flood", {"backend": 600.0, "data": 600.0}, start=W49, end=W51).apply(world)

    diff = compare(_forecast(world), _forecast(after), after.people)

    # Cleo is off on 14 Dec, the range's last day, so her week 51 stays free.
    assert len(diff.newly_over) == 7
    assert diff.summary(limit=2) == (
        "Over capacity: Cleo (week of 30 Nov 2026), Cleo (week of 7 Dec 2026) and 5 more. "
        "8 person-weeks change in all."
    )


def test_compare_rejects_a_negative_threshold():
    world = _world()

    with pytest.raises(
        ScenarioError, match=re.escape("compare: min_change_h must not be negative (got -1.0)")
    ):
        compare(_forecast(world), _forecast(world), world.people, min_change_h=-1.0)


def test_compare_is_pure():
    world, after = _pushed_over()
    before_forecast, after_forecast = _forecast(world), _forecast(after)
    kept = before_forecast.weekly.copy(deep=True), after_forecast.weekly.copy(deep=True)

    compare(before_forecast, after_forecast, after.people)

    pd.testing.assert_frame_equal(before_forecast.weekly, kept[0])
    pd.testing.assert_frame_equal(after_forecast.weekly, kept[1])
