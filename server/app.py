"""Composition root: ``create_app(settings)`` builds everything; nothing at import time.

FastAPI owns the lifespan (migrations, default topics, the cursor flusher);
``socketio.ASGIApp`` gets no startup hooks, so engine.io forwards lifespan
events to FastAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import socketio
from fastapi import FastAPI

from db.migrate import upgrade
from server import logs
from server.chat.kernel.actors import admin_ui
from server.chat.kernel.errors import ChatError, ErrorCode, invalid
from server.chat.kernel.events import AppEvent
from server.chat.kernel.ratelimit import per_window
from server.chat.service import Chat
from server.chat_factory import build_chat
from server.collector import release_collector, tune_collector
from server.config import Settings
from server.edge.body_cap import BodyCap
from server.edge.engine.admin import FAILURE_WINDOW, FAILURES_PER_ADDRESS, AdminUI, Audit
from server.edge.engine.fanout import LeanFanout
from server.edge.engine.gate import EngineGate
from server.edge.engine.netguard import ON_REFUSED
from server.edge.engine.outgoing import OutgoingGuard, close_transport
from server.edge.engine.server import build_server, stop_server
from server.edge.engine.shutdown import ExitSignals
from server.edge.gateway.routers import gateway_routers
from server.edge.gateway.serve import Gateway
from server.edge.realtime.expiry import Expiry
from server.edge.realtime.registry import Registry
from server.edge.realtime.sink import HubSink
from server.edge.rest.api import build_api
from server.edge.rest.hooks import HOOK_MAX_BYTES
from server.edge.rest.server_fast import HotRoutes
from server.edge.rest.wire import http_error
from server.edge.sio.admin_rooms import room_names
from server.edge.sio.app_events import AppEvents
from server.edge.sio.chat_namespace import ChatNamespace
from server.edge.sio.echo_namespace import EchoNamespace
from server.edge.sio.tokens import client_address
from server.edge.sio.wire import ack_error
from server.metrics import Metrics
from server.refusals import ADDRESS_BOUND, BODY_CAP


def create_app(settings: Settings | None = None) -> Any:
    """The whole server as one ASGI app (Socket.IO at /socket.io, the rest to FastAPI)."""
    settings = settings or Settings()
    logs.configure(settings.log_json, settings.log_level)
    chat = build_chat(settings, serving=True)
    metrics = Metrics()
    registry = Registry(
        Expiry(settings.expiry_notice), chat.hub
    )  # every realtime connection here; the hub hears theirs
    sink = HubSink(registry)  # the one hub sink: each transport adds its writer
    # Local rooms only: with Redis the hub brings every node's events here, once per node.
    sio = build_server(
        settings,
        metrics.undecodable_packets.inc,
        LeanFanout(),
        reserved_event_ack=_reserved_event_ack,
        watched=_admin_ui_enabled(settings),
    )
    burst, rate = settings.socket_burst, settings.socket_rate

    def slow(eio_sid: str) -> None:  # a slow consumer, counted with its client's address
        metrics.slow_consumer(client_address(sio.environ.get(eio_sid) or {}))

    guard = OutgoingGuard(sio, settings.outgoing_queue_bytes, slow)
    setups = chat.sessions.setups
    metrics.watch_setups(lambda: setups.running, lambda: setups.waiting, lambda: setups.queued)
    chat_namespace = ChatNamespace(sio, chat, registry, metrics, burst, rate, guard, settings.max_held_events)
    close = partial(close_transport, sio, notify=True)
    exit_signals = ExitSignals(sio.eio, close)  # a held long-poll must not hold the shutdown up
    admin = _admin_ui(sio, settings, chat_namespace, chat)

    @contextlib.asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await upgrade(chat.db.engine)
        await chat.start()  # every part of the domain, a server's own included (server.chat.kernel.wiring)
        exit_signals.install()
        if admin is not None:
            admin.start()
        if settings.gc_tuning:
            tune_collector()  # last: what start-up made is frozen out of the collector's scans
        else:
            release_collector()  # `parley serve` held it off while it started (server.collector)
        # Not on the way to serving: what only outgoing HTTP needs (webhooks, pushes, previews, SSO)
        warming = asyncio.ensure_future(asyncio.to_thread(_warm_outgoing_http))
        try:
            # uvicorn hands this state to the connection guard it made before the app (netguard)
            yield {ON_REFUSED: partial(metrics.refused, ADDRESS_BOUND)}
        finally:
            await warming  # a thread: it cannot be cancelled, and it takes a tenth of a second
            exit_signals.uninstall()
            if admin is not None:
                await admin.stop()
            await chat_namespace.drain()
            await stop_server(sio)
            await chat.stop()
            await chat.db.dispose()

    api = build_api(
        lifespan, metrics, settings.cors_origins, settings.web_dir, gateway_routers(), settings.admin_ui
    )
    api.state.chat = chat
    api.state.readiness = _readiness_checks(settings, chat)
    api.state.settings = settings
    api.state.admin = admin  # the Admin UI instrumentation, or None
    api.state.chat_namespace = chat_namespace  # tests wait on its welcome tasks (drain)
    api.state.exit_signals = exit_signals  # tests stop their server as SIGTERM does (release_polls)
    chat_namespace.register()
    EchoNamespace(sio, chat, registry, metrics, settings.socket_burst, settings.socket_rate).register()
    sink.add_writer(chat_namespace.writer)
    # PROTOCOL.md section 17: an application's `app:` events, answered by every node for its own sockets
    chat.gather.answer(AppEvent, AppEvents(sio, chat_namespace.writer, registry, sink).answer)
    api.state.gateway = Gateway(chat, settings, metrics, registry, sink)  # the plain-WebSocket dialects
    chat.hub.attach(sink)
    # Every HTTP body but Engine.IO's is capped before anything reads it (Engine.IO bounds its own in
    # the gate). File uploads bound themselves while streaming (server/edge/rest/files.py, PROTOCOL.md 11).
    capped = BodyCap(
        api,
        settings.max_body_bytes,
        {"/hooks/": HOOK_MAX_BYTES, "/api/files": None},
        on_refused=partial(metrics.refused, BODY_CAP),
    )
    sio_app = socketio.ASGIApp(sio, other_asgi_app=capped, socketio_path="socket.io")
    # One wrapper in front of Engine.IO (gate.py): the reference server's refusals, the 413 for an
    # oversized POST, undecodable packets, and each WebSocket's kill switch.
    too_large = ChatError(ErrorCode.TOO_LARGE, f"body over {settings.max_http_buffer_size} bytes")
    app = EngineGate(
        sio_app,
        "/socket.io",
        sio.eio,
        max_bytes=settings.max_http_buffer_size,
        close=close,
        close_oversized=partial(close_transport, sio),
        on_undecodable=metrics.undecodable_packets.inc,
        refusal=http_error(too_large)[1],
        on_oversized=partial(metrics.refused, BODY_CAP),
    )
    # The server API's publish and broadcast, answered in front of it all (server_fast.py); its
    # state is the app's, where tests and tools reach the services
    return HotRoutes(app, api.state, metrics, capped.limit_for)


def _warm_outgoing_http() -> None:
    """Import httpx and read the CA bundle (``server.adapters.tls``), in a thread once the server
    has started: the outgoing clients are made at their first use (``HttpPoster``), which then
    finds both ready, and a restart answers its reconnecting clients a tenth of a second sooner."""
    from server.adapters.tls import verifying_context

    verifying_context()


def _reserved_event_ack(name: object) -> dict[str, Any]:
    """The ack of a client event whose name Socket.IO reserves, or that is not a string."""
    return ack_error(invalid(f"the event name {name!r} is reserved or not valid"))


def _admin_ui_enabled(settings: Settings) -> bool:
    return settings.admin_ui and settings.admin_password is not None


def _admin_ui(sio: Any, settings: Settings, chat_namespace: ChatNamespace, chat: Chat) -> AdminUI | None:
    """The Socket.IO Admin UI's /admin namespace when PARLEY_ADMIN_UI=1 (Settings refused a weak password)."""
    if not _admin_ui_enabled(settings) or settings.admin_password is None:
        return None

    def user_of(sid: str) -> dict[str, Any]:
        connection = chat_namespace.registry.get(sid)
        chat_socket = connection is not None and connection.writer is chat_namespace.writer
        return {"user": connection.actor.username} if connection is not None and chat_socket else {}

    password = settings.admin_password.get_secret_value()
    admin = AdminUI(
        sio,
        settings.admin_username,
        password,
        read_only=settings.admin_read_only,
        stats_interval=settings.admin_stats_interval,
        socket_data=user_of,
        room_names=room_names(chat),
        failures=per_window(FAILURES_PER_ADDRESS, FAILURE_WINDOW),
        client_address=client_address,
        audit=_admin_audit(chat),
    )
    admin.install()
    return admin


def _admin_audit(chat: Chat) -> Audit:
    """The Socket.IO Admin UI's logins and disconnects as audit rows (PROTOCOL.md section 16)."""

    async def audit(username: str | None, action: str, target: str | None, details: dict[str, Any]) -> None:
        await chat.audit.record(admin_ui(username), action, target, None, details)

    return audit


def _readiness_checks(settings: Settings, chat: Chat) -> dict[str, Callable[[], Awaitable[Any]]]:
    """What /readyz asks: the database, and Redis when configured."""
    checks: dict[str, Callable[[], Awaitable[Any]]] = {"database": chat.db.ping}
    if settings.redis_url:
        import redis.asyncio  # here: a server without Redis never loads it (a third of a second of start)

        url = settings.redis_url

        async def ping_redis() -> None:
            client = redis.asyncio.Redis.from_url(url)
            try:
                await client.ping()
            finally:
                await client.aclose()

        checks["redis"] = ping_redis
    return checks


def app_factory() -> Any:
    """Entry point for ``uvicorn --factory`` (workers read settings from the environment)."""
    return create_app(Settings())
