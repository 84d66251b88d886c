"""Let the server end a WebSocket whose client stopped reading.

engine.io's writer waits on the ASGI ``send`` (uvicorn blocks it while the
client's TCP window is full) and its reader on ``receive``; neither wakes up
when we close the engine.io socket. This wrapper remembers which task is
waiting in each and cancels them on ``kill()``: engine.io then unwinds as if
the client had gone, the ASGI call returns and uvicorn closes the transport.
It adds no task per message: the hot path is one ``current_task()`` call.

Killed with a close code (the server ends a connection it refuses: an
undecodable packet, no CONNECT in time), the client gets a close frame once
engine.io has unwound, instead of a bare TCP close; that frame waits at most
``GOODBYE_WAIT`` seconds for a client that does not read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
GOODBYE_WAIT = 1.0


class KillSwitch:
    def __init__(self, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]):
        self._receive = receive
        self._send = send
        self._waiting: set[asyncio.Task[Any]] = set()
        self.killed = False
        self.close_code: int | None = None

    @property
    def downstream_send(self) -> Callable[[Message], Awaitable[None]]:
        """The server's own ``send`` (for ``fanout.py``, which writes frames itself)."""
        return self._send

    async def receive(self) -> Message:
        if self.killed:
            return {"type": "websocket.disconnect", "code": 1008}
        message: Message = await self._tracked(self._receive())
        return message

    async def send(self, message: Message) -> None:
        if not self.killed:
            await self._tracked(self._send(message))

    async def _tracked(self, waiting: Awaitable[Any]) -> Any:
        task = asyncio.current_task()
        assert task is not None
        self._waiting.add(task)
        try:
            return await waiting
        finally:
            self._waiting.discard(task)

    def kill(self, close_code: int | None = None) -> None:
        self.killed = True
        self.close_code = close_code
        for task in list(self._waiting):
            task.cancel()

    async def goodbye(self) -> None:
        """The close frame ``kill`` asked for (bounded; none if the client is gone or the frame was sent)."""
        if self.close_code is None:
            return
        close = {"type": "websocket.close", "code": self.close_code}
        with contextlib.suppress(asyncio.TimeoutError, OSError, RuntimeError):
            await asyncio.wait_for(self._send(close), GOODBYE_WAIT)


class KillableWebSockets:
    """ASGI wrapper giving every WebSocket connection its ``KillSwitch``."""

    def __init__(self, app: ASGI) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        switch = KillSwitch(receive, send)
        await self.app(scope, switch.receive, switch.send)
        await switch.goodbye()


def kill_websocket(environ: dict[str, Any] | None, close_code: int | None = None) -> None:
    """End the WebSocket behind an engine.io environ, if it has a kill switch; see ``KillSwitch.kill``."""
    receive = (environ or {}).get("asgi.receive")
    switch = getattr(receive, "__self__", None)
    if isinstance(switch, KillSwitch):
        switch.kill(close_code)
