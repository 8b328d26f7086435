"""Task writes and AI field provisioning, through the gateway and the official SDK, against the
sandbox (every exchange is checked against Asana's OpenAPI spec by the fixture)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.asana.ai_fields import AI_FLAG_FIELD, AI_RECOMMENDATION_FIELD, AI_SCORE_FIELD
from bot.asana.client import AsanaGateway
from bot.asana.task_fields import TaskFields, WriteResult
from bot.asana.writeback import AsanaWriter
from bot.domain import CustomField
from bot.errors import AsanaError, AsanaNotFound, AsanaUnavailable, BadRequest, ConfigError
from sandbox.asana_model import Exchange
from sandbox.asana_server import AsanaSandbox, SandboxState

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """Moves one second per reading, so every write gets a new modified_at."""

    moment: datetime = START

    def now(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@dataclass
class Org:
    state: SandboxState
    ana: str = ""
    ben: str = ""
    billing: str = ""
    roadmap: str = ""
    estimate: str = ""
    priority: str = ""
    risk: str = ""
    high: str = ""
    low: str = ""
    draft: str = ""
    loose: str = ""
    projects: list[str] = field(default_factory=list)


@pytest.fixture
def org() -> Org:
    state = SandboxState("Acme", now=Clock().now)
    o = Org(state)
    o.ana = state.add_user("Ana Alves", "ana@example.com")
    o.ben = state.add_user("Ben Brook", "ben@example.com")
    team = state.add_team("Platform", [o.ana, o.ben])
    o.billing = state.add_project("Billing", team)
    o.roadmap = state.add_project("Roadmap", team)
    o.projects = [o.billing, o.roadmap]
    o.estimate = state.add_custom_field(
        "Estimated time", "number", format="duration", asana_created_field="estimated_time"
    )
    o.priority = state.add_custom_field("Priority", "enum", enum_options=["High", "Low"])
    o.risk = state.add_custom_field("Risk notes", "text")
    for custom in (o.estimate, o.priority, o.risk):
        state.add_field_to_project(o.billing, custom)
    o.high, o.low = (state.enum_option_gid(o.priority, n) for n in ("High", "Low"))
    o.draft = state.add_task(
        "Draft spec",
        projects=[o.billing],
        assignee=o.ana,
        start_on="2026-11-23",
        due_on="2026-11-27",
        custom_fields={o.estimate: 240, o.priority: o.high},
    )
    o.loose = state.add_task("Loose end", projects=[o.roadmap], assignee=o.ben)
    return o


@pytest.fixture
def sandbox(org: Org, make_asana_sandbox: Callable[..., AsanaSandbox]) -> AsanaSandbox:
    return make_asana_sandbox(org.state)


@pytest.fixture
def gateway(sandbox: AsanaSandbox) -> Iterator[AsanaGateway]:
    # One retry: urllib3 makes the first one at once, so failure tests need no sleeps.
    gateway = AsanaGateway(base_url=sandbox.base_url, token=sandbox.token, timeout_s=5, retries=1)
    yield gateway
    gateway.close()


@pytest.fixture
def writer(gateway: AsanaGateway, org: Org) -> AsanaWriter:
    effort = CustomField(org.estimate, "Estimated time", "number", unit_h=1 / 60)
    return AsanaWriter(gateway, workspace_gid=org.state.workspace_gid, effort_field=effort)


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def sent(exchange: Exchange) -> Any:
    return json.loads(exchange.request_body)["data"]


def writes(sandbox: AsanaSandbox) -> list[Exchange]:
    return [e for e in sandbox.state.log() if e.method in ("POST", "PUT", "DELETE")]


def values_of(state: SandboxState, task_gid: str) -> dict[str, Any]:
    return {f["gid"]: f for f in state.task(task_gid)["custom_fields"]}


# ---- reads ----------------------------------------------------------------------------------


def test_read_task_returns_what_staleness_checks_compare_when_the_task_exists(
    writer: AsanaWriter, org: Org
) -> None:
    fields = writer.read_task(org.draft)

    assert fields == TaskFields(
        gid=org.draft,
        name="Draft spec",
        assignee_gid=org.ana,
        start_on=date(2026, 11, 23),
        due_on=date(2026, 11, 27),
        effort=240.0,
        effort_h=4.0,
        custom_fields={org.estimate: 240, org.priority: org.high, org.risk: None},
        modified_at=org.state.task(org.draft)["modified_at"],
    )


# ---- task writes ----------------------------------------------------------------------------


def test_reassign_changes_only_the_assignee_and_returns_before_and_after_when_applied(
    writer: AsanaWriter, org: Org
) -> None:
    stored = org.state.task(org.draft)

    result = writer.reassign(org.draft, org.ben)

    now = org.state.task(org.draft)
    assert changed_keys(stored, now) == {"assignee", "modified_at"}
    assert now["assignee"]["gid"] == org.ben
    assert result == WriteResult(
        "reassign", org.draft, {"assignee": org.ana}, {"assignee": org.ben}
    )
    assert result.changed


def test_reassign_unassigns_the_task_when_the_assignee_is_none(
    writer: AsanaWriter, org: Org
) -> None:
    result = writer.reassign(org.loose, None)

    assert org.state.task(org.loose)["assignee"] is None
    assert (result.before, result.after) == ({"assignee": org.ben}, {"assignee": None})


def test_set_dates_moves_start_and_due_only_when_both_are_given(
    writer: AsanaWriter, org: Org
) -> None:
    stored = org.state.task(org.draft)

    result = writer.set_dates(org.draft, start_on=date(2026, 12, 1), due_on="2026-12-04")

    now = org.state.task(org.draft)
    assert changed_keys(stored, now) == {"start_on", "due_on", "modified_at"}
    assert result.before == {"start_on": "2026-11-23", "due_on": "2026-11-27"}
    assert result.after == {"start_on": "2026-12-01", "due_on": "2026-12-04"}


def test_set_dates_sends_the_current_due_date_in_the_same_request_when_only_start_is_given(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    result = writer.set_dates(org.draft, start_on=date(2026, 11, 25))

    assert sent(writes(sandbox)[-1]) == {"start_on": "2026-11-25", "due_on": "2026-11-27"}
    task = org.state.task(org.draft)
    assert (task["start_on"], task["due_on"]) == ("2026-11-25", "2026-11-27")
    assert result.before == {"start_on": "2026-11-23", "due_on": "2026-11-27"}
    assert result.after == {"start_on": "2026-11-25", "due_on": "2026-11-27"}


def test_set_dates_keeps_a_timed_due_date_when_only_start_is_given(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    writer.set_dates(org.loose, due_on="2026-12-04")
    with org.state.lock:  # someone gave the task a due time in Asana meanwhile
        task = org.state.tasks[org.loose]
        task.due_at, task.due_on = "2026-12-04T17:00:00.000Z", "2026-12-04"

    result = writer.set_dates(org.loose, start_on="2026-12-01")

    assert sent(writes(sandbox)[-1]) == {
        "start_on": "2026-12-01",
        "due_at": "2026-12-04T17:00:00.000Z",
    }
    stored = org.state.task(org.loose)
    assert (stored["start_on"], stored["due_at"]) == ("2026-12-01", "2026-12-04T17:00:00.000Z")
    assert result.after == {"start_on": "2026-12-01", "due_at": "2026-12-04T17:00:00.000Z"}


def test_set_dates_clears_the_start_and_keeps_the_due_date_when_start_is_none(
    writer: AsanaWriter, org: Org
) -> None:
    result = writer.set_dates(org.draft, start_on=None)

    task = org.state.task(org.draft)
    assert (task["start_on"], task["due_on"]) == (None, "2026-11-27")
    assert result.after == {"start_on": None, "due_on": "2026-11-27"}


def test_set_dates_refuses_without_writing_when_a_start_is_given_to_a_task_without_due(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    message = (
        f"set_dates task {org.loose}: a start date needs a due date and the task has none; "
        "give due_on as well"
    )

    with pytest.raises(BadRequest, match=re.escape(message)):
        writer.set_dates(org.loose, start_on="2026-12-01")

    assert writes(sandbox) == []


def test_set_dates_refuses_before_any_call_when_a_date_is_malformed(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    with pytest.raises(BadRequest, match=re.escape("due_on: '20261204' is not a date")):
        writer.set_dates(org.draft, due_on="20261204")

    assert sandbox.state.log() == []


def test_set_custom_fields_writes_number_enum_and_text_and_clears_when_given(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    stored = org.state.task(org.draft)

    result = writer.set_custom_fields(
        org.draft, {org.estimate: None, org.priority: org.low, org.risk: "needs a DBA"}
    )

    assert sent(writes(sandbox)[-1]) == {
        "custom_fields": {org.estimate: None, org.priority: org.low, org.risk: "needs a DBA"}
    }
    assert changed_keys(stored, org.state.task(org.draft)) == {"custom_fields", "modified_at"}
    by_gid = values_of(org.state, org.draft)
    assert by_gid[org.estimate]["number_value"] is None
    assert by_gid[org.priority]["enum_value"]["gid"] == org.low
    assert by_gid[org.risk]["text_value"] == "needs a DBA"
    assert result.before == {org.estimate: 240, org.priority: org.high, org.risk: None}
    assert result.after == {org.estimate: None, org.priority: org.low, org.risk: "needs a DBA"}


def test_set_custom_fields_raises_naming_the_call_when_asana_refuses_the_value(
    writer: AsanaWriter, org: Org
) -> None:
    before = org.state.task(org.draft)
    message = (
        f"set_custom_fields task {org.draft}: the write failed (nothing was written): "
        f"Asana update_task answered 400: custom_fields: Invalid value for enum field "
        f"{org.priority}: 'High'"
    )

    with pytest.raises(AsanaError, match=re.escape(message)) as caught:
        writer.set_custom_fields(org.draft, {org.priority: "High"})  # a name, not a gid

    assert caught.value.status == 400
    assert org.state.task(org.draft) == before


@pytest.mark.parametrize(
    "text",
    [
        "Moved to Ben to balance load.",
        "<b>urgent</b> @here please look",
        "5 < 6 & <script>alert(1)</script> &amp;",
    ],
    ids=["plain", "markup-and-mention", "entities"],
)
def test_add_comment_posts_the_exact_text_as_plain_text_when_it_looks_like_markup(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org, text: str
) -> None:
    result = writer.add_comment(org.draft, text)

    assert sent(writes(sandbox)[-1]) == {"text": text}
    stories = org.state.stories(org.draft)
    assert [s["text"] for s in stories] == [text]
    assert result == WriteResult(
        "add_comment", org.draft, {"text": None}, {"text": text}, stories[0]["gid"]
    )


def test_add_comment_refuses_without_a_call_when_the_text_is_blank(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    with pytest.raises(BadRequest, match=re.escape("the comment is empty")):
        writer.add_comment(org.draft, "  \n")

    assert sandbox.state.log() == []


# ---- AI custom fields -----------------------------------------------------------------------


def test_provision_ai_fields_creates_the_fields_and_adds_them_to_every_project_when_missing(
    writer: AsanaWriter, org: Org
) -> None:
    fields = writer.provision_ai_fields(org.projects)

    state = org.state
    assert (state.fields[fields.score_gid].name, state.fields[fields.score_gid].subtype) == (
        AI_SCORE_FIELD,
        "number",
    )
    assert fields.score_precision == state.fields[fields.score_gid].precision == 2
    assert state.fields[fields.flag_gid].name == AI_FLAG_FIELD
    assert state.fields[fields.recommendation_gid].subtype == "text"
    assert state.fields[fields.recommendation_gid].name == AI_RECOMMENDATION_FIELD
    options = {status: state.options[gid][1:] for status, gid in fields.flag_options.items()}
    assert options == {
        "over": ("over", "red"),
        "at_risk": ("at risk", "orange"),
        "ok": ("ok", "green"),
        "under": ("under", "blue"),
    }
    ai = [fields.score_gid, fields.flag_gid, fields.recommendation_gid]
    for project in org.projects:
        assert state.project_field_gids(project)[-3:] == ai


def test_provision_ai_fields_makes_no_create_or_add_calls_when_called_a_second_time(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    first = writer.provision_ai_fields(org.projects)
    assert len(writes(sandbox)) == 3 + 3 * len(org.projects)
    sandbox.state.reset_log()

    second = writer.provision_ai_fields(org.projects)

    assert second == first
    assert writes(sandbox) == []
    assert len(sandbox.state.log()) == 1 + len(org.projects)  # the field list, each project


def test_provision_ai_fields_reuses_existing_fields_and_adds_only_missing_settings(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    score = org.state.add_custom_field("ai capacity score", "number", precision=1)
    org.state.add_field_to_project(org.billing, score)

    fields = writer.provision_ai_fields(org.projects)

    assert (fields.score_gid, fields.score_precision) == (score, 1)
    created = [sent(e)["name"] for e in writes(sandbox) if e.path.endswith("/custom_fields")]
    assert created == [AI_FLAG_FIELD, AI_RECOMMENDATION_FIELD]
    added = [
        (e.path.split("/")[-2], sent(e)["custom_field"])
        for e in writes(sandbox)
        if e.path.endswith("/addCustomFieldSetting")
    ]
    assert (org.billing, score) not in added and (org.roadmap, score) in added
    assert len(added) == 5


def test_provision_ai_fields_raises_config_error_without_writing_when_a_name_is_taken(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    org.state.add_custom_field(AI_FLAG_FIELD, "text")
    flag_problem = (
        f"Asana custom field {AI_FLAG_FIELD!r} is a text field, expected enum: rename it in "
        "Asana so the AI field can be created"
    )

    with pytest.raises(ConfigError) as caught:
        writer.provision_ai_fields(org.projects)

    assert caught.value.problems == [flag_problem]
    assert writes(sandbox) == []


def test_provision_ai_fields_raises_config_error_when_the_flag_lacks_an_option(
    writer: AsanaWriter, org: Org
) -> None:
    org.state.add_custom_field(AI_FLAG_FIELD, "enum", enum_options=["over", "at risk", "ok"])

    with pytest.raises(ConfigError) as caught:
        writer.provision_ai_fields(org.projects)

    assert caught.value.problems == [
        f"Asana custom field {AI_FLAG_FIELD!r} lacks the enabled option 'under': add it in Asana"
    ]


def test_provision_ai_fields_names_the_failed_step_and_finishes_when_called_again(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    sandbox.fail_next("POST", f"/projects/{org.roadmap}/", status=500)
    message = (
        f"provision_ai_fields: adding {AI_SCORE_FIELD!r} to project {org.roadmap} failed: "
        f"Asana add_custom_field_setting_for_project answered 500: Server Error. Done before: "
        f"created {AI_SCORE_FIELD!r}; created {AI_FLAG_FIELD!r}; "
        f"created {AI_RECOMMENDATION_FIELD!r}; added {AI_SCORE_FIELD!r} to project "
        f"{org.billing}; added {AI_FLAG_FIELD!r} to project {org.billing}; "
        f"added {AI_RECOMMENDATION_FIELD!r} to project {org.billing}. "
        "Calling it again finishes the job."
    )

    with pytest.raises(AsanaUnavailable, match=re.escape(message)):
        writer.provision_ai_fields(org.projects)
    fields = writer.provision_ai_fields(org.projects)

    assert len(org.state.fields) == 6
    ai = [fields.score_gid, fields.flag_gid, fields.recommendation_gid]
    assert org.state.project_field_gids(org.roadmap) == ai


def test_write_ai_fields_writes_the_flag_by_option_gid_when_given_a_status(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    fields = writer.provision_ai_fields([org.billing])
    stored = org.state.task(org.draft)

    result = writer.write_ai_fields(
        org.draft,
        score=1.256,
        flag="at_risk",
        recommendation="Move 'Draft spec' to Ben",
        fields=fields,
    )

    at_risk = fields.flag_options["at_risk"]
    assert sent(writes(sandbox)[-1]) == {
        "custom_fields": {
            fields.score_gid: 1.26,
            fields.flag_gid: at_risk,
            fields.recommendation_gid: "Move 'Draft spec' to Ben",
        }
    }
    assert changed_keys(stored, org.state.task(org.draft)) == {"custom_fields", "modified_at"}
    by_gid = values_of(org.state, org.draft)
    assert by_gid[fields.flag_gid]["enum_value"]["gid"] == at_risk
    assert by_gid[fields.flag_gid]["display_value"] == "at risk"
    assert result.before == dict.fromkeys(
        (fields.score_gid, fields.flag_gid, fields.recommendation_gid)
    )
    assert result.after == {
        fields.score_gid: 1.26,
        fields.flag_gid: at_risk,
        fields.recommendation_gid: "Move 'Draft spec' to Ben",
    }


def test_write_ai_fields_refuses_an_unknown_flag_before_any_call(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    fields = writer.provision_ai_fields([org.billing])
    sandbox.state.reset_log()

    with pytest.raises(ValueError, match=re.escape("unknown flag 'overloaded'")):
        writer.write_ai_fields(
            org.draft, score=None, flag="overloaded", recommendation=None, fields=fields
        )

    assert sandbox.state.log() == []


# ---- failures -------------------------------------------------------------------------------


def test_a_put_failing_with_500_surfaces_as_unavailable_after_retries_and_changes_nothing(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    before = org.state.task(org.draft)
    sandbox.fail_next("PUT", "/tasks/", status=500, times=2)
    message = (
        f"reassign task {org.draft}: the write failed (it may still have been applied: read "
        "the task to check): Asana update_task answered 500: Server Error"
    )

    with pytest.raises(AsanaUnavailable, match=re.escape(message)) as caught:
        writer.reassign(org.draft, org.ben)

    assert caught.value.status == 500
    assert caught.value.user_message.startswith("Asana is having trouble")
    assert [(e.method, e.status) for e in sandbox.state.log()] == [
        ("GET", 200),
        ("PUT", 500),
        ("PUT", 500),
    ]
    assert org.state.task(org.draft) == before


def test_a_put_is_applied_once_when_asana_fails_it_once(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    sandbox.fail_next("PUT", "/tasks/", status=503)

    result = writer.set_dates(org.draft, due_on="2026-11-30")

    assert result.after == {"due_on": "2026-11-30"}
    assert [e.status for e in writes(sandbox)] == [503, 200]


def test_a_comment_failing_with_500_is_not_retried_and_says_it_may_have_been_posted(
    writer: AsanaWriter, sandbox: AsanaSandbox, org: Org
) -> None:
    sandbox.fail_next("POST", "/tasks/", status=500)

    with pytest.raises(AsanaUnavailable, match=re.escape("it may still have been applied")):
        writer.add_comment(org.draft, "hello")

    assert [e.status for e in writes(sandbox)] == [500]
    assert org.state.stories(org.draft) == []


@pytest.mark.parametrize(
    ("call", "step"),
    [
        (lambda w, gid: w.read_task(gid), "read_task task {gid}: reading the task failed"),
        (
            lambda w, gid: w.reassign(gid, None),
            "reassign task {gid}: reading the task failed, nothing was written",
        ),
        (
            lambda w, gid: w.set_dates(gid, due_on=None),
            "set_dates task {gid}: reading the task failed, nothing was written",
        ),
        (
            lambda w, gid: w.add_comment(gid, "hi"),
            "add_comment task {gid}: the write failed (nothing was written)",
        ),
    ],
    ids=["read_task", "reassign", "set_dates", "add_comment"],
)
def test_a_deleted_task_raises_not_found_naming_the_call(
    writer: AsanaWriter,
    sandbox: AsanaSandbox,
    org: Org,
    call: Callable[[AsanaWriter, str], object],
    step: str,
) -> None:
    org.state.delete_task(org.loose)

    with pytest.raises(AsanaNotFound, match=re.escape(step.format(gid=org.loose))) as caught:
        call(writer, org.loose)

    assert caught.value.status == 404
    assert str(caught.value).endswith(f"answered 404: task: Unknown object: {org.loose}")
    assert [e.method for e in writes(sandbox)] in ([], ["POST"])


def test_an_unknown_task_raises_not_found_without_writing(
    writer: AsanaWriter, sandbox: AsanaSandbox
) -> None:
    with pytest.raises(AsanaNotFound, match=re.escape("nothing was written")):
        writer.set_custom_fields("1209999999999999", {"1": 1})

    assert writes(sandbox) == []
