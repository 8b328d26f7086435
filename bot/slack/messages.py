"""Every user-facing string the Slack app sends, in one place."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.agent.intents import AUDIT_MAX, MAX_WEEKS
from bot.slack.ids import COMMAND

WORKING = "Crunching the numbers…"

HELP = f"""*Capacity Copilot* — who is overloaded in the coming weeks, from Asana.
• `{COMMAND}` — your team, next 4 weeks
• `{COMMAND} 6` — your team, next 6 weeks (1–{MAX_WEEKS})
• `{COMMAND} team &lt;name&gt; [weeks]` — a team, e.g. `{COMMAND} team Platform 6`
• `{COMMAND} @person [weeks]` — one person (a mention, an email or a name)
• `{COMMAND} rebalance [team] [weeks]` — propose moves that relieve overloaded people, \
for approval here
• `{COMMAND} help` — this message
Admins: `{COMMAND} mode [shadow|suggest|auto]`, `{COMMAND} pause-writes`, \
`{COMMAND} resume-writes`, `{COMMAND} audit [n]` (last n events, at most {AUDIT_MAX}).
Load = each open task's remaining estimate spread over the assignee's working days up to its due \
date, against their weekly capacity minus holidays and time off."""

LEGEND = (
    ":red_circle: over capacity  :large_orange_circle: at risk (>85%)  "
    ":large_green_circle: ok  :white_circle: under 50%  :heavy_minus_sign: not working  "
    "`+8h` work planned in a week with no capacity"
)

FORECAST_LEGEND = (
    "`118%` expected load · `92–140` likely range (p10–p90, % of capacity) · "
    "`P81` 81% chance of going over capacity · :red_circle: likely over  "
    ":large_orange_circle: at risk  :large_green_circle: ok  :white_circle: under 50%  "
    ":heavy_minus_sign: not working · (imputed) = estimate filled in by the model"
)

STATUS_EMOJI = {
    "over": ":red_circle:",
    "at_risk": ":large_orange_circle:",
    "ok": ":large_green_circle:",
    "under": ":white_circle:",
    "off": ":heavy_minus_sign:",
}

INTERNAL_ERROR = (
    "Sorry — something went wrong on my side and I couldn't answer. "
    "The details are in the bot's log (reference `{ref}`)."
)


# ---- proposals -----------------------------------------------------------------------------

APPROVE = "Approve"
REJECT = "Reject"
APPROVE_ALL = "Approve all"
REJECT_ALL = "Reject all"
RETRY = "Retry"
UNDO = "Undo"
FRESH_PROPOSAL = "Fresh proposal"
CONFIRM_APPROVE_TITLE = "Apply this move?"
CONFIRM_APPROVE_ALL_TITLE = "Apply every pending move?"
CONFIRM_YES = "Apply in Asana"
CONFIRM_NO = "Cancel"
SHADOW_NOTE = (
    ":eyes: Shadow mode: Capacity Copilot writes nothing to Asana, so these moves can't be "
    "approved. An admin can switch with `/capacity mode suggest`."
)
PAUSED_NOTE = (
    ":octagonal_sign: Writes to Asana are paused by an admin, so nothing can be approved until "
    "they are resumed (`/capacity resume-writes`). Rejecting still works."
)
STALE = "Stale: the task changed in Asana since this proposal; nothing was written."
ACTION_FAILED = (
    "Sorry — I couldn't finish that just now, and nothing more was changed. "
    "The details are in the bot's log (reference `{ref}`)."
)
UNKNOWN_BUTTON = "That button belongs to a message I can't read any more; nothing was changed."
NOTHING_PENDING = "Every move here is already decided; nothing more was done."
NO_PROPOSAL = "This proposal is no longer known; ask for a fresh one with `/capacity rebalance`."


def proposal_header(team: str) -> str:
    """The header of a proposal message (plain text)."""
    return f"Rebalance proposal · {team}"


def proposal_context(
    model_version: str | None,
    snapshot_hash: str,
    requested_by: str,
    expires_at: datetime,
    now: datetime,
) -> str:
    """Where the numbers come from, who asked and until when the proposal can be decided."""
    model = f"model `{escape(model_version)}`" if model_version else "committed load only"
    return (
        f"{model} · snapshot `{escape(snapshot_hash[:12])}` · asked by {person(requested_by)}"
        f" · decide before {when(expires_at, now)}"
    )


def proposal_text(team: str, summary: str) -> str:
    """The notification/fallback text of a proposal message."""
    return f"Rebalance proposal for {team}: {summary}"


def move_heading(number: int, task: str, hours: float) -> str:
    """``*1. <link|task>* · 12 h`` (``task`` is already escaped or linked)."""
    return f"*{number}. {task}* · {hours:.0f} h"


def reassign_line(from_name: str, to_name: str) -> str:
    return f"{escape(from_name)} → {escape(to_name)}"


def shift_line(owner: str, before: str, after: str) -> str:
    return f"{escape(owner)}: due {before} → {after}"


def reason_line(reason: str) -> str:
    return f"_Why:_ {escape(reason)}"


def approved_state(actor: str | None, at: datetime | None, now: datetime) -> str:
    return f":hourglass_flowing_sand: Approved by {person(actor)}{_at(at, now)} — applying…"


def applied_state(actor: str | None, at: datetime | None, now: datetime) -> str:
    return f"✅ Applied by {person(actor)}{_at(at, now)}"


def rejected_state(actor: str | None, at: datetime | None, now: datetime) -> str:
    return f"❌ Rejected by {person(actor)}{_at(at, now)}"


def failed_state(why: str | None) -> str:
    return f"⚠️ Failed: {escape(why or 'Asana did not accept the change')}"


def undone_state(actor: str | None, at: datetime | None, now: datetime) -> str:
    return f"↩️ Undone by {person(actor)}{_at(at, now)}"


def expired_move_state() -> str:
    return ":hourglass: Expired before anyone decided"


def expired_note(expires_at: datetime, now: datetime) -> str:
    return f":hourglass: Expired at {when(expires_at, now)} — ask for a fresh proposal."


def more_moves(hidden: int, total: int, *, approve_all: bool) -> str:
    covers = f" *{APPROVE_ALL}* covers all {total}." if approve_all else ""
    return f"…and {hidden} more move{'s' if hidden != 1 else ''} not shown.{covers}"


def confirm_move(task: str, from_name: str, to_name: str, kind: str) -> str:
    """The confirm dialog's text (plain text: no markup can form there)."""
    if kind == "reassign":
        return f"Reassign “{task}” from {from_name} to {to_name} in Asana?"
    return f"Move the dates of “{task}” ({from_name}) in Asana?"


def confirm_all(count: int) -> str:
    return (
        f"Apply all {count} pending move{'s' if count != 1 else ''} in Asana? Each task is "
        "checked again first; a task that changed is skipped."
    )


def nothing_to_rebalance(team: str, summary: str) -> str:
    return f"Nothing to propose for *{escape(team)}*: {escape(summary)}"


def proposal_posted(channel: str, moves: int, *, shadow: bool) -> str:
    where = f"<#{channel}>" if _is_channel(channel) else "the channel"
    mode = " (shadow mode: for review only)" if shadow else ""
    return f"Posted a proposal with {moves} move{'s' if moves != 1 else ''} in {where}{mode}."


def cannot_post(channel: str) -> str:
    where = f"<#{channel}>" if _is_channel(channel) else "this conversation"
    return (
        f"I couldn't post the proposal in {where}. Invite me to the channel "
        f"(`/invite @Capacity Copilot`) and ask again."
    )


# ---- modes, the kill switch, the audit log -----------------------------------------------------

AUDIT_ADMINS_ONLY = "Only admins can read the audit log."
AUDIT_EMPTY = "The audit log is empty."


def mode_status(mode: str, paused: bool) -> str:
    writes = "paused :octagonal_sign:" if paused else "on"
    return f"Mode: *{mode}* · writes to Asana: {writes}"


def bad_mode(value: str) -> str:
    return f"`{escape(value)}` isn't a mode: use `shadow`, `suggest` or `auto`."


def bad_count(value: str) -> str:
    return f"`{escape(value)}` isn't a count: use `{COMMAND} audit` or `{COMMAND} audit 20`."


def audit_header(shown: int) -> str:
    return f"*Last {shown} audit event{'s' if shown != 1 else ''}* (oldest first)"


def audit_line(at: str, actor: str | None, action: str, target: str, ref: str, result: str) -> str:
    return (
        f"`{escape(at)}` {person(actor)} *{escape(action)}* {escape(target)}"
        f"{f' ({escape(ref)})' if ref else ''} → {escape(result)}"
    )


# ---- App Home ---------------------------------------------------------------------------------

HOME_TITLE = "Capacity Copilot"
HOME_YOU = "*Your next weeks*"
HOME_TEAM = "*Your team*"
HOME_PROPOSALS = "*Proposals waiting for your decision*"
HOME_NO_PROPOSALS = "Nothing is waiting for your decision."


def home_not_in_asana(email: str | None) -> str:
    who = f"your Slack email ({escape(email)})" if email else "your Slack account"
    return f"I couldn't match {who} to anyone in the Asana teams I plan for."


def home_more_proposals(count: int) -> str:
    return f"…and {count} more proposal{'s' if count != 1 else ''} in their channels."


# ---- shared formatting ------------------------------------------------------------------------


def unknown_command(text: str, suggestion: str | None) -> str:
    """Reply to text we could not parse."""
    hint = f" Did you mean `{COMMAND} {suggestion} …`?" if suggestion else ""
    return f"I don't know `{COMMAND} {escape(text)}`.{hint}\n\n{HELP}"


def bad_weeks(value: str) -> str:
    """Reply to a week count outside the allowed range."""
    return f"`{escape(value)}` isn't a week count I can forecast: use 1 to {MAX_WEEKS} weeks."


def unknown_team(name: str, choices: list[str]) -> str:
    """Reply to a team name that matches no team."""
    listed = ", ".join(f"`{escape(c)}`" for c in choices) or "none are configured"
    return f"I can't find a team called *{escape(name)}*. Teams I know: {listed}."


def unknown_person(query: str, choices: list[str]) -> str:
    """Reply to a person reference that matches nobody in the teams in scope."""
    near = f" Did you mean {', '.join(escape(c) for c in choices)}?" if choices else ""
    return f"I can't find *{escape(query)}* in the Asana teams I plan for.{near}"


def caller_not_mapped(email: str | None) -> str:
    """Reply when the Slack caller maps to no Asana user."""
    who = f"your Slack email ({escape(email)})" if email else "your Slack account (no email)"
    return (
        f"I couldn't match {who} to an Asana user in the teams I plan for, so I don't know "
        f"your team. Try `{COMMAND} team <name>` or `{COMMAND} help`."
    )


def escape(text: str) -> str:
    """Escape Slack mrkdwn control characters in untrusted text (task names, user input)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def person(slack_id: str | None) -> str:
    """A mention of a Slack user id we got from Slack, or the escaped text when it is not one."""
    if slack_id and _USER_ID.fullmatch(slack_id):
        return f"<@{slack_id}>"
    return escape(slack_id or "someone")


def when(at: datetime, now: datetime) -> str:
    """``14:03 UTC`` on ``now``'s day, else ``25 Nov 14:03 UTC``."""
    at_utc = _utc(at)
    if at_utc.date() == _utc(now).date():
        return f"{at_utc:%H:%M} UTC"
    return f"{at_utc:%d %b %H:%M} UTC"


def _at(at: datetime | None, now: datetime) -> str:
    return "" if at is None else f" at {when(at, now)}"


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _is_channel(channel: str) -> bool:
    return bool(_CHANNEL_ID.fullmatch(channel))


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
