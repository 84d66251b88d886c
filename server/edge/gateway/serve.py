"""Running one gateway WebSocket: register, welcome, read frames, write frames, clean up.

A dialect supplies how to open (``Opener``: authenticate, say hello, pick the
welcome) and how to answer a frame (``on_frame``); everything else is the same
for every dialect and lives here: the frame size limit (over it: close 1009),
the reader and writer tasks, registration with the realtime registry, the session's
close (presence, cursors) and the metrics. A dialect's ``on_frame`` must not
raise: it is a ``FrameCodec`` over the one dispatch pipeline, which answers errors in the
dialect's shape (its ``wire.py``). An unexpected failure here closes the socket with 1011 and
the ``internal`` error's reference (``server.edge.errors.classify``) as the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any, TypeVar, cast

import orjson
from starlette.websockets import WebSocket

from server.chat.connections.sessions import Session
from server.chat.kernel import events as ev
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.ratelimit import TokenBucket
from server.chat.kernel.schemas import MessageOut
from server.chat.service import Chat
from server.config import Settings
from server.edge.errors import classify
from server.edge.gateway.sockets import GOODBYE_WAIT, GatewaySocket, GatewayWriter, Push, Renderer, Written
from server.edge.gateway.wire import NORMAL, TOO_LARGE, closing, failed, refusal_code
from server.edge.http import client_address
from server.edge.realtime.registry import Registry
from server.edge.realtime.sink import HubSink
from server.metrics import Metrics
from server.refusals import RATE_LIMIT, USER_BOUND

log = logging.getLogger("parley.gateway")
GOODBYE = 2.0  # seconds a closing socket's writer may take to send what is queued and the close frame
D = TypeVar("D")
OnFrame = Callable[[GatewaySocket, str | None], Awaitable[None]]
"""Answer one client frame (its text; None for a binary frame)."""


class Gateway:
    """What every gateway route needs: the chat services, the realtime registry and the gateways'
    writer (added to the hub sink), the limits, the metrics."""

    def __init__(
        self, chat: Chat, settings: Settings, metrics: Metrics, registry: Registry, sink: HubSink
    ) -> None:
        self.chat = chat
        self.settings = settings
        self.metrics = metrics
        self.registry = registry
        self.writer = GatewayWriter(registry)  # ``len``: the gateway sockets open here
        self._dialects: dict[Any, Any] = {}
        sink.add_writer(self.writer)

    def dialect(self, cls: Callable[[Gateway], D]) -> D:
        """The one instance of a dialect for this gateway (made on first use)."""
        found = self._dialects.get(cls)
        if found is None:
            found = self._dialects[cls] = cls(self)
        return cast(D, found)

    async def open(self, ws: WebSocket, token: str | None, accepted: bool = False) -> Session | None:
        """Accept the WebSocket (unless ``accepted``) and open the session; None if refused (the
        socket is closed then). ``serve`` admits it (``SessionService.admit``)."""
        if not accepted:
            await ws.accept()
        try:
            return await self.chat.sessions.open(token, admit=False)
        except ChatError as exc:
            await self.refuse(ws, exc)
        except Exception as exc:
            error = classify(exc, "opening a gateway session failed")
            with contextlib.suppress(Exception):
                await ws.close(*failed(error))
        return None

    async def abandon(self, ws: WebSocket, session: Session, error: ChatError) -> None:
        """An opened session could not be set up: close the socket with the error, then the session."""
        await self.refuse(ws, error)
        await self.chat.sessions.close(session.actor)

    def record(self, name: str, outcome: str, elapsed: float) -> None:
        """Count one answered frame (``compat.<dialect>:<action>``) and its handling time."""
        self.metrics.events.labels(name, outcome).inc()
        self.metrics.latency.labels(name).observe(elapsed)

    def limited(self, ws: Any) -> None:
        """A frame or socket of ``ws`` refused ``rate_limited``: a refusal, counted (and logged)."""
        self.metrics.refused(RATE_LIMIT, client_address(ws))

    def bucket(self) -> TokenBucket:
        return TokenBucket(self.settings.socket_burst, self.settings.socket_rate)

    async def refuse(self, ws: WebSocket, error: ChatError) -> None:
        """Close an accepted WebSocket whose client could not be let in (4401, or 4429 when limited:
        the user holds all the sockets it may, counted as a refusal)."""
        if error.code is ErrorCode.RATE_LIMITED:
            self.metrics.refused(USER_BOUND, client_address(ws))
        with contextlib.suppress(Exception):
            await ws.close(refusal_code(error), error.code.value)

    async def serve(
        self,
        ws: WebSocket,
        who: Session | Actor,
        dialect: Renderer,
        on_frame: OnFrame,
        welcome: Callable[[], Awaitable[Iterable[MessageOut]]],
        label: str,
        follows: Iterable[int] | None = None,
        written: Written | None = None,
        hello: str | None = None,
        first: str | None = None,
    ) -> None:
        """Serve an opened session until either side ends it; always closes the session.

        ``who``: a session (presence, the connection count, cursors: closed at the end), or
        only an authenticated user (the echo channel, which counts for none of these).
        ``follows``: the topics whose topic-wide events reach the socket (default: the
        session's, kept in step with the user's memberships). ``hello``: the first frame.
        ``welcome``: what to send before anything live (held until then, PROTOCOL.md 4).
        ``first``: a client frame read before the session opened, answered before any other.
        """
        session = who if isinstance(who, Session) else None
        actor = session.actor if session is not None else cast(Actor, who)
        if session is not None:
            session = await self._admitted(ws, session)  # its topics as they are now
            if session is None:
                return
        tracks_memberships = follows is None and session is not None
        if follows is None:
            follows = session.topic_ids if session is not None else ()
        socket = GatewaySocket(
            ws,
            actor,
            dialect,
            self.bucket(),
            self.settings.outgoing_queue_bytes,
            self.writer,
            follows,
            follows_memberships=tracks_memberships,
            on_cut=partial(self.metrics.slow_consumer, client_address(ws)),
            max_held=self.settings.max_held_events,
            expires_at=session.expires_at if session is not None else None,
        )
        self.registry.add(socket.connection)  # catching up: live events for it are held from here on
        gauge = self.metrics.sockets.labels(label)
        gauge.inc()
        writer = asyncio.ensure_future(socket.write(written))
        reader: asyncio.Future[None] | None = None
        ended = asyncio.ensure_future(socket.ended.wait())
        try:
            if hello is not None:
                socket.send(hello)
            await self.registry.heard()  # the hub hears its topics: what is stored after the read comes live
            socket.welcome(await welcome())
            if first is not None:
                await on_frame(socket, first)
            reader = asyncio.ensure_future(self._read(ws, socket, on_frame))
            await asyncio.wait({reader, writer, ended}, return_when=asyncio.FIRST_COMPLETED)
        except Exception as exc:
            error = classify(exc, "gateway socket failed", user=actor.username)
            socket.close(*failed(error), drain=False)
        finally:
            self.registry.remove(socket.connection)
            for task in (reader, ended):
                if task is not None:
                    task.cancel()
            await _goodbye(ws, socket, writer)
            gauge.dec()
            if session is not None:
                try:
                    await self.chat.sessions.close(actor)
                except Exception:
                    log.exception("gateway clean-up failed", extra={"user": actor.username})

    async def _admitted(self, ws: WebSocket, session: Session) -> Session | None:
        """The session to register, or None if it is no longer let in (a logout during its
        set-up refuses it: the socket is closed with the error and the session with it).
        Register right after."""
        try:
            return await self.chat.sessions.admit(session)
        except ChatError as exc:
            await self.refuse(ws, exc)
            return None

    async def _read(self, ws: WebSocket, socket: GatewaySocket, on_frame: OnFrame) -> None:
        """Read frames one at a time until the client goes or a frame is refused (sets ``closing``)."""
        limit = self.settings.max_http_buffer_size
        try:
            while socket.closing is None:
                frame = await receive_frame(ws, limit)
                if isinstance(frame, int):
                    if frame != GONE:
                        socket.close(*closing(frame))
                    return
                await on_frame(socket, frame)
        except Exception as exc:
            error = classify(exc, "reading a gateway socket failed", user=socket.actor.username)
            socket.close(*failed(error), drain=False)


async def _goodbye(ws: WebSocket, socket: GatewaySocket, writer: asyncio.Future[None]) -> None:
    """Let the writer send what a closing socket still owes and its close frame, within ``GOODBYE``.

    A client that does not read blocks the writer (uvicorn waits for its buffer to drain):
    then the writer is cancelled, the close frame gets one more short try, and returning
    from the ASGI call ends the TCP connection.
    """
    if socket.closing is not None and not writer.done():
        await asyncio.wait({writer}, timeout=GOODBYE)
    if writer.done():
        return
    writer.cancel()
    if socket.closing is not None:
        code, reason = socket.closing
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code, reason), GOODBYE_WAIT)


GONE = NORMAL


async def receive_frame(ws: WebSocket, limit: int) -> str | int | None:
    """The next frame's text (None for a binary frame), or a close code: ``GONE`` when the client
    left, ``TOO_LARGE`` for a frame over ``limit`` bytes (the transport limit, as Engine.IO's)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        return GONE
    text: str | None = message.get("text")
    size = len(text.encode()) if text is not None else len(message.get("bytes") or b"")
    if size > limit:
        return TOO_LARGE
    return text


def json_object(text: str | None, what: str = "a frame must be a JSON object") -> dict[str, Any]:
    """A client frame's JSON object; ``invalid`` (saying ``what``) for anything else."""
    try:
        payload = orjson.loads(text) if text is not None else None
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        raise ChatError(ErrorCode.INVALID, what)
    return payload


async def no_welcome() -> list[MessageOut]:
    """For dialects that send nothing before live pushes (their clients read history themselves)."""
    return []


class NoPushes:
    """The renderer of a socket that gets no hub events (the echo channel): it can still be
    closed by a logout, which the sink does for every socket of the user."""

    def render(self, _event: ev.Event) -> Push | None:
        return None

    def render_message(self, _message: MessageOut) -> Push | None:
        return None
