"""Free capacity in a sprint: each person's hours on its days left, less their expected load.

Owns the sprint's window, the crew to plan for and the committed or forecast load that comes
before the backlog; pure numpy/pandas, must not import ``bot`` (nor ``forecasting.sprint``).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from forecasting.forecast import Forecast
from forecasting.workload import compute_workload


@dataclass(frozen=True)
class Window:
    """The sprint's days that can still hold work: ``[max(start, today), end]``."""

    start: date
    end: date
    today: date

    @property
    def first(self) -> date:
        return max(self.start, self.today)

    @property
    def weeks(self) -> int:
        """Weeks of a horizon from today's Monday that covers the sprint."""
        monday = self.today - timedelta(days=self.today.weekday())
        return max(1, math.ceil(((self.end - monday).days + 1) / 7))


def crew_of(people: pd.DataFrame, pool: Collection[str] | None) -> pd.DataFrame:
    """The active people to plan for, in people order."""
    keep = people["is_active"].to_numpy(bool)
    if pool is not None:
        keep = keep & people["gid"].isin([str(g) for g in pool]).to_numpy(bool)
    return people.loc[keep].reset_index(drop=True)


def free_capacity(
    crew: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    backlog: pd.DataFrame,
    window: Window,
    forecast: Forecast | None,
    focus: float,
) -> pd.DataFrame:
    """``gid, name, capacity_h, load_h, free_h`` per person of the crew, in crew order."""
    out = crew[["gid", "name"]].copy()
    if window.end < window.today:  # the sprint is over: no capacity left in it
        out["capacity_h"] = out["load_h"] = out["free_h"] = 0.0
        return out
    in_backlog = tasks["gid"].isin(backlog["gid"]).to_numpy(bool)
    weekly = _weekly(crew, tasks.loc[~in_backlog], time_off, window)
    weekly["load_h"] = weekly["committed_h"]
    if forecast is not None:
        # The forecast counted the backlog's assigned items; the plan re-decides them.
        own = _weekly(crew, tasks.loc[in_backlog], time_off, window)
        expected = forecast.weekly[["person_gid", "week_start", "capacity_h", "mean_h"]]
        weekly = weekly.merge(
            own[["person_gid", "week_start", "week_committed_h"]].rename(
                columns={"week_committed_h": "backlog_h"}
            ),
            how="left",
            on=["person_gid", "week_start"],
        ).merge(
            expected.rename(columns={"capacity_h": "forecast_capacity_h"}),
            how="left",
            on=["person_gid", "week_start"],
        )
        # The sprint's share of a week's expected load is its share of the week's capacity.
        week_capacity = weekly["forecast_capacity_h"].to_numpy(np.float64)
        share = np.divide(
            weekly["capacity_h"].to_numpy(np.float64),
            week_capacity,
            out=np.zeros(len(weekly)),
            where=week_capacity > 0,
        )
        prorated = (weekly["mean_h"] - weekly["backlog_h"].fillna(0.0)).clip(lower=0.0) * share
        weekly["load_h"] = prorated.where(weekly["mean_h"].notna(), weekly["committed_h"])
    totals = weekly.groupby("person_gid")[["capacity_h", "load_h"]].sum()
    out["capacity_h"] = out["gid"].map(totals["capacity_h"]).fillna(0.0).astype(np.float64)
    out["load_h"] = out["gid"].map(totals["load_h"]).fillna(0.0).astype(np.float64)
    out["free_h"] = ((out["capacity_h"] - out["load_h"]) * focus).clip(lower=0.0)
    return out


def _weekly(
    crew: pd.DataFrame, work: pd.DataFrame, time_off: pd.DataFrame, window: Window
) -> pd.DataFrame:
    """Committed load of ``work`` per person-week of the sprint.

    Returns:
        ``person_gid, week_start, capacity_h, committed_h`` (both on the sprint's days left)
        and ``week_committed_h`` (the whole week).
    """
    daily = compute_workload(
        crew, work, time_off, today=window.today, weeks=window.weeks, top_drivers=0
    ).daily
    days = daily["day"].to_numpy("datetime64[D]")
    inside = (days >= np.datetime64(window.first)) & (days <= np.datetime64(window.end))
    # 1970-01-01 was a Thursday: (days since then + 3) % 7 is the weekday, Monday = 0.
    monday = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    per_day = daily.assign(
        week_start=monday.astype("datetime64[ns]"),
        capacity_h=daily["capacity_h"].where(inside, 0.0),
        week_committed_h=daily["committed_h"],
        committed_h=daily["committed_h"].where(inside, 0.0),
    )
    columns = ["capacity_h", "committed_h", "week_committed_h"]
    return per_day.groupby(["person_gid", "week_start"], as_index=False, sort=False)[columns].sum()
