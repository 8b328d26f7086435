"""Generalized assignment benchmark instances: the shared OR-Library files and seeded generators.

Reads ``../shared/data/gap/`` (relative to the project root) in place; nothing is copied.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from forecasting.assignment import AssignmentProblem

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "gap"
OPTIMA_CSV = DATA_DIR / "gap1-12_optima.csv"
BEST_KNOWN_CSV = DATA_DIR / "best_known.csv"


@dataclass(frozen=True)
class GapInstance:
    """One benchmark problem and the value to compare a plan against.

    Attributes:
        name: e.g. ``gap3-2``, ``d20200`` or ``team-D-20x300-s4``.
        problem: the problem, as minimisation or maximisation.
        reference: proven optimum or best-known value (None until computed).
        reference_kind: "optimum" or "best known".
    """

    name: str
    problem: AssignmentProblem
    reference: float | None
    reference_kind: str


def read_gap(path: Path, *, maximize: bool = False) -> AssignmentProblem:
    """Read one OR-Library instance file: ``m n``, m rows of n costs, m rows of n weights,
    then m capacities (the split gap1-12 files, Chu & Beasley's and Yagiura's all hold
    exactly one problem)."""
    numbers = np.array(path.read_text().split(), dtype=np.int64)
    m, n = int(numbers[0]), int(numbers[1])
    expected = 2 + 2 * m * n + m
    if numbers.size != expected:
        raise ValueError(f"{path}: {numbers.size} numbers, expected {expected} for one problem")
    cost = numbers[2 : 2 + m * n].reshape(m, n)
    weight = numbers[2 + m * n : 2 + 2 * m * n].reshape(m, n)
    capacity = numbers[2 + 2 * m * n :]
    return AssignmentProblem(
        cost=cost.astype(np.float64),
        weight=weight.astype(np.float64),
        capacity=capacity.astype(np.float64),
        maximize=maximize,
    )


def cattrysse(*, maximize: bool) -> list[GapInstance]:
    """OR-Library gap1-gap12 (60 problems) with their proven optima."""
    column = "optimal_max_profit" if maximize else "optimal_min_cost"
    instances = []
    with OPTIMA_CSV.open() as handle:
        for row in csv.DictReader(handle):
            name = f"{row['file']}-{int(row['problem_index']) - 1}"
            problem = read_gap(DATA_DIR / "cattrysse1994_split" / name, maximize=maximize)
            instances.append(GapInstance(name, problem, float(row[column]), "optimum"))
    return instances


def published(dataset: str, types: str) -> list[GapInstance]:
    """Chu & Beasley (``chu1997``) or Yagiura (``yagiura2004``) instances of the given types,
    with the proven optimum where known, else the best-known value."""
    instances = []
    with BEST_KNOWN_CSV.open() as handle:
        for row in csv.DictReader(handle):
            folder, name = row["Path"].split("/")
            if folder != dataset or name[0] not in types:
                continue
            optimum = row["Optimum"].strip()
            value = float(optimum or row["Best known solution value"])
            kind = "optimum" if optimum else "best known"
            instances.append(GapInstance(name, read_gap(DATA_DIR / dataset / name), value, kind))
    return sorted(instances, key=lambda i: (i.name[0], len(i.name), i.name))


def generate(kind: str, agents: int, jobs: int, seed: int) -> AssignmentProblem:
    """A fresh minimisation instance of Chu & Beasley / Laguna type A-E (integer data).

    Types (data README): A: r~U[5,25], c~U[10,50], b = 9 n/m + 0.4 max_i sum of r_ij over the
    jobs cheapest at i; B: 0.7 x A's b; C: r, c as A, b_i = 0.8 sum_j r_ij / m;
    D: r~U[1,100], c = 111 - r + U[-10,10], b as C; E: r = 1 - 10 ln u, c = 1000/r - 10 v,
    b as C.
    """
    rng = np.random.default_rng(seed)
    shape = (agents, jobs)
    weight: npt.NDArray[np.float64]
    if kind in "ABC":
        weight = rng.integers(5, 26, size=shape).astype(np.float64)
        cost = rng.integers(10, 51, size=shape).astype(np.float64)
    elif kind == "D":
        weight = rng.integers(1, 101, size=shape).astype(np.float64)
        cost = 111 - weight + rng.integers(-10, 11, size=shape)
    elif kind == "E":
        u = 1.0 - rng.random(shape)  # in (0, 1]
        weight = np.floor(1 - 10 * np.log(u))
        cost = np.floor(1000 / weight - 10 * rng.random(shape))
    else:
        raise ValueError(f"unknown instance type {kind!r}")
    if kind in "AB":
        cheapest = np.argmin(cost, axis=0)
        per_agent = np.bincount(
            cheapest, weights=weight[cheapest, np.arange(jobs)], minlength=agents
        )
        capacity = np.full(agents, np.floor(9 * jobs / agents + 0.4 * per_agent.max()))
        if kind == "B":
            capacity = np.floor(0.7 * capacity)
    else:
        capacity = np.floor(0.8 * weight.sum(axis=1) / agents)
    return AssignmentProblem(cost=cost, weight=weight, capacity=capacity)


def generate_weekly(
    people: int, tasks: int, weeks: int, shifts: int, seed: int
) -> AssignmentProblem:
    """A fresh rebalancer-shaped instance (integer data): tasks held by people over ``weeks``.

    A task puts U[2, 12] hours into each of 1-3 consecutive weeks. It may stay, go to another
    person with the skills (70 % of people; hours scaled by their speed, U[0.8, 1.25]) for a
    cost of 2, or keep its holder with its hours moved 1..``shifts`` weeks later (hours past
    the horizon drop out) for 1 per week. Agents are (person, shift) pairs grouped by person,
    resources are weeks; load above 85 % of the mean person-week costs U{2..4} per hour, and
    no cell may end above max(1.25 x that line, its load today). At most tasks / 8 move.
    """
    rng = np.random.default_rng(seed)
    options = shifts + 1
    holder = rng.integers(0, people, size=tasks)
    profile = np.zeros((tasks, weeks))
    start = rng.integers(0, weeks, size=tasks)
    span = rng.integers(1, 4, size=tasks)
    for j in range(tasks):
        end = min(weeks, start[j] + span[j])
        profile[j, start[j] : end] = rng.integers(2, 13, size=end - start[j])
    person = np.repeat(np.arange(people), options)
    shift = np.tile(np.arange(options), people)
    speed = np.round(rng.uniform(0.8, 1.25, size=(people, tasks)), 2)
    speed[holder, np.arange(tasks)] = 1.0
    weight = np.zeros((people * options, tasks, weeks))
    for s in range(options):
        moved = np.zeros_like(profile)
        moved[:, s:] = profile[:, : weeks - s]
        weight[shift == s] = np.round(speed[:, :, None] * moved[None, :, :])
    mine = person[:, None] == holder[None, :]
    skilled = (rng.random((people, tasks)) < 0.7)[person] | mine
    forbidden = ~skilled | ((shift[:, None] > 0) & ~mine)
    cost = np.where(mine, shift[:, None].astype(np.float64), 2.0)
    current = holder * options
    today = np.zeros((people, weeks))
    np.add.at(today, holder, profile)
    line = np.floor(0.85 * today.mean()) * np.ones((people, weeks))
    return AssignmentProblem(
        cost=cost,
        weight=weight,
        capacity=line,
        forbidden=forbidden,
        current=current,
        max_moves=tasks // 8,
        overload_cost=rng.integers(2, 5, size=(people, weeks)).astype(np.float64),
        group=person,
        limit=np.maximum(np.floor(1.25 * line), today),
    )
