"""Contract tests: the real slack_sdk clients against LocalSlack, checked with Slack's OpenAPI spec.

Imports ``sandbox.slack_api`` and slack_sdk only; every server binds 127.0.0.1 port 0.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jsonschema import Draft4Validator
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from sandbox.slack_api import GRANTED_SCOPES, LocalSlack

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WEB_API_SPEC = (
    PROJECT_ROOT.parent / "shared/specs/slack/slack-api-specs/web-api/slack_web_openapi_v2.json"
)

TOKEN = "xoxb-local"
CHANNEL = "C0123456789"
ANA = {"id": "U0ANA00001", "email": "ana.lima@example.com", "name": "Ana Lima", "tz": "Asia/Tokyo"}
BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Platform* is at 112%"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Approve"},
                "action_id": "approve",
                "value": "p-1",
            }
        ],
    },
]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk sends even 127.0.0.1 through HTTP(S)_PROXY and ignores NO_PROXY.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack(bot_token=TOKEN, users=[ANA]) as local:
        yield local


@pytest.fixture
def client(slack: LocalSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.base_url)


@pytest.fixture(scope="module")
def web_api_spec() -> dict[str, Any]:
    if not WEB_API_SPEC.is_file():
        pytest.fail(
            f"Slack's OpenAPI spec is missing at {WEB_API_SPEC}; the shared/ folder must sit "
            "beside the project checkout (see shared/specs/slack/SOURCE.txt)",
            pytrace=False,
        )
    spec: dict[str, Any] = json.loads(WEB_API_SPEC.read_text(encoding="utf-8"))
    definitions = copy.deepcopy(spec["definitions"])
    # Known stale bit (spec frozen in 2020): messages posted by apps carry "app_id", which
    # objs_message forbids through additionalProperties: false. Allow exactly that key.
    definitions["objs_message"]["properties"]["app_id"] = {
        "type": "string",
        "pattern": "^A[A-Z0-9]{8,}$",
    }
    return {**spec, "definitions": definitions}


def assert_matches_spec(spec: dict[str, Any], method: str, body: dict[str, Any]) -> None:
    """Validate a success body against the method's 200 schema with definitions attached."""
    (operation,) = spec["paths"][f"/{method}"].values()
    schema = {**operation["responses"]["200"]["schema"], "definitions": spec["definitions"]}
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(schema).iter_errors(body)
    ]
    assert errors == [], f"{method} response does not match the OpenAPI spec: {errors}"


# -- auth and identity -----------------------------------------------------------------------


def test_auth_test_returns_bot_identity_and_scopes_when_token_is_valid(
    slack: LocalSlack, client: WebClient
) -> None:
    response = client.auth_test()

    assert (response["user_id"], response["team_id"]) == ("U0BOT00001", "T0LOCAL0001")
    assert response.headers["x-oauth-scopes"].split(",") == list(GRANTED_SCOPES)
    [call] = slack.calls("auth.test")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"


def test_auth_test_response_matches_openapi_spec_when_token_is_valid(
    client: WebClient, web_api_spec: dict[str, Any]
) -> None:
    assert_matches_spec(web_api_spec, "auth.test", client.auth_test().data)  # type: ignore[arg-type]


def test_web_client_raises_invalid_auth_when_token_differs(slack: LocalSlack) -> None:
    other = WebClient(token="xoxb-someone-else", base_url=slack.base_url)

    with pytest.raises(SlackApiError) as raised:
        other.chat_postMessage(channel=CHANNEL, text="hi")

    assert raised.value.response["error"] == "invalid_auth"
    assert raised.value.response.status_code == 200


def test_web_client_raises_not_authed_when_no_token_is_sent(slack: LocalSlack) -> None:
    anonymous = WebClient(base_url=slack.base_url)

    with pytest.raises(SlackApiError) as raised:
        anonymous.auth_test()

    assert raised.value.response["error"] == "not_authed"


def test_api_call_raises_unknown_method_when_method_is_not_faked(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("reactions.add", json={"channel": CHANNEL, "name": "eyes"})

    assert raised.value.response["error"] == "unknown_method"


# -- chat.* ----------------------------------------------------------------------------------


def test_chat_post_message_records_json_params_when_posting_blocks(
    slack: LocalSlack, client: WebClient
) -> None:
    response = client.chat_postMessage(channel=CHANNEL, text="Platform is at 112%", blocks=BLOCKS)

    [call] = slack.calls("chat.postMessage")
    assert call.params == {"channel": CHANNEL, "text": "Platform is at 112%", "blocks": BLOCKS}
    assert call.http_method == "POST"
    assert call.headers["content-type"].startswith("application/json")
    assert call.path == "/api/chat.postMessage"
    assert response["channel"] == CHANNEL
    assert response["message"]["blocks"] == BLOCKS
    assert response["message"]["ts"] == response["ts"] == "1700000000.000100"


def test_chat_post_message_response_matches_openapi_spec_when_posting_blocks(
    client: WebClient, web_api_spec: dict[str, Any]
) -> None:
    response = client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=BLOCKS)

    assert_matches_spec(web_api_spec, "chat.postMessage", response.data)  # type: ignore[arg-type]


def test_chat_post_message_returns_increasing_ts_when_posting_twice(client: WebClient) -> None:
    first = client.chat_postMessage(channel=CHANNEL, text="one")["ts"]
    second = client.chat_postMessage(channel=CHANNEL, text="two")["ts"]

    assert re.fullmatch(r"\d{10}\.\d{6}", second)
    assert float(second) > float(first)


def test_chat_post_message_answers_in_dm_channel_when_channel_is_a_user_id(
    client: WebClient,
) -> None:
    response = client.chat_postMessage(channel=ANA["id"], text="your week")

    assert re.fullmatch(r"D[A-Z0-9]{8,}", response["channel"])


def test_chat_post_message_raises_no_text_when_text_and_blocks_are_missing(
    client: WebClient,
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("chat.postMessage", json={"channel": CHANNEL})

    assert raised.value.response["error"] == "no_text"


def test_chat_update_records_params_when_replacing_blocks(
    slack: LocalSlack, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel=CHANNEL, text="pending", blocks=BLOCKS)
    done = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Approved by <@U0ANA00001>"}]}
    ]

    response = client.chat_update(channel=CHANNEL, ts=posted["ts"], text="approved", blocks=done)

    [call] = slack.calls("chat.update")
    assert call.params == {
        "channel": CHANNEL,
        "ts": posted["ts"],
        "text": "approved",
        "blocks": done,
    }
    assert (response["channel"], response["ts"], response["text"]) == (
        CHANNEL,
        posted["ts"],
        "approved",
    )
    assert response["message"]["blocks"] == done


def test_chat_post_ephemeral_returns_message_ts_when_user_is_given(
    slack: LocalSlack, client: WebClient, web_api_spec: dict[str, Any]
) -> None:
    response = client.chat_postEphemeral(channel=CHANNEL, user=ANA["id"], text="already decided")

    assert slack.calls("chat.postEphemeral")[0].params == {
        "channel": CHANNEL,
        "user": ANA["id"],
        "text": "already decided",
    }
    assert_matches_spec(web_api_spec, "chat.postEphemeral", response.data)  # type: ignore[arg-type]


# -- users.* ---------------------------------------------------------------------------------


def test_users_info_returns_email_tz_and_real_name_when_user_is_known(
    slack: LocalSlack, client: WebClient
) -> None:
    user = client.users_info(user=ANA["id"])["user"]

    assert (user["profile"]["email"], user["tz"], user["real_name"]) == (
        "ana.lima@example.com",
        "Asia/Tokyo",
        "Ana Lima",
    )
    assert user["tz_offset"] == 9 * 3600
    [call] = slack.calls("users.info")
    # The sync WebClient always POSTs, form-encoded for read methods.
    assert (call.http_method, call.params) == ("POST", {"user": ANA["id"]})
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"


def test_users_info_response_matches_openapi_spec_when_user_is_known(
    client: WebClient, web_api_spec: dict[str, Any]
) -> None:
    body = client.users_info(user=ANA["id"]).data
    assert isinstance(body, dict)

    assert_matches_spec(web_api_spec, "users.info", body)
    # objs_user wraps its two variants in a tuple-form "items", which Draft 4 ignores for
    # objects, so the check above passes any user; validate against the plain variant too.
    user_schema = {
        **web_api_spec["definitions"]["objs_user"]["items"][0],
        "definitions": web_api_spec["definitions"],
    }
    assert list(Draft4Validator(user_schema).iter_errors(body["user"])) == []


def test_users_info_raises_user_not_found_when_user_is_unknown(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.users_info(user="U0NOBODY01")

    assert raised.value.response["error"] == "user_not_found"


def test_users_lookup_by_email_returns_user_when_email_differs_only_in_case(
    client: WebClient,
) -> None:
    response = client.users_lookupByEmail(email="Ana.Lima@Example.com")

    assert response["user"]["id"] == ANA["id"]


def test_users_lookup_by_email_raises_users_not_found_when_email_is_unknown(
    client: WebClient,
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.users_lookupByEmail(email="nobody@example.com")

    assert raised.value.response["error"] == "users_not_found"


def test_add_user_raises_value_error_when_id_does_not_match_slack_pattern() -> None:
    local = LocalSlack()

    with pytest.raises(ValueError, match=re.escape("user id 'U_LEAD' does not match")):
        local.add_user("U_LEAD", "lead@example.com", "Lead")


# -- views.* and conversations.open ------------------------------------------------------------


def test_views_publish_records_home_view_when_publishing(
    slack: LocalSlack, client: WebClient
) -> None:
    view = {"type": "home", "blocks": BLOCKS[:1]}

    response = client.views_publish(user_id=ANA["id"], view=view)

    [call] = slack.calls("views.publish")
    assert call.params == {"user_id": ANA["id"], "view": view}
    assert response["view"]["type"] == "home"
    assert response["view"]["id"].startswith("V")


def test_views_open_records_trigger_id_when_opening_modal(
    slack: LocalSlack, client: WebClient
) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "What if"}, "blocks": []}

    response = client.views_open(trigger_id="1337.42.abcd", view=view)

    assert slack.calls("views.open")[0].params == {"trigger_id": "1337.42.abcd", "view": view}
    assert response["view"]["title"]["text"] == "What if"


def test_conversations_open_returns_same_dm_channel_when_opened_twice(
    client: WebClient, web_api_spec: dict[str, Any]
) -> None:
    first = client.conversations_open(users=ANA["id"])
    second = client.conversations_open(users=[ANA["id"]])

    assert re.fullmatch(r"D[A-Z0-9]{8,}", first["channel"]["id"])
    assert second["channel"]["id"] == first["channel"]["id"]
    assert second["already_open"] is True
    assert_matches_spec(web_api_spec, "conversations.open", first.data)  # type: ignore[arg-type]


# -- programmed failures and rate limits -------------------------------------------------------


def test_fail_next_raises_slack_api_error_once_when_programmed(
    slack: LocalSlack, client: WebClient
) -> None:
    slack.fail_next("chat.postMessage", "channel_not_found")

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=CHANNEL, text="lost")
    retried = client.chat_postMessage(channel=CHANNEL, text="kept")

    assert raised.value.response["error"] == "channel_not_found"
    assert retried["ok"] is True
    assert [c.params["text"] for c in slack.calls("chat.postMessage")] == ["lost", "kept"]


def test_web_client_raises_ratelimited_with_retry_after_when_no_retry_handler(
    slack: LocalSlack, client: WebClient
) -> None:
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=CHANNEL, text="hi")

    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert raised.value.response.headers["Retry-After"] == "7"


def test_rate_limit_handler_retries_after_retry_after_when_first_call_gets_429(
    slack: LocalSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Record the handler's back-off instead of sleeping through it: keeps the test fast and
    # proves Retry-After was read (the handler sleeps int(Retry-After) + jitter in [0, 1)).
    sleeps: list[float] = []
    monkeypatch.setattr(builtin_handlers, "time", SimpleNamespace(sleep=sleeps.append))
    client = WebClient(
        token=TOKEN,
        base_url=slack.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=7)

    response = client.chat_postMessage(channel=CHANNEL, text="digest")

    assert response["ok"] is True
    assert len(slack.calls("chat.postMessage")) == 2
    assert len(sleeps) == 1 and 7 <= sleeps[0] < 8


# -- response_url --------------------------------------------------------------------------------


def test_webhook_client_posts_are_recorded_when_sent_to_response_url(slack: LocalSlack) -> None:
    url = slack.response_url("click-1")

    response = WebhookClient(url).send(
        text="done", response_type="in_channel", replace_original=False
    )

    assert (response.status_code, response.body) == (200, "ok")
    [call] = slack.calls("response_url")
    assert call.params == {"text": "done", "response_type": "in_channel", "replace_original": False}
    assert call.path == "/response/click-1"


def test_webhook_client_gets_error_status_when_response_url_fails_once(slack: LocalSlack) -> None:
    slack.fail_next("response_url", "expired_url", status=404)

    response = WebhookClient(slack.response_url()).send(text="too late")

    assert (response.status_code, response.body) == (404, "expired_url")


# -- AsyncWebClient ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_web_client_sends_query_string_when_calling_users_info(
    slack: LocalSlack,
) -> None:
    if importlib.util.find_spec("aiohttp") is None:
        pytest.fail("AsyncWebClient needs aiohttp; install the project's dev extras", pytrace=False)
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=TOKEN, base_url=slack.base_url)

    response = await client.users_info(user=ANA["id"])

    assert response["user"]["profile"]["email"] == ANA["email"]
    [call] = slack.calls("users.info")
    assert (call.http_method, call.params) == ("GET", {"user": ANA["id"]})


# -- recording, waiting and lifecycle --------------------------------------------------------------


def test_wait_for_returns_calls_when_they_arrive_from_another_thread(
    slack: LocalSlack, client: WebClient
) -> None:
    worker = threading.Thread(
        target=client.chat_postMessage, kwargs={"channel": CHANNEL, "text": "later"}
    )
    worker.start()

    calls = slack.wait_for("chat.postMessage", timeout=5.0)
    worker.join()

    assert [c.params["text"] for c in calls] == ["later"]


def test_wait_for_raises_naming_what_arrived_when_count_is_not_reached(
    slack: LocalSlack, client: WebClient
) -> None:
    client.auth_test()

    with pytest.raises(AssertionError) as raised:
        slack.wait_for("chat.update", count=1, timeout=0.05)

    assert str(raised.value) == (
        "expected 1 'chat.update' call(s) within 0.05s, got 0; calls received: ['auth.test']"
    )


def test_reset_forgets_calls_and_failures_when_called(slack: LocalSlack, client: WebClient) -> None:
    client.auth_test()
    slack.fail_next("auth.test", "invalid_auth")

    slack.reset()

    assert slack.calls() == []
    assert client.auth_test()["ok"] is True


def test_local_slack_binds_distinct_free_ports_when_two_run_at_once() -> None:
    with LocalSlack() as first, LocalSlack() as second:
        assert first.base_url != second.base_url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", first.base_url)


def test_local_slack_refuses_connections_when_stopped() -> None:
    local = LocalSlack().start()
    host, port = "127.0.0.1", int(local.base_url.rsplit(":", 1)[1].split("/", 1)[0])

    local.stop()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=1).close()


def test_base_url_raises_runtime_error_when_not_started() -> None:
    with pytest.raises(RuntimeError, match=re.escape("LocalSlack is not started")):
        _ = LocalSlack().base_url
