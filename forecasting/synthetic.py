"""Seeded generator of a realistic organisation with known ground truth (the demo and tests).

Same seed and same ``today``, same organisation. Must not import ``bot`` or ``sandbox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting import frames

FIRST_GID = 1_200_000_000_000_001  # Asana-like 16-digit numeric gids
TEAM_NAMES = ("Platform", "Product", "Data", "Mobile", "Growth", "Infrastructure")
SKILLS = ("backend", "frontend", "data", "design", "devops", "qa", "ml", "mobile")
TEAM_SKILLS = {
    "Platform": ("backend", "devops", "qa"),
    "Product": ("frontend", "design", "qa"),
    "Data": ("data", "ml", "backend"),
    "Mobile": ("mobile", "frontend", "design"),
    "Growth": ("frontend", "data", "backend"),
    "Infrastructure": ("devops", "backend"),
}
# (country, timezone): all valid `holidays` codes.
LOCALES = (
    ("GB", "Europe/London"),
    ("DE", "Europe/Berlin"),
    ("US", "America/New_York"),
    ("FR", "Europe/Paris"),
    ("ES", "Europe/Madrid"),
    ("NL", "Europe/Amsterdam"),
)
# (weekly hours, Mon..Sun mask, share of people)
CONTRACTS = (
    (40.0, "1111100", 0.55),
    (36.0, "1111100", 0.15),
    (32.0, "1111000", 0.15),
    (32.0, "0111100", 0.05),
    (24.0, "1110000", 0.10),
)
# fmt: off
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dana", "Emil", "Farah", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena",
    "Milo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Will",
    "Xena", "Yusuf", "Zoe", "Arjun", "Bea", "Carl", "Dita", "Eli", "Fay", "Gil", "Ines", "Jon",
    "Kai", "Lars", "Mina", "Nils", "Olga",
)
LAST_NAMES = (
    "Abara", "Berg", "Costa", "Dahl", "Evans", "Ferro", "Garcia", "Holm", "Ito", "Jansen", "Khan",
    "Laurent", "Moreau", "Novak", "Okafor", "Petit", "Quist", "Rossi", "Schmidt", "Tanaka", "Ueda",
    "Vidal", "Weber", "Xu", "Yilmaz", "Zhou", "Andersen", "Brown", "Clarke", "Dubois", "Engel",
    "Fischer", "Grant", "Huber", "Iqbal", "Jones", "Kowal", "Lopez", "Meyer", "Nguyen",
)
PROJECT_NAMES = (
    "Checkout revamp", "Billing migration", "Search relevance", "Warehouse v2",
    "Mobile onboarding", "Observability", "Pricing experiments", "Partner API",
    "Design system", "Fraud signals", "Offline sync", "Data contracts",
)
# Lateness (see late_probability): ~30 % of tasks overall, 1-10 days late.
LATE_LOGIT = -0.85  # logit(0.3): a task with typical overrun and slack
LATE_PER_OVERRUN = 3.0  # per unit of log(actual / estimate) above the typical log(1.2)
LATE_PER_SLACK_DAY = 0.15  # per day of slack beyond the typical 6.5
TYPICAL_OVERRUN = float(np.log(1.2))
TYPICAL_SLACK_DAYS = 6.5
COLORS = ("dark-blue", "dark-green", "dark-orange", "dark-purple", "dark-red", "dark-teal")
VERBS = ("Build", "Fix", "Design", "Review", "Migrate", "Test", "Document", "Refactor", "Ship")
NOUNS = ("login flow", "invoice export", "event schema", "rate limiter", "dashboard",
         "search index", "push alerts", "ETL job", "feature flag", "settings page")
# fmt: on

Days = npt.NDArray[np.int64]  # days since 1970-01-01


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
    overran or had little slack: :func:`late_probability`), plus short-notice unplanned tasks
    at each person's rate, with matching time entries.

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
    staff, truth = _people(rng, gids, people, team_names)
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
    history = _history(rng, gids, staff, truth, project_frame, day0, history_months)
    open_frame = _open_tasks(rng, gids, staff, project_frame, day0, open_tasks)
    tasks = pd.concat([history, open_frame], ignore_index=True)
    return SyntheticOrg(
        seed=seed,
        today=today,
        teams=team_frame,
        people=frames.validate("people", staff),
        projects=project_frame,
        tasks=frames.validate("tasks", tasks),
        time_off=frames.validate("time_off", _time_off(rng, staff, day0)),
        time_entries=_time_entries(rng, tasks, day0),
        truth=truth,
    )


def _people(
    rng: np.random.Generator, gids: _Gids, n: int, team_names: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_names = len(FIRST_NAMES) * len(LAST_NAMES)
    pick = rng.permutation(n_names)[np.arange(n) % n_names]
    first = np.array(FIRST_NAMES, dtype=object)[pick // len(LAST_NAMES)]
    last = np.array(LAST_NAMES, dtype=object)[pick % len(LAST_NAMES)]
    # Past every first × last pair, a numeric suffix keeps names and emails unique.
    suffix = ["" if i < n_names else str(i // n_names + 1) for i in range(n)]
    contract = rng.choice(len(CONTRACTS), size=n, p=[c[2] for c in CONTRACTS])
    locale = rng.integers(0, len(LOCALES), size=n)
    team = np.arange(n) % len(team_names)
    skills = []
    for t in team:
        own = TEAM_SKILLS.get(team_names[t], SKILLS[:3])
        main = rng.choice(own, size=int(rng.integers(1, len(own) + 1)), replace=False)
        extra = rng.choice(SKILLS, size=int(rng.integers(0, 2)), replace=False)
        levels = {str(s): int(rng.integers(1, 4)) for s in extra}
        levels.update({str(s): int(rng.integers(3, 6)) for s in main})
        skills.append(tuple(sorted(levels.items())))
    people_gids = gids.take(n)
    staff = pd.DataFrame(
        {
            "gid": people_gids,
            "name": [f"{f} {s}{x}" for f, s, x in zip(first, last, suffix, strict=True)],
            "email": [
                f"{f.lower()}.{s.lower()}{x}@example.com"
                for f, s, x in zip(first, last, suffix, strict=True)
            ],
            "team": [team_names[t] for t in team],
            "weekly_capacity_h": [CONTRACTS[c][0] for c in contract],
            "workdays": [CONTRACTS[c][1] for c in contract],
            "timezone": [LOCALES[i][1] for i in locale],
            "country": [LOCALES[i][0] for i in locale],
            "skills": skills,
            "is_active": True,
        }
    )
    # Hidden truth: people underestimate (bias ~1.1-1.3, lognormal spread between people) and
    # receive unplanned work at 3-15 % of their weekly hours.
    bias = np.clip(np.exp(rng.normal(np.log(1.2), 0.12, size=n)), 0.85, 1.9)
    unplanned = staff["weekly_capacity_h"].to_numpy() * rng.uniform(0.03, 0.15, size=n)
    truth = pd.DataFrame(
        {"person_gid": people_gids, "estimate_bias": bias, "unplanned_h_per_week": unplanned}
    )
    return staff, truth


def _history(
    rng: np.random.Generator,
    gids: _Gids,
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
    frame = _task_frame(rng, gids, staff, projects, person, n, section="Done")
    frame["start_on"] = _dates(start)
    frame["due_on"] = _dates(due)
    frame["estimate_h"] = estimate
    frame["actual_h"] = actual
    frame["remaining_h"] = 0.0
    frame["completed"] = True
    frame["completed_at"] = _dates(completed)
    frame["created_at"] = _dates(created)
    frame["modified_at"] = _dates(completed)
    return frame


def _open_tasks(
    rng: np.random.Generator,
    gids: _Gids,
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
    due = np.where(overdue, _busday(due, "backward"), np.maximum(_busday(due, "forward"), day0))
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
    frame = _task_frame(rng, gids, staff, projects, person, n, section="To do")
    frame.loc[started, "section"] = "In progress"
    frame.loc[~has_due & ~has_start, "section"] = "Backlog"
    frame.loc[rng.random(n) < 0.03, "assignee_gid"] = None
    frame["start_on"] = _dates(np.where(has_start, start, np.iinfo(np.int64).min))
    frame["due_on"] = _dates(np.where(has_due, due, np.iinfo(np.int64).min))
    frame["estimate_h"] = estimate
    frame["actual_h"] = actual
    frame["remaining_h"] = np.maximum(estimate - actual, 0.0)
    frame["completed"] = False
    frame["completed_at"] = pd.NaT
    created = np.minimum(np.where(has_start, start, due), day0) - rng.integers(7, 91, size=n)
    frame["created_at"] = _dates(created)
    frame["modified_at"] = _dates(created + (day0 - created) * rng.random(n))
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
    gids: _Gids,
    staff: pd.DataFrame,
    projects: pd.DataFrame,
    person: npt.NDArray[np.int64],
    n: int,
    *,
    section: str,
) -> pd.DataFrame:
    """Columns every task shares: gid, name, people, project of the assignee's team, skills."""
    task_gids = gids.take(n)
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


def _time_off(rng: np.random.Generator, staff: pd.DataFrame, day0: int) -> pd.DataFrame:
    """A vacation for ~40 % of people in the next eight weeks, a half day for ~20 %."""
    n = len(staff)
    gid = staff["gid"].to_numpy(dtype=object)
    away = rng.random(n) < 0.4
    begin = _busday(day0 + rng.integers(0, 56, size=n), "forward")
    end = np.busday_offset(begin.astype("datetime64[D]"), rng.integers(2, 10, size=n)).astype(
        np.int64
    )
    half = rng.random(n) < 0.2
    half_day = _busday(day0 + rng.integers(0, 28, size=n), "forward")
    return pd.DataFrame(
        {
            "person_gid": np.r_[gid[away], gid[half]],
            "start_on": _dates(np.r_[begin[away], half_day[half]]),
            "end_on": _dates(np.r_[end[away], half_day[half]]),
            "hours_per_day": np.r_[np.full(int(away.sum()), np.nan), np.full(int(half.sum()), 4.0)],
        }
    )


def _time_entries(rng: np.random.Generator, tasks: pd.DataFrame, day0: int) -> pd.DataFrame:
    """Booked time summing exactly to ``actual_h``, on days between start and completion."""
    booked = tasks.loc[(tasks["actual_h"] > 0) & tasks["assignee_gid"].notna()]
    units = np.round(booked["actual_h"].to_numpy() * 4).astype(np.int64)  # 15-minute units
    first = _day_numbers(booked["start_on"].fillna(booked["created_at"]))
    last = np.where(booked["completed"], _day_numbers(booked["completed_at"]), day0 - 1)
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
            "entered_on": _dates(day),
            "minutes": parts * 15,
        }
    )


def _busday(days: Days, roll: Literal["forward", "backward"]) -> Days:
    shifted = np.busday_offset(days.astype("datetime64[D]"), 0, roll=roll)
    return np.asarray(shifted).astype(np.int64)


def _dates(days: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    """Day numbers (int64 minimum = missing) to ``datetime64[ns]``."""
    return np.asarray(days).astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def _day_numbers(values: pd.Series) -> Days:
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _half_hours(hours: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.maximum(np.round(hours * 2) / 2, 0.5)


def _quarter_hours(hours: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.maximum(np.round(hours * 4) / 4, 0.25)
