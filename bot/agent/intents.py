"""The deterministic (no-LLM) intent engine: ``/capacity`` text → a typed intent.

Untrusted text only ever selects among these intents; it is never executed or written anywhere.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.config import MODES

MAX_WEEKS = 12
AUDIT_DEFAULT = 10
AUDIT_MAX = 50
SUBCOMMANDS = ("help", "team", "me", "rebalance", "mode", "pause-writes", "resume-writes", "audit")


@dataclass(frozen=True)
class ShowHelp:
    """Explain the commands."""


@dataclass(frozen=True)
class ShowMyTeam:
    """The caller's own team."""

    weeks: int | None = None


@dataclass(frozen=True)
class ShowTeam:
    """A named team."""

    team: str
    weeks: int | None = None


@dataclass(frozen=True)
class ShowPerson:
    """One person, named by Slack id (``<@U…>``), email or name."""

    slack_user_id: str | None = None
    query: str | None = None
    weeks: int | None = None


@dataclass(frozen=True)
class Rebalance:
    """Propose moves that relieve a team (the caller's own team when ``team`` is None)."""

    team: str | None = None
    weeks: int | None = None


@dataclass(frozen=True)
class ShowMode:
    """Say which rollout mode is on and whether writes are paused."""


@dataclass(frozen=True)
class SetMode:
    """Switch the rollout mode (admins only): one of ``bot.config.MODES``."""

    mode: str


@dataclass(frozen=True)
class BadMode:
    """``mode`` followed by something that is not a mode."""

    value: str


@dataclass(frozen=True)
class SetPaused:
    """Stop (``paused=True``) or resume every write to Asana (admins only)."""

    paused: bool


@dataclass(frozen=True)
class ShowAudit:
    """The last ``count`` audit events (admins only), 1..AUDIT_MAX."""

    count: int = AUDIT_DEFAULT


@dataclass(frozen=True)
class BadCount:
    """``audit`` followed by something that is not a positive count."""

    value: str


@dataclass(frozen=True)
class Unknown:
    """Text we do not understand; ``suggestion`` is the closest known subcommand, if any."""

    text: str
    suggestion: str | None = None


@dataclass(frozen=True)
class BadWeeks:
    """A week count outside 1..MAX_WEEKS."""

    value: str


Intent = (
    ShowHelp
    | ShowMyTeam
    | ShowTeam
    | ShowPerson
    | Rebalance
    | ShowMode
    | SetMode
    | BadMode
    | SetPaused
    | ShowAudit
    | BadCount
    | Unknown
    | BadWeeks
)

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_WEEKS = re.compile(r"^(\d{1,3})(?:w|wk|wks|weeks?)?$", re.IGNORECASE)


def parse_command(text: str) -> Intent:
    """Parse the text after ``/capacity``.

    Grammar: ``""`` | ``help`` | ``[me] [N]`` | ``team NAME [N]`` | ``@user [N]`` |
    ``email [N]`` | ``rebalance [[team] NAME] [N]`` | ``mode [shadow|suggest|auto]`` |
    ``pause-writes`` | ``resume-writes`` | ``audit [COUNT]``, where N is a week count 1..12
    (``6``, ``6w``, ``6 weeks``) and COUNT 1..50 (more is cut to 50).
    """
    words = text.strip().split()
    head = words[0].lower() if words else ""
    admin = _admin_intent(head, words[1:])
    if admin is not None:
        return admin
    split = _split_weeks(words)
    if isinstance(split, BadWeeks):
        return split
    words, weeks = split
    if not words or (len(words) == 1 and words[0].lower() == "me"):
        return ShowMyTeam(weeks)
    if head in ("help", "?", "-h", "--help"):
        return ShowHelp()
    if head == "rebalance":
        rest = words[1:]
        if rest and rest[0].lower() == "team":
            rest = rest[1:]
        return Rebalance(" ".join(rest) or None, weeks)
    if head == "team":
        if len(words) == 1:
            return ShowMyTeam(weeks)
        return ShowTeam(" ".join(words[1:]), weeks)
    mention = _MENTION.match(words[0])
    if mention and len(words) == 1:
        return ShowPerson(slack_user_id=mention.group(1), weeks=weeks)
    if words[0].startswith("@") or "@" in words[0]:
        return ShowPerson(query=" ".join(words).lstrip("@"), weeks=weeks)
    close = difflib.get_close_matches(head, SUBCOMMANDS, n=1, cutoff=0.6)
    return Unknown(text.strip(), close[0] if close else None)


def _admin_intent(head: str, rest: list[str]) -> Intent | None:
    """The admin commands, parsed before week counts (``audit 20`` is a count, not weeks)."""
    if head == "mode":
        if not rest:
            return ShowMode()
        if len(rest) == 1 and rest[0].lower() in MODES:
            return SetMode(rest[0].lower())
        return BadMode(" ".join(rest))
    joined = " ".join([head, *(w.lower() for w in rest)]).replace("_", "-")
    if joined in ("pause-writes", "pause writes"):
        return SetPaused(True)
    if joined in ("resume-writes", "resume writes"):
        return SetPaused(False)
    if head == "audit":
        if not rest:
            return ShowAudit()
        if len(rest) == 1 and rest[0].isdigit() and int(rest[0]) >= 1:
            return ShowAudit(min(int(rest[0]), AUDIT_MAX))
        return BadCount(" ".join(rest))
    return None


def _split_weeks(words: list[str]) -> tuple[list[str], int | None] | BadWeeks:
    """Take a trailing week count (``6``, ``6w``, ``6 weeks``) off ``words``."""
    if len(words) >= 2 and words[-1].lower() in ("week", "weeks", "w"):
        words = [*words[:-2], words[-2] + "w"]
    count = _WEEKS.match(words[-1]) if words else None
    if not count:
        return words, None
    number = int(count.group(1))
    if not 1 <= number <= MAX_WEEKS:
        return BadWeeks(words[-1])
    return words[:-1], number
