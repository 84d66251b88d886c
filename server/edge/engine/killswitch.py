"""One Engine.IO WebSocket's guard: frames checked as they arrive, and the server's way to end it.

engine.io's writer waits on the ASGI ``send`` (uvicorn blocks it while the
client's TCP window is full) and its reader on ``receive``; neither wakes up
when we close the engine.io socket. The ``KillSwitch`` of a connection (made
by ``gate.EngineGate``, the one ASGI wrapper in front of engine.io) remembers
which task is waiting in each and cancels them on ``kill()``: engine.io then
unwinds as if the client had gone, the ASGI call returns and uvicorn closes
the transport. It adds no task per message: the hot path is one
``current_task()`` call, and none for the lean reader
(``LeanSocket._read_frames``), which reads uvicorn's ``receive`` itself, only
while frames wait: its session is parked (no task waits on it), and ``kill``
wakes its reader (``wake``), which ends it between two frames (a kill never
cancels a handler midway).

Each received frame is checked here too (``admits``): a packet Parley cannot
decode (``packet_guard.decodable``) is counted and ends the connection,
before engine.io reads the next one.

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
UNDECODABLE = {"type": "websocket.disconnect", "code": 1002}  # engine.io ends the socket
KILLED = {"type": "websocket.disconnect", "code": 1008}


class FrameCheck:
    """What a gate admits of a WebSocket's frames (shared by all its connections)."""

    __slots__ = ("binary", "check", "on_undecodable")

    def __init__(self, check: Callable[..., bool], on_undecodable: Callable[[], None], binary: bool) -> None:
        self.check = check
        self.on_undecodable = on_undecodable
        self.binary = binary  # binary frames are packets too (the conformance app)


class KillSwitch:
    __slots__ = (
        "_frames", "_receive", "_send", "_waiting", "before_send", "close_code", "killed", "wake",
    )  # fmt: skip

    def __init__(self, receive: Receive, send: Send, frames: FrameCheck) -> None:
        self._receive = receive
        self._send = send
        self._frames = frames
        self._waiting: list[asyncio.Task[Any]] = []  # a reader and a writer at most
        self.killed = False
        self.close_code: int | None = None
        # writes the frames written straight to the transport this turn, which go before (``direct.py``)
        self.before_send: Callable[[], None] | None = None
        # a parked session's reader, started to end it (``LeanSocket._start_reader``): no task waits
        self.wake: Callable[[], None] | None = None

    @property
    def downstream_send(self) -> Send:
        """The server's own ``send`` (for ``direct.py``, which writes frames itself)."""
        return self._send

    @property
    def downstream_receive(self) -> Receive:
        """The server's own ``receive`` (for the lean reader, which reads only what waits)."""
        return self._receive

    def admits(self, message: Message) -> bool:
        """Whether a received message may reach engine.io: anything but an undecodable packet (counted)."""
        if message["type"] != "websocket.receive":
            return True
        frames = self._frames
        frame = message.get("text")
        if frame is None and frames.binary:
            frame = message.get("bytes")
        if frames.check(frame):
            return True
        frames.on_undecodable()
        return False

    async def receive(self) -> Message:
        if self.killed:
            return dict(KILLED)
        message: Message = await self._tracked(self._receive())
        return message if self.admits(message) else dict(UNDECODABLE)

    async def send(self, message: Message) -> None:
        if not self.killed:
            if self.before_send is not None:
                self.before_send()
            await self._tracked(self._send(message))

    async def _tracked(self, waiting: Awaitable[Any]) -> Any:
        task = asyncio.current_task()
        assert task is not None
        self._waiting.append(task)
        try:
            return await waiting
        finally:
            self._waiting.remove(task)

    def kill(self, close_code: int | None = None) -> None:
        self.killed = True
        self.close_code = close_code
        for task in list(self._waiting):
            task.cancel()
        if self.wake is not None:
            self.wake()

    async def goodbye(self) -> None:
        """The close frame ``kill`` asked for (bounded; none if the client is gone or the frame was sent)."""
        if self.close_code is None:
            return
        close = {"type": "websocket.close", "code": self.close_code}
        with contextlib.suppress(asyncio.TimeoutError, OSError, RuntimeError):
            await asyncio.wait_for(self._send(close), GOODBYE_WAIT)


def kill_websocket(environ: dict[str, Any] | None, close_code: int | None = None) -> None:
    """End the WebSocket behind an engine.io environ, if it has a kill switch; see ``KillSwitch.kill``."""
    receive = (environ or {}).get("asgi.receive")
    switch = getattr(receive, "__self__", None)
    if isinstance(switch, KillSwitch):
        switch.kill(close_code)
