"""The chat-rooms dialect's wire shapes (PROTOCOL.md 7.4): ``{"statusCode", "type", "data"}``."""

from __future__ import annotations

from typing import Any

from server.chat.kernel import events as ev
from server.chat.kernel.errors import ChatError
from server.chat.kernel.schemas import MessageOut
from server.edge.errors import error_body
from server.edge.gateway.wire import frame

UNAUTHORIZED = 4401  # the close code of a bad hello


def answer(kind: str | None, data: Any) -> str:
    return frame({"statusCode": "ok", "type": kind, "data": data})


def error(action: str | None, failure: ChatError) -> str:
    return frame({"statusCode": "error", "type": action, "data": error_body(failure)})


def message_shape(message: MessageOut) -> dict[str, Any]:
    return {
        "roomName": message.topic,
        "username": message.sender,
        "message": message.body,
        "id": message.id,
        "created_at": message.created_at,
    }


def push(event: ev.Event) -> str | None:
    """A room's message, or someone coming into or leaving it."""
    match event:
        case ev.MessageCreated(message=message) if message.kind != "direct":
            return answer("message", message_shape(message))
        case ev.RoomEntered(topic=topic, username=username, entered=entered):
            return answer(
                "user_joined" if entered else "user_left", {"roomName": topic, "username": username}
            )
    return None
