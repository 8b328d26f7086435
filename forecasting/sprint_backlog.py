"""The sprint backlog as the MILP sees it: values, who may take what, dependencies; the solve.

Owns the priority values, the reasons an item cannot be planned at all, the item arrays and
the exact MILP (scipy's HiGHS through ``scipy.optimize.milp``); must not import ``bot`` (nor
``forecasting.sprint``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from forecasting.calendar import FloatArray
from forecasting.skills import required_skills, skill_gaps, skill_levels, skills_phrase
from forecasting.spread import EPS_H

# Value of an item by its Asana-style priority; anything else (None, custom labels) is worth
# DEFAULT_VALUE. Doubling per step: one high item is worth two medium ones.
PRIORITY_VALUES: Mapping[str, float] = {"high": 8.0, "medium": 4.0, "low": 2.0}
DEFAULT_VALUE = 1.0
# Reasons an item is not planned, known before the solve (those that take no argument).
NO_ESTIMATE = "no estimate"
LOCKED_UNASSIGNED = "locked without an assignee"


def priority_value(priority: object) -> float:
    """Value of a priority label (case-insensitive); :data:`DEFAULT_VALUE` for others."""
    if not isinstance(priority, str):
        return DEFAULT_VALUE
    return PRIORITY_VALUES.get(priority.strip().lower(), DEFAULT_VALUE)


class Items:
    """The backlog as arrays: hours, values, who may take what, and the dependency rows.

    ``allowed[p, b]`` ignores capacity (skills, locks, estimate, dependencies outside the
    backlog); ``reason[b]`` is set for items nobody may take at all.
    """

    def __init__(
        self,
        crew: pd.DataFrame,
        backlog: pd.DataFrame,
        status: Mapping[str, str | None],
        free: FloatArray,
        min_level: int,
        names: Mapping[str, str],
    ) -> None:
        self.backlog, self.crew, self.people_names = backlog, crew, names
        n_people, n = len(crew), len(backlog)
        self.gids = backlog["gid"].astype(str).tolist()
        self.names = backlog["name"].astype(str).tolist()
        self.hours = backlog["remaining_h"].to_numpy(np.float64)
        self.value = backlog["priority"].map(priority_value).to_numpy(np.float64)
        self.assignee = backlog["assignee_gid"].tolist()
        self.reason: list[str | None] = [None] * n
        self.allowed = np.zeros((n_people, n), dtype=bool)
        self.edges: list[tuple[int, int]] = []  # (item, item it depends on)
        position = {g: b for b, g in enumerate(self.gids)}
        crew_gids = crew["gid"].astype(str).tolist()
        levels = [skill_levels(s) for s in crew["skills"]]
        self.locked = backlog["locked"].to_numpy(bool)
        self.priority: list[str | None] = backlog["priority"].tolist()
        depends_on = backlog["depends_on"].tolist()
        for b, skills in enumerate(backlog["required_skills"].tolist()):
            required = required_skills(skills)
            if math.isnan(self.hours[b]):
                self.reason[b] = NO_ESTIMATE
                continue
            if self.locked[b]:
                owner = self.assignee[b]
                if owner is None:
                    self.reason[b] = LOCKED_UNASSIGNED
                    continue
                if owner not in crew_gids:
                    self.reason[b] = f"locked to {names.get(owner, owner)}, who is not in the pool"
                    continue
                self.allowed[crew_gids.index(owner), b] = True
            else:
                for p in range(n_people):
                    self.allowed[p, b] = not skill_gaps(levels[p], required, min_level)
                if not self.allowed[:, b].any():
                    self.reason[b] = f"no one in the pool has {skills_phrase(required, min_level)}"
                    continue
            for dependency in dict.fromkeys(str(d) for d in depends_on[b]):
                if dependency in position:
                    self.edges.append((b, position[dependency]))
                elif status.get(dependency) is not None:
                    self.reason[b] = status[dependency]
                    break
                elif dependency not in status:
                    self.reason[b] = f"depends on {dependency}, which is not in the snapshot"
                    break
            if self.reason[b] is not None:
                self.allowed[:, b] = False
        self.hours = np.where(np.isnan(self.hours), np.nan, np.maximum(self.hours, 0.0))
        self.skilled_free = np.where(self.allowed, free[:, None], -np.inf).max(
            axis=0, initial=-np.inf
        )
        self.bonus = self._tie_breaks()

    def _tie_breaks(self) -> FloatArray:
        """``(P, B)`` extra objective per pair; their sum over any plan stays below 0.75."""
        n = len(self.gids)
        eps = 1.0 / (4.0 * (n + 1))  # per item: three terms of at most eps each
        due = self.backlog["due_on"].rank(method="min", na_option="bottom").to_numpy(np.float64)
        hours = np.nan_to_num(self.hours, nan=0.0)
        earlier = eps * (1.0 - (due - 1.0) / max(n, 1))
        smaller = eps * (1.0 - hours / (hours.max(initial=0.0) + 1.0))
        kept = np.equal.outer(
            self.crew["gid"].to_numpy(object), np.array(self.assignee, dtype=object)
        )
        bonus: FloatArray = (earlier + smaller)[None, :] + eps * kept
        return bonus


def dependency_status(
    tasks: pd.DataFrame, backlog: pd.DataFrame, end: date
) -> dict[str, str | None]:
    """Per task the backlog depends on: None if it does not block, else why it does.

    Open backlog items are looked up before this (they may be planned alongside); gids missing
    here are not in the snapshot.
    """
    wanted = {str(d) for deps in backlog["depends_on"] for d in deps}
    known = pd.concat(
        [tasks.loc[tasks["gid"].isin(wanted)], backlog.loc[backlog["gid"].isin(wanted)]],
        ignore_index=True,
    ).drop_duplicates("gid", keep="last")
    status: dict[str, str | None] = {}
    deadline = pd.Timestamp(end)
    for gid, name, done, due in zip(
        known["gid"], known["name"], known["completed"], known["due_on"], strict=True
    ):
        if done or (not pd.isna(due) and due <= deadline):
            status[str(gid)] = None
        else:
            status[str(gid)] = (
                f"depends on {name}, which is not done and not due by {end:%a} {end.day} {end:%b}"
            )
    return status


def solve(items: Items, free: np.ndarray, time_limit_s: float) -> tuple[dict[int, int], bool]:
    """``{item: person}`` of the best plan found, and whether HiGHS proved it optimal."""
    person, item = np.nonzero(items.allowed & (items.hours[None, :] <= free[:, None] + EPS_H))
    if person.size == 0:
        return {}, True
    n_vars, n_items = person.size, len(items.gids)
    var = np.arange(n_vars)
    rows, cols, coef = [item], [var], [np.ones(n_vars)]  # each item at most once
    upper = [np.ones(n_items)]
    rows.append(n_items + person)  # each person's hours within their free capacity
    cols.append(var)
    coef.append(items.hours[item])
    upper.append(free)
    base = n_items + free.size
    for k, (b, a) in enumerate(items.edges):  # sum_p x[p, b] - sum_p x[p, a] <= 0
        for target, sign in ((b, 1.0), (a, -1.0)):
            on = np.flatnonzero(item == target)
            rows.append(np.full(on.size, base + k))
            cols.append(on)
            coef.append(np.full(on.size, sign))
    upper.append(np.zeros(len(items.edges)))
    bound = np.concatenate(upper)
    matrix = sparse.csr_matrix(
        (np.concatenate(coef), (np.concatenate(rows), np.concatenate(cols))),
        shape=(bound.size, n_vars),
    )
    result = milp(
        -(items.value[item] + items.bonus[person, item]),
        integrality=np.ones(n_vars),
        bounds=Bounds(0.0, 1.0),
        constraints=LinearConstraint(matrix, -np.inf, bound),
        # A zero gap: the tie-breaks are far smaller than HiGHS's default relative gap.
        options={"time_limit": time_limit_s, "mip_rel_gap": 0.0, "disp": False},
    )
    if result.x is None:
        return {}, False
    taken = np.flatnonzero(result.x > 0.5)
    return {int(item[v]): int(person[v]) for v in taken}, result.status == 0
