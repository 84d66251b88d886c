"""The echo chat's echo WebSocket (PROTOCOL.md 7.3): ``/compat/echo/ws/echo?token=<JWT>``.

Every text frame comes back (through ``PARLEY_ECHO_UPSTREAM`` when set) and the
transcript is stored when the socket closes, whoever closes it. Errors the
socket survives (rate limit, a failing upstream, an unexpected one: ``internal``
with a logged reference) are ``{"error"}`` frames; a bad token closes with
4401, a binary frame with 1003, a frame over the limit with 1009, a socket
past the user's socket limit (shared with every namespace and dialect,
PROTOCOL.md section 2) with 4429.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from server.chat.echo.service import EchoSession
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat
from server.edge.gateway.codec import FrameCodec
from server.edge.gateway.dialects.echo import wire
from server.edge.gateway.serve import Gateway, NoPushes, no_welcome
from server.edge.gateway.sockets import GatewaySocket

router = APIRouter(prefix="/compat/echo")
ECHOES = NoPushes()


@router.websocket("/ws/echo")
async def echo_socket(websocket: WebSocket) -> None:
    """Accept and authenticate, serve frames, then store the transcript (whoever closed).

    The socket runs on the gateway like the chat dialects (frame limit, bounded queue, closed
    by a logout on any node) but is no chat session: like Socket.IO's ``/echo``, it does not
    count for presence.
    """
    chat: Chat = websocket.app.state.chat
    gateway: Gateway = websocket.app.state.gateway
    actor = await accept_and_authenticate(websocket, chat)
    if actor is None:
        return
    try:
        session = await chat.echo.open(actor)  # one of the user's sockets, with the chat ones
    except ChatError as exc:  # rate_limited: 4429, as the chat dialects refuse a socket too many
        await gateway.refuse(websocket, exc)
        return
    try:
        codec = EchoCodec(gateway, session)
        await gateway.serve(websocket, actor, ECHOES, codec.on_frame, no_welcome, "/compat/echo/ws/echo")
    finally:
        await chat.echo.close(session)


async def accept_and_authenticate(websocket: WebSocket, chat: Chat) -> Actor | None:
    """Accept; the user of ``?token=``, or None once the socket is closed with 4401."""
    await websocket.accept()
    try:
        return await chat.users.authenticate(websocket.query_params.get("token"))
    except ChatError as exc:
        await close(websocket, exc)
        return None


class EchoCodec(FrameCodec):
    """One echo socket's codec (``server.edge.realtime.dispatch``): a text frame comes back
    (through the upstream, if any); a binary one ends the socket (1003)."""

    name = "compat.echo"

    def __init__(self, gateway: Gateway, session: EchoSession) -> None:
        super().__init__(gateway)
        self.session = session
        self.active = None  # the echo channel holds no presence: its frames are no one's activity

    def parse(self, text: str | None) -> tuple[str, str]:
        if text is None:
            raise ChatError(ErrorCode.INVALID, "binary frames are not echoed; send text")
        return "echo", text

    def invoke(self, _socket: GatewaySocket, _action: str | None, text: Any) -> Any:
        return self.session.echo(text)

    def ok(self, socket: GatewaySocket, _action: str | None, answer: Any) -> None:
        socket.send(wire.echo_frame(answer))

    def err(self, socket: GatewaySocket, action: str | None, error: ChatError) -> None:
        if action is None:  # a frame that is not one (binary): the socket ends
            socket.close(*wire.close(error))
        else:  # the socket stays open
            socket.send(wire.frame_error(error))


async def close(websocket: WebSocket, error: ChatError) -> None:
    code, reason = wire.close(error)
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.close(code, reason)
