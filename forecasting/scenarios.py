"""What-if scenarios: pure, composable transforms of the planning world.

A transform returns a new :class:`World` and never mutates the one it is given;
:mod:`forecasting.whatif` turns the forecasts of two worlds into the answer. The world and the
helpers every transform shares live in :mod:`forecasting.scenario_world`, the new-project
transform in :mod:`forecasting.scenario_project`; this module holds the others and is the one
to import (``__all__``). Pure pandas/numpy over the frame contracts; must not import ``bot``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from forecasting import frames
from forecasting.calendar import weekday_masks
from forecasting.scenario_project import NewProject
from forecasting.scenario_world import (
    HORIZON,
    MON_FRI,
    ONE_DAY,
    SOURCE,
    WHATIF,
    ScenarioError,
    Transform,
    World,
    add_working_days,
    appended,
    apply_all,
    contract_columns,
    day_text,
    person_name,
    person_row,
    plural,
    task_name,
    task_row,
    time_off_rows,
    with_dates,
)

__all__ = [
    "HORIZON",
    "SOURCE",
    "WHATIF",
    "CapacityChange",
    "DeferTask",
    "NewHire",
    "NewProject",
    "PersonOut",
    "RemoveTask",
    "ScenarioError",
    "Shift",
    "Transform",
    "World",
    "apply_all",
]


@dataclass(frozen=True)
class PersonOut:
    """``person_gid`` takes whole days off from ``start`` to ``end`` inclusive."""

    person_gid: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ScenarioError(f"PersonOut: start {self.start} is after end {self.end}")

    def apply(self, world: World) -> World:
        person_row(world, self.person_gid, "PersonOut")
        leave = time_off_rows([(self.person_gid, self.start, self.end, None)], "out")
        return world.replace(time_off=appended(world.time_off, leave))

    def describe(self, world: World | None = None) -> str:
        who = person_name(world, self.person_gid)
        if self.start == self.end:
            return f"{who} is out on {day_text(self.start)}"
        return f"{who} is out from {day_text(self.start)} to {day_text(self.end)}"


@dataclass(frozen=True)
class Shift:
    """Move start and due dates of a project's open tasks, or of one task, by working days.

    Working days are Monday-Friday (``numpy.busday_offset``, no holidays); negative moves
    earlier. A date on a weekend moves to the N-th working day after (or before) it. Completed
    tasks never move; locked tasks do (the lock binds the rebalancer, not a what-if).
    """

    working_days: int
    project_gid: str | None = None
    task_gid: str | None = None

    def __post_init__(self) -> None:
        if (self.project_gid is None) == (self.task_gid is None):
            raise ScenarioError("Shift: give either project_gid or task_gid")
        if isinstance(self.working_days, bool) or not isinstance(self.working_days, int):
            raise ScenarioError(
                f"Shift: working_days must be a whole number (got {self.working_days!r})"
            )

    def apply(self, world: World) -> World:
        tasks = world.tasks
        open_ = ~tasks["completed"].to_numpy(bool)
        if self.task_gid is not None:
            row = task_row(world, self.task_gid, "Shift")
            if not open_[row]:
                raise ScenarioError(
                    f"Shift: task {self.task_gid!r} is completed; completed tasks never move"
                )
            chosen = np.arange(len(tasks)) == row
        else:
            in_project = (tasks["project_gid"] == self.project_gid).to_numpy(bool)
            if not in_project.any():
                raise ScenarioError(f"Shift: unknown project {self.project_gid!r}")
            chosen = in_project & open_
            if not chosen.any():
                note = f"Project {self.project_gid} has no open tasks: nothing moved"
                return world.replace(notes=[note])
        moved = tasks.copy()
        for column in ("start_on", "due_on"):
            moved.loc[chosen, column] = add_working_days(
                tasks.loc[chosen, column], self.working_days
            )
        return world.replace(tasks=moved)

    def describe(self, world: World | None = None) -> str:
        one = self.task_gid is not None
        if self.task_gid is not None:
            subject = f"Task {task_name(world, self.task_gid)}"
        else:
            subject = f"Open tasks of project {self.project_gid}"
        n = abs(self.working_days)
        if n == 0:
            return f"{subject} {'does' if one else 'do'} not move"
        way = "later" if self.working_days > 0 else "earlier"
        return f"{subject} move{'s' if one else ''} {n} working day{plural(n)} {way}"


@dataclass(frozen=True)
class CapacityChange:
    """``person_gid`` works ``weekly_hours`` a week from ``start`` on (part time, or more).

    The people contract holds one weekly capacity, so the change is written as time off:

    * a reduction is partial time off from ``start`` for :data:`HORIZON` (two years; the
      contract applies again after it) of ``(contract - weekly_hours) / working days`` hours
      per working day of the person's mask;
    * an increase raises ``weekly_capacity_h`` to ``weekly_hours`` and adds partial time off of
      the difference per working day over the :data:`HORIZON` before ``start``, so capacity
      before ``start`` is unchanged.

    The latest change wins from its start: the rows of earlier changes of the same person are
    cut at the day before ``start``. Leave, holidays and the days of the mask still apply.
    """

    person_gid: str
    weekly_hours: float
    start: date

    def __post_init__(self) -> None:
        if not math.isfinite(self.weekly_hours) or self.weekly_hours < 0:
            raise ScenarioError(
                f"CapacityChange: weekly_hours must not be negative (got {self.weekly_hours})"
            )

    def apply(self, world: World) -> World:
        row = person_row(world, self.person_gid, "CapacityChange")
        people = world.people
        if not bool(people.at[row, "is_active"]):
            raise ScenarioError(f"CapacityChange: person {self.person_gid!r} is not active")
        masks, _ = weekday_masks(people["workdays"].iloc[[row]], people["gid"].iloc[[row]])
        n_days = int(masks.sum())
        if n_days == 0:
            raise ScenarioError(f"CapacityChange: person {self.person_gid!r} has no working days")

        time_off = world.time_off
        cut = pd.Timestamp(self.start)
        earlier = (time_off["person_gid"] == self.person_gid).to_numpy(bool)
        sources = time_off.get(SOURCE, pd.Series(None, index=time_off.index, dtype=object))
        earlier = earlier & (sources == "capacity").to_numpy(bool)
        dropped = earlier & (time_off["start_on"] >= cut).to_numpy(bool)
        clipped = earlier & ~dropped & (time_off["end_on"] >= cut).to_numpy(bool)
        time_off = time_off.copy()
        time_off.loc[clipped, "end_on"] = cut - ONE_DAY
        time_off = time_off.loc[~dropped]

        contract = float(people["weekly_capacity_h"].to_numpy(np.float64)[row])
        per_day = abs(contract - self.weekly_hours) / n_days
        if self.weekly_hours < contract:
            window = (self.start, self.start + HORIZON - timedelta(days=1))
        elif self.weekly_hours > contract:
            window = (self.start - HORIZON, self.start - timedelta(days=1))
            people = people.copy()
            people.loc[row, "weekly_capacity_h"] = float(self.weekly_hours)
        else:
            return world.replace(people=people, time_off=time_off)
        change = time_off_rows([(self.person_gid, *window, per_day)], "capacity")
        return world.replace(people=people, time_off=appended(time_off, change))

    def describe(self, world: World | None = None) -> str:
        who = person_name(world, self.person_gid)
        return f"{who} works {self.weekly_hours:g} h a week from {day_text(self.start)}"


@dataclass(frozen=True)
class NewHire:
    """A new active person from ``start``, with no capacity in the :data:`HORIZON` before it.

    ``skills`` are ``(skill, level 1..5)`` pairs; the hire works Monday-Friday with no public
    holidays.
    """

    gid: str
    name: str
    skills: Sequence[tuple[str, int]]
    weekly_hours: float
    start: date
    team: str | None = None

    def __post_init__(self) -> None:
        if not self.gid.strip() or not self.name.strip():
            raise ScenarioError("NewHire: gid and name must not be empty")
        if not math.isfinite(self.weekly_hours) or self.weekly_hours < 0:
            raise ScenarioError(
                f"NewHire: weekly_hours must not be negative (got {self.weekly_hours})"
            )
        skills = tuple((str(skill), level) for skill, level in self.skills)
        for skill, level in skills:
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
                raise ScenarioError(
                    f"NewHire: level of skill {skill!r} must be 1..5 (got {level!r})"
                )
        object.__setattr__(self, "skills", skills)

    def apply(self, world: World) -> World:
        if bool((world.people["gid"] == self.gid).any()):
            raise ScenarioError(f"NewHire: person {self.gid!r} already exists")
        person = {
            "gid": self.gid,
            "name": self.name,
            "email": None,
            "team": self.team,
            "weekly_capacity_h": float(self.weekly_hours),
            "workdays": frames.FULL_WEEK,
            "timezone": None,
            "country": None,
            "skills": self.skills,
            "is_active": True,
        }
        row = frames.validate("people", pd.DataFrame([person], columns=contract_columns("people")))
        before = time_off_rows(
            [(self.gid, self.start - HORIZON, self.start - timedelta(days=1), None)], "hire"
        )
        return world.replace(
            people=appended(world.people, row), time_off=appended(world.time_off, before)
        )

    def describe(self, world: World | None = None) -> str:
        skills = f" ({', '.join(s for s, _ in self.skills)})" if self.skills else ""
        return (
            f"New hire {self.name}{skills} works {self.weekly_hours:g} h a week "
            f"from {day_text(self.start)}"
        )


@dataclass(frozen=True)
class RemoveTask:
    """The task is dropped, and with it the other tasks' dependencies on it."""

    task_gid: str

    def apply(self, world: World) -> World:
        row = task_row(world, self.task_gid, "RemoveTask")
        tasks = world.tasks.drop(index=row).reset_index(drop=True)
        tasks["depends_on"] = [
            tuple(d for d in deps if d != self.task_gid) for deps in tasks["depends_on"]
        ]
        return world.replace(tasks=tasks)

    def describe(self, world: World | None = None) -> str:
        return f"Task {task_name(world, self.task_gid)} is dropped"


@dataclass(frozen=True)
class DeferTask:
    """The open task starts no earlier than ``until``, keeping its length in working days.

    Working days are Monday-Friday. A task already starting on or after ``until`` is left as
    it is. A task with start and due dates gets ``start_on = until`` and the due date as many
    working days later as it had (counting both ends). A due-only task is taken to start
    ``lead_days`` working days before its due date (the committed load's lead window); if that
    is before ``until`` it gets ``start_on = until`` and a due date ``lead_days`` working days
    on. A task without a due date only gets its start moved.
    """

    task_gid: str
    until: date
    lead_days: int = 5

    def __post_init__(self) -> None:
        if self.lead_days < 1:
            raise ScenarioError(f"DeferTask: lead_days must be >= 1 (got {self.lead_days})")

    def apply(self, world: World) -> World:
        row = task_row(world, self.task_gid, "DeferTask")
        task = world.tasks.loc[row]
        if bool(task["completed"]):
            raise ScenarioError(
                f"DeferTask: task {self.task_gid!r} is completed; completed tasks never move"
            )
        until = np.datetime64(self.until, "D")
        start, due = task["start_on"], task["due_on"]
        if pd.isna(due):
            if pd.notna(start) and np.datetime64(start, "D") >= until:
                return world.replace()
            return world.replace(tasks=with_dates(world.tasks, row, until, None))
        due_day = np.datetime64(due, "D")
        if pd.isna(start):
            first = np.busday_offset(
                due_day, -(self.lead_days - 1), roll="backward", weekmask=MON_FRI
            )
            length = self.lead_days
        else:
            first = np.datetime64(start, "D")
            length = int(np.busday_count(first, due_day + 1, weekmask=MON_FRI))
        if first >= until:
            return world.replace()
        new_due = np.busday_offset(until, max(length - 1, 0), roll="forward", weekmask=MON_FRI)
        new_due = max(new_due, until)  # a zero-length task on a weekend stays on ``until``
        return world.replace(tasks=with_dates(world.tasks, row, until, new_due))

    def describe(self, world: World | None = None) -> str:
        return (
            f"Task {task_name(world, self.task_gid)} starts no earlier than {day_text(self.until)}"
        )
