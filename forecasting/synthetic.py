"""Seeded generator of a realistic organisation with known ground truth (the demo and tests).

Same seed and same ``today``, same organisation. Must not import ``bot`` or ``sandbox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd


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
