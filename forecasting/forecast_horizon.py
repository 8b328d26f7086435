"""The grid of one forecast: its people, calendar and weeks, the task spreads over its cells as
sparse (cell, task) hours, on time and late, and the largest tasks of each cell.

Pure numpy/pandas/scipy over the frame contracts; ``forecasting.forecast`` composes it with the
model's corrections. Must not import ``bot``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from forecasting import frames
from forecasting.calendar import FloatArray, IntArray, capacity_grid
from forecasting.panel import FEATURE_WEEKS
from forecasting.spread import EPS_H, TaskWeeks
from forecasting.workload import Workload, compute_workload, grid_end, spread_task_weeks


class Horizon:
    """The people, calendar and weeks of one forecast; cells are ``person row × weeks + week``.

    One capacity grid serves every spread (to the latest due date, ``latest_due``) and the
    other-work history (from the first week its features read).
    """

    def __init__(
        self,
        people: pd.DataFrame,
        time_off: pd.DataFrame,
        *,
        today: date,
        weeks: int,
        lead_days: int,
        latest_due: date | None,
    ) -> None:
        self.people, self.time_off = people, time_off
        self.today, self.weeks, self.lead_days = today, weeks, lead_days
        self.start = today - timedelta(days=today.weekday())
        self.n_cells = len(people) * weeks
        end = grid_end(latest_due, today=today, weeks=weeks)
        first = self.start - timedelta(weeks=FEATURE_WEEKS)
        self.history_grid = capacity_grid(people, time_off, first, end)
        self.grid = self.history_grid.between(self.start, end)

    def workload(self, tasks: pd.DataFrame, top_drivers: int) -> Workload:
        """The committed load of open ``tasks`` over the horizon (with ``task_weeks``)."""
        return compute_workload(
            self.people,
            tasks,
            self.time_off,
            today=self.today,
            weeks=self.weeks,
            lead_days=self.lead_days,
            top_drivers=top_drivers,
            grid=self.grid,
        )

    def cells(self, task_weeks: TaskWeeks) -> IntArray:
        """Cell of each task-week."""
        return np.asarray(task_weeks.person * self.weeks + task_weeks.week, dtype=np.int64)

    def spread(self, tasks: pd.DataFrame) -> tuple[IntArray, IntArray, FloatArray]:
        """``(cell, row, hours)`` of every task-week with hours; ``row`` indexes open ``tasks``.

        ``tasks`` are rows of validated open tasks with new hours or due dates of the right
        types, so they satisfy the contract without a check.
        """
        with frames.trusted("tasks", tasks):
            task_weeks = spread_task_weeks(
                self.people,
                tasks,
                self.time_off,
                today=self.today,
                weeks=self.weeks,
                lead_days=self.lead_days,
                grid=self.grid,
            )
        return self.cells(task_weeks), task_weeks.task, task_weeks.hours

    def matrix(
        self, cells: IntArray, rows: IntArray, hours: FloatArray, n: int
    ) -> sparse.csr_matrix:
        """``(cells, n)`` hours per cell and task."""
        return sparse.csr_matrix((hours, (cells, rows)), shape=(self.n_cells, n))


def spreads(
    horizon: Horizon,
    open_tasks: pd.DataFrame,
    base: Workload,
    effort: pd.DataFrame,
    slip_days: int,
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, IntArray]:
    """On-time hours of every open task and late hours of the tasks that could slip.

    Returns:
        ``(on, late, candidates)``: ``on`` is ``(cells, open tasks)`` at the corrected effort;
        ``late`` is ``(cells, candidates)`` with the due dates moved ``slip_days`` later.
    """
    expected = effort["expected_h"].to_numpy(np.float64)
    remaining = open_tasks["remaining_h"].to_numpy(np.float64)
    # A spread is linear in a task's hours: an estimated task's committed spread, rescaled to
    # its corrected effort, is its corrected spread. Only unestimated tasks need a new one.
    task_weeks = base.task_weeks
    assert task_weeks is not None  # compute_workload always fills it
    cells, rows = horizon.cells(task_weeks), task_weeks.task
    hours = task_weeks.hours * expected[rows] / remaining[rows]
    keep = hours > EPS_H
    imputed = np.flatnonzero(effort["imputed"].to_numpy(bool))
    i_cells, i_rows, i_hours = horizon.spread(
        open_tasks.iloc[imputed].assign(remaining_h=expected[imputed])
    )
    on = horizon.matrix(
        np.concatenate([cells[keep], i_cells]),
        np.concatenate([rows[keep], imputed[i_rows]]),
        np.concatenate([hours[keep], i_hours]),
        len(open_tasks),
    )
    # Slipping only moves work later, so a task without on-time hours in the horizon has none
    # when late either.
    candidates = np.flatnonzero(np.bincount(on.indices, minlength=len(open_tasks)))
    late = open_tasks.iloc[candidates]
    l_cells, l_rows, l_hours = horizon.spread(
        late.assign(
            remaining_h=expected[candidates],
            due_on=late["due_on"] + pd.Timedelta(days=slip_days),
        )
    )
    return on, horizon.matrix(l_cells, l_rows, l_hours, candidates.size), candidates


def cell_drivers(
    horizon: Horizon,
    on: sparse.csr_matrix,
    gids: npt.NDArray[np.object_],
    imputed: npt.NDArray[np.bool_],
    top: int,
) -> pd.DataFrame:
    """The ``top`` largest tasks of each cell by expected hours (ties: input order).

    Rows are ordered as the fallback forecast orders its drivers: person gid, week, hours
    descending.
    """
    # Cut to the top of each cell on arrays first: sorting every task-week by gid is slow.
    coo = on.tocoo()
    cell, row, hours = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    # Sorted indices list each cell's tasks in row order already: a stable sort keeps it.
    order = np.lexsort((-hours, cell) if on.has_sorted_indices else (row, -hours, cell))
    cell, row, hours = cell[order], row[order], hours[order]
    # Sorted by cell first, each cell's entries stay where the CSR matrix keeps them.
    chosen = np.arange(cell.size) - on.indptr[cell] < top
    cell, row, hours = cell[chosen], row[chosen], hours[chosen]
    person, week = np.divmod(cell, horizon.weeks)
    # Gids in string order, as a stable sort of the frame would put them (gids are unique).
    person_gids = horizon.people["gid"].to_numpy(object)
    rank = np.empty(len(person_gids), dtype=np.int64)
    rank[np.argsort(person_gids, kind="stable")] = np.arange(len(person_gids))
    final = np.lexsort((-hours, week, rank[person]))
    person, week, row, hours = person[final], week[final], row[final], hours[final]
    start = np.datetime64(horizon.start, "ns")
    return pd.DataFrame(
        {
            "person_gid": person_gids[person],
            "week_start": start + (7 * week).astype("timedelta64[D]"),
            "task_gid": gids[row],
            "hours": hours,
            "imputed": imputed[row],
        }
    )
