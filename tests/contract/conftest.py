"""Fixtures for the contract tier (adapters against real local servers)."""

from __future__ import annotations

# ==== Asana sandbox fixtures (owner: sandbox/asana_server.py) ================================
# `make_asana_sandbox` (tests/conftest.py) checks every exchange against Asana's OpenAPI spec.
from collections.abc import Callable, Iterator

import asana
import pytest
from urllib3.util.retry import Retry

from sandbox.asana_server import AsanaSandbox


@pytest.fixture
def asana_sandbox(make_asana_sandbox: Callable[..., AsanaSandbox]) -> AsanaSandbox:
    """A running sandbox over `asana_state`."""
    return make_asana_sandbox()


@pytest.fixture
def make_asana_client() -> Iterator[Callable[..., asana.ApiClient]]:
    """Official-SDK clients for a sandbox: `make_asana_client(sandbox, retries=False)`.

    `retries=False` sets `Retry(0)`, so a 429/500 reaches the test as `ApiException` at once
    instead of after the SDK's backoff.
    """
    clients: list[asana.ApiClient] = []

    def make(
        sandbox: AsanaSandbox, *, token: str | None = None, retries: bool = True
    ) -> asana.ApiClient:
        cfg = asana.Configuration()
        cfg.host = sandbox.base_url
        cfg.access_token = sandbox.token if token is None else token
        if not retries:
            cfg.retry_strategy = Retry(0)
        client = asana.ApiClient(cfg)
        clients.append(client)
        return client

    yield make
    for client in clients:
        # ApiClient builds a ThreadPool eagerly (python-asana#203): close it and the sockets.
        client.rest_client.pool_manager.clear()
        client.pool.close()
        client.pool.join()


@pytest.fixture
def asana_client(
    make_asana_client: Callable[..., asana.ApiClient], asana_sandbox: AsanaSandbox
) -> asana.ApiClient:
    """An SDK client with default settings (retries on) talking to `asana_sandbox`."""
    return make_asana_client(asana_sandbox)


# ==== end of Asana sandbox fixtures ===========================================================
