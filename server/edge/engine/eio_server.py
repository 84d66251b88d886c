"""The engine.io server Parley runs, with its choices made when it is built, not patched later.

``ParleyEngine`` is python-engineio's ``AsyncServer`` with:

- its sockets made ``LeanSocket`` (``eio_socket.py``) as they connect. engine.io creates each
  socket itself (``AsyncSocket(server, sid)`` in ``AsyncServer._handle_connect``) and has no
  factory for it, so the ``connect`` handler, wrapped when it is registered (``on``), swaps the
  new socket's class before any poll reads it (``socket.__class__``: same layout, AsyncSocket
  has no ``__slots__``), makes its queued OPEN packet advertise the exact heartbeat, and drops
  what the kept environ no longer needs;
- its sockets' queues ``OutgoingQueue`` (``outqueue.py``), through engine.io's own factory
  ``create_queue``: bytes counted at each put and get, the slow-consumer bound watched there;
- its driver table's ``websocket`` entry replaced by one that records each WebSocket's uvicorn
  connection for the fan-out's direct writes (``direct.py``), and its ``translate_request`` by
  one that makes no class per request (``environ.py``). engine.io picks its ASGI driver table by
  ``async_mode`` in ``BaseServer.__init__`` and has no option for either: ``__init__`` sets
  ``_async`` once, right after.

``LeanServer`` is python-socketio's ``AsyncServer`` on a ``ParleyEngine``: python-socketio builds
its engine with the class its ``_engineio_server_class`` returns (meant for subclasses).
Every library symbol read here is in ``CONTRACT.md`` with its digest.
"""

from __future__ import annotations

import base64
import inspect
import os
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
import socketio

from server.edge.engine.direct import Coalescer, DirectWebSocket, websocket_driver
from server.edge.engine.eio_socket import adopt
from server.edge.engine.environ import translate_request, trim
from server.edge.engine.outqueue import OutgoingQueue, QueueWatch

Handler = Callable[..., Awaitable[Any]]
ID_RANDOM_BYTES = 12  # engine.io's ``generate_id``


class ParleyEngine(engineio.AsyncServer):  # type: ignore[misc]
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # engine.io socket -> its uvicorn connection, while its WebSocket handler runs
        self.websockets: dict[Any, DirectWebSocket] = {}
        drivers: dict[str, Any] = self._async  # type: ignore[has-type]  # set by BaseServer.__init__
        self._async = {
            **drivers,
            "websocket": websocket_driver(self.websockets, Coalescer()),
            "translate_request": translate_request,  # no class made per request (``environ.py``)
        }
        self.queue_watch: QueueWatch | None = None  # the slow-consumer bound (``watch_queues``)
        self._random = b""  # unused random bytes for the next ids (``generate_id``)

    def generate_id(self) -> str:
        """engine.io's session id (and python-socketio's sid): 12 random bytes and a 3-byte sequence
        number in base64 with ``/`` and ``+`` made ``_`` and ``-``, as engine.io makes it; the random
        bytes come from ``os.urandom`` 3 KiB at a time instead of a system call per id (two per
        connect)."""
        if len(self._random) < ID_RANDOM_BYTES:
            self._random = os.urandom(ID_RANDOM_BYTES * 256)
        random, self._random = self._random[:ID_RANDOM_BYTES], self._random[ID_RANDOM_BYTES:]
        sequence: int = self.sequence_number  # type: ignore[has-type]  # set by BaseServer.__init__
        self.sequence_number = (sequence + 1) & 0xFFFFFF
        encoded = base64.b64encode(random + sequence.to_bytes(3, "big")).decode()
        return encoded.replace("/", "_").replace("+", "-")

    def watch_queues(self, watch: QueueWatch) -> None:
        """Give every socket's queue made from now on to ``watch`` (before serving)."""
        self.queue_watch = watch

    def create_queue(self, *_args: object, **_kwargs: object) -> OutgoingQueue:
        """engine.io's factory for each socket's queue: ours, counting its bytes (``outqueue.py``)."""
        return OutgoingQueue(self.queue_watch)

    on_message: Callable[[str, Any], Awaitable[object]] | None = None
    """The ``message`` handler (python-socketio's ``_handle_eio_message``), when it is a coroutine
    function: a session's reader awaits it itself (``LeanSocket._read_frames``)."""

    def on(self, event: str, handler: Handler | None = None) -> object:
        """engine.io's ``on``; a ``connect`` handler first makes the new socket a ``LeanSocket``."""
        if event == "message" and handler is not None:
            self.on_message = handler if inspect.iscoroutinefunction(handler) else None
        if event != "connect":
            return super().on(event, handler)
        if handler is None:
            return lambda decorated: self.on(event, decorated)
        return super().on(event, self._adopting(handler))

    def _adopting(self, handler: Handler) -> Handler:
        async def connect(sid: str, environ: dict[str, Any], *args: object) -> object:
            adopt(self, self.sockets.get(sid))
            try:
                return await handler(sid, environ, *args)
            finally:
                # python-socketio keeps this environ for the socket's life: what no one reads again
                # (the body reader, the WSGI constants, handshake-only headers) goes.
                trim(environ)

        return connect


class LeanServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server on a ``ParleyEngine`` (what ``LeanFanout`` serves)."""

    def _engineio_server_class(self) -> type[ParleyEngine]:
        return ParleyEngine
