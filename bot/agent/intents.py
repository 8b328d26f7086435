"""The deterministic (no-LLM) intent engine: ``/capacity`` text → a typed intent.

Untrusted text only ever selects among these intents; it is never executed or written anywhere.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

MAX_WEEKS = 12
SUBCOMMANDS = ("help", "team", "me")


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
class Unknown:
    """Text we do not understand; ``suggestion`` is the closest known subcommand, if any."""

    text: str
    suggestion: str | None = None


@dataclass(frozen=True)
class BadWeeks:
    """A week count outside 1..MAX_WEEKS."""

    value: str


Intent = ShowHelp | ShowMyTeam | ShowTeam | ShowPerson | Unknown | BadWeeks

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_WEEKS = re.compile(r"^(\d{1,3})(?:w|wk|wks|weeks?)?$", re.IGNORECASE)


def parse_command(text: str) -> Intent:
    """Parse the text after ``/capacity``.

    Grammar: ``""`` | ``help`` | ``[me] [N]`` | ``team NAME [N]`` | ``@user [N]`` |
    ``email [N]``, where N is a week count 1..12 (``6``, ``6w``, ``6 weeks``).
    """
    words = text.strip().split()
    weeks: int | None = None
    if len(words) >= 2 and words[-1].lower() in ("week", "weeks", "w"):
        words = [*words[:-2], words[-2] + "w"]
    count = _WEEKS.match(words[-1]) if words else None
    if count:
        number = int(count.group(1))
        if not 1 <= number <= MAX_WEEKS:
            return BadWeeks(words[-1])
        weeks = number
        words = words[:-1]
    if not words or (len(words) == 1 and words[0].lower() == "me"):
        return ShowMyTeam(weeks)
    head = words[0].lower()
    if head in ("help", "?", "-h", "--help"):
        return ShowHelp()
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
