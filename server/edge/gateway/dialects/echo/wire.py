"""The echo chat dialect's wire shapes (PROTOCOL.md 7.3), HTTP, echo socket and public channel.

The original service was a FastAPI app: an HTTP error is ``{"detail": "<text>"}``. A taken name is
400 (the original's answer), a request that fails validation 422, a missing or bad token 401 with
``WWW-Authenticate: Bearer``; every other code keeps its status in ``HTTP_STATUS``. On the echo
WebSocket an error the socket survives is a frame ``{"error": {"code", "message"}}``; one it does
not survive is a close code with the error code as the reason. The public channel's messages are
``{"username", "content", "created_at"}``.
"""

from __future__ import annotations

from typing import Any

import orjson

from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.schemas import MessageOut
from server.edge.errors import HTTP_STATUS, error_body, http_headers
from server.edge.gateway.wire import FAILED, TOO_LARGE, frame
from server.edge.validation import BODY, Spelling

STATUS: dict[ErrorCode, int] = {**HTTP_STATUS, ErrorCode.CONFLICT: 400}
CLOSE_CODES: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 4401,
    ErrorCode.TOKEN_EXPIRED: 4401,
    ErrorCode.TOKEN_REVOKED: 4401,
    ErrorCode.TOO_LARGE: TOO_LARGE,
    ErrorCode.INVALID: 1003,  # "unsupported data": a binary frame
}
# FastAPI's validation errors as the original service worded them (its own 422 ``detail``).
ECHO = Spelling(
    whole=BODY.whole, not_json=BODY.not_json, drop=BODY.drop, not_object="the body must be a JSON object"
)


def detail(message: str) -> dict[str, Any]:
    """The body of every echo-dialect HTTP error."""
    return {"detail": message}


def http_error(error: ChatError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers (``Retry-After``, ``WWW-Authenticate``) of an echo-dialect error."""
    status = STATUS[error.code]
    headers = http_headers(error)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return status, detail(error.message), headers


def frame_error(error: ChatError) -> str:
    """The text frame of an error the echo sockets survive (rate limit, upstream failure)."""
    return frame({"error": error_body(error)})


def echo_frame(answer: Any) -> str:
    """The text frame of an echo answer: a text as is, anything else an upstream sent as JSON."""
    return answer if isinstance(answer, str) else orjson.dumps(answer).decode()


def close(error: ChatError) -> tuple[int, str]:
    """The close code and reason for an error that ends the echo socket (1011 when unforeseen)."""
    return CLOSE_CODES.get(error.code, FAILED), error.code.value


def public_message(message: MessageOut) -> str:
    return frame({"username": message.sender, "content": message.body, "created_at": message.created_at})
