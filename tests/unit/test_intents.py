"""The no-LLM intent engine for /capacity text."""

from __future__ import annotations

import pytest

from bot.agent.intents import (
    BadWeeks,
    ShowHelp,
    ShowMyTeam,
    ShowPerson,
    ShowTeam,
    Unknown,
    parse_command,
)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("", ShowMyTeam()),
        ("   ", ShowMyTeam()),
        ("6", ShowMyTeam(weeks=6)),
        ("me 3w", ShowMyTeam(weeks=3)),
        ("help", ShowHelp()),
        ("HELP", ShowHelp()),
        ("team Platform", ShowTeam("Platform")),
        ("team Data Science 6", ShowTeam("Data Science", weeks=6)),
        ("team data 2 weeks", ShowTeam("data", weeks=2)),
        ("team", ShowMyTeam()),
        ("<@U0123ABCD|dana> 3", ShowPerson(slack_user_id="U0123ABCD", weeks=3)),
        ("<@W0123ABCD>", ShowPerson(slack_user_id="W0123ABCD")),
        ("@dana.ruiz", ShowPerson(query="dana.ruiz")),
        ("dana@example.com 2w", ShowPerson(query="dana@example.com", weeks=2)),
    ],
)
def test_parse_command_returns_intent_when_text_is_valid(text: str, intent: object) -> None:
    assert parse_command(text) == intent


@pytest.mark.parametrize("text", ["0", "13", "team Platform 99"])
def test_parse_command_refuses_weeks_when_out_of_range(text: str) -> None:
    assert isinstance(parse_command(text), BadWeeks)


def test_parse_command_suggests_subcommand_when_misspelt() -> None:
    assert parse_command("tema Platform") == Unknown("tema Platform", suggestion="team")


def test_parse_command_has_no_suggestion_when_text_is_unrelated() -> None:
    assert parse_command("delete all tasks") == Unknown("delete all tasks", suggestion=None)
