"""A local Socket Mode endpoint: Slack's side of the websocket that ``serve --socket`` opens.

Sends ``hello`` on connect, pushes envelopes the test gives it, and records the acks.
"""

from __future__ import annotations

import asyncio
import json
import threading
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web


class FakeSocketMode:
    """Serves ``ws://127.0.0.1:PORT/link`` in a thread with its own event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/link"

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        with self._changed:
            self._sockets.append(socket)
            self._changed.notify_all()
        await socket.send_json({"type": "hello", "num_connections": 1})
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                with self._changed:
                    self._acks.append(json.loads(message.data))
                    self._changed.notify_all()
        return socket

    def wait_connected(self, timeout: float = 30) -> None:
        """Block until the app has opened the websocket."""
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._sockets), timeout):
                raise AssertionError(f"no Socket Mode connection within {timeout}s")

    def send(self, envelope: dict[str, Any]) -> None:
        """Push one envelope (as Slack would) to the connected app."""
        socket = self._sockets[-1]
        asyncio.run_coroutine_threadsafe(socket.send_json(envelope), self._loop).result(10)

    def wait_for_ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        """The app's acknowledgement of ``envelope_id``."""

        def find() -> dict[str, Any] | None:
            return next((a for a in self._acks if a.get("envelope_id") == envelope_id), None)

        with self._changed:
            if not self._changed.wait_for(lambda: find() is not None, timeout):
                raise AssertionError(f"no ack for {envelope_id} within {timeout}s: {self._acks}")
            ack = find()
            assert ack is not None
            return ack

    def stop(self) -> None:
        async def shutdown() -> None:
            for socket in self._sockets:
                await socket.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
