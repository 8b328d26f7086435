"""People of the synthetic organisation: names, contracts, locales, skills, the hidden truth of
their estimation bias and unplanned work, and their time off.

Pure numpy and pandas; must not import ``bot`` or ``sandbox``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.synthetic_days import busday, dates

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
# fmt: on


def draw_people(
    rng: np.random.Generator,
    take_gids: Callable[[int], npt.NDArray[np.object_]],
    n: int,
    team_names: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` people spread over ``team_names`` in turn, and their hidden truth."""
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
    people_gids = take_gids(n)
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


def draw_time_off(rng: np.random.Generator, staff: pd.DataFrame, day0: int) -> pd.DataFrame:
    """A vacation for ~40 % of people in the next eight weeks, a half day for ~20 %."""
    n = len(staff)
    gid = staff["gid"].to_numpy(dtype=object)
    away = rng.random(n) < 0.4
    begin = busday(day0 + rng.integers(0, 56, size=n), "forward")
    end = np.busday_offset(begin.astype("datetime64[D]"), rng.integers(2, 10, size=n)).astype(
        np.int64
    )
    half = rng.random(n) < 0.2
    half_day = busday(day0 + rng.integers(0, 28, size=n), "forward")
    return pd.DataFrame(
        {
            "person_gid": np.r_[gid[away], gid[half]],
            "start_on": dates(np.r_[begin[away], half_day[half]]),
            "end_on": dates(np.r_[end[away], half_day[half]]),
            "hours_per_day": np.r_[np.full(int(away.sum()), np.nan), np.full(int(half.sum()), 4.0)],
        }
    )
