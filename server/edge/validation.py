"""How a validation error is worded: the one formatter of ``invalid``, for every transport and the CLI.

- ``invalid(errors, spelling)``: ``invalid`` naming the first offending field. The dialects word
  the same rule differently (``payload`` or ``body``, FastAPI's location prefixes, the
  messenger's ``CamelCase``), so each passes its ``Spelling``.
- ``reason(error)``: the human text of one error, as the command line prints it too.

Apart from ``server.edge.errors`` (which must know FastAPI's ``RequestValidationError`` to
classify it) so that ``parley``'s commands word a bad argument without importing FastAPI and
Starlette: a third of a second of every command's start. It reads pydantic's (and FastAPI's)
error dicts; it imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.chat.kernel.errors import ChatError, ErrorCode

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
