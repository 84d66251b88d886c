"""The app the Socket.IO and Engine.IO protocol test suites expect, on Parley's own stack.

``socketio/socket.io-protocol`` and ``socketio/engine.io-protocol`` publish
test suites (raw HTTP and WebSocket checks) that the reference Node server
passes. This app serves what they talk to, built by the same code as
``parley serve`` (``build_server``, the lean fan-out, the gate in front of engine.io), so
that passing them proves Parley's Engine.IO/Socket.IO stack, not a stand-in:

- Socket.IO at ``/socket.io/``: namespaces ``/`` and ``/custom`` accept any
  CONNECT and emit ``auth`` with its payload; ``message`` comes back as
  ``message-back`` with all its arguments; ``message-with-ack`` is acked with
  its arguments. Binary attachments are allowed here (the chat refuses them).
- a plain Engine.IO server at ``/engine.io/`` echoing every message.
- heartbeat 300 ms / 200 ms and ``maxPayload`` 1000000, as the suites check.

No chat, no database. ``parley conformance-server [--port N]`` serves it.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import engineio
import socketio

from server.config import Settings
from server.edge.engine.eio_server import ParleyEngine
from server.edge.engine.eio_socket import close_engine_socket
from server.edge.engine.fanout import LeanFanout
from server.edge.engine.gate import EngineGate
from server.edge.engine.killswitch import ASGI
from server.edge.engine.outgoing import close_transport
from server.edge.engine.server import ParleyServer, build_server, engine_options

PING_INTERVAL = 0.3
PING_TIMEOUT = 0.2
MAX_PAYLOAD = 1_000_000
NAMESPACES = ("/", "/custom")


def conformance_settings(settings: Settings) -> Settings:
    """``settings`` with the heartbeat and payload limit the suites check."""
    return settings.model_copy(
        update={
            "ping_interval": PING_INTERVAL,
            "ping_timeout": PING_TIMEOUT,
            "max_http_buffer_size": MAX_PAYLOAD,
            "transports": ["polling", "websocket"],
        }
    )


def create_conformance_app(settings: Settings) -> ASGI:
    """Socket.IO at ``/socket.io/`` and plain Engine.IO at ``/engine.io/``, as the suites expect."""
    sio = build_server(settings, _uncounted, LeanFanout())
    tasks: set[asyncio.Task[None]] = set()
    for namespace in NAMESPACES:
        _register(sio, namespace, tasks)
    eio = _echo_engine(settings)

    async def shutdown() -> None:  # the engines' background tasks (ping timeouts)
        await sio.shutdown()
        await eio.shutdown()

    inner = socketio.ASGIApp(
        sio,
        other_asgi_app=engineio.ASGIApp(eio, engineio_path="engine.io"),
        socketio_path="socket.io",
        on_shutdown=shutdown,
    )
    app: ASGI = inner
    for path, engine, close in (
        ("/socket.io", sio.eio, partial(close_transport, sio, notify=True)),
        ("/engine.io", eio, partial(close_engine_socket, eio)),
    ):
        limit = settings.max_http_buffer_size
        app = EngineGate(
            app, path, engine, max_bytes=limit, close=close, on_undecodable=_uncounted, binary=True
        )
    return app


def _uncounted() -> None:
    """No metrics here: an undecodable packet only closes its connection."""


def _register(sio: ParleyServer, namespace: str, tasks: set[asyncio.Task[None]]) -> None:
    async def connect(sid: str, _environ: dict[str, Any], auth: object = None) -> None:
        # python-socketio sends the CONNECT reply after this handler returns (without yielding to
        # the loop in between), and would send an emit made here before it: emit from a task.
        task = asyncio.ensure_future(
            sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def message(sid: str, *args: object) -> None:
        await sio.emit("message-back", args, to=sid, namespace=namespace)

    async def message_with_ack(_sid: str, *args: object) -> tuple[object, ...]:
        return args

    sio.on("connect", connect, namespace=namespace)
    sio.on("message", message, namespace=namespace)
    sio.on("message-with-ack", message_with_ack, namespace=namespace)


def _echo_engine(settings: Settings) -> ParleyEngine:
    eio = ParleyEngine(**engine_options(settings))

    async def connect(_sid: str, _environ: dict[str, Any]) -> None:
        return None

    async def message(sid: str, data: object) -> None:
        await eio.send(sid, data)

    eio.on("connect", connect)
    eio.on("message", message)
    return eio
