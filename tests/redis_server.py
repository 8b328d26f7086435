"""A real ``redis-server`` for contract tests: the one named by ``TEST_REDIS_URL``, or our own.

Test support only; imports nothing from the bot. Never skips: no Redis is a loud failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

ENV_VAR = "TEST_REDIS_URL"
_PORT_ATTEMPTS = 5


class RedisUnavailable(RuntimeError):
    """Neither ``TEST_REDIS_URL`` nor a local ``redis-server`` binary gave a working Redis."""


@dataclass
class RedisServer:
    """A ``redis-server`` process we started on 127.0.0.1, with its log in ``directory``."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Terminate the server and reap it (an unreaped Popen is a ResourceWarning)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def running_redis(*, timeout_s: float = 10.0) -> Iterator[str]:
    """Yield the URL of a Redis answering PING; stop it afterwards if we started it.

    ``TEST_REDIS_URL`` wins (the Makefile starts one server for the whole run); otherwise a
    private ``redis-server`` is started in a temporary directory.

    Raises:
        RedisUnavailable: The URL does not answer, or there is no ``redis-server`` to start.
    """
    external = os.environ.get(ENV_VAR)
    if external:
        if not _answers_ping(external):
            raise RedisUnavailable(
                f"{ENV_VAR} is set but {_address(external)} does not answer PING"
            )
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="copilot-redis-") as directory:
        server = start_redis_server(Path(directory), timeout_s=timeout_s)
        try:
            yield server.url
        finally:
            server.stop()


def start_redis_server(directory: Path, *, timeout_s: float = 10.0) -> RedisServer:
    """Start ``redis-server`` on a free loopback port, without persistence, and wait for PING.

    Redis cannot bind port 0, so a free port is found by binding one ourselves and releasing
    it; another process may take it in between, so a failed start is retried on a new port.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(
            f"no redis-server on PATH and {ENV_VAR} is not set: the contract tests need a real "
            "Redis. Install one (apt-get install redis-server) or export "
            f"{ENV_VAR}=redis://127.0.0.1:6379/0"
        )
    failures: list[str] = []
    for _ in range(_PORT_ATTEMPTS):
        server = _launch(binary, directory, free_port())
        if _wait_for_ping(server, timeout_s):
            return server
        server.stop()
        failures.append(f"port {server.port}: {server.log().strip()[-500:] or 'no log output'}")
    details = "\n".join(failures)
    raise RedisUnavailable(
        f"redis-server did not answer PING after {_PORT_ATTEMPTS} tries:\n{details}"
    )


def _launch(binary: str, directory: Path, port: int) -> RedisServer:
    command = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(directory),
        "--logfile", str(directory / "redis.log"),
        "--daemonize", "no",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return RedisServer(process=process, port=port, directory=directory)


def _wait_for_ping(server: RedisServer, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False  # exited: most likely the port was taken after we released it
        if _answers_ping(server.url):
            return True
        time.sleep(0.01)
    return False


def _answers_ping(url: str) -> bool:
    # No retries: redis-py's default backs off for seconds, and we are polling anyway.
    client = redis.Redis.from_url(
        url, socket_timeout=1.0, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0)
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def free_port() -> int:
    """A loopback TCP port nothing listens on right now (it may be taken again at any time)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _address(url: str) -> str:
    # Only host:port: a TEST_REDIS_URL may carry a password.
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"
