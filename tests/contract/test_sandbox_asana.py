"""The sandbox Asana server, driven by the official `asana` SDK and checked against the spec.

Every exchange in this module is validated against Asana's OpenAPI spec by the fixtures in
`conftest.py` (request, response and declared property names); tests here pin the behaviour the
product relies on: shapes, opt_fields, paging, writes and Asana's error answers.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asana
import pytest
from asana.rest import ApiException

from sandbox.asana_model import Exchange
from sandbox.asana_server import AsanaSandbox, SandboxState
from sandbox.openapi import AsanaSpec

T = 5  # seconds; the SDK has no default timeout, so every call passes _request_timeout
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

MakeSandbox = Callable[..., AsanaSandbox]
MakeClient = Callable[..., asana.ApiClient]


@dataclass
class FakeClock:
    """Time that moves only when a test says so (for modified_at and the rate-limit window)."""

    moment: datetime = START

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.moment.timestamp()

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@dataclass
class Org:
    """Gids of a small organisation: two teams, three people, tasks with every field type."""

    state: SandboxState
    ada: str = ""
    ben: str = ""
    cleo: str = ""
    platform: str = ""
    data: str = ""
    billing: str = ""
    archive: str = ""
    portfolio: str = ""
    estimate: str = ""
    priority: str = ""
    skills: str = ""
    notes_field: str = ""
    reviewers: str = ""
    high: str = ""
    low: str = ""
    python: str = ""
    go: str = ""
    draft: str = ""
    review: str = ""
    shipped: str = ""
    tasks: list[str] = field(default_factory=list)


def build_org(state: SandboxState) -> Org:
    o = Org(state)
    o.ada = state.add_user("Ada Lovelace", "ada@example.com")  # first user: owns the token
    o.ben = state.add_user("Ben Bitdiddle", "ben@example.com")
    o.cleo = state.add_user("Cleo Ng", "cleo@example.com")
    o.platform = state.add_team("Platform", [o.ada, o.ben])
    o.data = state.add_team("Data", [o.cleo, o.ada])
    o.billing = state.add_project("Billing", o.platform)
    o.archive = state.add_project("Old billing", o.platform, archived=True)
    state.add_project("Pipelines", o.data)
    o.portfolio = state.add_portfolio("Q4", o.ada, [o.billing, o.archive])
    o.estimate = state.add_custom_field(
        "Estimated time", "number", format="duration", asana_created_field="estimated_time"
    )
    o.priority = state.add_custom_field("Priority", "enum", enum_options=["High", "Low"])
    o.skills = state.add_custom_field("Skills", "multi_enum", enum_options=["python", "go"])
    o.notes_field = state.add_custom_field("Risk notes", "text")
    o.reviewers = state.add_custom_field("Reviewers", "people")
    for field_gid in (o.estimate, o.priority, o.skills, o.notes_field, o.reviewers):
        state.add_field_to_project(o.billing, field_gid)
    o.high, o.low = (state.enum_option_gid(o.priority, n) for n in ("High", "Low"))
    o.python, o.go = (state.enum_option_gid(o.skills, n) for n in ("python", "go"))
    values = {o.estimate: 240, o.priority: o.high, o.skills: [o.python]}
    o.draft = state.add_task(
        "Draft spec",
        projects=[o.billing],
        section="Doing",
        assignee=o.ada,
        start_on="2026-11-23",
        due_on="2026-11-27",
        custom_fields=values,
    )
    o.review = state.add_task(
        "Review spec", projects=[o.billing], assignee=o.ben, dependencies=[o.draft]
    )
    o.shipped = state.add_task(
        "Ship v1",
        projects=[o.billing],
        assignee=o.ada,
        completed=True,
        completed_at="2026-11-20T12:00:00.000Z",
    )
    chores = [state.add_task(f"Chore {i}", projects=[o.billing]) for i in range(4)]
    o.tasks = [o.draft, o.review, o.shipped, *chores]
    state.add_time_entry(o.draft, o.ada, "2026-11-23", 30)
    state.add_time_entry(o.draft, o.ben, "2026-11-24", 45)
    state.add_ooo(o.cleo, "2026-12-01", "2026-12-03")
    state.add_ooo(o.cleo, "2027-01-10", "2027-01-12")
    return o


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def asana_state(clock: FakeClock) -> SandboxState:
    return SandboxState("Example Org", now=clock.now)


@pytest.fixture
def org(asana_state: SandboxState) -> Org:
    return build_org(asana_state)


@pytest.fixture
def client(make_asana_client: MakeClient, asana_sandbox: AsanaSandbox, org: Org) -> asana.ApiClient:
    """An SDK client with retries off, so refusals surface as ApiException immediately."""
    return make_asana_client(asana_sandbox, retries=False)


def tasks_api(client: asana.ApiClient) -> asana.TasksApi:
    return asana.TasksApi(client)


def error_of(info: pytest.ExceptionInfo[ApiException]) -> tuple[int, str]:
    body = json.loads(info.value.body)
    assert set(body) == {"errors"} and "help" in body["errors"][0]
    return info.value.status, body["errors"][0]["message"]


def last(sandbox: AsanaSandbox) -> Exchange:
    return sandbox.state.log()[-1]


# ---- workspaces, users, teams ---------------------------------------------------------------


def test_workspaces_list_the_one_sandbox_workspace_when_requested(
    client: asana.ApiClient, org: Org
) -> None:
    api = asana.WorkspacesApi(client)

    listed = list(api.get_workspaces({}, _request_timeout=T))
    full = api.get_workspace(org.state.workspace_gid, {}, _request_timeout=T)

    assert listed == [
        {"gid": org.state.workspace_gid, "resource_type": "workspace", "name": "Example Org"}
    ]
    assert full["is_organization"] is True and full["email_domains"] == []


def test_users_come_sorted_by_gid_and_filtered_by_team_when_listed(
    client: asana.ApiClient, org: Org
) -> None:
    api = asana.UsersApi(client)

    everyone = list(api.get_users({"workspace": org.state.workspace_gid}, _request_timeout=T))
    data_team = list(api.get_users({"team": org.data}, _request_timeout=T))

    assert [u["gid"] for u in everyone] == [org.ada, org.ben, org.cleo]
    assert everyone[0] == {"gid": org.ada, "resource_type": "user", "name": "Ada Lovelace"}
    assert {u["gid"] for u in data_team} == {org.cleo, org.ada}


def test_user_is_found_by_me_email_or_gid_when_fetched(client: asana.ApiClient, org: Org) -> None:
    api = asana.UsersApi(client)

    me = api.get_user("me", {}, _request_timeout=T)
    by_email = api.get_user("ben@example.com", {"opt_fields": "email"}, _request_timeout=T)

    assert me["gid"] == org.ada and me["email"] == "ada@example.com" and me["photo"] is None
    assert me["workspaces"] == [
        {"gid": org.state.workspace_gid, "resource_type": "workspace", "name": "Example Org"}
    ]
    assert by_email == {
        "gid": org.ben,
        "resource_type": "user",
        "name": "Ben Bitdiddle",
        "email": "ben@example.com",
    }


def test_workspace_and_team_members_come_sorted_by_name_when_listed(
    client: asana.ApiClient, org: Org
) -> None:
    api = asana.UsersApi(client)

    workspace = list(api.get_users_for_workspace(org.state.workspace_gid, {}, _request_timeout=T))
    team = list(api.get_users_for_team(org.data, {"opt_fields": "email"}, _request_timeout=T))

    assert [u["name"] for u in workspace] == ["Ada Lovelace", "Ben Bitdiddle", "Cleo Ng"]
    assert [u["email"] for u in team] == ["ada@example.com", "cleo@example.com"]


def test_teams_are_listed_per_workspace_and_per_user_when_requested(
    client: asana.ApiClient, org: Org
) -> None:
    api = asana.TeamsApi(client)

    teams = list(api.get_teams_for_workspace(org.state.workspace_gid, {}, _request_timeout=T))
    cleos = list(api.get_teams_for_user(org.cleo, org.state.workspace_gid, {}, _request_timeout=T))
    team = api.get_team(org.platform, {"opt_fields": "organization.name"}, _request_timeout=T)

    assert [t["name"] for t in teams] == ["Platform", "Data"]
    assert [t["gid"] for t in cleos] == [org.data]
    assert team["organization"]["name"] == "Example Org"


# ---- projects, portfolios, custom fields ----------------------------------------------------


def test_projects_filter_by_team_and_archived_when_listed(
    client: asana.ApiClient, org: Org
) -> None:
    api = asana.ProjectsApi(client)
    ws = org.state.workspace_gid

    active = list(api.get_projects({"workspace": ws, "archived": "false"}, _request_timeout=T))
    archived = list(
        api.get_projects_for_team(org.platform, {"archived": "true"}, _request_timeout=T)
    )
    everything = list(api.get_projects_for_workspace(ws, {}, _request_timeout=T))
    project = api.get_project(org.billing, {}, _request_timeout=T)

    assert [p["name"] for p in active] == ["Billing", "Pipelines"]
    assert [p["gid"] for p in archived] == [org.archive]
    assert len(everything) == 3
    assert project["team"] == {"gid": org.platform, "resource_type": "team", "name": "Platform"}
    assert project["archived"] is False and len(project["custom_field_settings"]) == 5


def test_projects_carry_members_and_privacy_setting_when_asked_for_in_opt_fields(
    client: asana.ApiClient, org: Org
) -> None:
    secret = org.state.add_project("Payroll", org.platform, privacy="private", members=[org.ben])
    api = asana.ProjectsApi(client)
    opts = {"opt_fields": "name,team,privacy_setting,members", "archived": "false"}

    listed = list(api.get_projects_for_team(org.platform, opts, _request_timeout=T))

    ben = {"gid": org.ben, "resource_type": "user", "name": "Ben Bitdiddle"}
    assert [(p["name"], p["privacy_setting"], p["members"]) for p in listed] == [
        ("Billing", "public_to_workspace", []),
        ("Payroll", "private", [ben]),
    ]
    full = api.get_project(secret, {}, _request_timeout=T)
    assert (full["privacy_setting"], full["public"], full["members"]) == ("private", False, [ben])


def test_memberships_name_the_users_and_teams_a_project_is_shared_with_when_listed(
    client: asana.ApiClient, org: Org
) -> None:
    shared = org.state.add_project(
        "Payroll", org.platform, privacy="private", members=[org.ben], shared_with=[org.data]
    )
    api = asana.MembershipsApi(client)

    listed = list(api.get_memberships({"parent": shared}, _request_timeout=T))
    of_team = list(
        api.get_memberships(
            {"member": org.data, "resource_subtype": "project_membership"}, _request_timeout=T
        )
    )

    assert [(m["resource_subtype"], m["member"]) for m in listed] == [
        ("project_membership", {"gid": org.ben, "resource_type": "user", "name": "Ben Bitdiddle"}),
        ("project_membership", {"gid": org.data, "resource_type": "team", "name": "Data"}),
    ]
    assert "parent" not in listed[0]  # opt-in, and the endpoint's opt_fields cannot ask for it
    assert [m["gid"] for m in of_team] == [listed[1]["gid"]]
    with pytest.raises(ApiException) as refused:
        list(api.get_memberships({"member": org.data}, _request_timeout=T))
    assert refused.value.status == 400


def test_portfolios_list_the_owners_portfolios_and_items_when_requested(
    client: asana.ApiClient, org: Org
) -> None:
    api = asana.PortfoliosApi(client)
    ws = org.state.workspace_gid

    mine = list(api.get_portfolios(ws, {}, _request_timeout=T))
    bens = list(api.get_portfolios(ws, {"owner": org.ben}, _request_timeout=T))
    items = list(
        api.get_items_for_portfolio(org.portfolio, {"opt_fields": "archived"}, _request_timeout=T)
    )

    assert [p["gid"] for p in mine] == [org.portfolio] and bens == []
    assert [(p["gid"], p["archived"]) for p in items] == [(org.billing, False), (org.archive, True)]


def test_estimated_time_field_reads_as_duration_in_minutes_when_fetched(
    client: asana.ApiClient, org: Org
) -> None:
    fields = asana.CustomFieldsApi(client)
    settings = asana.CustomFieldSettingsApi(client)

    described = fields.get_custom_field(org.estimate, {}, _request_timeout=T)
    listed = list(
        fields.get_custom_fields_for_workspace(
            org.state.workspace_gid, {"opt_fields": "format,enum_options.name"}, _request_timeout=T
        )
    )
    on_project = list(
        settings.get_custom_field_settings_for_project(
            org.billing,
            {"opt_fields": "custom_field.name,custom_field.asana_created_field,is_important"},
            _request_timeout=T,
        )
    )

    assert (described["resource_subtype"], described["format"]) == ("number", "duration")
    assert described["asana_created_field"] == "estimated_time" and described["precision"] == 0
    assert [f.get("format") for f in listed] == ["duration", None, None, None, None]
    assert [o["name"] for o in listed[1]["enum_options"]] == ["High", "Low"]
    assert on_project[0]["custom_field"] == {
        "gid": org.estimate,
        "resource_type": "custom_field",
        "name": "Estimated time",
        "resource_subtype": "number",
        "type": "number",
        "asana_created_field": "estimated_time",
    }
    assert set(on_project[0]) == {"gid", "resource_type", "custom_field", "is_important"}


def test_created_custom_field_appears_on_project_tasks_when_added_to_the_project(
    client: asana.ApiClient, org: Org
) -> None:
    body = {
        "data": {
            "workspace": org.state.workspace_gid,
            "name": "AI risk",
            "resource_subtype": "enum",
            "enum_options": [{"name": "Low"}, {"name": "High"}],
        }
    }

    created = asana.CustomFieldsApi(client).create_custom_field(body, {}, _request_timeout=T)
    setting = asana.ProjectsApi(client).add_custom_field_setting_for_project(
        {"data": {"custom_field": created["gid"]}},
        org.billing,
        {"opt_fields": "custom_field.name"},
        _request_timeout=T,
    )

    assert created["resource_subtype"] == "enum" and len(created["enum_options"]) == 2
    assert setting["custom_field"]["name"] == "AI risk"
    entry = org.state.task(org.draft)["custom_fields"][-1]
    assert (entry["gid"], entry["enum_value"], entry["display_value"]) == (
        created["gid"],
        None,
        None,
    )


def test_created_enum_options_keep_the_colour_sent_when_one_is_given(
    client: asana.ApiClient, org: Org
) -> None:
    body = {
        "data": {
            "workspace": org.state.workspace_gid,
            "name": "AI flag",
            "resource_subtype": "enum",
            "enum_options": [{"name": "over", "color": "red"}, {"name": "ok"}],
        }
    }

    created = asana.CustomFieldsApi(client).create_custom_field(body, {}, _request_timeout=T)

    assert [(o["name"], o["color"]) for o in created["enum_options"]] == [
        ("over", "red"),
        ("ok", "yellow"),  # no colour sent: the sandbox's palette, by position
    ]


def test_custom_field_creation_is_refused_when_the_name_is_taken(
    client: asana.ApiClient, org: Org
) -> None:
    body = {
        "data": {
            "workspace": org.state.workspace_gid,
            "name": "Priority",
            "resource_subtype": "text",
        }
    }

    with pytest.raises(ApiException) as info:
        asana.CustomFieldsApi(client).create_custom_field(body, {}, _request_timeout=T)

    assert error_of(info) == (400, "name: A custom field named 'Priority' already exists")


# ---- task reads -----------------------------------------------------------------------------


def test_project_tasks_page_through_opaque_offsets_when_limit_is_sent(
    client: asana.ApiClient, asana_sandbox: AsanaSandbox, org: Org
) -> None:
    api = tasks_api(client)
    pages = []
    opts: dict[str, Any] = {"opt_fields": "name", "limit": 3}
    while True:
        page = api.get_tasks_for_project(org.billing, opts, full_payload=True, _request_timeout=T)
        pages.append(page)
        if page["next_page"] is None:
            break
        opts = {"opt_fields": "name", "limit": 3, "offset": page["next_page"]["offset"]}

    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    names = [t["name"] for p in pages for t in p["data"]]
    assert names[:3] == ["Draft spec", "Review spec", "Ship v1"] and len(set(names)) == 7
    first = pages[0]["next_page"]
    assert not first["offset"].isdigit()  # opaque, not an index the client could guess
    assert first["path"].startswith(f"/projects/{org.billing}/tasks?")
    assert first["uri"] == asana_sandbox.base_url + first["path"]
    assert "limit=3" in first["path"] and "opt_fields=name" in first["path"]


def test_sdk_iterator_follows_every_page_when_listing(
    client: asana.ApiClient, asana_sandbox: AsanaSandbox, org: Org
) -> None:
    asana_sandbox.state.reset_log()

    tasks = list(
        tasks_api(client).get_tasks_for_project(org.billing, {"limit": 2}, _request_timeout=T)
    )

    assert len(tasks) == 7
    assert [e.query.get("limit") for e in asana_sandbox.state.log()] == ["2"] * 4
    assert ["offset" in e.query for e in asana_sandbox.state.log()] == [False, True, True, True]


def test_list_has_no_next_page_member_when_limit_is_not_sent(
    client: asana.ApiClient, org: Org
) -> None:
    page = tasks_api(client).get_tasks_for_project(
        org.billing, {}, full_payload=True, _request_timeout=T
    )

    assert set(page) == {"data"} and len(page["data"]) == 7


def test_opt_fields_return_compact_plus_exactly_the_requested_fields_when_given(
    client: asana.ApiClient, org: Org
) -> None:
    api = tasks_api(client)

    listed = list(
        api.get_tasks_for_project(
            org.billing, {"opt_fields": "name,assignee.name", "limit": 2}, _request_timeout=T
        )
    )
    compact = list(api.get_tasks_for_project(org.billing, {"limit": 2}, _request_timeout=T))
    one = api.get_task(
        org.draft,
        {"opt_fields": "custom_fields.enum_value.name,memberships.section.name,due_on"},
        _request_timeout=T,
    )

    assert set(listed[0]) == {"gid", "resource_type", "name", "resource_subtype", "assignee"}
    assert listed[0]["assignee"] == {
        "gid": org.ada,
        "resource_type": "user",
        "name": "Ada Lovelace",
    }
    assert set(compact[0]) == {"gid", "resource_type", "name", "resource_subtype"}
    assert set(one) == {
        "gid",
        "resource_type",
        "name",
        "resource_subtype",
        "custom_fields",
        "memberships",
        "due_on",
    }
    priority = next(f for f in one["custom_fields"] if f["gid"] == org.priority)
    assert priority["enum_value"] == {
        "gid": org.high,
        "resource_type": "enum_option",
        "name": "High",
        "enabled": True,
        "color": "green",
    }
    assert "number_value" not in one["custom_fields"][0]
    section = one["memberships"][0]["section"]
    assert set(section) == {"gid", "resource_type", "name"} and section["name"] == "Doing"
    assert one["memberships"][0]["project"] == {
        "gid": org.billing,
        "resource_type": "project",
        "name": "Billing",
    }


def test_full_task_carries_estimate_actual_time_and_links_when_fetched_without_opt_fields(
    client: asana.ApiClient, org: Org
) -> None:
    task = tasks_api(client).get_task(org.draft, {}, _request_timeout=T)

    estimate = next(f for f in task["custom_fields"] if f["gid"] == org.estimate)
    assert (estimate["number_value"], estimate["display_value"], estimate["format"]) == (
        240,
        "240",
        "duration",
    )
    skills = next(f for f in task["custom_fields"] if f["gid"] == org.skills)
    assert [o["name"] for o in skills["multi_enum_values"]] == ["python"]
    assert task["actual_time_minutes"] == 75
    assert (task["start_on"], task["due_on"], task["completed"]) == (
        "2026-11-23",
        "2026-11-27",
        False,
    )
    assert task["permalink_url"] == f"https://app.asana.com/0/{org.billing}/{org.draft}"
    assert task["assignee"] == {"gid": org.ada, "resource_type": "user", "name": "Ada Lovelace"}
    assert task["projects"] == [{"gid": org.billing, "resource_type": "project", "name": "Billing"}]
    # [Opt In] fields stay absent unless requested, as in Asana.
    assert "dependencies" not in task and "dependents" not in task and "created_by" not in task
    assert task["created_at"] == task["modified_at"] == "2026-11-25T09:00:00.000Z"


def test_completed_since_keeps_open_and_recently_completed_tasks_when_filtering(
    client: asana.ApiClient, org: Org
) -> None:
    api = tasks_api(client)

    open_now = list(
        api.get_tasks_for_project(org.billing, {"completed_since": "now"}, _request_timeout=T)
    )
    since_19th = list(
        api.get_tasks(
            {"project": org.billing, "completed_since": "2026-11-19T00:00:00Z"}, _request_timeout=T
        )
    )
    since_21st = list(
        api.get_tasks(
            {"project": org.billing, "completed_since": "2026-11-21T00:00:00.000Z"},
            _request_timeout=T,
        )
    )

    assert org.shipped not in {t["gid"] for t in open_now} and len(open_now) == 6
    assert org.shipped in {t["gid"] for t in since_19th} and len(since_19th) == 7
    assert len(since_21st) == 6


def test_assignee_tasks_need_the_workspace_when_listed(client: asana.ApiClient, org: Org) -> None:
    api = tasks_api(client)
    ws = org.state.workspace_gid

    mine = list(
        api.get_tasks(
            {"assignee": "me", "workspace": ws, "completed_since": "now"}, _request_timeout=T
        )
    )
    with pytest.raises(ApiException) as info:
        list(api.get_tasks({"assignee": "me"}, _request_timeout=T))

    assert [t["gid"] for t in mine] == [org.draft]
    assert error_of(info)[0] == 400


def test_modified_since_returns_only_tasks_changed_after_it_when_filtering(
    client: asana.ApiClient, org: Org, clock: FakeClock
) -> None:
    api = tasks_api(client)
    clock.advance(3600)
    api.update_task({"data": {"name": "Review spec v2"}}, org.review, {}, _request_timeout=T)

    changed = list(
        api.get_tasks(
            {"project": org.billing, "modified_since": "2026-11-25T09:30:00Z"}, _request_timeout=T
        )
    )

    assert [t["name"] for t in changed] == ["Review spec v2"]


def test_dependencies_list_the_blocking_tasks_when_requested(
    client: asana.ApiClient, org: Org
) -> None:
    api = tasks_api(client)

    blockers = list(
        api.get_dependencies_for_task(org.review, {"opt_fields": "assignee"}, _request_timeout=T)
    )
    review = api.get_task(org.review, {"opt_fields": "dependencies"}, _request_timeout=T)
    draft = api.get_task(org.draft, {"opt_fields": "dependents"}, _request_timeout=T)

    assert blockers == [
        {
            "gid": org.draft,
            "resource_type": "task",
            "name": "Draft spec",
            "resource_subtype": "default_task",
            "assignee": {"gid": org.ada, "resource_type": "user", "name": "Ada Lovelace"},
        }
    ]
    assert review["dependencies"] == [{"gid": org.draft, "resource_type": "task"}]
    assert draft["dependents"] == [{"gid": org.review, "resource_type": "task"}]


# ---- out of office and time tracking --------------------------------------------------------


def test_ooo_entries_filter_by_user_and_overlapping_dates_when_listed(
    client: asana.ApiClient, org: Org
) -> None:
    api = asana.OooEntriesApi(client)
    ws = org.state.workspace_gid

    december = list(
        api.get_ooo_entries(
            org.cleo,
            ws,
            {
                "start_date": "2026-12-02",
                "end_date": "2026-12-31",
                "opt_fields": "start_date,end_date,user.name",
            },
            _request_timeout=T,
        )
    )
    created = api.create_ooo_entry(
        {
            "data": {
                "user": "ben@example.com",
                "workspace": ws,
                "start_date": "2026-12-24",
                "end_date": "2026-12-26",
            }
        },
        {},
        _request_timeout=T,
    )
    bens = list(api.get_ooo_entries(org.ben, ws, {}, _request_timeout=T))

    assert [(e["start_date"], e["end_date"], e["user"]["name"]) for e in december] == [
        ("2026-12-01", "2026-12-03", "Cleo Ng")
    ]
    assert created["user"]["gid"] == org.ben and created["created_by"]["gid"] == org.ada
    assert bens == [{"gid": created["gid"], "resource_type": "ooo_entry"}]


def test_time_tracking_entry_adds_to_actual_time_when_posted(
    client: asana.ApiClient, org: Org
) -> None:
    api = asana.TimeTrackingEntriesApi(client)

    created = api.create_time_tracking_entry(
        {
            "data": {
                "duration_minutes": 15,
                "entered_on": "2026-11-25",
                "attributable_to": org.billing,
            }
        },
        org.draft,
        {},
        _request_timeout=T,
    )
    entries = list(
        api.get_time_tracking_entries_for_task(
            org.draft, {"opt_fields": "duration_minutes,created_by.name"}, _request_timeout=T
        )
    )

    assert created["task"]["gid"] == org.draft and created["attributable_to"]["gid"] == org.billing
    assert [e["duration_minutes"] for e in entries] == [30, 45, 15]
    assert entries[1]["created_by"]["name"] == "Ben Bitdiddle"
    assert org.state.task(org.draft)["actual_time_minutes"] == 90
    assert org.state.log()[-2].status == 201


# ---- task writes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (lambda org: org.ben, "ben"),
        (lambda org: "cleo@example.com", "cleo"),
        (lambda org: "me", "ada"),
        (lambda org: None, None),
    ],
    ids=["gid", "email", "me", "null"],
)
def test_update_task_reassigns_when_assignee_is_a_gid_email_me_or_null(
    client: asana.ApiClient, org: Org, sent: Callable[[Org], str | None], expected: str | None
) -> None:
    returned = tasks_api(client).update_task(
        {"data": {"assignee": sent(org)}},
        org.draft,
        {"opt_fields": "assignee.name"},
        _request_timeout=T,
    )

    stored = org.state.task(org.draft)["assignee"]
    if expected is None:
        assert stored is None and returned["assignee"] is None
    else:
        assert stored["gid"] == getattr(org, expected)
        assert returned["assignee"] == {
            "gid": getattr(org, expected),
            "resource_type": "user",
            "name": org.state.users[getattr(org, expected)].name,
        }


def test_update_task_moves_dates_and_modified_at_when_start_and_due_are_sent(
    client: asana.ApiClient, org: Org, clock: FakeClock
) -> None:
    clock.advance(90)

    tasks_api(client).update_task(
        {"data": {"start_on": "2026-12-01", "due_on": "2026-12-04"}},
        org.draft,
        {},
        _request_timeout=T,
    )

    task = org.state.task(org.draft)
    assert (task["start_on"], task["due_on"], task["due_at"]) == ("2026-12-01", "2026-12-04", None)
    assert task["modified_at"] == "2026-11-25T09:01:30.000Z"


def test_update_task_sets_due_on_from_due_at_when_a_time_is_sent(
    client: asana.ApiClient, org: Org
) -> None:
    tasks_api(client).update_task(
        {"data": {"due_at": "2026-12-04T17:00:00Z"}}, org.review, {}, _request_timeout=T
    )

    task = org.state.task(org.review)
    assert (task["due_at"], task["due_on"]) == ("2026-12-04T17:00:00.000Z", "2026-12-04")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"start_on": "2026-12-01"},
            "start_on: A due date (due_on or due_at) must be given in the same request",
        ),
        ({"due_on": "2026-13-01"}, "due_on: Invalid date: '2026-13-01'"),
        ({"due_on": "20261201"}, "due_on: Invalid date: '20261201'"),
        (
            {"start_on": "2026-12-05", "due_on": "2026-12-01"},
            "start_on: The start date must be on or before the due date",
        ),
        (
            {"due_on": "2026-12-01", "due_at": "2026-12-01T10:00:00Z"},
            "You may only provide one of due_on or due_at",
        ),
        ({"due_on": None}, "due_on: Cannot remove the due date of a task with a start date"),
        ({"asignee": "me"}, "asignee: Unknown or read-only property for this request"),
        ({"completed": "yes"}, "completed: Must be a boolean"),
    ],
)
def test_update_task_is_refused_with_400_when_the_body_breaks_asana_rules(
    client: asana.ApiClient, org: Org, data: dict[str, Any], message: str
) -> None:
    before = org.state.task(org.draft)

    with pytest.raises(ApiException) as info:
        tasks_api(client).update_task({"data": data}, org.draft, {}, _request_timeout=T)

    assert error_of(info) == (400, message)
    assert org.state.task(org.draft) == before


def test_update_task_writes_every_custom_field_type_when_values_are_put(
    client: asana.ApiClient, org: Org
) -> None:
    values = {
        org.estimate: 90,
        org.priority: org.low,
        org.skills: [org.go, org.python],
        org.notes_field: "needs a DBA",
        org.reviewers: [org.ben, "cleo@example.com"],
    }

    tasks_api(client).update_task(
        {"data": {"custom_fields": values}}, org.draft, {}, _request_timeout=T
    )

    by_gid = {f["gid"]: f for f in org.state.task(org.draft)["custom_fields"]}
    assert by_gid[org.estimate]["number_value"] == 90
    assert by_gid[org.priority]["enum_value"]["gid"] == org.low
    assert [o["gid"] for o in by_gid[org.skills]["multi_enum_values"]] == [org.go, org.python]
    assert by_gid[org.notes_field]["text_value"] == "needs a DBA"
    assert [p["gid"] for p in by_gid[org.reviewers]["people_value"]] == [org.ben, org.cleo]
    assert [by_gid[g]["display_value"] for g in values] == [
        "90",
        "Low",
        "go, python",
        "needs a DBA",
        "Ben Bitdiddle, Cleo Ng",
    ]


def test_update_task_clears_a_custom_field_when_null_is_put(
    client: asana.ApiClient, org: Org
) -> None:
    tasks_api(client).update_task(
        {"data": {"custom_fields": {org.estimate: None, org.skills: None}}},
        org.draft,
        {},
        _request_timeout=T,
    )

    by_gid = {f["gid"]: f for f in org.state.task(org.draft)["custom_fields"]}
    assert (by_gid[org.estimate]["number_value"], by_gid[org.estimate]["display_value"]) == (
        None,
        None,
    )
    assert by_gid[org.skills]["multi_enum_values"] == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("priority", "High", "custom_fields: Invalid value for enum field {gid}: 'High'"),
        ("estimate", "90", "custom_fields: Invalid value for number field {gid}: '90'"),
        ("skills", "python", "custom_fields: Invalid value for multi_enum field {gid}: 'python'"),
        ("unknown", 1, "custom_fields: Not a recognized ID: 999"),
    ],
)
def test_update_task_refuses_custom_field_values_when_they_do_not_fit_the_field(
    client: asana.ApiClient, org: Org, field: str, value: object, message: str
) -> None:
    gid = getattr(org, field, "999")

    with pytest.raises(ApiException) as info:
        tasks_api(client).update_task(
            {"data": {"custom_fields": {gid: value}}}, org.draft, {}, _request_timeout=T
        )

    assert error_of(info) == (400, message.format(gid=gid))


def test_update_task_refuses_a_field_when_it_is_not_on_the_tasks_projects(
    client: asana.ApiClient, org: Org
) -> None:
    loose = org.state.add_custom_field("Unused", "number")

    with pytest.raises(ApiException) as info:
        tasks_api(client).update_task(
            {"data": {"custom_fields": {loose: 1}}}, org.draft, {}, _request_timeout=T
        )

    assert error_of(info) == (
        400,
        f"custom_fields: Custom field with ID {loose} is not on given object",
    )


def test_create_task_returns_201_in_the_project_when_projects_are_given(
    client: asana.ApiClient, org: Org
) -> None:
    created = tasks_api(client).create_task(
        {
            "data": {
                "name": "Write runbook",
                "projects": [org.billing],
                "assignee": "me",
                "due_on": "2026-12-10",
                "custom_fields": {org.estimate: 60},
            }
        },
        {"opt_fields": "memberships.section.name,created_by"},
        _request_timeout=T,
    )

    assert org.state.log()[-1].status == 201
    assert created["memberships"][0]["section"]["name"] == "Untitled section"
    assert created["created_by"]["gid"] == org.ada
    task = org.state.task(created["gid"])
    assert (task["assignee"]["gid"], task["due_on"]) == (org.ada, "2026-12-10")
    assert task["custom_fields"][0]["number_value"] == 60


def test_create_task_is_refused_when_neither_workspace_nor_projects_is_given(
    client: asana.ApiClient, org: Org
) -> None:
    with pytest.raises(ApiException) as info:
        tasks_api(client).create_task({"data": {"name": "Orphan"}}, {}, _request_timeout=T)

    assert error_of(info) == (400, "You should specify one of workspace, parent, projects")


def test_comment_returns_201_and_is_stored_on_the_task_when_posted(
    client: asana.ApiClient, org: Org, clock: FakeClock
) -> None:
    clock.advance(60)

    story = asana.StoriesApi(client).create_story_for_task(
        {"data": {"text": "Moved to Ben to balance load."}}, org.draft, {}, _request_timeout=T
    )
    listed = list(
        asana.StoriesApi(client).get_stories_for_task(
            org.draft, {"opt_fields": "text"}, _request_timeout=T
        )
    )

    assert org.state.log()[-2].status == 201
    assert (story["type"], story["resource_subtype"], story["created_by"]["gid"]) == (
        "comment",
        "comment_added",
        org.ada,
    )
    assert [s["text"] for s in org.state.stories(org.draft)] == ["Moved to Ben to balance load."]
    assert listed == [
        {
            "gid": story["gid"],
            "resource_type": "story",
            "resource_subtype": "comment_added",
            "text": "Moved to Ben to balance load.",
        }
    ]
    assert org.state.task(org.draft)["modified_at"] == "2026-11-25T09:01:00.000Z"


def test_concurrent_writes_all_apply_when_sent_from_many_threads(
    client: asana.ApiClient, org: Org
) -> None:
    api = tasks_api(client)
    names = {gid: f"renamed {i}" for i, gid in enumerate(org.tasks)}
    failures: list[BaseException] = []

    def rename(gid: str) -> None:
        try:
            api.update_task({"data": {"name": names[gid]}}, gid, {}, _request_timeout=T)
        except BaseException as error:  # collected and asserted on the main thread
            failures.append(error)

    threads = [threading.Thread(target=rename, args=(gid,)) for gid in org.tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert {gid: org.state.task(gid)["name"] for gid in org.tasks} == names


# ---- refusals: 400, 401, 403, 404, 429, 500 --------------------------------------------------


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_outside_1_to_100_is_refused_by_server_and_spec_when_listing(
    client: asana.ApiClient,
    asana_sandbox: AsanaSandbox,
    asana_spec: AsanaSpec,
    org: Org,
    limit: int,
) -> None:
    with pytest.raises(ApiException) as info:
        tasks_api(client).get_tasks_for_project(
            org.billing, {"limit": limit}, full_payload=True, _request_timeout=T
        )

    assert error_of(info) == (400, f"limit: Must be between 1 and 100, not '{limit}'")
    assert asana_spec.request_problems(last(asana_sandbox))  # the spec agrees it is invalid


@pytest.mark.parametrize("offset", ["not-a-token", "eyJpIjogMywgInMiOiAieCJ9"])
def test_offset_is_refused_with_400_when_it_was_not_issued_by_the_server(
    client: asana.ApiClient, org: Org, offset: str
) -> None:
    with pytest.raises(ApiException) as info:
        tasks_api(client).get_tasks_for_project(
            org.billing, {"limit": 2, "offset": offset}, full_payload=True, _request_timeout=T
        )

    assert error_of(info) == (400, "offset: Invalid pagination token")


def test_offset_is_refused_when_it_belongs_to_another_list(
    client: asana.ApiClient, org: Org
) -> None:
    api = tasks_api(client)
    page = api.get_tasks_for_project(
        org.billing, {"limit": 2}, full_payload=True, _request_timeout=T
    )

    with pytest.raises(ApiException) as info:
        api.get_tasks(
            {"project": org.billing, "limit": 2, "offset": page["next_page"]["offset"]},
            full_payload=True,
            _request_timeout=T,
        )

    assert error_of(info)[0] == 400


def test_unknown_opt_field_is_refused_by_server_and_spec_when_requested(
    client: asana.ApiClient, asana_sandbox: AsanaSandbox, asana_spec: AsanaSpec, org: Org
) -> None:
    with pytest.raises(ApiException) as info:
        tasks_api(client).get_task(
            org.draft, {"opt_fields": "name,estimate_minutes"}, _request_timeout=T
        )

    assert error_of(info) == (400, "opt_fields: Unknown field: estimate_minutes")
    assert asana_spec.request_problems(last(asana_sandbox))


def test_request_gets_401_with_asana_error_body_when_the_token_is_wrong(
    make_asana_client: MakeClient, asana_sandbox: AsanaSandbox, org: Org
) -> None:
    client = make_asana_client(asana_sandbox, token="wrong-token", retries=False)

    with pytest.raises(ApiException) as info:
        asana.UsersApi(client).get_user("me", {}, _request_timeout=T)

    assert error_of(info) == (401, "Not Authorized")
    assert last(asana_sandbox).request_headers["Authorization"] == "Bearer wrong-token"


def test_request_gets_401_when_no_authorization_header_is_sent(
    client: asana.ApiClient, asana_sandbox: AsanaSandbox, asana_spec: AsanaSpec
) -> None:
    with pytest.raises(ApiException) as info:
        client.call_api(
            "/users/me",
            "GET",
            {},
            {},
            {"Accept": "application/json"},
            response_type=object,
            auth_settings=[],
            _request_timeout=T,
        )

    assert error_of(info) == (401, "Not Authorized")
    assert "Authorization" not in last(asana_sandbox).request_headers
    assert asana_spec.request_problems(last(asana_sandbox))  # the spec requires a bearer token


def test_forbidden_gid_gets_403_when_named_in_the_path_or_a_filter(
    client: asana.ApiClient, asana_sandbox: AsanaSandbox, org: Org
) -> None:
    asana_sandbox.forbid(org.archive)

    with pytest.raises(ApiException) as path_info:
        asana.ProjectsApi(client).get_project(org.archive, {}, _request_timeout=T)
    with pytest.raises(ApiException) as filter_info:
        list(tasks_api(client).get_tasks({"project": org.archive}, _request_timeout=T))

    assert error_of(path_info) == error_of(filter_info) == (403, "Forbidden")


def test_unknown_gid_and_unknown_route_get_404_when_requested(
    client: asana.ApiClient, org: Org
) -> None:
    with pytest.raises(ApiException) as gid_info:
        tasks_api(client).get_task("1200000000000999", {}, _request_timeout=T)
    with pytest.raises(ApiException) as route_info:
        client.call_api(
            "/no_such_things",
            "GET",
            {},
            {},
            {"Accept": "application/json"},
            response_type=object,
            auth_settings=["personalAccessToken"],
            _request_timeout=T,
        )

    assert error_of(gid_info) == (404, "task: Unknown object: 1200000000000999")
    assert error_of(route_info) == (404, "No matching route for request")


def test_deleted_task_gets_404_and_leaves_its_project_and_links_when_deleted(
    client: asana.ApiClient, org: Org
) -> None:
    org.state.delete_task(org.draft)

    with pytest.raises(ApiException) as info:
        tasks_api(client).get_task(org.draft, {}, _request_timeout=T)
    listed = list(tasks_api(client).get_tasks_for_project(org.billing, {}, _request_timeout=T))
    review = tasks_api(client).get_task(
        org.review, {"opt_fields": "dependencies"}, _request_timeout=T
    )

    assert error_of(info) == (404, f"task: Unknown object: {org.draft}")
    assert org.draft not in {t["gid"] for t in listed} and len(listed) == len(org.tasks) - 1
    assert review["dependencies"] == []
    assert org.draft not in {e["task"] for e in org.state.time_entries.values()}


def test_rate_limit_answers_429_with_retry_after_until_the_window_frees_up(
    make_asana_sandbox: MakeSandbox, make_asana_client: MakeClient, org: Org, clock: FakeClock
) -> None:
    sandbox = make_asana_sandbox(requests_per_minute=3, clock=clock.monotonic)
    api = asana.UsersApi(make_asana_client(sandbox, retries=False))
    for _ in range(3):
        clock.advance(10)
        api.get_user("me", {}, _request_timeout=T)

    with pytest.raises(ApiException) as info:
        api.get_user("me", {}, _request_timeout=T)
    retry_after = int(info.value.headers["Retry-After"])
    clock.advance(retry_after)
    api.get_user("me", {}, _request_timeout=T)

    assert error_of(info) == (
        429,
        "You've made too many requests and hit a rate limit. "
        "Please retry after the given amount of time.",
    )
    # The refused request counts too, so the two oldest (at +10 s and +20 s) must leave the
    # 60 s window before a fourth fits: at +80 s, 50 s after the refusal at +30 s.
    assert retry_after == 50
    assert [e.status for e in sandbox.state.log()] == [200, 200, 200, 429, 200]


def test_injected_500_carries_a_phrase_then_recovers_when_failed_once(
    client: asana.ApiClient, asana_sandbox: AsanaSandbox, org: Org
) -> None:
    asana_sandbox.fail_next("GET", "/tasks/", status=500, times=1)
    api = tasks_api(client)

    with pytest.raises(ApiException) as info:
        api.get_task(org.draft, {}, _request_timeout=T)
    recovered = api.get_task(org.draft, {"opt_fields": "name"}, _request_timeout=T)

    body = json.loads(info.value.body)["errors"][0]
    assert info.value.status == 500 and re.fullmatch(r"\d+ [a-z ]+", body["phrase"])
    assert recovered["name"] == "Draft spec"


def test_injected_503_keeps_asanas_error_body_when_the_spec_declares_no_503(
    client: asana.ApiClient, asana_sandbox: AsanaSandbox, asana_spec: AsanaSpec, org: Org
) -> None:
    asana_sandbox.fail_next("GET", "/users/", status=503)

    with pytest.raises(ApiException) as info:
        asana.UsersApi(client).get_user("me", {}, _request_timeout=T)

    assert error_of(info)[0] == 503
    assert info.value.headers["X-Sandbox-Fault"] == "injected"
    assert asana_spec.response_problems(last(asana_sandbox)) == []


def test_sdk_retries_a_get_but_not_a_post_when_a_500_is_injected(
    asana_client: asana.ApiClient, asana_sandbox: AsanaSandbox, org: Org
) -> None:
    asana_sandbox.fail_next("GET", "/tasks/", status=500)
    asana_sandbox.fail_next("POST", "/tasks/", status=500)

    fetched = tasks_api(asana_client).get_task(
        org.draft, {"opt_fields": "name"}, _request_timeout=T
    )
    with pytest.raises(ApiException) as info:
        asana.StoriesApi(asana_client).create_story_for_task(
            {"data": {"text": "hello"}}, org.draft, {}, _request_timeout=T
        )

    assert fetched["name"] == "Draft spec"  # urllib3 retries the first failure immediately
    assert info.value.status == 500
    assert [(e.method, e.status) for e in asana_sandbox.state.log()] == [
        ("GET", 500),
        ("GET", 200),
        ("POST", 500),
    ]


def test_latency_delays_every_response_when_configured(
    make_asana_sandbox: MakeSandbox, make_asana_client: MakeClient, org: Org
) -> None:
    sandbox = make_asana_sandbox(latency_s=0.2)
    api = asana.UsersApi(make_asana_client(sandbox))

    started = time.monotonic()
    api.get_user("me", {}, _request_timeout=T)
    elapsed = time.monotonic() - started

    assert 0.2 <= elapsed < 2


def test_wait_returns_when_the_sandbox_is_stopped_from_another_thread(
    asana_state: SandboxState,
) -> None:
    sandbox = AsanaSandbox(asana_state).start()
    waiter = threading.Thread(target=sandbox.wait)
    waiter.start()

    sandbox.stop()
    waiter.join(timeout=T)

    assert not waiter.is_alive()


def test_sandbox_refuses_connections_when_stopped(asana_state: SandboxState) -> None:
    sandbox = AsanaSandbox(asana_state).start()
    url = sandbox.base_url

    sandbox.stop()
    sandbox.stop()

    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/users/me", timeout=T)


# ---- the spec check itself ------------------------------------------------------------------

EXPECTED_OPERATIONS = {
    "getWorkspaces",
    "getWorkspace",
    "getUsers",
    "getUser",
    "getUsersForWorkspace",
    "getUsersForTeam",
    "getTeamsForWorkspace",
    "getTeam",
    "getTeamsForUser",
    "getProjects",
    "getProjectsForTeam",
    "getProjectsForWorkspace",
    "getProject",
    "getPortfolios",
    "getItemsForPortfolio",
    "getCustomFieldSettingsForProject",
    "getCustomFieldsForWorkspace",
    "getCustomField",
    "createCustomField",
    "addCustomFieldSettingForProject",
    "getTasksForProject",
    "getTasks",
    "getTask",
    "updateTask",
    "createTask",
    "getDependenciesForTask",
    "getStoriesForTask",
    "createStoryForTask",
    "getOooEntries",
    "createOooEntry",
    "getTimeTrackingEntriesForTask",
    "createTimeTrackingEntry",
}


def test_every_product_operation_conforms_to_the_spec_when_driven_by_the_sdk(
    client: asana.ApiClient, asana_sandbox: AsanaSandbox, asana_spec: AsanaSpec, org: Org
) -> None:
    ws, t = org.state.workspace_gid, tasks_api(client)
    users, teams = asana.UsersApi(client), asana.TeamsApi(client)
    projects, fields = asana.ProjectsApi(client), asana.CustomFieldsApi(client)
    # The workload read recommended in ../shared/notes/asana-api.md, verbatim.
    workload = (
        "name,resource_subtype,assignee,assignee.name,start_on,start_at,due_on,due_at,completed,"
        "completed_at,created_at,modified_at,actual_time_minutes,dependencies,dependents,"
        "memberships.project.name,memberships.section.name,tags.name,custom_fields.name,"
        "custom_fields.resource_subtype,custom_fields.representation_type,custom_fields.format,"
        "custom_fields.number_value,custom_fields.enum_value,custom_fields.enum_value.name,"
        "custom_fields.multi_enum_values.name,custom_fields.people_value,"
        "custom_fields.text_value,custom_fields.date_value,custom_fields.display_value,"
        "custom_fields.enabled,permalink_url"
    )
    calls: list[Callable[[], object]] = [
        lambda: list(asana.WorkspacesApi(client).get_workspaces({}, _request_timeout=T)),
        lambda: asana.WorkspacesApi(client).get_workspace(ws, {}, _request_timeout=T),
        lambda: list(users.get_users({"workspace": ws, "limit": 2}, _request_timeout=T)),
        lambda: users.get_user("me", {}, _request_timeout=T),
        lambda: list(users.get_users_for_workspace(ws, {}, _request_timeout=T)),
        lambda: list(users.get_users_for_team(org.platform, {}, _request_timeout=T)),
        lambda: list(teams.get_teams_for_workspace(ws, {}, _request_timeout=T)),
        lambda: teams.get_team(org.platform, {}, _request_timeout=T),
        lambda: list(teams.get_teams_for_user("me", ws, {}, _request_timeout=T)),
        lambda: list(projects.get_projects({"workspace": ws}, _request_timeout=T)),
        lambda: list(projects.get_projects_for_team(org.platform, {}, _request_timeout=T)),
        lambda: list(projects.get_projects_for_workspace(ws, {}, _request_timeout=T)),
        lambda: projects.get_project(org.billing, {}, _request_timeout=T),
        lambda: list(
            asana.PortfoliosApi(client).get_portfolios(ws, {"owner": "me"}, _request_timeout=T)
        ),
        lambda: list(
            asana.PortfoliosApi(client).get_items_for_portfolio(
                org.portfolio, {}, _request_timeout=T
            )
        ),
        lambda: list(
            asana.CustomFieldSettingsApi(client).get_custom_field_settings_for_project(
                org.billing,
                {"opt_fields": "custom_field,is_important,project.name"},
                _request_timeout=T,
            )
        ),
        lambda: list(fields.get_custom_fields_for_workspace(ws, {}, _request_timeout=T)),
        lambda: fields.get_custom_field(org.priority, {}, _request_timeout=T),
        lambda: fields.create_custom_field(
            {
                "data": {
                    "workspace": ws,
                    "name": "AI effort",
                    "resource_subtype": "number",
                    "precision": 1,
                }
            },
            {},
            _request_timeout=T,
        ),
        lambda: projects.add_custom_field_setting_for_project(
            {"data": {"custom_field": org.state.task(org.draft)["custom_fields"][0]["gid"]}},
            org.state.add_project("Spare", None),
            {},
            _request_timeout=T,
        ),
        lambda: list(
            t.get_tasks_for_project(org.billing, {"opt_fields": workload}, _request_timeout=T)
        ),
        lambda: list(
            t.get_tasks(
                {"assignee": "me", "workspace": ws, "completed_since": "now"}, _request_timeout=T
            )
        ),
        lambda: t.get_task(org.draft, {}, _request_timeout=T),
        lambda: t.update_task(
            {"data": {"assignee": None, "custom_fields": {org.estimate: 30}}},
            org.review,
            {},
            _request_timeout=T,
        ),
        lambda: t.create_task(
            {"data": {"workspace": ws, "name": "Loose end"}}, {}, _request_timeout=T
        ),
        lambda: list(t.get_dependencies_for_task(org.review, {}, _request_timeout=T)),
        lambda: asana.StoriesApi(client).create_story_for_task(
            {"data": {"html_text": "<body>Done</body>"}}, org.draft, {}, _request_timeout=T
        ),
        lambda: list(
            asana.StoriesApi(client).get_stories_for_task(org.draft, {}, _request_timeout=T)
        ),
        lambda: asana.OooEntriesApi(client).create_ooo_entry(
            {
                "data": {
                    "user": "me",
                    "workspace": ws,
                    "start_date": "2026-12-24",
                    "end_date": "2026-12-24",
                }
            },
            {},
            _request_timeout=T,
        ),
        lambda: list(asana.OooEntriesApi(client).get_ooo_entries("me", ws, {}, _request_timeout=T)),
        lambda: asana.TimeTrackingEntriesApi(client).create_time_tracking_entry(
            {"data": {"duration_minutes": 5}}, org.draft, {}, _request_timeout=T
        ),
        lambda: list(
            asana.TimeTrackingEntriesApi(client).get_time_tracking_entries_for_task(
                org.draft, {}, _request_timeout=T
            )
        ),
    ]

    for call in calls:
        call()

    log = asana_sandbox.state.log()
    served = {op.operation_id for e in log if (op := asana_spec.operation(e.method, e.path))}
    assert served == EXPECTED_OPERATIONS
    assert {e.status for e in log} == {200, 201}
    assert asana_spec.check(log) == []


def _exchange(
    body: dict[str, Any], *, path: str = "/api/1.0/tasks/1", query: dict[str, str] | None = None
) -> Exchange:
    return Exchange(
        "GET",
        path,
        query or {},
        {"Authorization": "Bearer x"},
        b"",
        200,
        {"Content-Type": "application/json; charset=UTF-8"},
        json.dumps(body).encode(),
    )


def test_spec_check_flags_a_property_when_the_operation_does_not_declare_it(
    asana_spec: AsanaSpec,
) -> None:
    exchange = _exchange(
        {
            "data": {
                "gid": "1",
                "resource_type": "task",
                "estimate_minutes": 5,
                "assignee": {"gid": "2", "resource_type": "user", "mail": "x"},
            }
        }
    )

    undeclared = "is not a property this operation declares"
    assert asana_spec.check([exchange]) == [
        f"GET /api/1.0/tasks/1 -> 200: fields: 'assignee.mail' {undeclared}",
        f"GET /api/1.0/tasks/1 -> 200: fields: 'estimate_minutes' {undeclared}",
    ]


def test_spec_check_flags_the_response_when_a_value_has_the_wrong_type(
    asana_spec: AsanaSpec,
) -> None:
    exchange = _exchange({"data": {"gid": "1", "resource_type": "task", "completed": "no"}})

    problems = asana_spec.check([exchange])

    assert len(problems) == 1 and "data/completed: 'no' is not of type 'boolean'" in problems[0]


def test_spec_check_flags_the_request_when_a_successful_call_broke_the_spec(
    asana_spec: AsanaSpec,
) -> None:
    exchange = _exchange({"data": []}, path="/api/1.0/projects/1/tasks", query={"limit": "500"})

    problems = asana_spec.check([exchange])

    assert len(problems) == 1 and problems[0].startswith(
        "GET /api/1.0/projects/1/tasks -> 200: request:"
    )


def test_spec_check_accepts_nulls_when_the_spec_marks_a_reference_nullable(
    asana_spec: AsanaSpec,
) -> None:
    exchange = _exchange(
        {
            "data": {
                "gid": "1",
                "resource_type": "task",
                "assignee": None,
                "parent": None,
                "completed_by": None,
            }
        }
    )

    assert asana_spec.check([exchange]) == []
