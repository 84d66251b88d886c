"""Wire shapes of domain results, errors and events, for every transport (not yet every error site).

- ack envelopes for Socket.IO: ``{"ok": true, "data": ...}`` /
  ``{"ok": false, "error": {"code", "message"}}``
- HTTP: a status per error code and the body ``{"error": {"code", "message"}}``
- server-to-client events: the event name and payload for each domain event
- the compatibility gateways (PROTOCOL.md 7): each dialect's answers, errors, pushes and close codes
  (topics ``{"action", "ok"}``; messenger ``{"Message", "Data"}``; echo ``{"detail"}`` over HTTP and
  ``{"error"}`` frames; rooms ``{"statusCode", "type", "data"}``)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, ValidationError

from server.chat import events as ev
from server.chat.echo import PAGE
from server.chat.errors import ChatError, ErrorCode
from server.chat.schemas import MAX_STORED_INT, ConversationOut, MessageOut, ProfileOut

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID: 422,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.TOKEN_REVOKED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.INTERNAL: 500,
}


def error_body(error: ChatError) -> dict[str, Any]:
    return {"code": error.code.value, "message": error.message}


def http_error(error: ChatError) -> tuple[int, dict[str, Any]]:
    return HTTP_STATUS[error.code], {"error": error_body(error)}


def http_headers(error: ChatError) -> dict[str, str]:
    """Headers an HTTP error answer carries: ``Retry-After`` (whole seconds) when the error says when."""
    if error.retry_after is None:
        return {}
    return {"Retry-After": str(max(1, math.ceil(error.retry_after)))}


def ack_ok(data: Any) -> dict[str, Any]:
    return {"ok": True, "data": to_json(data)}


def ack_error(error: ChatError) -> dict[str, Any]:
    return {"ok": False, "error": error_body(error)}


def to_json(data: Any) -> Any:
    if isinstance(data, MessageOut):
        return data.wire
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if data is None:
        return {}
    return data


# pydantic prefixes the text of a ``ValueError`` raised in a validator with this; clients get the
# reason alone.
VALUE_ERROR_PREFIX = "Value error, "


def reason(error: Mapping[str, Any]) -> str:
    """The human text of one pydantic (or FastAPI) error, without pydantic's "Value error, " prefix.

    Every place that turns a validation error into a message goes through here (the transports'
    formatters below and the command line), so no client or operator ever sees the prefix.
    """
    message = str(error.get("msg") or "invalid")
    return message.removeprefix(VALUE_ERROR_PREFIX)


def validation_error(exc: ValidationError) -> ChatError:
    """``invalid`` naming the first offending field."""
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "payload"
    message = reason(first)
    if first["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return ChatError(ErrorCode.INVALID, "the payload must be a JSON object")
    return ChatError(ErrorCode.INVALID, f"{field}: {message}")


def internal(correlation_id: str) -> ChatError:
    return ChatError(ErrorCode.INTERNAL, f"internal error (reference {correlation_id})")


def server_event(event: ev.Event) -> tuple[str, dict[str, Any]] | None:
    """The Socket.IO event name and payload for a domain event (None: not sent).

    The payload is one object, never a string, and keep it so: the stock JS client records the
    last argument of *any* event as its recovery offset when that argument is a string, so only
    ``sink.with_offset`` may end an event with one.
    """
    match event:
        case ev.MessageCreated(message=message):
            return "message", message.wire
        case ev.MessageEdited(message=message):
            return "message:edited", message.wire
        case ev.MessageDeleted(id=message_id, topic=topic):
            return "message:deleted", {"id": message_id, "topic": topic}
        case ev.TopicInvited(topic=topic, by=by):
            return "topic:invited", {"topic": topic.model_dump(mode="json"), "by": by}
        case ev.TopicCreated(topic=topic, by=by):
            return "topic:created", {"topic": topic.model_dump(mode="json"), "by": by}
        case ev.Typing(topic=topic, username=username, typing=typing):
            return "typing", {"topic": topic, "username": username, "typing": typing}
        case ev.ReadMarked(topic=topic, username=username, seq=seq):
            return "read", {"topic": topic, "username": username, "seq": seq}
        case ev.PresenceChanged(username=username, online=online, last_seen=last_seen):
            return "presence", {"username": username, "online": online, "last_seen": last_seen}
        case ev.TopicRenamed(old_name=old_name, name=name):
            return "topic:renamed", {"topic": old_name, "name": name}
        case ev.TopicDeleted(name=name):
            return "topic:deleted", {"topic": name}
    return None


def now_iso() -> str:
    """The server time as ISO 8601 UTC with a ``Z``."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


# Compatibility gateways (PROTOCOL.md section 7) ------------------------------------------

GATEWAY_CLOSE: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 4401,
    ErrorCode.TOKEN_EXPIRED: 4401,
    ErrorCode.TOKEN_REVOKED: 4401,
    ErrorCode.RATE_LIMITED: 4429,
    ErrorCode.INTERNAL: 1011,
}


def gateway_close_code(error: ChatError) -> int:
    """The WebSocket close code for a client a gateway does not let in (its reason: the error code)."""
    return GATEWAY_CLOSE.get(error.code, 4400)


def frame(value: Any) -> str:
    """One JSON text frame."""
    return orjson.dumps(value).decode()


# Topics dialect (PROTOCOL.md 7.1)


def topics_reply(action: str, data: Any) -> str:
    return frame({"action": action, "ok": True, "data": None if data is None else to_json(data)})


def topics_error(action: str | None, error: ChatError) -> str:
    return frame({"action": action, "ok": False, "error": error_body(error)})


def topics_push(event: ev.Event) -> str | None:
    """A message (``topic_name`` is the other user's name for a direct one) or an invitation."""
    match event:
        case ev.MessageCreated(message=message):
            return frame(topics_message(message))
        case ev.TopicInvited(topic=topic, by=by):
            return frame({"action": "invited", "topic_name": topic.name, "by": by})
    return None


def topics_message(message: MessageOut) -> dict[str, Any]:
    return {
        "action": "message",
        "topic_name": message.topic.removeprefix("@"),
        "username": message.sender,
        "content": message.body,
        "id": message.id,
        "seq": message.seq,
        "created_at": message.created_at,
    }


# Echo chat's public channel (PROTOCOL.md 7.3)


def public_message(message: MessageOut) -> str:
    return frame({"username": message.sender, "content": message.body, "created_at": message.created_at})


# Chat rooms dialect (PROTOCOL.md 7.4)


def rooms_frame(kind: str | None, data: Any) -> str:
    return frame({"statusCode": "ok", "type": kind, "data": data})


def rooms_error(action: str | None, error: ChatError) -> str:
    return frame({"statusCode": "error", "type": action, "data": error_body(error)})


def rooms_message(message: MessageOut) -> dict[str, Any]:
    return {
        "roomName": message.topic,
        "username": message.sender,
        "message": message.body,
        "id": message.id,
        "created_at": message.created_at,
    }


def rooms_push(event: ev.Event) -> str | None:
    """A room's message, or someone coming into or leaving it."""
    match event:
        case ev.MessageCreated(message=message) if message.kind != "direct":
            return rooms_frame("message", rooms_message(message))
        case ev.RoomEntered(topic=topic, username=username, entered=entered):
            return rooms_frame(
                "user_joined" if entered else "user_left", {"roomName": topic, "username": username}
            )
    return None


# Messenger dialect (PROTOCOL.md 7.2) ---------------------------------------------------------------
# Every answer is {"Message": text, "Data": data or null}; an error is the fitting HTTP status with
# the error's message and null data. The models below render the Data objects and document them.

T = TypeVar("T")


class MessengerAnswer(BaseModel, Generic[T]):
    """The messenger's envelope: ``Message`` says what happened, ``Data`` carries the result."""

    Message: str
    Data: T


class MessengerMessage(BaseModel):
    MessageId: int
    ConversationId: int
    Sender: str
    Message: str
    Created: str
    Edited: str | None


class MessengerConversation(BaseModel):
    ConversationId: int
    Recipient: str
    LastMessage: MessengerMessage | None


class MessengerProfile(BaseModel):
    Username: str
    LoggedOn: bool
    LastOnline: str | None
    Created: str


def messenger_answer(text: str, data: Any = None) -> dict[str, Any]:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [item.model_dump(mode="json") if isinstance(item, BaseModel) else item for item in data]
    return {"Message": text, "Data": data}


def messenger_error(error: ChatError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers (``Retry-After`` when the error says when) of a messenger error."""
    return HTTP_STATUS[error.code], messenger_answer(error.message), http_headers(error)


def messenger_message(message: MessageOut, conversation_id: int) -> MessengerMessage:
    return MessengerMessage(
        MessageId=message.id,
        ConversationId=conversation_id,
        Sender=message.sender,
        Message=message.body,
        Created=message.created_at,
        Edited=message.edited_at,
    )


def messenger_conversation(conversation: ConversationOut) -> MessengerConversation:
    last = conversation.last_message
    return MessengerConversation(
        ConversationId=conversation.id,
        Recipient=conversation.peer,
        LastMessage=messenger_message(last, conversation.id) if last is not None else None,
    )


def messenger_profile(profile: ProfileOut) -> MessengerProfile:
    """Presence the viewer may not see (``online`` null) is ``LoggedOn`` false, ``LastOnline`` null."""
    return MessengerProfile(
        Username=profile.username,
        LoggedOn=profile.online is True,
        LastOnline=profile.last_seen,
        Created=profile.created_at,
    )


def messenger_name(field: str) -> str:
    """A field as the messenger spells it: ``conversation_id`` -> ``ConversationId``."""
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))


def messenger_invalid(exc: ValidationError) -> ChatError:
    """``invalid`` naming the first offending field as the messenger spells it."""
    return messenger_invalid_fields(exc.errors(include_url=False))


def messenger_invalid_fields(errors: Sequence[Mapping[str, Any]], skip: int = 0) -> ChatError:
    """``invalid`` from pydantic-style errors; ``skip`` leading parts of the location (FastAPI's
    ``("path", name)``)."""
    first = errors[0] if errors else {}
    loc = [messenger_name(str(part)) for part in first.get("loc", ())[skip:]]
    return ChatError(ErrorCode.INVALID, f"{'.'.join(loc) or 'body'}: {reason(first)}")


MESSENGER_PUSHES = {
    ev.MessageCreated: "New Message",
    ev.MessageEdited: "Message Edited",
    ev.MessageDeleted: "Message Deleted",
}


def messenger_push(event: ev.Event) -> str | None:
    """What the messenger's WebSocket shows of an event: direct conversations only.

    A typing frame is the one the typer's client sent (``User`` the typer, ``ConvId``).
    """
    match event:
        case (
            ev.MessageCreated(message=message, topic_id=conversation)
            | ev.MessageEdited(message=message, topic_id=conversation)
            | ev.MessageDeleted(message=MessageOut() as message, topic_id=conversation)
        ) if message.kind == "direct":
            data = messenger_message(message, conversation)
            return frame(messenger_answer(MESSENGER_PUSHES[type(event)], data))
        case ev.Typing(topic=topic, username=username, typing=True, topic_id=conversation) if (
            topic.startswith("@")
        ):
            return frame({"User": username, "Message": "Typing", "ConvId": conversation})
    return None


# Echo dialect (PROTOCOL.md 7.3) ---------------------------------------------------------------------
# The original service was a FastAPI app: an HTTP error is ``{"detail": "<text>"}``. A taken name is
# 400 (the original's answer), a request that fails validation 422, a missing or bad token 401 with
# ``WWW-Authenticate: Bearer``; every other code keeps its status above. On the echo WebSocket an
# error the socket survives is a frame ``{"error": {"code", "message"}}``; one it does not survive is
# a close code with the error code as the reason.

ECHO_HTTP_STATUS: dict[ErrorCode, int] = {**HTTP_STATUS, ErrorCode.CONFLICT: 400}
ECHO_CLOSE_CODES: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 4401,
    ErrorCode.TOKEN_EXPIRED: 4401,
    ErrorCode.TOKEN_REVOKED: 4401,
    ErrorCode.TOO_LARGE: 1009,  # "message too big"
    ErrorCode.INVALID: 1003,  # "unsupported data": a binary frame
}


def echo_detail(message: str) -> dict[str, Any]:
    """The body of every echo-dialect HTTP error."""
    return {"detail": message}


def echo_http_error(error: ChatError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers (``Retry-After``, ``WWW-Authenticate``) of an echo-dialect error."""
    status = ECHO_HTTP_STATUS[error.code]
    headers = http_headers(error)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return status, echo_detail(error.message), headers


def echo_request_invalid(errors: Sequence[Mapping[str, Any]]) -> ChatError:
    """``invalid`` naming the first field FastAPI refused (``username: ...``), or the unreadable body."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return ChatError(ErrorCode.INVALID, "the body is not valid JSON")
    if first.get("type") in ("model_attributes_type", "dict_type", "model_type"):
        return ChatError(ErrorCode.INVALID, "the body must be a JSON object")
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    return ChatError(ErrorCode.INVALID, f"{'.'.join(loc) or 'body'}: {reason(first)}")


def echo_frame_error(error: ChatError) -> str:
    """The text frame of an error the echo socket survives (rate limit, upstream failure)."""
    return frame({"error": error_body(error)})


def echo_frame(answer: Any) -> str:
    """The text frame of an echo answer: a text as is, anything else an upstream sent as JSON."""
    return answer if isinstance(answer, str) else orjson.dumps(answer).decode()


def echo_close(error: ChatError) -> tuple[int, str]:
    """The close code and reason for an error that ends the echo socket (1011 when unforeseen)."""
    return ECHO_CLOSE_CODES.get(error.code, 1011), error.code.value


# The echo history's paging (PROTOCOL.md section 5), for REST and the echo dialect alike: newest
# first, at most PAGE (20) a page, ``before`` the oldest id of the previous page.
HistoryBefore = Annotated[
    int | None, Query(ge=1, le=MAX_STORED_INT, description="the oldest id of the previous page")
]
HistoryLimit = Annotated[int, Query(ge=1, le=PAGE, description="transcripts a page, at most 20")]
