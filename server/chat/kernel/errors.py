"""Domain errors, defined once.

Every failure a service reports is a ``ChatError`` carrying an ``ErrorCode``
(PROTOCOL.md section 2) and a human message. It knows nothing of HTTP or
Socket.IO: ``server.edge.errors`` and each transport's ``wire.py`` map it to the wire.

    ChatError(code, message, retry_after=None)
      code: ErrorCode  invalid | unauthorized | token_expired | token_revoked |
                       forbidden | not_found | conflict | rate_limited |
                       too_large | internal
      retry_after:     seconds after which the same request may succeed
                       (``rate_limited`` only; HTTP sends it as ``Retry-After``)
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "invalid"
    UNAUTHORIZED = "unauthorized"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REVOKED = "token_revoked"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    INTERNAL = "internal"


class ChatError(Exception):
    """A refusal a client can act on; never carries a traceback to the wire."""

    def __init__(self, code: ErrorCode, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"ChatError({self.code.value!r}, {self.message!r})"


def invalid(message: str) -> ChatError:
    return ChatError(ErrorCode.INVALID, message)


def forbidden(message: str) -> ChatError:
    return ChatError(ErrorCode.FORBIDDEN, message)


def not_found(message: str) -> ChatError:
    return ChatError(ErrorCode.NOT_FOUND, message)


def conflict(message: str) -> ChatError:
    return ChatError(ErrorCode.CONFLICT, message)


def no_topic(name: str) -> ChatError:
    """The one answer for a missing topic and a hidden one, word for word (names match in any case)."""
    return not_found(f"no topic named {name.lower()!r}")


def no_message(message_id: int) -> ChatError:
    """The one answer for a missing message and one in a topic the actor may not read."""
    return not_found(f"no message with id {message_id}")


def no_conversation(conversation_id: int) -> ChatError:
    """The one answer for a missing conversation id, a topic that is not a direct conversation and a
    direct conversation of others."""
    return not_found(f"no conversation with id {conversation_id}")


CANNOT_MESSAGE = "cannot message this user"


def cannot_message() -> ChatError:
    """The one answer when a block stands between two users (PROTOCOL.md section 10), whoever
    blocked whom."""
    return forbidden(CANNOT_MESSAGE)


def rate_limited(message: str, retry_after: float) -> ChatError:
    return ChatError(ErrorCode.RATE_LIMITED, message, retry_after=retry_after)
