"""The topics service's dialect (PROTOCOL.md 7.1): ``wscat -c ws://HOST/compat/topics/<JWT>``.

Client frames are JSON objects with an ``action``; the actions are routes of
the shared table (``server.edge.routes``: ``suscribe``/``subscribe``, ``create``,
``invite``, ``message``), validated by the same models and answered
``{"action", "ok", "data" | "error"}``. After ``connected`` the user's backlog
is pushed, and a message counts as delivered once written to this socket.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, WebSocket

from server.chat import events as ev
from server.chat.errors import ChatError, ErrorCode
from server.chat.schemas import MessageOut, Target
from server.chat.users import Actor
from server.edge import wire
from server.edge.gateway.serve import Gateway, json_object
from server.edge.gateway.sockets import GatewaySocket, Push
from server.edge.routes import chat_routes, failure, invoke

router = APIRouter(prefix="/compat/topics")
ACTIONS = ("suscribe", "subscribe", "create", "invite", "message")
LABEL = "/compat/topics"


class TopicsDialect:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        routes = chat_routes(gateway.chat)
        self.routes = {action: routes[action] for action in ACTIONS}

    def render(self, event: ev.Event) -> Push | None:
        text = wire.topics_push(event)
        if text is None:
            return None
        return Push(text, event.message if isinstance(event, ev.MessageCreated) else None)

    def render_message(self, message: MessageOut) -> Push | None:
        return Push(wire.frame(wire.topics_message(message)), message)

    async def written(self, actor: Actor, message: MessageOut) -> None:
        """A message written to this socket is delivered (cumulatively, as a client's ``delivered``)."""
        name = message.topic
        target = Target(user=name[1:]) if name.startswith("@") else Target(topic=name)
        await self.gateway.chat.delivery.acknowledge(actor, target, message.seq)

    async def on_frame(self, socket: GatewaySocket, text: str | None) -> None:
        started = time.perf_counter()
        action: str | None = None
        try:
            payload = json_object(text, "a frame must be a JSON object with an 'action'")
            action = _action(payload)
            if not socket.bucket.take():
                raise ChatError(ErrorCode.RATE_LIMITED, "too many frames; slow down")
            if action == "disconnect":
                socket.send(wire.topics_reply(action, None))
                socket.close(1000, "")
                outcome = "ok"
            else:
                result = await invoke(self.routes[action], socket.actor, payload)
                socket.send(wire.topics_reply(action, result))
                outcome = "ok"
        except Exception as exc:
            error = failure(exc, f"topics:{action}")
            socket.send(wire.topics_error(action, error))
            outcome = error.code.value
        self.gateway.record(f"compat.topics:{action or 'unknown'}", outcome, started)


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
    hello = wire.topics_reply("connected", {"username": session.actor.username})

    async def backlog() -> list[MessageOut]:
        return await gateway.chat.sessions.backlog(session)

    await gateway.serve(
        ws, session, dialect, dialect.on_frame, backlog, LABEL, written=dialect.written, hello=hello
    )
