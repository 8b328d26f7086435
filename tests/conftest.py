"""Suite-wide fixtures: a clean environment, and sandbox Asanas held to Asana's OpenAPI spec."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.config import ENV_NAMES
from sandbox.asana_server import AsanaSandbox, SandboxState
from sandbox.openapi import AsanaSpec, load_spec

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


@pytest.fixture(scope="session")
def asana_spec() -> AsanaSpec:
    """Asana's OpenAPI spec with the documented errata, parsed once per session."""
    return load_spec()


@pytest.fixture
def asana_state() -> SandboxState:
    """An empty sandbox workspace; override (or fill it) to give tests an organisation."""
    return SandboxState()


@pytest.fixture
def make_asana_sandbox(
    asana_state: SandboxState, asana_spec: AsanaSpec
) -> Iterator[Callable[..., AsanaSandbox]]:
    """Start sandboxes (port 0) with options, e.g. `make_asana_sandbox(latency_s=0.1)`.

    At teardown they stop and every exchange they logged must conform to the spec.
    """
    started: list[AsanaSandbox] = []

    def make(state: SandboxState | None = None, **options: Any) -> AsanaSandbox:
        sandbox = AsanaSandbox(state or asana_state, **options).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()
    states = {id(s.state): s.state for s in started}.values()
    problems = [problem for state in states for problem in asana_spec.check(state.log())]
    if problems:
        pytest.fail(
            "exchanges that break Asana's OpenAPI spec:\n  " + "\n  ".join(problems),
            pytrace=False,
        )
