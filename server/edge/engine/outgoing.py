"""Bounded outgoing queues: a client that stops reading cannot eat the server's memory.

engine.io queues packets per socket without a bound. Each socket's queue is
ours (``outqueue.OutgoingQueue``): it counts the bytes it holds, and a put
that leaves what is held for the client past the limit (about 1 MiB by
default) tells this guard (``past_limit``).

A WebSocket is judged by its transport, so a client that stops reading is cut
at the bound instead of holding a multiple of it. What is held for it is its
queue and what its transport buffers, not yet taken by the kernel
(``direct.DirectWebSocket`` is the queue's ``carrier``). Once the kernel's
send buffer is full the transport passes its high-water mark and uvicorn
pauses writing (``stalled``): packets then wait in the queue. Past the limit
with its transport stalled, the client took nothing while a whole bound piled
up: it is cut at once, and its TCP connection aborted, which drops what its
transport still buffered (a ``close`` would hold it until a client that never
reads took it). Judged like a long-poll (``HARD_CAP``, ``STALLED_AFTER``), it
would hold 8 MiB for up to 5 s. A client that reads keeps its transport
draining below the high-water mark, so its queue does not fill.

A long-poll is judged by its reading, not by its queue's length: it takes 16
packets at a time, so a polling client bursting 2,000 acked sends has
thousands of acks and echoes waiting while it reads them as fast as it can
(it was cut after one ack). Its GETs keep draining the queue
(``OutgoingQueue.drained_at``), so it is closed once its transport took
nothing for ``STALLED_AFTER`` seconds (a deadline of that socket's own, armed
when it passed the limit); only ``HARD_CAP`` times the limit closes it while
it reads, for memory. The client reconnects and gets what it missed from the
backlog (PROTOCOL.md sections 2 and 4).

A socket still catching up (its backlog or replay being sent, or waiting
for the user's earlier welcome: ``server.edge.sio.one_per_user``) has the live
events for it held by the realtime runtime (``server.edge.realtime.connection``),
which cuts it as a slow consumer past ``max_held`` of them.

A backlog or a replay is not live traffic: its producer (the welcome) sends it
as fast as the transport takes it (``OutgoingGuard.room``, every 16 messages
or once half the limit is held: ``crowded``), keeping the queue under half the
limit, so a client that reads is never cut for its backlog
(a long-poll takes 16 packets at a time: a 1 MiB backlog queued at once was
cut on every connect). A client that takes nothing for a heartbeat
(ping interval + ping timeout) is a client that does not read: closed as one.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable

from server.edge.engine.eio_server import LeanServer
from server.edge.engine.eio_socket import LeanSocket
from server.edge.engine.killswitch import kill_websocket
from server.edge.engine.outqueue import OutgoingQueue

log = logging.getLogger("parley.sio")
NORMAL_CLOSURE = 1000  # what engine.io's own close sends: the server ended the session
STALLED_AFTER = 5.0  # seconds without a drain: a reading client's transport takes packets many times a second
HARD_CAP = 8  # times the limit: closed past it even while reading (memory)


async def close_transport(sio: LeanServer, eio_sid: str, notify: bool = False) -> None:
    """Close one engine.io connection now, without waiting for its queue to drain.

    With ``notify`` a CLOSE packet is queued first: a long-poll GET in flight
    returns it at once instead of hanging until the ping timeout; a WebSocket
    gets a close frame. Without it (a client that stopped reading) the
    WebSocket's TCP connection just ends.
    """
    socket = sio.eio.sockets.pop(eio_sid, None)
    if socket is not None:
        kill_websocket(sio.environ.get(eio_sid), NORMAL_CLOSURE if notify else None)
        await socket.close(wait=False, abort=not notify)


async def room_in_queue(
    socket: LeanSocket, bound: int, timeout: float, give_way: Callable[[], bool] | None = None
) -> bool:
    """Wait until at most ``bound`` bytes are held for ``socket`` (its queue and its transport's
    buffer), or its queue is empty: with nothing queued no writer runs to tell a drain, and the
    transport's buffer is bounded by its high-water mark.

    False when the transport took nothing for ``timeout`` seconds, or the socket closed; or
    for ``STALLED_AFTER`` seconds when ``give_way()`` says someone waits for this producer
    (a newer socket of the same user, whose client most likely dropped this one).
    ``LeanSocket.poll`` sets ``progress`` whenever a long-poll or the WebSocket writer takes
    packets, so this wakes per drain, not on a timer.
    """
    await asyncio.sleep(0)  # a turn for the others (the sockets that drain, a disconnect) each time
    stalled = 0.0  # seconds the transport has taken nothing
    queue = socket.queue
    while queue.bytes and queue.held() > bound:
        if socket.closing or socket.closed:
            return False
        progress = socket.progress
        if progress is None or progress.is_set():  # one event for all who wait on this socket
            socket.progress = progress = asyncio.Event()
        step = min(STALLED_AFTER, timeout - stalled)
        try:
            async with asyncio.timeout(step):
                await progress.wait()
            stalled = 0.0
        except TimeoutError:
            stalled += step
            if stalled >= timeout or (give_way is not None and give_way()):
                return False
    return not (socket.closing or socket.closed)


class OutgoingGuard:
    """Closes the clients that do not read: the watch of every socket's queue (``past_limit``).
    ``on_close`` is told the engine.io session of each (the composition counts it with its address)."""

    def __init__(
        self,
        sio: LeanServer,
        limit_bytes: int,
        on_close: Callable[[str], None],
    ) -> None:
        self.sio = sio
        self.limit = limit_bytes
        self.on_close = on_close
        self._closing: set[asyncio.Task[None]] = set()
        sio.eio.watch_queues(self)

    def past_limit(self, queue: OutgoingQueue) -> None:
        """A put left what ``queue`` holds past the limit: a WebSocket whose transport stalled, or a
        queue past ``HARD_CAP`` times the limit, is closed now; else its deadline is armed (O(1):
        called on every put while past the limit)."""
        carrier = queue.carrier
        if (carrier is not None and carrier.stalled()) or queue.bytes > HARD_CAP * self.limit:
            self._cut(queue)
        elif queue.deadline is None:
            self._check_at_deadline(queue)

    def _check_at_deadline(self, queue: OutgoingQueue) -> None:
        loop = asyncio.get_running_loop()
        delay = max(0.0, queue.drained_at + STALLED_AFTER - loop.time())
        queue.deadline = loop.call_later(delay, self._deadline, queue)

    def _deadline(self, queue: OutgoingQueue) -> None:
        """Still past the limit: closed if its transport took nothing for ``STALLED_AFTER`` s."""
        queue.deadline = None
        if queue.held() <= self.limit:
            return
        carrier = queue.carrier
        if (carrier is not None and carrier.stalled()) or (
            asyncio.get_running_loop().time() - queue.drained_at >= STALLED_AFTER
        ):
            self._cut(queue)
        else:
            self._check_at_deadline(queue)  # it reads: judged again STALLED_AFTER after its last drain

    def _cut(self, queue: OutgoingQueue) -> None:
        """Close the socket of ``queue`` as a slow consumer (once: its queue stops telling us); a
        WebSocket's connection is aborted, with what its transport buffered."""
        queue.limit = sys.maxsize
        if queue.deadline is not None:
            queue.deadline.cancel()
            queue.deadline = None
        socket = self.sio.eio.sockets.get(queue.sid)
        if socket is None or socket.queue is not queue or socket.closing or socket.closed:
            return
        log.warning("closing a client that stopped reading", extra={"queued_bytes": queue.held()})
        self.on_close(queue.sid)
        if queue.carrier is not None:
            queue.carrier.abort()
        task = asyncio.ensure_future(close_transport(self.sio, queue.sid))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def present(self, sid: str, namespace: str) -> bool:
        """Whether the socket's client is still there: a CONNECT whose client left while its
        handler waited for a turn does no set-up. The session may not know yet (a WebSocket's
        reader awaits the CONNECT's handler before it reads the close), its connection does."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, namespace)
        socket = self.sio.eio.sockets.get(eio_sid) if eio_sid is not None else None
        if socket is None or socket.closing or socket.closed:
            return False
        direct = self.sio.eio.websockets.get(socket)
        return direct is None or not direct.closed()

    def crowded(self, sid: str, namespace: str) -> bool:
        """Whether more than half the limit is held for the socket (its queue and its transport's
        buffer): a backlog's producer then waits for ``room`` before its next message."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, namespace)
        socket = self.sio.eio.sockets.get(eio_sid) if eio_sid is not None else None
        return socket is not None and socket.queue.held() > self.limit // 2

    async def room(self, sid: str, namespace: str, give_way: Callable[[], bool] | None = None) -> bool:
        """Flow control for a backlog: wait for room in the socket's queue (half the limit).

        False if the socket is gone, or was closed here as a client that does not read
        (for a heartbeat; for ``STALLED_AFTER`` seconds when ``give_way()``: ``room_in_queue``).
        """
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, namespace)
        socket = self.sio.eio.sockets.get(eio_sid) if eio_sid is not None else None
        if socket is None:
            return False
        heartbeat = self.sio.eio.ping_interval + self.sio.eio.ping_timeout
        if await room_in_queue(socket, self.limit // 2, heartbeat, give_way):
            return True
        if not (socket.closing or socket.closed):
            log.warning("closing a client that stopped reading its backlog", extra={"sid": sid})
            self.on_close(eio_sid)
            await close_transport(self.sio, eio_sid)
        return False
