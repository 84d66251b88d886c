"""engine.io sockets whose poll hands out at most 16 packets at a time.

engine.io's ``AsyncSocket.poll`` drains the whole queue into one answer: one
long-polling response, or one round of the websocket writer. The stock Python
client (python-engineio's ``Payload.max_decode_packets``) refuses a polling
payload of more than 16 packets and drops the connection. python-socketio's
own emit happened to yield between packets often enough; the lean fan-out
(``fanout.py``) and the backlog queue packets back to back, so a polling
client would get hundreds at once. ``LeanSocket.poll`` is engine.io's poll
with that cap, and without ``asyncio.wait_for`` (a task and a timer) when a
packet is already waiting; ``LeanSocket.close`` also answers a waiting
long-poll at once.

engine.io creates its sockets itself (``AsyncSocket(server, sid)`` in
``AsyncServer._handle_connect``), so ``adopt_new_sockets`` turns each into a
``LeanSocket`` in the engine.io ``connect`` event, before any poll, and
drops what the kept environ of that request does not need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from engineio import exceptions
from engineio.async_socket import AsyncSocket

MAX_PACKETS_PER_POLL = 16  # python-engineio's Payload.max_decode_packets


class LeanSocket(AsyncSocket):  # type: ignore[misc]
    __slots__ = ()

    async def poll(self) -> list[Any]:
        """Wait for packets to send to the client; at most ``MAX_PACKETS_PER_POLL``."""
        queue = self.queue
        try:
            if queue.empty():
                first = await asyncio.wait_for(
                    queue.get(), self.server.ping_interval + self.server.ping_timeout
                )
            else:
                first = queue.get_nowait()
            queue.task_done()
        except (asyncio.TimeoutError, asyncio.CancelledError):
            raise exceptions.QueueEmpty() from None
        if first is None:
            return []
        packets = [first]
        while len(packets) < MAX_PACKETS_PER_POLL and not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is None:
                queue.put_nowait(None)  # the socket closes: the next poll ends the writer
                break
            packets.append(pkt)
        return packets

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        """engine.io's close; a long-poll still waiting then gets an empty answer at once.

        engine.io leaves that GET waiting for a packet until the ping timeout (45 s), and
        python-engineio's client waits for it before its ``disconnect()`` returns.
        """
        closing_now = not self.closed and not self.closing
        await super().close(wait=wait, abort=abort, reason=reason)
        if closing_now and not self.upgraded:
            self.queue.put_nowait(None)


def adopt_new_sockets(eio: Any) -> None:
    """Make every engine.io socket of ``eio`` a ``LeanSocket`` as it connects."""
    handler: Callable[..., Awaitable[Any]] = eio.handlers["connect"]

    async def connect(sid: str, environ: dict[str, Any], *args: Any) -> Any:
        socket = eio.sockets.get(sid)
        if type(socket) is AsyncSocket:
            socket.__class__ = LeanSocket
        try:
            return await handler(sid, environ, *args)
        finally:
            # python-socketio keeps this environ for the socket's life; its request body reader
            # (an instance of a class engine.io creates per request, ~2.5 kB) is never read again.
            environ.pop("wsgi.input", None)

    eio.handlers["connect"] = connect
