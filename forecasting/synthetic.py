"""Seeded generator of a realistic organisation with known ground truth (the demo and tests).

Owns ``SyntheticOrg`` and ``generate_org``: teams, projects, gids and the order of the draws;
people are drawn by ``forecasting.synthetic_people``, tasks by ``forecasting.synthetic_tasks``.
Same seed and same ``today``, same organisation. Must not import ``bot`` or ``sandbox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting import frames
from forecasting.synthetic_people import draw_people, draw_time_off
from forecasting.synthetic_tasks import draw_history, draw_open_tasks, draw_time_entries

FIRST_GID = 1_200_000_000_000_001  # Asana-like 16-digit numeric gids
TEAM_NAMES = ("Platform", "Product", "Data", "Mobile", "Growth", "Infrastructure")
# fmt: off
PROJECT_NAMES = (
    "Checkout revamp", "Billing migration", "Search relevance", "Warehouse v2",
    "Mobile onboarding", "Observability", "Pricing experiments", "Partner API",
    "Design system", "Fraud signals", "Offline sync", "Data contracts",
)
# fmt: on
COLORS = ("dark-blue", "dark-green", "dark-orange", "dark-purple", "dark-red", "dark-teal")


@dataclass(frozen=True)
class SyntheticOrg:
    """A generated organisation, in the frame contracts of ``forecasting.frames``.

    Attributes:
        seed: the seed it was generated from.
        today: the reference date; open work is planned around it, history lies before it.
        teams: ``gid, name``.
        people: the ``people`` contract; ``team`` holds the team *name*.
        projects: ``gid, name, team`` (team name), ``color``.
        tasks: the ``tasks`` contract, open and completed; estimate_h/actual_h in hours.
        time_off: the ``time_off`` contract.
        time_entries: ``task_gid, person_gid, entered_on, minutes`` (booked time).
        truth: hidden per-person ground truth, never shown to the product:
            ``person_gid, estimate_bias`` (actual ÷ estimate multiplier),
            ``unplanned_h_per_week`` (work arriving with less than two weeks' notice).
    """

    seed: int
    today: date
    teams: pd.DataFrame
    people: pd.DataFrame
    projects: pd.DataFrame
    tasks: pd.DataFrame
    time_off: pd.DataFrame
    time_entries: pd.DataFrame
    truth: pd.DataFrame


class _Gids:
    """Hands out consecutive numeric gid strings, unique across every generated object."""

    def __init__(self) -> None:
        self._next = FIRST_GID

    def take(self, n: int) -> npt.NDArray[np.object_]:
        out = np.arange(self._next, self._next + n, dtype=np.int64).astype(str).astype(object)
        self._next += n
        return out


def generate_org(
    seed: int = 7,
    *,
    today: date,
    people: int = 24,
    teams: int = 3,
    projects: int = 6,
    open_tasks: int = 500,
    history_months: int = 12,
) -> SyntheticOrg:
    """Generate a seeded organisation around ``today`` with hidden per-person truth.

    Open work: ~85 % estimated, ~8 % without a due date, ~10 % overdue, a few unassigned, some
    dependencies inside a project, and a handful of people loaded well past capacity. History:
    ``history_months`` of completed tasks whose ``actual_h`` is ``estimate_h × bias × noise``,
    ~30 % of them finished after a due date planned before the work (more often when they
    overran or had little slack: :func:`forecasting.synthetic_tasks.late_probability`), plus
    short-notice unplanned tasks at each person's rate, with matching time entries.

    Args:
        seed: seed of the ``numpy`` random generator.
        today: reference date (no clock is read).
        people: number of people (>= 1).
        teams: number of teams (>= 1); names come from :data:`TEAM_NAMES`, then ``Team N``.
        projects: number of projects (>= 1), owned by teams in turn.
        open_tasks: number of open tasks.
        history_months: months of completed history before ``today``.

    Returns:
        The organisation; identical for the same arguments.
    """
    if min(people, teams, projects) < 1 or open_tasks < 0 or history_months < 0:
        raise ValueError("people, teams and projects must be >= 1; counts must be >= 0")
    rng = np.random.default_rng(seed)
    gids = _Gids()
    day0 = int(np.datetime64(today, "D").astype(np.int64))
    team_names = [TEAM_NAMES[i] if i < len(TEAM_NAMES) else f"Team {i + 1}" for i in range(teams)]
    team_frame = pd.DataFrame({"gid": gids.take(teams), "name": team_names})
    staff, truth = draw_people(rng, gids.take, people, team_names)
    project_frame = pd.DataFrame(
        {
            "gid": gids.take(projects),
            "name": [
                PROJECT_NAMES[j % len(PROJECT_NAMES)]
                + ("" if j < len(PROJECT_NAMES) else f" {j // len(PROJECT_NAMES) + 1}")
                for j in range(projects)
            ],
            "team": [team_names[j % teams] for j in range(projects)],
            "color": [COLORS[j % len(COLORS)] for j in range(projects)],
        }
    )
    history = draw_history(rng, gids.take, staff, truth, project_frame, day0, history_months)
    open_frame = draw_open_tasks(rng, gids.take, staff, project_frame, day0, open_tasks)
    tasks = pd.concat([history, open_frame], ignore_index=True)
    return SyntheticOrg(
        seed=seed,
        today=today,
        teams=team_frame,
        people=frames.validate("people", staff),
        projects=project_frame,
        tasks=frames.validate("tasks", tasks),
        time_off=frames.validate("time_off", draw_time_off(rng, staff, day0)),
        time_entries=draw_time_entries(rng, tasks, day0),
        truth=truth,
    )
