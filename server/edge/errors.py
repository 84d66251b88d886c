"""The one error map of the edge: whatever a call raised becomes a ``ChatError`` here.

- ``classify(exc)``: a ``ChatError`` as it is; a validation error (pydantic's, or FastAPI's
  for a request) as ``invalid`` naming the first offending field; anything else as
  ``internal`` with a reference id, minted here and nowhere else, that is sent to the client
  and logged (ERROR, with the traceback) in the same line; but the database's outage (a
  restart, dropped connections: ``db.errors.outage_of``) is ``internal`` "the database is
  unavailable", with ``retry_after``, and logged once per failure class for the whole outage
  (``server.chat.kernel.outage``), not a traceback per request.
- ``invalid(errors, spelling)``: the one validation formatter, in ``server.edge.validation``
  (no FastAPI there: the command line words its errors with it too).
- ``HTTP_STATUS``: the code -> HTTP status table of every HTTP dialect (REST, messenger, echo),
  read the other way for errors that arrive as a status (``code_for_status``).

Each transport renders a ``ChatError`` in its own mapper module: ``edge/sio/wire.py`` (acks),
``edge/rest/wire.py`` (HTTP), ``edge/gateway/wire.py`` (close codes) and each dialect's
``wire.py``.
"""

from __future__ import annotations

import logging
import math
import uuid
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.outage import DATABASE
from server.edge.validation import PAYLOAD, Spelling, invalid

log = logging.getLogger("parley.errors")

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
# The table read backwards: the first code of each status (401 is ``unauthorized``).
_CODE_OF_STATUS: dict[int, ErrorCode] = {status: code for code, status in reversed(HTTP_STATUS.items())}


def code_for_status(status: int) -> ErrorCode:
    """The code of an error that arrives as an HTTP status (Starlette's 404, 405, ...)."""
    return _CODE_OF_STATUS.get(status, ErrorCode.INVALID if status < 500 else ErrorCode.INTERNAL)


def http_headers(error: ChatError) -> dict[str, str]:
    """Headers an HTTP error answer carries: ``Retry-After`` (whole seconds) when the error says when."""
    if error.retry_after is None:
        return {}
    return {"Retry-After": str(max(1, math.ceil(error.retry_after)))}


def error_body(error: ChatError) -> dict[str, Any]:
    """``{"code", "message"}``: the error object inside every envelope that has one."""
    return {"code": error.code.value, "message": error.message}


def internal(reference: str) -> ChatError:
    return ChatError(ErrorCode.INTERNAL, f"internal error (reference {reference})")


def unavailable() -> ChatError:
    """The answer while the database is down: a client may send again (with its ``client_id``)."""
    return ChatError(ErrorCode.INTERNAL, "the database is unavailable; try again shortly", retry_after=1.0)


def classify(
    exc: BaseException, failed: str = "event failed", spelling: Spelling | None = None, **context: Any
) -> ChatError:
    """The error to answer for whatever a call raised.

    An unexpected exception is logged at ERROR as ``failed`` with its traceback, ``context``
    and the reference the client gets. ``spelling``: how the transport words ``invalid``.
    """
    if isinstance(exc, ChatError):
        return exc
    if isinstance(exc, ValidationError):
        return invalid(exc.errors(include_url=False), spelling or PAYLOAD)
    if isinstance(exc, RequestValidationError):
        return invalid(exc.errors(), spelling or PAYLOAD)
    if DATABASE.failed(exc, failed):
        return unavailable()
    reference = uuid.uuid4().hex[:12]
    log.error(failed, exc_info=exc, extra={**context, "reference": reference})
    return internal(reference)
