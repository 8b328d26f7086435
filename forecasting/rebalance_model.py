"""The rebalancing question as an assignment problem: which tasks may move where, and at what price.

Builds the inputs of :func:`forecasting.assignment.solve_assignment` from the frames and a
forecast: jobs are the movable tasks of people at risk, agents are (person, date shift) options,
capacity groups are people and resources are weeks. Pure numpy/pandas; must not import ``bot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from forecasting import frames
from forecasting.assignment import AssignmentProblem
from forecasting.assignment_instance import BoolArray, FloatArray, IntArray
from forecasting.forecast import Forecast, RiskBands
from forecasting.model import CapacityModel
from forecasting.skills import level_gap, required_skills, skill_gaps, skill_levels
from forecasting.spread import EPS_H
from forecasting.workload import compute_workload

WORKING_DAYS_PER_WEEK = 5  # a date shift moves start and due by whole working weeks
# A normal's p90 - p10 spans 2 × 1.2816 standard deviations; the risk line sits 0.8416 sd
# below capacity, where P(load > capacity) is 20 %, the "at risk" band of RiskBands.
P10_P90_SPAN_SD = 2.5631
RISK_LINE_Z = 0.8416


@dataclass(frozen=True)
class RebalanceWeights:
    """Prices of the rebalancer's objective, in hour-equivalents.

    An hour of expected load above a person's risk line costs ``overload_h × (1 + p_over)``, so
    relief goes first where overload is larger and likelier. Any move (a reassignment or a
    date shift) costs ``move``; a reassignment adds ``in_progress`` when work on the task has
    started and ``cross_project`` when the receiver has no open task in its project; each hour
    moved costs ``skill_gap`` per
    proficiency level the receiver lacks below the top level (so experts are preferred); a due
    date moved later costs ``late_day`` per working day; and every hour a receiver is loaded
    above ``comfort`` × capacity costs ``fairness_h``, so relief is spread rather than piled
    onto the least loaded person.
    """

    overload_h: float = 1.0
    move: float = 1.0
    in_progress: float = 2.0
    cross_project: float = 1.0
    skill_gap: float = 0.05
    late_day: float = 0.25
    fairness_h: float = 0.25
    comfort: float = 0.8

    def __post_init__(self) -> None:
        prices = (self.overload_h, self.move, self.in_progress, self.cross_project)
        extras = (self.skill_gap, self.late_day, self.fairness_h)
        if min(prices + extras) < 0 or not 0 < self.comfort <= 1:
            raise ValueError(f"weights must be >= 0 and 0 < comfort <= 1: {self}")


@dataclass(frozen=True)
class RebalanceModel:
    """The assignment problem of one rebalancing question, with what is needed to explain it.

    Attributes:
        persons: pool person gids (capacity groups, in order).
        weeks: Monday of each week of the horizon (resources, in order).
        jobs: the movable tasks (tasks contract columns plus ``expected_h``, ``holder``).
        agent_person: (m,) group (person index) of each option.
        agent_shift: (m,) working weeks each option moves the task's dates by.
        hours: (m, n, k) expected hours of job j in week k under option i.
        base: (g, k) expected load that no move changes.
        capacity: (g, k) threshold × capacity, the line overload is measured against.
        mean: (g, k) expected load today (the forecast's mean, or the movable tasks' own
            hours where those are larger).
        p_over: (g, k) forecast P(over) today.
        risk_line: (g, k) load above which an hour counts as overload (<= capacity).
        risky: (g, k) cells over or at risk today (their load above the risk line is priced).
        problem: the assignment problem handed to the solver.
        notes: facts about the question worth telling the user (tasks left out and why).
    """

    persons: tuple[str, ...]
    weeks: tuple[date, ...]
    jobs: pd.DataFrame
    agent_person: IntArray
    agent_shift: IntArray
    hours: FloatArray
    base: FloatArray
    capacity: FloatArray
    mean: FloatArray
    p_over: FloatArray
    risk_line: FloatArray
    risky: BoolArray
    problem: AssignmentProblem
    notes: tuple[str, ...] = field(default=())

    def loads(self, assignment: IntArray) -> FloatArray:
        """(g, k) expected load per person-week when each job goes to ``assignment``'s option."""
        jobs = np.arange(len(self.jobs))
        load = self.base.copy()
        np.add.at(load, self.agent_person[assignment], self.hours[assignment, jobs])
        return load


def build_model(
    people: pd.DataFrame,
    tasks: pd.DataFrame,
    time_off: pd.DataFrame,
    forecast: Forecast,
    *,
    today: date,
    pool: Sequence[str],
    weights: RebalanceWeights,
    max_moves: int | None,
    shift_weeks: int,
    min_level: int,
    model: CapacityModel | None,
    lead_days: int = 5,
    bands: RiskBands | None = None,
) -> RebalanceModel:
    """Turn a forecast and a pool into an assignment problem (see :class:`RebalanceModel`).

    Jobs are the open, unlocked tasks of pool members with a week at risk (status over or at
    risk, or expected load above capacity) that put hours into the horizon. Each job may stay,
    go to another pool member who has every required skill at ``min_level`` or better, or (when
    ``shift_weeks`` > 0) keep its assignee with its dates moved 1..``shift_weeks`` working
    weeks later, unless a task that depends on it starts before the new due date. Capacity is
    soft above the risk line and hard at ``max(capacity, today's load)``: a receiver stays
    under capacity and nobody ends above today's load.
    """
    bands = bands or RiskBands()
    people = frames.validate("people", people)
    tasks = frames.validate("tasks", tasks)
    team = people.loc[people["gid"].isin(list(pool)) & people["is_active"].to_numpy(bool)]
    persons = tuple(str(g) for g in team["gid"])
    weekly = forecast.weekly.loc[forecast.weekly["person_gid"].isin(persons)]
    weeks = tuple(sorted({pd.Timestamp(w).date() for w in forecast.weekly["week_start"]}))
    grid = _grid(weekly, persons, weeks)
    capacity = forecast.threshold * grid["capacity_h"]
    mean, p_over = grid["mean_h"], grid["p_over"]
    sd = np.maximum(grid["p90_h"] - grid["p10_h"], 0.0) / P10_P90_SPAN_SD
    risk_line = np.minimum(capacity - RISK_LINE_Z * sd, capacity)
    risky = (p_over >= bands.at_risk) | (mean > capacity + EPS_H)

    givers = [persons[i] for i in np.flatnonzero(risky.any(axis=1))]
    jobs, notes = _jobs(tasks, givers, today=today)
    shifts = np.arange(shift_weeks + 1) if shift_weeks > 0 else np.zeros(1, dtype=np.int64)
    agent_person = np.repeat(np.arange(len(persons)), shifts.size).astype(np.int64)
    agent_shift = np.tile(shifts, len(persons)).astype(np.int64)
    holder = pd.Index(persons).get_indexer(pd.Index(jobs["assignee_gid"]))
    jobs = jobs.assign(holder=holder)
    horizon_end = pd.Timestamp(weeks[-1]) + pd.Timedelta(days=6) if weeks else pd.Timestamp(today)
    forbidden = _forbidden(team, tasks, jobs, agent_person, agent_shift, min_level, horizon_end)
    hours, expected = _hours(
        team, jobs, time_off, forbidden, agent_person, agent_shift, today, weeks, lead_days, model
    )
    current = holder * shifts.size  # option (holder, no shift)
    # A task with no hours in the horizon where it is today relieves nobody by moving.
    relieves = hours[current, np.arange(len(jobs))].sum(axis=1) > EPS_H
    if not relieves.all():
        jobs, holder, current = jobs.loc[relieves], holder[relieves], current[relieves]
        hours, forbidden, expected = hours[:, relieves], forbidden[:, relieves], expected[relieves]
    jobs = jobs.reset_index(drop=True).assign(expected_h=expected)
    n = len(jobs)
    moving = np.zeros_like(mean)
    if n:
        np.add.at(moving, holder, hours[current, np.arange(n)])
    # The forecast's mean can sit below the movable tasks' own hours (slip moves some later);
    # today's load in the model is then their hours, so today's plan is always feasible.
    base = np.maximum(mean - moving, 0.0)
    mean = base + moving
    limit = np.maximum(capacity, mean)
    # A receiver stays under capacity: nobody over capacity in a week a task touches takes it,
    # even while handing other work away (their ceiling is then today's load, not capacity).
    over_now = mean > capacity + EPS_H
    touches = hours > EPS_H
    crowded = (touches & over_now[agent_person][:, None, :]).any(axis=2)
    forbidden = forbidden | (crowded & (agent_person[:, None] != holder[None, :]))
    hours = np.where(forbidden[:, :, None], 0.0, hours)
    soft = np.where(risky, risk_line, weights.comfort * capacity)
    price = np.where(risky, weights.overload_h * (1.0 + p_over), weights.fairness_h)
    cost = _costs(team, tasks, jobs, hours, agent_person, agent_shift, weights, today)
    problem = AssignmentProblem(
        cost=cost,
        weight=hours,
        capacity=soft - base,
        group=agent_person,
        overload_cost=price,
        limit=np.maximum(limit - base, 0.0),
        forbidden=forbidden,
        current=current,
        max_moves=max_moves,
    )
    return RebalanceModel(
        persons=persons,
        weeks=weeks,
        jobs=jobs,
        agent_person=agent_person,
        agent_shift=agent_shift,
        hours=hours,
        base=base,
        capacity=capacity,
        mean=mean,
        p_over=p_over,
        risk_line=risk_line,
        risky=risky,
        problem=problem,
        notes=notes,
    )


def shifted(days: pd.Series, weeks: int) -> pd.Series:
    """Dates moved ``weeks`` working weeks later (Mon-Fri); NaT stays NaT."""
    if weeks == 0:
        return days
    known = days.notna().to_numpy()
    out = days.copy()
    moved = np.busday_offset(
        days[known].to_numpy("datetime64[D]"), WORKING_DAYS_PER_WEEK * weeks, roll="forward"
    )
    out.loc[known] = pd.to_datetime(moved)
    return out.astype("datetime64[ns]")


def _grid(
    weekly: pd.DataFrame, persons: tuple[str, ...], weeks: tuple[date, ...]
) -> dict[str, FloatArray]:
    """(g, k) arrays of the forecast columns, zeros where a cell is missing."""
    row = pd.Index(persons).get_indexer(pd.Index(weekly["person_gid"]))
    col = pd.Index(pd.to_datetime(list(weeks))).get_indexer(pd.Index(weekly["week_start"]))
    out: dict[str, FloatArray] = {}
    for name in ("capacity_h", "mean_h", "p_over", "p10_h", "p90_h"):
        grid = np.zeros((len(persons), len(weeks)))
        grid[row, col] = weekly[name].to_numpy(np.float64)
        out[name] = grid
    return out


def _jobs(
    tasks: pd.DataFrame, givers: list[str], *, today: date
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Open tasks of the givers that may move, and notes on the ones that may not."""
    mine = tasks.loc[~tasks["completed"].to_numpy(bool) & tasks["assignee_gid"].isin(givers)]
    notes: list[str] = []
    locked = mine["locked"].to_numpy(bool)
    if locked.any():
        notes.append(f"{int(locked.sum())} locked task(s) of people at risk stay where they are")
    movable = mine.loc[~locked]
    undated = movable["due_on"].isna().to_numpy()
    if undated.any():
        notes.append(
            f"{int(undated.sum())} task(s) without a due date were not considered: "
            "they put no hours into any week"
        )
    return movable.loc[~undated].reset_index(drop=True), tuple(notes)


def _forbidden(
    team: pd.DataFrame,
    tasks: pd.DataFrame,
    jobs: pd.DataFrame,
    agent_person: IntArray,
    agent_shift: IntArray,
    min_level: int,
    horizon_end: pd.Timestamp,
) -> BoolArray:
    """(m, n) True where an option may not take a job: skills, shifts of others' tasks, deps."""
    levels = [skill_levels(skills) for skills in team["skills"]]
    m, n = agent_person.size, len(jobs)
    forbidden = np.zeros((m, n), dtype=np.bool_)
    holder = jobs["holder"].to_numpy(np.int64)
    for j, cell in enumerate(jobs["required_skills"]):
        required = required_skills(cell)
        lacking = np.array([bool(skill_gaps(person, required, min_level)) for person in levels])
        forbidden[:, j] |= lacking[agent_person] & (agent_person != holder[j])
    # Only the holder's own options shift dates; another person takes the task as planned.
    forbidden |= (agent_shift[:, None] > 0) & (agent_person[:, None] != holder[None, :])
    if agent_shift.max(initial=0) > 0 and n:
        forbidden |= _blocked_shifts(tasks, jobs, agent_shift, horizon_end)
    return forbidden


def _blocked_shifts(
    tasks: pd.DataFrame, jobs: pd.DataFrame, agent_shift: IntArray, horizon_end: pd.Timestamp
) -> BoolArray:
    """(m, n) True where moving a job's due date by the option's shift would pass the start of
    an open task that depends on it (dependencies are respected, never broken), or the end of
    the horizon (work pushed past it would look like relief but only leave the forecast)."""
    waiting = tasks.loc[~tasks["completed"].to_numpy(bool)]
    first_day: dict[str, pd.Timestamp] = {}
    for deps, start, due in zip(
        waiting["depends_on"], waiting["start_on"], waiting["due_on"], strict=True
    ):
        begins = start if pd.notna(start) else due
        if pd.isna(begins):
            continue
        for gid in deps:
            key = str(gid)
            first_day[key] = min(first_day.get(key, begins), begins)
    blocked = np.zeros((agent_shift.size, len(jobs)), dtype=np.bool_)
    for s in np.unique(agent_shift[agent_shift > 0]):
        new_due = shifted(jobs["due_on"], int(s))
        for j, gid in enumerate(jobs["gid"]):
            limit = first_day.get(str(gid))
            due = new_due.iloc[j]
            if due > horizon_end or (limit is not None and due >= limit):
                blocked[agent_shift == s, j] = True
    return blocked


def _hours(
    team: pd.DataFrame,
    jobs: pd.DataFrame,
    time_off: pd.DataFrame,
    forbidden: BoolArray,
    agent_person: IntArray,
    agent_shift: IntArray,
    today: date,
    weeks: tuple[date, ...],
    lead_days: int,
    model: CapacityModel | None,
) -> tuple[FloatArray, FloatArray]:
    """(m, n, k) hours of every allowed option in each week, and each job's expected hours.

    Every option is spread on its person's own calendar (leave, holidays, workdays) with its
    effort corrected for that person's estimation bias when a fitted model is given.
    """
    m, n, k = agent_person.size, len(jobs), len(weeks)
    hours = np.zeros((m, n, k))
    if n == 0:
        return hours, np.zeros(0)
    agents, cols = np.nonzero(~forbidden)
    options = jobs.iloc[cols].reset_index(drop=True)
    gids = team["gid"].to_numpy(object)
    options = options.assign(
        gid=[f"{a}:{j}" for a, j in zip(agents, cols, strict=True)],
        assignee_gid=gids[agent_person[agents]],
    )
    for s in np.unique(agent_shift[agents]):
        rows = agent_shift[agents] == s
        options.loc[rows, "start_on"] = shifted(options.loc[rows, "start_on"], int(s))
        options.loc[rows, "due_on"] = shifted(options.loc[rows, "due_on"], int(s))
    if model is not None and model.fallback_ is None:
        effort = model.corrected_effort(options)
        options["remaining_h"] = effort["expected_h"].to_numpy()
    spread = compute_workload(
        team, options, time_off, today=today, weeks=k, lead_days=lead_days, top_drivers=None
    ).drivers
    keys = spread["task_gid"].str.split(":", expand=True).astype(np.int64).to_numpy()
    start = pd.Timestamp(weeks[0])
    week = ((spread["week_start"] - start).dt.days.to_numpy() // 7).astype(np.int64)
    hours[keys[:, 0], keys[:, 1], week] = spread["hours"].to_numpy(np.float64)
    current = jobs["holder"].to_numpy(np.int64) * (int(agent_shift.max(initial=0)) + 1)
    remaining = options["remaining_h"].to_numpy(np.float64)
    at_holder = agents == current[cols]
    expected = np.full(n, np.nan)
    expected[cols[at_holder]] = remaining[at_holder]
    return hours, expected


def _costs(
    team: pd.DataFrame,
    tasks: pd.DataFrame,
    jobs: pd.DataFrame,
    hours: FloatArray,
    agent_person: IntArray,
    agent_shift: IntArray,
    weights: RebalanceWeights,
    today: date,
) -> FloatArray:
    """(m, n) cost of each option in hour-equivalents (0 for a job's current option)."""
    m, n = agent_person.size, len(jobs)
    if n == 0:
        return np.zeros((m, 0))
    holder = jobs["holder"].to_numpy(np.int64)
    moved = agent_person[:, None] != holder[None, :]  # reassigned
    changed = moved | (agent_shift[:, None] > 0)  # reassigned or shifted
    began = jobs["start_on"].notna() & (jobs["start_on"] <= pd.Timestamp(today))
    started = (jobs["actual_h"].fillna(0.0).to_numpy() > 0) | began.to_numpy()
    cost = weights.move * changed + np.where(moved, weights.in_progress * started[None, :], 0.0)
    gids = list(team["gid"])
    open_tasks = tasks.loc[~tasks["completed"].to_numpy(bool)]
    works_on = {
        (str(a), str(p))
        for a, p in zip(open_tasks["assignee_gid"], open_tasks["project_gid"], strict=True)
    }
    elsewhere = np.array(
        [
            [(gids[p], str(pr)) not in works_on for pr in jobs["project_gid"]]
            for p in range(len(gids))
        ],
        dtype=np.float64,
    ).reshape(len(gids), n)
    cost += np.where(moved, weights.cross_project * elsewhere[agent_person], 0.0)
    levels = [skill_levels(skills) for skills in team["skills"]]
    gap = np.zeros((len(gids), n))
    for j, cell in enumerate(jobs["required_skills"]):
        required = required_skills(cell)
        for p in range(len(gids)):
            gap[p, j] = level_gap(levels[p], required)
    total = hours.sum(axis=2)
    cost += np.where(moved, weights.skill_gap * gap[agent_person] * total, 0.0)
    late = weights.late_day * WORKING_DAYS_PER_WEEK * agent_shift.astype(np.float64)
    return np.asarray(cost + late[:, None], dtype=np.float64)
