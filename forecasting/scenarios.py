"""What-if scenarios: pure, composable transforms of the planning world.

A transform returns a new :class:`World` and never mutates the one it is given;
:mod:`forecasting.whatif` turns the forecasts of two worlds into the answer. Pure pandas/numpy
over the frame contracts; must not import ``bot``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Protocol

import numpy as np
import pandas as pd

from forecasting import frames
from forecasting.calendar import weekday_masks

WHATIF = "whatif:"  # gid prefix of hypothetical tasks and projects: never written to Asana
SOURCE = "whatif"  # extra time_off column: the transform kind that added the row, None if real
HORIZON = timedelta(days=730)  # reach of capacity changes and of a hire's absence before start
_MON_FRI = "1111100"  # Shift and DeferTask count working days Monday-Friday, no holidays
_DAY = pd.Timedelta(days=1)


class ScenarioError(ValueError):
    """A transform's arguments are invalid, or do not fit the world it is applied to."""


@dataclass(frozen=True, eq=False)
class World:
    """The planning inputs of one what-if: frames in the contracts of :mod:`forecasting.frames`.

    Frames are validated (and so copied) on construction; people and task gids must be unique.

    Attributes:
        people, tasks, time_off: the frame contracts. ``time_off`` may carry an extra
            ``whatif`` column naming the transform kind that added a row (None for real rows).
        today: the reference date of forecasts of this world.
        notes: facts a transform could not express in the frames (e.g. a skill nobody has),
            one plain sentence each, in the order the transforms were applied.
    """

    people: pd.DataFrame
    tasks: pd.DataFrame
    time_off: pd.DataFrame
    today: date
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for contract in ("people", "tasks", "time_off"):
            object.__setattr__(self, contract, frames.validate(contract, getattr(self, contract)))
        for contract, frame in (("people", self.people), ("tasks", self.tasks)):
            duplicated = frame["gid"].duplicated()
            if bool(duplicated.any()):
                rows = [int(i) for i in duplicated[duplicated].index[:5]]
                raise frames.FrameError(f"{contract}.gid must be unique (rows {rows})")
        if SOURCE in self.time_off.columns:  # rows appended without the column hold NaN
            source = self.time_off[SOURCE].astype(object)
            self.time_off[SOURCE] = source.where(source.notna(), None)
        object.__setattr__(self, "notes", tuple(self.notes))

    @classmethod
    def from_frames(
        cls,
        people: pd.DataFrame,
        tasks: pd.DataFrame,
        time_off: pd.DataFrame | None = None,
        *,
        today: date,
    ) -> World:
        """A world of these frames; no time off when ``time_off`` is None."""
        return cls(people, tasks, frames.empty("time_off") if time_off is None else time_off, today)

    def replace(
        self,
        *,
        people: pd.DataFrame | None = None,
        tasks: pd.DataFrame | None = None,
        time_off: pd.DataFrame | None = None,
        notes: Sequence[str] = (),
    ) -> World:
        """A new world with the frames given replaced and ``notes`` appended."""
        return dataclasses.replace(
            self,
            people=self.people if people is None else people,
            tasks=self.tasks if tasks is None else tasks,
            time_off=self.time_off if time_off is None else time_off,
            notes=(*self.notes, *notes),
        )


class Transform(Protocol):
    """One change to the world; implementations are frozen dataclasses."""

    def apply(self, world: World) -> World:
        """A new world with the change made; ``world`` is left as it was."""
        ...

    def describe(self, world: World | None = None) -> str:
        """One English line for messages; names come from ``world`` when given, else gids."""
        ...


def apply_all(world: World, transforms: Iterable[Transform]) -> World:
    """Apply ``transforms`` in order, each to the world the previous one returned."""
    return functools.reduce(lambda current, t: t.apply(current), transforms, world)


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
        _person_row(world, self.person_gid, "PersonOut")
        leave = _time_off([(self.person_gid, self.start, self.end, None)], "out")
        return world.replace(time_off=_append(world.time_off, leave))

    def describe(self, world: World | None = None) -> str:
        who = _person_name(world, self.person_gid)
        if self.start == self.end:
            return f"{who} is out on {_day(self.start)}"
        return f"{who} is out from {_day(self.start)} to {_day(self.end)}"


@dataclass(frozen=True, eq=False)  # compared by identity: it may hold a frame
class NewProject:
    """A project that does not exist yet, as effort by skill over a date range or as tasks.

    By skill (``hours_by_skill``, ``start``, ``end``): each skill's hours are split over the
    people of ``pool`` (person gids; default every active person) who have that skill, in
    proportion to their contracted ``weekly_capacity_h`` (leave in the range is not taken into
    account). Each share becomes one task ``whatif:<name>:<skill>:<person gid>`` in project
    ``whatif:<name>``, running from ``start`` to ``end`` with estimate = remaining = the share.
    A skill nobody in the pool has (or only people without capacity) becomes one unassigned task
    ``whatif:<name>:<skill>`` and a note on the returned world.

    As tasks (``tasks``, a tasks frame): the rows are added to project ``whatif:<name>``, their
    gids (and the dependencies among them) prefixed ``whatif:`` unless they already are.
    """

    name: str
    hours_by_skill: Mapping[str, float] | None = None
    start: date | None = None
    end: date | None = None
    pool: Sequence[str] | None = None
    tasks: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ScenarioError("NewProject: name must not be empty")
        if (self.hours_by_skill is None) == (self.tasks is None):
            raise ScenarioError("NewProject: give either hours_by_skill or tasks")
        if self.tasks is not None:
            if (self.start, self.end, self.pool) != (None, None, None):
                raise ScenarioError("NewProject: start, end and pool go with hours_by_skill only")
            tasks = frames.validate("tasks", self.tasks)
            duplicated = tasks["gid"].duplicated()
            if bool(duplicated.any()):
                raise ScenarioError(
                    f"NewProject: task gid {tasks.loc[duplicated, 'gid'].iloc[0]!r} repeats"
                )
            object.__setattr__(self, "tasks", tasks)
            return
        assert self.hours_by_skill is not None
        if self.start is None or self.end is None:
            raise ScenarioError("NewProject: hours_by_skill needs start and end")
        if self.end < self.start:
            raise ScenarioError(f"NewProject: start {self.start} is after end {self.end}")
        if not self.hours_by_skill:
            raise ScenarioError("NewProject: hours_by_skill is empty")
        for skill, hours in self.hours_by_skill.items():
            if not math.isfinite(hours) or hours <= 0:
                raise ScenarioError(
                    f"NewProject: hours for skill {skill!r} must be positive (got {hours})"
                )
        object.__setattr__(
            self,
            "hours_by_skill",
            MappingProxyType({str(s): float(h) for s, h in self.hours_by_skill.items()}),
        )
        if self.pool is not None:
            if isinstance(self.pool, str) or not self.pool:
                raise ScenarioError("NewProject: pool must be a non-empty list of person gids")
            object.__setattr__(self, "pool", tuple(self.pool))

    @property
    def project_gid(self) -> str:
        """The gid of the hypothetical project."""
        return WHATIF + self.name

    def apply(self, world: World) -> World:
        if bool((world.tasks["project_gid"] == self.project_gid).any()):
            raise ScenarioError(f"NewProject: project {self.project_gid!r} already exists")
        if self.tasks is not None:
            return world.replace(tasks=_append(world.tasks, self._given_tasks(world)))
        assert self.hours_by_skill is not None and self.start and self.end
        pool = self._pool(world)
        names = pool["skills"].map(_skill_names)
        capacity = pool["weekly_capacity_h"].to_numpy(np.float64)
        rows, notes = [], []
        for skill, hours in self.hours_by_skill.items():
            able = names.map(lambda have, s=skill: s in have).to_numpy(bool) & (capacity > 0)
            if not able.any():
                rows.append(self._task(f"{self.project_gid}:{skill}", skill, None, hours, world))
                notes.append(
                    f"New project {self.name}: nobody in the pool has skill {skill!r}, so its "
                    f"{hours:g} h are one unassigned task"
                )
                continue
            # Shares in proportion to contracted weekly hours (see the class docstring).
            shares = hours * capacity[able] / capacity[able].sum()
            for gid, share in zip(pool["gid"].to_numpy(object)[able], shares, strict=True):
                task_gid = f"{self.project_gid}:{skill}:{gid}"
                rows.append(self._task(task_gid, skill, str(gid), float(share), world))
        new = frames.validate("tasks", pd.DataFrame(rows, columns=_columns("tasks")))
        return world.replace(tasks=_append(world.tasks, new), notes=notes)

    def describe(self, world: World | None = None) -> str:
        if self.tasks is not None:
            hours = float(np.nansum(self.tasks["remaining_h"].to_numpy(np.float64)))
            count = len(self.tasks)
            return f"New project {self.name}: {count} task{_s(count)}, {hours:g} h"
        assert self.hours_by_skill is not None and self.start and self.end
        effort = _and([f"{h:g} h {s}" for s, h in self.hours_by_skill.items()])
        return f"New project {self.name}: {effort} from {_day(self.start)} to {_day(self.end)}"

    def _pool(self, world: World) -> pd.DataFrame:
        people = world.people
        if self.pool is None:
            return people.loc[people["is_active"].to_numpy(bool)]
        for gid in self.pool:
            row = _person_row(world, gid, "NewProject")
            if not bool(people.at[row, "is_active"]):
                raise ScenarioError(f"NewProject: person {gid!r} in the pool is not active")
        return people.loc[people["gid"].isin(list(self.pool)).to_numpy(bool)]

    def _task(
        self, gid: str, skill: str, assignee: str | None, hours: float, world: World
    ) -> dict[str, object]:
        return {
            "gid": gid,
            "name": f"{self.name} ({skill})",
            "assignee_gid": assignee,
            "project_gid": self.project_gid,
            "section": None,
            "start_on": self.start,
            "due_on": self.end,
            "estimate_h": hours,
            "actual_h": 0.0,
            "remaining_h": hours,
            "completed": False,
            "completed_at": None,
            "created_at": world.today,
            "modified_at": world.today,
            "priority": None,
            "required_skills": (skill,),
            "depends_on": (),
            "locked": False,
            "url": None,
        }

    def _given_tasks(self, world: World) -> pd.DataFrame:
        assert self.tasks is not None
        tasks = self.tasks.copy()
        renamed = {g: g if g.startswith(WHATIF) else WHATIF + g for g in tasks["gid"]}
        tasks["gid"] = tasks["gid"].map(renamed).astype(object)
        tasks["depends_on"] = [
            tuple(renamed.get(d, d) for d in deps) for deps in tasks["depends_on"]
        ]
        tasks["project_gid"] = self.project_gid
        clash = tasks["gid"].isin(world.tasks["gid"])
        if bool(clash.any()):
            raise ScenarioError(
                f"NewProject: task {tasks.loc[clash, 'gid'].iloc[0]!r} already exists"
            )
        assignee = tasks["assignee_gid"]
        unknown = assignee.notna() & ~assignee.isin(world.people["gid"])
        if bool(unknown.any()):
            first = tasks.loc[unknown].iloc[0]
            raise ScenarioError(
                f"NewProject: task {first['gid']!r} is assigned to unknown person "
                f"{first['assignee_gid']!r}"
            )
        return tasks


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
            row = _task_row(world, self.task_gid, "Shift")
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
            moved.loc[chosen, column] = _add_working_days(
                tasks.loc[chosen, column], self.working_days
            )
        return world.replace(tasks=moved)

    def describe(self, world: World | None = None) -> str:
        one = self.task_gid is not None
        if self.task_gid is not None:
            subject = f"Task {_task_name(world, self.task_gid)}"
        else:
            subject = f"Open tasks of project {self.project_gid}"
        n = abs(self.working_days)
        if n == 0:
            return f"{subject} {'does' if one else 'do'} not move"
        way = "later" if self.working_days > 0 else "earlier"
        return f"{subject} move{'s' if one else ''} {n} working day{_s(n)} {way}"


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
        row = _person_row(world, self.person_gid, "CapacityChange")
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
        time_off.loc[clipped, "end_on"] = cut - _DAY
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
        change = _time_off([(self.person_gid, *window, per_day)], "capacity")
        return world.replace(people=people, time_off=_append(time_off, change))

    def describe(self, world: World | None = None) -> str:
        who = _person_name(world, self.person_gid)
        return f"{who} works {self.weekly_hours:g} h a week from {_day(self.start)}"


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
        row = frames.validate("people", pd.DataFrame([person], columns=_columns("people")))
        before = _time_off(
            [(self.gid, self.start - HORIZON, self.start - timedelta(days=1), None)], "hire"
        )
        return world.replace(
            people=_append(world.people, row), time_off=_append(world.time_off, before)
        )

    def describe(self, world: World | None = None) -> str:
        skills = f" ({', '.join(s for s, _ in self.skills)})" if self.skills else ""
        return (
            f"New hire {self.name}{skills} works {self.weekly_hours:g} h a week "
            f"from {_day(self.start)}"
        )


@dataclass(frozen=True)
class RemoveTask:
    """The task is dropped, and with it the other tasks' dependencies on it."""

    task_gid: str

    def apply(self, world: World) -> World:
        row = _task_row(world, self.task_gid, "RemoveTask")
        tasks = world.tasks.drop(index=row).reset_index(drop=True)
        tasks["depends_on"] = [
            tuple(d for d in deps if d != self.task_gid) for deps in tasks["depends_on"]
        ]
        return world.replace(tasks=tasks)

    def describe(self, world: World | None = None) -> str:
        return f"Task {_task_name(world, self.task_gid)} is dropped"


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
        row = _task_row(world, self.task_gid, "DeferTask")
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
            return world.replace(tasks=_set_dates(world.tasks, row, until, None))
        due_day = np.datetime64(due, "D")
        if pd.isna(start):
            first = np.busday_offset(
                due_day, -(self.lead_days - 1), roll="backward", weekmask=_MON_FRI
            )
            length = self.lead_days
        else:
            first = np.datetime64(start, "D")
            length = int(np.busday_count(first, due_day + 1, weekmask=_MON_FRI))
        if first >= until:
            return world.replace()
        new_due = np.busday_offset(until, max(length - 1, 0), roll="forward", weekmask=_MON_FRI)
        new_due = max(new_due, until)  # a zero-length task on a weekend stays on ``until``
        return world.replace(tasks=_set_dates(world.tasks, row, until, new_due))

    def describe(self, world: World | None = None) -> str:
        return f"Task {_task_name(world, self.task_gid)} starts no earlier than {_day(self.until)}"


def _columns(contract: str) -> list[str]:
    return [c.name for c in frames.CONTRACTS[contract]]


def _append(frame: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """``frame`` then ``extra``, as a new frame (the World validates the result)."""
    return pd.concat([frame, extra], ignore_index=True)


def _time_off(rows: list[tuple[str, date, date, float | None]], source: str) -> pd.DataFrame:
    leave = frames.validate("time_off", pd.DataFrame(rows, columns=_columns("time_off")))
    leave[SOURCE] = source
    return leave


def _person_row(world: World, gid: str, who: str) -> int:
    found = np.flatnonzero((world.people["gid"] == gid).to_numpy(bool))
    if not found.size:
        raise ScenarioError(f"{who}: unknown person {gid!r}")
    return int(found[0])


def _task_row(world: World, gid: str, who: str) -> int:
    found = np.flatnonzero((world.tasks["gid"] == gid).to_numpy(bool))
    if not found.size:
        raise ScenarioError(f"{who}: unknown task {gid!r}")
    return int(found[0])


def _person_name(world: World | None, gid: str) -> str:
    if world is None:
        return gid
    found = world.people.loc[world.people["gid"] == gid, "name"]
    return str(found.iloc[0]) if len(found) else gid


def _task_name(world: World | None, gid: str) -> str:
    if world is None:
        return gid
    found = world.tasks.loc[world.tasks["gid"] == gid, "name"]
    return str(found.iloc[0]) if len(found) else gid


def _skill_names(skills: object) -> frozenset[str]:
    """Skill names of a people row's ``(skill, level)`` pairs (bare names tolerated)."""
    assert isinstance(skills, tuple)
    return frozenset(str(s[0]) if isinstance(s, tuple) else str(s) for s in skills)


def _add_working_days(values: pd.Series, n: int) -> pd.Series:
    """Dates moved ``n`` Monday-Friday working days; NaT stays NaT."""
    if n == 0:
        return values
    days = values.to_numpy(dtype="datetime64[D]")
    # A weekend date first rolls towards the move, so it lands on the n-th working day past it.
    moved = np.busday_offset(days, n, roll="backward" if n > 0 else "forward", weekmask=_MON_FRI)
    return pd.Series(moved.astype("datetime64[ns]"), index=values.index)


def _set_dates(
    tasks: pd.DataFrame, row: int, start: np.datetime64, due: np.datetime64 | None
) -> pd.DataFrame:
    out = tasks.copy()
    out.loc[row, "start_on"] = pd.Timestamp(start)
    if due is not None:
        out.loc[row, "due_on"] = pd.Timestamp(due)
    return out


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
