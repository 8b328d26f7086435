"""Unit tests for ``slack_manifest.yml``: Slack's v1 manifest JSON Schema plus our own policy."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = PROJECT_ROOT / "slack_manifest.yml"
# The versioned file is self-contained; the top-level manifest.schema.json $refs remote URLs.
SCHEMA = (
    PROJECT_ROOT.parent / "shared/specs/slack/manifest-schema/schemas/manifest.schema.1.0.0.json"
)
EVENTS_URL = "https://capacity-copilot.example.com/slack/events"
LEAST_PRIVILEGE_BOT_SCOPES = [
    "commands",
    "chat:write",
    "app_mentions:read",
    "im:history",
    "users:read",
    "users:read.email",
]


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{MANIFEST} is not a YAML mapping"
    return loaded


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    if not SCHEMA.is_file():
        pytest.fail(
            f"Slack's manifest schema is missing at {SCHEMA}; the shared/ folder must sit beside "
            "the project checkout (see shared/specs/slack/SOURCE.txt)",
            pytrace=False,
        )
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def schema_errors(validator: Draft7Validator, manifest: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]


def test_manifest_validates_against_v1_schema_when_loaded(
    validator: Draft7Validator, manifest: dict[str, Any]
) -> None:
    assert schema_errors(validator, manifest) == []


def test_manifest_schema_rejects_manifest_when_a_key_is_misspelled(
    validator: Draft7Validator, manifest: dict[str, Any]
) -> None:
    # Guards the guard: the schema's additionalProperties: false is what catches typos.
    typo = copy.deepcopy(manifest)
    typo["settings"]["socket_mode"] = typo["settings"].pop("socket_mode_enabled")

    assert schema_errors(validator, typo) != []


def test_manifest_requests_exactly_least_privilege_bot_scopes_when_loaded(
    manifest: dict[str, Any],
) -> None:
    scopes = manifest["oauth_config"]["scopes"]

    assert sorted(scopes["bot"]) == sorted(LEAST_PRIVILEGE_BOT_SCOPES)
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert "user" not in scopes


def test_manifest_subscribes_to_bot_events_when_loaded(manifest: dict[str, Any]) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]

    assert sorted(events) == ["app_home_opened", "app_mention", "message.im"]


def test_manifest_points_every_request_url_at_events_endpoint_when_in_http_mode(
    manifest: dict[str, Any],
) -> None:
    settings = manifest["settings"]
    [command] = manifest["features"]["slash_commands"]

    assert settings["socket_mode_enabled"] is False
    assert settings["interactivity"]["is_enabled"] is True
    assert {
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    } == {EVENTS_URL}


def test_manifest_declares_capacity_command_with_usage_hint_when_loaded(
    manifest: dict[str, Any],
) -> None:
    [command] = manifest["features"]["slash_commands"]

    assert command["command"] == "/capacity"
    assert command["usage_hint"] == "help | team <name> [weeks] | @user | rebalance [team] [weeks]"


def test_manifest_enables_home_and_messages_tabs_with_bot_user_when_loaded(
    manifest: dict[str, Any],
) -> None:
    features = manifest["features"]

    assert manifest["display_information"]["name"] == "Capacity Copilot"
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["bot_user"]["display_name"]


def test_manifest_background_color_is_hex_when_loaded(manifest: dict[str, Any]) -> None:
    # The schema spells this constraint "regex", a keyword jsonschema ignores; check it here.
    color = manifest["display_information"]["background_color"]

    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", color)


def test_manifest_socket_mode_variant_validates_when_request_urls_are_dropped(
    validator: Draft7Validator, manifest: dict[str, Any]
) -> None:
    # The switch documented in the manifest's header comment must stay a valid manifest.
    socket = copy.deepcopy(manifest)
    socket["settings"]["socket_mode_enabled"] = True
    del socket["settings"]["event_subscriptions"]["request_url"]
    del socket["settings"]["interactivity"]["request_url"]
    del socket["features"]["slash_commands"][0]["url"]

    assert schema_errors(validator, socket) == []
