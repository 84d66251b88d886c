"""The conformance app (``server.edge.engine.conformance``) served in-process, and raw Engine.IO clients.

``serving(**overrides)`` runs it with uvicorn on 127.0.0.1:0 (as ``parley
conformance-server`` does, with the heartbeat the protocol test suites use:
300 ms / 200 ms). ``WebSocketWire`` and ``PollingWire`` speak raw Engine.IO
over one transport each, with the same three calls (``send``, ``recv``,
``closed``) so that a Socket.IO case runs over both: ``recv`` answers the
server's pings and skips them (and NOOPs), ``closed`` reads until the server
ends the session. Nothing here sleeps to synchronise: every wait is for a
packet, with a deadline.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.edge.engine.conformance import conformance_settings, create_conformance_app
from server.edge.engine.wsprotocol import websocket_options
from tests.support import KEEPALIVE, listening, test_settings

WAIT = 5.0
SEPARATOR = "\x1e"
Packet = str | bytes


class Served:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=WAIT, limits=KEEPALIVE)

    def ws_url(self, path: str, **query: str) -> str:
        params = "&".join(f"{k}={v}" for k, v in {"EIO": "4", "transport": "websocket", **query}.items())
        return f"{self.url.replace('http', 'ws', 1)}{path}?{params}"

    async def handshake(self, path: str) -> dict[str, Any]:
        """A new long-polling session's OPEN packet."""
        answer = await self.http.get(path, params={"EIO": "4", "transport": "polling"})
        assert answer.status_code == 200, answer.text
        assert answer.text.startswith("0"), answer.text
        opened: dict[str, Any] = json.loads(answer.text[1:])
        return opened

    async def poll(self, path: str, sid: str) -> httpx.Response:
        return await self.http.get(path, params={"EIO": "4", "transport": "polling", "sid": sid})

    async def post(self, path: str, sid: str, body: str) -> httpx.Response:
        return await self.http.post(
            path, params={"EIO": "4", "transport": "polling", "sid": sid}, content=body.encode()
        )

    async def round_trip(self) -> None:
        """One request answered on a connection of its own.

        A request written before it (on another connection) has been read by the server by the
        time this one is answered: the server's one event loop serves connections in turn.
        """
        answer = await self.http.get("/engine.io/", params={"EIO": "4"})
        assert answer.status_code == 400


@asynccontextmanager
async def serving(tmp_path: Path, **overrides: Any) -> AsyncIterator[Served]:
    """The conformance app on a port the OS picks; ``overrides`` change its settings."""
    settings = conformance_settings(test_settings(tmp_path / "data")).model_copy(update=overrides)
    app = create_conformance_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **websocket_options())
    async with listening(config, sock):
        served = Served(f"http://127.0.0.1:{port}")
        try:
            yield served
        finally:
            await served.http.aclose()


async def held_get(url: str, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A GET written on a connection of its own; its answer (``answer_of``) is read later."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def answer_of(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[int, bytes]:
    """The status and body of the answer to a ``held_get`` (bounded)."""
    try:
        raw = await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, dechunked(body) if b"chunked" in head.lower() else body


def dechunked(body: bytes) -> bytes:
    """An HTTP/1.1 chunked body's content."""
    content = b""
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return content
        content, body = content + rest[:size], rest[size + 2 :]


class WebSocketWire:
    """Raw Engine.IO over one WebSocket (its OPEN packet already read)."""

    def __init__(self, ws: ClientConnection, opened: dict[str, Any]) -> None:
        self.ws = ws
        self.opened = opened

    @classmethod
    async def open(cls, served: Served, path: str = "/socket.io/") -> WebSocketWire:
        ws = await connect(served.ws_url(path), open_timeout=WAIT)
        first = str(await asyncio.wait_for(ws.recv(), WAIT))
        assert first.startswith("0"), first
        return cls(ws, json.loads(first[1:]))

    async def send(self, packet: Packet) -> None:
        """One Engine.IO packet: a text packet as is, bytes as a binary MESSAGE frame."""
        try:
            await self.ws.send(packet)
        except ConnectionClosed:
            pass  # the server may already have closed it: ``closed`` tells

    async def recv(self, timeout: float = WAIT) -> Packet:
        """The next packet that is not a ping (answered) or a noop."""
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            if frame == "2":
                await self.send("3")
            elif frame != "6":
                return frame

    async def closed(self, timeout: float = 3 * WAIT) -> list[Packet]:
        """Everything received until the server ended the WebSocket (bounded)."""
        received: list[Packet] = []

        async def drain() -> None:
            try:
                while True:
                    received.append(await self.ws.recv())
            except ConnectionClosed:
                return

        await asyncio.wait_for(drain(), timeout)
        return received

    async def close(self) -> None:
        await self.ws.close()


class PollingWire:
    """Raw Engine.IO over long-polling: one POST per packet sent, GETs read into a buffer."""

    def __init__(self, served: Served, path: str, opened: dict[str, Any]) -> None:
        self.served = served
        self.path = path
        self.opened = opened
        self.sid: str = opened["sid"]
        self.buffer: deque[Packet] = deque()
        self.ended = False

    @classmethod
    async def open(cls, served: Served, path: str = "/socket.io/") -> PollingWire:
        return cls(served, path, await served.handshake(path))

    async def send(self, packet: Packet) -> None:
        body = packet if isinstance(packet, str) else "b" + base64.b64encode(packet).decode()
        await self.served.post(self.path, self.sid, body)  # a closed session answers 400: ``closed`` tells

    async def _fill(self, timeout: float) -> None:
        answer = await asyncio.wait_for(self.served.poll(self.path, self.sid), timeout)
        if answer.status_code != 200:
            self.ended = True
            raise ConnectionError(f"the session ended: {answer.status_code} {answer.text}")
        for packet in answer.text.split(SEPARATOR):
            self.buffer.append(base64.b64decode(packet[1:]) if packet.startswith("b") else packet)

    async def recv(self, timeout: float = WAIT) -> Packet:
        while True:
            while not self.buffer:
                await self._fill(timeout)
            packet = self.buffer.popleft()
            if packet == "2":
                await self.send("3")
            elif packet == "1":
                self.ended = True
                raise ConnectionError("the server closed the session")
            elif packet != "6":
                return packet

    async def closed(self, timeout: float = 3 * WAIT) -> list[Packet]:
        """Everything received until the server ended the session: a CLOSE packet or a 400."""
        received: list[Packet] = []

        async def drain() -> None:
            try:
                while True:
                    received.append(await self.recv(timeout))
            except ConnectionError:
                return

        await asyncio.wait_for(drain(), timeout)
        return received

    async def close(self) -> None:
        if not self.ended:
            await self.send("1")


Wire = WebSocketWire | PollingWire


async def open_wire(served: Served, transport: str, path: str = "/socket.io/") -> Wire:
    if transport == "websocket":
        return await WebSocketWire.open(served, path)
    return await PollingWire.open(served, path)
