"""The what-if world: the planning frames a scenario changes, and what every transform shares.

:class:`World` holds the frames; a :class:`Transform` returns a new one. The helpers below
(row lookups, names for messages, working-day arithmetic) serve the transforms in
:mod:`forecasting.scenarios` and :mod:`forecasting.scenario_project`. Pure pandas/numpy; must
not import ``bot``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import numpy as np
import pandas as pd

from forecasting import frames

WHATIF = "whatif:"  # gid prefix of hypothetical tasks and projects: never written to Asana
SOURCE = "whatif"  # extra time_off column: the transform kind that added the row, None if real
HORIZON = timedelta(days=730)  # reach of capacity changes and of a hire's absence before start
MON_FRI = "1111100"  # Shift and DeferTask count working days Monday-Friday, no holidays
ONE_DAY = pd.Timedelta(days=1)


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


def contract_columns(contract: str) -> list[str]:
    return [c.name for c in frames.CONTRACTS[contract]]


def appended(frame: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """``frame`` then ``extra``, as a new frame (the World validates the result)."""
    return pd.concat([frame, extra], ignore_index=True)


def time_off_rows(rows: list[tuple[str, date, date, float | None]], source: str) -> pd.DataFrame:
    leave = frames.validate("time_off", pd.DataFrame(rows, columns=contract_columns("time_off")))
    leave[SOURCE] = source
    return leave


def person_row(world: World, gid: str, who: str) -> int:
    found = np.flatnonzero((world.people["gid"] == gid).to_numpy(bool))
    if not found.size:
        raise ScenarioError(f"{who}: unknown person {gid!r}")
    return int(found[0])


def task_row(world: World, gid: str, who: str) -> int:
    found = np.flatnonzero((world.tasks["gid"] == gid).to_numpy(bool))
    if not found.size:
        raise ScenarioError(f"{who}: unknown task {gid!r}")
    return int(found[0])


def person_name(world: World | None, gid: str) -> str:
    if world is None:
        return gid
    found = world.people.loc[world.people["gid"] == gid, "name"]
    return str(found.iloc[0]) if len(found) else gid


def task_name(world: World | None, gid: str) -> str:
    if world is None:
        return gid
    found = world.tasks.loc[world.tasks["gid"] == gid, "name"]
    return str(found.iloc[0]) if len(found) else gid


def skill_names(skills: object) -> frozenset[str]:
    """Skill names of a people row's ``(skill, level)`` pairs (bare names tolerated)."""
    assert isinstance(skills, tuple)
    return frozenset(str(s[0]) if isinstance(s, tuple) else str(s) for s in skills)


def add_working_days(values: pd.Series, n: int) -> pd.Series:
    """Dates moved ``n`` Monday-Friday working days; NaT stays NaT."""
    if n == 0:
        return values
    days = values.to_numpy(dtype="datetime64[D]")
    # A weekend date first rolls towards the move, so it lands on the n-th working day past it.
    moved = np.busday_offset(days, n, roll="backward" if n > 0 else "forward", weekmask=MON_FRI)
    return pd.Series(moved.astype("datetime64[ns]"), index=values.index)


def with_dates(
    tasks: pd.DataFrame, row: int, start: np.datetime64, due: np.datetime64 | None
) -> pd.DataFrame:
    out = tasks.copy()
    out.loc[row, "start_on"] = pd.Timestamp(start)
    if due is not None:
        out.loc[row, "due_on"] = pd.Timestamp(due)
    return out


def day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def plural(count: int) -> str:
    return "" if count == 1 else "s"


def joined(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
