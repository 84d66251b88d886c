"""A minimal Socket.IO v5 / Engine.IO v4 client over one aiohttp websocket.

The load generator must spend as little CPU as possible (it shares two
cores with the server), so instead of python-socketio's AsyncClient (a task
per event, a ClientSession per client) this speaks the wire format directly:
websocket transport only, namespace ``/`` only, text frames only.

Frames: Engine.IO ``0{open}``, ``2`` ping (answered ``3``), ``4`` message; the
Socket.IO packet inside a message is ``0`` CONNECT, ``2[id][...]`` EVENT,
``3id[...]`` ACK, ``4{...}`` CONNECT_ERROR, ``1`` DISCONNECT.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

EventHandler = Callable[[str, Any, int], None]  # (event, payload, perf_counter_ns at arrival)


class ConnectRefused(Exception):
    pass


class SioClient:
    """One socket. ``on_event`` runs synchronously in the reader for every server event."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, token: str, name: str = "") -> None:
        self.http = http
        ws_base = base_url.replace("http://", "ws://", 1).rstrip("/")
        self.ws_url = ws_base + "/socket.io/?EIO=4&transport=websocket"
        self.token = token
        self.name = name
        self.on_event: EventHandler | None = None
        self.session: asyncio.Future[Any] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected: asyncio.Future[Any] | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self.dropped = False  # the connection ended without close() being called
        self.server_disconnects = 0
        self.unparsed = 0
        self._closing = False
        self._pongs: set[asyncio.Future[None]] = set()

    async def connect(self, timeout: float = 15.0) -> None:
        """Engine.IO handshake, then CONNECT to ``/`` with ``{"token"}``; ``self.session`` resolves later."""
        loop = asyncio.get_running_loop()
        self._connected = loop.create_future()
        self.session = loop.create_future()
        await asyncio.wait_for(self._handshake(), timeout)

    async def _handshake(self) -> None:
        assert self._connected is not None
        self._ws = await self.http.ws_connect(self.ws_url, autoping=True, max_msg_size=8 * 1024 * 1024)
        first = await self._ws.receive()
        if first.type != aiohttp.WSMsgType.TEXT or not str(first.data).startswith("0"):
            raise ConnectionError(f"{self.name}: no Engine.IO open packet: {first.data!r}")
        self._reader = asyncio.create_task(self._read())
        await self._ws.send_str("40" + orjson.dumps({"token": self.token}).decode())
        await self._connected

    async def wait_session(self, timeout: float = 15.0) -> Any:
        assert self.session is not None
        return await asyncio.wait_for(asyncio.shield(self.session), timeout)

    async def call(self, event: str, data: Any, timeout: float = 30.0) -> Any:
        """Emit with an ack id and wait for the ack's first argument."""
        self._next_id += 1
        ack_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        try:
            await self._send(f"2{ack_id}" + orjson.dumps([event, data]).decode())
            return await asyncio.wait_for(future, timeout)
        finally:
            self._acks.pop(ack_id, None)

    async def emit(self, event: str, data: Any) -> None:
        await self._send("2" + orjson.dumps([event, data]).decode())

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(Exception):
                await self._ws.send_str("41")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def _send(self, packet: str) -> None:
        """One Socket.IO packet inside an Engine.IO MESSAGE (``4``)."""
        assert self._ws is not None
        await self._ws.send_str("4" + packet)

    async def _read(self) -> None:
        assert self._ws is not None
        ws = self._ws
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self._on_text(msg.data)
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        finally:
            self.dropped = not self._closing
            error = ConnectionError(f"{self.name}: websocket closed")
            for future in (self._connected, self.session, *self._acks.values()):
                if future is not None and not future.done():
                    future.set_exception(error)
                    future.exception()  # mark retrieved: nobody may be waiting any more

    def _on_text(self, text: str) -> None:
        kind = text[:1]
        if kind == "4":
            self._on_packet(text[1:])
        elif kind == "2":
            pong = asyncio.ensure_future(self._pong())
            self._pongs.add(pong)
            pong.add_done_callback(self._pongs.discard)
        # "0" (open), "3", "6" (noop): nothing to do

    async def _pong(self) -> None:
        with contextlib.suppress(Exception):
            assert self._ws is not None
            await self._ws.send_str("3")

    def _on_packet(self, text: str) -> None:
        kind = text[:1]
        if kind == "2":  # EVENT (the server never asks us for acks in this protocol)
            arrived = time.perf_counter_ns()
            start = text.find("[")
            data = orjson.loads(text[start:])
            event = data[0]
            payload = data[1] if len(data) > 1 else None
            if event == "session" and self.session is not None and not self.session.done():
                self.session.set_result(payload)
            if self.on_event is not None:
                self.on_event(event, payload, arrived)
        elif kind == "3":  # ACK
            start = text.find("[")
            ack_id = int(text[1:start])
            future = self._acks.get(ack_id)
            if future is not None and not future.done():
                args = orjson.loads(text[start:])
                future.set_result(args[0] if args else None)
        elif kind == "0":  # CONNECT ok
            if self._connected is not None and not self._connected.done():
                self._connected.set_result(orjson.loads(text[1:]) if len(text) > 1 else None)
        elif kind == "4":  # CONNECT_ERROR
            if self._connected is not None and not self._connected.done():
                self._connected.set_exception(ConnectRefused(text[1:]))
        elif kind == "1":  # DISCONNECT
            self.server_disconnects += 1
        else:
            self.unparsed += 1
