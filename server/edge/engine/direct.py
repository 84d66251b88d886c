"""Writing an engine.io WebSocket's frames straight to uvicorn's transport (for ``fanout.py``).

engine.io's ASGI WebSocket wrapper is replaced, in ``ParleyEngine``'s driver table, by one that
records the uvicorn connection behind each engine.io socket while its handler runs
(``websocket_driver``). ``DirectWebSocket.write`` then writes a frame itself when that is exactly
what engine.io's writer would do next. It reads uvicorn's ``WebSocketsSansIOProtocol``
(``close_sent``, ``disconnected``, ``writable``, ``conn``, ``transport``, ``handshake_complete``) and
finds it through ``asgi_send.__self__``; engine.io's socket through ``handler.__self__``. All listed
in ``CONTRACT.md``. The frames written in one turn of the loop go to the transport together at its
end (``Coalescer``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from engineio.async_drivers import asgi as eio_asgi
from engineio.async_socket import AsyncSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from server.edge.engine.killswitch import KillSwitch

Handler = Callable[[eio_asgi.WebSocket], Awaitable[None]]
"""engine.io's ``AsyncSocket._websocket_handler``, bound to its socket."""


COALESCE_BYTES = 64 * 1024
"""A connection's frames waiting for the end of the turn are written at once past this many bytes."""


class Coalescer:
    """Frames written directly during one turn of the event loop, sent with one transport write per
    connection at the turn's end (issue 25, item 2).

    One event often makes several frames for the same socket: a send's ack and the sender's own
    ``message``, the messages of one group commit to each member, a backlog. Each
    ``transport.write`` is a ``send`` system call (and, on loopback, the receiver's TCP work): the
    frames of one turn go in one. Order holds: a connection's frames are joined in the order they
    were written, and anything else sent through uvicorn for it (the writer task's frames, a close)
    first writes what waits (``KillSwitch.before_send``). A connection flushes at once past
    ``COALESCE_BYTES``, so the direct writes past the transport's high-water mark stay bounded.
    """

    __slots__ = ("_waiting",)

    def __init__(self) -> None:
        self._waiting: list[DirectWebSocket] = []

    def add(self, direct: DirectWebSocket) -> None:
        """``direct`` holds frames now: write them at the end of this turn."""
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self.flush)
        self._waiting.append(direct)

    def flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        for direct in waiting:
            direct.flush()


class DirectWebSocket:
    """What the fan-out needs to write one engine.io socket's frames itself."""

    __slots__ = ("coalescer", "frames", "protocol", "size", "switch")

    def __init__(
        self, protocol: WebSocketsSansIOProtocol, switch: KillSwitch | None, coalescer: Coalescer
    ) -> None:
        self.protocol = protocol
        self.switch = switch
        self.coalescer = coalescer
        self.frames: list[bytes] | None = None  # written this turn, not yet handed to the transport
        self.size = 0
        if switch is not None:
            switch.before_send = self.flush

    def write(self, socket: AsyncSocket, frame: bytes) -> bool:
        """Write ``frame`` (at the end of this turn) if nothing of this socket waits before it; False
        to queue it instead."""
        if not socket.queue.idle_reader or socket.upgrading or not socket.upgraded:
            return False  # packets waiting, or the writer holds some, or not on this websocket yet
        if not self._open():
            return False
        frames = self.frames
        if frames is None:
            self.frames = [frame]
            self.size = len(frame)
            self.coalescer.add(self)
        else:
            frames.append(frame)
            self.size += len(frame)
            if self.size > COALESCE_BYTES:
                self.flush()
        return True

    def flush(self) -> None:
        """Hand the frames written this turn to the transport (dropped if the connection closed)."""
        frames = self.frames
        if frames is None:
            return
        self.frames = None
        if self._open():
            self.protocol.transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    def _open(self) -> bool:
        protocol = self.protocol
        return not (
            protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()
            or protocol.conn.state is not State.OPEN
            or protocol.transport.is_closing()
            or (self.switch is not None and self.switch.killed)
        )


def _direct_for(asgi_send: object, coalescer: Coalescer) -> DirectWebSocket | None:
    """The uvicorn connection behind an engine.io websocket, if we know how to write to it."""
    switch = getattr(asgi_send, "__self__", None)
    if isinstance(switch, KillSwitch):
        asgi_send = switch.downstream_send
    else:
        switch = None
    protocol = getattr(asgi_send, "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol) or protocol.conn.extensions:
        return None  # another server, or permessage-deflate: frames differ per connection
    # uvicorn keeps the handshake's request and response (headers, ~5 kB) for the connection's
    # life but reads them only before the handshake completes (in ``handle_connect``/``send``).
    if protocol.handshake_complete:
        protocol.request = protocol.response = None  # type: ignore[assignment]
    return DirectWebSocket(protocol, switch, coalescer)


def websocket_driver(
    registry: dict[AsyncSocket, DirectWebSocket], coalescer: Coalescer
) -> type[eio_asgi.WebSocket]:
    """engine.io's ASGI WebSocket wrapper, recording each socket's connection while its handler runs."""

    class RegisteringWebSocket(eio_asgi.WebSocket):  # type: ignore[misc]
        def __init__(self, handler: Handler, server: object) -> None:
            super().__init__(partial(_registered, registry, coalescer, handler), server)

    return RegisteringWebSocket


async def _registered(
    registry: dict[AsyncSocket, DirectWebSocket],
    coalescer: Coalescer,
    handler: Handler,
    ws: eio_asgi.WebSocket,
) -> None:
    """Run engine.io's ``AsyncSocket._websocket_handler`` with its socket known to the fan-out."""
    socket = getattr(handler, "__self__", None)  # engine.io's AsyncSocket
    direct = _direct_for(ws.asgi_send, coalescer) if socket is not None else None
    if direct is not None:
        registry[socket] = direct
    try:
        await handler(ws)
    finally:
        if direct is not None and registry.get(socket) is direct:
            del registry[socket]


def frame_of(data: str | bytes) -> bytes:
    """The server-side (unmasked) WebSocket frame of one engine.io packet."""
    if isinstance(data, str):
        return Frame(Opcode.TEXT, data.encode()).serialize(mask=False)
    return Frame(Opcode.BINARY, data).serialize(mask=False)
