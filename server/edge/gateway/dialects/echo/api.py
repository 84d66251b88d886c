"""The echo-and-public-chat dialect (PROTOCOL.md 7.3): the original FastAPI service's routes.

REST under ``/compat/echo``: ``POST /register`` and ``POST /login`` (JSON, or a form as OAuth2
password clients send it), ``GET /echo_ws`` and ``GET /pub_ws`` (the channels' WebSocket links,
absolute, with the caller's token), ``GET /history`` (the body and paging of
``GET /api/echo/history``). Every error is ``{"detail": "<text>"}`` (``wire.py`` beside this
module): ``EchoRoute`` renders it, so Parley's ``{"error": ...}`` handlers never see these
routes. A taken name is 400, a request that fails validation 422, a missing or bad token 401, too
many attempts 429 with ``Retry-After``.

The channels' WebSockets live beside this module: the echo WebSocket ``/compat/echo/ws/echo`` in
``ws.py``, the public one ``/compat/echo/ws/pub`` in ``public.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AliasChoices, BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException

from server.chat.accounts.schemas import LoginIn, RegisterIn
from server.chat.echo.schemas import TranscriptsOut
from server.chat.echo.service import PAGE
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.schemas import Username
from server.edge.errors import classify
from server.edge.gateway.dialects.echo import wire
from server.edge.http import AddressDep, ChatDep, bearer_token, echo_history
from server.edge.shapes import HistoryBefore, HistoryLimit
from server.edge.validation import PAYLOAD

PREFIX = "/compat/echo"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_USERNAME = AliasChoices("username", "login")


# Rendering errors --------------------------------------------------------------------------------


def error_response(exc: Exception) -> JSONResponse:
    """Any exception of a handler as the dialect's ``{"detail"}`` answer; unforeseen ones are a 500
    whose reference is logged (with the traceback) and sent (without it)."""
    if isinstance(exc, HTTPException):  # e.g. a malformed form: FastAPI's status and text
        return JSONResponse(wire.detail(str(exc.detail)), exc.status_code, headers=exc.headers)
    status, body, headers = wire.http_error(classify(exc, "request failed", wire.ECHO))
    return JSONResponse(body, status_code=status, headers=headers)


class EchoRoute(APIRoute):
    """A route whose every error is rendered here, before Parley's exception handlers see it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(exc)

        return handle


class EchoDetailOut(BaseModel):
    """The body of every error of this dialect (FastAPI's, as the original service answered)."""

    detail: str


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    texts = {
        400: "the username is taken, or the body could not be parsed",
        401: "a missing, bad, expired or revoked token; a wrong username or password",
        422: "the request fails validation (a bad name, a weak password, a bad query value)",
        429: "too many sign-ups or failed logins; `Retry-After` says in how many seconds to try again",
        500: "an internal error, with a reference to the server log",
    }
    return {status: {"model": EchoDetailOut, "description": texts[status]} for status in (*statuses, 500)}


router = APIRouter(prefix=PREFIX, tags=["compat: echo"], route_class=EchoRoute)


# Dependencies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    actor: Actor
    token: str


async def get_caller(request: Request, chat: ChatDep) -> Caller:
    """The user behind ``Authorization: Bearer``, and that token; 401 otherwise."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "Not authenticated: send Authorization: Bearer <token>")
    return Caller(await chat.users.authenticate(token), token)


CallerDep = Annotated[Caller, Depends(get_caller)]


# Accounts ----------------------------------------------------------------------------------------


class EchoRegisterIn(RegisterIn):
    """Parley's sign-up (same name and password rules), the name also as ``login``."""

    username: Username = Field(validation_alias=_USERNAME)


class EchoLoginIn(LoginIn):
    """Parley's login, the name also as ``login``; sent as JSON or as a form."""

    username: str = Field(min_length=1, max_length=32, validation_alias=_USERNAME)


class EchoRegisteredOut(BaseModel):
    username: str


class EchoTokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class EchoUrlOut(BaseModel):
    url: str


@router.post("/register", status_code=201, responses=documented(400, 422, 429))
async def register(data: EchoRegisterIn, chat: ChatDep, address: AddressDep) -> EchoRegisteredOut:
    """Sign up. A taken name (any case) is 400; a bad name or a password that is not 8 to 72 bytes
    of UTF-8 is 422; either way ``detail`` names the problem."""
    registered = await chat.users.register(data, address)
    return EchoRegisteredOut(username=registered.user.username)


_LOGIN_SCHEMA = EchoLoginIn.model_json_schema()
_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {media: {"schema": _LOGIN_SCHEMA} for media in ("application/json", FORMS[0])},
    }
}


@router.post("/login", responses=documented(400, 401, 422, 429), openapi_extra=_LOGIN_BODY)
async def login(request: Request, chat: ChatDep, address: AddressDep) -> EchoTokenOut:
    """A bearer token for the right password (401 otherwise); the body is JSON or a form."""
    token = await chat.users.login(await login_body(request), address)
    return EchoTokenOut(access_token=token.token)


async def login_body(request: Request) -> EchoLoginIn:
    """The login fields from a form (by content type) or else a JSON object; ``invalid`` if neither."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type in FORMS:
        raw: Any = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    else:
        try:
            raw = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise ChatError(ErrorCode.INVALID, "the body is not valid JSON") from None
    try:
        return EchoLoginIn.model_validate(raw)
    except ValidationError as exc:
        raise classify(exc, spelling=PAYLOAD) from None


# Links and history -------------------------------------------------------------------------------


def socket_url(request: Request, channel: str, token: str) -> str:
    """The absolute link of a channel's WebSocket: the request's host, ``wss`` behind https."""
    scheme = "wss" if request.url.scheme == "https" else "ws"
    base = str(request.base_url.replace(scheme=scheme)).rstrip("/")
    return f"{base}{PREFIX}/ws/{channel}?{urlencode({'token': token})}"


@router.get("/echo_ws", responses=documented(401))
async def echo_ws(request: Request, caller: CallerDep) -> EchoUrlOut:
    """The echo WebSocket's link, with the caller's token."""
    return EchoUrlOut(url=socket_url(request, "echo", caller.token))


@router.get("/pub_ws", responses=documented(401))
async def pub_ws(request: Request, caller: CallerDep) -> EchoUrlOut:
    """The public chat WebSocket's link, with the caller's token."""
    return EchoUrlOut(url=socket_url(request, "pub", caller.token))


@router.get("/history", response_model=TranscriptsOut, responses=documented(401, 422))
async def history(
    caller: CallerDep, chat: ChatDep, before: HistoryBefore = None, limit: HistoryLimit = PAGE
) -> Response:
    """The caller's echo transcripts, newest first, paged as ``GET /api/echo/history`` (its body)."""
    return await echo_history(chat, caller.actor, before, limit)
