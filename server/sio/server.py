"""The python-socketio server, hardened against reserved event names.

python-socketio dispatches a client event named ``connect`` or
``disconnect`` to the server's own connect/disconnect handlers (checked with
5.18.1). Events with a name Socket.IO reserves never reach a handler here:
they get an ``invalid`` ack when the client asked for one.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

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


def build_server(
    cors_origins: list[str], max_http_buffer_size: int, client_manager: Any | None = None
) -> ParleyServer:
    """An ASGI Socket.IO server with orjson and our transport limits."""
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
