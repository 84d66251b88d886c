"""The echo chat's public channel (PROTOCOL.md 7.3): ``/compat/echo/ws/pub?token=<JWT>``.

Connecting subscribes the user to the public topic (``PARLEY_PUBLIC_TOPIC``)
and sends its newest messages (at most ``WELCOME``, deleted ones left out),
oldest first; then every message of the topic, from any transport, arrives as
``{"username", "content", "created_at"}``, and each text frame the client
sends is a message to the topic. A bad frame gets ``{"error"}``; the socket
stays open.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, WebSocket

from server.chat import events as ev
from server.chat.errors import ChatError, ErrorCode
from server.chat.schemas import MessageOut, SendIn, Target
from server.chat.users import Actor
from server.edge import wire
from server.edge.gateway.serve import Gateway
from server.edge.gateway.sockets import GatewaySocket, Push
from server.edge.routes import failure

router = APIRouter(prefix="/compat/echo")
LABEL = "/compat/echo/ws/pub"
WELCOME = 1000
PAGE = 200


class PublicDialect:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.name = gateway.settings.public_topic

    def render(self, event: ev.Event) -> Push | None:
        if isinstance(event, ev.MessageCreated) and event.message.kind == "public":
            return Push(wire.public_message(event.message))  # the socket follows only the channel
        return None

    def render_message(self, message: MessageOut) -> Push | None:
        return None if message.deleted else Push(wire.public_message(message))

    async def on_frame(self, socket: GatewaySocket, text: str | None) -> None:
        started = time.perf_counter()
        try:
            if text is None:
                raise ChatError(ErrorCode.INVALID, "send text frames")
            if not socket.bucket.take():
                raise ChatError(ErrorCode.RATE_LIMITED, "too many frames; slow down")
            data = SendIn.model_validate({"topic": self.name, "body": text})
            await self.gateway.chat.messages.send(socket.actor, data.target, data.body)
            outcome = "ok"
        except Exception as exc:
            error = failure(exc, "pub:message")
            socket.send(wire.echo_frame_error(error))
            outcome = error.code.value
        self.gateway.record("compat.pub:message", outcome, started)

    async def history(self, actor: Actor) -> list[MessageOut]:
        """The channel's newest ``WELCOME`` messages, oldest first (tombstones dropped when written)."""
        chat = self.gateway.chat
        pages: list[list[MessageOut]] = []
        before: int | None = None
        for _ in range(WELCOME // PAGE):
            page = await chat.messages.history(actor, Target(topic=self.name), before, PAGE)
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
        topic = await gateway.chat.directory.named_topic(dialect.name)
        await gateway.chat.topics.join(session.actor.id, [topic.name])
    except Exception as exc:
        await gateway.abandon(ws, session, failure(exc, "pub:connect"))
        return

    async def welcome() -> list[MessageOut]:
        return await dialect.history(session.actor)

    await gateway.serve(ws, session, dialect, dialect.on_frame, welcome, LABEL, follows=[topic.topic_id])
