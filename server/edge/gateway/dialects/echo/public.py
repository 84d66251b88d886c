"""The echo chat's public channel (PROTOCOL.md 7.3): ``/compat/echo/ws/pub?token=<JWT>``.

Connecting subscribes the user to the public topic (``PARLEY_PUBLIC_TOPIC``)
and sends its newest messages (at most ``WELCOME``, deleted ones left out),
oldest first; then every message of the topic, from any transport, arrives as
``{"username", "content", "created_at"}``, and each text frame the client
sends is a message to the topic. A bad frame gets ``{"error"}``; the socket
stays open.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, WebSocket

from server.chat.conversations.schemas import SendIn
from server.chat.kernel import events as ev
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.schemas import MessageOut, Target
from server.edge.errors import classify
from server.edge.gateway.codec import FrameCodec
from server.edge.gateway.dialects.echo import wire
from server.edge.gateway.serve import Gateway
from server.edge.gateway.sockets import GatewaySocket, Push

router = APIRouter(prefix="/compat/echo")
LABEL = "/compat/echo/ws/pub"
WELCOME = 1000
PAGE = 200


class PublicDialect(FrameCodec):
    def __init__(self, gateway: Gateway) -> None:
        super().__init__(gateway)
        self.topic = gateway.settings.public_topic

    def render(self, event: ev.Event) -> Push | None:
        if isinstance(event, ev.MessageCreated) and event.message.kind == "public":
            return Push(wire.public_message(event.message))  # the socket follows only the channel
        return None

    def render_message(self, message: MessageOut) -> Push | None:
        return None if message.deleted else Push(wire.public_message(message))

    # The codec (``server.edge.realtime.dispatch``): each text frame is a message; only errors are answered.

    def parse(self, text: str | None) -> tuple[str, str]:
        if text is None:
            raise ChatError(ErrorCode.INVALID, "send text frames")
        return "message", text

    async def invoke(self, socket: GatewaySocket, _action: str | None, text: Any) -> None:
        data = SendIn.model_validate({"topic": self.topic, "body": text})
        await self.gateway.chat.messages.send(socket.actor, data.target, data.body)

    def err(self, socket: GatewaySocket, _action: str | None, error: ChatError) -> None:
        socket.send(wire.frame_error(error))

    def label(self, _action: str | None) -> str:
        return "compat.pub:message"

    async def history(self, actor: Actor) -> list[MessageOut]:
        """The channel's newest ``WELCOME`` messages, oldest first (tombstones dropped when written)."""
        chat = self.gateway.chat
        pages: list[list[MessageOut]] = []
        before: int | None = None
        for _ in range(WELCOME // PAGE):
            page = await chat.messages.history(actor, Target(topic=self.topic), before, PAGE)
            pages.append(page.messages)
            if not page.has_more or not page.messages:
                break
            before = page.messages[0].seq
        return [message for page in reversed(pages) for message in page]


@router.websocket("/ws/pub")
async def public_socket(ws: WebSocket, token: str | None = None) -> None:
    gateway: Gateway = ws.app.state.gateway
    dialect = gateway.dialect(PublicDialect)
    session = await gateway.open(ws, token)
    if session is None:
        return
    try:
        topic = await gateway.chat.directory.named_topic(dialect.topic)
        await gateway.chat.topics.join(session.actor.id, [topic.name])
    except Exception as exc:
        await gateway.abandon(ws, session, classify(exc, event="compat.pub:connect"))
        return

    async def welcome() -> list[MessageOut]:
        return await dialect.history(session.actor)

    await gateway.serve(ws, session, dialect, dialect.on_frame, welcome, LABEL, follows=[topic.topic_id])
