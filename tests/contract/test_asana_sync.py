"""The Asana gateway and full sync, through the official SDK, against the sandbox server."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest

from bot.asana.client import AsanaGateway
from bot.asana.sync import SyncScope, full_sync
from bot.errors import AsanaAuthError, AsanaUnavailable, LookupFailed
from forecasting.synthetic import generate_org
from sandbox.asana_server import AsanaSandbox, SandboxState
from sandbox.demo_org import load_org
from tests.asana_orgs import NOW, SmallOrg, small_org, visibility_org

TODAY = NOW.date()


@pytest.fixture
def org() -> SmallOrg:
    return small_org()


@pytest.fixture
def sandbox(org: SmallOrg, make_asana_sandbox: Callable[..., AsanaSandbox]) -> AsanaSandbox:
    return make_asana_sandbox(org.state)


def gateway_for(sandbox: AsanaSandbox, token: str | None = None) -> AsanaGateway:
    return AsanaGateway(base_url=sandbox.base_url, token=token or sandbox.token, timeout_s=5)


def sync(sandbox: AsanaSandbox, org: SmallOrg, **scope: object) -> object:
    gateway = gateway_for(sandbox)
    try:
        return full_sync(
            gateway,
            SyncScope(workspace_gid=org.state.workspace_gid, **scope),
            today=TODAY,
            now=NOW,
        )
    finally:
        gateway.close()


def test_full_sync_reads_people_tasks_and_time_off_when_scope_is_default(
    sandbox: AsanaSandbox, org: SmallOrg
) -> None:
    snap = sync(sandbox, org)

    people = snap.people.set_index("gid")
    assert people.loc[org.ana, ["name", "email", "team"]].tolist() == [
        "Ana Alves",
        "ana@example.com",
        "Platform",
    ]
    assert people.loc[org.cleo, "team"] == "Data"
    tasks = snap.tasks.set_index("gid")
    big = tasks.loc[org.ana_big_task]
    assert (big["assignee_gid"], big["project_gid"], big["estimate_h"], big["remaining_h"]) == (
        org.ana,
        org.billing,
        30.0,
        30.0,
    )
    assert big["start_on"] == pd.Timestamp("2026-11-25")
    assert big["required_skills"] == ("backend",)
    assert int(snap.tasks["completed"].sum()) == 1
    assert snap.time_off[["person_gid", "start_on", "end_on"]].values.tolist() == [
        [org.cleo, pd.Timestamp("2026-12-01"), pd.Timestamp("2026-12-01")]
    ]
    assert snap.effort_field is not None and snap.effort_field.gid == org.estimate_field
    assert snap.projects == {org.billing: "Billing", org.pipeline: "Pipeline"}


def test_full_sync_makes_no_per_task_calls_when_reading_many_tasks() -> None:
    org = generate_org(3, today=date(2026, 11, 25))
    state = SandboxState()
    load_org(org, state)
    with AsanaSandbox(state).start() as server:
        gateway = gateway_for(server)
        try:
            snap = full_sync(
                gateway, SyncScope(workspace_gid=state.workspace_gid), today=TODAY, now=NOW
            )
        finally:
            gateway.close()
        paths = [exchange.path for exchange in state.log()]

    assert not [p for p in paths if re.search(r"/tasks/\d+", p)]
    assert snap.api_calls == len(paths)
    assert len(snap.tasks) == len(org.tasks[~org.tasks["completed"]]) + int(
        (
            org.tasks["completed"] & (org.tasks["completed_at"] >= pd.Timestamp("2025-11-25T10:00"))
        ).sum()
    )


def test_full_sync_requests_only_needed_fields_when_listing_tasks(
    sandbox: AsanaSandbox, org: SmallOrg
) -> None:
    sync(sandbox, org)

    task_lists = [e for e in org.state.log() if e.path.endswith("/tasks")]
    assert task_lists
    for exchange in task_lists:
        assert exchange.query["limit"] == "100"
        assert "notes" not in exchange.query["opt_fields"].split(",")
        assert exchange.query["completed_since"] == "2025-11-25T10:00:00.000Z"


def test_full_sync_limits_to_named_teams_when_configured(
    sandbox: AsanaSandbox, org: SmallOrg
) -> None:
    snap = sync(sandbox, org, teams=("data",))

    assert snap.people["gid"].tolist() == [org.cleo]
    assert snap.projects == {org.pipeline: "Pipeline"}


def test_full_sync_names_known_teams_when_a_configured_team_is_unknown(
    sandbox: AsanaSandbox, org: SmallOrg
) -> None:
    with pytest.raises(
        LookupFailed, match=re.escape("ASANA_TEAMS names unknown team(s): nope")
    ) as e:
        sync(sandbox, org, teams=("Nope",))

    assert e.value.choices == ["Data", "Platform"]


def test_full_sync_counts_every_task_unestimated_when_no_effort_field_matches(
    sandbox: AsanaSandbox, org: SmallOrg
) -> None:
    with pytest.raises(LookupFailed, match="ASANA_EFFORT_FIELD 'Story points' matches no"):
        sync(sandbox, org, effort_field="Story points")


def test_gateway_raises_auth_error_with_friendly_message_when_token_is_wrong(
    sandbox: AsanaSandbox, org: SmallOrg
) -> None:
    gateway = gateway_for(sandbox, token="wrong-token")
    try:
        with pytest.raises(AsanaAuthError) as caught:
            full_sync(
                gateway, SyncScope(workspace_gid=org.state.workspace_gid), today=TODAY, now=NOW
            )
    finally:
        gateway.close()

    assert caught.value.status == 401
    assert "wrong-token" not in str(caught.value)
    assert "ASANA_ACCESS_TOKEN" in caught.value.user_message


def test_gateway_raises_unavailable_when_asana_cannot_be_reached(org: SmallOrg) -> None:
    with AsanaSandbox(org.state).start() as server:
        url = server.base_url
    gateway = AsanaGateway(base_url=url, token="t", timeout_s=2, retries=0)
    try:
        with pytest.raises(AsanaUnavailable) as caught:
            full_sync(
                gateway, SyncScope(workspace_gid=org.state.workspace_gid), today=TODAY, now=NOW
            )
    finally:
        gateway.close()

    assert caught.value.user_message.startswith("I couldn't reach Asana")


def test_gateway_retries_then_succeeds_when_asana_fails_once(
    sandbox: AsanaSandbox, org: SmallOrg
) -> None:
    sandbox.fail_next("GET", "/api/1.0/workspaces", status=500, times=1)

    snap = sync(sandbox, org)

    assert len(snap.people) == 3


def test_full_sync_records_who_can_see_each_project_without_extra_calls_when_listing_projects(
    make_asana_sandbox: Callable[..., AsanaSandbox],
) -> None:
    world = visibility_org()
    org = world.small
    # Platform's private Ledger is shared with the Data team (a team membership).
    ledger = org.state.add_project(
        "Ledger", org.platform, privacy="private", shared_with=[org.data]
    )
    sandbox = make_asana_sandbox(org.state)

    snap = sync(sandbox, org)

    assert snap.project_privacy == {
        org.billing: "public_to_workspace",
        org.pipeline: "public_to_workspace",
        world.payroll: "private",
        world.infra: "private_to_team",
        world.exec_: "private",
        ledger: "private",
    }
    assert snap.project_members == {
        org.billing: frozenset(),
        org.pipeline: frozenset(),
        world.payroll: frozenset({org.ana}),
        world.infra: frozenset(),
        world.exec_: frozenset(),
        ledger: frozenset(),
    }
    platform = frozenset({org.ana, org.ben})
    assert snap.project_team_members == {
        org.billing: platform,
        org.pipeline: frozenset({org.cleo}),
        world.payroll: platform,
        world.infra: platform,
        world.exec_: platform,
        ledger: platform,
    }
    assert snap.project_shared_members == {ledger: frozenset({org.cleo})}
    assert snap.task_projects[world.tax_export] == frozenset({world.payroll, org.billing})
    assert snap.task_projects[world.board_deck] == frozenset({world.exec_})
    # User members ride on the team project listings the sync already makes; team shares
    # take one memberships call per project that is not public: 1 workspace teams + 2 team
    # members + 2 team projects + 4 memberships + 1 custom fields + 6 project tasks + 3
    # out-of-office.
    calls = Counter(re.sub(r"/\d+(?=/|$)", "/{gid}", e.path) for e in org.state.log())
    assert calls == {
        "/api/1.0/workspaces/{gid}/teams": 1,
        "/api/1.0/users": 2,
        "/api/1.0/teams/{gid}/projects": 2,
        "/api/1.0/memberships": 4,
        "/api/1.0/workspaces/{gid}/custom_fields": 1,
        "/api/1.0/projects/{gid}/tasks": 6,
        "/api/1.0/ooo_entries": 3,
    }
    assert snap.api_calls == 19
    listings = [e for e in org.state.log() if e.path.endswith("/projects")]
    assert {e.query["opt_fields"] for e in listings} == {"name,team,privacy_setting,members"}


def test_full_sync_warns_and_shares_with_no_team_when_memberships_are_refused(
    make_asana_sandbox: Callable[..., AsanaSandbox],
) -> None:
    world = visibility_org()
    org = world.small
    org.state.add_project("Ledger", org.platform, privacy="private", shared_with=[org.data])
    sandbox = make_asana_sandbox(org.state)
    sandbox.fail_next("GET", "/api/1.0/memberships", status=403, times=1)

    snap = sync(sandbox, org)

    assert snap.project_shared_members == {}
    assert snap.project_members[world.payroll] == frozenset({org.ana})  # the rest is read
    assert (
        "project memberships unavailable (403); projects shared with a team are shown to "
        "their user members only" in snap.warnings
    )


@pytest.mark.parametrize("source", ["projects", "portfolio"])
def test_full_sync_records_project_members_when_projects_come_from_settings_or_a_portfolio(
    make_asana_sandbox: Callable[..., AsanaSandbox], source: str
) -> None:
    world = visibility_org()
    org = world.small
    chosen = (world.payroll, world.infra)
    scope: dict[str, object] = {"projects": chosen}
    if source == "portfolio":
        scope = {"portfolio_gid": org.state.add_portfolio("Finance", org.ana, list(chosen))}
    sandbox = make_asana_sandbox(org.state)

    snap = sync(sandbox, org, **scope)

    assert snap.project_privacy == {world.payroll: "private", world.infra: "private_to_team"}
    assert snap.project_members == {world.payroll: frozenset({org.ana}), world.infra: frozenset()}
    assert snap.project_team_members[world.infra] == frozenset({org.ana, org.ben})
