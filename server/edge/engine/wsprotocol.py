"""uvicorn's WebSocket protocol (websockets-sansio) with a lighter receive side, as Parley serves it.

What uvicorn's ``WebSocketsSansIOProtocol`` does per connection or per frame that Engine.IO
does not need, each paid in memory per socket or in work per received frame:

- its receive queue is an ``asyncio.Queue``: three deques (items, getters, putters), about 1.5 KB
  per connection. ``ReceiveQueue`` does what uvicorn asks of it (``put_nowait``, ``get``,
  ``empty``) with a list and one waiter;
- it pauses reading after every message and resumes once the app has taken it: two changes of
  the event loop's interest in the socket per frame received. ``send_receive_event_to_app``
  (mirrored) pauses only once more than ``RECEIVE_BUFFER`` bytes wait for the app: a client
  that sends faster than it is served is still held back, with a bound on what it makes us hold;
- its ``writable`` flag (cleared while the transport is past its high-water mark, awaited by every
  ``send``) is an ``asyncio.Event``, whose waiters' deque is about 700 B per connection though
  almost no connection ever waits on it. ``Writable`` does the same with a list made only for a
  first waiter;
- it pings every WebSocket every 20 s (two timer handles per connection and a frame each way):
  an Engine.IO connection (``ENGINE_PATHS``) has its own heartbeat (PROTOCOL.md 5a), which ends a
  silent peer in ping interval + timeout, so ``start_keepalive`` is skipped for it. Every other
  WebSocket (the gateway dialects) keeps uvicorn's keepalive.

- its ASGI call lasts as long as the connection: the app's chain of suspended coroutines (uvicorn's
  ``run_asgi``, the gate's, engine.io's, ours: 16 frames, about 4.5 KB per idle socket) waits on
  ``receive`` for its whole life. An Engine.IO session ``park``s the connection instead: its call
  returns once the session is set up, ``run_asgi`` then leaves the transport open, and the
  session's reader runs only while messages wait (``ReceiveQueue.wake``).

- every frame goes through websockets' parser, a generator-based coroutine that reads the header,
  the mask and the data each through ``yield from``, then through its ``events_received``:
  ``data_received`` (mirrored) reads a segment that is exactly one whole small text frame itself
  (``whole_text_frame``), as that parser would. It is what an idle socket's PONG and most events
  are (3.8 -> 0.5 us a frame; a server pays the PONG's once per socket held per ping interval).
  Anything else goes to websockets.

``frames_only`` (called once the handshake is complete, ``direct.py``) drops websockets' parsed
handshake request, which its server-side parser keeps as a local of the generator that goes on to
parse every frame: the request's headers, about 3 KB per socket (tracemalloc).

``websocket_options`` are the uvicorn options that choose it. The overridden and mirrored symbols
are listed in ``CONTRACT.md`` with their digests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.protocol import Protocol, State
from websockets.server import ServerProtocol
from websockets.streams import StreamReader
from websockets.utils import apply_mask

try:  # websockets' C version, as its ``frames`` module takes it
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - a build of websockets without its extension
    pass

RECEIVE_BUFFER = 64 * 1024
"""Bytes of received messages the app has not taken yet past which reading pauses."""
ENGINE_PATHS = ("/socket.io", "/engine.io")
"""Where Engine.IO is served (the chat app; the conformance app's plain engine): its own heartbeat."""

Message = dict[str, Any]
_ERROR_LOGGER = logging.getLogger("uvicorn.error")
"""The logger uvicorn's protocol and its websockets connection log to (looked up once)."""


class ReceiveQueue:
    """The messages a connection received and its app has not taken yet, and their bytes."""

    __slots__ = ("_items", "_waiter", "size", "wake")

    def __init__(self) -> None:
        self._items: list[Message] = []
        self._waiter: asyncio.Future[None] | None = None
        self.size = 0
        # a parked connection's reader, started when a message comes (``LeanSocket._start_reader``)
        self.wake: Callable[[], None] | None = None

    def put_nowait(self, message: Message) -> None:
        self._items.append(message)
        self.size += _size(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        elif self.wake is not None:
            self.wake()

    async def get(self) -> Message:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        message = self._items.pop(0)
        self.size -= _size(message)
        return message

    def empty(self) -> bool:
        return not self._items

    def take_lone(self, text: str) -> bool:
        """Take the one message waiting if it is the text frame ``text`` and nobody waits in ``get``:
        what a reader would ``get`` next, for a caller that handles it without a reader."""
        items = self._items
        if len(items) == 1 and self._waiter is None and items[0].get("text") == text:
            items.pop()
            self.size -= len(text)
            return True
        return False

    def qsize(self) -> int:
        return len(self._items)


class Writable:
    """``asyncio.Event`` as uvicorn uses it for ``writable`` (``set``, ``clear``, ``is_set``, ``wait``),
    with no waiters' deque until something waits: every connection has one, few ever wait."""

    __slots__ = ("_value", "_waiters")

    def __init__(self) -> None:
        self._value = False
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        """Set the flag and wake every waiter, as ``asyncio.Event.set``."""
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        """True once the flag is set (at once if it is), as ``asyncio.Event.wait``."""
        if self._value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)


def _size(message: Message) -> int:
    data = message.get("text")
    if data is None:
        data = message.get("bytes")
    return len(data) if data is not None else 0


UVICORN_ATTRIBUTES = (
    "app", "app_state", "asgi_version", "client", "close_sent", "close_timeout", "close_timer",
    "config", "conn", "connections", "curr_msg_data_type", "default_headers", "disconnected",
    "frames", "handshake_complete", "handshake_initiated", "initial_response", "last_ping_rtt",
    "logger", "loop", "pending_ping_payload", "ping_interval", "ping_sent_at", "ping_timeout",
    "ping_timer", "pong_timer", "queue", "read_paused", "request", "response", "root_path",
    "scheme", "scope", "server", "tasks", "transport", "writable",
)  # fmt: skip
"""Every attribute uvicorn's protocol sets on itself (``__init__``, ``connection_made``,
``handle_connect``, ``send``): slots of ``LeanWebSocketProtocol``."""


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    # Slots, not the instance dict: past 30 attributes CPython gives an instance a dict of its own
    # (no keys shared with the class's other instances), and uvicorn sets 37: 1.6 KB per
    # connection, against 8 bytes a slot. A slot is a data descriptor of the class, so uvicorn's
    # ``self.x = ...`` and reads find it before any dict; an attribute a later uvicorn adds still
    # goes to the dict.
    __slots__ = (*UVICORN_ATTRIBUTES, "parked")

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """uvicorn's (mirrored), with ``ReceiveQueue`` and ``Writable`` made in place of its
        ``asyncio.Queue`` and ``asyncio.Event`` rather than after them: each connect made and
        dropped a queue (three deques and an event) and an event, and looked its logger up by name
        twice (8.9 -> 6.4 us a protocol, measured; fewer allocations to trigger the collector)."""
        if not config.loaded:
            config.load()
        self.config = config
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.logger = _ERROR_LOGGER
        self.root_path = config.root_path
        self.asgi_version = config.asgi_version
        self.app_state = app_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.default_headers = server_state.default_headers
        self.transport: Any = None
        self.server = None
        self.client = None
        self.scheme: Any = None
        self.queue: Any = ReceiveQueue()
        self.handshake_initiated = False
        self.handshake_complete = False
        self.close_sent = False
        self.disconnected = False
        self.close_timer = None
        self.close_timeout = 10.0
        self.initial_response = None
        extensions = []
        if config.ws_per_message_deflate:
            extensions = [
                ServerPerMessageDeflateFactory(
                    server_max_window_bits=12,
                    client_max_window_bits=12,
                    compress_settings={"memLevel": 5},
                )
            ]
        self.conn = ServerProtocol(extensions=extensions, max_size=config.ws_max_size, logger=_ERROR_LOGGER)
        self.read_paused = False
        self.writable: Any = Writable()
        self.writable.set()
        self.ping_interval = config.ws_ping_interval
        self.ping_timeout = config.ws_ping_timeout
        self.ping_timer = None
        self.pong_timer = None
        self.pending_ping_payload = None
        self.ping_sent_at = 0.0
        self.last_ping_rtt = 0.0
        self.frames = []
        self.curr_msg_data_type = "bytes"
        self.parked = False  # the app's call returned, the connection goes on (``park``)

    def park(self) -> None:
        """The app's call may return now and the connection stays open: its messages are read by
        whoever set the queue's ``wake`` (an Engine.IO session's reader, started per burst of
        frames, ``eio_socket.LeanSocket``), and ``unpark`` ends it as uvicorn ends a connection
        whose app returned. An idle socket then holds no task and no chain of suspended ASGI
        frames (about 4.5 KB and 16 coroutines per socket: uvicorn's, the gate's, engine.io's)."""
        self.parked = True

    def unpark(self) -> None:
        """The parked connection's end: what ``run_asgi`` does once its app has returned."""
        self.parked = False
        if self.close_timer is None:
            self.transport.close()

    async def run_asgi(self) -> None:
        """uvicorn's (mirrored), but a parked connection outlives its app's call (``park``)."""
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.close_timer is None and not self.parked:
            self.transport.close()

    def start_keepalive(self) -> None:
        """uvicorn's keepalive, but for an Engine.IO connection (its heartbeat does that job)."""
        if not self.scope["path"].startswith(ENGINE_PATHS):
            super().start_keepalive()

    def data_received(self, data: bytes) -> None:
        """uvicorn's, but a segment that is one whole short text frame, between frames of an open
        connection, skips websockets' parser: ``handle_text`` (mirrored) gets what it would get."""
        text = whole_text_frame(data)
        if text is not None and self._between_frames(len(text)):
            self.curr_msg_data_type = "text"
            self.frames = [text]
            self.send_receive_event_to_app()
            return
        super().data_received(data)

    def _between_frames(self, length: int) -> bool:
        """Whether websockets' parser would read a next frame of ``length`` bytes of data as a frame
        on its own: the connection open, nothing of a frame or a fragmented message read yet (so the
        parser waits at ``at_eof`` with an empty buffer), no extension to decode it, no debug log,
        no close sent by the app, and ``length`` within the size limits (websockets refuses it)."""
        conn = self.conn
        limit = conn.max_message_size
        fragment = conn.max_fragment_size
        return (
            conn.state is State.OPEN
            and conn.current_size is None
            and not conn.reader.buffer
            and conn.parser_exc is None
            and not conn.extensions
            and not conn.debug
            and not self.close_sent
            and not self.frames
            and (limit is None or length <= limit)
            and (fragment is None or length <= fragment)
        )

    def send_receive_event_to_app(self) -> None:
        """uvicorn's (the message made of the frames received, for the app), pausing reading only
        once ``RECEIVE_BUFFER`` bytes wait; uvicorn's ``receive`` resumes it when the app took all."""
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:  # the app is past websocket.close: dropped, as uvicorn drops it
            return
        if self.curr_msg_data_type == "text":
            try:
                self.queue.put_nowait({"type": "websocket.receive", "text": data.decode()})
            except UnicodeDecodeError:
                self.logger.info("Invalid UTF-8 sequence received from client.")
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        else:
            self.queue.put_nowait({"type": "websocket.receive", "bytes": data})
        if not self.read_paused and self.queue.size > RECEIVE_BUFFER:
            self.read_paused = True
            self.transport.pause_reading()


def whole_text_frame(data: bytes) -> bytes | None:
    """The unmasked data of ``data`` if it is exactly one client text frame with FIN, no reserved
    bit and a length in 7 or 16 bits (what websockets' ``Frame.parse`` reads as a TEXT frame with
    that data); None for anything else."""
    size = len(data)
    if size < 6 or data[0] != 0x81:  # FIN, no RSV bit, opcode TEXT
        return None
    length = data[1] ^ 0x80  # a client's frame is masked: the top bit must be set
    if length < 126:
        start = 6
    elif length == 126 and size >= 8:
        length = (data[2] << 8) | data[3]
        start = 8
    else:  # unmasked (websockets' protocol error) or a 64-bit length
        return None
    if size != start + length:
        return None
    return apply_mask(data[start:], data[start - 4 : start])


def frames_only(conn: Protocol) -> bool:
    """Give websockets' connection ``conn`` a parser of frames that holds no handshake request.

    websockets' ``ServerProtocol.parse`` reads the request into a local, then parses the frames
    with ``yield from Protocol.parse()``: its suspended frame keeps the request, headers and all,
    for the connection's life. Between two frames (``Protocol.parse`` waiting in the reader's
    ``at_eof``, so nothing of a frame was read yet) the state of the parse is all on ``conn``, and a
    fresh ``Protocol.parse`` takes over where the old one was. Anywhere else (a client that sent a
    frame before the handshake's answer reached it) the parser is kept, as it is: False."""
    outer = conn.parser
    inner = getattr(outer, "gi_yieldfrom", None)
    if inner is None or getattr(inner, "gi_code", None) is not _FRAMES:
        return False
    waiting = inner.gi_yieldfrom
    if waiting is None or getattr(waiting, "gi_code", None) is not _BETWEEN_FRAMES:
        return False
    fresh = Protocol.parse(conn)
    next(fresh)  # to its first wait: the buffer is empty, so in ``at_eof`` again
    conn.parser = fresh
    outer.close()
    return True


_FRAMES = Protocol.parse.__code__
_BETWEEN_FRAMES = StreamReader.at_eof.__code__


def websocket_options() -> dict[str, Any]:
    """uvicorn's options for Parley's WebSockets: this protocol, permessage-deflate off (DESIGN.md)."""
    return {"ws": LeanWebSocketProtocol, "ws_per_message_deflate": False}
