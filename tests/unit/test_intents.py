"""The no-LLM intent engine for /capacity text."""

from __future__ import annotations

import pytest

from bot.agent.intents import (
    AUDIT_MAX,
    BadCount,
    BadMode,
    BadWeeks,
    Rebalance,
    SetMode,
    SetPaused,
    ShowAudit,
    ShowHelp,
    ShowMode,
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
        ("rebalance", Rebalance()),
        ("rebalance Platform", Rebalance("Platform")),
        ("Rebalance team Data Science 6", Rebalance("Data Science", weeks=6)),
        ("rebalance 3 weeks", Rebalance(weeks=3)),
        ("mode", ShowMode()),
        ("mode shadow", SetMode("shadow")),
        ("MODE Suggest", SetMode("suggest")),
        ("mode auto", SetMode("auto")),
        ("pause-writes", SetPaused(True)),
        ("pause writes", SetPaused(True)),
        ("resume-writes", SetPaused(False)),
        ("resume_writes", SetPaused(False)),
        ("audit", ShowAudit(10)),
        ("audit 20", ShowAudit(20)),
        ("audit 1", ShowAudit(1)),
    ],
)
def test_parse_command_returns_intent_when_text_is_valid(text: str, intent: object) -> None:
    assert parse_command(text) == intent


@pytest.mark.parametrize("text", ["0", "13", "team Platform 99", "rebalance Platform 20"])
def test_parse_command_refuses_weeks_when_out_of_range(text: str) -> None:
    assert isinstance(parse_command(text), BadWeeks)


def test_parse_command_suggests_subcommand_when_misspelt() -> None:
    assert parse_command("tema Platform") == Unknown("tema Platform", suggestion="team")


def test_parse_command_has_no_suggestion_when_text_is_unrelated() -> None:
    assert parse_command("delete all tasks") == Unknown("delete all tasks", suggestion=None)


def test_parse_command_caps_the_audit_count_when_above_the_maximum() -> None:
    assert parse_command("audit 500") == ShowAudit(AUDIT_MAX)


@pytest.mark.parametrize(
    ("text", "value"), [("audit 0", "0"), ("audit x", "x"), ("audit 5 6", "5 6")]
)
def test_parse_command_refuses_the_audit_count_when_not_a_positive_number(
    text: str, value: str
) -> None:
    assert parse_command(text) == BadCount(value)


@pytest.mark.parametrize(
    ("text", "value"), [("mode turbo", "turbo"), ("mode shadow now", "shadow now")]
)
def test_parse_command_refuses_the_mode_when_it_is_not_one(text: str, value: str) -> None:
    assert parse_command(text) == BadMode(value)


def test_parse_command_suggests_rebalance_when_misspelt() -> None:
    assert parse_command("rebalanse Platform") == Unknown("rebalanse Platform", "rebalance")


def test_parse_command_reads_pause_as_unknown_when_followed_by_something_else() -> None:
    assert isinstance(parse_command("pause everything"), Unknown)
