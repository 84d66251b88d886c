"""The python-socketio server, hardened against reserved event names and batched polling bodies.

python-socketio dispatches a client event named ``connect`` or
``disconnect`` to the server's own connect/disconnect handlers (checked with
5.18.1). Events with a name Socket.IO reserves never reach a handler here:
they get an ``invalid`` ack when the client asked for one.

python-engineio (4.15) drops every packet of a long-polling POST holding
more than ``Payload.max_decode_packets`` (16) of them, and answers 200; the
JS client batches queued emits into one POST. ``build_server`` lifts that cap
so that only the byte limit binds (PROTOCOL.md 5a).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import engineio.payload
import socketio
from socketio import packet

from server.chat.errors import invalid
from server.sio import jsonmod
from server.wire import ack_error

RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


# Engine.IO message text of a Socket.IO EVENT: type 2, optional "/namespace,", optional ack id.
EVENT_HEAD = re.compile(r"^2(?:(/[^,\[]*),)?(\d+)?")


class ParleyServer(socketio.AsyncServer):  # type: ignore[misc]
    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        """Answer an EVENT whose JSON cannot be decoded with ``invalid`` instead of dropping it."""
        try:
            await super()._handle_eio_message(eio_sid, data)
        except ValueError:
            head = EVENT_HEAD.match(data) if isinstance(data, str) else None
            if head is None or head.group(2) is None:
                return
            error = ack_error(invalid("the event payload is not valid JSON"))
            await self._send_packet(
                eio_sid,
                self.packet_class(
                    packet.ACK, namespace=head.group(1) or "/", id=int(head.group(2)), data=[error]
                ),
            )

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, str) or name in RESERVED_EVENTS:
            if id is not None:
                error = ack_error(invalid(f"the event name {name!r} is reserved or not valid"))
                await self._send_packet(
                    eio_sid, self.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[error])
                )
            return
        await super()._handle_event(eio_sid, namespace, id, data)


def allow_packets_up_to(byte_limit: int) -> None:
    """Let a polling body of ``byte_limit`` bytes hold as many packets as fit in it.

    A packet is at least one character and all but the last are followed by a
    separator, so ``byte_limit`` bytes hold at most ``byte_limit // 2 + 1``
    packets. python-engineio 4.15 has no option for this cap, only the class
    attribute ``Payload.max_decode_packets`` (process-wide, also read by
    clients): it is only ever raised, so apps with different limits in one
    process each keep theirs. pyproject.toml pins python-engineio below 4.16;
    tests/sio/test_polling.py fails if this stops working.
    """
    cap = byte_limit // 2 + 1
    if engineio.payload.Payload.max_decode_packets < cap:
        engineio.payload.Payload.max_decode_packets = cap


def build_server(
    cors_origins: list[str], max_http_buffer_size: int, client_manager: Any | None = None
) -> ParleyServer:
    """An ASGI Socket.IO server with orjson and our transport limits."""
    allow_packets_up_to(max_http_buffer_size)
    kwargs: dict[str, Any] = {}
    if client_manager is not None:
        kwargs["client_manager"] = client_manager
    return ParleyServer(
        async_mode="asgi",
        json=jsonmod,
        cors_allowed_origins=cors_origins or None,
        max_http_buffer_size=max_http_buffer_size,
        logger=False,
        engineio_logger=False,
        **kwargs,
    )


async def stop_server(sio: ParleyServer) -> None:
    """Stop engine.io's background tasks and, with Redis, the pub/sub listener and its connections."""
    await sio.shutdown()
    manager = sio.manager
    listener = getattr(manager, "thread", None)
    if listener is not None:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    for name in ("pubsub", "redis"):
        connection = getattr(manager, name, None)
        if connection is not None:
            await connection.aclose()
