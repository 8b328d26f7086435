"""The new-project what-if: effort by skill over a date range, or a list of tasks.

Part of :mod:`forecasting.scenarios` (which re-exports it); pure pandas/numpy; must not import
``bot``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import numpy as np
import pandas as pd

from forecasting import frames
from forecasting.scenario_world import (
    WHATIF,
    ScenarioError,
    World,
    appended,
    contract_columns,
    day_text,
    joined,
    person_row,
    plural,
    skill_names,
)


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
            return world.replace(tasks=appended(world.tasks, self._given_tasks(world)))
        assert self.hours_by_skill is not None and self.start and self.end
        pool = self._pool(world)
        names = pool["skills"].map(skill_names)
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
        new = frames.validate("tasks", pd.DataFrame(rows, columns=contract_columns("tasks")))
        return world.replace(tasks=appended(world.tasks, new), notes=notes)

    def describe(self, world: World | None = None) -> str:
        if self.tasks is not None:
            hours = float(np.nansum(self.tasks["remaining_h"].to_numpy(np.float64)))
            count = len(self.tasks)
            return f"New project {self.name}: {count} task{plural(count)}, {hours:g} h"
        assert self.hours_by_skill is not None and self.start and self.end
        effort = joined([f"{h:g} h {s}" for s, h in self.hours_by_skill.items()])
        return (
            f"New project {self.name}: {effort} from {day_text(self.start)} to {day_text(self.end)}"
        )

    def _pool(self, world: World) -> pd.DataFrame:
        people = world.people
        if self.pool is None:
            return people.loc[people["is_active"].to_numpy(bool)]
        for gid in self.pool:
            row = person_row(world, gid, "NewProject")
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
