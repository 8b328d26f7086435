"""The whole bot behind its real HTTP entry, against the sandbox Asana and the local Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import Deps, bootstrap
from bot.clock import FixedClock
from bot.config import Secret, Settings
from bot.slack import ids
from bot.slack.app import build_app
from bot.slack.web import create_wsgi_app
from sandbox.asana_server import AsanaSandbox
from sandbox.slack_api import LocalSlack
from sandbox.slack_sender import SlackSender
from sandbox.wsgi_host import WsgiHost
from tests.asana_orgs import NOW, SmallOrg, small_org

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
SLACK_USERS = {
    "U0ANA00001": "ana@example.com",
    "U0BEN00001": "ben@example.com",
    "U0CLEO0001": "cleo@example.com",
    "U0OUTSIDER": "zed@elsewhere.com",
}


@dataclass
class Bot:
    """A running bot and the two outside services it talks to."""

    org: SmallOrg
    asana: AsanaSandbox
    slack: LocalSlack
    deps: Deps
    sender: SlackSender
    url: str


@pytest.fixture
def org() -> SmallOrg:
    return small_org()


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    """Settings a test module adds to the bot's (override the fixture in the module)."""
    return {}


@pytest.fixture
def bot(
    org: SmallOrg,
    tmp_path: Path,
    make_asana_sandbox: Callable[..., AsanaSandbox],
    bot_settings: dict[str, Any],
) -> Iterator[Bot]:
    asana = make_asana_sandbox(org.state)
    with LocalSlack(bot_token=BOT_TOKEN).start() as slack:
        for user_id, email in SLACK_USERS.items():
            slack.add_user(user_id, email, email.split("@")[0].title())
        settings = Settings(
            slack_bot_token=Secret(BOT_TOKEN),
            slack_signing_secret=Secret(SIGNING_SECRET),
            slack_api_url=slack.base_url,
            asana_access_token=Secret(asana.token),
            asana_workspace_gid=org.state.workspace_gid,
            asana_base_url=asana.base_url,
            asana_timeout_s=5,
            state_url=f"sqlite:///{tmp_path / 'state.sqlite3'}",
            **bot_settings,
        )
        deps = bootstrap(settings, clock=FixedClock(NOW))
        try:
            app = build_app(settings, deps)
            with WsgiHost(create_wsgi_app(app, deps.store)) as host:
                url = host.url
                yield Bot(
                    org, asana, slack, deps, SlackSender(url + ids.EVENTS_PATH, SIGNING_SECRET), url
                )
        finally:
            deps.close()
