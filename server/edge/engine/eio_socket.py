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
``AsyncServer._handle_connect``), so ``adopt`` turns each into a ``LeanSocket``
in the engine.io ``connect`` event, before any poll (``eio_server.ParleyEngine``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from engineio import exceptions, packet
from engineio.async_server import AsyncServer
from engineio.async_socket import AsyncSocket

from server.edge.engine.direct import DirectWebSocket, forget, frame_of
from server.edge.engine.killswitch import KillSwitch
from server.edge.engine.outqueue import OutgoingQueue
from server.edge.engine.ticks import ticks
from server.edge.engine.wsprotocol import LeanWebSocketProtocol

MAX_PACKETS_PER_POLL = 16  # python-engineio's Payload.max_decode_packets
PONG = packet.Packet(packet.PONG).encode()  # "3": a heartbeat's answer, what a quiet socket sends
PING_FRAME = frame_of(packet.Packet(packet.PING).encode())  # every PING's WebSocket frame, made once
_CLOSING: set[asyncio.Task[None]] = set()  # sessions being closed at their ping deadline


class LeanSocket(AsyncSocket):  # type: ignore[misc]
    polling = False  # a long-poll GET is waiting (AsyncSocket has no __slots__: same layout)
    ping_started = 0.0  # loop time the current ping cycle began (connect, or the last PONG)
    ping_deadline: float | None = None  # loop time a PONG is due by; None: no ping unanswered
    progress: asyncio.Event | None = None  # set when the transport takes packets (outgoing.py waits)
    ping_slot: int | None = None  # the tick (``ticks.py``) of the next PING, or of the last one's deadline
    lean_ws: Any = None  # engine.io's WebSocket of a lean session while its handler runs
    writer: asyncio.Future[bool] | None = None  # a lean session's writer while packets wait
    reader: asyncio.Future[None] | None = None  # a parked session's reader while frames wait
    # a lean session once its handler returned: what its reader reads through (``_websocket_handler``)
    parked: tuple[KillSwitch, DirectWebSocket, LeanWebSocketProtocol] | None = None
    queue: OutgoingQueue  # ``ParleyEngine.create_queue``'s
    connected: bool  # engine.io's: the session has a transport (set by its handlers)
    last_ping: float | None  # engine.io's: when the last PING went; None once the next is scheduled

    async def poll(self) -> list[Any]:
        """Wait for packets to send to the client; at most ``MAX_PACKETS_PER_POLL``.

        The WebSocket writer of an upgraded session skips NOOPs: engine.io queues one on
        ``2probe`` to end the pending long-poll, and when no poll was pending (the GET came
        after the probe and got its NOOP at once) that NOOP would be the WebSocket's first
        frame. Engine.IO v4 sends NOOPs on polling only.
        """
        queue = self.queue
        skip_noops = self.upgraded and not self.polling
        while True:
            try:
                if not queue.empty():
                    first = queue.get_nowait()
                elif skip_noops:
                    # The WebSocket writer: no timer. Pings and acks may be written past the queue
                    # (``send``), so a live socket can leave it empty for good; a dead one is ended
                    # by its ping deadline (``_pong_missed``), which queues the writer's end.
                    first = await queue.get()
                else:
                    first = await asyncio.wait_for(
                        queue.get(), self.server.ping_interval + self.server.ping_timeout
                    )
                queue.task_done()
            except (TimeoutError, asyncio.CancelledError):
                raise exceptions.QueueEmpty() from None
            if not (skip_noops and first is not None and first.packet_type == packet.NOOP):
                break
        if first is None:
            return []
        packets = [first]
        while len(packets) < MAX_PACKETS_PER_POLL and not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is None:
                queue.put_nowait(None)  # the socket closes: the next poll ends the writer
                break
            if skip_noops and pkt.packet_type == packet.NOOP:
                continue
            packets.append(pkt)
        self._progressed()
        return packets

    async def send(self, pkt: packet.Packet) -> None:
        """engine.io's send; on a WebSocket whose writer waits on an empty queue, the frame is written
        straight to the transport (an ack, a ping, an event to this socket alone), as the fan-out
        writes (``direct.py``): what the writer would do next, without waking it."""
        if not await self.check_ping_timeout():
            return
        self._send_now(pkt)

    def _send_now(self, pkt: packet.Packet) -> None:
        direct = self.server.websockets.get(self)
        if direct is None:
            self.queue.put_nowait(pkt)
            return
        encoded = pkt.encode()
        if not direct.write(self, frame_of(encoded), ack=encoded[:2] == "43"):  # a Socket.IO ACK
            self.queue.put_nowait(pkt)

    async def _websocket_handler(self, ws: Any) -> None:
        """engine.io's WebSocket handler; a new WebSocket session (not an upgrade) is read lean.

        engine.io reads each frame through a new task and an ``asyncio.wait_for`` timer, then
        decodes it as JSON before python-socketio decodes it again. Here the frames are read by a
        reader task started when frames come and ended when none wait (``_start_reader``), as the
        writer is; a Socket.IO packet goes to python-socketio as text (what engine.io's decode
        makes of a MESSAGE whose data starts with a digit). This handler returns once the session
        is set up: the connection is parked on uvicorn's protocol (``LeanWebSocketProtocol.park``),
        so the ASGI call, and its chain of suspended frames from uvicorn's to this one, ends, and
        an idle socket holds no task. engine.io's timer also ended a session whose client went
        silent; here the ping deadline (``_pong_missed``) closes it, the writer then ends and
        closes the WebSocket, and uvicorn answers that close with a disconnect, which the reader
        reads; should the writer end without reaching uvicorn, the kill switch wakes the reader.
        An upgrade, and a WebSocket without our kill switch or uvicorn connection, keep engine.io's
        handler.
        """
        direct = self.server.websockets.get(self)
        protocol = getattr(direct, "protocol", None)
        if (
            self.connected
            or direct is None
            or direct.switch is None
            or not isinstance(protocol, LeanWebSocketProtocol)
        ):
            await super()._websocket_handler(ws)
            return
        switch = direct.switch
        self.connected = True
        self.upgraded = True
        self.lean_ws = ws
        queue = self.queue
        queue.wake = self._start_writer  # a packet queued with no writer running starts one
        if queue.empty():
            queue.idle_reader = True
        else:
            self._start_writer()  # the OPEN packet
        if switch.killed:  # ended before a frame was read: no reader, this handler ends it
            await self._end()
            return
        self.parked = (switch, direct, protocol)
        protocol.park()
        protocol.queue.wake = switch.wake = self._start_reader
        if not protocol.queue.empty():
            self._start_reader()

    def _start_reader(self) -> None:
        """Read a parked session's frames (``ReceiveQueue.wake``) or its end (``KillSwitch.wake``) in a
        task, unless one runs; it ends when no frame waits. A server's stop waits for it through
        its connection, which stays among uvicorn's until the reader has closed its transport.
        The task is made by the connection's loop itself: ``asyncio.ensure_future`` first looks
        the loop up (a ``getpid`` system call in CPython 3.11) and checks what it was given, a
        third of the task's cost, once for most frames of a quiet socket."""
        parked = self.parked
        if self.reader is None and parked is not None and not self._took_pong(parked):
            self.reader = parked[2].loop.create_task(self._read_frames())

    def _took_pong(self, parked: tuple[KillSwitch, DirectWebSocket, LeanWebSocketProtocol]) -> bool:
        """A PONG that arrives alone is handled here, where it arrives, as engine.io's ``receive``
        handles one (a new heartbeat cycle), without a reader task: it is all an idle socket sends,
        once per ping interval, so a server pays it for every socket it holds (a round cost 59.6 us
        a socket before, 38.2 after, with ``wsprotocol.whole_text_frame``; Node 42.2:
        ``bench.workers --ping-interval 2``). Anything else, or anything behind it, goes to a
        reader, in order. uvicorn's ``receive`` resumes a paused read once the app took all: so here."""
        switch, _, protocol = parked
        if switch.killed or not protocol.queue.take_lone(PONG):
            return False
        if protocol.read_paused:
            protocol.read_paused = False
            protocol.transport.resume_reading()
        self.schedule_ping()
        return True

    def _unpark(self) -> None:
        """The session is over: the fan-out, the protocol and the kill switch let go of it (each held
        a bound method of this socket: cycles only the cyclic collector would free otherwise)."""
        parked, self.parked = self.parked, None
        if parked is None:
            return
        switch, direct, protocol = parked
        protocol.queue.wake = switch.wake = None
        forget(self.server.websockets, self, direct)
        sockets = self.server.sockets
        if self.closed and sockets.get(self.sid) is self:
            del sockets[self.sid]  # what engine.io does once its handler returns a closed session

    async def _end(self) -> None:
        """After the read: the writer ends the WebSocket (one starts for it if none runs), then the
        session closes."""
        queue = self.queue
        try:
            queue.put_nowait(None)
            if self.writer is not None and not self.writer.done():
                await asyncio.wait((self.writer,))
        finally:
            queue.wake = None
            self.lean_ws = None
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

    def _start_writer(self) -> None:
        """Start the writer of a lean session if none runs (``OutgoingQueue.wake``)."""
        if self.writer is None and self.lean_ws is not None:
            self.writer = asyncio.ensure_future(self._write_frames(self.lean_ws))
            self.writer.add_done_callback(self._writer_ended)

    def _writer_ended(self, writer: asyncio.Future[bool]) -> None:
        """A writer that ended the session (the queue's end, a failed send, a kill) ends the read too,
        through the kill switch (an earlier kill keeps its close code)."""
        if not writer.cancelled() and writer.exception() is None and not writer.result():
            return  # it went idle
        direct = self.server.websockets.get(self)
        if direct is not None and direct.switch is not None and not direct.switch.killed:
            direct.switch.kill()

    async def _write_frames(self, ws: Any) -> bool:
        """A lean session's writer: the queued packets, in order, then it ends. True once the
        session's end (None) came or a send failed (it closed the WebSocket); False when the queue
        ran empty: an idle socket holds no writer task (packets are then written straight to the
        transport, ``send``), and the next packet queued starts another.

        NOOPs are skipped, as by ``poll`` on a WebSocket (Engine.IO v4 sends them on polling only).
        """
        queue = self.queue
        while not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is None:
                break
            if pkt.packet_type == packet.NOOP:
                continue
            try:
                await ws.send(pkt.encode())
            except Exception:
                break
            self._progressed()
        else:
            self.writer = None
            queue.idle_reader = True
            return False
        await ws.close()
        return True

    async def _read_frames(self) -> None:
        """A parked session's reader: each waiting frame to engine.io (a Socket.IO packet straight to
        python-socketio), until none waits (the next one starts another reader); or, once the client
        went, a frame was over the size limit or undecodable, or the kill switch ended the session
        (checked between frames: a kill never cancels a handler midway), the session's end.

        uvicorn's own ``receive`` is read (it resumes reading once the queue is empty) and each
        frame checked here (``KillSwitch.admits``): no wrapper's call per frame. An event of the main
        namespace that asks for an ack is counted on ``direct`` (``acks_due``): frames to this
        socket then wait to go with that ack. One coroutine a burst of frames, no more: a reader is
        made for most frames of a quiet socket.
        """
        parked = self.parked
        assert parked is not None
        switch, direct, protocol = parked
        receive = switch.downstream_receive
        waiting = protocol.queue
        server = self.server
        limit = server.max_http_buffer_size
        on_message = getattr(server, "on_message", None)  # ``ParleyEngine``'s: python-socketio's handler
        try:
            while not switch.killed:
                if waiting.empty():
                    self.reader = None
                    return
                event = await receive()
                if event["type"] != "websocket.receive" or not switch.admits(event):
                    break
                data = event.get("bytes")
                if data is None:
                    data = event.get("text")
                    if data is None:
                        break
                if data and len(data) > limit:
                    break
                try:
                    if type(data) is str and len(data) > 1 and data[0] == "4" and data[1].isnumeric():
                        if data[1] == "2" and len(data) > 2 and data[2].isdigit():  # an event asking an ack
                            direct.acks_due += 1
                        if on_message is None:
                            await server._trigger_event("message", self.sid, data[1:])
                        else:  # what engine.io's ``_trigger_event`` does for it, without its wrapper
                            try:
                                await on_message(self.sid, data[1:])
                            except Exception:
                                server.logger.exception("message async handler error")
                    else:
                        await self.receive(packet.Packet(encoded_packet=data))
                except exceptions.UnknownPacketError:
                    pass
                except exceptions.SocketIsClosedError:
                    break
                except Exception:
                    server.logger.exception("Unknown receive error")
            await self._end()
            await switch.goodbye()
        finally:
            if self.reader is not None:  # the session's end (or a failure: it ends the session too)
                self.reader = None
                self._unpark()
                protocol.unpark()  # uvicorn closes the transport, as when an ASGI call returns

    def _progressed(self) -> None:
        """Note the drain; wake a producer waiting for room in the queue (``outgoing.room_in_queue``)."""
        self.queue.drained_at = asyncio.get_running_loop().time()
        if self.progress is not None:
            self.progress.set()

    # Heartbeat: the session ends at ping interval + ping timeout after its cycle began, as
    # the reference server's timers end it. engine.io only notices a missing PONG when its
    # service task sweeps by or a packet is sent, and then only once the ping is older than
    # the timeout: a GET at 500 ms (300 ms / 200 ms) still found the session and its PING.

    def schedule_ping(self) -> None:
        """engine.io's (the first cycle at connect, a new one after a PONG), on ticks, not a task.

        engine.io starts a task per cycle (``_send_ping``: a sleep, the PING, the next wait), so
        every idle socket held a task and its coroutine frames between pings; here the process's
        ``Ticks`` (one loop timer per tick for every socket due then) call the PING at the interval,
        then the close at the deadline: one dict slot per socket, not a task or a timer handle. As
        engine.io, only the first PONG after a PING starts a cycle (``last_ping`` set).
        """
        if not self.last_ping:
            return
        self.last_ping = None
        clock = ticks()
        self.ping_started = started = asyncio.get_running_loop().time()
        self.ping_deadline = None
        if self.ping_slot is not None:
            clock.cancel(self.ping_slot, self)
        self.ping_slot = clock.at(started + self.server.ping_interval, self, _ping)

    def _ping(self) -> None:
        """The cycle's PING, then the deadline for its PONG."""
        self.ping_slot = None
        if self.closing or self.closed:
            return
        server = self.server
        deadline = self.ping_deadline = self.ping_started + server.ping_interval + server.ping_timeout
        self.last_ping = time.time()
        direct = server.websockets.get(self)
        if direct is None or not direct.write(self, PING_FRAME):
            self.queue.put_nowait(packet.Packet(packet.PING))
        self.ping_slot = ticks().at(deadline, self, _pong_missed)

    def _pong_missed(self) -> None:
        """The deadline of a PING: unless its PONG came (a new cycle began), the session ends."""
        self.ping_slot = None
        deadline = self.ping_deadline
        if deadline is not None and not self.closing and not self.closed:
            reason = self.server.reason.PING_TIMEOUT
            task = asyncio.ensure_future(self.close(wait=False, abort=False, reason=reason))
            _CLOSING.add(task)
            task.add_done_callback(_CLOSING.discard)

    def ping_overdue(self) -> bool:
        deadline = self.ping_deadline
        return deadline is not None and asyncio.get_running_loop().time() >= deadline

    async def check_ping_timeout(self) -> bool:
        """engine.io's check, against the cycle's deadline (its own waits a little longer)."""
        if self.closed:
            raise exceptions.SocketIsClosedError()
        if self.ping_overdue():  # engine.io's close drops its CLOSE here; ``close`` queues one
            await self.close(wait=False, abort=False, reason=self.server.reason.PING_TIMEOUT)
            return False
        return True

    async def end_if_overdue(self) -> None:
        """Past the PONG deadline the session is gone, even for the POST carrying that PONG.

        The gate calls this before a POST reaches engine.io (``gate.py``): there an unknown
        session gets the reference server's 400. engine.io's own POST branch, told of a session
        that is already forgotten, leaves its answer unset and fails with a 500. A loaded loop
        can serve such a POST before the deadline's timer ends the session.
        """
        if not self.closed and self.ping_overdue():
            await self.close(wait=False, abort=False, reason=self.server.reason.PING_TIMEOUT)

    async def close(self, wait: bool = True, abort: bool = False, reason: object = None) -> None:
        """engine.io's close; a long-poll still waiting then gets its answer at once.

        engine.io leaves that GET waiting for a packet until the ping timeout (45 s), and
        python-engineio's client waits for it before its ``disconnect()`` returns. Closed by the
        client's CLOSE packet, the reference server answers the pending poll with a NOOP (or
        closes the WebSocket) and forgets the session at once (a later request is a 400), as
        engine.io-protocol's test suite checks; engine.io would keep it until a GET came to
        find it closed. Every close forgets the session at once, whatever ended it: engine.io's
        service task, which swept closed sessions out every ping timeout, does not run
        (``monitor_clients`` off, ``server.engine_options``).
        """
        closing_now = not self.closed and not self.closing
        if closing_now and self.ping_slot is not None:
            ticks().cancel(self.ping_slot, self)
            self.ping_slot = None
        await super().close(wait=wait, abort=abort, reason=reason)
        self._progressed()  # a producer waiting for room stops
        if not closing_now:
            return
        if reason == self.server.reason.CLIENT_DISCONNECT:
            self.server.sockets.pop(self.sid, None)
            if not self.upgraded:
                self.queue.put_nowait(packet.Packet(packet.NOOP))
            # On WebSocket too: engine.io's writer then ends and closes it, where engine.io would
            # keep it open until the client closed it or ping interval + timeout passed.
            self.queue.put_nowait(None)
        elif reason == self.server.reason.PING_TIMEOUT:
            # engine.io's close sends its CLOSE through ``send``, which drops every packet of a
            # socket whose ping timed out: queued here, the held poll gets it now, as from the
            # reference server (which closes a WebSocket without one). The writer then ends.
            if not self.upgraded and not abort:
                self.queue.put_nowait(packet.Packet(packet.CLOSE))
            self.queue.put_nowait(None)
            self.server.sockets.pop(self.sid, None)  # a later request is a 400, as an unknown sid
        elif not self.upgraded:
            self.queue.put_nowait(None)
        if self.server.sockets.get(self.sid) is self:  # forgotten at once, whatever ended it
            del self.server.sockets[self.sid]

    async def handle_get_request(self, environ: dict[str, Any]) -> object:
        """engine.io's GET; a second long-poll while one waits closes the session (reference server).

        engine.io would let both wait on the queue (each until the ping timeout). The reference
        answers the waiting poll with a CLOSE packet and the duplicate with a 400.
        """
        if not await self.check_ping_timeout():
            raise exceptions.EngineIOError("ping timeout")  # the session is gone: a 400
        if _upgrading(environ) or self.upgrading or self.upgraded:
            return await super().handle_get_request(environ)
        if self.polling:
            await self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise exceptions.EngineIOError("duplicate poll")
        self.polling = True
        try:
            return await super().handle_get_request(environ)
        finally:
            self.polling = False


def _ping(socket: LeanSocket) -> None:
    socket._ping()


def _pong_missed(socket: LeanSocket) -> None:
    socket._pong_missed()


def _upgrading(environ: dict[str, Any]) -> bool:
    """Whether a GET asks for a WebSocket (engine.io's own test in ``handle_get_request``)."""
    connection = [part.strip() for part in environ.get("HTTP_CONNECTION", "").lower().split(",")]
    return "upgrade" in connection and environ.get("HTTP_UPGRADE", "").lower() == "websocket"


def _advertise_exact_heartbeat(eio: AsyncServer, socket: AsyncSocket) -> None:
    """Make the queued OPEN packet advertise the heartbeat in exact milliseconds.

    python-engineio 4.15 advertises ``int(ping_interval) * 1000``: 0.3 s becomes 0 ms and
    2.5 s becomes 2000 ms (``int(ping_timeout * 1000)`` also loses a millisecond to floating
    point: 0.57 s becomes 569). The OPEN packet is the only one queued when the ``connect``
    event runs, before any poll or WebSocket writer reads it.
    """
    for pkt in socket.queue.waiting():
        if pkt is not None and pkt.packet_type == packet.OPEN and isinstance(pkt.data, dict):
            interval = eio.ping_interval + eio.ping_interval_grace_period
            pkt.data["pingInterval"] = round(interval * 1000)
            pkt.data["pingTimeout"] = round(eio.ping_timeout * 1000)


def adopt(eio: AsyncServer, socket: AsyncSocket | None) -> None:
    """Make a new engine.io socket of ``eio`` a ``LeanSocket`` (``ParleyEngine``'s ``connect``)."""
    if socket is not None and type(socket) is AsyncSocket:
        socket.__class__ = LeanSocket
        socket.queue.sid = socket.sid  # the bound's watch closes the session by it
        _advertise_exact_heartbeat(eio, socket)


async def close_engine_socket(eio: AsyncServer, sid: str) -> None:
    """Close one session of a plain engine.io server now (a waiting long-poll gets its CLOSE)."""
    socket = eio.sockets.pop(sid, None)
    if socket is not None:
        await socket.close(wait=False)
