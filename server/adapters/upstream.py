"""The echo upstream: forward payloads to a WebSocket echo server over a bounded pool.

One pool per process: at most ``size`` connections to the upstream, open or
being opened, whoever asks. An echo borrows an idle connection (or opens one
while under the bound), sends, reads one answer and gives the connection back.
Waiting for a connection, connecting, sending and reading together take at
most ``timeout`` seconds; past it the echo fails (the session answers the
protocol's ``internal``) and a connection caught mid-exchange is aborted, not
given back: a late answer on it would answer the next echo. An upstream that
never answers so costs at most ``size`` descriptors, never one per echo.
``aclose`` (at shutdown) closes every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State


class UpstreamPool:
    def __init__(self, url: str, timeout: float, size: int) -> None:
        self.url = url
        self.timeout = timeout
        self.size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[ClientConnection] = []
        self._open: set[ClientConnection] = set()
        self._busy: set[asyncio.Task[str | bytes]] = set()
        self._closed = False

    async def __call__(self, payload: Any) -> Any:
        """The upstream's answer to ``payload`` (JSON when it is JSON, else the text)."""
        async with asyncio.timeout(self.timeout), self._slots:
            answer = await self._run(self._exchange(orjson.dumps(payload).decode()))
        try:
            return orjson.loads(answer)
        except orjson.JSONDecodeError:
            return answer if isinstance(answer, str) else answer.decode(errors="replace")

    async def _run(self, exchange: Coroutine[Any, Any, str | bytes]) -> str | bytes:
        """Run one exchange as a task ``aclose`` can cancel (a connect in progress included)."""
        if self._closed:
            raise ConnectionError("the upstream pool is closed")
        task = asyncio.ensure_future(exchange)
        self._busy.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._closed and current is not None and not current.cancelling():
                raise ConnectionError("the upstream pool is closed") from None
            raise
        finally:
            self._busy.discard(task)

    async def _exchange(self, text: str) -> str | bytes:
        ws = self._take_idle() or await self._connect()
        try:
            await ws.send(text)
            answer = await ws.recv()
        except BaseException:  # a timeout, a failure, a cancellation: its state is unknown
            self._abort(ws)
            raise
        self._idle.append(ws)
        return answer

    def _take_idle(self) -> ClientConnection | None:
        while self._idle:
            ws = self._idle.pop()
            if ws.state is State.OPEN:
                return ws
            self._abort(ws)  # the upstream closed it meanwhile
        return None

    async def _connect(self) -> ClientConnection:
        ws = await connect(self.url, open_timeout=None, close_timeout=1, max_queue=1)
        self._open.add(ws)
        return ws

    def _abort(self, ws: ClientConnection) -> None:
        """Drop a connection at once (its descriptor freed now, no closing handshake awaited)."""
        self._open.discard(ws)
        with contextlib.suppress(ValueError):
            self._idle.remove(ws)
        ws.transport.abort()

    async def aclose(self) -> None:
        self._closed = True
        for task in list(self._busy):
            task.cancel()  # a connect still in progress aborts its transport
        for ws in list(self._open):
            self._abort(ws)
