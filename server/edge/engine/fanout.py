"""A lean fan-out: one encoded packet handed to every recipient without a task per recipient.

python-socketio's ``AsyncManager.emit`` encodes a broadcast once but then
creates one asyncio task per recipient (``_send_eio_packet``) and waits for
them all; each task puts the packet on the engine.io socket's queue, whose
writer task wakes up and sends one frame through the ASGI ``send``. Here an
emit without a callback does the same work in one loop: for each recipient
it either

- writes the WebSocket frame (built once per emit) straight to the socket's
  transport, when that is exactly what the writer would do next: the socket
  is on the websocket transport, its queue is empty and its writer waits on
  it (so no packet of that socket can be overtaken), and the connection is
  open and below its write high-water mark; or
- puts the packet on the socket's engine.io queue (polling sockets, sockets
  mid-upgrade, busy or paused writers), as engine.io's ``send`` does.

A client that stops reading pauses its transport at the high-water mark;
from then on its packets wait in the queue, where ``outgoing.py`` counts them
(the bound holds: at most one high-water mark plus one frame is written
directly; ``direct.py`` writes). Emits with a callback keep the library path.
The overrides lean on python-socketio/engine.io/uvicorn internals (listed in
``CONTRACT.md``; each is exercised by ``tests/edge/sio/test_fanout.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import socketio
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet

from server.edge.engine.direct import DirectWebSocket, frame_of
from server.edge.engine.eio_server import ParleyEngine
from server.edge.engine.rooms import RoomIndex


class Encoded(NamedTuple):
    """One EVENT's engine.io packets and, when it is one packet, its WebSocket frame (a tuple:
    made at every emit, it costs what a tuple does)."""

    packets: list[eio_packet.Packet]
    frame: bytes | None


class LeanFanout(RoomIndex, socketio.AsyncManager):  # type: ignore[misc]
    """``AsyncManager`` whose emits without callback cost no task per recipient.

    It only ever delivers to this node's sockets: with several nodes the hub
    (``server.adapters.cluster.redis_hub``) brings each event to every node once, and
    each node's sink emits it here.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.websockets: dict[Any, DirectWebSocket] = {}
        self.written_directly = 0
        self.queued = 0

    def set_server(self, server: socketio.AsyncServer) -> None:
        """Serve ``server``, whose engine must be a ``ParleyEngine`` (``LeanServer`` makes one).

        Its sockets are ``LeanSocket``s (bursts reach the queue back to back: a poll takes at
        most 16 packets), and it registers each WebSocket connection this fan-out may write to.
        """
        if not isinstance(server.eio, ParleyEngine):
            raise TypeError("LeanFanout serves a LeanServer (its engine is a ParleyEngine)")
        super().set_server(server)
        self.websockets = server.eio.websockets

    async def emit(
        self,
        event: str,
        data: object,
        namespace: str,
        room: object = None,
        skip_sid: object = None,
        callback: object = None,
        to: object = None,
        **kwargs: object,
    ) -> None:
        if callback is not None or namespace not in self.rooms:
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
            )
            return
        encoded = self.encode(event, data, namespace)
        # A set: a reaction's common rendering leaves out every reactor (``server.chat.kernel.audiences``),
        # which may be hundreds of sockets.
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        recipients = self.get_participants(namespace, to or room)
        await self._hand(encoded, (eio_sid for sid, eio_sid in recipients if sid not in skip))

    def encode(self, event: str, data: object, namespace: str) -> Encoded:
        """An EVENT encoded once, for ``emit_encoded`` to hand to any number of sockets."""
        packets = self._eio_packets(event, data, namespace)
        return Encoded(packets, frame_of(packets[0].encode()) if len(packets) == 1 else None)

    async def emit_encoded(self, encoded: Encoded, namespace: str, to: str) -> None:
        """``emit`` of an encoded EVENT, without callback, to ``to`` (a sid or a room): the same
        message in a storm's thousands of backlogs is encoded once (``ChatNamespace._welcome``)."""
        if namespace in self.rooms:
            await self._hand(encoded, (eio_sid for _, eio_sid in self.get_participants(namespace, to)))

    async def _hand(self, encoded: Encoded, eio_sids: Iterable[str]) -> None:
        late = self._deliver(encoded, eio_sids)
        for socket in late:  # a ping timed out: engine.io's send closes the socket
            for pkt in encoded.packets:
                await socket.send(pkt)

    def _eio_packets(self, event: str, data: object, namespace: str) -> list[eio_packet.Packet]:
        """The engine.io packets of one EVENT, as ``AsyncManager.emit`` builds them (encoded once)."""
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        pkt = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *data])
        encoded = pkt.encode()
        if not isinstance(encoded, list):
            encoded = [encoded]
        return [eio_packet.Packet(eio_packet.MESSAGE, p) for p in encoded]

    def _deliver(self, encoded: Encoded, eio_sids: Iterable[str]) -> list[AsyncSocket]:
        """Hand the packets to every socket; the sockets whose ping timed out are returned."""
        sockets = self.server.eio.sockets
        websockets = self.websockets
        ping_timeout = self.server.eio.ping_timeout
        packets, frame = encoded.packets, encoded.frame
        late: list[AsyncSocket] = []
        direct = queued = 0
        now = time.time()  # one emit is one instant: not a clock read per recipient
        for eio_sid in eio_sids:
            socket = sockets.get(eio_sid)
            if socket is None or socket.closed:
                continue
            if socket.last_ping and now - socket.last_ping > ping_timeout:
                late.append(socket)
                continue
            if frame is not None:
                ws = websockets.get(socket)
                if ws is not None and ws.write(socket, frame):
                    direct += 1
                    continue
            for pkt in packets:
                socket.queue.put_nowait(pkt)
            queued += 1
        self.written_directly += direct
        self.queued += queued
        return late
