"""Writing an engine.io WebSocket's frames straight to uvicorn's transport (for ``fanout.py``).

engine.io's ASGI WebSocket wrapper is replaced, in ``ParleyEngine``'s driver table, by one that
records the uvicorn connection behind each engine.io socket while its handler runs
(``websocket_driver``). ``DirectWebSocket.write`` then writes a frame itself when that is exactly
what engine.io's writer would do next. It reads uvicorn's ``WebSocketsSansIOProtocol``
(``close_sent``, ``disconnected``, ``writable``, ``conn``, ``transport``, ``handshake_complete``) and
finds it through ``asgi_send.__self__``; engine.io's socket through ``handler.__self__``. All listed
in ``CONTRACT.md``. After a connection's first frame of a turn of the loop, the frames that follow
it in that turn go to the transport together at its end; while the socket awaits the ack of an
event of its own, its frames wait for that ack and go with it (``Coalescer``). It is also the
socket queue's ``Carrier``: what its transport buffers counts toward the slow-consumer bound, and a
transport past its high-water mark is a client that takes nothing (``outgoing.OutgoingGuard``).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from engineio.async_drivers import asgi as eio_asgi
from engineio.async_socket import AsyncSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.edge.engine.killswitch import KillSwitch
from server.edge.engine.outqueue import OutgoingQueue
from server.edge.engine.wsprotocol import frames_only

Handler = Callable[[eio_asgi.WebSocket], Awaitable[None]]
"""engine.io's ``AsyncSocket._websocket_handler``, bound to its socket."""


COALESCE_BYTES = 64 * 1024
"""A connection's frames held back for the end of the turn are written at once past this many bytes."""


class Coalescer:
    """The connections written to directly in this turn of the event loop; at its end, each writes
    the frames it held back, in one transport write.

    One event often makes several frames for the same socket: the messages of one group commit to
    each member, a welcome's backlog, a burst of events to one socket. Each ``transport.write`` is
    a ``send`` system call (and, on loopback, the receiver's TCP work). A connection's first frame
    of a turn goes to the transport at once, so a fan-out's first recipients do not wait for its
    last (measured: the fan-out's p50 latency grew by half the loop when every frame waited for the
    turn's end); the frames that follow it in the same turn are joined and written once, at the
    turn's end. Order holds: they are joined in the order written, and anything else sent through
    uvicorn for that connection (the writer task's frames, a close) first writes what waits
    (``KillSwitch.before_send``). Past ``COALESCE_BYTES`` held, a connection writes them at once, so
    the direct writes past the transport's high-water mark stay bounded.

    A connection that waits for the answer to an event of its own (``DirectWebSocket.acks_due``)
    holds even its first frame: a durable send's own ``message`` frame is written in the group
    commit's turn and its ack one turn later, when the handler's task resumes; the ack then takes
    them in one write (one system call a send instead of two). Such frames wait for the end of
    the next turn at the latest (``add_late``).
    """

    __slots__ = ("_late", "_written")

    def __init__(self) -> None:
        self._written: list[DirectWebSocket] = []
        self._late: list[DirectWebSocket] = []

    def add(self, direct: DirectWebSocket) -> None:
        """``direct`` wrote its first frame of this turn: at the turn's end, it writes what it held."""
        if not self._written:
            asyncio.get_running_loop().call_soon(self.flush)
        self._written.append(direct)

    def add_late(self, direct: DirectWebSocket) -> None:
        """``direct`` holds frames for an answer of its own: at the end of the next turn at the latest
        (the handler's task, woken in this turn, runs in the next one), it writes them."""
        if not self._late:
            asyncio.get_running_loop().call_soon(self._next_turn)
        self._late.append(direct)

    def flush(self) -> None:
        written, self._written = self._written, []
        for direct in written:
            direct.flush()

    def _next_turn(self) -> None:
        late, self._late = self._late, []
        asyncio.get_running_loop().call_soon(_flush_late, late)


def _flush_late(late: list[DirectWebSocket]) -> None:
    for direct in late:
        direct.acks_due = 0  # an answer that did not come by now is not waited for again
        direct.flush()


class DirectWebSocket:
    """What the fan-out needs to write one engine.io socket's frames itself."""

    __slots__ = ("acks_due", "coalescer", "held", "protocol", "size", "switch")

    def __init__(
        self, protocol: WebSocketsSansIOProtocol, switch: KillSwitch | None, coalescer: Coalescer
    ) -> None:
        self.protocol = protocol
        self.switch = switch
        self.coalescer = coalescer
        self.held: list[bytes] | None = None  # None: nothing written this turn; else the frames held back
        self.size = 0
        self.acks_due = 0  # events read with an ack id and not answered yet (the lean reader counts)
        if switch is not None:
            switch.before_send = self.flush

    def write(self, socket: AsyncSocket, frame: bytes, ack: bool = False) -> bool:
        """Write ``frame`` (the turn's first at once, a later one at the turn's end; while an answer
        is due, with that answer) if nothing of this socket waits before it; False to queue it
        instead. ``ack``: the frame answers an event of the socket's."""
        if not socket.queue.idle_reader or socket.upgrading or not socket.upgraded:
            return False  # packets waiting, or the writer holds some, or not on this websocket yet
        protocol = self.protocol
        if (  # ``_closed``, inlined: this runs once per recipient of every fan-out
            protocol.close_sent
            or protocol.disconnected
            or protocol.transport.is_closing()
            or (self.switch is not None and self.switch.killed)
            or not protocol.writable.is_set()
        ):
            return False  # closing, or past the transport's high-water mark: the writer waits for it
        held = self.held
        if ack and self.acks_due:
            self.acks_due -= 1
            if held:  # frames wait for it: one write
                held.append(frame)
                self._write_held(held)
                self.held = []
                return True
        if held is None:
            if self.acks_due and not ack:  # the socket waits for its answer: this frame goes with it
                self.held = [frame]
                self.size = len(frame)
                self.coalescer.add_late(self)
                return True
            protocol.transport.write(frame)
            self.held = []
            self.coalescer.add(self)
        else:
            held.append(frame)
            self.size += len(frame)
            if self.size > COALESCE_BYTES:
                self._write_held(held)
                self.held = []
        return True

    def buffered(self) -> int:
        """Bytes the transport holds, not yet taken by the kernel, and frames held for the turn's end
        (``outqueue.Carrier``: with the queue's, what is held for this client)."""
        return self.protocol.transport.get_write_buffer_size() + self.size

    def stalled(self) -> bool:
        """The transport is past its high-water mark (uvicorn's ``writable`` cleared by
        ``pause_writing``): the kernel's send buffer is full, the client takes nothing for now."""
        return not self.protocol.writable.is_set()

    def abort(self) -> None:
        """End the TCP connection now: a transport's ``close`` would keep its buffer until a client
        that does not read took it, which it never does."""
        self.held = None
        self.size = 0
        self.protocol.transport.abort()

    def detach(self) -> None:
        """The socket's handler ended: its kill switch no longer flushes this connection. The switch
        held ``flush``, a bound method of this object, which holds the switch: a cycle only the
        cyclic collector would free, with the connection's protocol and transport in it."""
        if self.switch is not None:
            self.switch.before_send = None

    def flush(self) -> None:
        """Write the frames held back this turn (dropped if the connection closed); a new turn begins."""
        held = self.held
        if held is None:
            return
        self.held = None
        if held:
            self._write_held(held)

    def _write_held(self, held: list[bytes]) -> None:
        """Write frames taken this turn. A transport past its high-water mark since then still takes
        them (it buffers them, as it buffers the first): they were promised to this connection, and
        dropping them would lose an ack or a message. Only a closing connection drops them."""
        self.size = 0
        if not self._closed():
            self.protocol.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def closed(self) -> bool:
        """Whether the connection is closing or gone, though its reader may not have seen it yet
        (it awaits a CONNECT's handler before it reads the next frame)."""
        return self._closed()

    def _closed(self) -> bool:
        """The app closed (``close_sent``), the peer is gone (``disconnected``), the transport is
        closing, or the session was killed. websockets' own state (``conn.state``, a property) is
        not read: every uvicorn path that takes it past OPEN also sets ``close_sent`` or closes the
        transport before it returns (``send``'s close, ``handle_close``, ``shutdown``,
        ``handle_parser_exception``, ``keepalive_timeout``), so no code of ours runs in between."""
        protocol = self.protocol
        return (
            protocol.close_sent
            or protocol.disconnected
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
    # The ASGI scope (its header list alone about 1.3 kB, a copy of the lifespan state, the
    # extensions) is read whole only by the handshake (the gate, engine.io's environ, uvicorn's
    # proxy headers); its dict lives on in every ASGI frame that awaits this connection, so it is
    # trimmed in place to what is read later (``SCOPE_KEPT``). The environ keeps what sockets read.
    if protocol.handshake_complete:
        protocol.request = protocol.response = None  # type: ignore[assignment]
        trim_scope(protocol.scope)
        frames_only(protocol.conn)  # websockets' own parser keeps the request too
    return DirectWebSocket(protocol, switch, coalescer)


SCOPE_KEPT = ("type", "scheme", "server", "client", "path", "query_string")
"""What of a connected WebSocket's ASGI scope is read after its handshake: the client address
(``sio/tokens.client_address``, through the environ's ``asgi.scope``), uvicorn's log lines (path,
query) and the ASGI layers' dispatch on ``type`` and ``path``."""


def trim_scope(scope: Any) -> None:
    """Keep, in place, only ``SCOPE_KEPT`` of a connected WebSocket's scope (and no headers)."""
    kept = {key: scope[key] for key in SCOPE_KEPT if key in scope}
    scope.clear()
    scope.update(kept)
    scope["headers"] = ()  # read by nothing now; an ASGI reader still finds an empty iterable


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
    queue = getattr(socket, "queue", None)
    if direct is not None:
        registry[socket] = direct
        if isinstance(queue, OutgoingQueue):
            queue.carrier = direct  # the slow-consumer bound counts what its transport holds
    try:
        await handler(ws)
    finally:
        # A parked session (``LeanWebSocketProtocol.park``) goes on after its handler returned: its
        # reader forgets it at its end.
        if direct is not None and not getattr(direct.protocol, "parked", False):
            forget(registry, socket, direct)


def forget(
    registry: dict[AsyncSocket, DirectWebSocket], socket: AsyncSocket, direct: DirectWebSocket
) -> None:
    """``socket``'s session ended: the fan-out no longer writes to its connection."""
    direct.detach()
    if registry.get(socket) is direct:
        del registry[socket]
    queue = getattr(socket, "queue", None)
    if isinstance(queue, OutgoingQueue) and queue.carrier is direct:
        queue.carrier = None


TEXT_FIN, BINARY_FIN = 0x81, 0x82  # the first byte of a whole (FIN) text or binary frame, no extension bits
_LENGTH_16, _LENGTH_64 = struct.Struct("!BBH"), struct.Struct("!BBQ")


def frame_of(data: str | bytes) -> bytes:
    """The server-side (unmasked) WebSocket frame of one engine.io packet (RFC 6455 section 5.2).

    Made here rather than by websockets' ``Frame(...).serialize``, which checks and builds the same
    bytes through a dataclass and a stream: an echo's answer spent 3% of its CPU there
    (``bench/results/echo-2026-11-30-inbound.md``); ``tests/edge/engine/test_direct.py`` holds the two
    equal at every length boundary."""
    if isinstance(data, str):
        payload, first = data.encode(), TEXT_FIN
    else:
        payload, first = data, BINARY_FIN
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return _LENGTH_16.pack(first, 126, n) + payload
    return _LENGTH_64.pack(first, 127, n) + payload
