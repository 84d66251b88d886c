"""Exception handlers: every error answers ``{"error": {"code", "message"}}``; and that envelope
documented once for the OpenAPI schema (``RESPONSES``, given to every API router)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.chat.kernel.errors import ChatError, ErrorCode
from server.edge.errors import code_for_status, http_headers
from server.edge.http import client_address
from server.edge.rest.wire import REST, http_error
from server.edge.validation import invalid
from server.refusals import RATE_LIMIT


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str


class ErrorOut(BaseModel):
    """The body of every error answer (PROTOCOL.md section 6)."""

    error: ErrorDetail


def documented(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries: each status with its description and the error envelope."""
    return {status: {"model": ErrorOut, "description": text} for status, text in statuses.items()}


# Every /api route may answer these (422 replaces FastAPI's own validation schema: ours is the envelope).
RESPONSES = documented(
    {
        401: "`unauthorized` (missing, bad or unknown token; wrong login), `token_expired`, `token_revoked`",
        403: "`forbidden`: authenticated but not allowed",
        404: "`not_found`",
        409: "`conflict`: already exists",
        422: "`invalid`: the request fails validation (body, path or query)",
        429: "`rate_limited`; `Retry-After` says in how many seconds to try again",
        500: "`internal`, with a reference to the server log",
    }
)


def respond(error: ChatError) -> JSONResponse:
    status, body = http_error(error)
    return JSONResponse(body, status_code=status, headers=http_headers(error))


async def on_chat_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ChatError)
    if exc.code is ErrorCode.RATE_LIMITED:  # a refusal: counted, and logged once a minute per address
        request.app.state.metrics.refused(RATE_LIMIT, client_address(request))
    return respond(exc)


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return respond(invalid(exc.errors(), REST))


async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. not UTF-8): a validation error
        return respond(ChatError(ErrorCode.INVALID, "the body is not valid JSON"))
    response = respond(ChatError(code_for_status(exc.status_code), str(exc.detail)))
    response.status_code = exc.status_code
    response.headers.update(exc.headers or {})  # e.g. Allow on a 405
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(ChatError, on_chat_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
