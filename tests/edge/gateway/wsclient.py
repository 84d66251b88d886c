"""A plain WebSocket client as the original services' clients were: JSON text frames in and out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConcurrencyError, ConnectionClosed

from tests.support import WAIT, LiveServer


class JsonSocket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, value: Any) -> None:
        """A JSON frame (a ``str`` is sent as it is: raw text)."""
        await self.ws.send(value if isinstance(value, str | bytes) else orjson.dumps(value).decode())

    async def recv(self, timeout: float = WAIT) -> Any:
        return orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def until(self, match: dict[str, Any], timeout: float = WAIT) -> Any:
        """The next frame whose fields include ``match`` (frames before it are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                value = await self.recv(timeout)
                if isinstance(value, dict) and all(value.get(k) == v for k, v in match.items()):
                    return value

    async def closed(self, timeout: float = WAIT) -> tuple[int | None, str]:
        """Wait for the server to close; its close code and reason (frames before are skipped)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except ConnectionClosed as exc:
            received = exc.rcvd
            return (received.code, received.reason) if received else (None, "")


def ws_url(server: LiveServer, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


@asynccontextmanager
async def opened(server: LiveServer, path: str) -> AsyncIterator[JsonSocket]:
    async with connect(ws_url(server, path), open_timeout=WAIT, max_size=None) as ws:
        try:
            yield JsonSocket(ws)
        finally:
            await closing(ws)


async def closing(ws: ClientConnection) -> None:
    """Close ``ws``, reading and dropping the frames nobody read meanwhile.

    With ``max_queue`` (16) frames unread, websockets stops reading the socket, so the server's
    close frame is never read and ``close`` waits its ``close_timeout`` (10 s): a module's fuzz
    server spent 20 s closing two sockets its tests had left pushes on.
    """
    reader = asyncio.create_task(discard(ws))
    await ws.close()
    await reader


async def discard(ws: ClientConnection) -> None:
    """Read frames until the connection closes (a read already waiting elsewhere: none here)."""
    with contextlib.suppress(ConnectionClosed, ConcurrencyError):
        while True:
            await ws.recv()
