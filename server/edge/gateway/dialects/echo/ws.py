"""The echo chat's echo WebSocket (PROTOCOL.md 7.3): ``/compat/echo/ws/echo?token=<JWT>``.

Every text frame comes back (through ``PARLEY_ECHO_UPSTREAM`` when set) and the
transcript is stored when the socket closes, whoever closes it. Errors the
socket survives (rate limit, a failing upstream) are ``{"error"}`` frames; a
bad token closes with 4401, a binary frame with 1003, a frame over the limit
with 1009, a socket past the user's socket limit (shared with every namespace
and dialect, PROTOCOL.md section 2) with 4429.
"""

from __future__ import annotations

import contextlib
from functools import partial

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from server.chat.echo import EchoSession
from server.chat.errors import ChatError, ErrorCode
from server.chat.service import Chat
from server.chat.users import Actor
from server.edge import wire
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
        session = chat.echo.open(actor)  # one of the user's sockets, with the chat ones
    except ChatError as exc:  # rate_limited: 4429, as the chat dialects refuse a socket too many
        await gateway.refuse(websocket, exc)
        return
    try:
        on_frame = partial(answer_frame, session)
        await gateway.serve(websocket, actor, ECHOES, on_frame, no_welcome, "/compat/echo/ws/echo")
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


async def answer_frame(session: EchoSession, socket: GatewaySocket, text: str | None) -> None:
    """Echo a text frame (through the upstream, if any); a binary one ends the socket (1003)."""
    if text is None:
        refused = ChatError(ErrorCode.INVALID, "binary frames are not echoed; send text")
        socket.close(*wire.echo_close(refused))
    elif not socket.bucket.take():
        socket.send(wire.echo_frame_error(ChatError(ErrorCode.RATE_LIMITED, "too many frames; slow down")))
    else:
        socket.send(await answer(session, text))


async def answer(session: EchoSession, text: str) -> str:
    try:
        return wire.echo_frame(await session.echo(text))
    except ChatError as exc:  # the upstream failed: said, and the socket stays open
        return wire.echo_frame_error(exc)


async def close(websocket: WebSocket, error: ChatError) -> None:
    code, reason = wire.echo_close(error)
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.close(code, reason)
