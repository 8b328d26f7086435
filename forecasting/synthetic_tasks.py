"""Tasks of the synthetic organisation: completed history with its lateness process, open work
around today, the columns and dependencies they share, and the time booked on them.

Pure numpy and pandas; must not import ``bot`` or ``sandbox``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.synthetic_days import Days, busday, dates, day_numbers
from forecasting.synthetic_people import SKILLS, TEAM_SKILLS

# Lateness (see late_probability): ~30 % of tasks overall, 1-10 days late.
LATE_LOGIT = -0.85  # logit(0.3): a task with typical overrun and slack
LATE_PER_OVERRUN = 3.0  # per unit of log(actual / estimate) above the typical log(1.2)
LATE_PER_SLACK_DAY = 0.15  # per day of slack beyond the typical 6.5
TYPICAL_OVERRUN = float(np.log(1.2))
TYPICAL_SLACK_DAYS = 6.5
# fmt: off
VERBS = ("Build", "Fix", "Design", "Review", "Migrate", "Test", "Document", "Refactor", "Ship")
NOUNS = ("login flow", "invoice export", "event schema", "rate limiter", "dashboard",
         "search index", "push alerts", "ETL job", "feature flag", "settings page")
# fmt: on


def draw_history(
    rng: np.random.Generator,
    take_gids: Callable[[int], npt.NDArray[np.object_]],
    staff: pd.DataFrame,
    truth: pd.DataFrame,
    projects: pd.DataFrame,
    day0: int,
    months: int,
) -> pd.DataFrame:
    """Completed planned and unplanned tasks over the last ``months``; actual_h in 15-min units."""
    span = max(int(months * 365.25 / 12), 1)
    weeks = span / 7
    capacity = staff["weekly_capacity_h"].to_numpy()
    bias = truth["estimate_bias"].to_numpy()
    rate = truth["unplanned_h_per_week"].to_numpy()
    # Planned work fills 55-80 % of capacity in actual hours; a planned task averages ~6 h
    # estimated, i.e. ~6 × bias actual.
    planned_h = np.maximum(capacity * rng.uniform(0.55, 0.8, size=len(staff)) - rate, 0) * weeks
    on = float(months > 0)  # no history at all for months == 0
    n_planned = rng.poisson(on * planned_h / (6.0 * bias))
    n_unplanned = rng.poisson(on * rate * weeks / 3.0)
    person = np.r_[
        np.repeat(np.arange(len(staff)), n_planned), np.repeat(np.arange(len(staff)), n_unplanned)
    ]
    unplanned = np.r_[np.zeros(n_planned.sum(), bool), np.ones(n_unplanned.sum(), bool)]
    n = person.size
    raw_estimate = _half_hours(np.clip(rng.lognormal(np.log(5.0), 0.6, size=n), 0.5, 40.0))
    noise = rng.lognormal(0.0, 0.25, size=n)
    surprise_h = rng.gamma(2.0, 1.5, size=n)  # unplanned tasks average 3 actual hours
    actual = _quarter_hours(np.where(unplanned, surprise_h, raw_estimate * bias[person] * noise))
    # Unplanned work is estimated after the fact half the time, with the same bias.
    guessed = _half_hours(actual / (bias[person] * noise))
    estimate = np.where(unplanned, np.where(rng.random(n) < 0.5, guessed, np.nan), raw_estimate)
    estimate = np.where(~unplanned & (rng.random(n) < 0.1), np.nan, estimate)
    completed = day0 - rng.integers(1, span + 1, size=n)
    # The plan comes first: a window of the estimate's working days plus 2-11 days of slack, as
    # for open work. Then ~30 % finish 1-10 days late, the more likely the more the task
    # overran its estimate (a person's bias shows in their track record, a task's own noise is
    # unknowable) and the less slack it had (visible in the window): nothing of the outcome
    # leaks into the plan.
    slack = rng.integers(2, 12, size=n)
    window = planned_days(np.where(unplanned, guessed, raw_estimate)) + slack
    overrun = np.where(unplanned, 0.0, np.log(bias[person] * noise))
    late = rng.random(n) < late_probability(overrun, slack)
    ahead = np.minimum(rng.integers(0, 6, size=n), window)  # on time: done 0-5 days before due
    due = np.where(late, completed - rng.integers(1, 11, size=n), completed + ahead)
    start = due - window
    # Planned work is known at least two weeks ahead; unplanned arrives within three days.
    notice = np.where(unplanned, rng.integers(0, 4, size=n), rng.integers(14, 61, size=n))
    created = start - notice
    frame = _task_frame(rng, take_gids, staff, projects, person, n, section="Done")
    frame["start_on"] = dates(start)
    frame["due_on"] = dates(due)
    frame["estimate_h"] = estimate
    frame["actual_h"] = actual
    frame["remaining_h"] = 0.0
    frame["completed"] = True
    frame["completed_at"] = dates(completed)
    frame["created_at"] = dates(created)
    frame["modified_at"] = dates(completed)
    return frame


def draw_open_tasks(
    rng: np.random.Generator,
    take_gids: Callable[[int], npt.NDArray[np.object_]],
    staff: pd.DataFrame,
    projects: pd.DataFrame,
    day0: int,
    n: int,
) -> pd.DataFrame:
    """Open work around ``day0``; a few people get 1.4-2× the load of the others."""
    n_people = len(staff)
    capacity = staff["weekly_capacity_h"].to_numpy()
    load = rng.uniform(0.45, 0.8, size=n_people)
    hot = rng.choice(n_people, size=max(1, n_people // 8), replace=False)
    load[hot] = rng.uniform(1.4, 2.0, size=hot.size)
    weight = capacity * load
    person = rng.choice(n_people, size=n, p=weight / weight.sum())
    has_due = rng.random(n) >= 0.08
    overdue = has_due & (rng.random(n) < 0.10 / 0.92)
    # Each person's future due dates are stratified over six weeks, so the load is steady and
    # overload comes from `load`, not from a few unlucky weeks.
    order = np.lexsort((rng.random(n), person))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.searchsorted(person[order], person[order])
    share = (rank + rng.random(n)) / np.bincount(person, minlength=n_people)[person]
    due = np.where(overdue, day0 - rng.integers(1, 22, size=n), day0 + (share * 42).astype(int))
    # Due dates fall on weekdays: forward for future work so it never becomes overdue.
    due = np.where(overdue, busday(due, "backward"), np.maximum(busday(due, "forward"), day0))
    raw = np.clip(rng.lognormal(np.log(5.0), 0.6, size=n), 0.5, 40.0)
    # Scale each person's dated work to about `load` × the hours of the ~6 weeks it spans.
    total = np.bincount(person, weights=raw * has_due, minlength=n_people)
    target = load * capacity * 6.0
    scale = np.divide(target, total, out=np.ones(n_people), where=total > 0)
    estimate = _half_hours(np.maximum(raw * scale[person], 0.5))
    # Windows long enough for the work at ~4 focused hours a day, plus some slack.
    span = planned_days(estimate) + rng.integers(2, 12, size=n)
    has_start = np.where(has_due, rng.random(n) < 0.8, rng.random(n) < 0.5)
    start = np.where(has_due, due - span, day0 + rng.integers(-10, 30, size=n))
    estimate = np.where(rng.random(n) < 0.15, np.nan, estimate)
    started = (has_start & (start < day0)) | overdue
    # Late work is mostly done already; other started work is 10-70 % through.
    done = np.where(overdue, rng.uniform(0.6, 0.95, size=n), rng.uniform(0.1, 0.7, size=n))
    actual = np.where(started, _quarter_hours(np.nan_to_num(estimate, nan=4.0) * done), 0.0)
    frame = _task_frame(rng, take_gids, staff, projects, person, n, section="To do")
    frame.loc[started, "section"] = "In progress"
    frame.loc[~has_due & ~has_start, "section"] = "Backlog"
    frame.loc[rng.random(n) < 0.03, "assignee_gid"] = None
    frame["start_on"] = dates(np.where(has_start, start, np.iinfo(np.int64).min))
    frame["due_on"] = dates(np.where(has_due, due, np.iinfo(np.int64).min))
    frame["estimate_h"] = estimate
    frame["actual_h"] = actual
    frame["remaining_h"] = np.maximum(estimate - actual, 0.0)
    frame["completed"] = False
    frame["completed_at"] = pd.NaT
    created = np.minimum(np.where(has_start, start, due), day0) - rng.integers(7, 91, size=n)
    frame["created_at"] = dates(created)
    frame["modified_at"] = dates(created + (day0 - created) * rng.random(n))
    frame["locked"] = rng.random(n) < 0.05
    frame["depends_on"] = _dependencies(rng, frame, has_due, due)
    return frame


def planned_days(estimate_h: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Calendar days a plan gives ``estimate_h`` hours at ~4 focused hours a working day."""
    days = np.ceil(np.nan_to_num(np.asarray(estimate_h, dtype=np.float64), nan=4.0) / 4.0 * 7 / 5)
    return days.astype(np.int64)


def late_probability(overrun: npt.ArrayLike, slack_days: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The generator's P(a task finishes after its due date).

    Args:
        overrun: log(actual ÷ estimated hours) of the task (0 for unplanned work).
        slack_days: calendar days its window gives beyond :func:`planned_days` (2-11).
    """
    logit = (
        LATE_LOGIT
        + LATE_PER_OVERRUN * (np.asarray(overrun, dtype=np.float64) - TYPICAL_OVERRUN)
        - LATE_PER_SLACK_DAY * (np.asarray(slack_days, dtype=np.float64) - TYPICAL_SLACK_DAYS)
    )
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


def _task_frame(
    rng: np.random.Generator,
    take_gids: Callable[[int], npt.NDArray[np.object_]],
    staff: pd.DataFrame,
    projects: pd.DataFrame,
    person: npt.NDArray[np.int64],
    n: int,
    *,
    section: str,
) -> pd.DataFrame:
    """Columns every task shares: gid, name, people, project of the assignee's team, skills."""
    task_gids = take_gids(n)
    team = staff["team"].to_numpy(dtype=object)[person]
    by_team = projects.groupby("team").indices
    own = rng.random(n) < 0.85
    project = rng.integers(0, len(projects), size=n)
    for name, rows in by_team.items():
        mine = own & (team == name)
        project[mine] = rows[rng.integers(0, len(rows), size=int(mine.sum()))]
    project_gids = projects["gid"].to_numpy(dtype=object)[project]
    project_team = projects["team"].to_numpy(dtype=object)[project]
    skill_sets = {t: TEAM_SKILLS.get(t, SKILLS[:3]) for t in set(projects["team"])}
    pick = rng.integers(0, 3, size=n)
    names = np.array([f"{v} {o}" for v in VERBS for o in NOUNS], dtype=object)
    return pd.DataFrame(
        {
            "gid": task_gids,
            "name": names[rng.integers(0, names.size, size=n)],
            "assignee_gid": staff["gid"].to_numpy(dtype=object)[person],
            "project_gid": project_gids,
            "section": section,
            "priority": rng.choice(
                np.array(["high", "medium", "low", None], dtype=object),
                size=n,
                p=[0.2, 0.45, 0.25, 0.1],
            ),
            "required_skills": [
                (skill_sets[t][k % len(skill_sets[t])],)
                for t, k in zip(project_team, pick, strict=True)
            ],
            "depends_on": [()] * n,
            "locked": False,
            "url": [
                f"https://app.asana.com/0/{p}/{g}"
                for p, g in zip(project_gids, task_gids, strict=True)
            ],
        }
    )


def _dependencies(
    rng: np.random.Generator, frame: pd.DataFrame, has_due: npt.NDArray[np.bool_], due: Days
) -> list[tuple[str, ...]]:
    """~15 % of dated tasks wait for an earlier-due open task of the same project (acyclic)."""
    n = len(frame)
    project = frame["project_gid"].to_numpy(dtype=object)
    codes = pd.factorize(project)[0]
    order = np.lexsort((np.where(has_due, due, np.iinfo(np.int64).max), codes))
    group_start = np.r_[0, np.flatnonzero(np.diff(codes[order])) + 1]
    first_in_group = np.repeat(group_start, np.diff(np.r_[group_start, n]))
    position = np.arange(n)
    wants = (rng.random(n) < 0.15) & has_due[order] & (position > first_in_group)
    # Any task earlier in the (project, due) order: due no later, so no cycles can form.
    before = first_in_group + (rng.random(n) * (position - first_in_group)).astype(np.int64)
    deps: list[tuple[str, ...]] = [()] * n
    gid = frame["gid"].to_numpy(dtype=object)
    for pos in np.flatnonzero(wants):
        deps[int(order[pos])] = (str(gid[order[before[pos]]]),)
    return deps


def draw_time_entries(rng: np.random.Generator, tasks: pd.DataFrame, day0: int) -> pd.DataFrame:
    """Booked time summing exactly to ``actual_h``, on days between start and completion."""
    booked = tasks.loc[(tasks["actual_h"] > 0) & tasks["assignee_gid"].notna()]
    units = np.round(booked["actual_h"].to_numpy() * 4).astype(np.int64)  # 15-minute units
    first = day_numbers(booked["start_on"].fillna(booked["created_at"]))
    last = np.where(booked["completed"], day_numbers(booked["completed_at"]), day0 - 1)
    last = np.maximum(last, first)
    k = np.clip(np.ceil(units / 12), 1, 6).astype(np.int64)  # about one entry per 3 hours
    owner = np.repeat(np.arange(len(booked)), k)
    offsets = np.r_[0, np.cumsum(k)[:-1]]
    weight = rng.random(owner.size) + 0.05
    share = weight / np.add.reduceat(weight, offsets)[owner]
    parts = np.floor(units[owner] * share).astype(np.int64)
    parts[offsets] += units - np.add.reduceat(parts, offsets)  # remainder on the first entry
    day = first[owner] + (rng.random(owner.size) * (last - first + 1)[owner]).astype(np.int64)
    return pd.DataFrame(
        {
            "task_gid": booked["gid"].to_numpy(dtype=object)[owner],
            "person_gid": booked["assignee_gid"].to_numpy(dtype=object)[owner],
            "entered_on": dates(day),
            "minutes": parts * 15,
        }
    )


def _half_hours(hours: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.maximum(np.round(hours * 2) / 2, 0.5)


def _quarter_hours(hours: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.maximum(np.round(hours * 4) / 4, 0.25)
