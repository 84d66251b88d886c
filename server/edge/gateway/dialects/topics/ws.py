"""The topics service's dialect (PROTOCOL.md 7.1): ``wscat -c ws://HOST/compat/topics/<JWT>``.

Client frames are JSON objects with an ``action``; the actions are routes of
the shared table (``server.edge.routes``: ``suscribe``/``subscribe``, ``create``,
``invite``, ``message``), validated by the same models and answered
``{"action", "ok", "data" | "error"}``. After ``connected`` the user's backlog
is pushed, and a message counts as delivered once written to this socket.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, WebSocket

from server.chat.kernel import events as ev
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.schemas import MessageOut, Target
from server.edge.gateway.codec import FrameCodec
from server.edge.gateway.dialects.topics import wire
from server.edge.gateway.serve import Gateway, json_object
from server.edge.gateway.sockets import GatewaySocket, Push
from server.edge.gateway.wire import NORMAL, frame
from server.edge.routes import chat_routes, invoke

router = APIRouter(prefix="/compat/topics")
ACTIONS = ("suscribe", "subscribe", "create", "invite", "message")
LABEL = "/compat/topics"


class TopicsDialect(FrameCodec):
    name = "compat.topics"

    def __init__(self, gateway: Gateway) -> None:
        super().__init__(gateway)
        routes = chat_routes(gateway.chat)
        self.routes = {action: routes[action] for action in ACTIONS}

    def render(self, event: ev.Event) -> Push | None:
        text = wire.push(event)
        if text is None:
            return None
        return Push(text, event.message if isinstance(event, ev.MessageCreated) else None)

    def render_message(self, message: MessageOut) -> Push | None:
        return Push(frame(wire.message_shape(message)), message)

    async def written(self, actor: Actor, message: MessageOut) -> None:
        """A message written to this socket is delivered (cumulatively, as a client's ``delivered``)."""
        name = message.topic
        target = Target(user=name[1:]) if name.startswith("@") else Target(topic=name)
        await self.gateway.chat.delivery.acknowledge(actor, target, message.seq)

    # The codec (``server.edge.realtime.dispatch``): an action of the route table, or ``disconnect``.

    def parse(self, text: str | None) -> tuple[str, dict[str, Any]]:
        payload = json_object(text, "a frame must be a JSON object with an 'action'")
        return _action(payload), payload

    async def invoke(self, socket: GatewaySocket, action: str | None, payload: Any) -> Any:
        if action == "disconnect":
            return None
        return await invoke(self.routes[str(action)], socket.actor, payload)

    def ok(self, socket: GatewaySocket, action: str | None, result: Any) -> None:
        socket.send(wire.reply(str(action), result))
        if action == "disconnect":
            socket.close(NORMAL, "")

    def err(self, socket: GatewaySocket, action: str | None, error: ChatError) -> None:
        socket.send(wire.error(action, error))


def _action(payload: dict[str, Any]) -> str:
    action = payload.get("action")
    if action == "disconnect" or action in ACTIONS:
        return str(action)
    known = ", ".join((*ACTIONS, "disconnect"))
    raise ChatError(ErrorCode.INVALID, f"unknown action {str(action)[:64]!r}; the actions are {known}")


@router.websocket("/{token}")
async def topics_socket(ws: WebSocket, token: str) -> None:
    gateway: Gateway = ws.app.state.gateway
    dialect = gateway.dialect(TopicsDialect)
    session = await gateway.open(ws, token)
    if session is None:
        return
    hello = wire.reply("connected", {"username": session.actor.username})

    async def backlog() -> list[MessageOut]:
        return await gateway.chat.sessions.backlog(session)

    await gateway.serve(
        ws, session, dialect, dialect.on_frame, backlog, LABEL, written=dialect.written, hello=hello
    )
