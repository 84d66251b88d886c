"""The messenger's WebSocket (PROTOCOL.md 7.2): ``/compat/messenger/websocket``.

The server says ``{"Message": "Websocket Open"}``; the client's first frame is
its token (raw, or a JSON string), answered ``{"Message": "Websocket
Authenticated"}`` or a close with 4401. From then on the user's direct
conversations are pushed (``New Message``, ``Message Edited``, ``Message
Deleted``, with the message as ``GET /message`` shows it), and a typing frame
``{"User", "Message": "Typing", "ConvId"}`` reaches the other member: as that
frame on the messenger, as ``typing`` on Socket.IO. ``User`` is always the
authenticated user, whatever the frame says.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket

from server.chat.kernel import events as ev
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.schemas import MessageOut, Target
from server.edge.gateway.codec import FrameCodec
from server.edge.gateway.dialects.messenger import wire
from server.edge.gateway.serve import GONE, Gateway, json_object, no_welcome, receive_frame
from server.edge.gateway.sockets import GatewaySocket, Push
from server.edge.gateway.wire import TIMED_OUT, closing, frame

router = APIRouter(prefix="/compat/messenger")
LABEL = "/compat/messenger/websocket"


class MessengerDialect(FrameCodec):
    name = "compat.messenger"

    def render(self, event: ev.Event) -> Push | None:
        text = wire.push(event)
        return None if text is None else Push(text)

    def render_message(self, _message: MessageOut) -> Push | None:
        return None  # no welcome: the messenger reads its conversations over REST

    # The codec (``server.edge.realtime.dispatch``): the one frame is typing; only errors are answered.

    def parse(self, text: str | None) -> tuple[str, dict[str, Any]]:
        fields = {key.lower(): value for key, value in json_object(text).items()}
        if fields.get("message") != "Typing":
            raise ChatError(
                ErrorCode.INVALID, 'the only frame a client sends is {"Message": "Typing", "ConvId"}'
            )
        return "typing", fields

    async def invoke(self, socket: GatewaySocket, _action: str | None, fields: Any) -> None:
        conversation = fields.get("convid")
        if type(conversation) is not int:
            raise ChatError(ErrorCode.INVALID, "ConvId: a conversation id (an integer) is required")
        peer = await self.gateway.chat.conversations.peer(socket.actor, conversation)
        await self.gateway.chat.signals.typing(socket.actor, Target(user=peer), True)

    def err(self, socket: GatewaySocket, _action: str | None, error: ChatError) -> None:
        socket.send(wire.frame_error(error))

    def label(self, _action: str | None) -> str:
        return "compat.messenger:typing"


def _token(frame: str) -> str:
    """The first frame: the token itself, or the token as a JSON string."""
    try:
        value: Any = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return frame.strip()
    return value if isinstance(value, str) else ""


@router.websocket("/websocket")
async def messenger_socket(ws: WebSocket) -> None:
    gateway: Gateway = ws.app.state.gateway
    dialect = gateway.dialect(MessengerDialect)
    await ws.accept()
    try:
        await ws.send_text(frame({"Message": "Websocket Open"}))
        async with asyncio.timeout(gateway.settings.connect_timeout):
            first = await receive_frame(ws, gateway.settings.max_http_buffer_size)
    except TimeoutError:
        await ws.close(*closing(TIMED_OUT))
        return
    except Exception:  # the client went before saying anything
        return
    if isinstance(first, int):
        if first != GONE:
            await ws.close(*closing(first))
        return
    session = await gateway.open(ws, _token(first or ""), accepted=True)
    if session is None:
        return

    hello = frame({"Message": "Websocket Authenticated"})
    await gateway.serve(ws, session, dialect, dialect.on_frame, no_welcome, LABEL, follows=(), hello=hello)
