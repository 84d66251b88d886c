"""A raw Socket.IO client over a plain WebSocket: it shows the CONNECT reply (its ``pid``) and every
event's whole argument list (a recovery socket's offsets), which python-socketio's client hides."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support import WAIT


class RecoverySocket:
    def __init__(self, ws: ClientConnection, reply: dict[str, Any]) -> None:
        self.ws = ws
        self.reply = reply  # the CONNECT reply: {"sid"} or {"sid", "pid"}
        self.events: asyncio.Queue[tuple[str, list[Any]]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str, auth: dict[str, Any]) -> RecoverySocket:
        """Open the transport, CONNECT to ``/`` with ``auth`` and read the reply (refusals fail)."""
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await connect(ws_url, max_size=None, open_timeout=WAIT)
        opened = await asyncio.wait_for(ws.recv(), WAIT)
        assert str(opened).startswith("0"), opened
        await ws.send("40" + json.dumps(auth))
        reply = str(await asyncio.wait_for(ws.recv(), WAIT))
        assert reply.startswith("40{"), reply
        return cls(ws, json.loads(reply[2:]))

    @property
    def pid(self) -> str | None:
        pid = self.reply.get("pid")
        return None if pid is None else str(pid)

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in self.ws:
                text = str(frame)
                if text == "2":  # Engine.IO ping
                    await self.ws.send("3")
                elif text.startswith("42"):
                    name, *args = json.loads(text[2:])
                    await self.events.put((name, args))

    async def next(self, name: str | None = None) -> tuple[str, list[Any]]:
        """The next event (of that ``name``, dropping others), as (name, arguments)."""
        while True:
            event = await asyncio.wait_for(self.events.get(), WAIT)
            if name is None or event[0] == name:
                return event

    async def messages(self, count: int) -> list[list[Any]]:
        """The arguments of the next ``count`` ``message`` events."""
        return [(await self.next("message"))[1] for _ in range(count)]

    def pending(self) -> list[tuple[str, list[Any]]]:
        """Every event received and not yet taken, without waiting."""
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        return found

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
