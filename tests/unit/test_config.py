"""Settings: parsing, every problem reported at once, secrets never shown, docs in sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ENV_NAMES, ConfigError, Secret, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_settings_have_offline_defaults_when_environment_is_empty() -> None:
    settings = load_settings({})

    assert settings.state_url == "sqlite:///var/copilot.sqlite3"
    assert settings.mode == "suggest"
    assert settings.default_weekly_capacity_h == 40.0
    assert not settings.llm_enabled


def test_settings_parse_every_kind_of_value_when_well_formed() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-123",
            "ASANA_WORKSPACE_GID": "1200000000000001",
            "ASANA_TEAMS": "Platform, Data ,",
            "ASANA_PROJECTS": "11,12",
            "MODE": "Shadow",
            "DEFAULT_WEEKLY_CAPACITY_H": "32.5",
            "HOLIDAY_COUNTRY": "de",
            "TIMEZONE": "Europe/Berlin",
            "STATE_URL": "redis://localhost:6379/0",
            "OPENAI_BASE_URL": "http://127.0.0.1:9999/v1",
        }
    )

    assert settings.asana_teams == ("Platform", "Data")
    assert settings.asana_projects == ("11", "12")
    assert settings.mode == "shadow"
    assert settings.default_weekly_capacity_h == 32.5
    assert settings.holiday_country == "DE"
    assert settings.llm_enabled


def test_load_settings_lists_every_problem_when_several_values_are_bad() -> None:
    env = {"PORT": "eighty", "MODE": "yolo", "ASANA_WORKSPACE_GID": "abc", "TIMEZONE": "Mars/Base"}

    with pytest.raises(ConfigError) as caught:
        load_settings(env, require=["asana"])

    assert caught.value.problems == [
        "ASANA_WORKSPACE_GID must be a numeric Asana gid (got 'abc')",
        "MODE must be one of shadow, suggest, auto (got 'yolo')",
        "TIMEZONE must be an IANA time zone such as Europe/London (got 'Mars/Base')",
        "PORT must be a whole number (got 'eighty')",
        "ASANA_ACCESS_TOKEN is required (to read Asana)",
    ]


def test_load_settings_never_shows_a_secret_when_it_is_malformed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"SLACK_BOT_TOKEN": "super-secret-value"})

    assert "super-secret-value" not in str(caught.value)
    assert caught.value.problems == ["SLACK_BOT_TOKEN must start with xoxb-"]


def test_secret_hides_itself_when_settings_are_printed() -> None:
    settings = load_settings({"ASANA_ACCESS_TOKEN": "2/123/456:abcdef"})

    assert "abcdef" not in repr(settings)
    assert isinstance(settings.asana_access_token, Secret)
    assert settings.asana_access_token == "2/123/456:abcdef"


def test_load_settings_requires_slack_tokens_when_serving_http() -> None:
    with pytest.raises(ConfigError, match=re.escape("SLACK_SIGNING_SECRET is required")):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, require=["slack_http"])


def test_env_example_lists_exactly_the_settings_when_compared_with_config() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE)

    assert sorted(documented) == sorted(ENV_NAMES)
    assert len(documented) == len(set(documented))


def test_env_example_comments_every_variable_when_read() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()

    uncommented = [
        line.split("=")[0]
        for i, line in enumerate(lines)
        if re.match(r"^[A-Z_]+=", line) and not lines[i - 1].startswith("#")
    ]
    assert uncommented == []


def test_readme_documents_every_setting_when_read() -> None:
    readme = (ROOT / "README.md").read_text()

    assert [name for name in ENV_NAMES if f"`{name}`" not in readme] == []


def test_only_config_names_environment_variables_when_scanning_the_code() -> None:
    offenders = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("forecasting/**/*.py")]:
        if path.name == "config.py":
            continue
        text = path.read_text()
        lookups = re.findall(r"os\.environ(?:\[|\.get)|getenv\(", text)
        names = [n for n in ENV_NAMES if re.search(rf"[\"']{n}[\"']", text)]
        if lookups or names:
            offenders.append((str(path.relative_to(ROOT)), lookups, names))
    assert offenders == []
