"""The one mapping from domain results and errors to wire shapes.

- ack envelopes for Socket.IO: ``{"ok": true, "data": ...}`` /
  ``{"ok": false, "error": {"code", "message"}}``
- HTTP: a status per error code and the body ``{"error": {"code", "message"}}``
- server-to-client events: the event name and payload for each domain event
- the echo dialect (PROTOCOL.md 7.3): ``{"detail": "<text>"}`` HTTP errors, ``{"error": ...}``
  frames and close codes for its WebSocket
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from server.chat import events as ev
from server.chat.errors import ChatError, ErrorCode
from server.chat.schemas import MessageOut

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


def validation_error(exc: ValidationError) -> ChatError:
    """``invalid`` naming the first offending field."""
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "payload"
    message = first["msg"]
    if first["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return ChatError(ErrorCode.INVALID, "the payload must be a JSON object")
    return ChatError(ErrorCode.INVALID, f"{field}: {message}")


def internal(correlation_id: str) -> ChatError:
    return ChatError(ErrorCode.INTERNAL, f"internal error (reference {correlation_id})")


def server_event(event: ev.Event) -> tuple[str, dict[str, Any]] | None:
    """The Socket.IO event name and payload for a domain event (None: not sent)."""
    match event:
        case ev.MessageCreated(message=message):
            return "message", message.wire
        case ev.MessageEdited(message=message):
            return "message:edited", message.wire
        case ev.MessageDeleted(id=message_id, topic=topic):
            return "message:deleted", {"id": message_id, "topic": topic}
        case ev.TopicInvited(topic=topic, by=by):
            return "topic:invited", {"topic": topic.model_dump(mode="json"), "by": by}
        case ev.Typing(topic=topic, username=username, typing=typing):
            return "typing", {"topic": topic, "username": username, "typing": typing}
        case ev.ReadMarked(topic=topic, username=username, seq=seq):
            return "read", {"topic": topic, "username": username, "seq": seq}
        case ev.PresenceChanged(username=username, online=online, last_seen=last_seen):
            return "presence", {"username": username, "online": online, "last_seen": last_seen}
    return None


def now_iso() -> str:
    """The server time as ISO 8601 UTC with a ``Z``."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


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
    return ChatError(ErrorCode.INVALID, f"{'.'.join(loc) or 'body'}: {first.get('msg', 'invalid')}")


def echo_frame_error(error: ChatError) -> str:
    """The text frame of an error the echo socket survives (rate limit, upstream failure)."""
    return orjson.dumps({"error": error_body(error)}).decode()


def echo_frame(answer: Any) -> str:
    """The text frame of an echo answer: a text as is, anything else an upstream sent as JSON."""
    return answer if isinstance(answer, str) else orjson.dumps(answer).decode()


def echo_close(error: ChatError) -> tuple[int, str]:
    """The close code and reason for an error that ends the echo socket (1011 when unforeseen)."""
    return ECHO_CLOSE_CODES.get(error.code, 1011), error.code.value
