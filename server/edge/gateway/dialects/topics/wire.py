"""The topics dialect's wire shapes (PROTOCOL.md 7.1): ``{"action", "ok", "data" | "error"}``."""

from __future__ import annotations

from typing import Any

from server.chat.kernel import events as ev
from server.chat.kernel.errors import ChatError
from server.chat.kernel.schemas import MessageOut
from server.edge.errors import error_body
from server.edge.gateway.wire import frame
from server.edge.shapes import to_json


def reply(action: str, data: Any) -> str:
    return frame({"action": action, "ok": True, "data": None if data is None else to_json(data)})


def error(action: str | None, failure: ChatError) -> str:
    return frame({"action": action, "ok": False, "error": error_body(failure)})


def push(event: ev.Event) -> str | None:
    """A message (``topic_name`` is the other user's name for a direct one) or an invitation."""
    match event:
        case ev.MessageCreated(message=message):
            return frame(message_shape(message))
        case ev.TopicInvited(topic=topic, by=by):
            return frame({"action": "invited", "topic_name": topic.name, "by": by})
    return None


def message_shape(message: MessageOut) -> dict[str, Any]:
    return {
        "action": "message",
        "topic_name": message.topic.removeprefix("@"),
        "username": message.sender,
        "content": message.body,
        "id": message.id,
        "seq": message.seq,
        "created_at": message.created_at,
    }
