"""The one error map (``server.edge.errors``, its validation texts in ``server.edge.validation``):
how each dialect words ``invalid``, the HTTP status table read both ways, and ``classify``. The
texts are the ones each transport answered before the four formatters became one."""

from __future__ import annotations

import logging
import re

import pytest
from pydantic import BaseModel, ValidationError

from server.chat.kernel.errors import ChatError, ErrorCode
from server.edge.errors import HTTP_STATUS, classify, code_for_status
from server.edge.gateway.dialects.echo.wire import ECHO
from server.edge.gateway.dialects.messenger.wire import MESSENGER, MESSENGER_REQUEST
from server.edge.rest.wire import REST
from server.edge.validation import PAYLOAD, invalid
from tests.edge.sio.logs import captured

SHORT = {"type": "value_error", "loc": ("body", "password"), "msg": "Value error, too short"}


def e(kind: str, loc: tuple[str | int, ...], msg: str = "x") -> list[dict[str, object]]:
    """One pydantic-style error, as a list of errors."""
    return [{"type": kind, "loc": loc, "msg": msg}]


@pytest.mark.parametrize(
    ("errors", "spelling", "text"),
    [
        (e("string_type", ("body",), "not text"), PAYLOAD, "body: not text"),
        (e("missing", (), "required"), PAYLOAD, "payload: required"),
        (e("model_type", ()), PAYLOAD, "the payload must be a JSON object"),
        (e("missing", ("target", 0), "required"), PAYLOAD, "target.0: required"),
        ([SHORT], REST, "password: too short"),
        (e("json_invalid", ("body", 3)), REST, "the body is not valid JSON"),
        (e("int_parsing", ("query", "limit"), "not a number"), REST, "limit: not a number"),
        (e("model_attributes_type", ("body",), "an object"), REST, "body: an object"),
        ([], REST, "body: invalid request"),
        ([SHORT], ECHO, "password: too short"),
        (e("dict_type", ("body",)), ECHO, "the body must be a JSON object"),
        (e("json_invalid", ("body", 1)), ECHO, "the body is not valid JSON"),
        ([], ECHO, "body: invalid"),
        (e("missing", ("conversation_id",), "required"), MESSENGER, "ConversationId: required"),
        (e("int_parsing", ("path", "Id"), "not a number"), MESSENGER_REQUEST, "Id: not a number"),
        ([], MESSENGER, "body: invalid"),
    ],
)
def test_each_dialect_words_invalid_its_way(errors, spelling, text) -> None:
    error = invalid(errors, spelling)

    assert (error.code, error.message) == (ErrorCode.INVALID, text)


def test_a_status_reads_back_as_the_code_the_rest_transport_always_gave() -> None:
    before = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "invalid", 409: "conflict"}
    before |= {
        413: "too_large",
        422: "invalid",
        429: "rate_limited",
        418: "invalid",
        500: "internal",
        503: "internal",
    }

    assert {status: code_for_status(status).value for status in before} == before
    assert all(HTTP_STATUS[code_for_status(status)] == status for status in HTTP_STATUS.values())


class Named(BaseModel):
    name: str


def test_classify_keeps_a_chat_error_and_words_a_validation_error_without_logging() -> None:
    refused = ChatError(ErrorCode.FORBIDDEN, "no")
    with pytest.raises(ValidationError) as raised:
        Named.model_validate({"name": 5})

    with captured("parley") as logs:
        assert classify(refused) is refused
        assert classify(raised.value).message == "name: Input should be a valid string"

    assert logs.records == []


def test_classify_logs_an_unexpected_exception_once_with_the_reference_it_answers() -> None:
    with captured("parley") as logs:
        error = classify(KeyError("gone"), "request failed", route="/x")

    reference = re.fullmatch(r"internal error \(reference (\w{12})\)", error.message)
    assert error.code is ErrorCode.INTERNAL and reference is not None
    [line] = logs.records
    assert (line.levelno, line.getMessage(), line.route, line.reference) == (  # type: ignore[attr-defined]
        logging.ERROR,
        "request failed",
        "/x",
        reference.group(1),
    )
