from __future__ import annotations

import time
from dataclasses import fields
from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecasting import frames
from forecasting.synthetic import SyntheticOrg, generate_org
from forecasting.synthetic_tasks import late_probability, planned_days
from forecasting.workload import compute_workload

TODAY = date(2025, 3, 12)


@pytest.fixture(scope="module")
def org() -> SyntheticOrg:
    return generate_org(7, today=TODAY)


def _open(org: SyntheticOrg) -> pd.DataFrame:
    return org.tasks[~org.tasks["completed"]]


def test_generate_org_returns_identical_frames_when_seed_and_today_repeat(org):
    again = generate_org(7, today=TODAY)

    for field in fields(SyntheticOrg):
        mine, theirs = getattr(org, field.name), getattr(again, field.name)
        if isinstance(mine, pd.DataFrame):
            pd.testing.assert_frame_equal(mine, theirs)
        else:
            assert mine == theirs


def test_generate_org_differs_when_seed_changes(org):
    other = generate_org(8, today=TODAY)

    assert not other.tasks["remaining_h"].equals(org.tasks["remaining_h"])


def test_generate_org_has_the_requested_counts_when_defaults_are_used(org):
    assert len(org.teams) == 3
    assert len(org.people) == 24
    assert len(org.projects) == 6
    assert len(_open(org)) == 500
    assert set(org.people["team"]) == {"Platform", "Product", "Data"}
    assert set(org.projects["team"]) <= set(org.teams["name"])


def test_generate_org_satisfies_the_frame_contracts_when_validated(org):
    for contract, frame in (
        ("people", org.people),
        ("tasks", org.tasks),
        ("time_off", org.time_off),
    ):
        pd.testing.assert_frame_equal(frames.validate(contract, frame), frame)


def test_generate_org_uses_unique_numeric_gids_when_ids_are_handed_out(org):
    gids = pd.concat([org.teams["gid"], org.people["gid"], org.projects["gid"], org.tasks["gid"]])

    assert gids.is_unique
    assert gids.str.fullmatch(r"\d{16}").all()
    assert org.people["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.com").all()
    assert org.people["email"].is_unique


def test_generate_org_varies_people_when_contracts_and_countries_are_drawn(org):
    people = org.people

    assert people["weekly_capacity_h"].nunique() >= 3
    assert (people["workdays"].str.count("1") == 4).any()
    assert people["country"].nunique() >= 4
    assert people["skills"].map(len).min() >= 1
    assert len(org.time_off) > 0


def test_generate_org_leaves_realistic_gaps_when_open_work_is_drawn(org):
    open_tasks = _open(org)

    unestimated = open_tasks["remaining_h"].isna().mean()
    undated = open_tasks["due_on"].isna().mean()
    overdue = (open_tasks["due_on"] < pd.Timestamp(TODAY)).mean()
    assert 0.09 <= unestimated <= 0.21
    assert 0.04 <= undated <= 0.13
    assert 0.05 <= overdue <= 0.16
    assert 1 <= open_tasks["assignee_gid"].isna().sum() <= 30
    assert (open_tasks["depends_on"].map(len) > 0).sum() >= 20


def test_generate_org_keeps_dependencies_inside_a_project_when_tasks_wait(org):
    open_tasks = _open(org).set_index("gid")
    waiting = open_tasks[open_tasks["depends_on"].map(len) > 0]
    blockers = waiting["depends_on"].map(lambda deps: deps[0])

    assert blockers.isin(open_tasks.index).all()
    assert (open_tasks.loc[blockers, "project_gid"].to_numpy() == waiting["project_gid"]).all()


def test_generate_org_books_time_matching_actuals_when_time_is_tracked(org):
    booked = org.time_entries.groupby("task_gid")["minutes"].sum() / 60
    tracked = org.tasks.set_index("gid")["actual_h"]
    tracked = tracked[(tracked > 0) & org.tasks.set_index("gid")["assignee_gid"].notna()]

    assert booked.sort_index().to_numpy() == pytest.approx(tracked.sort_index().to_numpy())
    assert (org.time_entries["entered_on"] < pd.Timestamp(TODAY)).all()


def test_generate_org_exports_truth_for_every_person_when_generated(org):
    truth = org.truth

    assert list(truth.columns) == ["person_gid", "estimate_bias", "unplanned_h_per_week"]
    assert truth["person_gid"].tolist() == org.people["gid"].tolist()
    assert 1.05 <= truth["estimate_bias"].mean() <= 1.35
    assert truth["estimate_bias"].std() > 0.03
    assert (truth["unplanned_h_per_week"] > 0).all()


def test_generate_org_reflects_the_true_bias_when_history_is_compared(org):
    done = org.tasks[org.tasks["completed"] & org.tasks["estimate_h"].notna()]
    notice = (done["start_on"] - done["created_at"]).dt.days
    planned = done[notice >= 14]
    ratio = (planned["actual_h"] / planned["estimate_h"]).groupby(planned["assignee_gid"]).median()
    truth = org.truth.set_index("person_gid")["estimate_bias"]

    assert len(done) > 2000
    assert np.corrcoef(ratio.loc[truth.index], truth)[0, 1] > 0.8


def _dated_history(org: SyntheticOrg) -> pd.DataFrame:
    done = org.tasks[org.tasks["completed"] & org.tasks["estimate_h"].notna()].copy()
    done["window"] = (done["due_on"] - done["start_on"]).dt.days
    done["late"] = done["completed_at"] > done["due_on"]
    return done


def test_generate_org_plans_each_window_from_the_estimate_whatever_the_outcome(org):
    done = _dated_history(org)
    slack = done["window"] - planned_days(done["estimate_h"].to_numpy())

    # Every plan gave its estimate's days plus 2-11 days, late or not: the due date was set
    # before the work, so a slip model cannot read the outcome from the window.
    assert slack.between(2, 11).all()
    assert 0.25 < done["late"].mean() < 0.35


def test_generate_org_makes_underestimators_and_tight_plans_late_more_often(org):
    done = _dated_history(org)
    bias = done["assignee_gid"].map(org.truth.set_index("person_gid")["estimate_bias"])
    slack = done["window"] - planned_days(done["estimate_h"].to_numpy())

    high, low = bias >= bias.quantile(0.75), bias <= bias.quantile(0.25)
    assert done.loc[high, "late"].mean() > done.loc[low, "late"].mean() + 0.05
    assert done.loc[slack <= 4, "late"].mean() > done.loc[slack >= 9, "late"].mean() + 0.05


def test_late_probability_averages_about_a_third_when_overrun_and_slack_are_typical():
    rng = np.random.default_rng(0)
    overrun = np.log(1.2) + rng.normal(0.0, 0.28, size=20_000)
    slack = rng.integers(2, 12, size=20_000)

    p = late_probability(overrun, slack)

    assert 0.27 < p.mean() < 0.35
    assert late_probability(np.log(1.2), 6.5) == pytest.approx(0.3, abs=0.01)


def test_generate_org_shows_overload_when_the_next_four_weeks_are_planned(org):
    workload = compute_workload(org.people, org.tasks, org.time_off, today=TODAY, weeks=4)

    statuses = workload.weekly["status"].value_counts()
    assert statuses.get("over", 0) >= 3
    assert statuses.get("ok", 0) + statuses.get("under", 0) > statuses["over"]


def test_generate_org_is_fast_when_defaults_are_used():
    started = time.perf_counter()

    generate_org(3, today=TODAY)

    assert time.perf_counter() - started < 2.0
