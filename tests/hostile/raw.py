"""A raw Engine.IO WebSocket (the ``websockets`` library): frames in, frames out, and how it ended."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.hostile.harness import WAIT, Server

ACK = re.compile(r"^43(?:(/[^,]*),)?(\d+)(.*)$", re.DOTALL)
NO_CLOSE_FRAME = 1006  # what websockets reports when the TCP connection ended without a close frame


class RawSocket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[str | bytes] = []

    @classmethod
    async def open(cls, server: Server) -> RawSocket:
        """The transport opened (its Engine.IO OPEN read), no Socket.IO CONNECT sent."""
        ws = await connect(server.ws_url, max_size=None, open_timeout=WAIT)
        raw = cls(ws)
        assert str(await raw.next()).startswith("0")
        return raw

    async def next(self, timeout: float = WAIT) -> str | bytes:
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        self.received.append(frame)
        return frame

    async def join(self, namespace: str, token: str) -> None:
        """CONNECT to ``namespace`` with ``token``; for ``/`` also wait for ``session``."""
        prefix = "" if namespace == "/" else f"{namespace},"
        await self.ws.send(f"40{prefix}{json.dumps({'token': token})}")
        while not str(await self.next()).startswith(f"40{prefix}{{"):
            pass
        if namespace == "/":
            while not str(await self.next()).startswith('42["session"'):
                pass

    async def send(self, *frames: str | bytes) -> None:
        """Send ``frames``; a server that already closed the socket is not an error here."""
        try:
            for frame in frames:
                await self.ws.send(frame)
        except ConnectionClosed:
            pass

    async def ack(self, ack_id: int, timeout: float = WAIT) -> Any:
        """The payload of the ACK packet ``ack_id`` (the first argument)."""
        while True:
            found = ACK.match(str(await self.next(timeout)))
            if found and int(found.group(2)) == ack_id:
                return json.loads(found.group(3))[0]

    async def connect_error(self) -> Any:
        """The data of the CONNECT_ERROR the server answered."""
        while True:
            frame = str(await self.next())
            if frame.startswith("44"):
                return json.loads(frame[frame.index("{") :])

    async def closed(self, timeout: float = 3 * WAIT) -> int:
        """Read until the server ends the socket; its close code (1006: no close frame)."""
        try:
            while True:
                await self.next(timeout)
        except ConnectionClosed:
            pass
        code = self.ws.close_code
        assert code is not None
        return code

    def answered(self) -> list[str]:
        """The Socket.IO ACK packets received."""
        return [str(f) for f in self.received if ACK.match(str(f))]

    async def close(self) -> None:
        await self.ws.close()
