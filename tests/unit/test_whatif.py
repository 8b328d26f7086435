from __future__ import annotations

from datetime import date

from forecasting.forecast import Forecast, forecast_load
from forecasting.rebalance_plan import RebalanceOptions
from forecasting.scenarios import NewHire, NewProject, World
from forecasting.whatif import answer_what_if
from tests.builders import a_person, a_task, people_frame, tasks_frame, time_off_frame

TODAY = date(2026, 11, 25)
MON, FRI = date(2026, 11, 30), date(2026, 12, 4)


def a_world() -> World:
    people = people_frame(
        a_person(gid="ada", name="Ada", skills=(("backend", 4),)),
        a_person(gid="ben", name="Ben", skills=(("backend", 4),)),
    )
    tasks = tasks_frame(
        a_task(gid="a1", assignee_gid="ada", remaining_h=30.0, start_on=MON, due_on=FRI)
    )
    return World.from_frames(people, tasks, time_off_frame(), today=TODAY)


def forecast(world: World) -> Forecast:
    return forecast_load(world.people, world.tasks, world.time_off, today=TODAY, weeks=2)


def test_answer_what_if_names_who_goes_over_and_the_moves_that_would_relieve_them():
    project = NewProject("Audit", {"backend": 20.0}, MON, FRI, pool=("ada",))

    answer = answer_what_if(
        a_world(), [project], forecast, rebalance_options=RebalanceOptions(pool=("ada", "ben"))
    )

    assert answer.diff.newly_over == [("ada", MON)]
    assert answer.plan is not None
    assert [(m.from_gid, m.to_gid) for m in answer.plan.moves] == [("ada", "ben")]
    assert answer.plan.overload_after_h == 0.0
    assert answer.scenario == (project.describe(a_world()),)


def test_answer_what_if_lets_the_rebalancer_use_a_new_hire():
    hire = NewHire("zoe", "Zoe", (("backend", 5),), 40.0, date(2026, 11, 23))
    world = a_world()
    people = world.people.assign(skills=[(("backend", 4),), (("frontend", 4),)])
    busy = World.from_frames(people, world.tasks, world.time_off, today=TODAY)
    project = NewProject("Audit", {"backend": 20.0}, MON, FRI, pool=("ada",))

    answer = answer_what_if(
        busy, [hire, project], forecast, rebalance_options=RebalanceOptions(pool=("ada", "ben"))
    )

    assert answer.plan is not None
    assert {m.to_gid for m in answer.plan.moves} == {"zoe"}


def test_answer_what_if_leaves_the_input_world_unchanged():
    world = a_world()
    before = world.tasks.copy()

    answer_what_if(world, [NewProject("Audit", {"backend": 20.0}, MON, FRI)], forecast)

    assert world.tasks.equals(before)
