"""Suite-wide fixtures: a clean environment for every test."""

from __future__ import annotations

import pytest

from bot.config import ENV_NAMES

# Variables that silently change client behaviour (Slack OAuth mode; proxies that the sync
# WebClient applies even to 127.0.0.1) or would leak real credentials into tests.
_POISON = (
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with none of the product's settings and no proxy."""
    for name in (*ENV_NAMES, *_POISON):
        monkeypatch.delenv(name, raising=False)
