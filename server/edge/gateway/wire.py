"""What every gateway dialect shares on the wire: JSON text frames and the close codes.

The dialect-specific answers, errors and pushes are in each dialect's ``wire.py``.
"""

from __future__ import annotations

from typing import Any

import orjson

from server.chat.kernel.errors import ChatError, ErrorCode

NORMAL = 1000
TIMED_OUT = 1008  # "policy violation": the client did not say who it is in time
TOO_LARGE = 1009  # "message too big": a frame over the transport limit
FAILED = 1011  # "internal error": the reason carries the reference in the server log

REFUSAL: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 4401,
    ErrorCode.TOKEN_EXPIRED: 4401,
    ErrorCode.TOKEN_REVOKED: 4401,
    ErrorCode.RATE_LIMITED: 4429,
    ErrorCode.INTERNAL: FAILED,
}


REASON = {TIMED_OUT: "timeout", TOO_LARGE: ErrorCode.TOO_LARGE.value}


def closing(code: int) -> tuple[int, str]:
    """A close the gateway decides by itself (``TIMED_OUT``, ``TOO_LARGE``), with its reason."""
    return code, REASON[code]


def refusal_code(error: ChatError) -> int:
    """The close code for a client a gateway does not let in (its reason: the error code)."""
    return REFUSAL.get(error.code, 4400)


def failed(error: ChatError) -> tuple[int, str]:
    """The close code and reason of a socket ended by an unexpected error (``internal``, its reference)."""
    return FAILED, error.message


def frame(value: Any) -> str:
    """One JSON text frame."""
    return orjson.dumps(value).decode()
