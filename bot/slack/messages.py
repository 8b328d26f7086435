"""Every user-facing string the Slack app sends, in one place."""

from __future__ import annotations

from bot.agent.intents import MAX_WEEKS
from bot.slack.ids import COMMAND

WORKING = "Crunching the numbers…"

HELP = f"""*Capacity Copilot* — who is overloaded in the coming weeks, from Asana.
• `{COMMAND}` — your team, next 4 weeks
• `{COMMAND} 6` — your team, next 6 weeks (1–{MAX_WEEKS})
• `{COMMAND} team &lt;name&gt; [weeks]` — a team, e.g. `{COMMAND} team Platform 6`
• `{COMMAND} @person [weeks]` — one person (a mention, an email or a name)
• `{COMMAND} help` — this message
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
