"""Writing an engine.io WebSocket's frames straight to uvicorn's transport (for ``fanout.py``).

engine.io's ASGI WebSocket wrapper is replaced, in ``ParleyEngine``'s driver table, by one that
records the uvicorn connection behind each engine.io socket while its handler runs
(``websocket_driver``). ``DirectWebSocket.write`` then writes a frame itself when that is exactly
what engine.io's writer would do next. It reads uvicorn's ``WebSocketsSansIOProtocol``
(``close_sent``, ``disconnected``, ``writable``, ``conn``, ``transport``, ``handshake_complete``) and
finds it through ``asgi_send.__self__``; engine.io's socket through ``handler.__self__``. All listed
in ``CONTRACT.md``.
"""

from __future__ import annotations

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


class DirectWebSocket:
    """What the fan-out needs to write one engine.io socket's frames itself."""

    __slots__ = ("protocol", "switch")

    def __init__(self, protocol: WebSocketsSansIOProtocol, switch: KillSwitch | None) -> None:
        self.protocol = protocol
        self.switch = switch

    def write(self, socket: AsyncSocket, frame: bytes) -> bool:
        """Write ``frame`` now if nothing of this socket waits before it; False to queue it instead."""
        if not socket.queue.idle_reader or socket.upgrading or not socket.upgraded:
            return False  # packets waiting, or the writer holds some, or not on this websocket yet
        protocol = self.protocol
        if (
            protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()
            or protocol.conn.state is not State.OPEN
            or protocol.transport.is_closing()
            or (self.switch is not None and self.switch.killed)
        ):
            return False
        protocol.transport.write(frame)
        return True


def _direct_for(asgi_send: object) -> DirectWebSocket | None:
    """The uvicorn connection behind an engine.io websocket, if we know how to write to it."""
    switch = getattr(asgi_send, "__self__", None)
    if isinstance(switch, KillSwitch):
        asgi_send = switch.downstream_send
    else:
        switch = None
    protocol = getattr(asgi_send, "__self__", None)
    if type(protocol) is not WebSocketsSansIOProtocol or protocol.conn.extensions:
        return None  # another server, or permessage-deflate: frames differ per connection
    # uvicorn keeps the handshake's request and response (headers, ~5 kB) for the connection's
    # life but reads them only before the handshake completes (in ``handle_connect``/``send``).
    if protocol.handshake_complete:
        protocol.request = protocol.response = None  # type: ignore[assignment]
    return DirectWebSocket(protocol, switch)


def websocket_driver(registry: dict[AsyncSocket, DirectWebSocket]) -> type[eio_asgi.WebSocket]:
    """engine.io's ASGI WebSocket wrapper, recording each socket's connection while its handler runs."""

    class RegisteringWebSocket(eio_asgi.WebSocket):  # type: ignore[misc]
        def __init__(self, handler: Handler, server: object) -> None:
            super().__init__(partial(_registered, registry, handler), server)

    return RegisteringWebSocket


async def _registered(
    registry: dict[AsyncSocket, DirectWebSocket], handler: Handler, ws: eio_asgi.WebSocket
) -> None:
    """Run engine.io's ``AsyncSocket._websocket_handler`` with its socket known to the fan-out."""
    socket = getattr(handler, "__self__", None)  # engine.io's AsyncSocket
    direct = _direct_for(ws.asgi_send) if socket is not None else None
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
