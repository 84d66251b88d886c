"""The python-socketio server, hardened against bad packets, silent transports and batched bodies.

python-socketio dispatches a client event named ``connect`` or
``disconnect`` to the server's own connect/disconnect handlers (checked with
5.18.1). Events with a name Socket.IO reserves never reach a handler here:
they get the ack ``reserved_event_ack`` makes of the name (the chat's ``invalid``
error, given by the composition root) when the client asked for one.

PROTOCOL.md 5a and the reference server's behaviour (what the test suite of
``socketio/socket.io-protocol`` checks), where python-socketio 5.18 has no
option or hook:
- a Socket.IO packet it cannot decode (it raises ``ValueError``) closes that
  connection and is counted, instead of being dropped or logged with a
  traceback (binary packets never get here unless the guard allows them:
  ``packet_guard``); so does an EVENT whose payload is not an array starting
  with a name, or an ACK whose payload is not an array, which python-socketio
  would dispatch;
- a transport that has no namespace connected ``connect_timeout`` seconds
  after it opened is closed (engine.io only times out missing pongs), as the
  reference's ``connectTimeout``: a refused CONNECT does not keep it open, and
  the first namespace connected ends the timer, as the reference clears it;
- a CONNECT to a namespace nobody serves gets CONNECT_ERROR
  ``{"message": "Invalid namespace"}`` (python-socketio: "Unable to connect").

python-engineio (4.15) drops every packet of a long-polling POST holding
more than ``Payload.max_decode_packets`` (16) of them, and answers 200; the
JS client batches queued emits into one POST. ``build_server`` lifts that cap
so that only the byte limit binds. pyproject.toml pins both libraries below
their next minor release; tests/edge/sio/test_engineio.py, test_polling.py and
tests/protocol/ fail if an override stops working.

Connection-state recovery: python-socketio 5.18's ``_handle_connect`` answers
a successful CONNECT with ``{"sid": sid}`` once the connect handler returned,
and offers no way to add to it. ``_send_packet`` adds what the namespace's
``connect_replies`` hook returns for that sid (a recovery socket's ``pid``);
tests/edge/sio/test_recovery.py fails if it stops working.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import engineio.payload
import socketio
from engineio import packet as eio_packet
from socketio import packet

from server.config import Settings
from server.edge.engine import jsonmod
from server.edge.engine.eio_server import LeanServer
from server.edge.engine.outgoing import close_transport
from server.edge.engine.packets import JsonPacket, encoded_ack
from server.edge.engine.rooms import RoomIndex
from server.edge.engine.watch import SocketWatcher

INVALID_NAMESPACE = {"message": "Invalid namespace"}
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
ReservedEventAck = Callable[[object], object]
"""The ack of an event whose name is reserved or not valid, given that name (the app's wire shape)."""


class ParleyServer(LeanServer):
    def __init__(
        self,
        *,
        connect_timeout: float,
        on_undecodable: Callable[[], None],
        reserved_event_ack: ReservedEventAck | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.connect_timeout = connect_timeout
        self.on_undecodable = on_undecodable
        self.reserved_event_ack = reserved_event_ack  # None: no ack (the reference server's silence)
        self._connect_deadlines: dict[str, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[None]] = set()
        # namespace -> what its CONNECT replies carry besides the sid, given the sid
        self.connect_replies: dict[str, Callable[[str], dict[str, Any]]] = {}
        # (namespace, event) -> its handler, called in the reader (``answer_inline``)
        self._inline: dict[tuple[str, str], Callable[..., Awaitable[Any]]] = {}

    def answer_inline(self, namespace: str, event: str) -> None:
        """Run ``event``'s handler in the socket's reader rather than in a task of its own.

        python-socketio (``async_handlers``) starts a task for every event, so that a handler that
        waits (on the database, on another server) does not hold up the socket's next frames. For
        a handler that never waits, that task is all cost: its creation, its scheduling and its
        step, about 3 us an event here, a twentieth of an echo's CPU
        (``bench/results/echo-2026-11-29-inline.md``). Only a handler that awaits nothing but the
        socket's own writes may be named here: its socket's frames are read once it has answered.
        The handler is the coroutine function registered for ``event`` by now (``sio.on``): it is
        called as it is, and its answer goes straight to the socket (``_answer``).
        """
        handler = self.handlers.get(namespace, {}).get(event)
        if not inspect.iscoroutinefunction(handler):
            raise TypeError(f"answer_inline: no coroutine handler for {event!r} on {namespace!r} yet")
        self._inline[(namespace, event)] = handler

    async def _send_packet(self, eio_sid: str, pkt: packet.Packet) -> None:
        if pkt.packet_type == packet.CONNECT and isinstance(pkt.data, dict) and "sid" in pkt.data:
            reply = self.connect_replies.get(pkt.namespace or "/")
            if reply is not None:
                pkt.data = {**reply(pkt.data["sid"]), **pkt.data}
        await super()._send_packet(eio_sid, pkt)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        await super()._handle_eio_connect(eio_sid, environ)
        self._connect_deadlines[eio_sid] = asyncio.get_running_loop().call_later(
            self.connect_timeout, self._close_soon, eio_sid
        )

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: object) -> None:
        namespace = namespace or "/"
        if namespace not in self.handlers and namespace not in self.namespace_handlers:
            # python-socketio answers "Unable to connect"; the reference server (and its test suite)
            # answers this, and its clients show it: ``connect_error`` with ``message`` set.
            error = self.packet_class(packet.CONNECT_ERROR, data=INVALID_NAMESPACE, namespace=namespace)
            await self._send_packet(eio_sid, error)
            return
        try:
            await super()._handle_connect(eio_sid, namespace, data)
        except ValueError as exc:  # a bug in a connect handler, not an undecodable packet: keep it loud
            raise RuntimeError("the connect handler failed") from exc
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None and self.manager.is_connected(sid, namespace):
            # The reference clears its connectTimeout at the first namespace connected: a connected
            # socket holds no timer (a timer handle and a bound method each, for connect_timeout).
            self._forget(eio_sid)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: object) -> None:
        self._forget(eio_sid)
        await super()._handle_eio_disconnect(eio_sid, reason)

    def _forget(self, eio_sid: str) -> None:
        """The transport is gone: no connect timeout for it any more."""
        deadline = self._connect_deadlines.pop(eio_sid, None)
        if deadline is not None:
            deadline.cancel()

    def _close_soon(self, eio_sid: str) -> None:
        """The connect timeout: close the transport unless one of its namespaces is connected.

        As the reference server does (its ``connectTimeout``), a CONNECT that was refused does not
        keep the transport open: only a connected (or connecting) namespace does.
        """
        self._connect_deadlines.pop(eio_sid, None)
        if any(self.manager.sid_from_eio_sid(eio_sid, ns) for ns in self.manager.get_namespaces()):
            return
        task = asyncio.ensure_future(close_transport(self, eio_sid, notify=True))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _handle_eio_message(self, eio_sid: str, data: object) -> None:
        """Close the connection of a packet that cannot be decoded; it never reaches a handler."""
        if data == "":  # python-socketio would take it for an empty EVENT
            await self._undecodable(eio_sid)
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except ValueError:  # what python-socketio raises for a packet it cannot decode or dispatch
            await self._undecodable(eio_sid)

    async def _undecodable(self, eio_sid: str) -> None:
        self.on_undecodable()
        await close_transport(self, eio_sid, notify=True)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: object) -> None:
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            # Not an EVENT by the Socket.IO protocol (the reference parser's ``isPayloadValid``):
            # python-socketio would dispatch it anyway. Raised here, it closes the connection.
            raise ValueError("an EVENT's payload is an array that starts with the event name")
        if not isinstance(name, str) or name in RESERVED_EVENTS:
            if id is not None and self.reserved_event_ack is not None:
                error = self.reserved_event_ack(name)
                await self._send_packet(
                    eio_sid, self.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[error])
                )
            return
        inline = self._inline.get((namespace or "/", name)) if self._inline else None
        if inline is not None:
            # python-socketio's ``_handle_event`` and ``_handle_event_internal`` (mirrored), awaited
            # here, not in a task; the handler called as ``_trigger_event`` would, without its lookup.
            # A cancelled handler ends the reader (``_trigger_event`` would answer it with no value).
            namespace = namespace or "/"
            sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
            if self.manager.is_connected(sid, namespace):
                answer = await inline(sid, *data[1:])  # type: ignore[index]
                if id is not None:
                    await self._answer(eio_sid, namespace, id, answer)
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _answer(self, eio_sid: str, namespace: str, id: int, answer: object) -> None:
        """An inline handler's ACK, as ``_handle_event_internal`` makes it (a tuple is its arguments),
        handed to the engine.io socket itself: python-socketio's ``_send_packet`` and engine.io's
        ``send`` and ``send_packet`` only find that socket, and the packet object is not made (its
        text is, as ``JsonPacket`` writes it): a tenth of an echo's CPU before
        (``bench/results/echo-2026-11-30-inbound.md``). A binary answer (several engine.io packets),
        or a socket gone, takes their way, which also says why it was not sent."""
        data = [] if answer is None else list(answer) if isinstance(answer, tuple) else [answer]
        encoded = encoded_ack(namespace, id, data)
        socket = self.eio.sockets.get(eio_sid)
        if encoded is None or socket is None or socket.closed:
            await self._send_packet(
                eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=id, data=data)
            )
            return
        await socket.send(eio_packet.Packet(eio_packet.MESSAGE, data=encoded))

    async def _handle_ack(self, eio_sid: str, namespace: str | None, id: int | None, data: object) -> None:
        if not isinstance(data, list):  # not an ACK by the Socket.IO protocol: close, as the reference
            raise ValueError("an ACK's payload is an array")
        await super()._handle_ack(eio_sid, namespace, id, data)


class WatchedServer(ParleyServer):
    """A ``ParleyServer`` that tells its watcher (the Admin UI) of sockets connecting and leaving.

    python-socketio's own Admin UI support replaces ``_trigger_event`` and the manager's
    ``basic_enter_room``/``basic_leave_room`` on the instances; here they are overrides, chosen
    when the server is built (``build_server(watched=True)``), so an unwatched server pays nothing
    per event. The room hooks are ``RoomIndex``'s (the manager must be one: ``LeanFanout``).
    """

    watcher: SocketWatcher | None = None

    def watch(self, watcher: SocketWatcher) -> None:
        """Report to ``watcher`` from now on (once, before serving)."""
        if not isinstance(self.manager, RoomIndex):
            raise TypeError("a watched server needs a RoomIndex manager (LeanFanout)")
        self.watcher = watcher
        self.manager.watcher = watcher

    async def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        result = await super()._trigger_event(event, namespace, *args)
        watcher = self.watcher
        if watcher is not None:
            if event == "connect" and result is not False:
                await watcher.socket_connected(args[0], namespace)
            elif event == "disconnect":
                await watcher.socket_disconnected(args[0], namespace, args[1] if len(args) > 1 else "")
        return result


def allow_packets_up_to(byte_limit: int) -> None:
    """Let a polling body of ``byte_limit`` bytes hold as many packets as fit in it.

    A packet is at least one character and all but the last are followed by a
    separator, so ``byte_limit`` bytes hold at most ``byte_limit // 2 + 1``
    packets. python-engineio 4.15 has no option for this cap, only the class
    attribute ``Payload.max_decode_packets`` (process-wide, also read by
    clients): it is only ever raised, so apps with different limits in one
    process each keep theirs. pyproject.toml pins python-engineio below 4.16;
    tests/edge/sio/test_polling.py fails if this stops working.
    """
    cap = byte_limit // 2 + 1
    if engineio.payload.Payload.max_decode_packets < cap:
        engineio.payload.Payload.max_decode_packets = cap


def engine_options(settings: Settings) -> dict[str, Any]:
    """The Engine.IO options of ``settings`` (PROTOCOL.md 5a), shared with the conformance app."""
    return {
        "async_mode": "asgi",
        "json": jsonmod,
        "cors_allowed_origins": settings.cors_origins or None,
        "max_http_buffer_size": settings.max_http_buffer_size,
        "ping_interval": settings.ping_interval,
        "ping_timeout": settings.ping_timeout,
        "transports": settings.transports,
        "allow_upgrades": "websocket" in settings.transports,  # engine.io would offer it regardless
        # No sweep over every socket every ping timeout (a task and a timer per socket visited):
        # each session's own timers end it at its ping deadline and ``close`` forgets it at once
        # (``eio_socket.LeanSocket``), which is all engine.io's service task did.
        "monitor_clients": False,
        "logger": False,
    }


def build_server(
    settings: Settings,
    on_undecodable: Callable[[], None],
    client_manager: socketio.AsyncManager | None = None,
    reserved_event_ack: ReservedEventAck | None = None,
    watched: bool = False,
) -> ParleyServer:
    """An ASGI Socket.IO server with orjson and our transport settings (PROTOCOL.md 2 and 5a).

    ``watched``: a ``WatchedServer``, for the Admin UI (``admin.py``).
    """
    allow_packets_up_to(settings.max_http_buffer_size)
    kwargs: dict[str, Any] = {}
    if client_manager is not None:
        kwargs["client_manager"] = client_manager
    server_class = WatchedServer if watched else ParleyServer
    return server_class(
        connect_timeout=settings.connect_timeout,
        on_undecodable=on_undecodable,
        reserved_event_ack=reserved_event_ack,
        serializer=JsonPacket,  # each packet's JSON made once (packets.py)
        engineio_logger=False,
        **engine_options(settings),
        **kwargs,
    )


async def stop_server(sio: ParleyServer) -> None:
    """Stop engine.io's background tasks (the manager is local; the Redis hub stops with the chat)."""
    await sio.shutdown()
