"""Settings: the only module that reads environment variable names.

``load_settings(env)`` turns a mapping (normally ``os.environ``) into a frozen ``Settings`` or
raises ``ConfigError`` listing every problem at once. ``.env.example`` documents each name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from bot.errors import ConfigError

Mode = Literal["shadow", "suggest", "auto"]
MODES: tuple[Mode, ...] = ("shadow", "suggest", "auto")
T = TypeVar("T")


class Secret(str):
    """A string that never shows itself in ``repr``, logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"


@dataclass(frozen=True)
class Settings:
    """Every setting of the product; defaults are the offline-safe ones."""

    slack_bot_token: Secret = Secret("")
    slack_signing_secret: Secret = Secret("")
    slack_app_token: Secret = Secret("")
    slack_api_url: str = "https://slack.com/api/"
    asana_access_token: Secret = Secret("")
    asana_workspace_gid: str = ""
    asana_base_url: str = "https://app.asana.com/api/1.0"
    asana_teams: tuple[str, ...] = ()
    asana_projects: tuple[str, ...] = ()
    asana_portfolio_gid: str = ""
    asana_effort_field: str = ""
    asana_effort_unit: Literal["minutes", "hours"] = "hours"
    asana_skills_field: str = "Skills"
    asana_history_days: int = 365
    asana_timeout_s: float = 30.0
    asana_max_requests_per_minute: int = 1400
    roster_path: Path | None = None
    openai_api_key: Secret = Secret("")
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    state_url: str = "sqlite:///var/copilot.sqlite3"
    mode: Mode = "suggest"
    default_weekly_capacity_h: float = 40.0
    holiday_country: str = ""
    timezone: str = "UTC"
    forecast_weeks: int = 4
    lead_days: int = 5
    forecast_draws: int = 1000
    over_threshold: float = 1.0
    max_moves: int = 10
    approvers: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    proposal_ttl_h: float = 24.0
    undo_window_h: float = 24.0
    shadow_channel: str = ""
    solver_time_limit_s: float = 10.0
    snapshot_ttl_s: int = 300
    slack_listener_threads: int = 16
    port: int = 3000
    log_level: str = "info"

    @property
    def llm_enabled(self) -> bool:
        """True when an OpenAI-compatible endpoint is configured (key or base URL)."""
        return bool(self.openai_api_key or self.openai_base_url)


# One row per environment variable: (name, attribute, parser). The README and .env.example list
# the same names; tests/unit/test_config.py keeps the three in sync.
Parser = Callable[[str], Any]


def _int(lo: int, hi: int) -> Parser:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return value

    return parse


def _float(lo: float, hi: float) -> Parser:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError("must be a number") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo:g} and {hi:g}")
        return value

    return parse


def _choice(*options: str) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return parse


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _gid(raw: str) -> str:
    if not re.fullmatch(r"\d{1,32}", raw.strip()):
        raise ValueError("must be a numeric Asana gid")
    return raw.strip()


def _url(raw: str) -> str:
    if not re.match(r"^https?://[^\s/]+", raw.strip()):
        raise ValueError("must be an http(s) URL")
    return raw.strip()


def _state_url(raw: str) -> str:
    if not re.match(r"^(sqlite:///|redis://|rediss://)", raw.strip()):
        raise ValueError("must start with sqlite:/// or redis:// (or rediss://)")
    return raw.strip()


def _country(raw: str) -> str:
    code = raw.strip().upper()
    if code and code not in holidays.list_supported_countries():
        raise ValueError("must be an ISO 3166 alpha-2 country code known to `holidays`")
    return code


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone such as Europe/London") from exc
    return raw.strip()


def _existing_file(raw: str) -> Path:
    path = Path(raw.strip())
    if not path.is_file():
        raise ValueError(f"file {path} does not exist")
    return path


def _prefixed(*prefixes: str) -> Parser:
    def parse(raw: str) -> Secret:
        value = raw.strip()
        if not value.startswith(prefixes):
            raise ValueError(f"must start with {' or '.join(prefixes)}")
        return Secret(value)

    return parse


def _secret(raw: str) -> Secret:
    return Secret(raw.strip())


VARIABLES: tuple[tuple[str, str, Parser], ...] = (
    ("SLACK_BOT_TOKEN", "slack_bot_token", _prefixed("xoxb-")),
    ("SLACK_SIGNING_SECRET", "slack_signing_secret", _secret),
    ("SLACK_APP_TOKEN", "slack_app_token", _prefixed("xapp-")),
    ("SLACK_API_URL", "slack_api_url", _url),
    ("ASANA_ACCESS_TOKEN", "asana_access_token", _secret),
    ("ASANA_WORKSPACE_GID", "asana_workspace_gid", _gid),
    ("ASANA_BASE_URL", "asana_base_url", _url),
    ("ASANA_TEAMS", "asana_teams", _csv),
    ("ASANA_PROJECTS", "asana_projects", lambda raw: tuple(_gid(g) for g in _csv(raw))),
    ("ASANA_PORTFOLIO_GID", "asana_portfolio_gid", _gid),
    ("ASANA_EFFORT_FIELD", "asana_effort_field", str.strip),
    ("ASANA_EFFORT_UNIT", "asana_effort_unit", _choice("minutes", "hours")),
    ("ASANA_SKILLS_FIELD", "asana_skills_field", str.strip),
    ("ASANA_HISTORY_DAYS", "asana_history_days", _int(0, 3650)),
    ("ASANA_TIMEOUT_S", "asana_timeout_s", _float(1, 300)),
    ("ASANA_MAX_REQUESTS_PER_MINUTE", "asana_max_requests_per_minute", _int(1, 100_000)),
    ("ROSTER_PATH", "roster_path", _existing_file),
    ("OPENAI_API_KEY", "openai_api_key", _secret),
    ("OPENAI_BASE_URL", "openai_base_url", _url),
    ("OPENAI_MODEL", "openai_model", str.strip),
    ("STATE_URL", "state_url", _state_url),
    ("MODE", "mode", _choice(*MODES)),
    ("DEFAULT_WEEKLY_CAPACITY_H", "default_weekly_capacity_h", _float(0, 168)),
    ("HOLIDAY_COUNTRY", "holiday_country", _country),
    ("TIMEZONE", "timezone", _timezone),
    ("FORECAST_WEEKS", "forecast_weeks", _int(1, 26)),
    ("LEAD_DAYS", "lead_days", _int(1, 60)),
    ("FORECAST_DRAWS", "forecast_draws", _int(1, 100_000)),
    ("OVER_THRESHOLD", "over_threshold", _float(0.1, 5)),
    ("MAX_MOVES", "max_moves", _int(0, 200)),
    ("APPROVERS", "approvers", _csv),
    ("ADMINS", "admins", _csv),
    ("PROPOSAL_TTL_H", "proposal_ttl_h", _float(0.1, 720)),
    ("UNDO_WINDOW_H", "undo_window_h", _float(0, 720)),
    ("SHADOW_CHANNEL", "shadow_channel", str.strip),
    ("SOLVER_TIME_LIMIT_S", "solver_time_limit_s", _float(0.1, 120)),
    ("SNAPSHOT_TTL_S", "snapshot_ttl_s", _int(0, 86_400)),
    ("SLACK_LISTENER_THREADS", "slack_listener_threads", _int(2, 256)),
    ("PORT", "port", _int(1, 65_535)),
    ("LOG_LEVEL", "log_level", _choice("debug", "info", "warning", "error")),
)
ENV_NAMES: tuple[str, ...] = tuple(name for name, _, _ in VARIABLES)
SECRET_NAMES = frozenset(
    {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "ASANA_ACCESS_TOKEN",
        "OPENAI_API_KEY",
    }
)

# What each entry point needs beyond the defaults.
REQUIREMENTS: Mapping[str, tuple[str, ...]] = {
    "asana": ("ASANA_ACCESS_TOKEN", "ASANA_WORKSPACE_GID"),
    "slack_http": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
    "slack_socket": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
}


def load_settings(
    env: Mapping[str, str], *, require: Collection[str] = (), **overrides: Any
) -> Settings:
    """Parse ``env`` into ``Settings``.

    Args:
        env: the environment, usually ``os.environ``; empty values count as unset.
        require: keys of ``REQUIREMENTS`` the caller needs (e.g. ``("asana", "slack_http")``).
        overrides: attribute values that win over the environment (used by the demo and tests).

    Raises:
        ConfigError: listing every missing or malformed value, never the value of a secret.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    malformed: set[str] = set()
    for name, attr, parse in VARIABLES:
        raw = env.get(name, "")
        if not raw.strip():
            continue
        try:
            values[attr] = parse(raw)
        except ValueError as exc:
            shown = "" if name in SECRET_NAMES else f" (got {raw.strip()[:60]!r})"
            problems.append(f"{name} {exc}{shown}")
            malformed.add(name)
    values.update(overrides)
    settings = Settings(**values)
    attr_of = {name: attr for name, attr, _ in VARIABLES}
    for need in require:
        for name in REQUIREMENTS[need]:
            if name not in malformed and not getattr(settings, attr_of[name]):
                problems.append(f"{name} is required ({_why(need)})")
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    return settings


def _why(need: str) -> str:
    return {
        "asana": "to read Asana",
        "slack_http": "to serve Slack over HTTP",
        "slack_socket": "to serve Slack in Socket Mode",
    }[need]


def describe(settings: Settings) -> list[str]:
    """One ``name = value`` line per setting with secrets masked, for ``--help`` and logs."""
    by_attr = {attr: name for name, attr, _ in VARIABLES}
    lines = []
    for f in fields(settings):
        if f.name in by_attr:
            value = getattr(settings, f.name)
            shown = "***" if isinstance(value, Secret) and value else value
            lines.append(f"{by_attr[f.name]} = {shown!s}")
    return lines


def log_level(env: Mapping[str, str]) -> str:
    """The LOG_LEVEL for ``logging`` ("INFO" when unset or malformed: logging must start)."""
    raw = env.get("LOG_LEVEL", "").strip().lower()
    return raw.upper() if raw in ("debug", "info", "warning", "error") else "INFO"
