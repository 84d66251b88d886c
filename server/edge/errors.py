"""The one error map of the edge: whatever a call raised becomes a ``ChatError`` here.

- ``classify(exc)``: a ``ChatError`` as it is; a validation error (pydantic's, or FastAPI's
  for a request) as ``invalid`` naming the first offending field; anything else as
  ``internal`` with a reference id, minted here and nowhere else, that is sent to the client
  and logged (ERROR, with the traceback) in the same line.
- ``invalid(errors, spelling)``: the one validation formatter. The dialects word the same
  rule differently (``payload`` or ``body``, FastAPI's location prefixes, the messenger's
  ``CamelCase``), so each passes its ``Spelling``.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from server.chat.errors import ChatError, ErrorCode

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
    reference = uuid.uuid4().hex[:12]
    log.error(failed, exc_info=exc, extra={**context, "reference": reference})
    return internal(reference)


# Validation errors ----------------------------------------------------------------------------

# pydantic prefixes the text of a ``ValueError`` raised in a validator with this; clients get the
# reason alone.
VALUE_ERROR_PREFIX = "Value error, "
NOT_AN_OBJECT = frozenset({"model_type", "model_attributes_type", "dict_type"})
REQUEST_PARTS = frozenset({"body", "query", "path", "header"})  # FastAPI's location prefixes


def reason(error: Mapping[str, Any]) -> str:
    """The human text of one pydantic (or FastAPI) error, without pydantic's "Value error, " prefix.

    Every place that turns a validation error into a message goes through here (``invalid``
    and the command line), so no client or operator ever sees the prefix.
    """
    message = str(error.get("msg") or "invalid")
    return message.removeprefix(VALUE_ERROR_PREFIX)


@dataclass(frozen=True)
class Spelling:
    """How a dialect words ``invalid``: ``<field>: <reason>``, the field as it names it."""

    whole: str = "payload"  # the field of an error without a location
    not_object: str | None = None  # the text when the whole is not a JSON object (None: the rule above)
    not_json: str | None = None  # the text for an unreadable JSON body (None: the rule above)
    drop: frozenset[str] = frozenset()  # location parts that are not fields
    skip: int = 0  # leading location parts that are not fields
    name: Callable[[str], str] = str  # a field as the dialect spells it
    empty: str = "invalid"  # the reason when there is no error to name


PAYLOAD = Spelling(not_object="the payload must be a JSON object")  # Socket.IO and the WebSocket dialects
BODY = Spelling(whole="body", not_json="the body is not valid JSON", drop=REQUEST_PARTS)  # a request


def invalid(errors: Sequence[Mapping[str, Any]], spelling: Spelling = PAYLOAD) -> ChatError:
    """``invalid`` naming the first offending field, as ``spelling`` says."""
    first: Mapping[str, Any] = errors[0] if errors else {"msg": spelling.empty}
    kind = first.get("type")
    if kind == "json_invalid" and spelling.not_json is not None:
        return ChatError(ErrorCode.INVALID, spelling.not_json)
    if kind in NOT_AN_OBJECT and spelling.not_object is not None:
        return ChatError(ErrorCode.INVALID, spelling.not_object)
    parts = [str(part) for part in tuple(first.get("loc", ()))[spelling.skip :]]
    loc = [spelling.name(part) for part in parts if part not in spelling.drop]
    return ChatError(ErrorCode.INVALID, f"{'.'.join(loc) or spelling.whole}: {reason(first)}")
